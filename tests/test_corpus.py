"""The bilingual collection of short texts (embeddings_helper.corpus): the file's shape, the shipped vectors
trusted only when they match the texts, and a rebuild that is saved atomically and trusted next time."""

import csv
import json
import shutil

import numpy as np
import pytest

from embeddings_helper import corpus
from embeddings_helper.caches import SHIPPED_DIR
from embeddings_helper.errors import CacheError


def test_every_text_has_both_languages_and_a_category():
    rows = corpus.rows()
    assert len(rows) >= 3_000
    assert [int(row["id"]) for row in rows] == sorted(int(row["id"]) for row in rows)
    assert {row["category"] for row in rows} == set(corpus.CATEGORIES)
    for language in corpus.LANGUAGES:
        texts = corpus.texts(language)
        assert len(texts) == len(rows) and all(t.strip() for t in texts)
        assert len({t.lower() for t in texts}) == len(texts), f"a {language} text appears twice"
    assert set(corpus.categories("es")) == set(corpus.CATEGORIES.values())


@pytest.mark.parametrize("language", corpus.LANGUAGES)
def test_the_shipped_vectors_match_the_texts(language, capsys):
    path = corpus.vectors_path(language, folder=SHIPPED_DIR)
    assert corpus._mismatch(path, language, corpus.LOCAL_MODEL) is None, "rebuild it: see CONTRIBUTING.md"
    vectors = corpus.vectors(language)
    assert "embedding its" not in capsys.readouterr().err  # nothing was embedded again
    assert vectors.shape == (len(corpus.texts(language)), 512)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)


def test_vectors_of_other_texts_are_not_trusted(tmp_path):
    path = tmp_path / "sentences-en__use-multilingual-v3.npy"
    shutil.copy(corpus.vectors_path("en", folder=SHIPPED_DIR), path)
    shutil.copy(corpus.vectors_path("en", folder=SHIPPED_DIR).with_suffix(".json"), path.with_suffix(".json"))
    assert corpus._mismatch(path, "en", corpus.LOCAL_MODEL) is None
    assert "records another language" in corpus._mismatch(path, "es", corpus.LOCAL_MODEL)
    record = json.loads(path.with_suffix(".json").read_text())
    path.with_suffix(".json").write_text(json.dumps({**record, "texts_sha256": "0" * 64}))
    assert "records another texts_sha256" in corpus._mismatch(path, "en", corpus.LOCAL_MODEL)
    path.with_suffix(".json").write_text(json.dumps(record))
    broken = np.load(path)
    broken[5] = 0
    np.save(path, broken)
    assert "all zeros" in corpus._mismatch(path, "en", corpus.LOCAL_MODEL)
    np.save(path, broken[:10])
    assert "has the shape (10, 512)" in corpus._mismatch(path, "en", corpus.LOCAL_MODEL)
    path.with_suffix(".json").unlink()
    assert "is missing" in corpus._mismatch(path, "en", corpus.LOCAL_MODEL)


def test_a_missing_file_is_rebuilt_saved_and_then_trusted(monkeypatch, tmp_path, capsys):
    few = ({"id": "0", "category": "food", "en": "Bread rises in a warm kitchen.",
            "es": "El pan sube en una cocina tibia."},
           {"id": "1", "category": "sports", "en": "A goalkeeper may use hands.",
            "es": "El arquero puede usar las manos."})  # fmt: skip
    monkeypatch.setattr(corpus, "rows", lambda: few)
    monkeypatch.setattr("embeddings_helper.caches.EMBEDDINGS_DIR", tmp_path)
    monkeypatch.setattr("embeddings_helper.caches.SHIPPED_DIR", tmp_path)
    first = corpus.vectors("es")
    assert "embedding its 2 texts" in capsys.readouterr().err
    assert first.shape == (2, 512) and sorted(p.name for p in (tmp_path / "collection").iterdir()) == [
        "sentences-es__use-multilingual-v3.json", "sentences-es__use-multilingual-v3.npy"]  # no temporary file left
    again = corpus.vectors("es")
    assert capsys.readouterr().err == "" and np.array_equal(first, again)


def test_a_bad_row_is_named(monkeypatch, tmp_path):
    bad = tmp_path / "sentences.csv"
    with open(bad, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["id", "category", "en", "es"], ["0", "food", "Soup.", "Sopa."],
                                 ["1", "weather", "Rain.", "Lluvia."]])  # fmt: skip
    monkeypatch.setattr(corpus, "CORPUS_FILE", bad)
    corpus.rows.cache_clear()
    try:
        with pytest.raises(CacheError, match="line 3 \\(id '1'\\) has a bad id, an unknown category"):
            corpus.rows()
    finally:
        monkeypatch.undo()
        corpus.rows.cache_clear()


def test_a_bad_vector_is_refused_before_anything_is_saved(monkeypatch, tmp_path):
    few = ({"id": "0", "category": "food", "en": "Soup.", "es": "Sopa."},)
    monkeypatch.setattr(corpus, "rows", lambda: few)
    monkeypatch.setattr("embeddings_helper.caches.EMBEDDINGS_DIR", tmp_path)
    monkeypatch.setattr("embeddings_helper.caches.SHIPPED_DIR", tmp_path)
    monkeypatch.setattr("embeddings_helper.embedding.embed", lambda texts, **kw: np.zeros((len(texts), 512)))
    with pytest.raises(CacheError, match="not finite or is all zeros; nothing was saved"):
        corpus.vectors("en")
    assert not (tmp_path / "collection").exists() or not list((tmp_path / "collection").iterdir())
