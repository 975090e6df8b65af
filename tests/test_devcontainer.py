"""The Codespaces dev containers: both build from one Dockerfile with the requirements baked in, on a
base image pinned to its major version, with hnswlib compiled portably; the Ollama one serves a
multilingual model that can be shortened. (No container is built here: there is no Docker engine.)"""

import re
import subprocess
from pathlib import Path

import json5

import embeddings_helper as eh

ROOT = Path(__file__).resolve().parent.parent
DEVCONTAINER = ROOT / ".devcontainer"


def config(path: str) -> dict:
    return json5.loads((DEVCONTAINER / path).read_text(encoding="utf-8"))


def test_both_containers_build_from_the_one_dockerfile():
    for path in ("devcontainer.json", "ollama/devcontainer.json"):
        build = config(path)["build"]
        dockerfile = (DEVCONTAINER / path).parent / build["dockerfile"]
        context = (DEVCONTAINER / path).parent / build["context"]
        assert dockerfile.resolve() == DEVCONTAINER / "Dockerfile" and context.resolve() == ROOT
        assert "image" not in config(path)


def test_the_base_image_is_pinned_and_hnswlib_builds_portably():
    dockerfile = (DEVCONTAINER / "Dockerfile").read_text()
    (base,) = re.findall(r"^FROM\s+(\S+)", dockerfile, re.M)
    name, tag = base.rsplit(":", 1)
    assert name == "mcr.microsoft.com/devcontainers/python"
    assert re.fullmatch(r"\d+-3\.\d+-[a-z]+", tag), f"{tag}: pin the image's major version and Debian release"
    assert "ENV HNSWLIB_NO_NATIVE=1" in dockerfile
    assert "requirements-dev.txt" in dockerfile and "grep -v '^-e '" in dockerfile  # the pins, not the repo
    for path in ("devcontainer.json", "ollama/devcontainer.json"):
        assert config(path)["containerEnv"]["HNSWLIB_NO_NATIVE"] == "1"
        assert "requirements-dev.txt" in config(path)["updateContentCommand"]


def test_the_ollama_container_serves_a_model_the_helper_knows_how_to_use():
    env = config("ollama/devcontainer.json")["containerEnv"]
    p = eh.get_provider({"API_HOST": env["API_HOST"], "OLLAMA_EMBEDDING_MODEL": env["OLLAMA_EMBEDDING_MODEL"]})
    assert p.host == "ollama" and eh.supports_dimensions(p.model)  # trained to be cut
    assert eh.task_prefix(p.model, "query") and eh.native_dimensions(p.model) == 1024
    script = DEVCONTAINER / "ollama" / "ollama.sh"
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0
    commands = " ".join(str(config("ollama/devcontainer.json")[k]) for k in ("onCreateCommand", "postStartCommand"))
    assert "ollama.sh install" in commands and "ollama.sh start" in commands
