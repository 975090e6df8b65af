"""The collection the lessons measure search on: thousands of short texts written for this project,
each in English and in Spanish, with a category (data/sentences.csv; README.md, "The data and the models").

    from embeddings_helper import corpus
    texts = corpus.texts("es")        # the Spanish texts, in id order
    vectors = corpus.vectors("es")    # one row per text, magnitude 1, from the default local model

The vectors of the default local model ship in data/embeddings/collection/ as ``sentences-<language>__<model>.npy``
(2-byte floats) with a ``.json`` beside it that records the model, the count and a SHA-256 of the texts.
They are checked before they are trusted: a file that does not match data/sentences.csv is not used,
and the texts are embedded again, in-process, with a progress bar, and saved to EMBEDDINGS_DIR
(written atomically, the vectors first, so a crash never leaves a record of vectors that are not there).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import sys
import tempfile
from functools import cache
from pathlib import Path

import numpy as np

from .config import DATA_DIR, LOCAL_MODEL, LOCAL_MODELS, STATIC_MODEL, Provider
from .errors import CacheError
from .storage import say, write_json_atomic

CORPUS_FILE = DATA_DIR / "sentences.csv"
LANGUAGES = ("en", "es")
CATEGORIES = {  # the category column, and what a Spanish lesson calls each one
    "arts": "artes", "food": "comida", "health": "salud", "history": "historia", "home": "hogar",
    "money": "dinero", "science": "ciencia", "sports": "deportes", "technology": "tecnología", "travel": "viajes",
}  # fmt: skip


@cache
def rows() -> tuple[dict[str, str], ...]:
    """The rows of data/sentences.csv (id, category, en, es), checked, in id order."""
    with open(CORPUS_FILE, newline="", encoding="utf-8") as f:
        found = list(csv.DictReader(f))
    problems = []
    for number, row in enumerate(found, start=2):  # line 1 is the header
        if set(row) != {"id", "category", "en", "es"} or None in row.values():
            problems.append(f"line {number} does not have the four columns id, category, en, es")
        elif not (row["id"].isdigit() and row["category"] in CATEGORIES and row["en"].strip() and row["es"].strip()):
            problems.append(f"line {number} (id {row['id']!r}) has a bad id, an unknown category or an empty text")
    ids = [row.get("id") for row in found]
    if len(set(ids)) != len(ids):
        problems.append("some ids appear twice")
    if problems:
        raise CacheError(f"{CORPUS_FILE}: {'; '.join(problems[:3])}. Correct the file "
                         f"(see README.md, 'The data and the models').")
    return tuple(sorted(found, key=lambda row: int(row["id"])))


def language_of(value) -> str | None:
    """"en" or "es" when ``value`` names one of the collection's languages (capitals and spaces forgiven), else None."""
    name = value.strip().lower() if isinstance(value, str) else None
    return name if name in LANGUAGES else None


def texts(language: str = "en") -> list[str]:
    """The texts in ``language`` ("en" or "es"), in id order."""
    return [row[_language(language)] for row in rows()]


def categories(language: str = "en") -> list[str]:
    """Each text's category, named in ``language``, in id order."""
    names = CATEGORIES if _language(language) == "es" else {c: c for c in CATEGORIES}
    return [names[row["category"]] for row in rows()]


def _language(language) -> str:
    if language not in LANGUAGES:
        raise ValueError(say(f"The collection is in 'en' or 'es', not {language!r}.",
                             f"La colección está en 'en' o 'es', no en {language!r}."))  # fmt: skip
    return language


def texts_sha256(language: str) -> str:
    return hashlib.sha256(json.dumps(texts(language), ensure_ascii=False).encode()).hexdigest()


def vectors_path(language: str, model: str = LOCAL_MODEL, folder: Path | None = None) -> Path:
    """Where the vectors of ``language`` by ``model`` live: collection/sentences-<language>__<model>.npy in
    EMBEDDINGS_DIR (or ``folder``), apart from the JSON caches of the datasets."""
    from .caches import EMBEDDINGS_DIR

    slug = re.sub(r"[^a-z0-9]+", "-", model.lower()).strip("-")
    return (folder or EMBEDDINGS_DIR) / "collection" / f"sentences-{_language(language)}__{slug}.npy"


def vectors(language: str = "en", model: str = LOCAL_MODEL, folder: Path | None = None) -> np.ndarray:
    """The collection's vectors (float32, rows of magnitude 1) in ``language`` by the local ``model``:
    the shipped or saved file when it matches the texts, otherwise embedded now and saved (in
    EMBEDDINGS_DIR, or ``folder``: scripts/build_collection.py saves the shipped ones in data/embeddings/)."""
    from .caches import SHIPPED_DIR

    if model not in LOCAL_MODELS:
        raise ValueError(say(f"The collection is embedded by a local model ({', '.join(LOCAL_MODELS)}), not {model!r}.",
                             f"La colección se convierte con un modelo local ({', '.join(LOCAL_MODELS)}), "
                             f"no con {model!r}."))  # fmt: skip
    path = vectors_path(language, model, folder)
    problems = []
    for candidate in dict.fromkeys([path, vectors_path(language, model, SHIPPED_DIR)]):
        problem = _mismatch(candidate, language, model)
        if problem is None:
            return _unit(np.load(candidate).astype(np.float32))
        problems.append(problem)
    n = len(texts(language))
    if model != STATIC_MODEL:  # the static model embeds thousands a second: no need to say it is working
        print(say(f"No saved vectors of the collection match data/sentences.csv ({problems[0]}): embedding its {n} "
                  f"texts with {model}, in-process, once.",
                  f"Ningún archivo de vectores de la colección coincide con data/sentences.csv ({problems[0]}): se "
                  f"convierten sus {n} textos con {model}, en tu computadora, una sola vez."),
              file=sys.stderr)  # fmt: skip
    return _unit(_embed_and_save(path, language, model).astype(np.float32))


def _mismatch(path: Path, language: str, model: str) -> str | None:
    """None when ``path`` and its record hold ``model``'s vectors of exactly these texts, else what is wrong."""
    record_path = path.with_suffix(".json")
    if not path.is_file() or not record_path.is_file():
        return say(f"{path.name} is missing", f"falta {path.name}")
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        matrix = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        return say(f"{path.name} cannot be read: {err}", f"{path.name} no se puede leer: {err}")
    expected = {"model": model, "language": language, "count": len(texts(language)),
                "texts_sha256": texts_sha256(language)}  # fmt: skip
    wrong = [key for key, value in expected.items() if record.get(key) != value]
    if wrong:
        return say(f"{path.name} records another {', '.join(wrong)}",
                   f"{path.name} registra otro valor de {', '.join(wrong)}")  # fmt: skip
    if matrix.ndim != 2 or matrix.shape[0] != expected["count"] or matrix.shape[1] != record.get("dimensions"):
        return say(f"{path.name} has the shape {matrix.shape}", f"{path.name} tiene la forma {matrix.shape}")
    if not np.isfinite(matrix).all() or not np.linalg.norm(matrix.astype(np.float32), axis=1).all():
        return say(f"{path.name} holds a vector that is not finite or is all zeros",
                   f"{path.name} contiene un vector no finito o de puros ceros")  # fmt: skip
    return None


def _embed_and_save(path: Path, language: str, model: str) -> np.ndarray:
    from .embedding import embed

    matrix = np.asarray(embed(texts(language), provider=Provider("local", model)), dtype=np.float16)
    norms = np.linalg.norm(matrix.astype(np.float32), axis=1)
    if not np.isfinite(matrix).all() or not norms.all():  # checked before it is saved, and before it is used
        bad = int(np.flatnonzero(~np.isfinite(matrix).all(axis=1) | (norms == 0))[0])
        raise CacheError(say(f"{model} gave text {bad} of the collection a vector that is not finite or is all zeros; "
                             f"nothing was saved. Report it with the text: {texts(language)[bad]!r}.",
                             f"{model} dio al texto {bad} de la colección un vector no finito o de puros ceros; no "
                             f"se guardó nada. Avísalo junto con el texto: {texts(language)[bad]!r}."))  # fmt: skip
    record = {"model": model, "language": language, "count": int(matrix.shape[0]), "dimensions": int(matrix.shape[1]),
              "dtype": "float16", "texts_sha256": texts_sha256(language), "source": "data/sentences.csv"}  # fmt: skip
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.save(f, matrix, allow_pickle=False)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        write_json_atomic(path.with_suffix(".json"), record)  # the record last: it vouches for the vectors
    except OSError as err:
        print(say(f"Could not save {path} ({err}); the vectors are kept for this session only.",
                  f"No se pudo guardar {path} ({err}); los vectores se conservan solo en esta sesión."),
              file=sys.stderr)  # fmt: skip
    return matrix


def _unit(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
