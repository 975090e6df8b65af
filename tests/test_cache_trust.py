"""A cache is used only when it matches: one vector per row of its dataset (no more, no fewer, whatever
its "complete" flag says), vectors of the model's width, finite and not zero. Otherwise it is completed
(only what is missing is embedded) when a provider can do it, or named with its fix when none can.
load_embeddings(..., force=True) rebuilds, as the messages say."""

import json

import numpy as np
import pytest

import embeddings_helper as eh
from conftest import LIVE_MODEL

REAL_SHIPPED_DIR = eh.SHIPPED_DIR
SHIPPED = sorted(REAL_SHIPPED_DIR.glob("*.json"))


def sent_texts(server):
    return [t for r in server.requests for t in r["body"]["input"]]


def rewrite(path, change):
    """Edit a cache file in place, as a crash, a bad copy or a hand edit would."""
    raw = json.loads(path.read_text())
    change(raw)
    path.write_text(json.dumps(raw))


def keep_first_half(raw):
    keys = list(raw["embeddings"])
    raw["embeddings"] = {k: raw["embeddings"][k] for k in keys[: len(keys) // 2]}
    if "text_hashes" in raw:  # the shipped caches have none: their texts_sha256 covers every row
        raw["text_hashes"] = {k: raw["text_hashes"][k] for k in raw["embeddings"]}
    # "complete" (and "count", where recorded) are left as they were


@pytest.fixture
def caches_in(monkeypatch, tmp_path):
    """Shipped caches and built caches both in a temporary folder: the repository's files are never touched."""
    folder = tmp_path / "embeddings"
    folder.mkdir()
    monkeypatch.setattr(eh.caches, "EMBEDDINGS_DIR", folder)
    monkeypatch.setattr(eh.caches, "SHIPPED_DIR", folder)
    return folder


@pytest.fixture
def spanish(monkeypatch, tmp_path):
    """The kernel of a Spanish lesson runs in notebooks/es/."""
    folder = tmp_path / "notebooks" / "es"
    folder.mkdir(parents=True)
    monkeypatch.chdir(folder)
    assert eh.config.lesson_language() == "es"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_cache_passes_the_checks_it_is_loaded_with(path):
    cached = eh.storage.read_embeddings_file(path, "")
    dataset, model = cached.info["dataset"], cached.info["model"]
    texts = eh.dataset_texts(dataset)
    assert eh.caches._mismatch(cached, texts, eh.caches._native_width(model), dataset) is None
    assert eh.caches._native_width(model) == cached.dimensions  # the width its model makes


# ---------------------------------------------------------------- rows missing, "complete" all the same


def test_a_complete_cache_missing_half_its_rows_is_completed_with_only_the_missing_rows(live, capsys):
    first = eh.load_embeddings("words")
    path = eh.cache_path("words", LIVE_MODEL)
    rewrite(path, keep_first_half)
    assert json.loads(path.read_text())["complete"] is True
    texts = eh.dataset_texts("words")
    kept = list(texts)[: len(texts) // 2]
    live.requests.clear()
    words = eh.load_embeddings("words")
    assert sorted(sent_texts(live)) == sorted(texts[k] for k in list(texts)[len(kept) :])
    assert list(words) == list(texts) and words == first
    assert f"holds {len(kept)} of the {len(texts)} rows of data/words.csv" in capsys.readouterr().err
    assert len(json.loads(path.read_text())["embeddings"]) == len(texts)  # the file is whole again
    live.requests.clear()
    assert eh.load_embeddings("words") == first and live.requests == []


def test_a_complete_cache_missing_rows_is_completed_by_the_local_model(caches_in, monkeypatch):
    """The issue's case: 139 of 278 movies, marked complete. In-process, only the 139 missing are embedded."""
    path = caches_in / eh.cache_path("movies", eh.LOCAL_MODEL).name
    shipped = eh.storage.read_embeddings_file(REAL_SHIPPED_DIR / path.name, "")
    path.write_text((REAL_SHIPPED_DIR / path.name).read_text())
    rewrite(path, keep_first_half)
    embedded = []
    real = eh.caches._embed

    def spy(p, texts, *args, **kwargs):
        embedded.extend(texts)
        return real(p, texts, *args, **kwargs)

    monkeypatch.setattr(eh.caches, "_embed", spy)
    movies = eh.load_embeddings("movies")
    texts = eh.dataset_texts("movies")
    assert len(texts) == 278 and len(embedded) == 139
    assert embedded == [texts[k] for k in list(texts)[139:]]
    assert list(movies) == list(texts)
    for key in list(texts)[:139]:
        assert movies[key] == shipped[key]  # reused as they were
    np.testing.assert_allclose(np.array(list(movies.values())), np.array(list(shipped.values())), atol=1e-5)


def test_a_complete_cache_missing_rows_that_cannot_be_rebuilt_is_named_with_its_fix(caches_in):
    """all-MiniLM-L6-v2 is never the active provider's model: its truncated cache cannot be completed here."""
    path = caches_in / eh.cache_path("movies", eh.MINILM_MODEL).name
    path.write_text((REAL_SHIPPED_DIR / path.name).read_text())
    rewrite(path, keep_first_half)
    with pytest.raises(eh.CacheError) as err:
        eh.load_embeddings("movies", model=eh.MINILM_MODEL)
    message = str(err.value)
    assert str(path) in message
    assert "holds 139 of the 278 rows of data/movies.csv" in message
    assert "git checkout --" in message and "scripts/build_cache.py" in message


def test_a_project_cache_loaded_by_path_must_hold_every_row_it_claims(tmp_path):
    path = tmp_path / eh.cache_path("movies", eh.LOCAL_MODEL).name
    path.write_text((REAL_SHIPPED_DIR / path.name).read_text())
    assert len(eh.load_embeddings(path)) == 278
    rewrite(path, keep_first_half)
    with pytest.raises(eh.CacheError, match="holds 139 of the 278 rows") as err:
        eh.load_embeddings(path)
    assert str(path) in str(err.value)


def test_a_cache_loaded_by_path_after_a_csv_edit_is_read_as_it_was_made(monkeypatch):
    texts = dict(eh.dataset_texts("movies"))
    texts["A New Film"] = "A New Film (2030): not embedded yet."
    monkeypatch.setattr(eh.caches, "dataset_texts", lambda name: texts)
    movies = eh.load_embeddings(REAL_SHIPPED_DIR / eh.cache_path("movies", eh.LOCAL_MODEL).name)
    assert len(movies) == 278 and "A New Film" not in movies  # asked for by name: made from the older CSV


def test_a_cache_whose_count_disagrees_with_its_rows_is_not_trusted(live):
    eh.load_embeddings("words")
    path = eh.cache_path("words", LIVE_MODEL)
    rewrite(path, lambda raw: raw.update(count=raw["count"] + 5))
    with pytest.raises(eh.CacheError, match=f"records {len(eh.dataset_texts('words')) + 5} rows but holds"):
        eh.load_embeddings(path)


def test_a_cache_with_rows_the_dataset_does_not_have_is_not_trusted(live):
    eh.load_embeddings("words")
    path = eh.cache_path("words", LIVE_MODEL)
    rewrite(path, lambda raw: raw["embeddings"].update(zeppelin=raw["embeddings"]["dog"]))
    live.requests.clear()
    words = eh.load_embeddings("words")  # the extra row is dropped, nothing needs embedding
    assert "zeppelin" not in words and live.requests == []
    assert "zeppelin" not in json.loads(path.read_text())["embeddings"]


# ---------------------------------------------------------------- width


def test_a_file_whose_vectors_are_narrower_than_it_records_is_refused(caches_in):
    path = eh.cache_path("words", "text-embedding-3-small")
    texts = eh.dataset_texts("words")
    vectors = {k: [0.1] * 300 for k in texts}
    eh.storage.write_json_atomic(
        path,
        {"dataset": "words", "model": "text-embedding-3-small", "dimensions": 1536, "complete": True,
         "texts_sha256": eh.caches._texts_sha256(texts), "embeddings": vectors},
    )  # fmt: skip
    with pytest.raises(eh.CacheError, match="says its vectors have 1536 dimensions, but they have 300") as err:
        eh.load_embeddings("words", model="text-embedding-3-small")
    assert str(path) in str(err.value) and "load_embeddings('words', force=True)" in str(err.value)


def write_300_wide(path, dataset, model):
    texts = eh.dataset_texts(dataset)
    eh.storage.write_json_atomic(
        path,
        {"dataset": dataset, "model": model, "dimensions": 300, "complete": True, "count": len(texts),
         "texts_sha256": eh.caches._texts_sha256(texts), "embeddings": {k: [0.1] * 300 for k in texts}},
    )  # fmt: skip


def test_vectors_of_another_width_than_the_model_makes_are_not_trusted(caches_in):
    path = eh.cache_path("words", "text-embedding-3-small")
    write_300_wide(path, "words", "text-embedding-3-small")
    with pytest.raises(eh.CacheError) as err:
        eh.load_embeddings("words", model="text-embedding-3-small")
    message = str(err.value)
    assert str(path) in message
    assert "holds 300-dimensional vectors, but text-embedding-3-small makes 1536-dimensional ones" in message


def test_vectors_of_another_width_are_rebuilt_when_the_provider_is_active(caches_in, server, monkeypatch):
    texts = eh.dataset_texts("movies")
    path = eh.cache_path("movies", "text-embedding-3-small")
    write_300_wide(path, "movies", "text-embedding-3-small")
    for name, value in {"API_HOST": "openai", "OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.url + "/v1"}.items():
        monkeypatch.setenv(name, value)
    movies = eh.load_embeddings("movies")
    assert movies.dimensions == 1536 and list(movies) == list(texts)
    assert sorted(sent_texts(server)) == sorted(texts.values())  # none of the 300-wide rows was reused
    assert json.loads(path.read_text())["dimensions"] == 1536


def test_a_provider_that_changed_width_is_fixed_with_load_embeddings_force(live):
    path = eh.cache_path("words", LIVE_MODEL)
    texts = eh.dataset_texts("words")
    unfinished = {k: [1.0] + [0.0] * 31 for k in list(texts)[:100]}  # 32 wide; the server now returns 64
    eh.storage.write_json_atomic(
        path,
        {"model": LIVE_MODEL, "complete": False, "texts_sha256": eh.caches._texts_sha256(texts),
         "embeddings": unfinished},
    )  # fmt: skip
    with pytest.raises(eh.CacheError, match=r"rebuild it with load_embeddings\('words', force=True\)"):
        eh.load_embeddings("words")
    words = eh.load_embeddings("words", force=True)  # what the message says works
    assert words.dimensions == live.width and list(words) == list(texts)


# ---------------------------------------------------------------- zero vectors, force


def test_a_cache_with_a_vector_of_zeros_is_refused_and_force_rebuilds_it(live):
    eh.load_embeddings("words")
    path = eh.cache_path("words", LIVE_MODEL)
    rewrite(path, lambda raw: raw["embeddings"].update(dog=[0.0] * live.width))
    with pytest.raises(eh.CacheError, match="the vector for 'dog' is all zeros") as err:
        eh.load_embeddings("words")
    assert str(path) in str(err.value) and "load_embeddings('words', force=True)" in str(err.value)
    with pytest.raises(eh.CacheError, match="all zeros"):
        eh.build_cache("words")  # nor is it reused by a build
    live.requests.clear()
    words = eh.load_embeddings("words", force=True)
    assert sorted(sent_texts(live)) == sorted(eh.dataset_texts("words").values())
    assert any(words["dog"])
    assert eh.load_embeddings("words") == words


def test_force_never_replaces_a_file_of_another_model_even_a_broken_one(live):
    path = eh.cache_path("words", LIVE_MODEL)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"model": "someone-else", "embeddings": {"dog": [0.0, 0.0]}}))
    before = path.read_text()
    with pytest.raises(eh.CacheError, match="someone-else"):
        eh.load_embeddings("words", force=True)
    assert path.read_text() == before and live.requests == []


def test_force_is_refused_where_it_cannot_rebuild(tmp_path):
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({"A": [0.1, 0.2]}))
    with pytest.raises(ValueError, match="a file given by its path is read as it is: leave force out"):
        eh.load_embeddings(foreign, force=True)
    with pytest.raises(eh.CacheError, match="force=True embeds movies again with the active provider, but"):
        eh.load_embeddings("movies", model=eh.MINILM_MODEL, force=True)


@pytest.mark.parametrize(
    ("vectors", "words"),
    [
        ({"A": [0.0, 0.0], "B": [0.1, 0.2]}, "the vector for 'A' is all zeros"),
        ({"A": [0.1, 0.2], "B": [1e999, 0.2]}, "the vector for 'B' contains NaN or infinity"),
        ({"A": [0.1, 0.2], "B": [0.3]}, "'B' has 1 numbers but the first vector has 2"),
        ({"A": [0.1, 0.2], "B": [10**400, 1]}, "the vector for 'B' contains NaN or infinity"),
        ({"A": [0.1, 0.2], "B": []}, "the value for 'B' is not a list of numbers"),
        ({"A": [0.1, 0.2], "B": [0.1, False]}, "the value for 'B' is not a list of numbers"),
    ],
    ids=["zeros", "infinity", "ragged", "huge-integer", "empty", "boolean"],
)
def test_a_foreign_file_by_path_is_checked_without_a_dataset(tmp_path, vectors, words):
    path = tmp_path / "foreign.json"
    path.write_text(json.dumps(vectors).replace("Infinity", "1e999"))
    with pytest.raises(eh.CacheError, match=words) as err:
        eh.load_embeddings(path)
    assert str(path) in str(err.value)


# ---------------------------------------------------------------- checked before saved


def test_a_cache_is_checked_before_it_is_saved(caches_in, monkeypatch):
    def broken_model(p, texts, *args, **kwargs):  # a local model that returns an infinite vector
        matrix = np.full((len(texts), 512), 0.05, np.float32)
        matrix[3, 0] = np.inf
        return matrix

    monkeypatch.setattr(eh.caches, "_embed", broken_model)
    with pytest.raises(eh.CacheError, match="was not saved, because .*NaN or infinity.* Nothing was lost"):
        eh.load_embeddings("words")
    assert list(caches_in.iterdir()) == []


# ---------------------------------------------------------------- in Spanish


def test_the_new_messages_speak_spanish_in_a_spanish_lesson(caches_in, spanish, tmp_path):
    foreign = tmp_path / "ajeno.json"
    foreign.write_text(json.dumps({"A": [0.0, 0.0]}))
    with pytest.raises(eh.CacheError, match="el vector de 'A' es todo ceros: no tiene dirección"):
        eh.load_embeddings(foreign)
    path = caches_in / eh.cache_path("peliculas", eh.MINILM_MODEL).name
    path.write_text((REAL_SHIPPED_DIR / path.name).read_text())
    rewrite(path, keep_first_half)
    with pytest.raises(eh.CacheError, match="contiene 139 de las 278 filas de data/peliculas.csv .*restáuralo con"):
        eh.load_embeddings("peliculas", model=eh.MINILM_MODEL)
    with pytest.raises(ValueError, match="un archivo dado por su ruta se lee tal cual"):
        eh.load_embeddings(foreign, force=True)


def test_a_width_change_is_explained_in_spanish(live, spanish):
    path = eh.cache_path("words", LIVE_MODEL)
    texts = eh.dataset_texts("words")
    eh.storage.write_json_atomic(
        path, {"model": LIVE_MODEL, "complete": False, "embeddings": {k: [1.0] * 32 for k in list(texts)[:10]},
               "texts_sha256": eh.caches._texts_sha256(texts)},
    )  # fmt: skip
    with pytest.raises(eh.CacheError, match=r"reconstrúyelo con load_embeddings\('words', force=True\)"):
        eh.load_embeddings("words")


def test_a_models_width_is_known_with_or_without_its_publisher_prefix():
    assert eh.caches._native_width("text-embedding-3-small") == 1536
    assert eh.caches._native_width("openai/text-embedding-3-small") == 1536  # a provider-prefixed name
    assert eh.caches._native_width("my-azure-deployment") is None  # unknown: not checked, not guessed
