"""The ``perplexity`` API (gradio_client) against a direct transformers computation on both bundled models.

Direct: each text on its own with the model's ``labels=`` loss (the first
token is never a target), long texts by the transformers guide's sliding
window; exp of the token-weighted mean.  The API must agree within 0.5 %.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests.reference_perplexity import transformers_perplexity

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]
JOKES = ("- Mamá, mamá, ¿los peces duermen?\n- Claro, hijo, por eso hay que hablar bajito.\n"
         "Había una vez un perro que ladraba a la luna.\n\n"
         "- Doctor, doctor, tengo complejo de feo.\n- Pues no sé por qué, si es usted feísimo.")


def direct(model_name: str, texts: list[str]) -> tuple[float, int]:
    return transformers_perplexity(REPO / "checkpoints" / model_name, texts)


@pytest.fixture(scope="module")
def long_text() -> str:
    """A paragraph of Don Quijote (the bundled copy) longer than the models' 256-token context (one line)."""
    import gzip

    import lm_demo

    path = Path(lm_demo.__file__).parent / "data" / "quijote" / "quijote.txt.gz"
    text = gzip.decompress(path.read_bytes()).decode("utf-8")[40_000:42_500]
    return " ".join(text.split())


@pytest.mark.parametrize("model_name", ["gpt2-es-tiny", "gpt2-es-tiny-chistes"])
def test_perplexity_api_equals_transformers(gradio_client, long_text, model_name):
    text = JOKES + "\n" + long_text
    out, summary = gradio_client.predict(text, model_name, "lines", api_name="/perplexity")
    lines = [x.strip() for x in text.split("\n") if x.strip()]
    ppl, count = direct(model_name, lines)
    assert out["texts"] == len(lines) == 6
    assert out["tokens_scored"] == count > 256  # the long line needed the sliding window
    assert abs(out["perplexity"] / ppl - 1) < 0.005, (out["perplexity"], ppl)
    assert len(out["per_token"]) == count
    assert math.exp(sum(t["loss"] for t in out["per_token"]) / count) == pytest.approx(out["perplexity"], rel=1e-6)
    assert out["model"] == model_name and f"`{model_name}`" in summary and "6 textos" in summary
    print(f"\n{model_name}: API {out['perplexity']:.3f}, transformers {ppl:.3f} "
          f"({100 * (out['perplexity'] / ppl - 1):+.4f} %), {count} tokens")


def test_perplexity_api_blocks_default_split_and_errors(gradio_client):
    from gradio_client.exceptions import AppError

    out, _ = gradio_client.predict(JOKES, "gpt2-es-tiny-chistes", "blocks", api_name="/perplexity")
    blocks = [b.strip() for b in JOKES.split("\n\n")]
    ppl, count = direct("gpt2-es-tiny-chistes", blocks)
    assert out["texts"] == 2 and out["tokens_scored"] == count
    assert abs(out["perplexity"] / ppl - 1) < 0.005
    default, _ = gradio_client.predict(JOKES, "gpt2-es-tiny-chistes", api_name="/perplexity")  # one text per line
    assert default["texts"] == 5 and default["split"] == "lines"
    for bad, word in (("   \n ", "vacío"), ("que", "dos tokens")):
        with pytest.raises(AppError) as e:
            gradio_client.predict(bad, "gpt2-es-tiny", api_name="/perplexity")
        assert word in str(e.value)
