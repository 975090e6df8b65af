"""Build the course's website, both editions, from the committed, executed notebooks.

    python scripts/build_site.py            # writes the site to _site/
    python scripts/build_site.py --out DIR

Nothing is executed and nothing is fetched: the generator is Sphinx with myst-nb (see site/conf.py and
CONTRIBUTING.md, "The website"), math is typeset by the MathJax that the sphinx-mathjax-offline package
ships, search is Sphinx's own, and the interactive figures are drawn by the plotly.js that the plotly
package ships. This script only assembles the sources in a staging folder: the home pages from site/,
the English lessons under en/ and the Spanish ones under es/, each notebook with two changes that
exist only in the site's copy:

- a figure (an image output) gets alternative text: the first sentence of the prose before its cell,
  unless the cell sets its own in its metadata (mystnb.image.alt);
- a plotly output becomes a <div> holding the figure's JSON, drawn in the browser by the bundled
  plotly.js (site/_static/plotly-render.js), with the still image kept for readers without JavaScript.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SITE = ROOT / "site"
PLOTLY = "application/vnd.plotly.v1+json"


def first_sentence(markdown: str) -> str:
    """The first sentence of a markdown cell, as plain text: headings, markup and links removed."""
    lines = [line for line in markdown.splitlines() if line.strip() and not line.lstrip().startswith(("#", "|", "```"))]
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", " ".join(lines))  # [text](link) -> text
    text = re.sub(r"[`*_]", "", text).strip()
    match = re.match(r"(.+?[.:!?])(\s|$)", text)
    return (match.group(1) if match else text)[:240]


def prepare(notebook: dict, edition: str) -> dict:
    """The site's copy of a notebook: alternative text for every figure, plotly outputs drawn live."""
    last_prose = "Figure" if edition == "en" else "Figura"
    for cell in notebook["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "markdown":
            last_prose = first_sentence(source) or last_prose
            continue
        if cell["cell_type"] != "code":
            continue
        outputs = cell.get("outputs", [])
        has_figure = False
        for output in outputs:
            data = output.get("data", {})
            if PLOTLY in data:
                figure = json.dumps(data.pop(PLOTLY), separators=(",", ":"))
                data["text/html"] = (
                    f'<div class="plotly-figure" role="img" aria-label="{html.escape(last_prose)}" '
                    f'data-figure="{html.escape(figure)}"></div>'
                )
                data.pop("image/png", None)  # the live figure replaces the still image
            has_figure |= any(mime.startswith("image/") for mime in data)
        if has_figure:
            image = cell.setdefault("metadata", {}).setdefault("mystnb", {}).setdefault("image", {})
            image.setdefault("alt", last_prose)
    return notebook


def assemble(staging: Path) -> list[Path]:
    """The Sphinx source folder: site/ plus both editions' lessons. Returns the lessons copied."""
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(SITE, staging)
    import plotly

    shutil.copy(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", staging / "_static" / "plotly.min.js")
    copied = []
    for edition, folder in (("en", NOTEBOOKS), ("es", NOTEBOOKS / "es")):
        (staging / edition).mkdir(exist_ok=True)
        for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
            notebook = prepare(json.loads(path.read_text(encoding="utf-8")), edition)
            target = staging / edition / path.name
            target.write_text(json.dumps(notebook, ensure_ascii=False), encoding="utf-8")
            copied.append(target)
    return copied


def build(out: Path, quiet: bool = True) -> float:
    """Assemble the sources and run Sphinx; the site ends up in ``out``. Returns the seconds taken."""
    started = time.perf_counter()
    staging = ROOT / "_build" / "site-src"
    assemble(staging)
    doctrees = ROOT / "_build" / "site-doctrees"
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-d", str(doctrees), "-W", "--keep-going"]
    command += ["-q"] if quiet else []
    subprocess.run([*command, str(staging), str(out)], check=True)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_site", help="where to write the site (default: _site/)")
    parser.add_argument("--verbose", action="store_true", help="show Sphinx's progress")
    args = parser.parse_args(argv)
    try:
        seconds = build(args.out.resolve(), quiet=not args.verbose)
    except subprocess.CalledProcessError as err:
        print(f"Sphinx stopped (exit {err.returncode}); its messages are above.", file=sys.stderr)
        return 1
    print(f"The site is in {args.out} ({seconds:.0f} s). Open {args.out / 'index.html'} in a browser.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
