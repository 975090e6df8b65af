"""embed(): texts in, unit vectors out, whichever provider is active."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from . import local, remote
from .config import (
    BATCH_SIZE,
    LOCAL_MODEL,
    NATIVE_DIMENSIONS,
    Provider,
    _bare_model_name,
    get_provider,
    supports_dimensions,
)
from .errors import DimensionMismatchError

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
        return _normalize(local._sentence_transformer(p.model).encode(texts, batch_size=batch_size))
    if p.is_local:
        return _normalize(local.encode(p.model, texts, dimensions))

    batches = [texts[i : i + batch_size] for i in range(0, len(texts), batch_size)]
    if progress:
        batches = _progress(batches, len(batches), f"Embedding with {p.model}")
    return _normalize(np.vstack([remote._embed_batch(p, batch, dimensions) for batch in batches]))


def local_response(texts: str | Iterable[str], dimensions: int | None = None, model: str | None = None):
    """What ``client.embeddings.create(...)`` returns, made in-process by a local model.

    Lets the offline lesson show the response's anatomy (``data``, ``embedding``, ``usage``);
    the token count is the local tokenizer's. ``model`` defaults to the active local model.
    """
    from openai.types import CreateEmbeddingResponse, Embedding
    from openai.types.create_embedding_response import Usage

    texts = _check_texts(texts)
    if model is None:
        active = get_provider()
        model = active.model if active.is_local else LOCAL_MODEL
    vectors = _embed(Provider("local", model), texts, dimensions, len(texts), progress=False)
    tokens = local.count_tokens(model, texts)
    return CreateEmbeddingResponse(
        object="list",
        model=model,
        data=[Embedding(object="embedding", index=i, embedding=v.tolist()) for i, v in enumerate(vectors)],
        usage=Usage(prompt_tokens=tokens, total_tokens=tokens),
    )


def embed_query(text: str, embeddings: Mapping[str, list[float]]) -> np.ndarray:
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
