"""Shared fixtures: a hermetic environment and a local OpenAI-compatible embeddings server."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

import embeddings_helper as eh
from run_notebooks import offline_kernels

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
    eh.pacing._pacers.clear()  # what one test taught the helper about a provider's limits stays there
    eh.caches._in_memory.clear()
    yield
    eh.remote._client.cache_clear()
    eh.pacing._pacers.clear()
    eh.caches._in_memory.clear()


@pytest.fixture
def spanish(monkeypatch, tmp_path):
    """The test runs where a Spanish lesson's kernel does (notebooks/es/), so the helper speaks Spanish."""
    folder = tmp_path / "notebooks" / "es"
    folder.mkdir(parents=True)
    monkeypatch.chdir(folder)


@pytest.fixture
def offline():
    """Kernels started during the test inherit an offline environment with no credentials."""
    with offline_kernels():
        yield


def fake_vector(text: str, width: int) -> list[float]:
    """A deterministic, not normalized vector per text, as a real server's would be (not unit length)."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
    return (np.random.default_rng(seed).normal(size=width) * 3).astype(np.float32).tolist()


@dataclass
class Reply:
    """One scripted answer of FakeEmbeddingsServer, given before it behaves normally."""

    status: int = 200
    body: object = None  # a dict is sent as JSON, a str as it is
    headers: dict = field(default_factory=dict)
    content_type: str = "application/json"
    silent: bool = False  # accept the request and never answer
    drop: bool = False  # close the connection without any answer


class FakeEmbeddingsServer:
    """Speaks enough of POST /v1/embeddings for the openai SDK; records every request.

    ``responses`` lists answers to give before behaving normally: a status code (e.g. [500] for one
    transient failure, [429] * 10 for a lasting rate limit) or a Reply. Like a rate-limited provider,
    it can also enforce ``per_minute`` requests per ``window`` seconds (429 with Retry-After), and
    ``max_inputs`` and ``max_tokens`` per request (413). Its token count is a text's UTF-8 bytes, an
    upper bound of what OpenAI's tokenizers count. ``transform`` may spoil the vectors it returns.
    """

    def __init__(self, width: int = 1536, unit: bool = False):
        self.width = width
        self.unit = unit  # True: like OpenAI, return unit vectors, shortened ones renormalized
        self.requests: list[dict] = []
        self.responses: list = []
        self.unknown_models = {"no-such-model"}
        self.per_minute: int | None = None
        self.window = 60.0
        self.max_inputs: int | None = None
        self.max_tokens: int | None = None
        self.ignore_dimensions = False
        self.transform = None  # vectors -> vectors, to send something wrong
        self.refused: list[int] = []  # the status of every request refused by the limits above
        self.accepted: list[float] = []  # when each request under per_minute was accepted
        self.clock = time.monotonic  # a test may give the server the helper's fake clock
        self.headers: dict = {}  # sent with every normal answer, e.g. x-ratelimit-* headers
        self.stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                headers = {k.lower(): v for k, v in self.headers.items()}
                server.requests.append({"path": self.path, "headers": headers, "body": body, "time": server.clock()})
                if server.responses:
                    reply = server.responses.pop(0)
                    if isinstance(reply, int):
                        extra = {"retry-after-ms": "1"} if reply == 429 else {}
                        reply = Reply(reply, {"error": {"message": f"simulated {reply}", "code": str(reply)}}, extra)
                    if reply.silent:
                        server.stop.wait()
                        return None
                    if reply.drop:
                        self.close_connection = True
                        return None
                    return self._send(reply.status, reply.body, reply.headers, reply.content_type)
                if not self.path.endswith("/embeddings") or body["model"] in server.unknown_models:
                    return self._send(404, {"error": {"message": f"model {body['model']} not found"}})
                texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
                refusal = server._check_limits(body["model"], texts)
                if refusal:
                    server.refused.append(refusal[0])
                    return self._send(*refusal)
                width = server.width if server.ignore_dimensions else body.get("dimensions") or server.width
                vectors = []
                for text in texts:
                    vector = fake_vector(text, server.width)[:width]
                    if server.unit:
                        vector = (np.array(vector) / np.linalg.norm(vector)).tolist()
                    vectors.append(vector)
                if server.transform:
                    vectors = server.transform(vectors)
                data = []
                for i, vector in enumerate(vectors):
                    if body.get("encoding_format") == "base64":
                        vector = base64.b64encode(np.array(vector, dtype="<f4").tobytes()).decode()
                    data.append({"object": "embedding", "index": i, "embedding": vector})
                data.reverse()  # the SDK must not rely on order; the helper sorts by index
                usage = {"prompt_tokens": sum(len(t.split()) for t in texts), "total_tokens": 0}
                usage["total_tokens"] = usage["prompt_tokens"]
                answer = {"object": "list", "data": data, "model": body["model"], "usage": usage}
                self._send(200, answer, server.headers)

            def _send(self, status, payload, headers=None, content_type="application/json"):
                raw = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(raw)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(raw)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.lock = threading.Lock()

    def _check_limits(self, model, texts):
        """A refusal (status, body, headers) when a request breaks one of the limits, else None."""
        with self.lock:
            if self.per_minute:
                now = self.clock()
                recent = [t for t in self.accepted if now - t < self.window]
                if len(recent) >= self.per_minute:
                    wait = math.ceil(recent[-self.per_minute] + self.window - now)
                    message = f"Rate limit of {self.per_minute} per {self.window:.0f}s exceeded."
                    return 429, {"error": {"code": "RateLimitReached", "message": message}}, {"Retry-After": str(wait)}
                self.accepted.append(now)
        if self.max_inputs and len(texts) > self.max_inputs:
            return 413, {"error": {"code": "too_many_inputs", "message": f"Too many inputs: max {self.max_inputs}."}}
        tokens = sum(len(t.encode()) for t in texts)
        if self.max_tokens and tokens > self.max_tokens:
            message = f"Request body too large for {model} model. Max size: {self.max_tokens} tokens."
            return 413, {"error": {"code": "tokens_limit_reached", "message": message}}
        return None

    def tokens(self, request) -> int:
        return sum(len(t.encode()) for t in request["body"]["input"])

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    with FakeEmbeddingsServer() as s:
        yield s


def openai_provider(server, model="text-embedding-3-small"):
    """The OpenAI host, pointed at the stand-in server."""
    return eh.get_provider(
        {"API_HOST": "openai", "OPENAI_API_KEY": "test-key-123", "OPENAI_BASE_URL": server.url + "/v1",
         "OPENAI_EMBEDDING_MODEL": model}
    )  # fmt: skip


# A model of the text-embedding-3 family (so dimensions= is accepted) whose width the helper does not
# know in advance: the stand-in server's narrow 64-number vectors keep the JSON parsing quick.
LIVE_MODEL = "text-embedding-3-test"


@pytest.fixture
def live(server, monkeypatch, tmp_path):
    """The active provider is the stand-in server; caches are built in a temporary folder."""
    monkeypatch.setattr(eh.caches, "EMBEDDINGS_DIR", tmp_path / "embeddings")
    server.width = 64
    monkeypatch.setenv("API_HOST", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
    monkeypatch.setenv("OPENAI_EMBEDDING_MODEL", LIVE_MODEL)
    return server


@pytest.fixture
def short_budget(monkeypatch):
    """Interactive waits a tenth of the real ones, so that a silent server costs seconds, not half a minute."""
    monkeypatch.setattr(eh.config, "CALL_BUDGET", 3.0)
    monkeypatch.setattr(eh.config, "READ_TIMEOUT", 2.0)
    monkeypatch.setattr(eh.config, "CONNECT_TIMEOUT", 1.0)
    monkeypatch.setattr(eh.config, "RETRY_PAUSE", 0.1)


class FakeClock:
    """Time that moves only when the helper sleeps: pacing tests that never read the wall clock."""

    def __init__(self, start: float = 1000.0):
        self.time = start
        self.slept: list[float] = []
        self.lock = threading.Lock()

    def now(self) -> float:
        with self.lock:
            return self.time

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.slept.append(seconds)
            self.time += max(0.0, seconds)


@pytest.fixture
def fake_clock(monkeypatch):
    """The helper's pacing and waits run on a fake clock (eh.pacing.now / eh.pacing.sleep)."""
    clock = FakeClock()
    monkeypatch.setattr(eh.pacing, "now", clock.now)
    monkeypatch.setattr(eh.pacing, "sleep", clock.sleep)
    return clock
