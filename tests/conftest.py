"""Shared fixtures: a hermetic environment and a local OpenAI-compatible embeddings server."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

import embeddings_helper as eh
from run_notebooks import offline_environment

PROVIDER_VARIABLES = [
    "API_HOST", "GITHUB_TOKEN", "GITHUB_EMBEDDING_MODEL", "GITHUB_MODELS_ENDPOINT",
    "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_EMBEDDING_DEPLOYMENT", "AZURE_OPENAI_EMBEDDING_DIMENSIONS",
    "AZURE_OPENAI_API_KEY", "OPENAI_API_KEY", "OPENAI_EMBEDDING_MODEL", "OPENAI_BASE_URL",
    "OLLAMA_ENDPOINT", "OLLAMA_EMBEDDING_MODEL", "LOCAL_EMBEDDING_MODEL",
]  # fmt: skip


@pytest.fixture(autouse=True)
def hermetic_env(monkeypatch, tmp_path):
    """No test sees the developer's .env, keys or API_HOST; each starts on the local model."""
    for name in PROVIDER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(eh.config, "DOTENV_PATH", tmp_path / "no.env")
    monkeypatch.setenv("DATABASE_URL", "")  # lesson 07 on its embedded server, never a developer's database
    eh.remote._client.cache_clear()
    yield
    eh.remote._client.cache_clear()


@pytest.fixture
def offline():
    """Kernels started during the test inherit an offline environment with no credentials."""
    saved = dict(os.environ)
    offline_environment()
    yield
    os.environ.clear()
    os.environ.update(saved)


def fake_vector(text: str, width: int) -> list[float]:
    """A deterministic, not normalized vector per text, as a real server's would be (not unit length)."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
    return (np.random.default_rng(seed).normal(size=width) * 3).astype(np.float32).tolist()


class FakeEmbeddingsServer:
    """Speaks enough of POST /v1/embeddings for the openai SDK; records every request.

    ``responses`` is a list of status codes to answer with before behaving normally
    (e.g. [500] for one transient failure, [429] * 10 for a lasting rate limit).
    """

    def __init__(self, width: int = 1536, unit: bool = False):
        self.width = width
        self.unit = unit  # True: like OpenAI, return unit vectors, shortened ones renormalized
        self.requests: list[dict] = []
        self.responses: list[int] = []
        self.unknown_models = {"no-such-model"}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                headers = {k.lower(): v for k, v in self.headers.items()}
                server.requests.append({"path": self.path, "headers": headers, "body": body})
                if server.responses:
                    status = server.responses.pop(0)
                    return self._send(
                        status,
                        {"error": {"message": f"simulated {status}", "code": str(status)}},
                        {"retry-after-ms": "1"} if status == 429 else {},
                    )
                if not self.path.endswith("/embeddings") or body["model"] in server.unknown_models:
                    return self._send(404, {"error": {"message": f"model {body['model']} not found"}})
                texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
                width = body.get("dimensions") or server.width
                data = []
                for i, text in enumerate(texts):
                    vector = fake_vector(text, server.width)[:width]
                    if server.unit:
                        vector = (np.array(vector) / np.linalg.norm(vector)).tolist()
                    if body.get("encoding_format") == "base64":
                        vector = base64.b64encode(np.array(vector, dtype="<f4").tobytes()).decode()
                    data.append({"object": "embedding", "index": i, "embedding": vector})
                data.reverse()  # the SDK must not rely on order; the helper sorts by index
                usage = {"prompt_tokens": sum(len(t.split()) for t in texts), "total_tokens": 0}
                usage["total_tokens"] = usage["prompt_tokens"]
                self._send(200, {"object": "list", "data": data, "model": body["model"], "usage": usage})

            def _send(self, status, payload, headers=None):
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(raw)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    with FakeEmbeddingsServer() as s:
        yield s
