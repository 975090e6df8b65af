"""The real OpenAI SDK on every host, offline too.

``get_client()`` returns an ``openai.OpenAI``. With ``API_HOST=local`` its HTTP layer is an in-process
transport: ``POST /v1/embeddings`` is answered by the local model inside this Python process (no
socket, no port, nothing leaves the machine), so ``client.embeddings.create(model=..., input=...,
dimensions=...)`` is the same code on every host and returns the SDK's own ``CreateEmbeddingResponse``.

For the lessons, the client's ``embeddings.create`` also waits at most about 30 s in all (the helper's
time budget, see pacing.py), turns a timeout, a dropped connection, a 429, a server error or a 410 into
one sentence (a ProviderError), and checks the vectors it returns: numbers, finite, not zero, all the
same width, and as wide as asked.
"""

from __future__ import annotations

import base64
import json

import numpy as np
import openai
from openai.resources.embeddings import Embeddings

from . import pacing
from .config import LOCAL_MODELS, STATIC_MODEL, Provider, lesson_language
from .errors import ProviderError

try:  # the HTTP library of the pinned openai SDK
    import httpx2 as _http
except ImportError:  # pragma: no cover - older SDKs use httpx
    import httpx as _http


# ---------------------------------------------------------------- the in-process server


def _error(status: int, message: str, code: str) -> _http.Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}
    return _http.Response(status, json=body)


def _dimensions_refused(model: str) -> str:
    if lesson_language() == "es":
        return (
            f"{model} no acepta dimensions= (no fue entrenado para acortar sus vectores): quita dimensions, o usa "
            f"el modelo estático, cuyas dimensiones están ordenadas (LOCAL_EMBEDDING_MODEL={STATIC_MODEL})."
        )
    return (
        f"{model} does not accept dimensions= (it was not trained to be shortened): leave dimensions out, or use "
        f"the static model, whose dimensions are ordered (LOCAL_EMBEDDING_MODEL={STATIC_MODEL})."
    )


def answer_locally(request, default_model: str):
    """What an OpenAI-compatible server would answer to ``request``, computed by a local model."""
    from . import embedding, local

    if request.method != "POST" or not request.url.path.rstrip("/").endswith("/embeddings"):
        return _error(404, f"The in-process server only answers POST /v1/embeddings, not {request.url.path}.", "")
    try:
        body = json.loads(request.content or b"{}")
    except ValueError:
        return _error(400, "The request body is not JSON.", "invalid_json")
    model = body.get("model") or default_model
    if model not in LOCAL_MODELS:
        known = " and ".join(LOCAL_MODELS)
        return _error(404, f"The model {model!r} does not exist here: the in-process models are {known}.",
                      "model_not_found")  # fmt: skip
    texts = body.get("input")
    texts = [texts] if isinstance(texts, str) else texts
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        return _error(400, "input must be a text or a list of texts (token arrays need a hosted model).", "input")
    dimensions = body.get("dimensions")
    if dimensions is not None and model != STATIC_MODEL:
        return _error(400, _dimensions_refused(model), "dimensions_not_supported")
    try:
        vectors = embedding._embed(Provider("local", model), embedding._check_texts(texts), dimensions, len(texts),
                                   progress=False)  # fmt: skip
    except (ValueError, TypeError, ProviderError) as err:
        return _error(400, str(err), "invalid_input")
    if body.get("encoding_format") == "base64":
        rows = [base64.b64encode(v.astype("<f4").tobytes()).decode("ascii") for v in vectors]
    else:
        rows = [v.tolist() for v in vectors]
    tokens = local.count_tokens(model, texts)
    return _http.Response(200, json={
        "object": "list",
        "model": model,
        "data": [{"object": "embedding", "index": i, "embedding": row} for i, row in enumerate(rows)],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    })  # fmt: skip


class LocalTransport(_http.BaseTransport):
    """An httpx transport that answers in-process: the request never reaches a socket."""

    def __init__(self, model: str):
        self.model = model

    def handle_request(self, request):
        request.read()
        return answer_locally(request, self.model)


def local_http_client(model: str):
    """An HTTP client for the SDK whose requests are answered by the local ``model``."""
    return _http.Client(transport=LocalTransport(model))


# ---------------------------------------------------------------- the lessons' client


class CheckedEmbeddings(Embeddings):
    """``client.embeddings``: the SDK's own ``create``, within the helper's time budget, with its answer checked."""

    def create(self, **kwargs):
        from . import remote

        p = self._client.embeddings_provider
        patience = pacing.interactive()

        def send(timeout):
            return super(CheckedEmbeddings, self).create(**{"timeout": timeout, **kwargs})

        try:
            response = remote.with_patience(p, patience, send, passthrough=(openai.BadRequestError,))
        except remote.BatchTooLarge as err:
            raise ProviderError(
                f"{remote.provider_name(p)} refused the request as too large ({err.server_text}): send fewer or "
                f"shorter texts."
            ) from None
        check_response(p, response, kwargs.get("dimensions"))
        return response


class OpenAI(openai.OpenAI):
    """The SDK's client, with ``embeddings.create`` bounded in time and its answer checked (see above)."""

    embeddings_provider: Provider  # set on the class by lesson_client(), so that with_options() copies keep it

    @property
    def embeddings(self) -> Embeddings:  # a property, not cached: copies made by with_options() keep it
        return CheckedEmbeddings(self)


def lesson_client(p: Provider) -> OpenAI:
    """The lessons' client for ``p``: one request waits at most the helper's budget, SDK retries off
    (``with_patience`` retries what is worth retrying)."""
    from . import remote

    client_class = type("OpenAI", (OpenAI,), {"embeddings_provider": p, "__module__": OpenAI.__module__})
    return client_class(**remote.client_options(p))


def check_response(p: Provider, response, dimensions: int | None) -> None:
    """The checks ``embed()`` makes, on an SDK response: a ProviderError naming what is wrong."""
    from . import embedding, remote

    name = remote.provider_name(p)
    rows = [item.embedding for item in response.data]
    if not rows:
        raise ProviderError(f"{name} returned no vectors: run the cell again.")
    widths = sorted({len(row) for row in rows})
    if len(widths) > 1:
        raise ProviderError(f"{name} returned vectors of different widths ({widths[0]} to {widths[-1]}) in one answer.")
    try:
        matrix = np.asarray(rows, dtype=np.float64)
    except (TypeError, ValueError):
        raise ProviderError(f"{name} returned vectors that contain something other than numbers.") from None
    if dimensions and matrix.shape[1] != dimensions:
        raise ProviderError(
            f"{name} was asked for {dimensions} dimensions but returned {matrix.shape[1]}: it ignores dimensions=, "
            f"so leave it unset for this model."
        )
    embedding.check_directions(name, matrix)
