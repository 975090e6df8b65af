"""Cached embeddings: shipped files match their data, both file formats load, writes are atomic,
bad files are named, and a dataset is embedded (and resumed) when a provider has no cache yet."""

import json
import math

import numpy as np
import pytest

import embeddings_helper as eh
from conftest import LIVE_MODEL, fake_vector

SHIPPED = sorted(eh.EMBEDDINGS_DIR.glob("*.json"))


def test_the_shipped_caches_are_the_two_models_for_both_datasets():
    names = {p.name for p in SHIPPED}
    for dataset in eh.DATASETS:
        assert eh.cache_path(dataset, eh.LOCAL_MODEL).name in names
        assert eh.cache_path(dataset, eh.MINILM_MODEL).name in names


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_cache_matches_its_dataset(path):
    raw = json.loads(path.read_text())
    for field in ("dataset", "model", "provider", "dimensions", "text", "created", "texts_sha256"):
        assert raw[field], field
    assert raw["complete"] is True
    texts = eh.dataset_texts(raw["dataset"])
    assert list(raw["embeddings"]) == list(texts)  # same keys, same order as the CSV
    assert raw["texts_sha256"] == eh.caches._texts_sha256(texts), "data changed: rebuild with scripts/build_cache.py"
    m = np.array(list(raw["embeddings"].values()))
    assert m.shape == (len(texts), raw["dimensions"])
    assert np.isfinite(m).all()
    np.testing.assert_allclose(np.linalg.norm(m, axis=1), 1.0, atol=1e-4)


@pytest.mark.parametrize("dataset", list(eh.DATASETS))
def test_local_caches_are_what_the_local_model_computes(dataset):
    cached = eh.load_embeddings(dataset)
    texts = eh.dataset_texts(dataset)
    fresh = eh.embed(list(texts.values()))
    np.testing.assert_allclose(np.array(list(cached.values())), fresh, atol=1e-5)


def test_the_two_models_are_genuinely_different_spaces():
    local = eh.load_embeddings("words")
    minilm = eh.load_embeddings("words", model=eh.MINILM_MODEL)
    assert (local.dimensions, minilm.dimensions) == (512, 384)
    assert minilm.info["model"] == eh.MINILM_MODEL and minilm.info["provider"] == "sentence-transformers"

    def neighbours(vectors, word):
        keys = list(vectors)
        m = np.array(list(vectors.values()))
        return [keys[i] for i in np.argsort(-(m @ m[keys.index(word)]))[1:11]]

    shared = set(neighbours(local, "dog")) & set(neighbours(minilm, "dog"))
    print(f"{eh.LOCAL_MODEL} and {eh.MINILM_MODEL} share {len(shared)} of the 10 nearest words to 'dog'")
    assert len(shared) <= 5


def test_load_movies_offline_gives_unit_vectors_of_one_width():
    movies = eh.load_embeddings("movies")
    assert len(movies) >= 150
    widths = {len(v) for v in movies.values()}
    assert widths == {512}
    assert all(abs(math.hypot(*v) - 1) < 1e-4 for v in movies.values())
    assert movies.info["model"] == eh.LOCAL_MODEL


def test_plain_public_format_loads(tmp_path):
    path = tmp_path / "public.json"
    path.write_text(json.dumps({"Café Noir": [3.0, 4.0], "Zoë": [0.1, -0.2]}, ensure_ascii=False), encoding="utf-8")
    vectors = eh.load_embeddings(path)
    assert vectors == {"Café Noir": [3.0, 4.0], "Zoë": [0.1, -0.2]}  # as stored: not normalized behind your back
    assert vectors.dimensions == 2 and vectors.info["model"] is None
    assert eh.load_embeddings(str(path)) == vectors


def test_project_format_loads_from_a_path():
    path = eh.cache_path("movies", eh.LOCAL_MODEL)
    vectors = eh.load_embeddings(path)
    assert vectors.info["model"] == eh.LOCAL_MODEL and len(vectors) == len(eh.dataset_texts("movies"))


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2, 3]", "JSON object"),
        ("{}", "no vectors"),
        ('{"a": [1, 2], "b": [1]}', "same width"),
        ('{"a": "text"}', "not a list of numbers"),
        ('{"a": [1, true]}', "not a list of numbers"),
        ('{"a": [1, NaN]}', "NaN"),
    ],
)
def test_malformed_file_is_named(tmp_path, content, words):
    path = tmp_path / "broken.json"
    path.write_text(content)
    with pytest.raises(eh.CacheError, match=words) as err:
        eh.load_embeddings(path)
    assert str(path) in str(err.value)


def test_missing_file_says_what_is_accepted():
    with pytest.raises(eh.CacheError, match="'movies' or 'words'"):
        eh.load_embeddings("no/such/file.json")


def test_no_cache_for_another_model_lists_what_exists():
    with pytest.raises(eh.CacheError) as err:
        eh.load_embeddings("movies", model="text-embedding-ada-002")
    assert "movies__use-multilingual-v3.json" in str(err.value) and "build_cache.py" in str(err.value)


def test_atomic_write_keeps_the_old_file_when_a_write_crashes(tmp_path, monkeypatch):
    path = tmp_path / "cache.json"
    eh.storage.write_json_atomic(path, {"a": [1.0]})

    def crash(obj, f, **kwargs):
        f.write('{"a": [2.0, ')  # half written
        raise KeyboardInterrupt

    monkeypatch.setattr(eh.storage.json, "dump", crash)
    with pytest.raises(KeyboardInterrupt):
        eh.storage.write_json_atomic(path, {"a": [2.0, 3.0]})
    assert json.loads(path.read_text()) == {"a": [1.0]}
    assert [p.name for p in tmp_path.iterdir()] == ["cache.json"]  # no temporary file left behind


def embedded_texts(server):
    return [t for r in server.requests for t in r["body"]["input"]]


def test_first_load_embeds_the_dataset_once_and_saves_it(live):
    words = eh.load_embeddings("words")
    texts = eh.dataset_texts("words")
    assert list(words) == list(texts) and words.dimensions == live.width
    assert sorted(embedded_texts(live)) == sorted(texts.values())
    assert len(live.requests) == 1  # 690 short words fit in one request
    path = eh.cache_path("words", LIVE_MODEL)
    meta = json.loads(path.read_text())
    assert (meta["model"], meta["provider"], meta["complete"]) == (LIVE_MODEL, "openai", True)
    assert not path.with_name(path.name + ".partial").exists()
    v = np.array(fake_vector("dog", live.width))
    np.testing.assert_allclose(words["dog"], v / np.linalg.norm(v), atol=1e-6)

    live.requests.clear()
    assert eh.load_embeddings("words") == words
    assert live.requests == []  # the second time comes from the cache


def test_a_cache_of_another_model_is_never_overwritten(live):
    path = eh.cache_path("words", LIVE_MODEL)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"model": "someone-else", "embeddings": {"dog": [1.0, 0.0]}}))
    before = path.read_text()
    with pytest.raises(eh.CacheError, match="someone-else"):
        eh.load_embeddings("words")
    with pytest.raises(eh.CacheError, match="someone-else"):
        eh.build_cache("words")
    with pytest.raises(eh.CacheError, match="someone-else"):
        eh.build_cache("words", force=True)
    assert path.read_text() == before


def test_shortened_vectors_get_their_own_cache(live):
    short = eh.build_cache("movies", dimensions=32)
    assert short.dimensions == 32
    assert eh.cache_path("movies", LIVE_MODEL, 32).name == f"movies__{LIVE_MODEL}__32d.json"
    assert eh.cache_path("movies", LIVE_MODEL, 32).exists()
    assert not eh.cache_path("movies", LIVE_MODEL).exists()


def test_query_must_match_the_embeddings(tmp_path):
    movies = eh.load_embeddings("movies")
    q = eh.embed_query("a toddler-friendly movie about cats", movies)
    assert q.shape == (512,)
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({"A": [0.1] * 300, "B": [0.2] * 300}))
    with pytest.raises(eh.DimensionMismatchError, match="300"):
        eh.embed_query("cats", eh.load_embeddings(foreign))
    with pytest.raises(eh.DimensionMismatchError, match="all-MiniLM-L6-v2"):
        eh.embed_query("cats", eh.load_embeddings("movies", model=eh.MINILM_MODEL))
