"""Plumbing for the lessons: which embedding provider is active, a client for it,
and the shipped datasets with their cached embeddings.

The lessons' own ideas (similarity, search, quantization, ...) are written out in
the notebooks; this package only connects them to a model and to the data.

    from embeddings_helper import embed, load_embeddings, describe_provider
    from embeddings_helper import connect_database, database_url_description  # lesson 07

The provider comes from ``API_HOST`` in the environment or in ``.env`` at the
repository root (the real environment wins):

    local   (the default) a model that runs in-process: no network, no key
    azure   Microsoft Foundry / Azure OpenAI (v1 API), keyless through azure-identity, or AZURE_OPENAI_API_KEY
    openai  OpenAI.com with OPENAI_API_KEY, or any OpenAI-compatible server at OPENAI_BASE_URL
    ollama  an Ollama server (the Ollama dev container runs one)

With API_HOST unset the provider is ``local``, whatever tokens exist. (GitHub Models was retired on
2026-07-30: API_HOST=github stops at once and says what to set instead.) ``get_client()`` gives the
real ``openai.OpenAI`` on every host; on ``local`` its requests are answered in-process.

What lives where:

    config.py     API_HOST, .env, the Provider and its description; limits and time budgets
    redact.py     keys kept out of printed providers, URLs and error messages
    remote.py     providers through the openai SDK: one request, its retries, its errors
    sdk.py        get_client()'s openai.OpenAI: the in-process transport, the lessons' checked calls
    pacing.py     how long to wait for a provider, and how fast to send it requests
    local.py      the models that run in-process
    embedding.py  embed() and embed_query()
    storage.py    embeddings files: reading, atomic writing, a lock for builds
    caches.py     the datasets and their cached vectors
    corpus.py     the bilingual collection of short texts that lessons 03 and later measure search on
    database.py   lesson 07's PostgreSQL: DATABASE_URL, or an embedded server (watchdog.py stops it
                  with its kernel)
    lesson.py     the lessons' plumbing: parameter checks, title matching, fair timing, numbers
    plots.py      lesson 02's figures: labels that do not overlap, histograms, the 3-D projector
    arrows.py     lesson 04's 3-D arrows and camera geometry
    benchmarks.py lesson 03's recall and latency measurements

The lessons import the last four as modules: ``from embeddings_helper import lesson, plots``.
"""

from . import caches, config, corpus, database, embedding, local, pacing, redact, remote, storage  # sdk: on first use
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
    RETIRED_HOSTS,
    STATIC_MODEL,
    Provider,
    describe_provider,
    get_provider,
    native_dimensions,
    supports_dimensions,
    task_prefix,
)
from .database import connect_database, database_url_description
from .embedding import embed, embed_query, how_dimensions_were_made
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
    "LOCAL_MODELS", "MINILM_MODEL", "NATIVE_DIMENSIONS", "REPO_ROOT", "RETIRED_HOSTS", "SHIPPED_DIR", "STATIC_MODEL",
    "CacheError",
    "CacheWarning", "ConfigurationError", "DatabaseError", "DimensionMismatchError", "EmbeddingSet", "EmbeddingsError",
    "Provider", "ProviderError", "Secret", "ZeroVectorError", "build_cache", "cache_path", "caches", "config",
    "corpus",
    "connect_database", "database", "database_url_description", "dataset_texts", "describe_provider", "embed",
    "embed_query", "embedding", "get_client", "get_provider", "how_dimensions_were_made", "load_dataset",
    "load_embeddings", "load_reference", "local", "native_dimensions", "pacing", "redact", "remote", "storage",
    "supports_dimensions", "task_prefix",
]
