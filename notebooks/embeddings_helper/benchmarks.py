"""Plumbing for measuring an approximate index against exact search (lesson 03): the large collection
with its held-out queries, the checks of the measurement's parameters, recall and time per query over a
range of ``ef`` values, and the recall-against-time picture. Messages and table headers follow the
lesson's language.

    from embeddings_helper import benchmarks
    texts, vectors = benchmarks.collection("COLLECTION", "es")
    stored, tuning, testing = benchmarks.held_out(len(texts), 5_000, 100, seed=0)

The lesson shows exhaustive search and recall first; these functions repeat them for many settings.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping

import numpy as np

from . import corpus
from .lesson import ParameterError, Timing, best_of, match, say, unit_rows, whole_number

# ---------------------------------------------------------------- parameters


def whole_numbers(name: str, values, low: int = 1, fallback: Iterable[int] = ()) -> list[int]:
    """``values`` as sorted whole numbers without repeats (``fallback`` when empty), saying when that changed them."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise ParameterError(say(f"{name} must be a list of whole numbers, like [10, 50, 100], not {values!r}.",
                                 f"{name} debe ser una lista de números enteros, como [10, 50, 100], "
                                 f"no {values!r}."))  # fmt: skip
    given = list(values)
    kept = sorted({whole_number(say(f"a value in {name}", f"un valor de {name}"), v, low) for v in given})
    kept = kept or sorted({int(v) for v in fallback})
    if not kept:
        raise ParameterError(say(f"{name} is empty: list at least one whole number.",
                                 f"{name} está vacía: pon al menos un número entero."))  # fmt: skip
    if kept != given:
        print(say(f"{name} = {given}: using {kept} (sorted, without repeats).",
                  f"{name} = {given}: se usa {kept} (ordenados, sin repetir)."))  # fmt: skip
    return kept


def share(name: str, value) -> float:
    """``value`` as a share above 0 and at most 1, such as a recall to reach."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not 0 < value <= 1:
        raise ParameterError(say(f"{name} must be a number above 0 and at most 1, like 0.95, not {value!r}.",
                                 f"{name} debe ser un número mayor que 0 y a lo sumo 1, como 0.95, "
                                 f"no {value!r}."))  # fmt: skip
    return float(value)


# ---------------------------------------------------------------- a large collection


def collection(name: str, value) -> tuple[list[str], np.ndarray]:
    """The texts (or titles) and the vectors, one row of magnitude 1 each, of the collection ``value`` names
    (``name``: the parameter): "en" or "es", the project's short texts with their shipped vectors
    (``corpus.vectors``; spelling forgiven), or the path of a {title: vector} JSON file of your own."""
    if isinstance(value, (str, os.PathLike)) and str(value).lower().endswith(".json"):
        from .caches import load_embeddings

        vectors = load_embeddings(value)
        return list(vectors), unit_rows(vectors).astype(np.float32)
    language = match(name, value, corpus.LANGUAGES, fallback=False)
    return corpus.texts(language), corpus.vectors(language)


def held_out(n_items: int, size: int, n_queries: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A random split of ``n_items`` ids: ``size`` to index, then two disjoint sets of ``n_queries`` held
    out from it (one to tune on, one to test on). The same seed gives the same split."""
    if size + 2 * n_queries > n_items:
        raise ParameterError(say(f"{size} to index and 2 × {n_queries} queries need {size + 2 * n_queries} texts; "
                                 f"the collection has {n_items}. Lower SIZES or N_QUERIES.",
                                 f"{size} para el índice y 2 × {n_queries} consultas necesitan "
                                 f"{size + 2 * n_queries} textos; la colección tiene {n_items}. Baja SIZES "
                                 f"o N_QUERIES."))  # fmt: skip
    order = np.random.default_rng(seed).permutation(n_items)
    return order[:size], order[size : size + n_queries], order[size + n_queries : size + 2 * n_queries]


# ---------------------------------------------------------------- measuring


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Each row's ``k`` best-scoring column ids, best first, ties broken by the smaller id: lesson 05's
    ``top_k``, without its loop. A partial sort finds each row's ``k`` best; only a row whose ``k``-th score
    ties with one left out is sorted in full, so the smaller ids win there too."""
    scores = np.atleast_2d(scores)
    k = min(int(k), scores.shape[1])
    if k < 1:
        return np.empty((len(scores), 0), dtype=np.intp)
    best = np.argpartition(-scores, k - 1, axis=1)[:, :k] if k < scores.shape[1] else np.argsort(-scores, axis=1)
    values = np.take_along_axis(scores, best, axis=1)
    order = np.take_along_axis(best, np.lexsort((best, -values), axis=1), axis=1)
    tied = np.flatnonzero((scores >= values.min(axis=1, keepdims=True)).sum(axis=1) > k)
    for row in tied:  # the k-th score is shared with a column left out: order this row in full
        ids = np.arange(scores.shape[1])
        order[row] = np.lexsort((ids, -scores[row]))[:k]
    return order


def exact_top_k(data: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """The ids of the ``k`` rows of ``data`` with the largest dot product with each query (rows of norm 1:
    the cosine), best first, ties broken by the smaller id."""
    return top_k(np.atleast_2d(queries) @ data.T, k)


def recall_at_k(found, truth) -> float:
    """The share of the true neighbours (rows of ``truth``) that ``found`` returns, averaged over the queries."""
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)]))


def time_per_query(search_one: Callable[[np.ndarray], object], queries: np.ndarray, runs: int = 5,
                   clock=time.perf_counter) -> Timing:
    """How long ``search_one(query)`` takes per query, one query at a time: the best and the slowest of
    ``runs`` passes over all queries, after a warm-up pass, on one thread (``best_of``)."""
    timing = best_of(lambda: [search_one(q) for q in queries], runs, clock=clock)
    return Timing(timing.best / len(queries), timing.worst / len(queries), timing.runs)


def ef_sweep(index, queries: np.ndarray, truth: np.ndarray, ef_values: Iterable[int], k: int, runs: int = 5):
    """A table, one row per ``ef``: the recall@k of an hnswlib ``index`` against ``truth`` and the µs per
    query (best of ``runs`` passes, one query at a time, one thread). Leaves ``index`` at its former ef."""
    import pandas as pd

    former = index.ef
    rows = []
    for ef in ef_values:
        index.set_ef(int(ef))
        found, _ = index.knn_query(queries, k=k, num_threads=1)
        timing = time_per_query(lambda q: index.knn_query(q, k=k, num_threads=1), queries, runs)
        rows.append({"ef": int(ef), "recall": recall_at_k(found, truth), "µs": timing.best * 1e6})
    index.set_ef(former)
    return pd.DataFrame(rows).set_index("ef")


def smallest_ef(sweep, target: float) -> int:
    """The smallest ef of an ``ef_sweep`` table whose recall reaches ``target``; if none does, the largest,
    saying so."""
    reached = sweep.index[sweep["recall"] >= target]
    if len(reached):
        return int(reached[0])
    largest = int(sweep.index[-1])
    print(say(f"No ef measured reaches recall {target:.2f} (the best is {sweep['recall'].max():.3f}); "
              f"using the largest, {largest}. Add larger values to EF_VALUES.",
              f"Ningún ef medido llega a un recall de {target:.2f} (el mejor es {sweep['recall'].max():.3f}); "
              f"se usa el más grande, {largest}. Agrega valores más grandes a EF_VALUES."))  # fmt: skip
    return largest


def plot_tradeoff(curves: Mapping[str, object], exact_us: float, target: float, title: str = ""):
    """Recall against µs per query, one line per ``ef_sweep`` table in ``curves``, each point labelled with
    its ef; exact search as a dotted vertical line and ``target`` as a dotted horizontal one."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for label, sweep in curves.items():
        ax.plot(sweep["µs"], sweep["recall"], marker="o", label=label)
        for ef, row in sweep.iterrows():
            ax.annotate(f"{ef}", (row["µs"], row["recall"]), textcoords="offset points", xytext=(4, -10), fontsize=8)
    ax.axvline(exact_us, color="grey", linestyle=":", label=say(f"exhaustive search ({exact_us:.0f} µs, recall 1)",
                                                                 f"búsqueda exhaustiva ({exact_us:.0f} µs, recall 1)"))
    ax.axhline(target, color="tab:red", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set(title=title, xlabel=say("µs per query, one core (log scale); labels: ef",
                                   "µs por consulta, un núcleo (escala logarítmica); etiquetas: ef"), ylabel="recall")
    ax.legend(loc="lower right")
    plt.show()
