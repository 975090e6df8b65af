"""Facts lesson 03 (vector search) relies on, read from the lesson's own variables after an offline run."""

import json

import pytest
from nbclient.exceptions import CellExecutionError

from run_notebooks import NOTEBOOKS, execute

pytestmark = pytest.mark.usefixtures("offline")

LESSON = NOTEBOOKS / "03_search.ipynb"
FACTS = (
    '{"plain": [t for _, t in plain_results], "numpy": [t for _, t in numpy_results], "hnsw": hnsw_titles,'
    ' "speedup": plain_time.best / numpy_time.best, "deleted_found": bool(first in after[0]), "K": K,'
    ' "items": len(titles), "M": M, "EF_CONSTRUCTION": EF_CONSTRUCTION, "EF": EF, "RECALL_K": RECALL_K,'
    ' "TARGET_RECALL": TARGET_RECALL, "sizes": sizes, "collection": len(collection), "tuning": len(tuning),'
    ' "testing": len(testing), "N_QUERIES": N_QUERIES, "ef_values": ef_values,'
    ' "recall_by_ef": sweep["recall"].tolist(), "swept_efs": [int(e) for e in sweep.index],'
    ' "chosen_ef": chosen_ef, "slide_recall": slide_recall, "compared": comparison["recall"].tolist(),'
    ' "truth_recall": recall(testing_truth, testing_truth),'
    ' "table_sizes": [int(n) for n in growth.index], "build": growth.iloc[:, 0].tolist(),'
    ' "recall_by_size": growth["recall"].tolist(),'
    ' "hnsw_speedup": float(growth.iloc[-1, 1] / growth.iloc[-1, 2]),'
    ' "cheap_recall_by_ef": cheap_sweep["recall"].tolist(), "cheap_ef": cheap_ef,'
    ' "ef_below_k_is_k": bool(np.array_equal(with_ef_1, with_ef_k)),'
    ' "held_out": [len(set(stored) & set(tuning_ids)), len(set(stored) & set(testing_ids))],'
    ' "random_recall": noise_recall, "real_recall": float(growth["recall"].iloc[-1]),'
    ' "quality": quality.to_dict(orient="index"), "quality_check": same}'
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


def test_the_index_is_built_with_the_slides_values(default_run):
    facts, _ = default_run
    assert (facts["M"], facts["EF_CONSTRUCTION"], facts["EF"]) == (16, 200, 50)


def test_a_deleted_item_is_no_longer_found(default_run):
    facts, _ = default_run
    assert facts["deleted_found"] is False


def test_recall_is_measured_on_held_out_queries_against_exhaustive_search(default_run):
    facts, _ = default_run
    assert facts["collection"] == facts["sizes"][-1] >= 5_000
    assert facts["tuning"] == facts["testing"] == facts["N_QUERIES"] == 50  # two sets, neither in the index
    assert facts["truth_recall"] == 1.0
    exact, slide, chosen = facts["compared"]
    assert exact == 1.0  # the baseline: exhaustive search is the ground truth
    assert 0 < facts["slide_recall"] == slide < 1  # the slide's ef misses some neighbours: the lesson must not hide it


def test_the_lessons_ef_is_the_smallest_that_reaches_the_target(default_run):
    facts, _ = default_run
    recalls, efs, chosen_ef = facts["recall_by_ef"], facts["swept_efs"], facts["chosen_ef"]
    print(f"recall@{facts['RECALL_K']} at ef {efs}: {recalls}; chosen ef {chosen_ef}; compared {facts['compared']}")
    assert efs == facts["ef_values"] and recalls[-1] > recalls[0]  # more candidates, more true neighbours found
    reaching = [ef for ef, r in zip(efs, recalls, strict=True) if r >= facts["TARGET_RECALL"]]
    assert reaching and chosen_ef == reaching[0]
    _, slide, chosen = facts["compared"]
    assert chosen >= facts["TARGET_RECALL"] - 0.03  # it about holds on queries it was not chosen on


def test_one_index_grows_through_the_sizes_and_the_build_time_adds_up(default_run):
    facts, _ = default_run
    assert facts["table_sizes"] == facts["sizes"]
    assert all(later > earlier > 0 for earlier, later in zip(facts["build"], facts["build"][1:], strict=False))
    print(f"HNSW speed-up at {facts['sizes'][-1]:,} vectors: {facts['hnsw_speedup']:.1f}x")
    assert facts["hnsw_speedup"] >= 1.5  # a generous floor; the lesson prints the measured figure
    assert all(0 < r <= 1 for r in facts["recall_by_size"])


def test_the_cheaper_build_is_compared_at_the_same_target(default_run):
    facts, _ = default_run
    cheap = facts["cheap_recall_by_ef"]
    reaching = [ef for ef, r in zip(facts["swept_efs"], cheap, strict=True) if r >= facts["TARGET_RECALL"]]
    assert facts["cheap_ef"] == (reaching[0] if reaching else facts["swept_efs"][-1])
    assert facts["cheap_ef"] >= facts["chosen_ef"]  # a poorer graph needs at least as many candidates


def test_ranking_quality_is_measured_on_the_labelled_queries(default_run):
    facts, _ = default_run
    exhaustive, hnsw = facts["quality"].values()
    print(f"exhaustive {exhaustive}, HNSW {hnsw}")
    assert facts["quality_check"] is True  # the written-out measures equal the helper's ranking_quality
    assert 0.5 < exhaustive["MRR@10"] <= exhaustive["nDCG@10"] <= 1
    assert abs(hnsw["nDCG@10"] - exhaustive["nDCG@10"]) < 0.05  # at the slide's ef the index keeps the quality


def test_the_queries_are_texts_kept_out_of_the_index(default_run):
    facts, _ = default_run
    assert facts["held_out"] == [0, 0]


def test_random_vectors_are_the_hard_case(default_run):
    facts, _ = default_run
    print(f"recall at the slide's ef: real texts {facts['real_recall']:.3f}, random {facts['random_recall']:.3f}")
    assert facts["random_recall"] < facts["real_recall"] - 0.2


def test_ef_below_k_acts_as_k(default_run):
    facts, _ = default_run
    assert facts["ef_below_k_is_k"] is True


@pytest.fixture(scope="module")
def two_small_runs():
    return run_and_read(SMALL), run_and_read(SMALL)


def test_recall_is_identical_on_two_runs(two_small_runs):
    (first, _), (second, _) = two_small_runs
    for fact in ("recall_by_size", "recall_by_ef", "compared", "cheap_recall_by_ef", "hnsw", "chosen_ef"):
        assert first[fact] == second[fact], fact


def test_out_of_range_parameters_are_corrected_with_a_note(two_small_runs):
    facts, notes = two_small_runs[0]
    assert facts["K"] == facts["items"] == 278 and len(facts["plain"]) == 278
    assert any("K = 1000" in line and "using 278" in line for line in notes)
    assert facts["sizes"] == [1_000, 3_000] and any("SIZES = [3000, 1000, 1000]: using [1000, 3000]" in line
                                                    for line in notes)
    assert facts["ef_values"] == [facts["EF"]] and any("EF_VALUES = []: using [50]" in line for line in notes)
    facts, notes = run_and_read({"RECALL_K": 5_000, "SIZES": [1_000], "N_QUERIES": 20, "EF_VALUES": [10]})
    assert facts["RECALL_K"] == 1_000 and any("RECALL_K = 5000" in line and "using 1000" in line for line in notes)
    assert any("No ef measured reaches recall" in line for line in notes) or facts["recall_by_ef"][-1] >= 0.95


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"K": "5"}, "K must be a whole number"),
        ({"K": 0}, "K must be at least 1"),
        ({"COLLECTION": "fr"}, "COLLECTION = 'fr' is not in the data"),
        ({"SIZES": [100_000]}, "Lower SIZES or N_QUERIES"),
        ({"TARGET_RECALL": 95}, "TARGET_RECALL must be a number above 0 and at most 1"),
        ({"EF_VALUES": "50"}, "EF_VALUES must be a list of whole numbers"),
    ],
)
def test_a_parameter_of_the_wrong_kind_stops_with_a_clear_message(parameters, message):
    with pytest.raises(CellExecutionError, match=message):
        execute(LESSON, parameters)
