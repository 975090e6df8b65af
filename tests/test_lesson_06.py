"""Facts lesson 06 (dimension reduction) relies on, checked on the shipped model and data."""

import numpy as np
import pytest

import embeddings_helper as eh

K = 10


def truncate_rows(matrix, k):
    head = matrix[:, :k]
    return head / np.linalg.norm(head, axis=1, keepdims=True)


def movie_matrix(model):
    vectors = eh.load_embeddings("movies", model=model)
    return np.array(list(vectors.values()), dtype=np.float32)


def neighbours(matrix, k=K):
    scores = matrix @ matrix.T
    np.fill_diagonal(scores, -np.inf)
    return np.argpartition(-scores, k - 1, axis=1)[:, :k]


def recall(truth, found):
    return sum(len(set(t) & set(f)) for t, f in zip(truth.tolist(), found.tolist(), strict=True)) / truth.size


@pytest.mark.parametrize("model", [eh.LOCAL_MODEL, eh.MINILM_MODEL])
@pytest.mark.parametrize("k", [8, 64, 200])
def test_truncate_and_renormalize_gives_unit_vectors(model, k):
    short = truncate_rows(movie_matrix(model), k)
    assert short.shape[1] == k
    np.testing.assert_allclose(np.linalg.norm(short, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("k", [8, 64, 128, 255])
def test_embed_with_dimensions_is_the_full_vector_truncated_and_renormalized(k):
    texts = ["Toy Story", "千と千尋の神隠し", "a toddler-friendly movie about cats"]
    full = eh.embed(texts)
    short = eh.embed(texts, dimensions=k)
    assert short.shape == (3, k)
    np.testing.assert_allclose(short, truncate_rows(full, k), atol=1e-6)


def test_the_cached_local_vectors_are_what_embed_makes():
    """So truncating stored vectors (storage time) equals asking for fewer dimensions (generation time)."""
    cached = eh.load_embeddings("movies", model=eh.LOCAL_MODEL)
    texts = eh.dataset_texts("movies")
    keys = list(cached)[:5]
    np.testing.assert_allclose(eh.embed([texts[t] for t in keys]), [cached[t] for t in keys], atol=1e-5)


def test_local_dimensions_are_ordered_by_variance_and_minilm_ones_are_not():
    local, minilm = movie_matrix(eh.LOCAL_MODEL).var(axis=0), movie_matrix(eh.MINILM_MODEL).var(axis=0)
    local_share = local[: len(local) // 4].sum() / local.sum()
    minilm_share = minilm[: len(minilm) // 4].sum() / minilm.sum()
    assert local_share > 0.45  # far above the quarter an unordered model would give
    assert 0.18 < minilm_share < 0.32
    assert local[:32].mean() > 3 * local[-32:].mean()


def test_an_unordered_model_loses_more_at_small_widths():
    local, minilm = movie_matrix(eh.LOCAL_MODEL), movie_matrix(eh.MINILM_MODEL)
    for w in (8, 16, 32, 64, 128):
        r_local = recall(neighbours(local), neighbours(truncate_rows(local, w)))
        r_minilm = recall(neighbours(minilm), neighbours(truncate_rows(minilm, w)))
        assert r_local > r_minilm + 0.05, w
    widths = [8, 32, 128, 256]
    curve = [recall(neighbours(local), neighbours(truncate_rows(local, w))) for w in widths]
    assert curve == sorted(curve) and curve[-1] == 1.0


def test_int8_min_max_error_is_at_most_half_a_step():
    small = truncate_rows(movie_matrix(eh.LOCAL_MODEL), 64)
    low, high = small.min(axis=0), small.max(axis=0)
    step = (high - low) / 255
    codes = (np.clip(np.round((small - low) / step), 0, 255) - 128).astype(np.int8)
    restored = low + (codes.astype(np.float32) + 128) * step
    assert codes.min() == -128 and codes.max() == 127
    assert np.all(np.abs(restored - small) <= step / 2 + 1e-6)


def test_sign_dot_product_counts_differing_bits():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 37))
    packed = np.packbits(x > x.mean(axis=0), axis=1)
    assert packed.shape == (20, 5)  # ceil(37 / 8) bytes
    signs = np.unpackbits(packed, axis=1, count=37).astype(np.float32) * 2 - 1
    differing = np.unpackbits(packed[:, None, :] ^ packed[None, :, :], axis=2).sum(axis=2).astype(np.int64)
    np.testing.assert_array_equal(signs @ signs.T, 37 - 2 * differing)


def test_rescoring_an_oversampled_pool_with_full_vectors_raises_recall():
    full = movie_matrix(eh.LOCAL_MODEL)
    exact = full @ full.T
    truth = neighbours(full)
    for w in (16, 64):
        small = truncate_rows(full, w)
        signs = np.where(small > small.mean(axis=0), 1.0, -1.0)
        for approx in (small @ small.T, signs @ signs.T):
            approx = approx.copy()
            np.fill_diagonal(approx, -np.inf)
            plain = np.argpartition(-approx, K - 1, axis=1)[:, :K]
            pool = np.argpartition(-approx, 4 * K - 1, axis=1)[:, : 4 * K]
            best = np.argpartition(-np.take_along_axis(exact, pool, axis=1), K - 1, axis=1)[:, :K]
            rescored = np.take_along_axis(pool, best, axis=1)
            assert recall(truth, rescored) >= recall(truth, plain) + 0.1
