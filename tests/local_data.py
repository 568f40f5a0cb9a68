"""A small local data folder, written by the tests, in the layout of ``../shared/data``.

Why: a contributor's fresh clone (or a Space) has no ``../shared``; the tests
of the local-folder path (the jokes, the fallback of bundled presets, the
corpus statistics) must run there too.  The files have the same names,
columns and formats as the real folder (CSV with quoted newlines, JSON
lines, plain text); the texts are made up here, so every count a test
asserts is known exactly.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

_SUBJECTS = ("el perro", "la abuela", "un profesor", "mi vecino", "la gata", "el médico", "una niña", "el cartero")
_ACTIONS = ("pregunta por qué llueve", "busca sus gafas", "quiere aprender a nadar", "llega tarde a clase",
            "cuenta las ovejas", "pinta la casa de verde", "pierde el autobús", "encuentra una moneda")
_ENDINGS = ("y todos se ríen", "pero nadie le contesta", "y se queda dormido", "y al final canta una canción")
#: The jokes' categories, as in the real CSV; "sexo" is excluded by default.
JOKE_CATEGORIES = ("otros", "familia", "animales", "sexo", "profesiones")


@dataclass
class LocalData:
    """The folder and what was written into it (the counts the tests compare with)."""

    root: Path
    jokes: list[dict] = field(default_factory=list)
    fortunes: list[dict] = field(default_factory=list)
    sonnets: list[str] = field(default_factory=list)
    prose: list[str] = field(default_factory=list)


def _joke(i: int) -> str:
    s, a, e = _SUBJECTS[i % len(_SUBJECTS)], _ACTIONS[(i // 2) % len(_ACTIONS)], _ENDINGS[i % len(_ENDINGS)]
    if i % 3 == 0:  # a dialogue over two lines, as many real jokes are
        return f"- Mamá, mamá, ¿por qué {s} {a}?\n- Porque es martes, hijo, {e}."
    return f"Esto es {s} que {a} un lunes por la mañana, {e}, y luego vuelve a casa contento."


def write_local_data(root: Path, n_jokes: int = 80, n_fortunes: int = 120) -> LocalData:
    """Write the folder under ``root`` and return what it holds."""
    data = LocalData(root=root)
    for rel in ("chistes", "fortunes_es", "poesia_disco", "quijote", "prosa"):
        (root / rel).mkdir(parents=True, exist_ok=True)

    for i in range(n_jokes):
        text = "" if i == 7 else _joke(i)  # one empty row: the loader drops it
        data.jokes.append({"id": str(i), "text": text, "keywords": "prueba,aula", "funny": str(1 + i % 3),
                           "category": JOKE_CATEGORIES[i % len(JOKE_CATEGORIES)]})
    with open(root / "chistes" / "chistes.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["id", "text", "keywords", "funny", "category"])
        w.writeheader()
        w.writerows(data.jokes)

    for i in range(n_fortunes):
        data.fortunes.append({"text": f"Más vale {_SUBJECTS[i % 8]} en mano que {_ACTIONS[i % 8]} volando ({i}).",
                              "category": "refranes" if i % 2 else "sabiduria"})
    (root / "fortunes_es" / "fortunes_es.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in data.fortunes), encoding="utf-8")

    verse = ("En el silencio de la noche clara\nla luna {i} mira el campo dormido,\n"
             "y el río canta lo que nunca ha sido\nmientras la sombra lenta se separa.")
    data.sonnets = [verse.format(i=i) for i in range(30)]
    with open(root / "poesia_disco" / "sonetos_disco.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["author", "content", "title", "poem_id", "period", "author_death"])
        w.writerows([f"Autor {i}", s, f"Soneto {i}", f"{i:04d}", "XX", "1900"] for i, s in enumerate(data.sonnets))

    (root / "quijote" / "quijote.txt").write_text(
        "En un lugar de la Mancha, de cuyo nombre\nno quiero acordarme, vivía un hidalgo.\n\n"
        "Tenía en su casa una ama que pasaba de los cuarenta\ny una sobrina que no llegaba a los veinte.\n",
        encoding="utf-8")

    data.prose = [f"La ciudad número {i} tiene un río, un puente y una plaza con árboles." for i in range(40)]
    for name, rows in (("xquad_es_contextos.jsonl", data.prose[:10]),
                       ("ud_spanish_gsd_dev_test_oraciones.jsonl", data.prose[10:])):
        (root / "prosa" / name).write_text(
            "".join(json.dumps({"text": r}, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return data
