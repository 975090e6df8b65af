"""The shipped datasets, and their embeddings cached as JSON files in data/embeddings/."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import re
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .config import BATCH_SIZE, DATA_DIR, DATASETS, LOCAL_MODELS, REPO_ROOT, SAVE_EVERY, Provider, get_provider
from .embedding import _embed
from .errors import CacheError

EMBEDDINGS_DIR = Path(os.environ.get("EMBEDDINGS_CACHE_DIR") or DATA_DIR / "embeddings")

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
    elif model in LOCAL_MODELS:
        p = Provider("local", model)
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



# ---------------------------------------------------------------- reference vectors

REFERENCE_DIR = DATA_DIR / "reference"
#: Real vectors from hosted OpenAI models for 62 film titles in Spanish (see data/reference/README.md):
#: (model, width) -> file. Only a real hosted model shows some things: ada-002's narrow band of scores,
#: and that text-embedding-3's short vectors are its long ones cut and renormalized (MRL).
REFERENCE_FILES = {
    ("text-embedding-ada-002", 1536): "peliculas_text-embedding-ada-002.json",
    ("text-embedding-3-small", 1536): "peliculas_text-embedding-3-small-1536.json",
    ("text-embedding-3-small", 256): "peliculas_text-embedding-3-small-256.json",
    ("text-embedding-3-large", 256): "peliculas_text-embedding-3-large-256.json",
}


def load_reference(model: str, dimensions: int | None = None) -> EmbeddingSet:
    """Title -> vector from a real hosted model, shipped in data/reference/ (offline, no key).

    ``load_reference("text-embedding-ada-002")``, ``load_reference("text-embedding-3-small", 256)``, ...
    """
    matches = [key for key in REFERENCE_FILES if key[0] == model and dimensions in (None, key[1])]
    if not matches:
        known = ", ".join(f"{m} ({d})" for m, d in REFERENCE_FILES)
        raise CacheError(f"No reference vectors for {model} with dimensions={dimensions}. There are: {known}.")
    model, width = max(matches, key=lambda key: key[1])  # the full width when dimensions is None
    path = REFERENCE_DIR / REFERENCE_FILES[model, width]
    vectors = load_embeddings(path)
    vectors.info.update(model=model, dimensions=width, source="OpenAI API, data/reference/")
    return vectors
