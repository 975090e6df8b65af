"""Lesson 03's measuring plumbing (embeddings_helper.benchmarks): parameter checks, the held-out split, exact
ground truth, recall, time per query on an injected clock, the ef sweep and its choice; in both languages."""

import hnswlib
import numpy as np
import pytest

from embeddings_helper import benchmarks
from embeddings_helper.lesson import ParameterError


def test_whole_numbers_are_sorted_without_repeats_saying_so(capsys):
    assert benchmarks.whole_numbers("SIZES", [1_000, 5_000]) == [1_000, 5_000]
    assert capsys.readouterr().out == ""
    assert benchmarks.whole_numbers("SIZES", [3_000, 1_000, 1_000]) == [1_000, 3_000]
    assert "SIZES = [3000, 1000, 1000]: using [1000, 3000]" in capsys.readouterr().out
    assert benchmarks.whole_numbers("EF_VALUES", [], fallback=[50]) == [50]
    for bad, message in [("50", "must be a list"), ([10, 2.5], "must be a whole number"), ([], "is empty")]:
        with pytest.raises(ParameterError, match=message):
            benchmarks.whole_numbers("EF_VALUES", bad)


def test_a_share_is_above_0_and_at_most_1():
    assert benchmarks.share("TARGET_RECALL", 0.95) == 0.95 and benchmarks.share("TARGET_RECALL", 1) == 1.0
    for bad in (0, 95, -0.5, "0.9", True, None):
        with pytest.raises(ParameterError, match="TARGET_RECALL must be a number above 0"):
            benchmarks.share("TARGET_RECALL", bad)


def test_the_collection_is_named_forgivingly_or_refused(capsys):
    texts, vectors = benchmarks.collection("COLLECTION", "ES")
    assert "using 'es'" in capsys.readouterr().out
    assert len(texts) == len(vectors) >= 3_000 and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    with pytest.raises(ParameterError, match="COLLECTION = 'fr' is not in the data"):
        benchmarks.collection("COLLECTION", "fr")


def test_held_out_queries_never_enter_the_index_and_repeat_with_the_seed():
    stored, tuning, testing = benchmarks.held_out(1_000, 800, 50, seed=3)
    assert (len(stored), len(tuning), len(testing)) == (800, 50, 50)
    assert len(set(stored) | set(tuning) | set(testing)) == 900  # three disjoint sets
    again = benchmarks.held_out(1_000, 800, 50, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(again, (stored, tuning, testing), strict=True))
    assert not np.array_equal(benchmarks.held_out(1_000, 800, 50, seed=4)[1], tuning)
    with pytest.raises(ParameterError, match="need 1100 texts; the collection has 1000. Lower SIZES or N_QUERIES"):
        benchmarks.held_out(1_000, 1_000, 50)


def test_exact_top_k_is_best_first_with_ties_to_the_smaller_id():
    data = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.6, 0.8]])
    assert benchmarks.exact_top_k(data, np.array([1.0, 0.0]), 3).tolist() == [[0, 2, 3]]
    assert benchmarks.exact_top_k(data, np.array([[0.0, 1.0], [1.0, 0.0]]), 1).tolist() == [[1], [0]]


def test_top_k_matches_a_full_sort_by_score_then_id_even_with_many_ties():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 6, size=(40, 300)).astype(np.float32)  # few distinct values: ties at every cut
    scores[:5] = rng.standard_normal((5, 300))  # and rows with no ties at all
    ids = np.broadcast_to(np.arange(300), scores.shape)
    for k in (1, 7, 299, 300, 400):
        expected = np.lexsort((ids, -scores), axis=1)[:, :k]
        assert np.array_equal(benchmarks.top_k(scores, k), expected), k
    assert benchmarks.top_k(np.array([3.0, 1.0, 3.0, 2.0]), 2).tolist() == [[0, 2]]
    assert benchmarks.top_k(scores, 0).shape == (40, 0)


def test_recall_is_the_share_of_true_neighbours_found():
    assert benchmarks.recall_at_k([[1, 2], [3, 4]], [[2, 1], [3, 5]]) == 0.75
    assert benchmarks.recall_at_k([[9, 8]], [[1, 2]]) == 0.0


def test_time_per_query_divides_the_best_pass_by_the_queries():
    ticks = iter([0.0, 4.0, 10.0, 12.0])  # two timed passes over 4 queries: 4 s and 2 s
    timing = benchmarks.time_per_query(lambda q: q, np.zeros((4, 2)), runs=2, clock=lambda: next(ticks))
    assert (timing.best, timing.worst, timing.runs) == (0.5, 1.0, 2)


def test_an_ef_sweep_measures_recall_and_time_and_picks_the_smallest_ef_reaching_a_target(capsys):
    rng = np.random.default_rng(0)
    data = rng.normal(size=(2_000, 32)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    queries = data[:20] + 0.01  # close to stored vectors, not among them
    index = hnswlib.Index(space="cosine", dim=32)
    index.init_index(max_elements=len(data), M=8, ef_construction=50, random_seed=0)
    index.add_items(data, np.arange(len(data)), num_threads=1)
    index.set_ef(33)
    truth = benchmarks.exact_top_k(data, queries / np.linalg.norm(queries, axis=1, keepdims=True), 10)
    sweep = benchmarks.ef_sweep(index, queries, truth, [10, 400], k=10, runs=1)
    assert list(sweep.index) == [10, 400] and list(sweep.columns) == ["recall", "µs"] and index.ef == 33
    assert 0 < sweep["recall"][10] <= sweep["recall"][400] <= 1 and (sweep["µs"] > 0).all()
    assert benchmarks.smallest_ef(sweep, sweep["recall"][10]) == 10
    assert capsys.readouterr().out == ""
    assert benchmarks.smallest_ef(sweep, 1.5) == 400  # none reaches it: the largest, saying so
    assert "No ef measured reaches recall 1.50" in capsys.readouterr().out


def test_messages_speak_spanish_in_a_spanish_lesson(spanish, capsys):
    benchmarks.whole_numbers("SIZES", [2, 1])
    assert "SIZES = [2, 1]: se usa [1, 2] (ordenados, sin repetir)." in capsys.readouterr().out
    with pytest.raises(ParameterError, match="TARGET_RECALL debe ser un número mayor que 0"):
        benchmarks.share("TARGET_RECALL", 2)


def test_a_file_of_your_own_is_a_collection_too(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text('{"a": [3, 4], "b": [0, 2], "c": [1, 0]}')
    texts, vectors = benchmarks.collection("COLLECTION", str(path))
    assert texts == ["a", "b", "c"] and vectors.dtype == np.float32
    assert np.allclose(vectors, [[0.6, 0.8], [0, 1], [1, 0]])
    assert [benchmarks.corpus.language_of(v) for v in ("ES", " en ", str(path), 3)] == ["es", "en", None, None]
