"""Hosted providers through the openai SDK: one client per provider, and one request per batch.

The SDK's own retries are off for the helper's requests: ``request_vectors`` retries what may pass
on a second try (a timeout, a 429, a server error) within a time budget (see pacing.py), and turns
every failure into one sentence that says what happened and what to do.
"""

from __future__ import annotations

import base64
import json
import re
from functools import lru_cache

import numpy as np

from . import config, pacing
from .config import Provider, get_provider
from .errors import ConfigurationError, ProviderError
from .redact import redact, redact_url

NAMES = {"azure": "Azure OpenAI", "openai": "OpenAI", "ollama": "Ollama", "local": "The in-process model"}
ENDPOINT_VARIABLES = {
    "azure": "AZURE_OPENAI_ENDPOINT",
    "openai": "OPENAI_BASE_URL",
    "ollama": "OLLAMA_ENDPOINT",
    "local": "API_HOST",
}
MODEL_VARIABLES = {
    "azure": "AZURE_OPENAI_EMBEDDING_DEPLOYMENT",
    "openai": "OPENAI_EMBEDDING_MODEL",
    "ollama": "OLLAMA_EMBEDDING_MODEL",
    "local": "LOCAL_EMBEDDING_MODEL",
}
OFFLINE = "set API_HOST=local to work offline"
OFFLINE_ES = "pon API_HOST=local para trabajar sin conexión"


def say(english: str, spanish: str) -> str:
    """The message in the lesson's language (config.lesson_language())."""
    return spanish if config.lesson_language() == "es" else english
# How providers word "this request is too big" (tokens or texts); then the batch is halved and sent again.
TOO_LARGE = re.compile(
    r"too (large|long)|too many (tokens|inputs)|tokens_limit_reached|context length|max(imum)?\b[^.]{0,40}\btokens",
    re.IGNORECASE,
)
# A connection that closed before any answer (a restarted proxy, a server that dropped it): sent once more.
DROPPED = ("RemoteProtocolError", "ReadError", "WriteError", "ConnectionResetError", "BrokenPipeError")

# ---------------------------------------------------------------- clients


def get_client(provider: Provider | None = None):
    """An ``openai.OpenAI`` client for the active provider, for the lessons' own calls, on every host.

    With ``API_HOST=local`` its requests are answered in-process by the local model (see sdk.py): no
    socket, no port, the SDK's own response objects. ``client.embeddings.create(...)`` waits at most
    about 30 s in all, retries what may pass on a second try, turns a failure into one sentence (a
    ProviderError), and checks the vectors it returns the way ``embed()`` does.
    """
    from .sdk import lesson_client

    return lesson_client(provider or get_provider())


@lru_cache(maxsize=8)
def _client(p: Provider):
    """The client the helper itself uses: no retries of its own (``with_patience`` does them)."""
    import openai

    return openai.OpenAI(**client_options(p))


def client_options(p: Provider) -> dict:
    """How to build an ``openai.OpenAI`` for ``p``: its address, its key or Entra ID token provider (keyless
    Azure: azure-identity's bearer-token provider as the SDK's ``api_key``), and for ``local`` the
    in-process transport. SDK retries off, the helper's time limits."""
    import openai

    timeout = openai.Timeout(config.READ_TIMEOUT, connect=config.CONNECT_TIMEOUT)
    if p.is_local:
        from .sdk import local_http_client

        return dict(base_url=sdk_local_url(), api_key="local", max_retries=0, timeout=timeout,
                    http_client=local_http_client(p.model))  # fmt: skip
    api_key = p.api_key.value if p.api_key else None
    if p.use_azure_identity:
        try:
            from azure.identity import DefaultAzureCredential, get_bearer_token_provider
        except ImportError as err:
            raise ConfigurationError(
                "Keyless Azure needs azure-identity: pip install azure-identity (or set AZURE_OPENAI_API_KEY)."
            ) from err
        api_key = get_bearer_token_provider(DefaultAzureCredential(), "https://cognitiveservices.azure.com/.default")
    return dict(base_url=str(p.base_url), api_key=api_key, max_retries=0, timeout=timeout)


def sdk_local_url() -> str:
    """The base URL of the in-process client: never resolved, never connected to (``.invalid`` is reserved)."""
    return "http://in-process.invalid/v1"


def provider_name(p: Provider) -> str:
    """'Azure OpenAI', or 'The server at 127.0.0.1:8000' for an OpenAI-compatible server of your own."""
    if p.host == "openai" and p.base_url:
        host = redact_url(p.base_url).split("://", 1)[-1].split("/", 1)[0]
        return say(f"The server at {host}", f"El servidor en {host}")
    return NAMES[p.host]


# ---------------------------------------------------------------- one request


class BatchTooLarge(Exception):
    """The provider refused a request as too big: the caller sends smaller ones."""

    def __init__(self, server_text: str):
        super().__init__(server_text)
        self.server_text = server_text


def request_vectors(p: Provider, texts: list[str], dimensions: int | None, patience) -> list[list[float]]:
    """One request for ``texts``: their vectors, in order. Raises ProviderError, or BatchTooLarge."""
    extra = {"dimensions": dimensions} if dimensions else {}

    def send(timeout):
        return _client(p).embeddings.with_raw_response.create(
            model=p.model, input=texts, encoding_format="float", timeout=timeout, **extra
        )

    raw = with_patience(p, patience, send)
    return _vectors_from(raw.http_response, p, len(texts))


def with_patience(p: Provider, patience, send, *, passthrough=()):
    """``send(timeout)`` with the retries and waits ``patience`` allows: its answer, or one sentence.

    Retried: a read that timed out (``patience.read_retries`` times), a connection dropped before any
    answer (once), a 429 or a server error (``patience.retries`` times, after the wait the provider asks
    for or a growing pause). Nothing waits past ``patience.budget`` seconds from the first try: a wait
    that would is reported at once. Raises ProviderError (or BatchTooLarge, or any of ``passthrough``).
    ``patience.announce(reason)``, when set, is told what the request is waiting for (a progress bar).
    """
    import openai

    pacer = pacing.pacer_for(p)
    name = provider_name(p)
    started = pacing.now()
    deadline = started + patience.budget
    timeouts = failures = dropped = 0
    while True:
        wait, why = pacer.wait_time()  # the per-minute limit, or what the last refusal asked for
        if failures > patience.retries or (wait > 0 and wait + 1 > deadline - pacing.now()):  # +1 s to send
            raise ProviderError(_wait_message(p, pacer, wait, why, pacing.now() - started))
        if wait > 0:
            patience.wait(wait, f"{name}: {why}")
        left = deadline - pacing.now()
        pacer.record_request()
        if patience.announce:
            patience.announce(f"{name}: waiting for an answer (up to {pacing.duration(max(left, 0))})")
        try:
            answer = send(openai.Timeout(min(patience.read, left), connect=min(patience.connect, left)))
        except passthrough:
            raise
        except openai.APITimeoutError as err:
            if type(err.__cause__).__name__ == "ConnectTimeout":
                raise ProviderError(say(
                    f"Could not connect to {_url(err)} within {patience.connect:.0f} s: check the network and "
                    f"{ENDPOINT_VARIABLES[p.host]}, or {OFFLINE}.",
                    f"No se pudo conectar con {_url(err)} en {patience.connect:.0f} s: revisa la red y "
                    f"{ENDPOINT_VARIABLES[p.host]}, o {OFFLINE_ES}.",
                )) from None
            timeouts += 1
            if timeouts > patience.read_retries or deadline - pacing.now() < 0.5:
                seconds = f"{pacing.now() - started:.0f} s"
                raise ProviderError(say(
                    f"{name} accepted the connection but sent no answer in {seconds} "
                    f"({timeouts} tries): it may be overloaded, so try again later, or {OFFLINE}.",
                    f"{name} aceptó la conexión pero no respondió en {seconds} ({timeouts} intentos): puede "
                    f"estar sobrecargado; vuelve a intentarlo más tarde, o {OFFLINE_ES}.",
                )) from None
            continue
        except openai.APIConnectionError as err:
            if _dropped(err) and not dropped and deadline - pacing.now() > 1:
                dropped += 1  # closed before any answer: once more, on a new connection
                continue
            raise ProviderError(_connection_message(p, err, dropped)) from None
        except openai.APIStatusError as err:
            status, text = err.status_code, _server_text(err, p)
            pacer.learn(err.response.headers)
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
        pacer.learn(_headers_of(answer))
        return answer


def _dropped(err) -> bool:
    cause, seen = err.__cause__, 0
    while cause is not None and seen < 5:
        if type(cause).__name__ in DROPPED or "without sending a response" in str(cause):
            return True
        cause, seen = cause.__cause__ or cause.__context__, seen + 1
    return False


def _headers_of(answer):
    response = getattr(answer, "http_response", None) or getattr(answer, "_response", None)
    return getattr(response, "headers", None)


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


def _connection_message(p: Provider, err, dropped: int = 0) -> str:
    cause = str(err.__cause__ or err)
    variable = ENDPOINT_VARIABLES[p.host]
    if dropped or _dropped(err):
        return say(
            f"{provider_name(p)} closed the connection without an answer, twice: check the network and "
            f"{variable}, try again in a minute, or {OFFLINE}.",
            f"{provider_name(p)} cerró la conexión sin responder, dos veces: revisa la red y {variable}, "
            f"vuelve a intentarlo en un minuto, o {OFFLINE_ES}.",
        )
    if "refused" in cause.lower():
        start = "start Ollama (`ollama serve`) or " if p.host == "ollama" else ""
        start_es = "inicia Ollama (`ollama serve`) o " if p.host == "ollama" else ""
        return say(
            f"Nothing answers at {_url(err)} (connection refused): {start}check {variable}, or {OFFLINE}.",
            f"Nada responde en {_url(err)} (conexión rechazada): {start_es}revisa {variable}, o {OFFLINE_ES}.",
        )
    if any(
        s in cause for s in ("Name or service not known", "nodename nor servname", "getaddrinfo", "name resolution")
    ):
        host = _url(err).split("://", 1)[-1].split("/", 1)[0]
        return say(
            f"Could not find the host {host} (name lookup failed): check the network and {variable}, or {OFFLINE}.",
            f"No se encontró el servidor {host} (falló la búsqueda del nombre): revisa la red y {variable}, o "
            f"{OFFLINE_ES}.",
        )
    why = redact(cause, p.api_key)
    return say(
        f"Could not reach {_url(err)} ({why}): check the network and {variable}, or {OFFLINE}.",
        f"No se pudo llegar a {_url(err)} ({why}): revisa la red y {variable}, o {OFFLINE_ES}.",
    )


def _wait_message(p: Provider, pacer, wait: float, why: str, elapsed: float) -> str:
    name, later = provider_name(p), pacing.duration(wait)
    if why == "per-minute limit":
        n = pacer.limits.per_minute
        return say(
            f"{name} allows {n} requests a minute and they are used up: run the cell again in {later}, or {OFFLINE}.",
            f"{name} permite {n} peticiones por minuto y ya se usaron: vuelve a ejecutar la celda en {later}, o "
            f"{OFFLINE_ES}.",
        )
    if why == "quota used up":
        what = pacer.last_error or "requests"
        what_es = {"requests": "peticiones", "tokens": "tokens"}.get(what, what)
        return say(
            f"{name} says its {what} for now are used up (x-ratelimit headers): run the cell again in {later}, or "
            f"{OFFLINE}.",
            f"{name} dice que por ahora se acabaron sus {what_es} (encabezados x-ratelimit): vuelve a ejecutar la "
            f"celda en {later}, o {OFFLINE_ES}.",
        )
    if pacer.asked_to_wait and wait >= 1:
        return say(
            f"{name} asks to wait {later}: run the cell again after that, or {OFFLINE}.",
            f"{name} pide esperar {later}: vuelve a ejecutar la celda después, o {OFFLINE_ES}.",
        )
    if pacer.because == "429":
        return say(
            f"{name} is still refusing requests (429, too many): wait a minute and run the cell again, or {OFFLINE}.",
            f"{name} sigue rechazando peticiones (429, demasiadas): espera un minuto y vuelve a ejecutar la celda, "
            f"o {OFFLINE_ES}.",
        )
    return say(
        f"{name} kept failing ({pacer.because}: {pacer.last_error}) for {elapsed:.0f} s: try again in a few "
        f"minutes, or {OFFLINE}.",
        f"{name} siguió fallando ({pacer.because}: {pacer.last_error}) durante {elapsed:.0f} s: vuelve a intentarlo "
        f"en unos minutos, o {OFFLINE_ES}.",
    )


RETIREMENT_HEADERS = ("sunset", "deprecation", "x-deprecated", "x-sunset")


def _status_message(p: Provider, err, status: int, text: str) -> str:
    name = provider_name(p)
    headers = err.response.headers if err.response is not None else {}
    if status == 410 or (status == 403 and any(h in headers for h in RETIREMENT_HEADERS)):
        return say(
            f"{name} answered {status} ({text}): this service or the model {p.model!r} is gone (retired), so "
            f"asking again will not help. Choose a current model in {MODEL_VARIABLES[p.host]}, another "
            f"API_HOST (azure, openai or ollama), or {OFFLINE}.",
            f"{name} respondió {status} ({text}): este servicio o el modelo {p.model!r} ya no existe (fue "
            f"retirado), así que volver a pedirlo no servirá. Elige un modelo vigente en {MODEL_VARIABLES[p.host]}, "
            f"otro API_HOST (azure, openai u ollama), o {OFFLINE_ES}.",
        )
    if status in (401, 403):
        fix = {
            "azure": f"check {p.key_source}"
            if p.api_key
            else "check your `az login` and the 'Cognitive Services OpenAI User' role on the resource",
            "openai": f"check {p.key_source or 'OPENAI_API_KEY'} at https://platform.openai.com/api-keys",
            "ollama": "Ollama needs no key, so check OLLAMA_ENDPOINT",
            "local": "the in-process model needs no key",
        }[p.host]
        what = "refused the credentials" if status == 401 else f"denied access to {p.model}"
        what_es = "rechazó las credenciales" if status == 401 else f"negó el acceso a {p.model}"
        return say(f"{name} {what} ({status}: {text}): {fix}.", f"{name} {what_es} ({status}: {text}): {fix}.")
    if 400 <= status < 500:  # 404 and 405 often mean a wrong endpoint, 400 a wrong model or dimensions
        variables = f"{MODEL_VARIABLES[p.host]} ({p.model!r}) and {ENDPOINT_VARIABLES[p.host]}"
        variables_es = variables.replace(" and ", " y ")
        return say(f"{_url(err)} answered {status} ({text}): check {variables}.",
                   f"{_url(err)} respondió {status} ({text}): revisa {variables_es}.")  # fmt: skip
    return say(
        f"{name} answered {status} ({text}) at {_url(err)}: try again later, or {OFFLINE}.",
        f"{name} respondió {status} ({text}) en {_url(err)}: vuelve a intentarlo más tarde, o {OFFLINE_ES}.",
    )


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
