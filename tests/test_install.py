"""The install: pinned requirements, and the helper importable from any folder.

`pip install -r requirements-dev.txt` installs this repository in editable mode (`-e .`), so that
`import embeddings_helper` works in notebooks/, in notebooks/es/, from the repository root
(papermill, VS Code with notebookFileRoot=${workspaceFolder}) and anywhere else.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import embeddings_helper as eh

ROOT = eh.REPO_ROOT
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)")
DISTRIBUTION = "vector-embeddings-lessons"
EDITABLE_SELF = {"-e file:.", "-e ."}  # file:. stays relative when pip-compile writes it


def normalized(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(filename):
    """{package: version} of a pip-compile output; fails on any line that is not an exact pin or -e ."""
    found = {}
    for line in (ROOT / filename).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line in EDITABLE_SELF:
            continue
        match = PIN.match(line)
        assert match, f"{filename}: {line!r} is not pinned with ==; regenerate it with pip-compile (CONTRIBUTING.md)"
        found[normalized(match[1])] = match[2]
    return found


def intended(filename):
    """Package names a requirements .in file asks for, following -r includes."""
    names = set()
    for line in (ROOT / filename).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            names |= intended(line[3:].strip())
        elif line and not line.startswith("-"):
            names.add(normalized(re.split(r"[\s\[<>=!~;]", line, maxsplit=1)[0]))
    return names


def test_every_requirement_is_pinned_and_installs_this_repository():
    for compiled, source in [("requirements.txt", "requirements.in"), ("requirements-dev.txt", "requirements-dev.in")]:
        text = (ROOT / compiled).read_text(encoding="utf-8")
        assert EDITABLE_SELF & set(text.splitlines()), f"{compiled} must install the helper with -e file:."
        missing = intended(source) - set(pins(compiled))
        assert not missing, (
            f"{source} asks for {sorted(missing)}, not pinned in {compiled}: run pip-compile (CONTRIBUTING.md)"
        )


def test_dev_requirements_pin_the_lessons_packages_to_the_same_versions():
    runtime, dev = pins("requirements.txt"), pins("requirements-dev.txt")
    differ = {name: (version, dev.get(name)) for name, version in runtime.items() if dev.get(name) != version}
    assert not differ, f"requirements.txt vs requirements-dev.txt: {differ}; regenerate both (CONTRIBUTING.md)"


def test_pytorch_stays_out_of_the_lessons_requirements():
    assert "torch" not in pins("requirements-dev.txt")


def clean_environment():
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # pytest's pythonpath must not help
    env["API_HOST"] = "local"
    return env


@pytest.fixture
def installed(tmp_path):
    """This Python has the repository installed (as requirements-dev.txt does), seen from a neutral folder."""
    probe = f"import importlib.metadata as m; m.distribution({DISTRIBUTION!r})"
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=clean_environment(), capture_output=True)
    if out.returncode != 0:
        if os.environ.get("CI"):  # CI installs requirements-dev.txt: a missing install is a failure there
            pytest.fail(f"{DISTRIBUTION} is not installed: pip install -r requirements-dev.txt")
        pytest.skip("this environment has not installed the repository (pip install -r requirements-dev.txt)")


@pytest.mark.parametrize("folder", [".", "notebooks", "notebooks/es", "elsewhere"])
def test_helper_imports_from_any_folder(folder, tmp_path, installed):
    cwd = tmp_path if folder == "elsewhere" else ROOT / folder
    if not cwd.is_dir():
        pytest.skip(f"{folder}/ does not exist yet")
    out = subprocess.run(
        [sys.executable, "-c", "import embeddings_helper; print(embeddings_helper.__file__)"],
        cwd=cwd, env=clean_environment(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()).samefile(ROOT / "notebooks" / "embeddings_helper" / "__init__.py")


def test_papermill_runs_a_lesson_from_the_repository_root(tmp_path, installed):
    """The README's papermill line, from the root, on the quickest lesson."""
    out_nb = tmp_path / "out.ipynb"
    command = [
        sys.executable, "-m", "papermill", "notebooks/01_generate_embedding.ipynb", str(out_nb),
        "-p", "TEXT", "a lighthouse keeper befriends a whale", "--no-progress-bar",
    ]  # fmt: skip
    out = subprocess.run(command, cwd=ROOT, env=clean_environment(), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    nb = nbformat.read(out_nb, as_version=4)
    (injected,) = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert "a lighthouse keeper befriends a whale" in injected.source
    assert nb.cells[-1].cell_type == "markdown" and sum(bool(c.get("outputs")) for c in nb.cells) > 5


def test_papermill_runs_a_spanish_lesson_from_the_root_in_spanish(tmp_path, installed):
    """With --inject-input-path the helper knows the lesson is Spanish, although the kernel runs at the root."""
    out_nb = tmp_path / "salida.ipynb"
    command = [
        sys.executable, "-m", "papermill", "notebooks/es/01_generar_embeddings.ipynb", str(out_nb),
        "--inject-input-path", "--no-progress-bar",
    ]  # fmt: skip
    out = subprocess.run(command, cwd=ROOT, env=clean_environment(), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    cells = nbformat.read(out_nb, as_version=4).cells
    printed = "".join(o.get("text", "") for c in cells for o in c.get("outputs", []))
    assert "sin conexión, sin clave" in printed and "offline, no key" not in printed
