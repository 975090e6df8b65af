"""Every lesson of both editions keeps the shape an instructor can present (scripts/lesson_shape.py): a
core of at most 110 code lines and 1,100 words (1,265 in Spanish) with its first output early, deep dives
after it, no code cell over 20 lines, and no plumbing of its own (matching, timing, raising errors)."""

import json
import re

import pytest

from lesson_shape import MAX_CELL_LINES, MAX_CORE_LINES, MAX_WORDS, lessons, shape

LESSONS = lessons([])


def test_there_are_seven_lessons_in_each_edition():
    assert len([p for p in LESSONS if p.parent.name != "es"]) == 7
    assert len([p for p in LESSONS if p.parent.name == "es"]) == 7


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_lesson_is_a_core_then_deep_dives(path):
    s = shape(path)
    assert s.problems() == [], f"{path.name}: {s.problems()}"
    assert s.deep_dives, f"{path.name} has no section headed 'Deep dive:' / 'A fondo:'"
    assert s.core_lines <= MAX_CORE_LINES and s.longest_cell <= MAX_CELL_LINES
    assert s.core_words <= MAX_WORDS[s.language]
    heading = "A fondo:" if s.language == "es" else "Deep dive:"
    assert all(dive.startswith(heading) for dive in s.deep_dives)


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_lesson_leaves_its_plumbing_to_the_helper(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    for pattern in (r"^\s*import difflib", r"^\s*import unicodedata", r"\braise (ValueError|TypeError)\b",
                    r"^def (fold|resolve|find_title|pick_title|whole_number|capped|best_time|timed)\("):  # fmt: skip
        assert not re.search(pattern, code, re.M), f"{path.name}: {pattern}"


def test_the_measure_counts_what_the_rules_say(tmp_path):
    """A made-up lesson: 3 core lines, then a deep dive whose 25-line cell breaks the cell rule only."""
    def cell(kind, text, metadata=None, outputs=()):
        return {"cell_type": kind, "metadata": metadata or {}, "source": text, "outputs": list(outputs),
                "execution_count": None}  # fmt: skip

    notebook = {"cells": [
        cell("markdown", "# A lesson\n\nSome words `and code` [a link](http://example.com)."),
        cell("code", "K = 3\n", metadata={"tags": ["parameters"]}),
        cell("code", "x = 1\n\ny = 2\nprint(x + y)", outputs=[{"output_type": "stream", "text": "3"}]),
        cell("markdown", "## Deep dive: more\n\nLots of words here that are not counted."),
        cell("code", "\n".join(f"z{i} = {i}" for i in range(25))),
    ]}  # fmt: skip
    path = tmp_path / "99_made_up.ipynb"
    path.write_text(json.dumps(notebook))
    s = shape(path)
    assert (s.core_lines, s.longest_cell, s.first_output, s.deep_dives) == (3, 25, 1, ["Deep dive: more"])
    assert s.core_words == len("A lesson Some words a link".split())
    assert s.problems() == ["a code cell has 25 lines (at most 20)"]
