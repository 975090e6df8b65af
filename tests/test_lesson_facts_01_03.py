"""Facts lessons 01-03 rely on, read from the lessons' own variables after an offline run."""

import json

import pytest

from run_notebooks import NOTEBOOKS, execute

pytestmark = pytest.mark.usefixtures("offline")


def run_and_read(name, expression, parameters=None):
    """Execute a lesson offline, then evaluate ``expression`` in its kernel and return the value (JSON)."""
    nb, _ = execute(NOTEBOOKS / f"{name}.ipynb", parameters, append=f"import json\nprint(json.dumps({expression}))")
    (output,) = nb.cells[-1].outputs
    return json.loads(output.text)


def test_01_vectors_are_unit_length_and_models_differ_in_width():
    facts = run_and_read(
        "01_generate_embedding",
        '{"norm": float(np.linalg.norm(vector)), "short": len(short), "short_norm": float(np.linalg.norm(short)),'
        ' "rows": vectors.shape[0], "a": len(a), "b": len(b), "texts": len(TEXTS)}',
    )
    assert facts["norm"] == pytest.approx(1, abs=1e-5) and facts["short_norm"] == pytest.approx(1, abs=1e-5)
    assert facts["short"] == 64 and facts["rows"] == facts["texts"]
    assert (facts["a"], facts["b"]) == (256, 384)


def test_02_plain_and_numpy_cosine_agree_and_recommendations_are_new():
    facts = run_and_read(
        "02_similarity",
        '{"plain": cosine_similarity(words[word], words[other]),'
        ' "numpy": float(cosine_similarity_np(words[word], words[other])),'
        ' "explained": float(explained[:2].sum()), "watched": watched,'
        ' "suggested": [titles[i] for i in suggestions], "least": [titles[i] for i in farthest]}',
    )
    assert facts["plain"] == pytest.approx(facts["numpy"], abs=1e-9)
    assert 0 < facts["explained"] < 1  # the 2-D picture is lossy
    assert not set(facts["suggested"]) & set(facts["watched"])
    assert len(facts["least"]) == 10
