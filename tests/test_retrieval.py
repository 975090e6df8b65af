"""Retrieval quality of the offline default: paraphrase queries must find their film."""

import csv

import numpy as np

import embeddings_helper as eh

QUERIES = eh.DATA_DIR / "movie_queries.csv"
TOP3_FLOOR = 0.80


def load_queries():
    with open(QUERIES, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_queries_are_paraphrases_of_known_films():
    queries = load_queries()
    movies = eh.load_embeddings("movies")
    assert len(queries) >= 20
    assert all(q["title"] in movies for q in queries)
    overviews = {r["title"]: r["overview"].lower() for r in eh.load_dataset("movies")}
    for q in queries:  # written in other words, not copied from the overview
        assert q["query"].lower() not in overviews[q["title"]]


def test_top3_accuracy_of_the_local_model():
    queries = load_queries()
    movies = eh.load_embeddings("movies")
    titles = list(movies)
    matrix = np.array(list(movies.values()), dtype=np.float32)
    scores = eh.embed([q["query"] for q in queries]) @ matrix.T
    ranks = [titles[i] for i in np.argsort(-scores, axis=1)[:, :3].ravel()]
    top3 = [ranks[3 * n : 3 * n + 3] for n in range(len(queries))]
    hits1 = sum(q["title"] == t[0] for q, t in zip(queries, top3, strict=True)) / len(queries)
    hits3 = sum(q["title"] in t for q, t in zip(queries, top3, strict=True)) / len(queries)
    print(f"{len(queries)} queries, {len(titles)} films: top-1 {hits1:.0%}, top-3 {hits3:.0%}")
    assert hits3 >= TOP3_FLOOR


def test_the_example_query_finds_the_aristocats():
    movies = eh.load_embeddings("movies")
    titles = list(movies)
    scores = np.array(list(movies.values())) @ eh.embed_query("a toddler-friendly movie about cats", movies)
    assert "The Aristocats" in [titles[i] for i in np.argsort(-scores)[:3]]
