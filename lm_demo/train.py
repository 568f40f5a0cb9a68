"""Train from a terminal: ``python -m lm_demo.train --corpus quijote --epochs 2 ...``.

For a teacher preparing a model before class (seed 001 is such a script):
the same runner and the same automatic settings as the app
(``lm_demo.training``), a progress bar, eval loss and perplexity printed at
the end, a five-sentence story from a prompt (within the model's context),
and the checkpoint saved in ``checkpoints/`` where the app lists it.
Ctrl+C stops cleanly after the current step (and still saves, resumably);
a second Ctrl+C aborts.  The corpus is read within the app's limits
(``lm_demo.corpora.files``); ``--max-corpus-mb`` / ``--max-corpus-rows``
raise them for a local file, ``--max-minutes`` caps the training time.  A crashed run continues with ``--resume NAME``
(``--list-runs`` lists them).

Under ``torchrun --nproc_per_node N -m lm_demo.train ...`` (or
``accelerate launch -m lm_demo.train ...``) the Trainer trains with DDP;
only the main process prepares the corpus, prints and saves (see
``lm_demo.training.distributed``).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

SENTENCE_END = re.compile(r"[.!?…]+[\"»”')\]]*(?=\s|$)")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from lm_demo.corpora import DEFAULT_PRESET, PRESETS

    auto = "(por defecto: automático según el tamaño del corpus, como en la aplicación)"
    ap = argparse.ArgumentParser(
        prog="python -m lm_demo.train",
        description="Entrena (fine-tuning o desde cero) un GPT-2 en español y guarda el checkpoint en checkpoints/. "
        "Los valores que no se den se eligen según el tamaño del corpus, con la misma función que la pestaña "
        "«Entrenamiento». Con varios procesos: torchrun --nproc_per_node N -m lm_demo.train ...",
    )
    g = ap.add_argument_group("corpus")
    g.add_argument("--corpus", default=DEFAULT_PRESET,
                   help=f"corpus predefinido ({', '.join(PRESETS)}) o ruta a un .txt/.csv/.jsonl/.parquet "
                   f"(por defecto {DEFAULT_PRESET})")
    g.add_argument("--text-column", default=None, help="columna de texto (.csv/.jsonl/.parquet)")
    g.add_argument("--txt-mode", choices=("lines", "blocks"), default="lines",
                   help="en un .txt, un texto por línea o por bloque separado por líneas en blanco")
    g.add_argument("--quijote-lines", type=int, default=2000, help="primeras N líneas del Quijote (semilla 001: ~100)")
    g.add_argument("--max-rows", type=int, default=0, help="máximo de textos (0 = todos)")
    g.add_argument("--exclude", default="sexo", help="categorías de chistes excluidas, separadas por comas")
    g.add_argument("--data-dir", default=None, help="carpeta de datos local (por defecto $LM_DEMO_DATA_DIR o ../shared/data)")
    g.add_argument("--max-corpus-mb", type=float, default=None,
                   help="máximo de texto que se lee del corpus, en MB (por defecto 10, como en la aplicación; "
                   "o $LM_DEMO_MAX_CORPUS_MB)")
    g.add_argument("--max-corpus-rows", type=int, default=None,
                   help="máximo de textos que se leen (por defecto 100000; o $LM_DEMO_MAX_CORPUS_ROWS)")
    g = ap.add_argument_group("modelo")
    g.add_argument("--model", default=None, help="modelo base: preset/id del Hub o nombre en checkpoints/ "
                   "(por defecto el de la pestaña: sin GPU, gpt2-es-tiny)")
    g.add_argument("--from-scratch", action="store_true", help="GPT-2 nuevo con pesos aleatorios (semilla 003)")
    g.add_argument("--layers", type=int, default=4)
    g.add_argument("--heads", type=int, default=4)
    g.add_argument("--width", type=int, default=256)
    g = ap.add_argument_group("entrenamiento " + auto)
    g.add_argument("--epochs", type=float, default=None)
    g.add_argument("--lr", "--learning-rate", dest="lr", type=float, default=None)
    g.add_argument("--block-size", type=int, default=None)
    g.add_argument("--batch-size", type=int, default=None, help="por proceso")
    g.add_argument("--grad-accum", type=int, default=1)
    g.add_argument("--weight-decay", type=float, default=0.01)
    g.add_argument("--warmup", type=int, default=None, help="pasos de calentamiento")
    g.add_argument("--eval-steps", type=int, default=None)
    g.add_argument("--eval-fraction", type=float, default=None, help="fracción de textos para evaluar")
    g.add_argument("--max-steps", type=int, default=None, help="0 = según las épocas")
    g.add_argument("--patience", type=int, default=0, help="parada temprana tras N evaluaciones sin mejora")
    g.add_argument("--keep", choices=("final", "best"), default="final",
                   help="modelo guardado: el final (por defecto) o el mejor según la evaluación")
    g.add_argument("--seed", type=int, default=42)
    g.add_argument("--padded", action="store_true", help="receta de las semillas: cada texto relleno hasta --block-size")
    g.add_argument("--threads", type=int, default=0, help="hilos de CPU por proceso (0 = los de torch)")
    g.add_argument("--name", default="", help="nombre del checkpoint (por defecto corpus + fecha)")
    g.add_argument("--max-minutes", type=float, default=None,
                   help="detener y guardar tras N minutos de entrenamiento (0 = sin límite; por defecto "
                   "$LM_DEMO_MAX_TRAIN_MINUTES o sin límite)")
    g.add_argument("--no-save", action="store_true", help="no guardar el checkpoint")
    g = ap.add_argument_group("puntos de control (reanudar tras un corte)")
    g.add_argument("--save-every-steps", type=int, default=None, help="cada N pasos (por defecto ~5 por entrenamiento)")
    g.add_argument("--save-every-minutes", type=float, default=5.0, help="y cada N minutos (0 = no)")
    g.add_argument("--resume", default=None, metavar="NOMBRE", help="continuar el entrenamiento interrumpido NOMBRE")
    g.add_argument("--list-runs", action="store_true", help="listar los entrenamientos interrumpidos y salir")
    g = ap.add_argument_group("historia final")
    g.add_argument("--prompt", default=None, help="inicio de la historia y de las muestras (por defecto, uno del "
                   "estilo del corpus)")
    g.add_argument("--max-new-tokens", type=int, default=200)
    g.add_argument("--temperature", type=float, default=0.8)
    g.add_argument("--top-k", type=int, default=50)
    g.add_argument("--top-p", type=float, default=0.95)
    g.add_argument("--repetition-penalty", type=float, default=1.2)
    g.add_argument("--sentences", type=int, default=5, help="frases de la historia")
    return ap.parse_args(argv)


def first_sentences(text: str, n: int) -> str:
    """``text`` cut after its ``n``-th sentence end (all of it when it has fewer)."""
    count = 0
    for m in SENTENCE_END.finditer(text):
        count += 1
        if count >= n:
            return text[:m.end()]
    return text


def sentence_stopper(tokenizer: Any, prompt_len: int, n: int) -> Any:
    """A StoppingCriteria: stop once the continuation holds ``n`` sentence ends."""
    from transformers import StoppingCriteria, StoppingCriteriaList

    class Sentences(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kw: Any) -> Any:
            import torch

            new = tokenizer.decode(input_ids[0, prompt_len:], skip_special_tokens=True)
            done = len(SENTENCE_END.findall(new)) >= n
            return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)

    return StoppingCriteriaList([Sentences()])


def story(model: Any, tokenizer: Any, prompt: str, sentences: int, max_new_tokens: int, temperature: float,
          top_k: int, top_p: float, repetition_penalty: float, seed: int, notes: list[str] | None = None) -> str:
    """``sentences`` sentences after ``prompt``, within the model's context (see ``training.samples``)."""
    from lm_demo.sampling import SamplingSettings
    from lm_demo.training.samples import generate_sample

    s = SamplingSettings(temperature, top_k, top_p, repetition_penalty).clamped(len(tokenizer))
    new = max(1, min(int(max_new_tokens), 1000))
    text = generate_sample(model, tokenizer, prompt, new, seed=seed, temperature=s.temperature, top_k=s.top_k,
                           top_p=s.top_p, repetition_penalty=s.repetition_penalty,
                           stop_factory=lambda n_prompt: sentence_stopper(tokenizer, n_prompt, sentences),
                           min_new_tokens=new, notes=notes)  # no eos: the sentence count ends the story
    head, tail = text[:len(prompt)], text[len(prompt):]
    return head + first_sentences(tail, sentences) if text.startswith(prompt) else first_sentences(text, sentences)


def _list_runs() -> int:
    from lm_demo.locales import t
    from lm_demo.training.runs import interrupted_runs

    runs = interrupted_runs()
    if not runs:
        print(t("train.runs.none"))
    for r in runs:
        ckpt = "" if r["resumable"] else " (sin punto de control: empezaría de nuevo)"
        state = t(f"train.runs.state.{r['state']}")  # the tab's word: a killed run is "interrupted"
        print(f"{r['name']}: {r['corpus']} · paso {r['step']} de {r['total_steps']} · {state}{ckpt}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.data_dir:
        os.environ["LM_DEMO_DATA_DIR"] = args.data_dir
    # the limits are read from the environment by the corpora and the runner (the app's defaults otherwise)
    for flag, var in ((args.max_corpus_mb, "LM_DEMO_MAX_CORPUS_MB"), (args.max_corpus_rows, "LM_DEMO_MAX_CORPUS_ROWS"),
                      (args.max_minutes, "LM_DEMO_MAX_TRAIN_MINUTES")):
        if flag is not None:
            os.environ[var] = str(flag)
    from lm_demo.corpora import PRESETS, CorpusSpec, prompt_for
    from lm_demo.errors import UserError
    from lm_demo.jobs import Job
    from lm_demo.locales import t
    from lm_demo.locales.numbers import number
    from lm_demo.models import BUNDLED_NAME, default_training_model
    from lm_demo.training import TrainConfig, distributed, run_training
    from lm_demo.training.leftovers import cleanup_leftovers

    main_rank = distributed.is_main()
    if args.list_runs:
        return _list_runs() if main_rank else 0
    if main_rank:
        cleanup_leftovers()
    is_file = args.corpus not in PRESETS
    spec = CorpusSpec(preset="" if is_file else args.corpus, path=args.corpus if is_file else None,
                      text_column=args.text_column, txt_mode=args.txt_mode, max_rows=args.max_rows,
                      quijote_lines=args.quijote_lines,
                      exclude_categories=tuple(c.strip() for c in args.exclude.split(",") if c.strip()))
    prompt = args.prompt or prompt_for(None if is_file else args.corpus)
    cfg = TrainConfig(
        corpus=spec, base_model=args.model or default_training_model() or BUNDLED_NAME,
        from_scratch=args.from_scratch, n_layer=args.layers, n_head=args.heads, n_embd=args.width,
        recipe="padded" if args.padded else "packed", block_size=args.block_size, epochs=args.epochs,
        learning_rate=args.lr, batch_size=args.batch_size, grad_accum=args.grad_accum,
        weight_decay=args.weight_decay, warmup_steps=args.warmup, eval_steps=args.eval_steps,
        eval_fraction=args.eval_fraction, max_steps=args.max_steps, seed=args.seed,
        early_stopping_patience=args.patience, keep=args.keep, save_every_steps=args.save_every_steps,
        save_every_minutes=args.save_every_minutes, sample_prompt=prompt, output_name=args.name,
        save=not args.no_save, num_threads=args.threads, progress_bar=True,
    )

    class ConsoleJob(Job):
        """An unregistered job that prints notes and samples as they arrive (main process only)."""

        def post(self, event: dict) -> dict:
            ev = super().post(event)
            if not main_rank or ev.get("replayed"):
                return ev
            if ev["type"] in ("note", "kept"):
                _write(f"ℹ️  {ev['text']}".replace("**", ""))
            elif ev["type"] == "overfit":
                _write(f"📈 {t('train.overfit', best_step=ev['best_step'])}".replace("**", ""))
            elif ev["type"] == "sample":
                _write(f"[paso {ev['step']}] {' '.join(str(ev['text']).split())}")
            elif ev["type"] == "start":
                procs = f" · {ev['processes']} procesos" if ev.get("processes", 1) > 1 else ""
                _write(f"Dispositivo: {ev['device']} ({ev['dtype']}){procs} · {ev['params']:,} parámetros · "
                       f"{ev['train_blocks']} bloques de entrenamiento, {ev['eval_blocks']} de evaluación · "
                       f"{ev['total_steps']} pasos")
            return ev

    job = ConsoleJob("train", {"cli": True})

    def on_sigint(signum: int, frame: Any) -> None:
        if job.stop_requested:
            raise KeyboardInterrupt
        job.request_stop()
        if main_rank:
            _write(t("train.cli.stopping"))

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        result = run_training(cfg, job, resume=args.resume)
    except UserError as e:
        print(f"Error: {e.message('es')}", file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGINT, previous)

    if main_rank:
        loss = "—" if result.eval_loss is None else number(result.eval_loss, ".4f")  # 5,0719 in Spanish
        ppl = "—" if result.eval_perplexity is None else number(result.eval_perplexity, ".2f")
        print(t("train.cli.result", loss=loss, ppl=ppl))
        if result.model is not None:
            notes: list[str] = []
            text = story(result.model, result.tokenizer, prompt, args.sentences, args.max_new_tokens,
                         args.temperature, args.top_k, args.top_p, args.repetition_penalty, args.seed, notes)
            print()
            for n in notes:
                print(f"ℹ️  {n}")
            print(t("train.cli.story", prompt=prompt))
            print(text)
            print()
        if result.checkpoint:
            print(t("train.cli.saved", path=result.path, name=result.checkpoint))
    distributed.teardown()
    return 0


def _write(text: str) -> None:
    try:
        from tqdm.auto import tqdm

        tqdm.write(text)
    except ImportError:  # pragma: no cover
        print(text)


if __name__ == "__main__":
    sys.exit(main())
