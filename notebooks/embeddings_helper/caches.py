"""The shipped datasets, and their embeddings cached as JSON files.

    data/embeddings/   the shipped caches, tracked by git
    EMBEDDINGS_DIR     where caches are built, and looked for first: EMBEDDINGS_CACHE_DIR if set,
                       otherwise data/embeddings/ as well (git ignores the files built there)

A build never loses work: vectors whose text has not changed are reused, every answer is checked
before it is kept, progress is saved after each request in a staging file (``<cache>.partial``),
and the cache itself is replaced only by a complete one. Two builds of one cache wait for each
other. When nothing can be written (a read-only checkout, a full disk), the vectors are kept in
memory for the session, with a warning.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import sys
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from . import config, pacing
from .config import BATCH_SIZE, DATA_DIR, DATASETS, LOCAL_MODELS, REPO_ROOT, Provider, get_provider
from .embedding import _check_batch_size, _check_dimensions, _embed, remote_batches
from .errors import CacheError, ConfigurationError, ProviderError
from .storage import EmbeddingSet, build_lock, read_embeddings_file, remove_orphans, write_json_atomic

SHIPPED_DIR = DATA_DIR / "embeddings"


def _cache_dir() -> Path:
    """EMBEDDINGS_CACHE_DIR from the environment or .env (relative to the repository), or data/embeddings/."""
    try:
        folder = config._settings().get("EMBEDDINGS_CACHE_DIR", "").strip()
    except ConfigurationError:  # an unreadable .env is reported when the provider is read
        folder = os.environ.get("EMBEDDINGS_CACHE_DIR", "").strip()
    return REPO_ROOT / Path(folder).expanduser() if folder else SHIPPED_DIR


EMBEDDINGS_DIR = _cache_dir()
_in_memory: dict[str, EmbeddingSet] = {}  # what could not be saved, by the path it was meant for


class CacheWarning(UserWarning):
    """Embeddings could not be saved; they are kept in memory for this session."""


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


def _text_hash(text: str) -> str:
    """Short, per text: enough to tell whether a row's text changed since its vector was made."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ---------------------------------------------------------------- where caches are


def cache_path(dataset: str, model: str, dimensions: int | None = None) -> Path:
    """EMBEDDINGS_DIR/<dataset>__<model>.json, or ...__<model>__<d>d.json for shortened vectors."""
    slug = re.sub(r"[^a-z0-9]+", "-", model.lower()).strip("-")
    suffix = f"__{dimensions}d" if dimensions else ""
    return EMBEDDINGS_DIR / f"{dataset}__{slug}{suffix}.json"


def _candidates(path: Path) -> list[Path]:
    """Where a cache may be: where it is built, then among the shipped ones."""
    places = [path, SHIPPED_DIR / path.name]
    return [f for i, f in enumerate(places) if f.exists() and f not in places[:i]]


def _advice(path: Path) -> str:
    """What to do with a file that cannot be read: depends on whose file it is."""
    folder = path.resolve().parent
    if folder == SHIPPED_DIR.resolve():
        return f"restore it with `git checkout -- {path.relative_to(REPO_ROOT)}`, or delete it to rebuild it."
    if folder == EMBEDDINGS_DIR.resolve():
        return "delete it, and it will be built again."
    return "check that it is the file you meant: load_embeddings() reads a JSON object of {title: [numbers]}."


def _read(path: Path) -> EmbeddingSet:
    return read_embeddings_file(path, _advice(path))


# ---------------------------------------------------------------- building a cache


def build_cache(
    dataset: str,
    provider: Provider | None = None,
    dimensions: int | None = None,
    *,
    force: bool = False,
    batch_size: int = BATCH_SIZE,
) -> EmbeddingSet:
    """Embed a shipped dataset with a provider and save it in EMBEDDINGS_DIR (see the top of this module).

    Only the texts without a vector yet are sent: new rows, edited rows, and what an interrupted build
    did not reach. ``force`` sends them all again. A file that belongs to another model is never replaced.
    """
    p = provider or get_provider()
    batch_size = _check_batch_size(batch_size)
    dimensions = _check_dimensions(dimensions if dimensions is not None else p.dimensions, p)
    texts = dataset_texts(dataset)
    path = cache_path(dataset, p.model, dimensions)
    staging = path.with_name(path.name + ".partial")

    def waiting():
        print(f"Another process is building {path.name}; waiting for it to finish…", file=sys.stderr)

    with build_lock(path, timeout=config.BUILD_BUDGET, on_wait=waiting):
        remove_orphans(path)
        remove_orphans(staging)
        on_disk = {f: _read(f) for f in _candidates(path)}
        model = on_disk[path].info.get("model") if path in on_disk else p.model
        if model != p.model:  # checked even with force: a file that belongs to another model is never replaced
            raise CacheError(
                f"{path} holds vectors of {model!r}, not {p.model!r}; it was not changed. Move it away first."
            )
        sources = [_in_memory.get(str(path)), _in_memory.get(str(staging)), *on_disk.values()]
        sources.append(_read_staging(staging, p.model))
        finished = [s for s in sources if s is not None and _is_current(s, texts)]
        if finished and not force:  # e.g. another process built it while this one waited
            return finished[0]
        vectors = {} if force else _reusable(texts, [s for s in sources if s is not None])
        return _embed_missing(p, dataset, texts, vectors, dimensions, batch_size, path, staging)


def _embed_missing(p, dataset, texts, vectors, dimensions, batch_size, path, staging) -> EmbeddingSet:
    """Embed the texts without a vector, saving progress after each request; save the complete cache."""
    from tqdm.auto import tqdm

    hashes = {k: _text_hash(t) for k, t in texts.items()}
    todo = [k for k in texts if k not in vectors]
    in_process = p.is_local or p.host == "sentence-transformers"
    writable = True

    def payload(complete: bool) -> dict:
        keys = [k for k in texts if k in vectors]
        return {
            "dataset": dataset,
            "model": p.model,
            "provider": p.host,
            "dimensions": len(vectors[keys[0]]) if keys else dimensions,
            "text": DATASETS[dataset][2],
            "texts_sha256": _texts_sha256(texts),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "complete": complete,
            "count": len(keys),
            "text_hashes": {k: hashes[k] for k in keys},
            "embeddings": {k: vectors[k] for k in keys},
        }

    with tqdm(total=len(todo), desc=f"{dataset} with {p.model}", unit="text", disable=in_process or not todo) as bar:
        if in_process:
            batches = [(0, _embed(p, [texts[k] for k in todo], dimensions, batch_size, progress=False))] if todo else []
        else:
            patience = pacing.for_builds(None if bar.disable else bar)
            batches = remote_batches(p, [texts[k] for k in todo], dimensions, batch_size, patience)
        try:
            for start, matrix in batches:
                rows = np.round(matrix.astype(np.float64), 7).tolist()  # 7 decimals: float32 precision, smaller JSON
                _check_same_width(rows[0], vectors, path)
                vectors.update(zip(todo[start : start + len(rows)], rows, strict=True))
                bar.update(len(rows))
                if len(vectors) < len(texts) and writable:
                    writable = _save(staging, payload(complete=False))
        except ProviderError as err:
            if vectors:
                raise ProviderError(
                    f"{err} The {len(vectors)} vectors made so far are kept: run it again to continue."
                ) from None
            raise
    final = payload(complete=True)
    saved = _save(path, final, warn=writable)  # one warning per build is enough
    if saved:
        staging.unlink(missing_ok=True)
        _in_memory.pop(str(staging), None)
    info = {k: v for k, v in final.items() if k not in ("embeddings", "text_hashes")}
    return EmbeddingSet(final["embeddings"], {**info, "path": str(path) if saved else None}, final["text_hashes"])


def _read_staging(staging: Path, model: str) -> EmbeddingSet | None:
    """The progress of an interrupted build, if any (a broken one is simply not used)."""
    if not staging.exists():
        return None
    try:
        progress = read_embeddings_file(staging, "")
    except CacheError:
        return None
    return progress if progress.info.get("model") == model else None


def _is_current(cached: EmbeddingSet, texts: Mapping[str, str]) -> bool:
    """Complete, and made from exactly these texts."""
    return cached.info.get("complete", True) and cached.info.get("texts_sha256") in (None, _texts_sha256(texts))


def _reusable(texts: Mapping[str, str], sources: list[EmbeddingSet]) -> dict[str, list[float]]:
    """The vectors, among ``sources``, that were made from the same text as now."""
    whole = _texts_sha256(texts)
    found: dict[str, list[float]] = {}
    for source in sources:
        same_texts = source.info.get("texts_sha256") == whole
        for key, text in texts.items():
            if key in source and key not in found and (same_texts or source.text_hashes.get(key) == _text_hash(text)):
                found[key] = source[key]
    return found


def _check_same_width(row: list[float], vectors: Mapping[str, list[float]], path: Path) -> None:
    if vectors and len(row) != len(next(iter(vectors.values()))):
        raise CacheError(
            f"The provider now returns {len(row)}-dimensional vectors, but {path.name} holds "
            f"{len(next(iter(vectors.values())))}-dimensional ones (did the model change?): rebuild it with force=True."
        )


def _save(target: Path, payload: dict, warn: bool = True) -> bool:
    """Write ``payload`` to ``target``; when that is impossible, keep it in memory and say so."""
    try:
        write_json_atomic(target, payload)
        return True
    except OSError as err:
        info = {k: v for k, v in payload.items() if k not in ("embeddings", "text_hashes")}
        _in_memory[str(target)] = EmbeddingSet(payload["embeddings"], {**info, "path": None}, payload["text_hashes"])
        if not warn:
            return False
        warnings.warn(
            f"Could not save {target.name} in {target.parent} ({err.strerror or err}): the vectors are kept in "
            f"memory for this session only. To keep them, set EMBEDDINGS_CACHE_DIR to a folder you can write to.",
            CacheWarning,
            stacklevel=4,
        )
        return False


# ---------------------------------------------------------------- loading


def load_embeddings(dataset_or_path: str | os.PathLike, model: str | None = None) -> EmbeddingSet:
    """Key -> vector for a shipped dataset (``"movies"``, ``"words"``) or a JSON file.

    For a dataset, the vectors come from the cache for the active provider's model (or ``model``,
    e.g. ``MINILM_MODEL``); when the active provider has no cache yet, or its cache is out of date
    with the CSV, the dataset is embedded (only what is missing) and saved. A path may point to one
    of this project's cache files or to a plain ``{"title": [numbers], ...}`` file.
    """
    if str(dataset_or_path) not in DATASETS:
        path = Path(dataset_or_path).expanduser()
        if not path.is_absolute() and not path.exists():
            path = REPO_ROOT / path  # relative to the repository, as well as to the notebook
        if not path.exists():
            raise CacheError(
                f"No embeddings file at {dataset_or_path!s}. Use 'movies' or 'words', or the path to a JSON file."
            )
        return _read(path)

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
    if str(path) in _in_memory:  # built earlier in this session, but it could not be saved
        return _in_memory[str(path)]
    found = _candidates(path)
    texts = dataset_texts(dataset)
    for candidate in found:
        cached = _read(candidate)
        if cached.info.get("model") != name:
            raise CacheError(f"{candidate} holds vectors of {cached.info.get('model')!r}, not {name!r}.")
        if _is_current(cached, texts):
            return cached
    if found and p is None:
        raise CacheError(
            f"{found[0]} does not match data/{DATASETS[dataset][0]} any more, and {name} is not the active "
            f"provider's model, so it cannot be rebuilt here. See README.md, 'Rebuilding the data'."
        )
    if p is None:
        available = sorted(
            {f.name for folder in (EMBEDDINGS_DIR, SHIPPED_DIR) for f in folder.glob(f"{dataset}__*.json")}
        )
        raise CacheError(
            f"No cached {dataset} embeddings for {name}. Cached: {', '.join(available) or 'none'}. "
            f"Build one with: python scripts/build_cache.py {dataset} (with API_HOST set for that model)."
        )
    return build_cache(dataset, p)  # embeds only what is missing or changed


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
