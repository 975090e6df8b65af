"""Plumbing for the lessons: which embedding provider is active, a client for it,
and the shipped datasets with their cached embeddings.

The lessons' own ideas (similarity, search, quantization, ...) are written out in
the notebooks; this package only connects them to a model and to the data.

    from embeddings_helper import embed, load_embeddings, describe_provider
    from embeddings_helper import connect_database, database_url_description  # lesson 07

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
    database.py   lesson 07's PostgreSQL: DATABASE_URL, or an embedded server
"""

from . import caches, config, database, embedding, local, pacing, redact, remote, storage
from .caches import (
    EMBEDDINGS_DIR,
    SHIPPED_DIR,
    CacheWarning,
    build_cache,
    cache_path,
    dataset_texts,
    load_dataset,
    load_embeddings,
    load_reference,
)
from .config import (
    API_HOSTS,
    BATCH_SIZE,
    DATA_DIR,
    DATASETS,
    DEFAULT_MODELS,
    LOCAL_MODEL,
    LOCAL_MODELS,
    MINILM_MODEL,
    NATIVE_DIMENSIONS,
    REPO_ROOT,
    STATIC_MODEL,
    Provider,
    describe_provider,
    get_provider,
    supports_dimensions,
)
from .database import connect_database, database_url_description
from .embedding import embed, embed_query, local_response
from .errors import (
    CacheError,
    ConfigurationError,
    DatabaseError,
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
    "LOCAL_MODELS", "MINILM_MODEL", "NATIVE_DIMENSIONS", "REPO_ROOT", "SHIPPED_DIR", "STATIC_MODEL", "CacheError",
    "CacheWarning", "ConfigurationError", "DatabaseError", "DimensionMismatchError", "EmbeddingSet", "EmbeddingsError",
    "Provider", "ProviderError", "Secret", "ZeroVectorError", "build_cache", "cache_path", "caches", "config",
    "connect_database", "database", "database_url_description", "dataset_texts", "describe_provider", "embed",
    "embed_query", "embedding", "get_client", "get_provider", "load_dataset", "load_embeddings", "load_reference",
    "local", "local_response", "pacing", "redact", "remote", "storage", "supports_dimensions",
]
