"""Execute the lesson notebooks offline with the local model, as they are committed.

    python scripts/run_notebooks.py              # every lesson, outputs saved in place
    python scripts/run_notebooks.py 03_search    # one of them (es/03 for its Spanish twin)
    python scripts/run_notebooks.py --check      # run without saving

Each notebook runs in a fresh kernel, from its own folder, with API_HOST=local, no
credentials and an empty DATABASE_URL (lesson 07 starts its embedded PostgreSQL), so the
committed outputs are the ones a learner without a key or a server will see.

The tests use the standard tools for the rest: `pytest --nbmake` runs every lesson offline
(the repository's conftest.py gives it this module's offline environment and lesson list),
papermill runs a lesson with other parameters (`execute`), and testbook keeps a lesson's
kernel open so a test can read its variables (`lesson_kernel`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
# The lessons: English in notebooks/, Spanish in notebooks/es/. A scratch notebook such as
# notebooks/Untitled.ipynb is not a lesson, and the tests leave it alone.
LESSON_PATTERNS = ("[0-9][0-9]_*.ipynb", "es/[0-9][0-9]_*.ipynb")
KERNEL = "python3"
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
    os.environ.pop("LOCAL_EMBEDDING_MODEL", None)  # the default local model, as a fresh clone uses
    os.environ["DATABASE_URL"] = ""  # lesson 07: its own embedded server, whatever .env names
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"


@contextmanager
def offline_kernels() -> Iterator[None]:
    """Within the block, kernels started from this process run offline; the environment is restored after."""
    saved = dict(os.environ)
    offline_environment()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def helper_importable_in_kernels() -> None:
    """Let kernels started from this process import embeddings_helper from any folder (notebooks/es/ too)
    even where the repository is not installed. `pip install -r requirements-dev.txt` installs it so that
    learners need no such help; tests/test_install.py checks that install on its own."""
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(NOTEBOOKS) not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([str(NOTEBOOKS), *paths])


def notebook_paths() -> list[Path]:
    """Every lesson, English first, then the Spanish edition."""
    return [path for pattern in LESSON_PATTERNS for path in sorted(NOTEBOOKS.glob(pattern))]


def is_lesson(path: str | os.PathLike) -> bool:
    return Path(path).resolve() in set(notebook_paths())


def execute(path: Path, parameters: dict | None = None, timeout: int = 300, append: str | None = None):
    """Run a notebook top to bottom in a fresh kernel with papermill; return it with its outputs and the seconds taken.

    ``parameters`` override the values of the cell tagged ``parameters`` (papermill injects them in a
    cell after it). ``append`` is code run after the last cell (to read a lesson's variables, prefer
    ``lesson_kernel``). The kernel's working directory is the notebook's folder, as in Jupyter, and it
    inherits this process's environment. A cell that raises stops the run with nbclient's
    ``CellExecutionError``, which names the cell and shows its traceback.
    """
    import papermill

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    if append:
        nb.cells.append(nbformat.v4.new_code_cell(append))
    started = time.perf_counter()
    try:
        nb = papermill.execute_notebook(
            nb, None, parameters=parameters or None, cwd=path.parent, kernel_name=KERNEL, language="python",
            progress_bar=False, request_save_on_cell_execute=False, execution_timeout=timeout,
        )
    except papermill.PapermillExecutionError as err:  # the same error as nbclient's, for every caller
        raise CellExecutionError(str(err), err.ename, err.evalue) from err
    return nb, time.perf_counter() - started


@contextmanager
def lesson_kernel(path: Path, parameters: dict | None = None, timeout: int = 300) -> Iterator:
    """Run a notebook top to bottom, then keep its kernel open for reading its variables.

        with lesson_kernel(NOTEBOOKS / "02_similarity.ipynb", {"K": 3}) as tb:
            tb.value("len(titles)")      # any expression whose value is JSON: numbers, str, lists, dicts

    ``tb`` is testbook's client (``tb.value``, ``tb.ref``, ``tb.inject``). Parameters are injected the
    papermill way, the working directory is the notebook's folder, and a failing cell raises.
    """
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook
    from testbook import testbook

    path = Path(path)
    nb = load_notebook_node(str(path))  # nbformat.read, plus the metadata papermill's injection expects
    if parameters:
        nb = parameterize_notebook(nb, parameters, kernel_name=KERNEL, language="python")
    resources = {"metadata": {"path": str(path.parent)}}
    with testbook(nb, execute=True, timeout=timeout, kernel_name=KERNEL, resources=resources) as tb:
        yield tb


def execute_in_place(path: Path, timeout: int = 300) -> float:
    """Execute a lesson as it will be committed: no parameters, no timing metadata. Returns the seconds taken."""
    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    NotebookClient(
        nb, timeout=timeout, kernel_name=KERNEL, record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()  # fmt: skip
    seconds = time.perf_counter() - started
    nbformat.write(nb, path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="notebook names or parts of them, e.g. 03 or es/03 (default: all)")
    parser.add_argument("--check", action="store_true", help="execute without saving")
    args = parser.parse_args(argv)
    offline_environment()
    helper_importable_in_kernels()
    paths = [
        p for p in notebook_paths()
        if not args.names or any(n in p.relative_to(NOTEBOOKS).as_posix() for n in args.names)
    ]  # fmt: skip
    if not paths:
        parser.error(f"no lesson matches {args.names}; the lessons are {LESSON_PATTERNS} in {NOTEBOOKS}")
    total = 0.0
    for path in paths:
        seconds = execute(path)[1] if args.check else execute_in_place(path)
        total += seconds
        print(f"{path.relative_to(NOTEBOOKS).as_posix():40s} {seconds:6.1f} s")
    print(f"{'total':40s} {total:6.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
