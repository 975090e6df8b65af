"""Facts lesson 06 (dimension reduction) relies on, checked on the shipped models, the OpenAI reference
vectors and the paraphrase queries; and the lesson's handling of parameters and of a foreign file."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest

import embeddings_helper as eh
from run_notebooks import execute

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "06_dimension_reduction.ipynb"
K = 10
STATIC = eh.Provider("local", eh.STATIC_MODEL)


def truncate_rows(matrix, k):
    head = matrix[:, :k]
    return head / np.linalg.norm(head, axis=1, keepdims=True)


def unit(vectors):
    matrix = np.array(list(vectors.values()), dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def movie_matrix(model):
    return unit(eh.load_embeddings("movies", model=model))


def neighbours(matrix, k=K):
    scores = matrix @ matrix.T
    np.fill_diagonal(scores, -np.inf)
    return np.argpartition(-scores, k - 1, axis=1)[:, :k]


def recall(truth, found):
    return sum(len(set(t) & set(f)) for t, f in zip(truth.tolist(), found.tolist(), strict=True)) / truth.size


def first_against_random(matrix, w, draws=10, seed=0):
    """recall@K of the first w dimensions; mean and spread of the recall of random sets of w dimensions."""
    rng = np.random.default_rng(seed)
    truth = neighbours(matrix, min(K, len(matrix) - 1))
    k = truth.shape[1]
    first = recall(truth, neighbours(truncate_rows(matrix, w), k))
    shuffled = [matrix[:, rng.permutation(matrix.shape[1])] for _ in range(draws)]
    random = [recall(truth, neighbours(truncate_rows(m, w), k)) for m in shuffled]
    return first, np.mean(random), np.std(random)


@pytest.mark.parametrize("model", [eh.LOCAL_MODEL, eh.STATIC_MODEL, eh.MINILM_MODEL])
@pytest.mark.parametrize("k", [8, 64, 200])
def test_truncate_and_renormalize_gives_unit_vectors(model, k):
    short = truncate_rows(movie_matrix(model), k)
    assert short.shape[1] == k
    np.testing.assert_allclose(np.linalg.norm(short, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("k", [8, 64, 128, 255])
def test_the_static_model_shortened_at_generation_is_its_full_vector_truncated(k):
    texts = ["Toy Story", "千と千尋の神隠し", "a toddler-friendly movie about cats"]
    full = eh.embed(texts, provider=STATIC)
    short = eh.embed(texts, dimensions=k, provider=STATIC)
    assert short.shape == (3, k)
    np.testing.assert_allclose(short, truncate_rows(full, k), atol=1e-6)


def test_the_default_model_refuses_to_be_shortened():
    assert not eh.supports_dimensions(eh.LOCAL_MODEL) and eh.supports_dimensions(eh.STATIC_MODEL)
    with pytest.raises(ValueError, match="dimensions"):
        eh.embed("Toy Story", dimensions=64)


def test_the_cached_static_vectors_are_what_embed_makes():
    """So truncating stored vectors (storage time) equals asking for fewer dimensions (generation time)."""
    cached = eh.load_embeddings("movies", model=eh.STATIC_MODEL)
    texts = eh.dataset_texts("movies")
    keys = list(cached)[:5]
    made = eh.embed([texts[t] for t in keys], provider=STATIC)
    np.testing.assert_allclose(made, [cached[t] for t in keys], atol=1e-5)


def test_the_apis_short_vectors_are_the_long_ones_cut_and_renormalized():
    full, short = eh.load_reference("text-embedding-3-small", 1536), eh.load_reference("text-embedding-3-small", 256)
    assert list(full) == list(short)
    by_hand = truncate_rows(unit(full), 256)
    api = unit(short)
    assert np.abs(api - by_hand).max() < 2e-3  # small next to the numbers themselves ...
    assert np.abs(api).mean() > 20 * np.abs(api - by_hand).max()
    assert (api * by_hand).sum(axis=1).min() > 0.9999  # ... and the same direction for every title


def test_pca_ordered_dimensions_beat_random_ones_and_unordered_ones_do_not():
    static, default, minilm = (movie_matrix(m) for m in (eh.STATIC_MODEL, eh.LOCAL_MODEL, eh.MINILM_MODEL))
    for w in (8, 16, 32, 64, 128):
        first, mean, spread = first_against_random(static, w)
        assert first > mean + 0.1 and first > mean + 2 * spread, w
        for matrix in (default, minilm):
            first, mean, _ = first_against_random(matrix, w)
            assert abs(first - mean) < 0.05, w


@pytest.mark.parametrize("language", ["en", "es"])
def test_on_the_collection_with_held_out_queries_only_the_ordered_model_leads(language):
    """The deep dive's race on the large collection: the queries are held out, ground truth is the full
    vectors' exact top K, ties go to the lower row, and the static model's lead dwarfs the spread."""
    from embeddings_helper import benchmarks

    texts = eh.corpus.texts(language)
    stored, _, held = benchmarks.held_out(len(texts), len(texts) - 200, 100, seed=0)
    assert not set(stored) & set(held)
    rng = np.random.default_rng(0)
    for model, ordered in ((eh.STATIC_MODEL, True), (eh.LOCAL_MODEL, False)):
        vectors = eh.corpus.vectors(language, model)
        docs, queries = vectors[stored], vectors[held]
        truth = benchmarks.top_k(queries @ docs.T, K)
        for w in (16, 64):
            draws = [np.arange(w)] + [rng.permutation(docs.shape[1])[:w] for _ in range(4)]  # first, then random
            scores = (truncate_rows(queries[:, c], w) @ truncate_rows(docs[:, c], w).T for c in draws)
            found = [benchmarks.top_k(s, K) for s in scores]
            first, *random = (recall(truth, f) for f in found)
            if ordered:
                assert first > max(random) + 0.02 and first > 1.5 * np.mean(random), (model, w)
            else:
                assert abs(first - np.mean(random)) < 0.04, (model, w)


def test_on_the_reference_titles_mrl_dimensions_lead_random_ones_more_than_ada_002s():
    """Indicative only (62 titles): the lesson says so, and prints the spread of the random draws."""
    small, ada = unit(eh.load_reference("text-embedding-3-small")), unit(eh.load_reference("text-embedding-ada-002"))
    for w in (256, 512):
        lead_small = np.subtract(*first_against_random(small, w, draws=20)[:2])
        lead_ada = np.subtract(*first_against_random(ada, w, draws=20)[:2])
        assert lead_small > lead_ada, w


def share_of_variance(matrix, w):
    variance = matrix.var(axis=0)
    return variance[:w].sum() / variance.sum()


def test_ordered_models_hold_more_than_their_share_of_variance_in_front():
    """The lesson's variance table: PCA order and MRL training front-load the variance; unordered models
    hold about w / d of it in their first w dimensions."""
    static, default = movie_matrix(eh.STATIC_MODEL), movie_matrix(eh.LOCAL_MODEL)
    small, ada = unit(eh.load_reference("text-embedding-3-small")), unit(eh.load_reference("text-embedding-ada-002"))
    assert share_of_variance(static, 64) > 2 * 64 / 256
    assert abs(share_of_variance(default, 64) - 64 / 512) < 0.02
    assert abs(share_of_variance(ada, 512) - 512 / 1536) < 0.02
    assert share_of_variance(small, 512) > 512 / 1536 + 0.08  # mild, but well beyond ada-002's


def test_paraphrase_queries_survive_a_cut_better_than_exact_neighbours():
    """hit@K on the paraphrase queries stays high at widths where recall of the full vectors' neighbours fell."""
    cached = eh.load_embeddings("movies")
    titles, matrix = list(cached), unit(cached)
    with open(eh.DATA_DIR / "movie_queries.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    queries = eh.embed([r["query"] for r in rows])
    targets = [titles.index(r["title"]) for r in rows]
    for w in (128, 256):
        top = np.argpartition(-(truncate_rows(queries, w) @ truncate_rows(matrix, w).T), K - 1, axis=1)[:, :K]
        hit = np.mean([t in row for t, row in zip(targets, top, strict=True)])
        self_recall = recall(neighbours(matrix), neighbours(truncate_rows(matrix, w)))
        assert hit >= 0.9 and hit > self_recall + 0.2, w


def test_one_int8_range_per_dimension_loses_less_than_one_range_for_all():
    small = truncate_rows(movie_matrix(eh.STATIC_MODEL), 64)

    def error(low, high):
        step = np.maximum(high - low, 1e-12) / 255
        codes = np.clip(np.round((small - low) / step), 0, 255)
        return np.abs(low + codes * step - small).mean()

    assert error(small.min(axis=0), small.max(axis=0)) < error(small.min(), small.max())


def test_int8_min_max_error_is_at_most_half_a_step():
    small = truncate_rows(movie_matrix(eh.STATIC_MODEL), 64)
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
    full = movie_matrix(eh.STATIC_MODEL)
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


# ------------------------------------------------------------- parameters that do not fit, a foreign file

READ_BACK = (
    "import json\nprint(json.dumps({'K': K, 'KEEP': KEEP, 'OVERSAMPLE': OVERSAMPLE, 'TITLE': TITLE, "
    "'widths': widths, 'n': n, 'demo': demo_name, 'hits': len(hits), 'N_QUERIES': N_QUERIES, 'races': list(races), "
    "'combos': combos[['dimensions', 'index', 'recall@' + str(K)]].values.tolist(), "
    "'tie': search(np.zeros((1, 6)), np.zeros((1, 6)), 2, np.array([0]), 4).tolist()}))"
)


def run(parameters):
    nb, _ = execute(NOTEBOOK, parameters, append=READ_BACK)
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    return json.loads(nb.cells[-1].outputs[0]["text"]), text


def stable_top(scores, k):
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def test_out_of_range_knobs_are_lowered_with_a_note(offline):
    values, text = run({"K": 1000, "OVERSAMPLE": 1000, "TITLE": "moana", "WIDTHS": [64, 8, 8], "KEEP": 1000,
                        "N_QUERIES": 10**6, "COLLECTION": "ES"})
    assert values["K"] == values["n"] - 1 and "K = 1000" in text
    assert values["OVERSAMPLE"] == 1 and "OVERSAMPLE = 1000" in text
    assert values["TITLE"] == "Moana"
    assert values["widths"] == [8, 64]
    width = eh.NATIVE_DIMENSIONS[eh.STATIC_MODEL]  # the default model cannot be cut: the demos use the static one
    assert values["demo"] == eh.STATIC_MODEL and values["KEEP"] == width - 1 and "KEEP = 1000" in text
    assert "does not accept dimensions=" in text  # the helper's refusal is shown
    assert values["hits"] > 0  # the paraphrase queries ran
    assert values["tie"] == [[1, 2]]  # equal scores: the lowest ids, the query itself left out
    assert values["N_QUERIES"] == len(eh.corpus.texts("es")) // 4 and "N_QUERIES = 1000000" in text
    assert "held-out queries in 'es'" in text  # the collection's name is forgiven its capitals
    assert [name.split(" (")[0] for name in values["races"]] == [
        eh.STATIC_MODEL, eh.LOCAL_MODEL, "text-embedding-3-small", "text-embedding-ada-002"]


@pytest.mark.parametrize("parameters, message", [({"OVERSAMPLE": 0}, "OVERSAMPLE must be at least 1, not 0"),
                                                ({"COLLECTION": "fr"}, "COLLECTION = 'fr' is not in the data")])
def test_a_value_that_cannot_be_used_stops_with_one_sentence(offline, parameters, message):
    with pytest.raises(Exception, match=message):
        run(parameters)


def test_a_foreign_file_is_spoken_of_as_a_file_and_its_index_recall_repeats(offline, tmp_path):
    rng = np.random.default_rng(3)
    titles = ["Le Voyage dans la Lune", "Ça tourne"] + [f"Film {i}" for i in range(40)]
    vectors = {t: rng.normal(size=24).round(4).tolist() for t in titles}
    path = tmp_path / "public.json"
    path.write_text(json.dumps(vectors), encoding="utf-8")
    values, text = run({"EMBEDDINGS": str(path), "KEEP": 12, "WIDTHS": []})
    assert values["KEEP"] == 12 and values["widths"] == [] and values["n"] == len(titles)
    assert values["demo"] == "your file" and values["hits"] == 0
    assert values["races"][2] == f"your file ({len(titles)})"  # the file races on its own items
    assert f"Vectors from the file {path}" in text and "hit@K is skipped" in text
    assert eh.LOCAL_MODEL not in text.split("\n", 3)[0]  # the setup names the file, not the active model
    # binary + rescore, ties among the bit counts broken by id: the notebook's recall is this one, on every run
    full = unit(vectors)
    everyone = np.arange(len(full))
    exact = full @ full.T
    np.fill_diagonal(exact, -np.inf)
    truth = stable_top(exact, K)
    for w, index, found in values["combos"]:
        if index != "binary + rescore":
            continue
        small = truncate_rows(full, w)
        bits = np.where(small > small.mean(axis=0), 1.0, -1.0)
        approx = bits @ bits.T
        approx[everyone, everyone] = -np.inf
        pool = stable_top(approx, 4 * K)
        best = stable_top(np.take_along_axis(exact, pool, axis=1), K)
        assert found == pytest.approx(recall(truth, np.take_along_axis(pool, best, axis=1))), w
