"""Hosted providers through the openai SDK: one client per provider, and one request per batch.

The SDK's own retries are off for the helper's requests: ``request_vectors`` retries what may pass
on a second try (a timeout, a 429, a server error) within a time budget (see pacing.py), and turns
every failure into one sentence that says what happened and what to do.
"""

from __future__ import annotations

import base64
import json
import re
import time
from functools import lru_cache

import numpy as np

from . import config, pacing
from .config import Provider, get_provider
from .errors import ConfigurationError, ProviderError
from .redact import redact, redact_url

NAMES = {"github": "GitHub Models", "azure": "Azure OpenAI", "openai": "OpenAI", "ollama": "Ollama"}
ENDPOINT_VARIABLES = {
    "github": "GITHUB_MODELS_ENDPOINT",
    "azure": "AZURE_OPENAI_ENDPOINT",
    "openai": "OPENAI_BASE_URL",
    "ollama": "OLLAMA_ENDPOINT",
}
MODEL_VARIABLES = {
    "github": "GITHUB_EMBEDDING_MODEL",
    "azure": "AZURE_OPENAI_EMBEDDING_DEPLOYMENT",
    "openai": "OPENAI_EMBEDDING_MODEL",
    "ollama": "OLLAMA_EMBEDDING_MODEL",
}
OFFLINE = "set API_HOST=local to work offline"
# How providers word "this request is too big" (tokens or texts); then the batch is halved and sent again.
TOO_LARGE = re.compile(
    r"too (large|long)|too many (tokens|inputs)|tokens_limit_reached|context length|max(imum)?\b[^.]{0,40}\btokens",
    re.IGNORECASE,
)

# ---------------------------------------------------------------- clients


def get_client(provider: Provider | None = None):
    """An ``openai.OpenAI`` client for the active provider (not for API_HOST=local), for the lessons' own
    calls: it gives up after 5 s without a connection or 20 s without an answer, and retries once."""
    p = provider or get_provider()
    if p.is_local:
        raise ConfigurationError(
            "API_HOST=local runs the shipped model in-process: there is no OpenAI client. "
            "Use embed(), or set API_HOST to github, azure, openai or ollama."
        )
    return _client(p).with_options(max_retries=config.CLIENT_MAX_RETRIES)


@lru_cache(maxsize=8)
def _client(p: Provider):
    """The client the helper itself uses: no retries of its own (request_vectors does them)."""
    import openai

    api_key = p.api_key.value if p.api_key else None
    if p.use_azure_identity:
        try:
            from azure.identity import DefaultAzureCredential, get_bearer_token_provider
        except ImportError as err:
            raise ConfigurationError(
                "Keyless Azure needs azure-identity: pip install azure-identity (or set AZURE_OPENAI_API_KEY)."
            ) from err
        api_key = get_bearer_token_provider(DefaultAzureCredential(), "https://cognitiveservices.azure.com/.default")
    timeout = openai.Timeout(config.READ_TIMEOUT, connect=config.CONNECT_TIMEOUT)
    return openai.OpenAI(base_url=p.base_url, api_key=api_key, max_retries=0, timeout=timeout)


def provider_name(p: Provider) -> str:
    """'GitHub Models', or 'The server at 127.0.0.1:8000' for an OpenAI-compatible server of your own."""
    if p.host == "openai" and p.base_url:
        return f"The server at {redact_url(p.base_url).split('://', 1)[-1].split('/', 1)[0]}"
    return NAMES[p.host]


# ---------------------------------------------------------------- one request


class BatchTooLarge(Exception):
    """The provider refused a request as too big: the caller sends smaller ones."""

    def __init__(self, server_text: str):
        super().__init__(server_text)
        self.server_text = server_text


def request_vectors(p: Provider, texts: list[str], dimensions: int | None, patience) -> list[list[float]]:
    """One request for ``texts``: their vectors, in order. Raises ProviderError, or BatchTooLarge."""
    import openai

    pacer = pacing.pacer_for(p)
    name = provider_name(p)
    started = time.monotonic()
    deadline = started + patience.budget
    extra = {"dimensions": dimensions} if dimensions else {}
    timeouts = failures = 0
    while True:
        wait, why = pacer.wait_time()  # the per-minute limit, or what the last refusal asked for
        if failures > patience.retries or (wait > 0 and wait + 1 > deadline - time.monotonic()):  # +1 s to send
            raise ProviderError(_wait_message(p, pacer, wait, why, time.monotonic() - started))
        if wait > 0:
            patience.wait(wait, f"{name}: {why}")
        left = deadline - time.monotonic()
        read = min(patience.read, left)
        pacer.record_request()
        try:
            raw = _client(p).embeddings.with_raw_response.create(
                model=p.model,
                input=texts,
                encoding_format="float",
                timeout=openai.Timeout(read, connect=min(patience.connect, left)),
                **extra,
            )
        except openai.APITimeoutError as err:
            if type(err.__cause__).__name__ == "ConnectTimeout":
                raise ProviderError(
                    f"Could not connect to {_url(err)} within {patience.connect:.0f} s: check the network and "
                    f"{ENDPOINT_VARIABLES[p.host]}, or {OFFLINE}."
                ) from None
            timeouts += 1
            if timeouts > patience.read_retries or deadline - time.monotonic() < 0.5:
                raise ProviderError(
                    f"{name} accepted the connection but sent no answer in {time.monotonic() - started:.0f} s "
                    f"({timeouts} tries): it may be overloaded, so try again later, or {OFFLINE}."
                ) from None
            continue
        except openai.APIConnectionError as err:
            raise ProviderError(_connection_message(p, err)) from None
        except openai.APIStatusError as err:
            status, text = err.status_code, _server_text(err, p)
            # Too big for the provider (tokens or texts): the caller halves the batch.
            if status == 413 or (TOO_LARGE.search(text) and (status != 429 or "too large" in text.lower())):
                raise BatchTooLarge(text) from None
            # Worth another try: after the wait the provider asks for, or after a growing pause.
            if status in (408, 409, 429) or status >= 500:
                failures += 1
                asked = pacing.retry_after(err.response.headers)
                backoff = min(config.RETRY_PAUSE * 2 ** (failures - 1), 8.0)
                pacer.hold(
                    asked if asked is not None else backoff, because=str(status), asked=asked is not None, error=text
                )
                continue
            raise ProviderError(_status_message(p, err, status, text)) from None
        except _azure_sign_in_errors() as err:
            raise ProviderError(
                f"Keyless Azure found no signed-in identity ({type(err).__name__}): run `az login` (the "
                f"'Cognitive Services OpenAI User' role on the resource is needed too), or set AZURE_OPENAI_API_KEY."
            ) from None
        return _vectors_from(raw.http_response, p, len(texts))


def _azure_sign_in_errors() -> tuple[type[BaseException], ...]:
    try:
        from azure.core.exceptions import ClientAuthenticationError
    except ImportError:
        return ()
    return (ClientAuthenticationError,)


# ---------------------------------------------------------------- what went wrong, in one sentence


def _url(err) -> str:
    try:
        return redact_url(str(err.request.url))
    except (AttributeError, RuntimeError):
        return "the server"


def _server_text(err, p: Provider) -> str:
    """The server's own words about an error, short, and with any key it echoed hidden."""
    body = err.body
    if isinstance(body, dict):
        body = body.get("error", body)
        if isinstance(body, dict):
            body = body.get("message") or body.get("code") or json.dumps(body)
    if not isinstance(body, str) or not body.strip():
        try:
            body = err.response.text
        except Exception:  # the body could not be read: the status code says enough
            body = ""
    text = " ".join(re.sub(r"<[^>]+>", " ", body).split())  # an HTML error page becomes its text
    text = redact(text, p.api_key)
    return text[:200] + ("…" if len(text) > 200 else "") or "no details"


def _connection_message(p: Provider, err) -> str:
    cause = str(err.__cause__ or err)
    variable = ENDPOINT_VARIABLES[p.host]
    if "refused" in cause.lower():
        start = "start Ollama (`ollama serve`) or " if p.host == "ollama" else ""
        return f"Nothing answers at {_url(err)} (connection refused): {start}check {variable}, or {OFFLINE}."
    if any(
        s in cause for s in ("Name or service not known", "nodename nor servname", "getaddrinfo", "name resolution")
    ):
        host = _url(err).split("://", 1)[-1].split("/", 1)[0]
        return f"Could not find the host {host} (name lookup failed): check the network and {variable}, or {OFFLINE}."
    return f"Could not reach {_url(err)} ({redact(cause, p.api_key)}): check the network and {variable}, or {OFFLINE}."


def _wait_message(p: Provider, pacer, wait: float, why: str, elapsed: float) -> str:
    name = provider_name(p)
    if why == "per-minute limit":
        return (
            f"{name} allows {pacer.limits.per_minute} requests a minute and they are used up: run the cell again "
            f"in {pacing.duration(wait)}, or {OFFLINE}."
        )
    if pacer.asked_to_wait and wait >= 1:
        daily = p.host == "github" and wait > 600  # longer than any per-minute limit
        daily = " (the free tier's 150 requests a day are probably used up)" if daily else ""
        return f"{name} asks to wait {pacing.duration(wait)}{daily}: run the cell again after that, or {OFFLINE}."
    if pacer.because == "429":
        return f"{name} is still refusing requests (429, too many): wait a minute and run the cell again, or {OFFLINE}."
    return (
        f"{name} kept failing ({pacer.because}: {pacer.last_error}) for {elapsed:.0f} s: try again in a few "
        f"minutes, or {OFFLINE}."
    )


def _status_message(p: Provider, err, status: int, text: str) -> str:
    name = provider_name(p)
    if status in (401, 403):
        fix = {
            "github": f"check {p.key_source or 'GITHUB_TOKEN'}: it needs the 'models' permission",
            "azure": f"check {p.key_source}"
            if p.api_key
            else "check your `az login` and the 'Cognitive Services OpenAI User' role on the resource",
            "openai": f"check {p.key_source or 'OPENAI_API_KEY'} at https://platform.openai.com/api-keys",
            "ollama": "Ollama needs no key, so check OLLAMA_ENDPOINT",
        }[p.host]
        what = "refused the credentials" if status == 401 else f"denied access to {p.model}"
        return f"{name} {what} ({status}: {text}): {fix}."
    if 400 <= status < 500:  # 404 and 405 often mean a wrong endpoint, 400 a wrong model or dimensions
        variables = f"{MODEL_VARIABLES[p.host]} ({p.model!r}) and {ENDPOINT_VARIABLES[p.host]}"
        return f"{_url(err)} answered {status} ({text}): check {variables}."
    return f"{name} answered {status} ({text}) at {_url(err)}: try again later, or {OFFLINE}."


# ---------------------------------------------------------------- the answer


def _vectors_from(response, p: Provider, n: int) -> list[list[float]]:
    """The rows of an embeddings answer, in the order of the texts; anything else is a ProviderError."""
    where = f"{redact_url(str(response.url))} answered"
    check = f"check {ENDPOINT_VARIABLES[p.host]}: it should be an OpenAI-compatible API (it usually ends in /v1)"
    body = response.text
    try:
        payload = json.loads(body)
    except ValueError:
        if "<html" in body[:1000].lower() or "<!doctype" in body[:1000].lower():
            what = "a web page (HTML)"
        else:
            what = f"text that is not JSON ({' '.join(body.split())[:60]!r})" if body.strip() else "an empty body"
        raise ProviderError(f"{where} with {what} instead of embeddings: {check}.") from None
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list):
        if isinstance(payload, dict) and payload.get("error"):
            error = payload["error"].get("message") if isinstance(payload["error"], dict) else payload["error"]
            raise ProviderError(f"{where} with an error instead of embeddings ({redact(str(error), p.api_key)}).")
        sent = ", ".join(map(str, payload)) if isinstance(payload, dict) else type(payload).__name__
        raise ProviderError(f"{where} without the list of embeddings, 'data' (it sent: {sent[:80]}): {check}.")
    if len(data) != n:
        raise ProviderError(f"{provider_name(p)} returned {len(data)} vectors for {n} texts; run the cell again.")
    rows: list = [None] * n
    for position, item in enumerate(data):
        vector = item.get("embedding") if isinstance(item, dict) else None
        index = item.get("index", position) if isinstance(item, dict) else None
        if isinstance(vector, str):  # base64 floats, as some servers send whatever was asked
            vector = np.frombuffer(base64.b64decode(vector), dtype="<f4").tolist()
        if not isinstance(vector, list) or not isinstance(index, int) or not 0 <= index < n or rows[index] is not None:
            raise ProviderError(
                f"{where} with a malformed item {position}: each needs an 'embedding' (a list of numbers) and an "
                f"'index' from 0 to {n - 1}; {check}."
            )
        rows[index] = vector
    return rows
