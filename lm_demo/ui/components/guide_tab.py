"""Tab "Guía": what the students see, in a few sentences per idea, and one-click scenarios."""

from __future__ import annotations

import gradio as gr

from lm_demo.ui import relang
from lm_demo.ui.common import T, UIContext
from lm_demo.ui.components.next_token_tab import next_token

TOPICS = ("tokens", "next", "greedy", "temperature", "distributions", "entropy", "perplexity", "overfit")

# (label key, prompt, temperature, top_k, top_p): the seeds' example prompts.
SCENARIOS = (
    ("guide.sc.greedy", "Había una vez", 0.0, 0, 1.0),
    ("guide.sc.hot", "En el silencio de la noche", 1.5, 0, 1.0),
    ("guide.sc.nucleus", "Había una vez un poeta que soñaba", 1.0, 0, 0.9),
)


def build(ctx: UIContext) -> None:
    with gr.Tab(T("guide.tab"), id="guide", elem_id="tab-guide"):
        gr.Markdown(T("guide.intro"))
        gr.Markdown("\n\n".join(f"### {T(f'guide.{k}.title')}\n{T(f'guide.{k}.body')}" for k in TOPICS))
        nt = ctx.components
        if "nt.prompt" not in nt:
            return
        gr.Markdown(f"### {T('guide.scenarios')}")
        with gr.Row():
            for i, (key, prompt, temp, k, p) in enumerate(SCENARIOS):
                btn = gr.Button(T(key), size="sm", elem_id=f"guide-scenario-{i}")

                def setup(prompt: str = prompt, temp: float = temp, k: int = k, p: float = p):
                    return prompt, temp, k, p, gr.Tabs(selected="next_token")

                ev = btn.click(setup, None, [nt["nt.prompt"], nt["nt.temperature"], nt["nt.top_k"], nt["nt.top_p"],
                                             ctx.tabs], api_visibility="private").then(
                    next_token, nt["nt.inputs"], nt["nt.outputs"], api_visibility="private")
                relang.remember([ev], nt["nt.inputs"], nt["nt.kept"])  # redrawn on a language switch
            if "ins.scenario" in nt:  # "Dentro del modelo": its tab wires the button
                nt["ins.scenario"](gr.Button(T("ins.guide.scenario"), size="sm", elem_id="guide-scenario-inside"))
