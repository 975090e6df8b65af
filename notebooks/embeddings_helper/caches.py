"""The shipped datasets, and their embeddings cached as JSON files.

    data/embeddings/   the shipped caches, tracked by git
    EMBEDDINGS_DIR     where caches are built, and looked for first: EMBEDDINGS_CACHE_DIR if set,
                       otherwise data/embeddings/ as well (git ignores the files built there)

A cache is used only when it matches its dataset: one vector per row of the CSV (its "complete"
flag alone is not enough), of the model's width, every one finite and not zero (see _mismatch and
storage.check_vectors). One that does not match is completed, embedding only what it lacks, when
the active provider can; otherwise the error names the file and how to fix it.

A build never loses work: vectors whose text has not changed are reused, every answer is checked
before it is kept, progress is saved after each request in a staging file (``<cache>.partial``),
and the cache itself is replaced only by a complete one, checked before it is saved. Two builds of
one cache wait for each other, whichever OS users run them (storage.build_lock). When nothing can
be written (a read-only checkout, a full disk), the vectors are kept in memory for the session,
with a warning.
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
from .config import (
    BATCH_SIZE,
    DATA_DIR,
    DATASETS,
    LOCAL_MODELS,
    NATIVE_DIMENSIONS,
    REPO_ROOT,
    Provider,
    get_provider,
)
from .embedding import _check_batch_size, _check_dimensions, _embed, remote_batches, with_task_prefix
from .errors import CacheError, ConfigurationError, ProviderError
from .storage import (
    EmbeddingSet,
    build_lock,
    check_vectors,
    read_embeddings_file,
    remove_orphans,
    say,
    write_json_atomic,
)

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
    return [f for i, f in enumerate(places) if _visible(f) and f not in places[:i]]


def _visible(path: Path) -> bool:
    """Whether ``path`` exists for this user: a folder it may not look into (another user's clone) hides it."""
    try:
        return path.exists()
    except PermissionError:
        return False


def _advice(path: Path, rebuild: str | None = None) -> str:
    """What to do with a file that cannot be read or used: depends on whose file it is.
    ``rebuild`` is how to build it again (by default, load_embeddings(<its dataset>, force=True))."""
    folder = path.resolve().parent
    if rebuild is None:
        dataset = path.name.split("__", 1)[0]
        rebuild = f"load_embeddings({dataset if dataset in DATASETS else '...'!r}, force=True)"
    if folder == SHIPPED_DIR.resolve():
        where = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
        return say(
            f"restore it with `git checkout -- {where}`, or rebuild it with {rebuild}.",
            f"restáuralo con `git checkout -- {where}`, o vuelve a construirlo con {rebuild}.",
        )
    if folder == EMBEDDINGS_DIR.resolve():
        return say(
            f"rebuild it with {rebuild} (or delete it, and it will be built again).",
            f"vuelve a construirlo con {rebuild} (o bórralo, y se construirá de nuevo).",
        )
    return say(
        "check that it is the file you meant: load_embeddings() reads a JSON object of {title: [numbers]}.",
        "revisa que sea el archivo que querías: load_embeddings() lee un objeto JSON de {título: [números]}.",
    )


def _native_width(model: str | None) -> int | None:
    """The width of a model's full vectors, when known without asking it."""
    if not model:
        return None
    return NATIVE_DIMENSIONS.get(model) or NATIVE_DIMENSIONS.get(model.split("/", 1)[-1])


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
    width = dimensions or _native_width(p.model)

    def waiting():
        print(f"Another process is building {path.name}; waiting for it to finish…", file=sys.stderr)

    with build_lock(path, timeout=config.BUILD_BUDGET, on_wait=waiting):
        remove_orphans(path)
        remove_orphans(staging)
        on_disk = {}
        for f in _candidates(path):
            try:
                on_disk[f] = _read(f)
            except CacheError:
                if not force:  # the message says how to fix it, force=True among the ways
                    raise
                if f == path:  # force ignores a broken file, but not one that belongs to another model
                    _check_model(path, _recorded_model(path), p.model)
        if path in on_disk:  # checked even with force: a file that belongs to another model is never replaced
            _check_model(path, on_disk[path].info.get("model"), p.model)
        sources = [_in_memory.get(str(path)), _in_memory.get(str(staging)), *on_disk.values()]
        sources = [s for s in [*sources, _read_staging(staging, p.model)] if s is not None]
        if force:
            return _embed_missing(p, dataset, texts, {}, dimensions, batch_size, path, staging)
        problems = {id(s): _mismatch(s, texts, width, dataset) for s in sources}
        finished = [s for s in sources if problems[id(s)] is None]
        if finished:  # e.g. another process built it while this one waited
            return finished[0]
        for s in on_disk.values():
            if s.info.get("complete", True) and s.info.get("texts_sha256") in (None, _texts_sha256(texts)):
                print(  # it claims to be complete and up to date, but is not: say why it is not used as it is
                    say(
                        f"{Path(s.info['path']).name} {problems[id(s)]}: embedding what is missing.",
                        f"{Path(s.info['path']).name} {problems[id(s)]}: se calcula lo que falta.",
                    ),
                    file=sys.stderr,
                )
        vectors = _reusable(texts, sources, width)
        return _embed_missing(p, dataset, texts, vectors, dimensions, batch_size, path, staging)


def _recorded_model(path: Path) -> str | None:
    """The model a (possibly broken) cache file says it holds, if it can be read at all."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data.get("model") if isinstance(data, dict) and isinstance(data.get("embeddings"), dict) else None


def _check_model(path: Path, model: str | None, expected: str) -> None:
    if model is not None and model != expected:
        raise CacheError(
            say(
                f"{path} holds vectors of {model!r}, not {expected!r}; it was not changed. Move it away first.",
                f"{path} contiene vectores de {model!r}, no de {expected!r}; no se modificó. Muévelo a otra "
                f"carpeta primero.",
            )
        )


def _embed_missing(p, dataset, texts, vectors, dimensions, batch_size, path, staging) -> EmbeddingSet:
    """Embed the texts without a vector, saving progress after each request; save the complete cache."""
    from tqdm.auto import tqdm

    hashes = {k: _text_hash(t) for k, t in texts.items()}
    todo = [k for k in texts if k not in vectors]
    width = dimensions or _native_width(p.model)
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
            documents = with_task_prefix(p.model, [texts[k] for k in todo], "document")  # rows are documents
            batches = [(0, _embed(p, documents, dimensions, batch_size, progress=False))] if todo else []
        else:
            patience = pacing.for_builds(None if bar.disable else bar)
            documents = with_task_prefix(p.model, [texts[k] for k in todo], "document")  # rows are documents
            batches = remote_batches(p, documents, dimensions, batch_size, patience)
        try:
            for start, matrix in batches:
                rows = np.round(matrix.astype(np.float64), 7).tolist()  # 7 decimals: float32 precision, smaller JSON
                _check_same_width(rows[0], vectors, path)
                vectors.update(zip(todo[start : start + len(rows)], rows, strict=True))
                bar.update(len(rows))
                if len(vectors) < len(texts) and writable:
                    writable = _save(staging, _checked(payload(complete=False), texts, width, staging))
        except ProviderError as err:
            if vectors:
                raise ProviderError(
                    f"{err} The {len(vectors)} vectors made so far are kept: run it again to continue."
                ) from None
            raise
    final = _checked(payload(complete=True), texts, width, path)
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


def _checked(payload: dict, texts: Mapping[str, str], width: int | None, target: Path) -> dict:
    """``payload`` if it would be trusted when read back (see _mismatch); a CacheError, and nothing saved, if not."""
    candidate = EmbeddingSet(payload["embeddings"], payload, payload["text_hashes"])
    try:
        check_vectors(target, payload["embeddings"], payload["dimensions"])
        problem = _mismatch(candidate, texts, width, payload["dataset"]) if payload["complete"] else None
    except CacheError as err:
        problem = str(err).rstrip(".")
    if problem:
        raise CacheError(
            say(
                f"{target.name} was not saved, because {problem}. Nothing was lost: run it again; if it happens "
                f"again, rebuild with load_embeddings({payload['dataset']!r}, force=True).",
                f"{target.name} no se guardó, porque {problem}. No se perdió nada: vuelve a ejecutarlo; si se "
                f"repite, reconstruye con load_embeddings({payload['dataset']!r}, force=True).",
            )
        )
    return payload


def _mismatch(cached: EmbeddingSet, texts: Mapping[str, str], width: int | None, dataset: str) -> str | None:
    """Why ``cached`` cannot be used as the cache of these texts, or None when it can.

    A cache is used only when it is complete, made from these texts, holds exactly one vector per
    row of the dataset (no more, no fewer, whatever it records), and its vectors have the model's
    width. (Its vectors themselves were checked when it was read: numbers, finite, not zero.)
    """
    csv_name = f"data/{DATASETS[dataset][0]}" if dataset in DATASETS else dataset
    if not cached.info.get("complete", True):
        return say("is an unfinished build", "es una construcción sin terminar")
    missing = [k for k in texts if k not in cached]
    extra = [k for k in cached if k not in texts]
    if missing:
        shown = ", ".join(repr(k) for k in missing[:3]) + (", …" if len(missing) > 3 else "")
        return say(
            f"holds {len(texts) - len(missing)} of the {len(texts)} rows of {csv_name} (missing: {shown})",
            f"contiene {len(texts) - len(missing)} de las {len(texts)} filas de {csv_name} (faltan: {shown})",
        )
    if extra:
        shown = ", ".join(repr(k) for k in extra[:3]) + (", …" if len(extra) > 3 else "")
        return say(
            f"holds {len(extra)} rows that {csv_name} does not have ({shown})",
            f"contiene {len(extra)} filas que {csv_name} no tiene ({shown})",
        )
    if _count_mismatch(cached):
        return _count_mismatch(cached)
    if width and cached.dimensions != width:
        model = cached.info.get("model") or say("its model", "su modelo")
        return say(
            f"holds {cached.dimensions}-dimensional vectors, but {model} makes {width}-dimensional ones here",
            f"contiene vectores de {cached.dimensions} dimensiones, pero {model} los da aquí de {width}",
        )
    if cached.info.get("texts_sha256") not in (None, _texts_sha256(texts)):
        return say(
            f"was made from other texts than {csv_name} holds now",
            f"se hizo con textos distintos de los que tiene ahora {csv_name}",
        )
    return None


def _count_mismatch(cached: EmbeddingSet) -> str | None:
    """Why the number of rows a cache records is not the number it holds, or None."""
    count = cached.info.get("count")
    if count is None or count == len(cached):
        return None
    return say(
        f"records {count} rows but holds {len(cached)}", f"dice tener {count} filas, pero contiene {len(cached)}"
    )


def _reusable(texts: Mapping[str, str], sources: list[EmbeddingSet], width: int | None) -> dict[str, list[float]]:
    """The vectors, among ``sources``, that were made from the same text as now, with the model's width
    (when it is known; otherwise the width of the first source that has some)."""
    whole = _texts_sha256(texts)
    found: dict[str, list[float]] = {}
    for source in sources:
        if not source or (width and source.dimensions != width):
            continue
        same_texts = source.info.get("texts_sha256") == whole
        before = len(found)
        for key, text in texts.items():
            if key in source and key not in found and (same_texts or source.text_hashes.get(key) == _text_hash(text)):
                found[key] = source[key]
        if len(found) > before:
            width = source.dimensions
    return found


def _check_same_width(row: list[float], vectors: Mapping[str, list[float]], path: Path) -> None:
    if vectors and len(row) != len(next(iter(vectors.values()))):
        held, dataset = len(next(iter(vectors.values()))), path.name.split("__", 1)[0]
        raise CacheError(
            say(
                f"The provider now returns {len(row)}-dimensional vectors, but {path.name} holds {held}-dimensional "
                f"ones (did the model change?): rebuild it with load_embeddings({dataset!r}, force=True).",
                f"El proveedor ahora da vectores de {len(row)} dimensiones, pero {path.name} los tiene de {held} "
                f"(¿cambió el modelo?): reconstrúyelo con load_embeddings({dataset!r}, force=True).",
            )
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


def load_embeddings(
    dataset_or_path: str | os.PathLike, model: str | None = None, *, force: bool = False
) -> EmbeddingSet:
    """Key -> vector for a shipped dataset (``"movies"``, ``"words"``) or a JSON file.

    For a dataset, the vectors come from the cache for the active provider's model (or ``model``,
    e.g. ``MINILM_MODEL``); when the active provider has no cache yet, or its cache does not match
    the CSV (rows missing or changed, an unfinished build, vectors of another width), the dataset is
    embedded (only what is missing) and saved. ``force=True`` ignores the existing cache and embeds
    the whole dataset again. A path may point to one of this project's cache files or to a plain
    ``{"title": [numbers], ...}`` file. Every file is checked before it is used: one width, finite
    numbers, no vector of zeros.
    """
    if str(dataset_or_path) not in DATASETS:
        if force:
            raise ValueError(
                say(
                    f"force=True rebuilds the cache of a dataset ({', '.join(map(repr, DATASETS))}); a file given "
                    f"by its path is read as it is: leave force out, or give the dataset's name.",
                    f"force=True reconstruye la caché de un conjunto de datos ({', '.join(map(repr, DATASETS))}); "
                    f"un archivo dado por su ruta se lee tal cual: quita force, o da el nombre del conjunto.",
                )
            )
        path = Path(dataset_or_path).expanduser()
        if not path.is_absolute() and not path.exists():
            path = REPO_ROOT / path  # relative to the repository, as well as to the notebook
        if not path.exists():
            raise CacheError(
                f"No embeddings file at {dataset_or_path!s}. Use 'movies' or 'words', or the path to a JSON file."
            )
        cached = _read(path)
        dataset = cached.info.get("dataset")
        if dataset in DATASETS and cached.info.get("complete", True):  # a cache of this project: is it whole?
            texts = dataset_texts(dataset)
            if cached.info.get("texts_sha256") in (None, _texts_sha256(texts)):
                problem = _mismatch(cached, texts, None, dataset)
            else:  # made from an older CSV, and asked for by name: only its own record can be checked
                problem = _count_mismatch(cached)
            if problem:
                raise CacheError(f"{path} {problem}: {_advice(path)}")
        return cached

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
    if force:
        if p is None:
            raise CacheError(
                say(
                    f"force=True embeds {dataset} again with the active provider, but {name} is not its model: "
                    f"set API_HOST (and its model variable) for {name}, then run this again. See README.md, "
                    f"'Rebuilding the data'.",
                    f"force=True vuelve a calcular {dataset} con el proveedor activo, pero {name} no es su modelo: "
                    f"configura API_HOST (y la variable de su modelo) para {name} y vuelve a ejecutar esto. "
                    f"Consulta README.md, 'Rebuilding the data'.",
                )
            )
        return build_cache(dataset, p, force=True)
    if str(path) in _in_memory:  # built earlier in this session, but it could not be saved
        return _in_memory[str(path)]
    found = _candidates(path)
    texts = dataset_texts(dataset)
    width = dims or _native_width(name)
    problems = {}
    for candidate in found:
        cached = _read(candidate)
        if cached.info.get("model") != name:
            raise CacheError(f"{candidate} holds vectors of {cached.info.get('model')!r}, not {name!r}.")
        problems[candidate] = _mismatch(cached, texts, width, dataset)
        if problems[candidate] is None:
            return cached
    if found and p is None:
        first = found[0]
        fix = _advice(first, "scripts/build_cache.py (README.md, 'Rebuilding the data')")
        raise CacheError(
            say(
                f"{first} {problems[first]}, and {name} is not the active provider's model, so it cannot be "
                f"rebuilt here: {fix}",
                f"{first} {problems[first]}, y {name} no es el modelo del proveedor activo, así que no se puede "
                f"reconstruir aquí: {fix}",
            )
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


def load_reference(model: str, dimensions: int | None = None, *, keys: str = "latam") -> EmbeddingSet:
    """Title -> vector from a real hosted model, shipped in data/reference/ (offline, no key).

    ``load_reference("text-embedding-ada-002")``, ``load_reference("text-embedding-3-small", 256)``, ...

    ``keys="latam"`` (the default) gives each vector the title its film has in data/peliculas.csv, its
    Latin American release ("Moana", "Zootopia"), found through that file's reference_title column; a
    film without a row there keeps its key. ``keys="file"`` keeps the titles the file was published with
    (the release titles of Spain: "Vaiana", "Zootrópolis"). The vectors are the same either way: they
    were made from the file's titles.
    """
    if keys not in ("file", "latam"):
        raise ValueError(f"keys={keys!r}: use 'file' (the file's own titles) or 'latam' (data/peliculas.csv's).")
    matches = [key for key in REFERENCE_FILES if key[0] == model and dimensions in (None, key[1])]
    if not matches:
        known = ", ".join(f"{m} ({d})" for m, d in REFERENCE_FILES)
        raise CacheError(f"No reference vectors for {model} with dimensions={dimensions}. There are: {known}.")
    model, width = max(matches, key=lambda key: key[1])  # the full width when dimensions is None
    path = REFERENCE_DIR / REFERENCE_FILES[model, width]
    vectors = load_embeddings(path)
    vectors.info.update(model=model, dimensions=width, source="OpenAI API, data/reference/", keys=keys)
    if keys == "latam":
        rows = load_dataset("peliculas")
        titles = {row["reference_title"]: row["title"] for row in rows if row.get("reference_title")}
        vectors = EmbeddingSet({titles.get(k, k): v for k, v in vectors.items()}, vectors.info)
    return vectors
