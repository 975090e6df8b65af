"""Facts lesson 03 (vector search) relies on, read from the lesson's own variables after an offline run."""

import json

import pytest
from nbclient.exceptions import CellExecutionError

from run_notebooks import NOTEBOOKS, execute

pytestmark = pytest.mark.usefixtures("offline")

LESSON = NOTEBOOKS / "03_search.ipynb"
FACTS = (
    '{"plain": [t for _, t in plain_results], "numpy": [t for _, t in numpy_results], "hnsw": hnsw_titles,'
    ' "speedup": t_plain / t_numpy, "deleted_found": bool(first in after[0]), "K": K, "items": len(titles),'
    ' "sizes": sizes, "table_sizes": [int(n) for n in cost.index], "build": cost["build (s, so far)"].tolist(),'
    ' "recall_by_size": cost[recall_column].tolist(), "hnsw_speedup": float(cost["speed-up"].iloc[-1]),'
    ' "ef_values": ef_values, "EF": EF, "RECALL_K": RECALL_K, "recall_by_ef": sweep[recall_column].tolist(),'
    ' "ef_below_k_is_k": bool(np.array_equal(with_ef_1, with_ef_k)), "collection": int(collection.shape[0])}'
)
SMALL = {"SIZES": [3_000, 1_000, 1_000], "N_QUERIES": 40, "EF_VALUES": [], "K": 1_000}


def run_and_read(parameters=None, expression=FACTS):
    """Execute lesson 03 offline, then evaluate ``expression`` in its kernel and return the value (JSON)."""
    nb, _ = execute(LESSON, parameters, append=f"import json\nprint(json.dumps({expression}))")
    (output,) = nb.cells[-1].outputs
    notes = [line for c in nb.cells for o in c.get("outputs", []) for line in o.get("text", "").splitlines()]
    return json.loads(output.text), notes


@pytest.fixture(scope="module")
def default_run():
    return run_and_read()


def test_plain_numpy_and_hnsw_rank_the_movies_alike(default_run):
    facts, _ = default_run
    assert facts["plain"] == facts["numpy"] == facts["hnsw"]
    assert len(facts["plain"]) == facts["K"] == 5
    assert "The Aristocats" in facts["plain"][:3]  # the query asks for a movie about cats
    print(f"numpy speed-up over plain Python: {facts['speedup']:.0f}x")
    assert facts["speedup"] >= 20  # a generous floor; the lesson prints the measured figure


def test_a_deleted_item_is_no_longer_found(default_run):
    facts, _ = default_run
    assert facts["deleted_found"] is False


def test_one_index_grows_through_the_sizes_and_the_build_time_adds_up(default_run):
    facts, _ = default_run
    assert facts["table_sizes"] == facts["sizes"] and facts["collection"] == facts["sizes"][-1] >= 20_000
    assert all(later > earlier > 0 for earlier, later in zip(facts["build"], facts["build"][1:], strict=False))
    print(f"HNSW speed-up at {facts['sizes'][-1]:,} vectors: {facts['hnsw_speedup']:.1f}x")
    assert facts["hnsw_speedup"] >= 2  # a generous floor; about 10x measured on 2 cores


def test_recall_on_real_embeddings_rises_with_ef_and_ef_below_k_acts_as_k(default_run):
    facts, _ = default_run
    recalls = facts["recall_by_ef"]
    print(f"recall@{facts['RECALL_K']} at ef {facts['ef_values']}: {recalls}; by size: {facts['recall_by_size']}")
    assert all(0 < r <= 1 for r in recalls + facts["recall_by_size"])
    assert recalls[-1] > recalls[0]  # more candidates, more true neighbours found
    assert facts["recall_by_size"][-1] < 1  # on real embeddings HNSW misses some: the lesson must not hide it
    assert facts["ef_below_k_is_k"] is True


@pytest.fixture(scope="module")
def two_small_runs():
    return run_and_read(SMALL), run_and_read(SMALL)


def test_recall_is_identical_on_two_runs(two_small_runs):
    (first, _), (second, _) = two_small_runs
    assert first["recall_by_size"] == second["recall_by_size"]
    assert first["recall_by_ef"] == second["recall_by_ef"]
    assert first["hnsw"] == second["hnsw"]


def test_out_of_range_parameters_are_corrected_with_a_note(two_small_runs):
    facts, notes = two_small_runs[0]
    assert facts["K"] == facts["items"] == 278 and len(facts["plain"]) == 278
    assert any("K=1000" in line and "using 278" in line for line in notes)
    assert facts["sizes"] == [1_000, 3_000] and any("SIZES sorted" in line for line in notes)
    assert facts["ef_values"] == [facts["EF"]]
    facts, notes = run_and_read({"K": 0, "RECALL_K": 0, "SIZES": [1_000], "N_QUERIES": 20, "EF_VALUES": [10]})
    assert facts["K"] == 1 and facts["RECALL_K"] == 1
    assert any("K=0" in line for line in notes) and any("RECALL_K=0" in line for line in notes)


def test_a_parameter_of_the_wrong_kind_stops_with_a_clear_message():
    with pytest.raises(CellExecutionError, match="K must be a whole number"):
        execute(LESSON, {"K": "5"})
    with pytest.raises(CellExecutionError, match="TEXTS_FROM"):
        execute(LESSON, {"TEXTS_FROM": "no-such-dataset"})
