"""Facts lesson 05 (quantization) relies on, checked on the shipped model and data."""

import math
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

import embeddings_helper as eh

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "05_quantization.ipynb"


def parameters():
    """The knobs of the committed notebook's parameters cell."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    values = {}
    exec(cell.source, values)
    return values


def unit_matrix(model=None):
    vectors = eh.load_embeddings("movies", model=model)
    matrix = np.array(list(vectors.values()), dtype=np.float64)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def to_int8(value, low, high):  # the lesson's plain-Python quantizer
    return round((value - low) / (high - low) * 255) - 128


def quantize_int8(matrix, low, high):
    return (np.round((matrix - low) / (high - low) * 255) - 128).astype(np.int8)


def dequantize_int8(codes, low, high):
    return low + (codes.astype(np.float64) + 128) * (high - low) / 255


def cosine_all(matrix):
    rows = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    return rows @ rows.T


def hamming_all(packed):
    return np.bitwise_count(packed[:, None, :] ^ packed[None, :, :]).sum(axis=2, dtype=np.int64)


def top_k(scores, k):
    scores = scores.astype(np.float64, copy=True)
    np.fill_diagonal(scores, -np.inf)
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def recall_at_k(truth, found):
    return sum(len(set(t) & set(f)) for t, f in zip(truth.tolist(), found.tolist(), strict=True)) / truth.size


def rescore(approx, exact, k, candidates):
    pool = top_k(approx, candidates)
    order = np.argsort(-np.take_along_axis(exact, pool, axis=1), axis=1, kind="stable")[:, :k]
    return np.take_along_axis(pool, order, axis=1)


@pytest.fixture(scope="module")
def local():
    return unit_matrix()


def test_the_parameters_cell_has_the_lessons_knobs():
    p = parameters()
    assert p["EMBEDDINGS"] == "movies" and p["MOVIE"] == "Toy Story" and p["K"] == 10
    assert isinstance(p["OVERSAMPLE"], int) and p["OVERSAMPLE"] >= 1


def test_a_python_list_spends_more_than_8_bytes_per_number():
    vector = eh.load_embeddings("movies")["Toy Story"]
    pointers = sys.getsizeof(vector)
    floats = sum(sys.getsizeof(x) for x in vector)
    assert pointers >= 8 * len(vector)  # one pointer per item, at least
    assert floats == len(vector) * sys.getsizeof(1.0)  # every float is an object of its own
    assert (pointers + floats) / len(vector) > 8 * 3


def test_min_max_int8_covers_the_whole_signed_byte_range(local):
    low, high = local.min(), local.max()
    codes = quantize_int8(local, low, high)
    assert codes.dtype == np.int8 and codes.nbytes == local.size
    assert codes.min() == -128 and codes.max() == 127
    assert to_int8(low, low, high) == -128 and to_int8(high, low, high) == 127
    assert [to_int8(x, low, high) for x in local[0]] == codes[0].tolist()  # plain Python == numpy


def test_dequantized_values_are_within_half_a_step(local):
    low, high = local.min(), local.max()
    step = (high - low) / 255
    restored = dequantize_int8(quantize_int8(local, low, high), low, high)
    assert np.abs(restored - local).max() <= step / 2 + 1e-12


def test_the_offset_of_zero_inflates_int8_cosines_and_the_correction_restores_them(local):
    low, high = local.min(), local.max()
    codes = quantize_int8(local, low, high)
    zero_code = to_int8(0.0, low, high)
    assert zero_code != 0  # 0.0 does not map to the code 0 on this data
    exact = local @ local.T
    pairs = ~np.eye(len(local), dtype=bool)
    raw = cosine_all(codes.astype(np.float64))
    assert raw[pairs].mean() > exact[pairs].mean() + 0.1  # inflated
    for corrected in (cosine_all(codes - float(zero_code)), cosine_all(dequantize_int8(codes, low, high))):
        assert np.abs(corrected - exact)[pairs].max() < 0.01
        assert abs(corrected[pairs].mean() - exact[pairs].mean()) < 0.002
    # dequantizing is subtracting the unrounded code of zero, times the step
    step = (high - low) / 255
    exact_zero = -low / step - 128
    np.testing.assert_allclose(dequantize_int8(codes, low, high), step * (codes - exact_zero), atol=1e-12)


def test_the_correction_restores_the_ranking(local):
    low, high = local.min(), local.max()
    codes = quantize_int8(local, low, high)
    truth = top_k(local @ local.T, 10)
    raw = recall_at_k(truth, top_k(cosine_all(codes.astype(np.float64)), 10))
    corrected = recall_at_k(truth, top_k(cosine_all(dequantize_int8(codes, low, high)), 10))
    assert corrected >= 0.95  # the lesson's int8 target
    assert corrected > raw + 0.05


@pytest.mark.parametrize("width", [37, 48, 256, 384, 1536])
def test_packbits_takes_one_byte_per_8_dimensions_and_packs_like_the_hand_version(width):
    rng = np.random.default_rng(width)
    x = rng.normal(size=(6, width))
    bits = x >= x.mean(axis=0)
    packed = np.packbits(bits, axis=1)
    assert packed.shape == (6, math.ceil(width / 8)) and packed.dtype == np.uint8
    row = [int(b) for b in bits[0]]
    by_hand = [int("".join(map(str, row[i : i + 8])).ljust(8, "0"), 2) for i in range(0, width, 8)]
    assert packed[0].tolist() == by_hand
    np.testing.assert_array_equal(np.unpackbits(packed, axis=1, count=width).astype(bool), bits)


def test_hamming_by_xor_and_popcount_counts_differing_bits():
    rng = np.random.default_rng(1)
    bits = rng.random((12, 100)) < 0.5
    packed = np.packbits(bits, axis=1)
    expected = (bits[:, None, :] != bits[None, :, :]).sum(axis=2)
    np.testing.assert_array_equal(hamming_all(packed), expected)  # np.bitwise_count (numpy >= 2)
    by_unpacking = np.unpackbits(packed[:, None, :] ^ packed[None, :, :], axis=2).sum(axis=2)
    np.testing.assert_array_equal(by_unpacking, expected)
    plain = sum(bin(int(a) ^ int(b)).count("1") for a, b in zip(packed[0], packed[1], strict=True))
    assert plain == expected[0, 1]


def test_oversampling_and_rescoring_binary_reaches_the_target_at_the_default_factor(local):
    k, oversample = parameters()["K"], parameters()["OVERSAMPLE"]
    exact = local @ local.T
    truth = top_k(exact, k)
    hamming = hamming_all(np.packbits(local >= local.mean(axis=0), axis=1))
    alone = recall_at_k(truth, top_k(-hamming, k))
    curve = [recall_at_k(truth, rescore(-hamming, exact, k, min(f * k, len(local) - 1))) for f in (1, 2, 4, 8, 16)]
    assert curve[0] == pytest.approx(alone)  # rescoring only K candidates just reorders them
    assert curve == sorted(curve)  # more candidates never hurt
    assert alone < 0.5  # binary alone is rough on this PCA-ordered model...
    assert recall_at_k(truth, rescore(-hamming, exact, k, min(oversample * k, len(local) - 1))) >= 0.95  # ...fixed


def test_rescoring_every_vector_is_exact_search():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(50, 48))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    exact = x @ x.T
    hamming = hamming_all(np.packbits(x >= x.mean(axis=0), axis=1))
    k = min(10, len(x) - 1)
    assert recall_at_k(top_k(exact, k), rescore(-hamming, exact, k, len(x) - 1)) == 1.0


def test_microsofts_reported_percentages_follow_from_the_reported_sizes():
    uncompressed, int8, binary = 1177.12, 298.519, 41.8636
    assert round((int8 - uncompressed) / uncompressed * 100, 2) == -74.64
    assert round((binary - uncompressed) / uncompressed * 100, 2) == -96.44
