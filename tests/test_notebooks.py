"""The lessons beyond a plain offline run, and the committed copies.

`python -m pytest` already runs every lesson top to bottom, offline, through nbmake (see the
repository's conftest.py). Here papermill runs them again with other parameters: on a foreign
{title: vector} file, and with a hosted provider played by a local OpenAI-compatible server.
"""

import json
import shutil
import subprocess
import sys

import nbformat
import numpy as np
import pytest

import embeddings_helper as eh
from conftest import FakeEmbeddingsServer, fake_vector
from run_notebooks import NOTEBOOKS as NOTEBOOKS_DIR
from run_notebooks import execute, notebook_paths

NOTEBOOKS = notebook_paths()
REPO_ROOT = eh.REPO_ROOT
TOKEN = eh.redact.SECRET_PATTERN  # GitHub tokens (ghp_, ghu_, ghs_, ...), OpenAI keys, JWTs, Azure keys


def lesson_id(path):
    return path.relative_to(NOTEBOOKS_DIR).with_suffix("").as_posix()  # 03_search, es/03_...


def test_there_are_lessons():
    assert len(NOTEBOOKS) >= 3


def test_pytest_runs_every_lesson_and_nothing_else():
    """The README's test command collects each lesson once as a notebook test, and no other notebook."""
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "notebooks"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    items = [line.split("::")[0] for line in out.stdout.splitlines() if "::" in line]
    assert sorted((REPO_ROOT / item).resolve() for item in items) == sorted(p.resolve() for p in NOTEBOOKS)


@pytest.fixture(scope="module")
def foreign_file(tmp_path_factory):
    """A public-style file: other titles (some non-ASCII), another width, vectors not normalized."""
    rng = np.random.default_rng(7)
    centers = rng.normal(size=(4, 48))
    titles = ["Le Voyage dans la Lune", "千と千尋の神隠し", "Ørsted's Kite", "Ça tourne", "The Long Night"]
    titles += [f"Film number {i}" for i in range(45)]
    data = {t: (centers[i % 4] + 0.5 * rng.normal(size=48)).round(5).tolist() for i, t in enumerate(titles)}
    path = tmp_path_factory.mktemp("foreign") / "public_embeddings.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def errors(nb):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lesson_id)
def test_runs_on_a_foreign_embeddings_file(path, offline, foreign_file):
    parameter = "COLLECTION" if path.name[:2] == "05" else "EMBEDDINGS"  # lesson 05 measures on one collection
    nb, _ = execute(path, {parameter: str(foreign_file)})
    assert not errors(nb)
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "48 dimension" in text  # the file's own width is reported, not an assumed one (dimensions, dimensiones)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lesson_id)
def test_committed_copy_is_executed_and_clean(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", []), "the first code cell is tagged 'parameters'"
    assert all(c.get("outputs") is not None for c in code)
    assert sum(bool(c.get("outputs")) for c in code) >= len(code) // 2, "commit it executed"
    assert not errors(nb)
    assert not TOKEN.search(path.read_text(encoding="utf-8"))
    assert nb.cells[0].cell_type == "markdown"
    markdown = "".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "Resources" in markdown or "Recursos" in markdown
    big = [len(o.get("text", "")) for c in code for o in c.get("outputs", [])]
    assert max(big, default=0) < 6000, "keep outputs short"


# With a hosted provider configured, the same cells must use it. An OpenAI-compatible server on
# 127.0.0.1 stands in for it; the datasets' caches for its model are made up front from the same
# deterministic vectors the server returns, so only the lessons' own calls go over HTTP.
LIVE_MODEL = "text-embedding-3-small"
# Keyed by the lesson number, so that both editions of a lesson get the same treatment.
EMBEDS_NEW_TEXT = {"01", "03"}  # the others work from the cached datasets
LIVE_PARAMETERS = {"03": {"SIZES": [1_000, 3_000], "N_QUERIES": 50}}


@pytest.fixture(scope="module")
def live_provider(tmp_path_factory):
    cache = tmp_path_factory.mktemp("live-cache")
    for shipped in eh.EMBEDDINGS_DIR.glob("*.json"):
        shutil.copy(shipped, cache)
    for dataset in eh.DATASETS:
        texts = eh.dataset_texts(dataset)
        vectors = {}
        for key, text in texts.items():
            v = np.array(fake_vector(text, 1536))
            vectors[key] = (v / np.linalg.norm(v)).round(7).tolist()
        meta = {"dataset": dataset, "model": LIVE_MODEL, "provider": "openai", "dimensions": 1536,
                "texts_sha256": eh.caches._texts_sha256(texts), "complete": True}  # fmt: skip
        eh.storage.write_json_atomic(cache / eh.cache_path(dataset, LIVE_MODEL).name, {**meta, "embeddings": vectors})
    with FakeEmbeddingsServer(width=1536, unit=True) as server:
        server.env = {
            "API_HOST": "openai", "OPENAI_API_KEY": "test-key", "OPENAI_BASE_URL": server.url + "/v1",
            "OPENAI_EMBEDDING_MODEL": LIVE_MODEL, "EMBEDDINGS_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1",
        }  # fmt: skip
        yield server


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lesson_id)
def test_runs_with_a_live_provider(path, live_provider, monkeypatch):
    for name, value in live_provider.env.items():
        monkeypatch.setenv(name, value)  # the kernel inherits them
    live_provider.requests.clear()
    nb, _ = execute(path, LIVE_PARAMETERS.get(path.name[:2]))
    assert not errors(nb)
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    if path.parent.name == "es":  # the provider line speaks the lesson's language
        assert "servidor compatible con OpenAI" in text and "1536 dimensiones" in text
    else:
        assert "OpenAI-compatible server" in text and "1536 dimensions" in text
    assert "API_HOST=local" not in text.split("\n", 1)[0]
    if path.name[:2] in EMBEDS_NEW_TEXT:
        assert live_provider.requests, "the lesson made no call to the provider"
    assert all(r["headers"]["authorization"] == "Bearer test-key" for r in live_provider.requests)
