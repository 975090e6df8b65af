"""Facts lesson 04 (distance metrics) relies on, checked independently of the notebook."""

import json
import math

import hnswlib
import nbformat
import numpy as np
import pytest
from nbclient.exceptions import CellExecutionError

import embeddings_helper as eh
from run_notebooks import NOTEBOOKS, execute

K = 10
EF_CONSTRUCTION = 100  # bounded, as in the lesson: ef_construction = N made large files slow to index


def unit(v):
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v)


def top_k(scores, i, k=K, largest_first=True):
    order = np.argsort(-scores if largest_first else scores, kind="stable")
    return [int(j) for j in order if j != i][:k]


def shipped_matrix():
    vectors = eh.load_embeddings("movies", model=eh.LOCAL_MODEL)
    return list(vectors), np.array(list(vectors.values()), dtype=np.float64)


def test_the_pair_has_the_same_magnitude():
    assert math.sqrt(sum(x * x for x in [1, 2, 3])) == 3.7416573867739413
    assert math.sqrt(sum(x * x for x in [3, 1, 2])) == 3.7416573867739413
    assert np.linalg.norm(unit([1, 2, 3])) == pytest.approx(1.0) == np.linalg.norm(unit([3, 1, 2]))


def test_the_four_measures_on_the_normalized_pair():
    a, b = unit([1, 2, 3]), unit([3, 1, 2])
    euclid = float(np.linalg.norm(a - b))
    manhattan = float(np.abs(a - b).sum())
    dot = float(a @ b)
    cosine_distance = 1 - dot / (np.linalg.norm(a) * np.linalg.norm(b))
    assert [f"{v:.3g}" for v in (euclid, manhattan, dot, cosine_distance)] == ["0.655", "1.07", "0.786", "0.214"]
    # exact values: 11/14 and 3/14 for the dot and cosine distance, sqrt(6/14) and 4/sqrt(14) for the others
    assert dot == pytest.approx(11 / 14) and cosine_distance == pytest.approx(3 / 14)
    assert euclid == pytest.approx(math.sqrt(6 / 14)) and manhattan == pytest.approx(4 / math.sqrt(14))


def test_equal_on_paper_is_not_always_equal_in_floats():
    u, v = [x / math.sqrt(3) for x in [1, 1, 1]], [x / math.sqrt(19) for x in [1, 3, 3]]
    dot = sum(x * y for x, y in zip(u, v, strict=True))
    cos = dot / (math.sqrt(sum(x * x for x in u)) * math.sqrt(sum(y * y for y in v)))
    assert cos != dot and math.isclose(cos, dot, rel_tol=1e-9)
    assert 0.1 + 0.2 != 0.3 and math.isclose(0.1 + 0.2, 0.3)


def test_shipped_movies_are_unit_vectors():
    _, m = shipped_matrix()
    assert np.all(np.abs(np.linalg.norm(m, axis=1) - 1) <= 1e-4)


def test_for_unit_vectors_cosine_dot_and_euclidean_rank_alike():
    titles, m = shipped_matrix()
    norms = np.linalg.norm(m, axis=1)
    for i in range(len(titles)):
        q = m[i]
        dot = m @ q
        cos = dot / (norms * norms[i])
        euclid = np.linalg.norm(m - q, axis=1)
        assert top_k(cos, i) == top_k(dot, i) == top_k(euclid, i, largest_first=False), titles[i]
    u = m / norms[:, None]
    gram = u @ u.T
    squared = ((u[:, None, :] - u[None, :, :]) ** 2).sum(axis=2)
    np.testing.assert_allclose(squared, 2 - 2 * gram, atol=1e-12)


def test_without_normalization_dot_cosine_and_euclidean_can_disagree():
    query = np.array([1.0, 0.0])
    items = np.array([[3.0, 2.0], [0.4, 0.06], [1.1, 0.3]])  # long and off, short and aligned, medium and near
    dot = items @ query
    cos = dot / np.linalg.norm(items, axis=1)
    euclid = np.linalg.norm(items - query, axis=1)
    assert list(np.argsort(-dot)) == [0, 2, 1]
    assert list(np.argsort(-cos)) == [1, 2, 0]
    assert list(np.argsort(euclid)) == [2, 1, 0]


def test_hnswlib_spaces_report_the_documented_distances():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(30, 8)).astype(np.float32) * 3  # not normalized
    q = data[0]
    for space, expected in [
        ("l2", ((data - q) ** 2).sum(axis=1)),
        ("ip", 1 - data @ q),
        ("cosine", 1 - data @ q / (np.linalg.norm(data, axis=1) * np.linalg.norm(q))),
    ]:
        index = hnswlib.Index(space=space, dim=8)
        index.init_index(max_elements=30, M=16, ef_construction=100, random_seed=1)
        index.add_items(data, np.arange(30))
        index.set_ef(30)
        labels, distances = index.knn_query(q, k=30)
        np.testing.assert_allclose(distances[0], expected[labels[0]], rtol=1e-4, atol=1e-4)


def test_hnswlib_spaces_agree_on_unit_vectors():
    titles, m = shipped_matrix()
    u = (m / np.linalg.norm(m, axis=1, keepdims=True)).astype(np.float32)
    i = titles.index("Toy Story")
    found = {}
    for space in ("l2", "ip", "cosine"):
        index = hnswlib.Index(space=space, dim=u.shape[1])
        index.init_index(max_elements=len(u), M=16, ef_construction=EF_CONSTRUCTION, random_seed=42)
        index.add_items(u, np.arange(len(u)))
        index.set_ef(len(u))
        labels, _ = index.knn_query(u[i], k=K + 1)
        found[space] = [int(j) for j in labels[0] if j != i][:K]
    assert found["l2"] == found["ip"] == found["cosine"] == top_k(u.astype(np.float64) @ u[i], i)


def test_cosine_with_lengths_computed_once_is_the_per_query_cosine_and_on_unit_vectors_the_dot():
    _, m = shipped_matrix()
    stored = (m * np.linspace(0.5, 2.0, len(m))[:, None]).astype(np.float32)  # lengths that are not 1
    norms = np.linalg.norm(stored, axis=1)  # once, at storage time
    q = stored[3]
    once = stored @ q / (norms * np.linalg.norm(q))
    every_time = stored @ q / (np.linalg.norm(stored, axis=1) * np.linalg.norm(q))
    unit = stored / norms[:, None]
    np.testing.assert_allclose(once, every_time, atol=1e-6)
    np.testing.assert_allclose(once, unit @ unit[3], atol=1e-6)


def run_lesson(parameters, expression):
    code = f"import json\nprint(json.dumps({expression}))"
    nb, _ = execute(NOTEBOOKS / "04_distance_metrics.ipynb", parameters, append=code)
    printed = [line for c in nb.cells for o in c.get("outputs", []) for line in o.get("text", "").splitlines()]
    notes = [line for line in printed if line.startswith(("MOVIE =", "K ="))]  # what the parameter checks said
    return json.loads(nb.cells[-1].outputs[0].text), notes


@pytest.mark.usefixtures("offline")
def test_lesson_matches_titles_and_caps_k_with_a_note_and_times_honestly():
    expression = (
        '{"movie": movie, "k": k, "items": len(titles), "lists": [len(v) for v in lists.values()],'
        ' "same": same, "agree": agree,'
        ' "spaces_agree": found["l2"] == found["ip"] == found["cosine"] == lists["dot product"],'
        ' "times": [t.best for t in times.values()]}'
    )
    facts, notes = run_lesson({"MOVIE": "toy stroy", "K": 1000}, expression)
    assert facts["movie"] == "Toy Story" and any("Did you mean 'Toy Story'" in n for n in notes)
    assert facts["k"] == facts["items"] - 1 == 277 and facts["lists"] == [277, 277, 277]
    assert any("K = 1000" in n and "using 277" in n for n in notes)
    assert facts["same"] is True and facts["spaces_agree"] is True and facts["agree"] is True
    dot, once, every_time = facts["times"]
    print(f"seconds per run: dot {dot:.2e}, cosine {once:.2e}, recomputing magnitudes {every_time:.2e}")
    assert every_time > 2 * once  # recomputing every stored magnitude is the costly part (about 6-15x measured)
    facts, notes = run_lesson({"MOVIE": "TOY STORY 2", "K": 1}, '{"movie": movie, "k": k}')
    assert facts == {"movie": "Toy Story 2", "k": 1} and len(notes) == 1 and "ignoring case" in notes[0]
    facts, notes = run_lesson({"MOVIE": "Zzyzx Qwv"}, '{"movie": movie, "first": titles[0]}')
    assert facts["movie"] == facts["first"] and "not in the data" in notes[0]


@pytest.mark.usefixtures("offline")
def test_a_k_below_one_stops_the_lesson_with_one_sentence():
    with pytest.raises(CellExecutionError, match="K must be at least 1"):
        execute(NOTEBOOKS / "04_distance_metrics.ipynb", {"K": 0})


def test_the_lesson_uses_the_helpers_for_its_plumbing():
    """The parameter checks, matching and timing come from embeddings_helper.lesson, the figures from arrows."""
    for path in (NOTEBOOKS / "04_distance_metrics.ipynb", NOTEBOOKS / "es" / "04_metricas_de_distancia.ipynb"):
        code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        for banned in ("import difflib", "unicodedata", "def find_title", "def timed", "threadpool_limits",
                       "raise ValueError", "raise TypeError", "def draw_arrows", "view_init"):
            assert banned not in code, f"{path.name}: {banned}"
        for used in ("match(", "whole_number(", "best_of(", "arrows.show_measure("):
            assert used in code, f"{path.name}: {used}"
