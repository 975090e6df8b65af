"""Measure each lesson against the shape an instructor can present.

    python scripts/lesson_shape.py            # every lesson, both editions
    python scripts/lesson_shape.py 03 es/03   # some of them

A lesson is a *core*, everything before its first level-2 heading that begins ``Deep dive:``
(``A fondo:`` in Spanish), then optional deep dives. The core holds at most 110 lines of code (the
parameters cell not counted) and 1,100 words of prose (1,265 in Spanish), and shows its first
teaching output within the first three code cells after the parameters; no code cell anywhere is over
20 lines. tests/test_lesson_shape.py holds every lesson to these numbers.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
DEEP_DIVE = re.compile(r"^##\s+(Deep dive|A fondo):", re.M)
MAX_CORE_LINES, MAX_CELL_LINES, FIRST_OUTPUT_WITHIN = 110, 20, 3
MAX_WORDS = {"en": 1100, "es": 1265}


@dataclass
class Shape:
    path: Path
    core_lines: int
    core_words: int
    longest_cell: int
    first_output: int | None  # position of the first code cell with output, counted after the parameters
    deep_dives: list[str]

    @property
    def language(self) -> str:
        return "es" if self.path.parent.name == "es" else "en"

    def problems(self) -> list[str]:
        found = []
        if self.core_lines > MAX_CORE_LINES:
            found.append(f"core has {self.core_lines} code lines (at most {MAX_CORE_LINES})")
        if self.core_words > MAX_WORDS[self.language]:
            found.append(f"core has {self.core_words} words (at most {MAX_WORDS[self.language]})")
        if self.longest_cell > MAX_CELL_LINES:
            found.append(f"a code cell has {self.longest_cell} lines (at most {MAX_CELL_LINES})")
        if self.first_output is None or self.first_output > FIRST_OUTPUT_WITHIN:
            found.append(f"first output in code cell {self.first_output} after the parameters (at most 3)")
        return found


def source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def words(markdown: str) -> int:
    """Words a reader reads: inline code and link targets left out."""
    return len(re.findall(r"\w+", re.sub(r"`[^`]*`|\(http[^)]*\)", " ", markdown)))


def shape(path: Path) -> Shape:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    core_lines = core_words = longest = 0
    deep, dives, first_output, after_parameters = False, [], None, None
    for cell in cells:
        text = source(cell)
        if cell["cell_type"] == "markdown":
            heading = DEEP_DIVE.search(text)
            if heading:
                deep = True
                dives.append(text[heading.start():].splitlines()[0].lstrip("# ").strip())
            if not deep:
                core_words += words(text)
            continue
        if cell["cell_type"] != "code":
            continue
        lines = len([line for line in text.splitlines() if line.strip()])
        longest = max(longest, lines)
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            after_parameters = 0
            continue
        if after_parameters is not None:
            after_parameters += 1
            if first_output is None and cell.get("outputs"):
                first_output = after_parameters
        if not deep:
            core_lines += lines
    return Shape(path, core_lines, core_words, longest, first_output, dives)


def lessons(names: list[str]) -> list[Path]:
    every = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")) + sorted((NOTEBOOKS / "es").glob("[0-9][0-9]_*.ipynb"))
    if not names:
        return every
    return [p for p in every if any(str(p.relative_to(NOTEBOOKS)).startswith(n) for n in names)]


def main(argv: list[str]) -> int:
    bad = 0
    for path in lessons(argv):
        s = shape(path)
        problems = s.problems()
        bad += bool(problems)
        name = str(path.relative_to(NOTEBOOKS))
        print(f"{name:45} core {s.core_lines:3} lines, {s.core_words:4} words, longest cell {s.longest_cell:2}, "
              f"first output {s.first_output}, {len(s.deep_dives)} deep dives")
        for problem in problems:
            print(f"    ! {problem}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
