"""Plumbing that every lesson needs and none should show: checking the parameters cell, matching what a
learner typed to a title or a word, and timing code fairly. Messages follow the lesson's language.

    from embeddings_helper.lesson import whole_number, some_text, some_texts, match, best_of

Each check prints one line when it changes what the learner asked for (the value given, the value used,
and why) and raises a ``ParameterError`` (a ValueError) with one sentence when it cannot go on.
"""

from __future__ import annotations

import difflib
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from .config import lesson_language
from .errors import EmbeddingsError


class ParameterError(EmbeddingsError, ValueError):
    """A value in a lesson's parameters cell cannot be used; the message says what to write instead."""


def say(english: str, spanish: str) -> str:
    """The sentence in the lesson's language."""
    return spanish if lesson_language() == "es" else english


def number(n) -> str:
    """A whole number with its thousands separated the lesson's way: 10,000 in English, 10 000 in Spanish
    (where "10,000" would read as ten)."""
    text = f"{int(n):,}"
    return text.replace(",", " ") if lesson_language() == "es" else text


# ---------------------------------------------------------------- parameters


def whole_number(name: str, value, low: int = 1, high: int | None = None, why: str = "", why_es: str = "") -> int:
    """``value`` as a whole number of at least ``low``; capped at ``high``, saying so (and ``why``)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ParameterError(say(f"{name} must be a whole number, like {max(low, 10)}, not {value!r}.",
                                 f"{name} debe ser un número entero, como {max(low, 10)}, no {value!r}."))  # fmt: skip
    value = int(value)
    if value < low:
        raise ParameterError(say(f"{name} must be at least {low}, not {value}.",
                                 f"{name} debe ser al menos {low}, no {value}."))  # fmt: skip
    if high is not None and value > high:
        reason = say(why, why_es or why)
        print(say(f"{name} = {value} is more than {high}{': ' + reason if reason else ''}; using {high}.",
                  f"{name} = {value} es más que {high}{': ' + reason if reason else ''}; se usa {high}."))  # fmt: skip
        return high
    return value


def some_text(name: str, value) -> str:
    """``value`` as a text with some words in it."""
    if not isinstance(value, str) or not value.strip():
        raise ParameterError(say(f"{name} must be some words in quotes, like \"a movie about dragons\", not {value!r}.",
                                 f"{name} debe ser un texto entre comillas, como \"una película de dragones\", "
                                 f"no {value!r}."))  # fmt: skip
    return value


def some_texts(name: str, value) -> list[str]:
    """``value`` as a non-empty list of texts."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ParameterError(say(f"{name} must be a list of texts, like [\"dog\", \"cat\"], not {value!r}.",
                                 f"{name} debe ser una lista de textos, como [\"perro\", \"gato\"], "
                                 f"no {value!r}."))  # fmt: skip
    texts = list(value)
    if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
        raise ParameterError(say(f"{name} must hold at least one text, and no empty ones: {value!r}.",
                                 f"{name} debe tener al menos un texto, y ninguno vacío: {value!r}."))  # fmt: skip
    return texts


# ---------------------------------------------------------------- matching what was typed


def fold(text: str) -> str:
    """Lower case without accents or surrounding spaces, to match what a learner typed."""
    decomposed = unicodedata.normalize("NFD", text.casefold().strip())
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def match(name: str, wanted, keys: Iterable[str], fallback: bool = True) -> str:
    """The key meant by ``wanted``: itself, the same ignoring case and accents, or the closest spelling.

    Prints what it used when that is not exactly what was typed. With nothing close, uses the first
    key (``fallback``), or raises a ParameterError listing a few keys.
    """
    keys = list(keys)
    if not keys:
        raise ParameterError(say(f"There is nothing to pick {name} from.", f"No hay nada de dónde elegir {name}."))
    if wanted in keys:
        return wanted
    some_text(name, wanted)
    folded: dict[str, str] = {}
    for key in sorted(keys, key=lambda k: (fold(k), k)):  # ties broken by the key itself
        folded.setdefault(fold(key), key)
    if fold(wanted) in folded:
        found = folded[fold(wanted)]
        print(say(f"{name} = {wanted!r}: using {found!r} (the same, ignoring case and accents).",
                  f"{name} = {wanted!r}: se usa {found!r} (lo mismo, sin contar mayúsculas ni acentos)."))  # fmt: skip
        return found
    close = [folded[k] for k in difflib.get_close_matches(fold(wanted), list(folded), n=3, cutoff=0.6)]
    if not close and not fallback:
        examples = ", ".join(map(repr, keys[:3]))
        raise ParameterError(say(f"{name} = {wanted!r} is not in the data and nothing is spelled like it; "
                                 f"try {examples}.",
                                 f"{name} = {wanted!r} no está en los datos y nada se escribe parecido; prueba "
                                 f"{examples}."))  # fmt: skip
    found = close[0] if close else keys[0]
    guess_en = f"Did you mean {' or '.join(map(repr, close))}? " if close else ""
    guess_es = f"¿Quisiste decir {' o '.join(map(repr, close))}? " if close else ""
    print(say(f"{name} = {wanted!r} is not in the data. {guess_en}Using {found!r}.",
              f"{name} = {wanted!r} no está en los datos. {guess_es}Se usa {found!r}."))  # fmt: skip
    return found


# ---------------------------------------------------------------- labelled queries

#: The shipped paraphrase queries, each with the film it describes: data/<name>.csv (query, title).
QUERY_SETS = {
    "movie_queries": "English queries, English titles",
    "movie_queries_es": "Spanish queries, English titles",
    "peliculas_queries": "Spanish queries, Spanish titles",
}


def query_set(name: str, films: str) -> tuple[list[str], list[str]]:
    """The queries of data/<name>.csv and, for each, the title of its film in the dataset ``films``
    ("movies" or "peliculas": a Spanish film is found through its original_title)."""
    import csv

    from .caches import load_dataset
    from .config import DATA_DIR

    if name not in QUERY_SETS:
        known = ", ".join(QUERY_SETS)
        raise ParameterError(say(f"Unknown query set {name!r}: use one of {known}.",
                                 f"No existe el conjunto de consultas {name!r}: usa {known}."))  # fmt: skip
    with open(DATA_DIR / f"{name}.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    catalogue = load_dataset(films)
    by_english = {r.get("original_title") or r["title"]: r["title"] for r in catalogue}
    titles = {r["title"] for r in catalogue}
    wanted = [r["title"] if r["title"] in titles else by_english.get(r["title"]) for r in rows]
    kept = [(r["query"], t) for r, t in zip(rows, wanted, strict=True) if t]
    return [q for q, _ in kept], [t for _, t in kept]


# ---------------------------------------------------------------- timing


@dataclass(frozen=True)
class Timing:
    """The fastest and slowest of several runs of the same code, in seconds."""

    best: float
    worst: float
    runs: int

    def __str__(self) -> str:
        best, worst = f"{self.best * 1000:.2f} ms", f"{self.worst * 1000:.2f} ms"
        return say(f"{best} (best of {self.runs}; slowest {worst})",
                   f"{best} (mejor de {self.runs}; el más lento {worst})")


def best_of(action: Callable[[], object], runs: int = 7, warmup: bool = True, clock=time.perf_counter) -> Timing:
    """Time ``action()`` ``runs`` times on one BLAS thread and keep the best and the worst.

    The best run is the fairest single figure on a shared machine (everything else only adds time);
    the worst shows how much the machine disturbed the others. One thread, so that two things compared
    are compared on the same footing. ``clock`` is injectable for tests.
    """
    from threadpoolctl import threadpool_limits

    runs = max(1, int(runs))
    times = []
    with threadpool_limits(1):
        if warmup:
            action()
        for _ in range(runs):
            started = clock()
            action()
            times.append(clock() - started)
    return Timing(min(times), max(times), runs)


def unit_rows(vectors, keys: Iterable[str] | None = None) -> np.ndarray:
    """A float32 matrix of ``vectors`` (a {key: vector} dict, or rows) with every row scaled to norm 1."""
    if keys is not None:
        rows = [vectors[k] for k in keys]
    else:
        rows = list(vectors.values()) if hasattr(vectors, "values") else vectors
    matrix = np.asarray(rows, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


# ---------------------------------------------------------------- ranking quality


def ranking_quality(ranked: Iterable[Iterable], relevant: Iterable, k: int = 10) -> dict[str, float]:
    """How well ranked lists place their one relevant item (lesson 03 writes these out), averaged over the lists:

    - ``MRR@k``: 1 / its rank (1 when first, 0.5 when second), 0 when it is not among the first ``k``;
    - ``nDCG@k``: its gain discounted by rank, 1 / log2(rank + 1), divided by the best possible (1);
    - ``hit@k``: whether it is among the first ``k`` at all.
    """
    ranks = []
    for items, wanted in zip(ranked, relevant, strict=True):
        top = list(items)[:k]
        ranks.append(top.index(wanted) + 1 if wanted in top else None)
    if not ranks:
        raise ValueError("ranking_quality needs at least one ranked list.")
    return {
        f"MRR@{k}": float(np.mean([1 / r if r else 0.0 for r in ranks])),
        f"nDCG@{k}": float(np.mean([1 / np.log2(r + 1) if r else 0.0 for r in ranks])),
        f"hit@{k}": float(np.mean([r is not None for r in ranks])),
    }
