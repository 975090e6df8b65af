"""The lessons' plumbing (embeddings_helper.lesson): parameter checks and caps, matching what a learner
typed, and fair timing on an injected clock; in English, and in Spanish from notebooks/es/."""

import numpy as np
import pytest

from embeddings_helper import lesson

TITLES = ["El Rey León", "Frozen: Una aventura congelada", "Moana", "Zootopia", "Mulan"]


def test_a_whole_number_in_range_is_kept_silently(capsys):
    assert lesson.whole_number("K", 5, 1, 278) == 5 and lesson.whole_number("K", np.int64(7)) == 7
    assert capsys.readouterr().out == ""


def test_a_whole_number_above_its_cap_is_capped_saying_why(capsys):
    assert lesson.whole_number("K", 5000, 1, 278, why="there are 278 movies") == 278
    assert capsys.readouterr().out == "K = 5000 is more than 278: there are 278 movies; using 278.\n"


@pytest.mark.parametrize("value", [0, -3, 2.5, "10", True, None])
def test_a_value_that_is_no_whole_number_gets_one_sentence(value):
    with pytest.raises(lesson.ParameterError) as err:
        lesson.whole_number("K", value, 1)
    assert str(err.value).startswith("K must be") and isinstance(err.value, ValueError)


def test_texts_are_checked():
    assert lesson.some_text("QUERY", "dragons") == "dragons"
    assert lesson.some_texts("TEXTS", ("dog", "cat")) == ["dog", "cat"]
    for bad in ("", "  ", 3, None):
        with pytest.raises(lesson.ParameterError, match="QUERY must be some words"):
            lesson.some_text("QUERY", bad)
    for bad in ("dog", [], ["dog", ""], [1]):
        with pytest.raises(lesson.ParameterError, match="TEXTS must"):
            lesson.some_texts("TEXTS", bad)


def test_matching_forgives_case_accents_and_spelling(capsys):
    assert lesson.match("MOVIE", "Moana", TITLES) == "Moana"
    assert capsys.readouterr().out == ""
    assert lesson.match("MOVIE", "el rey leon", TITLES) == "El Rey León"
    assert "ignoring case and accents" in capsys.readouterr().out
    assert lesson.match("MOVIE", "Zootopya", TITLES) == "Zootopia"
    assert "Did you mean 'Zootopia'?" in capsys.readouterr().out
    assert lesson.match("MOVIE", "qqqqqq", TITLES) == TITLES[0]
    with pytest.raises(lesson.ParameterError, match="nothing is spelled like it"):
        lesson.match("MOVIE", "qqqqqq", TITLES, fallback=False)


def test_matching_breaks_ties_by_the_key_itself():
    """Two keys that fold alike: the same one is chosen whatever their order in the data."""
    assert lesson.match("W", "resume", ["résumé", "resumé"]) == lesson.match("W", "resume", ["resumé", "résumé"])


def test_messages_speak_spanish_in_a_spanish_lesson(spanish, capsys):
    lesson.whole_number("K", 5000, 1, 278, why_es="hay 278 películas")
    lesson.match("PELICULA", "moana", TITLES)
    out = capsys.readouterr().out
    assert "K = 5000 es más que 278: hay 278 películas; se usa 278." in out
    assert "se usa 'Moana' (lo mismo, sin contar mayúsculas ni acentos)" in out
    with pytest.raises(lesson.ParameterError, match="debe ser un número entero"):
        lesson.whole_number("K", "diez")


def test_best_of_keeps_the_fastest_and_the_slowest_run_on_an_injected_clock():
    ticks = iter([0.0, 3.0, 10.0, 11.0, 20.0, 22.0])  # three runs: 3 s, 1 s, 2 s
    calls = []
    timing = lesson.best_of(lambda: calls.append(1), runs=3, clock=lambda: next(ticks))
    assert (timing.best, timing.worst, timing.runs) == (1.0, 3.0, 3)
    assert len(calls) == 4  # one warm-up, then the three timed runs
    assert str(timing) == "1000.00 ms (best of 3; slowest 3000.00 ms)"


def test_unit_rows_scales_every_row_to_norm_1():
    rows = lesson.unit_rows({"a": [3.0, 4.0], "b": [0.0, 2.0]})
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(lesson.unit_rows({"a": [3.0, 4.0], "b": [0.0, 2.0]}, ["b"]), [[0.0, 1.0]])


def test_numbers_are_written_the_lessons_way(spanish):
    assert lesson.number(20000) == "20 000" and lesson.number(999) == "999"


def test_numbers_in_english_use_commas():
    assert lesson.number(20000) == "20,000" and lesson.number(np.int64(1536)) == "1,536"


def test_query_sets_name_the_film_in_the_dataset_searched():
    queries, titles = lesson.query_set("movie_queries", "peliculas")  # English queries, Spanish films
    spanish = {r["title"] for r in __import__("embeddings_helper").load_dataset("peliculas")}
    assert len(queries) == len(titles) >= 50 and set(titles) <= spanish
    assert titles[queries.index("a toddler-friendly movie about cats")] == "Los Aristogatos"
    queries, titles = lesson.query_set("movie_queries_es", "movies")
    assert len(queries) >= 70 and "Snow White and the Seven Dwarfs" in titles
    with pytest.raises(lesson.ParameterError, match="Unknown query set"):
        lesson.query_set("nope", "movies")


def test_ranking_quality_rewards_the_relevant_item_near_the_top():
    from embeddings_helper.lesson import ranking_quality

    quality = ranking_quality([["a", "b", "c"], ["x", "y", "z"], ["q", "r", "s"]], ["a", "y", "missing"], k=3)
    assert quality["MRR@3"] == pytest.approx((1 + 1 / 2 + 0) / 3)
    assert quality["nDCG@3"] == pytest.approx((1 + 1 / np.log2(3) + 0) / 3)
    assert quality["hit@3"] == pytest.approx(2 / 3)
    assert ranking_quality([["b", "a"]], ["a"], k=1) == {"MRR@1": 0.0, "nDCG@1": 0.0, "hit@1": 0.0}
    with pytest.raises(ValueError, match="at least one"):
        ranking_quality([], [])
