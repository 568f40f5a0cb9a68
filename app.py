"""Start lm_demo: ``python app.py [--model NAME] [--host H] [--port P] [--share] [--cpu-bf16]``.

Also the Hugging Face Spaces entry point (``app_file: app.py``).
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="app.py",
        description="lm_demo: muestra en clase cómo escribe en español un modelo GPT-2 "
        "(siguiente token, decodificación paso a paso, antes/después, entrenamiento).",
    )
    ap.add_argument("--model", default=None,
                    help="modelo por defecto: preset o id del Hub, o nombre de una carpeta de checkpoints/ "
                    "(por defecto datificate/gpt2-small-spanish; sin conexión, el modelo incluido gpt2-es-tiny)")
    ap.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                    help="dirección donde escuchar (0.0.0.0 para la red del aula; por defecto 127.0.0.1)")
    ap.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
                    help="puerto (por defecto $GRADIO_SERVER_PORT o 7860)")
    ap.add_argument("--share", action="store_true", help="crear un enlace público temporal de Gradio")
    ap.add_argument("--data-dir", default=None,
                    help="carpeta con los corpus locales (por defecto $LM_DEMO_DATA_DIR o ../shared/data)")
    ap.add_argument("--cpu-bf16", action="store_true",
                    help="en CPU, permitir capas lineales en bf16 donde la CPU lo tenga y sea más rápido "
                    "(como LM_DEMO_CPU_BF16=1; la pestaña Modelo muestra la diferencia de probabilidad frente a fp32)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.model:
        os.environ["LM_DEMO_MODEL"] = args.model
    if args.data_dir:
        os.environ["LM_DEMO_DATA_DIR"] = args.data_dir
    if args.cpu_bf16:
        os.environ["LM_DEMO_CPU_BF16"] = "1"
    from lm_demo.ui.app import build_demo, launch_kwargs, warm_up

    demo = build_demo()
    demo.queue(default_concurrency_limit=4).launch(
        server_name=args.host, server_port=args.port, share=args.share, prevent_thread_lock=True, **launch_kwargs()
    )
    # Load torch/transformers and the default model only once the page is being served.
    warm_up()
    demo.block_thread()


if __name__ == "__main__":
    main()
