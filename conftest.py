"""How `python -m pytest` runs the lessons themselves.

pyproject.toml turns nbmake on (`--nbmake`) and adds notebooks/ to the test paths, so every
lesson is a test that passes when the notebook runs top to bottom in a fresh kernel, from its
own folder, without an error. This file adds the project's two rules: only the lessons are
collected (scripts/run_notebooks.py lists them: notebooks/NN_*.ipynb and notebooks/es/NN_*.ipynb),
and each runs offline, on the local model, with no credentials in its environment, the way a fresh
codespace does: API_HOST unset and a GITHUB_TOKEN present (Codespaces always sets one; since GitHub
Models was retired it must not pick a provider). Kernels can import the helper even in an environment
that has not installed the repository.
"""

import os
from pathlib import Path

import pytest

from run_notebooks import helper_importable_in_kernels, is_lesson, offline_environment

_saved_environment = pytest.StashKey[dict]()


def pytest_configure(config):
    helper_importable_in_kernels()  # for the kernels of every test, also where the repository is not installed


def pytest_ignore_collect(collection_path, config):
    if collection_path.suffix == ".ipynb" and not is_lesson(collection_path):
        return True  # a scratch notebook, a checkpoint copy, an executed output: not a lesson
    return None


def pytest_runtest_setup(item):
    if item.path.suffix == ".ipynb":
        item.stash[_saved_environment] = dict(os.environ)
        offline_environment()  # nbmake's kernel inherits it
        if not (Path(__file__).parent / ".env").exists():  # a developer's own .env keeps API_HOST=local instead
            os.environ.pop("API_HOST", None)  # unset, as in a fresh codespace: the default must be local
        os.environ["GITHUB_TOKEN"] = "codespace-token-that-must-not-be-used"
        os.environ["CODESPACES"] = "true"


def pytest_runtest_teardown(item, nextitem):
    saved = item.stash.get(_saved_environment, None)
    if saved is not None:
        os.environ.clear()
        os.environ.update(saved)
