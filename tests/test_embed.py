"""embed() with the shipped local model: shapes, norms, input errors, dimensions, speed."""

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import embeddings_helper as eh

NOTEBOOKS = Path(eh.__file__).parent.parent


def test_one_string_gives_one_unit_row():
    v = eh.embed("a toddler-friendly movie about cats")
    assert v.shape == (1, 256) and v.dtype == np.float32
    assert np.linalg.norm(v[0]) == pytest.approx(1.0, abs=1e-5)


def test_list_keeps_order_and_every_row_is_unit():
    texts = ["dog", "cat", "a spaceship lands on the moon"]
    m = eh.embed(texts)
    assert m.shape == (3, 256)
    np.testing.assert_allclose(np.linalg.norm(m, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(m[2], eh.embed(texts[2])[0], atol=1e-6)


def test_related_words_are_closer_than_unrelated_ones():
    dog, cat, car = eh.embed(["dog", "cat", "spreadsheet"])
    assert dog @ cat > dog @ car + 0.1


def test_accepts_a_tuple_or_generator():
    assert eh.embed(("a", "b")).shape == (2, 256)
    assert eh.embed(t for t in ["x", "y", "z"]).shape == (3, 256)


@pytest.mark.parametrize(
    ("bad", "error", "words"),
    [
        ([], ValueError, "empty list"),
        ("", ValueError, "empty text"),
        (["ok", "   "], ValueError, "position 1"),
        (["ok", 3], TypeError, "item 1 is a int"),
        (42, TypeError, "not int"),
        (b"bytes", TypeError, "not bytes"),
        (None, TypeError, "not NoneType"),
    ],
)
def test_bad_input_is_named(bad, error, words):
    with pytest.raises(error, match=words):
        eh.embed(bad)


def test_dimensions_cut_and_renormalize():
    full = eh.embed(["the lion king"])[0]
    short = eh.embed(["the lion king"], dimensions=64)[0]
    assert short.shape == (64,)
    assert np.linalg.norm(short) == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(short, full[:64] / np.linalg.norm(full[:64]), atol=1e-6)


def test_cutting_the_output_is_the_same_model_with_fewer_pca_components():
    """Why truncation is sound for the local model: a text's vector is the mean of its tokens'
    rows, so keeping the first k columns of the output equals a model whose table keeps only
    the first k PCA components; and those come first because they carry the most variance."""
    model = eh.local._local_model()
    table = np.asarray(model.embedding, dtype=np.float64)
    texts = ["a rat who cooks in Paris", "toys come to life", "ice queen"]
    k = 48
    out = np.asarray(model.encode(texts, normalize=False, use_multiprocessing=False), dtype=np.float64)
    ids = [model.tokenizer.encode(t, add_special_tokens=False).ids for t in texts]
    by_hand = np.array([table[i, :k].mean(axis=0) for i in ids])
    np.testing.assert_allclose(out[:, :k], by_hand, rtol=1e-3, atol=1e-4)
    variance = table.var(axis=0)
    assert variance[:128].sum() / variance.sum() > 0.7  # half the columns hold most of the variance
    assert variance[:32].mean() > 5 * variance[-32:].mean()


@pytest.mark.parametrize(
    ("dimensions", "words"), [(0, "positive"), (-3, "positive"), (2.5, "whole"), (True, "whole"), (257, "larger")]
)
def test_bad_dimensions(dimensions, words):
    with pytest.raises(ValueError, match=words):
        eh.embed("x", dimensions=dimensions)


def test_dimensions_refused_for_a_model_not_trained_to_be_shortened():
    provider = eh.get_provider({"API_HOST": "ollama"})  # nomic-embed-text; refused before any request
    with pytest.raises(ValueError, match="does not accept dimensions"):
        eh.embed("x", dimensions=128, provider=provider)


def test_first_call_loads_in_under_a_second():
    code = (
        "import time; t = time.perf_counter(); import embeddings_helper as eh; "
        "eh.embed(['a toddler-friendly movie about cats']); print(time.perf_counter() - t)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=NOTEBOOKS,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "", "API_HOST": "local", "HF_HUB_OFFLINE": "1"},
    )
    seconds = float(out.stdout.strip().splitlines()[-1])
    print(f"first embed() call, import included: {seconds * 1000:.0f} ms")
    assert seconds < 1.0


def test_a_thousand_short_texts_in_under_half_a_second():
    texts = [f"short text number {i} about a dog, a cat and a boat" for i in range(1000)]
    eh.embed(texts[:10])  # loaded
    best = min(_timed(eh.embed, texts) for _ in range(3))
    print(f"1,000 short texts: {best * 1000:.1f} ms")
    assert best < 0.5


def _timed(fn, *args):
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def test_local_response_has_the_sdks_shape():
    from openai.types import CreateEmbeddingResponse

    response = eh.local_response(["dog", "a cat on a mat"], dimensions=32)
    assert isinstance(response, CreateEmbeddingResponse)
    assert [d.index for d in response.data] == [0, 1]
    assert len(response.data[1].embedding) == 32
    np.testing.assert_allclose(response.data[0].embedding, eh.embed("dog", dimensions=32)[0], atol=1e-6)
    assert response.usage.prompt_tokens == 1 + 5 and response.model == eh.LOCAL_MODEL
