"""Automatic settings from the corpus size, the model kept, overfitting: a class's 30 lines change the model."""

from __future__ import annotations

import pytest

from lm_demo.corpora import CorpusSpec
from lm_demo.training import TrainConfig, run_training
from lm_demo.training.callbacks import overfitting
from lm_demo.training.defaults import resolve

# A class's own text (written for this test): 30 short lines about the school garden.
HUERTA = """El lunes plantamos tomates en la huerta del colegio.
Marta regó las lechugas antes de que empezara a llover.
Los caracoles se comieron dos hojas de la acelga grande.
El martes medimos las plantas con una regla de madera.
La tomatera más alta ya mide treinta centímetros.
Pablo dice que las zanahorias crecen mejor a la sombra.
La profesora nos enseñó a hacer compost con cáscaras de fruta.
El miércoles encontramos una lombriz muy larga junto al pozo.
Las fresas todavía están verdes y muy pequeñas.
Lucía dibujó en su cuaderno cómo brota una semilla de judía.
El jueves hizo mucho viento y se cayó el espantapájaros.
Entre todos volvimos a clavar el palo del espantapájaros.
Las abejas visitan las flores del calabacín cada mañana.
El viernes cosechamos los primeros rábanos de la temporada.
Los rábanos estaban un poco picantes pero nos gustaron.
En la huerta del colegio no usamos venenos contra los bichos.
Plantamos caléndulas para que los pulgones no ataquen los tomates.
El lunes siguiente llovió tanto que la huerta parecía un charco.
Hicimos un canal con la pala para que el agua saliera.
Marta y Pablo apuntan cada día la temperatura en la pizarra.
La albahaca huele tan bien que todos quieren tocarla.
El conserje nos prestó una carretilla para llevar la tierra.
Las lechugas ya están listas y mañana las llevaremos al comedor.
La directora vino a ver la huerta y probó una fresa.
Un mirlo se posa cada tarde en la valla de la huerta.
Sembramos guisantes junto a unas cañas para que puedan trepar.
El sol de junio secó la tierra y tuvimos que regar dos veces.
Lucía descubrió que las hormigas cuidan a los pulgones.
Al final del curso repartimos las semillas para el año que viene.
La huerta del colegio es el lugar favorito de toda la clase.
"""


def test_tiny_corpus_gets_small_blocks_a_bigger_eval_split_and_a_gentler_rate():
    cfg, notes = resolve(TrainConfig(), n_texts=30, n_tokens=530, params=5_273_088, positions=256)
    assert cfg.eval_fraction == 0.2 and cfg.block_size == 32
    assert 2 <= cfg.batch_size <= 4 and 20 <= cfg.max_steps <= 100
    assert cfg.learning_rate == pytest.approx(3e-4) and cfg.eval_steps == cfg.max_steps // 10
    assert cfg.save_every_steps >= 25 and cfg.warmup_steps < cfg.max_steps // 10
    assert not cfg.automatic() and len(notes) == 1 and f"{cfg.max_steps} pasos" in notes[0]


def test_big_corpus_is_capped_to_a_class_demo_on_cpu_and_more_on_gpu():
    cpu, _ = resolve(TrainConfig(), n_texts=10_788, n_tokens=400_000, params=5_273_088, positions=256)
    assert cpu.block_size == 128 and cpu.batch_size == 8 and cpu.eval_fraction == 0.05
    assert cpu.max_steps == 200 and cpu.learning_rate == pytest.approx(5e-4)
    gpu, _ = resolve(TrainConfig(), n_texts=10_788, n_tokens=400_000, params=124_000_000, device="cuda")
    assert gpu.max_steps == 371 and gpu.learning_rate == pytest.approx(5e-5)  # one pass: 2,968 blocks / 8
    slow, _ = resolve(TrainConfig(), n_texts=10_788, n_tokens=400_000, params=124_000_000)
    assert slow.max_steps < cpu.max_steps  # a big model on a CPU: fewer steps for the same minutes
    scratch, _ = resolve(TrainConfig(from_scratch=True), n_texts=500, n_tokens=50_000, params=1_000_000)
    assert scratch.learning_rate == pytest.approx(1e-3)
    # the block never exceeds the model's context
    short, _ = resolve(TrainConfig(), n_texts=500, n_tokens=50_000, positions=64)
    assert short.block_size == 64


def test_what_the_user_sets_is_kept_and_epochs_mean_epochs():
    cfg, _ = resolve(TrainConfig(learning_rate=1e-3, block_size=64), n_texts=30, n_tokens=530)
    assert cfg.learning_rate == 1e-3 and cfg.block_size == 64
    by_epochs, _ = resolve(TrainConfig(epochs=3.0), n_texts=3000, n_tokens=100_000)
    assert by_epochs.max_steps == 0 and by_epochs.epochs == 3.0
    full = TrainConfig(block_size=32, epochs=1.0, learning_rate=1e-4, batch_size=2, warmup_steps=0, eval_steps=5,
                       max_steps=10, eval_fraction=0.1, save_every_steps=5)
    assert resolve(full, 30, 530) == (full, [])
    _, notes = resolve(TrainConfig(max_steps=80, block_size=128, batch_size=8, learning_rate=5e-4), 334, 23_720)
    assert notes[0].startswith("Ajustes para 334 textos")  # only the split and saves were automatic


def test_overfitting_is_eval_rising_while_train_falls():
    evals = [(0, 5.5), (10, 5.3), (20, 5.35), (30, 5.4)]
    falling = [(s, 5.0 - s / 100) for s in range(1, 31)]
    assert overfitting(evals, falling) == 10
    assert overfitting(evals, [(s, 5.0) for s in range(1, 31)]) is None  # train not falling: just noise
    assert overfitting(evals[:3], falling) is None  # one rise is not yet a trend
    assert overfitting([(0, 5.5), (10, 5.3), (20, 5.301), (30, 5.302)], falling) is None  # within the margin
    assert overfitting([(0, 5.5), (10, 5.3), (20, 5.2), (30, 5.1)], falling) is None  # still learning


def test_a_30_line_upload_with_the_defaults_changes_the_model_visibly(tmp_path, monkeypatch, bundled):
    """The issue's lesson: with the tab's defaults a class's 30 lines give a model that differs from its base."""
    from lm_demo.checkpoints import load_eval_texts, load_metadata
    from lm_demo.compare import generate_samples
    from lm_demo.models import load_model
    from lm_demo.perplexity import token_losses
    from lm_demo.sampling import SamplingSettings

    monkeypatch.setenv("LM_DEMO_CHECKPOINTS", str(tmp_path / "ckpts"))
    path = tmp_path / "huerta.txt"
    path.write_text(HUERTA, encoding="utf-8")
    res = run_training(TrainConfig(corpus=CorpusSpec(path=str(path)), base_model="gpt2-es-tiny", samples=False))
    assert res.status == "finished" and res.kept == "final" and res.kept_step == res.steps
    notes = [e["text"] for e in res.history if e["type"] == "note"]
    assert any(n.startswith("Ajustes automáticos para 30 textos") for n in notes)

    tuned = load_model(res.checkpoint, allow_fallback=False)
    held_out = load_eval_texts(res.checkpoint)
    assert len(held_out) == 6  # 20 % of 30 lines, never trained on
    before = token_losses(bundled, held_out, max_tokens=None).perplexity
    after = token_losses(tuned, held_out, max_tokens=None).perplexity
    assert after < 0.95 * before, (before, after)
    lines = HUERTA.splitlines()
    assert token_losses(tuned, lines, max_tokens=None).perplexity < 0.5 * token_losses(bundled, lines,
                                                                                        max_tokens=None).perplexity
    greedy = SamplingSettings(0.0, 0, 1.0)
    a = generate_samples(bundled, "El lunes", greedy, 1, 12, 1).continuations
    b = generate_samples(tuned, "El lunes", greedy, 1, 12, 1).continuations
    assert a != b
    meta = load_metadata(res.checkpoint)
    assert meta["kept"] == "final" and meta["best_step"] is not None
    assert meta["hyperparameters"]["block_size"] == 32 and meta["hyperparameters"]["eval_fraction"] == 0.2
