"""Caches that never lose work: bad answers are never saved, a build is staged and replaces the cache
only when complete, unchanged rows are reused, two builds do not race, and a read-only folder or a
full disk leaves the vectors in memory with a warning."""

import errno
import json
import shutil
import subprocess
import threading
import time

import numpy as np
import pytest

import embeddings_helper as eh
from conftest import LIVE_MODEL, openai_provider


def sent_texts(server):
    return [t for r in server.requests for t in r["body"]["input"]]


def fail_on_request(monkeypatch, n):
    """Make the n-th request of the helper fail, as a network loss would; return the real function."""
    real, calls = eh.remote.request_vectors, {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == n:
            raise eh.ProviderError("Simulated network loss.")
        return real(*args, **kwargs)

    monkeypatch.setattr(eh.remote, "request_vectors", flaky)
    return real


def test_an_interrupted_build_keeps_its_progress_and_resumes(live, monkeypatch):
    real = fail_on_request(monkeypatch, 3)
    with pytest.raises(eh.ProviderError, match="The 400 vectors made so far are kept: run it again to continue"):
        eh.build_cache("words", batch_size=200)
    path = eh.cache_path("words", LIVE_MODEL)
    staging = path.with_name(path.name + ".partial")
    assert not path.exists()  # the cache appears only when complete
    progress = json.loads(staging.read_text())
    assert (progress["complete"], progress["count"]) == (False, 400)

    monkeypatch.setattr(eh.remote, "request_vectors", real)  # the network is back
    live.requests.clear()
    words = eh.build_cache("words", batch_size=200)
    texts = eh.dataset_texts("words")
    assert len(words) == len(texts) and words.info["complete"]
    assert sorted(sent_texts(live)) == sorted(texts[k] for k in list(texts)[400:])  # only what was missing
    assert path.exists() and not staging.exists()


def test_a_failed_rebuild_never_replaces_a_complete_cache(live, monkeypatch):
    eh.build_cache("words")
    path = eh.cache_path("words", LIVE_MODEL)
    before = path.read_bytes()
    fail_on_request(monkeypatch, 2)
    with pytest.raises(eh.ProviderError, match="Simulated network loss"):
        eh.build_cache("words", force=True, batch_size=200)
    assert path.read_bytes() == before
    live.requests.clear()
    assert len(eh.load_embeddings("words")) == len(eh.dataset_texts("words"))
    assert live.requests == []  # and it still loads, complete, without a request


def test_after_a_csv_edit_only_the_changed_rows_are_embedded_again(live, monkeypatch):
    first = eh.load_embeddings("words")
    texts = dict(eh.dataset_texts("words"))
    texts["dog"] = "dog (the animal)"  # an edited row
    texts["zeppelin"] = "zeppelin"  # a new row
    del texts["cat"]  # a removed row
    monkeypatch.setattr(eh.caches, "dataset_texts", lambda name: texts)
    live.requests.clear()
    second = eh.load_embeddings("words")
    assert sorted(sent_texts(live)) == ["dog (the animal)", "zeppelin"]
    assert list(second) == list(texts) and second.info["complete"]
    assert second["house"] == first["house"] and second["dog"] != first["dog"]


def test_a_legacy_partial_cache_is_resumed(live):
    texts = eh.dataset_texts("words")
    keys = list(texts)[:100]
    path = eh.cache_path("words", LIVE_MODEL)
    eh.storage.write_json_atomic(
        path,
        {"model": LIVE_MODEL, "complete": False, "texts_sha256": eh.caches._texts_sha256(texts),
         "embeddings": {k: [1.0] + [0.0] * 63 for k in keys}},
    )  # fmt: skip
    words = eh.load_embeddings("words")
    assert len(sent_texts(live)) == len(texts) - 100
    assert words[keys[0]] == [1.0] + [0.0] * 63


SPOILED = {
    "NaN": (lambda v: [[float("nan")] + v[0][1:]] + v[1:], "NaN"),
    "infinity": (lambda v: v[:1] + [[float("inf")] + v[1][1:]] + v[2:], "infinity"),
    "zeros": (lambda v: v[:2] + [[0.0] * len(v[2])] + v[3:], "vector of zeros for text 2"),
    "ragged": (lambda v: v[:3] + [v[3][:-1]] + v[4:], "different widths"),
    "strings": (lambda v: [["0.1"] * len(v[0])] + v[1:], "other than numbers"),
}


@pytest.mark.parametrize("spoil", list(SPOILED), ids=str)
def test_a_bad_answer_is_never_cached(live, spoil):
    path = eh.cache_path("words", LIVE_MODEL)
    eh.build_cache("words")
    before = path.read_bytes()
    live.transform, words = SPOILED[spoil]
    with pytest.raises(eh.ProviderError, match=words):
        eh.build_cache("words", force=True)
    assert path.read_bytes() == before
    assert not path.with_name(path.name + ".partial").exists()
    with pytest.raises(eh.ProviderError, match=words):
        eh.embed(["dog", "cat", "bird", "fish"])


def test_a_server_that_ignores_dimensions_is_caught(live):
    live.ignore_dimensions = True
    with pytest.raises(eh.ProviderError, match="asked for 32 dimensions but returned 64: it ignores dimensions="):
        eh.build_cache("words", dimensions=32)
    assert not eh.cache_path("words", LIVE_MODEL, 32).exists()


def test_a_width_other_than_the_models_is_caught(server):
    server.width = 768  # not text-embedding-3-small's 1536: the server runs another model
    with pytest.raises(eh.ProviderError, match="text-embedding-3-small makes 1536-dimensional vectors, but the an"):
        eh.embed("hello", provider=openai_provider(server))


def test_two_builds_at_once_send_the_requests_once(live):
    """Two notebooks opened together: the second waits for the first and reads its cache."""
    live.transform = lambda vectors: time.sleep(1) or vectors  # a slow server, so that the builds overlap
    results, errors = [], []

    def load():
        try:
            results.append(eh.load_embeddings("words"))
        except Exception as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=load) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(live.requests) == 1
    assert results[0] == results[1] and results[0].info["complete"]


@pytest.mark.parametrize("error", [errno.EROFS, errno.ENOSPC], ids=["read-only", "disk-full"])
def test_when_nothing_can_be_written_the_vectors_stay_in_memory(live, monkeypatch, error):
    def cannot_write(path, payload):
        raise OSError(error, "Simulated: " + errno.errorcode[error])

    monkeypatch.setattr(eh.caches, "write_json_atomic", cannot_write)
    with pytest.warns(eh.CacheWarning, match="kept in memory for this session only.*EMBEDDINGS_CACHE_DIR"):
        words = eh.load_embeddings("words")
    assert len(words) == len(eh.dataset_texts("words")) and words.info["path"] is None
    live.requests.clear()
    assert eh.load_embeddings("words") == words
    assert live.requests == []  # not embedded again in the same session


def test_a_stale_local_cache_in_a_read_only_checkout_is_rebuilt_in_memory(monkeypatch, tmp_path):
    monkeypatch.setattr(eh.caches, "EMBEDDINGS_DIR", tmp_path)  # never write into the repository here
    texts = dict(eh.dataset_texts("words"))
    texts["dog"] = "a dog"
    monkeypatch.setattr(eh.caches, "dataset_texts", lambda name: texts)

    def cannot_write(path, payload):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(eh.caches, "write_json_atomic", cannot_write)
    with pytest.warns(eh.CacheWarning, match="Permission denied"):
        words = eh.load_embeddings("words")
    np.testing.assert_allclose(words["dog"], eh.embed("a dog")[0], atol=1e-6)
    assert list(tmp_path.iterdir()) == []


def test_orphan_temporary_files_are_cleaned_up(live):
    path = eh.cache_path("words", LIVE_MODEL)
    path.parent.mkdir(parents=True)
    orphans = [path.parent / f".{path.name}.k1ll3d.tmp", path.parent / f".{path.name}.partial.x7.tmp"]
    for orphan in orphans:
        orphan.write_text('{"half": [1, ')
    eh.build_cache("words")
    assert not any(o.exists() for o in orphans)
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_a_shipped_cache_is_found_when_builds_go_elsewhere(monkeypatch, tmp_path):
    """EMBEDDINGS_CACHE_DIR holds what a learner builds; the shipped caches are still found."""
    monkeypatch.setattr(eh.caches, "EMBEDDINGS_DIR", tmp_path)
    minilm = eh.load_embeddings("movies", model=eh.MINILM_MODEL)
    assert minilm.info["path"] == str(eh.SHIPPED_DIR / eh.cache_path("movies", eh.MINILM_MODEL).name)
    assert list(tmp_path.iterdir()) == []


def test_caches_built_by_a_learner_are_ignored_by_git_and_shipped_ones_stay_tracked():
    if shutil.which("git") is None or not (eh.REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout")

    def git(*args):
        return subprocess.run(["git", *args], cwd=eh.REPO_ROOT, capture_output=True, text=True)

    tracked = set(git("ls-files", "data/embeddings").stdout.split())
    for dataset in eh.DATASETS:
        for model in (eh.LOCAL_MODEL, eh.MINILM_MODEL):
            assert f"data/embeddings/{eh.cache_path(dataset, model).name}" in tracked
    built = [
        eh.cache_path("movies", "openai/text-embedding-3-small").name,
        "words__my-azure-deployment__256d.json",
        "words__nomic-embed-text.json.partial",
        ".words__nomic-embed-text.json.a1b2.tmp",
    ]
    for name in built:
        assert git("check-ignore", "-q", "--no-index", f"data/embeddings/{name}").returncode == 0, f"{name} is tracked"
