"""Retrieval quality of the local models: paraphrase queries must find their film.

English queries (data/movie_queries.csv) and Spanish ones (data/movie_queries_es.csv) both search
the English overviews of data/movies.csv; the Spanish ones only work with a multilingual model.
`python -m pytest -s tests/test_retrieval.py` prints every model's top-1 and top-3."""

import csv

import numpy as np
import pytest

import embeddings_helper as eh

QUERY_FILES = {"en": eh.DATA_DIR / "movie_queries.csv", "es": eh.DATA_DIR / "movie_queries_es.csv"}
# (model, language of the queries) -> the least share of queries whose film must be in the top 3
TOP3_FLOORS = {
    (eh.LOCAL_MODEL, "en"): 0.95,
    (eh.LOCAL_MODEL, "es"): 0.85,
    (eh.STATIC_MODEL, "en"): 0.80,  # English only: its Spanish figure is printed, not held
    (eh.STATIC_MODEL, "es"): 0.0,
}


def load_queries(language):
    with open(QUERY_FILES[language], newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def top_k_hits(model, queries, dataset="movies"):
    """Share of queries whose film is first, and among the first three, searching the cached dataset."""
    films = eh.load_embeddings(dataset, model=model)
    titles = list(films)
    matrix = np.array(list(films.values()), dtype=np.float32)
    scores = eh.embed([q["query"] for q in queries], provider=eh.Provider("local", model)) @ matrix.T
    top3 = [[titles[i] for i in row] for row in np.argsort(-scores, axis=1)[:, :3]]
    hits1 = np.mean([q["title"] == t[0] for q, t in zip(queries, top3, strict=True)])
    hits3 = np.mean([q["title"] in t for q, t in zip(queries, top3, strict=True)])
    return hits1, hits3


@pytest.mark.parametrize("language", list(QUERY_FILES))
def test_queries_are_paraphrases_of_known_films(language):
    queries = load_queries(language)
    overviews = {r["title"]: r["overview"].lower() for r in eh.load_dataset("movies")}
    assert len(queries) >= 30 if language == "es" else len(queries) >= 20
    assert all(q["title"] in overviews for q in queries)
    for q in queries:  # written in other words, not copied from the overview
        assert q["query"].lower() not in overviews[q["title"]]


@pytest.mark.parametrize(("model", "language"), list(TOP3_FLOORS))
def test_top3_accuracy(model, language):
    queries = load_queries(language)
    hits1, hits3 = top_k_hits(model, queries)
    print(f"{model}, {len(queries)} {language} queries on the English overviews: top-1 {hits1:.0%}, top-3 {hits3:.0%}")
    assert hits3 >= TOP3_FLOORS[model, language]


def test_the_example_query_finds_the_aristocats():
    movies = eh.load_embeddings("movies")
    titles = list(movies)
    scores = np.array(list(movies.values())) @ eh.embed_query("a toddler-friendly movie about cats", movies)
    assert "The Aristocats" in [titles[i] for i in np.argsort(-scores)[:3]]


def test_a_spanish_query_finds_the_english_overview():
    movies = eh.load_embeddings("movies")
    titles = list(movies)
    scores = np.array(list(movies.values())) @ eh.embed_query("una película infantil sobre gatos en París", movies)
    assert "The Aristocats" in [titles[i] for i in np.argsort(-scores)[:3]]
