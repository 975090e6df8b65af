"""Lesson 01's facts and parameter checks, read from the lesson's own variables after an offline run."""

import json

import pytest
from nbclient.exceptions import CellExecutionError

from embeddings_helper import LOCAL_MODEL, LOCAL_MODELS, NATIVE_DIMENSIONS, STATIC_MODEL
from run_notebooks import NOTEBOOKS, execute, offline_kernels

pytestmark = pytest.mark.usefixtures("offline")
LESSON = NOTEBOOKS / "01_generate_embedding.ipynb"


def run_and_read(expression, parameters=None):
    """Execute the lesson offline, evaluate ``expression`` in its kernel, return the value and the printed text."""
    nb, _ = execute(LESSON, parameters, append=f"import json\nprint(json.dumps({expression}))")
    (output,) = nb.cells[-1].outputs
    printed = "".join(o.get("text", "") for c in nb.cells[:-1] for o in c.get("outputs", []))
    return json.loads(output.text), printed


FACTS = """{
    "model": provider.model, "norm": float(norm), "width": len(vector), "rows": vectors.shape[0],
    "texts": len(TEXTS), "response_width": len(item.embedding), "response_vectors": len(response.data),
    "short_model": short_provider.model, "short": len(short), "short_norm": float(np.linalg.norm(short)),
    "short_gap": float(np.abs(short - by_hand).max()), "reference_gap": float(np.abs(small_256 - cut).max()),
    "title": title, "widths": {name: len(v) for name, v in title_vectors.items()},
    "speedup": float(speedup), "dataset": [len(embeddings), int(matrix.shape[1])]
}"""


@pytest.fixture(scope="module")
def default_run():
    """One offline run with the committed parameters, shared by the tests that only read it."""
    with offline_kernels():
        yield run_and_read(FACTS)


def test_the_default_model_is_used_and_vectors_have_norm_1(default_run):
    facts, printed = default_run
    assert facts["model"] == LOCAL_MODEL
    assert facts["width"] == facts["response_width"] == NATIVE_DIMENSIONS[LOCAL_MODEL]
    assert facts["norm"] == pytest.approx(1, abs=1e-5)
    assert facts["rows"] == facts["texts"] and facts["response_vectors"] == 1
    assert "CreateEmbeddingResponse · sent to http://in-process.invalid/v1/" in printed  # the real SDK, offline
    # The default model refuses dimensions= the way a hosted API does: with the SDK's own exception.
    assert f"BadRequestError: Error code: 400 - {LOCAL_MODEL} does not accept dimensions=" in printed
    assert f"shortening with: {STATIC_MODEL}" in printed
    assert facts["dataset"] == [278, NATIVE_DIMENSIONS[LOCAL_MODEL]]
    assert facts["speedup"] > 0


def test_a_shortened_vector_is_the_full_one_cut_and_rescaled(default_run):
    facts, _ = default_run
    # The default model cannot be shortened, so the lesson shortens with the static model.
    assert facts["short_model"] == STATIC_MODEL
    assert facts["short"] == 64 and facts["short_norm"] == pytest.approx(1, abs=1e-5)
    assert facts["short_gap"] < 1e-6
    assert facts["reference_gap"] < 1e-6  # the real API's 256-d vector vs the 1536-d one cut and rescaled


def test_one_title_in_the_reference_and_local_models(default_run):
    facts, _ = default_run
    assert facts["title"] == "El Rey León"
    widths = facts["widths"]
    assert widths["text-embedding-ada-002 (reference)"] == widths["text-embedding-3-small (reference)"] == 1536
    for model in LOCAL_MODELS:
        assert widths[f"{model} (local)"] == NATIVE_DIMENSIONS[model]


def test_parameters_are_matched_and_capped_with_a_note():
    facts, printed = run_and_read(
        '{"title": title, "short": len(short), "short_width": short_width}',
        {"REFERENCE_TITLE": "el rey leon", "DIMENSIONS": 10_000},
    )
    assert facts["title"] == "El Rey León" and "ignoring case and accents" in printed
    assert facts["short"] == facts["short_width"] == NATIVE_DIMENSIONS[STATIC_MODEL]
    assert "DIMENSIONS = 10000 is more than" in printed


def test_an_absent_title_gets_a_suggestion():
    facts, printed = run_and_read('{"title": title}', {"REFERENCE_TITLE": "El Rey Lon"})
    assert facts["title"] == "El Rey León"
    assert "Did you mean 'El Rey León'" in printed


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"TEXTS": []}, "TEXTS must hold at least one text, and no empty ones"),
        ({"TEXTS": "dog"}, "TEXTS must be a list of texts"),
        ({"TEXT": "  "}, "TEXT must be some words in quotes"),
        ({"DIMENSIONS": 0}, "DIMENSIONS must be at least 1"),
    ],
    ids=["no-texts", "one-string", "blank-text", "zero-dimensions"],
)
def test_bad_parameters_are_refused_with_a_clear_message(parameters, message):
    with pytest.raises(CellExecutionError, match=message):
        execute(LESSON, parameters)


def test_with_the_static_model_the_sdk_call_asks_for_dimensions(monkeypatch):
    monkeypatch.setenv("LOCAL_EMBEDDING_MODEL", STATIC_MODEL)  # the kernel inherits it
    facts, printed = run_and_read(FACTS)
    assert facts["model"] == facts["short_model"] == STATIC_MODEL
    assert f"{STATIC_MODEL} accepts dimensions=64" in printed and "BadRequestError" not in printed
    assert facts["short"] == 64 and facts["short_gap"] < 1e-6
