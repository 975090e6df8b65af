"""Plumbing for the lessons: which embedding provider is active, a client for it,
and the shipped datasets with their cached embeddings.

The lessons' own ideas (similarity, search, quantization, ...) are written out in
the notebooks; this package only connects them to a model and to the data.

    from embeddings_helper import embed, load_embeddings, describe_provider

The provider comes from ``API_HOST`` in the environment or in ``.env`` at the
repository root (the real environment wins):

    github  GitHub Models, with GITHUB_TOKEN (the default in Codespaces)
    azure   Azure OpenAI, keyless through azure-identity, or AZURE_OPENAI_API_KEY
    openai  OpenAI.com, with OPENAI_API_KEY
    ollama  a local Ollama server
    local   a model shipped with the repository, in-process: no network, no key

With API_HOST unset: ``github`` when GITHUB_TOKEN is set, otherwise ``local``.

What lives where:

    config.py     API_HOST, .env, the Provider and its description; limits and time budgets
    redact.py     keys kept out of printed providers, URLs and error messages
    remote.py     hosted providers through the openai SDK: one request, its retries, its errors
    pacing.py     how long to wait for a provider, and how fast to send it requests
    local.py      the models that run in-process
    embedding.py  embed() and embed_query()
    storage.py    embeddings files: reading, atomic writing, a lock for builds
    caches.py     the datasets and their cached vectors
"""

from . import caches, config, embedding, local, pacing, redact, remote, storage
from .caches import (
    EMBEDDINGS_DIR,
    SHIPPED_DIR,
    CacheWarning,
    build_cache,
    cache_path,
    dataset_texts,
    load_dataset,
    load_embeddings,
)
from .config import (
    API_HOSTS,
    BATCH_SIZE,
    DATA_DIR,
    DATASETS,
    DEFAULT_MODELS,
    LOCAL_MODEL,
    MINILM_MODEL,
    NATIVE_DIMENSIONS,
    REPO_ROOT,
    Provider,
    describe_provider,
    get_provider,
    supports_dimensions,
)
from .embedding import embed, embed_query, local_response
from .errors import (
    CacheError,
    ConfigurationError,
    DimensionMismatchError,
    EmbeddingsError,
    ProviderError,
    ZeroVectorError,
)
from .redact import Secret
from .remote import get_client
from .storage import EmbeddingSet

__all__ = [
    "API_HOSTS", "BATCH_SIZE", "DATA_DIR", "DATASETS", "DEFAULT_MODELS", "EMBEDDINGS_DIR", "LOCAL_MODEL",
    "MINILM_MODEL", "NATIVE_DIMENSIONS", "REPO_ROOT", "SHIPPED_DIR", "CacheError", "CacheWarning",
    "ConfigurationError", "DimensionMismatchError", "EmbeddingSet", "EmbeddingsError", "Provider", "ProviderError",
    "Secret", "build_cache", "cache_path", "caches", "config", "dataset_texts", "describe_provider", "embed",
    "embed_query", "embedding", "get_client", "get_provider", "load_dataset", "load_embeddings", "local",
    "local_response", "pacing", "redact", "remote", "storage", "supports_dimensions", "ZeroVectorError",
]
