"""Execute the lesson notebooks offline with the local model, as they are committed.

    python scripts/run_notebooks.py              # every notebook, outputs saved in place
    python scripts/run_notebooks.py 03_search    # one of them
    python scripts/run_notebooks.py --check      # run without saving (what the tests do)

Each notebook runs in a fresh kernel, from the notebooks/ folder, with API_HOST=local, no
credentials and an empty DATABASE_URL (lesson 07 starts its embedded PostgreSQL), so the
committed outputs are the ones a learner without a key or a server will see.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
# Variables that could make a run leave this machine or reveal a key.
CREDENTIALS = (
    "GITHUB_TOKEN", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL",
    "OLLAMA_ENDPOINT",
)  # fmt: skip


def offline_environment() -> None:
    """Make kernels started from this process use the local model only."""
    for name in CREDENTIALS:
        os.environ.pop(name, None)
    os.environ["API_HOST"] = "local"
    os.environ["DATABASE_URL"] = ""  # lesson 07: its own embedded server, whatever .env names
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"


def notebook_paths() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def inject_parameters(nb, parameters: dict) -> None:
    """Papermill's convention: a cell after the one tagged 'parameters' overrides its values."""
    index = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    source = "# Parameters injected for this run\n" + "\n".join(f"{k} = {v!r}" for k, v in parameters.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(index + 1, cell)


def execute(path: Path, parameters: dict | None = None, timeout: int = 300, append: str | None = None):
    """Run a notebook top to bottom in a fresh kernel; return it with its outputs and the seconds taken.

    ``append`` is code run after the last cell (tests use it to read the lesson's variables).
    """
    nb = nbformat.read(path, as_version=4)
    if parameters:
        inject_parameters(nb, parameters)
    if append:
        nb.cells.append(nbformat.v4.new_code_cell(append))
    started = time.perf_counter()
    NotebookClient(
        nb, timeout=timeout, kernel_name="python3", record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()  # fmt: skip
    return nb, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="notebook names (default: all)")
    parser.add_argument("--check", action="store_true", help="execute without saving")
    args = parser.parse_args(argv)
    offline_environment()
    paths = [p for p in notebook_paths() if not args.names or any(n in p.name for n in args.names)]
    if not paths:
        parser.error(f"no notebook matches {args.names}")
    total = 0.0
    for path in paths:
        nb, seconds = execute(path)
        total += seconds
        if not args.check:
            nbformat.write(nb, path)
        print(f"{path.name:40s} {seconds:6.1f} s")
    print(f"{'total':40s} {total:6.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
