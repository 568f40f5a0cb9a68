"""A first-time teacher's tour in Chromium: every tab run with its defaults (training on 30 short lines of the
class's own), then English (nothing Spanish left on screen: headers, notes, summaries, chart labels), then
Spanish again in "Modo aula" at 1280×720, with a screenshot of every tab.

Screenshots go to ``artifacts/``; with ``LM_DEMO_UPDATE_DOCS=1`` they are also written to ``docs/`` (the
README's ``docs/<tab>.png`` and the projector views ``docs/aula_<tab>.png``), so a normal run changes no
tracked file.
"""

from __future__ import annotations

import os
import re
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from lm_demo.locales import STRINGS
from tests.conftest import ARTIFACTS, REPO
from tests.page_state import explained

pytestmark = pytest.mark.e2e

ES, EN = STRINGS["es"], STRINGS["en"]
PROMPT = "En el silencio de la noche"
# 30 short lines, as a class would type them: the 6 held out for evaluation do not fill one block.
CLASS_LINES = ["Llueve.", "Hace frío.", "Sale el sol.", "Gato negro.", "Leemos.", "Luna llena.", "Comemos.", "Tren.",
               "Abuela.", "Pájaros.", "Poemas.", "El río.", "Libros.", "Murales.", "Viento.", "Guitarra.",
               "Estrellas.", "Pan.", "Clase.", "Flores.", "Autobús.", "Ajedrez.", "Nieve.", "Papá lee.", "Cantamos.",
               "Colinas.", "Palabras.", "Tarde.", "Mar azul.", "Fin."]
TABS = ("nt", "dec", "cmp", "train", "ins", "mp", "guide")
TAB_IDS = {"nt": "tab-next-token", "dec": "tab-decoding", "cmp": "tab-compare", "train": "tab-training",
           "ins": "tab-inside", "mp": "tab-model", "guide": "tab-guide"}
DOC_NAMES = {"nt": "next_token", "dec": "decoding", "cmp": "compare", "train": "training", "ins": "inside_tab",
             "mp": "model", "guide": "guide"}

# Per tab: Markdown outputs (notes, summaries) and tables whose headers the server wrote.
MARKDOWN = {"nt": ["#nt-entropy", "#nt-notes"], "dec": ["#dec-summary", "#dec-notes"],
            "cmp": ["#cmp-summary", "#cmp-samples .cmp-head", "#cmp-samples .cmp-sample-label"],
            "train": ["#train-status", "#train-notes", "#train-overfit", "#train-summary"],
            "mp": ["#mp-facts"], "header": ["#model-status"]}
TABLES = {"nt": ["#nt-table"], "dec": ["#dec-table-greedy"], "cmp": ["#cmp-table"], "mp": ["#mp-modules"]}
CHARTS = {"nt": ["#nt-chart"], "dec": ["#dec-chart"], "cmp": ["#cmp-diff-chart", "#cmp-loss-chart"],
          "train": ["#train-loss-plot", "#train-ppl-plot"]}
INSIDE = {  # sub-tab: (Markdown, tables, charts)
    "ins-tab-attention": (["#ins-patterns", "#ins-notes"], [], ["#ins-att-chart", "#ins-att-grid"]),
    "ins-tab-lens": (["#ins-lens-summary"], ["#ins-lens-table"], ["#ins-lens-chart"]),
    "ins-tab-choose": (["#ins-step-summary", "#ins-branches"], ["#ins-steps"], ["#ins-branch-chart"]),
    "ins-tab-compare": (["#ins-cmp-summary"], ["#ins-cmp-table"], ["#ins-cmp-lens-base", "#ins-cmp-att-base"]),
}

# What a chart says in words: titles, legend, annotations, and the tick labels that are ours (rows of the
# lens, layers and heads of the grid); other ticks are tokens of the model.
CHART_TEXT = """(sel) => { const el = document.querySelector(sel); if (!el) return null;
  const own = el.querySelectorAll('.gtitle, .g-xtitle, .g-ytitle, .legendtext, .annotation-text, .cbtitle, '
      + '.g-gtitle');
  const ticks = ['#ins-lens-chart', '#ins-att-grid'].includes(sel) ? el.querySelectorAll('.ytick text, .xtick text')
      : [];
  return [...own, ...ticks].map((t) => t.textContent).join('\\n'); }"""
CHART_FONT_PX = ("parseFloat(getComputedStyle(document.querySelector(sel + ' .g-xtitle text, ' + sel "
                 "+ ' .legendtext')).fontSize)")
TABLE_HEAD = """(sel) => { const row = document.querySelector(sel + ' [role=row][aria-rowindex="1"]');
  return row ? row.innerText : null; }"""


def _words(text: str) -> list[str]:
    return re.findall(r"[a-záéíóúñü]+", text.lower())


def _spanish_only_words() -> set[str]:
    """Words of the Spanish UI texts (5 letters or more) that no English text uses."""
    english = set(_words(" ".join(EN.values())))
    return {w for k, v in ES.items() if v != EN.get(k) for w in _words(v) if len(w) >= 5 and w not in english}


SPANISH = _spanish_only_words()
QUOTED = re.compile(r"«[^»]*»|“[^”]*”|\"[^\"]*\"|`[^`]*`")
NAMES = re.compile(r"\S*[-/_\d]\S*|\S+\.\w+")  # model and file names (gpt2-es-tiny-chistes, clase.txt), numbers


def spanish_left(text: str) -> set[str]:
    """Spanish UI words in ``text``, what the model wrote or the user typed (quoted) and names left aside."""
    text = NAMES.sub(" ", QUOTED.sub(" ", text.replace(PROMPT, " ")))
    return {w for w in _words(text) if w in SPANISH}


def _shot(page, name: str, locator: str | None = None, doc: bool = True) -> None:
    """A screenshot in ``artifacts/`` (the element ``locator``, else the whole page); also in ``docs/`` with
    ``LM_DEMO_UPDATE_DOCS=1``, in 256 colours (a third of the size, the same to the eye)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    if locator:
        page.locator(locator).screenshot(path=str(path))
    else:
        page.screenshot(path=str(path), full_page=True)
    if doc and os.environ.get("LM_DEMO_UPDATE_DOCS") == "1":
        from PIL import Image

        with Image.open(path) as im:
            im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(
                REPO / "docs" / name, optimize=True)


def _open(page, tab: str) -> None:
    page.locator(f"#{TAB_IDS[tab]}-button").click()
    page.wait_for_selector(f"#{TAB_IDS[tab]}", state="visible")


def _texts(page, tab: str, markdown: list[str], tables: list[str], charts: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for sel in markdown:
        found[sel] = "\n".join(t.inner_text() for t in page.locator(sel).all())
    for sel in tables:
        found[sel + " headers"] = page.evaluate(TABLE_HEAD, sel) or ""
    for sel in charts:
        found[sel] = page.evaluate(CHART_TEXT, sel) or ""
    return found


def _no_spanish(page, tab: str, markdown: list[str], tables: list[str], charts: list[str],
                timeout_s: float = 60) -> None:
    """Until nothing Spanish is left in these outputs (the redraws run after the switch), or fail."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = _texts(page, tab, markdown, tables, charts)
        left = {sel: sorted(spanish_left(text)) for sel, text in found.items()}
        left = {sel: words for sel, words in left.items() if words}
        if not left:
            return
        assert time.monotonic() < deadline, f"Spanish left on screen after switching to English: {left}"
        page.wait_for_timeout(500)


def _run_every_tab(page, tmp_path) -> None:
    """Each tab with its defaults, as a teacher would first try it (Spanish)."""
    _open(page, "nt")
    page.click("#nt-run")
    page.wait_for_selector('#nt-table [role=row][aria-rowindex="11"]', timeout=90_000)
    page.wait_for_selector("#nt-chart .js-plotly-plot")

    _open(page, "dec")
    page.click("#dec-run")
    page.wait_for_selector("#dec-chart .js-plotly-plot", timeout=120_000)
    page.wait_for_selector('#dec-table-greedy [role=row][aria-rowindex="2"]')

    _open(page, "cmp")
    page.click("#cmp-run")
    page.wait_for_selector("#cmp-loss-chart .js-plotly-plot", timeout=180_000)
    page.wait_for_selector('#cmp-table [role=row][aria-rowindex="2"]')

    _open(page, "train")
    corpus = tmp_path / "clase.txt"
    corpus.write_text("\n".join(CLASS_LINES) + "\n", encoding="utf-8")
    page.set_input_files("#train-upload input[type=file]", str(corpus))
    page.wait_for_function("() => (document.querySelector('#train-upload')?.innerText || '').includes('clase.txt')",
                           timeout=60_000)
    page.click("#train-stats-btn")  # the corpus panel (its table is redrawn in English too)
    page.wait_for_selector('#train-stats-table [role=row][aria-rowindex="2"]', timeout=60_000)
    page.click("#train-start")
    for _ in range(15):  # polled every 1.5 s: Gradio's timing text never shows over the status line
        shown = page.evaluate("() => [...document.querySelectorAll('#train-status .wrap')]"
                              ".filter((w) => getComputedStyle(w).opacity !== '0' && w.innerText.trim()).length")
        assert shown == 0
        page.wait_for_timeout(200)
    page.wait_for_function("() => /Terminado|Detenido|Error/.test(document.querySelector('#train-status').innerText)",
                           timeout=300_000)
    status = page.inner_text("#train-status")
    assert "Terminado" in status, status
    notes = page.inner_text("#train-notes")
    assert "30 textos" in notes and "menos que un bloque" in notes, notes  # the held-out lines are short

    _open(page, "ins")
    page.click("#ins-run")
    page.wait_for_selector("#ins-att-chart .js-plotly-plot", timeout=90_000)
    page.get_by_role("tab", name=ES["ins.sub.lens"]).click()
    page.wait_for_selector('#ins-lens-table [role=row][aria-rowindex="6"]', timeout=60_000)
    page.get_by_role("tab", name=ES["ins.sub.choose"]).click()
    page.wait_for_function("() => !(document.querySelector('#ins-cand-0')?.innerText || '…').startsWith('…')",
                           timeout=90_000)
    for n, k in enumerate((0, 1), start=1):
        page.locator(f"#ins-cand-{k}").click()
        page.wait_for_function("(n) => (document.querySelector('#ins-step-summary')?.innerText || '')"
                               ".includes(n + ' tokens elegidos')", arg=n, timeout=60_000)
    page.locator("#ins-branch").click()
    page.wait_for_selector("#ins-branches table", timeout=60_000)
    page.get_by_role("tab", name=ES["ins.sub.compare"]).click()
    page.locator("#ins-cmp-run").click()
    page.wait_for_selector('#ins-cmp-table [role=row][aria-rowindex="6"]', timeout=120_000)
    page.get_by_role("tab", name=ES["ins.sub.attention"]).click()

    _open(page, "mp")
    page.click("#mp-show")
    page.wait_for_selector('#mp-modules [role=row][aria-rowindex="2"]', timeout=60_000)


def _check_english(page) -> None:
    """Every tab's results, now in English."""
    page.wait_for_function("() => (document.querySelector('#nt-entropy')?.innerText || '').includes('Entropy')",
                           timeout=60_000)
    for tab in ("nt", "dec", "cmp", "train", "mp"):
        _open(page, tab)
        _no_spanish(page, tab, MARKDOWN.get(tab, []), TABLES.get(tab, []), CHARTS.get(tab, []))
    assert EN["nt.col.prob"] in page.evaluate(TABLE_HEAD, "#nt-table")
    assert EN["dec.mode.greedy"] in page.inner_text("#dec-table-greedy")
    _open(page, "train")
    page.wait_for_function("() => document.querySelector('#train-status').innerText.includes('Finished')")
    notes = page.inner_text("#train-notes")
    assert "30 texts" in notes and "less than one block" in notes, notes
    _no_spanish(page, "train", ["#train-stats-summary"], ["#train-stats-table"], ["#train-stats-hist"])
    _open(page, "ins")
    for sub, (markdown, tables, charts) in INSIDE.items():
        page.locator(f"#{sub}-button").click()
        page.wait_for_selector(f"#{sub}", state="visible")
        _no_spanish(page, "ins", markdown, tables, charts)
    _no_spanish(page, "header", MARKDOWN["header"], [], [])
    assert "common.complete" not in page.evaluate("() => document.body.textContent")


@pytest.mark.timeout(900)  # ~200 s on a quiet 2-core machine; it ran 537 s on one loaded ~16
def test_every_tab_in_english_and_in_modo_aula(browser, app_server, tmp_path):
    ctx = browser.new_context(locale="es-ES", viewport={"width": 1280, "height": 720})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    try:
        with explained(page, "the page and its model line", name="tour-failure"):
            page.goto(app_server)
            page.wait_for_selector("#model-picker")
            page.wait_for_function("() => /^Modelo:/.test(document.querySelector('#model-status')?.innerText || '')",
                                   timeout=90_000)
        with explained(page, "every tab run with its defaults, in Spanish", name="tour-failure"):
            _run_every_tab(page, tmp_path)
        for tab in ("nt", "dec", "cmp", "train", "mp"):  # the README's screenshots (Inside: test_e2e_inside)
            _open(page, tab)
            _shot(page, f"{DOC_NAMES[tab]}.png", f"#{TAB_IDS[tab]}")

        with explained(page, "every tab's results redrawn in English", name="tour-failure"):
            page.locator("#lang-switch").get_by_label("English").check()
            _check_english(page)
        _shot(page, "tour_english_inside.png", doc=False)

        with explained(page, "Spanish again, then Modo aula on every tab", name="tour-failure"):
            page.locator("#lang-switch").get_by_label("Español").check()
            page.wait_for_function(
                "() => (document.querySelector('#nt-entropy')?.innerText || '').includes('Entropía')", timeout=60_000)
            page.locator("#classroom-mode input").check()
            page.wait_for_function("() => document.body.classList.contains('lm-classroom')")
            for tab in TABS:
                _open(page, tab)
                page.evaluate("() => window.scrollTo(0, 0)")
                if tab in CHARTS:  # every chart is redrawn with projector fonts (12 px otherwise), asynchronously:
                    # wait for it (a fixed pause was too short on a busy machine), and say the size if it never comes
                    try:
                        page.wait_for_function(f"(sel) => {CHART_FONT_PX} >= 16", arg=CHARTS[tab][0], timeout=20_000)
                    except PlaywrightTimeout:
                        size = page.evaluate(f"(sel) => {CHART_FONT_PX}", CHARTS[tab][0])
                        pytest.fail(f"the chart {CHARTS[tab][0]} of {tab} kept {size} px text in Modo aula")
                _shot(page, f"aula_{DOC_NAMES[tab]}.png")
        tab_px = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('[role=tab]')).fontSize)")
        assert tab_px >= 18  # 14 px otherwise
    finally:
        ctx.close()
