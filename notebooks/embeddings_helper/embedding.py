"""embed(): texts in, unit vectors out, whichever provider is active."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from . import local, pacing, remote
from .config import (
    BATCH_SIZE,
    STATIC_MODEL,
    Provider,
    get_provider,
    native_dimensions,
    supports_dimensions,
    task_prefix,
)
from .errors import DimensionMismatchError, ProviderError, ZeroVectorError

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
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as err:  # a lone surrogate, e.g. half of an emoji cut in two
            raise ValueError(
                f"embed() got a text that cannot be sent as UTF-8 at position {i} (character {err.start}, "
                f"{text[err.start]!r}, is half of a character pair): {text[max(0, err.start - 30):err.start]!r}… "
                f"Remove that character, or rebuild the text from its source."
            ) from None
    return texts


def _check_dimensions(dimensions, p: Provider) -> int | None:
    if dimensions is None:
        return None
    if isinstance(dimensions, bool) or not isinstance(dimensions, (int, np.integer)) or dimensions < 1:
        raise ValueError(f"dimensions must be a positive whole number or None, not {dimensions!r}.")
    model, native = p.model, native_dimensions(p.model)
    # An Azure deployment's name need not say which model it runs: let the service judge.
    if p.host != "azure" and not supports_dimensions(model):
        from .config import lesson_language

        if lesson_language() == "es":
            raise ValueError(
                f"{model} no acepta dimensions= (no fue entrenado para acortar sus vectores). Deja dimensions=None, "
                f"o usa un modelo text-embedding-3, o sin conexión el modelo estático "
                f"(LOCAL_EMBEDDING_MODEL={STATIC_MODEL}), cuyas dimensiones están ordenadas para poder cortarlas."
            )
        raise ValueError(
            f"{model} does not accept dimensions= (it was not trained to be shortened). "
            f"Leave dimensions=None, or use a text-embedding-3 model, or offline the static model "
            f"(LOCAL_EMBEDDING_MODEL={STATIC_MODEL}), whose dimensions are ordered so that they can be cut."
        )
    if native and dimensions > native:
        raise ValueError(f"{model} makes {native}-dimensional vectors; dimensions={dimensions} is larger.")
    return int(dimensions)


def _normalize(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1. A row of zeros cannot be: it is an error, never returned."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    if not np.all(norms > 0):
        row = int(np.flatnonzero(norms[:, 0] <= 0)[0])
        raise ZeroVectorError(
            f"Text {row} gives a vector of zeros: the model knows none of its characters (emoji or rare "
            f"symbols only?). Add some words to it.",
            row,
        )
    return matrix / norms


def _check_batch_size(batch_size) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive whole number (texts per request), not {batch_size!r}.")
    return int(batch_size)


def embed(
    texts: str | Iterable[str],
    dimensions: int | None = None,
    *,
    input_type: str | None = None,
    batch_size: int = BATCH_SIZE,
    provider: Provider | None = None,
) -> np.ndarray:
    """Embed one text or a list of texts with the active provider.

    Returns a float32 array of shape (n, d) whose rows have length 1.
    ``dimensions`` asks for shorter vectors (Matryoshka-trained models such as text-embedding-3, and the
    static local model, whose PCA-ordered components can be cut and renormalized).
    ``input_type`` ("query" or "document") adds the task prefix the model was trained with, for the
    models that have one (config.TASK_PREFIXES): pass it when queries are searched against documents.
    """
    p = provider or get_provider()
    texts = _check_texts(texts)
    texts = with_task_prefix(p.model, texts, input_type)
    try:
        return _embed(p, texts, dimensions, _check_batch_size(batch_size), progress=True)
    except ZeroVectorError as err:
        raise ZeroVectorError(
            f"{p.model} has no vector for {texts[err.row]!r} (text {err.row}): it knows none of its characters "
            f"(emoji or rare symbols only?). Add some words to it, or use a hosted provider (API_HOST).",
            err.row,
        ) from None


def with_task_prefix(model: str, texts: list[str], input_type: str | None) -> list[str]:
    """``texts`` with the model's query or document prefix in front (unchanged for models without one)."""
    prefix = task_prefix(model, input_type)
    return [prefix + t for t in texts] if prefix else texts


def _embed(p: Provider, texts: list[str], dimensions: int | None, batch_size: int, progress: bool) -> np.ndarray:
    dimensions = _check_dimensions(p.dimensions if dimensions is None else dimensions, p)
    if p.host == "sentence-transformers":  # only for rebuilding the shipped MiniLM caches
        return _normalize(local._sentence_transformer(p.model).encode(texts, batch_size=batch_size))
    if p.is_local:
        return _normalize(local.encode(p.model, texts, dimensions))

    return _embed_remote(p, texts, dimensions, batch_size, progress)


def _embed_remote(p: Provider, texts: list[str], dimensions: int | None, batch_size: int, progress: bool):
    """All the vectors of ``texts`` from a hosted provider, as few requests as its limits allow."""
    from tqdm.auto import tqdm

    out = None
    several = pacing.plan_batch(texts, pacing.pacer_for(p).limits, batch_size) < len(texts)
    with tqdm(
        total=len(texts), desc=f"Embedding with {p.model}", unit="text", disable=not (progress and several)
    ) as bar:
        for start, matrix in remote_batches(p, texts, dimensions, batch_size, pacing.interactive()):
            out = np.empty((len(texts), matrix.shape[1]), np.float32) if out is None else out
            out[start : start + len(matrix)] = matrix
            bar.update(len(matrix))
    return out


def remote_batches(p: Provider, texts: list[str], dimensions: int | None, batch_size: int, patience):
    """Yield (position of the first text, unit vectors) for each request, in order.

    Requests are planned by texts and estimated tokens (pacing.plan_batch); when the provider refuses
    one as too large anyway, it is halved and sent again, and later requests are planned smaller.
    Every answer is checked before it is yielded (see _check_answer).
    """
    pacer = pacing.pacer_for(p)
    start, width = 0, None
    while start < len(texts):
        n = pacing.plan_batch(texts[start:], pacer.limits, batch_size)
        batch = texts[start : start + n]
        try:
            rows = remote.request_vectors(p, batch, dimensions, patience)
        except remote.BatchTooLarge as err:
            if n == 1:
                raise ProviderError(
                    f"{remote.provider_name(p)} refused text {start} as too long ({err.server_text}): shorten it."
                ) from None
            pacer.shrink(n // 2, sum(pacing.estimate_tokens(t) for t in batch) // 2)
            continue
        matrix = _check_answer(p, rows, start, dimensions, width)
        width = matrix.shape[1]
        yield start, matrix
        start += n


def _check_answer(p: Provider, rows: list, start: int, dimensions: int | None, width: int | None) -> np.ndarray:
    """The rows of one answer as unit vectors, or a ProviderError naming what is wrong with them:
    nothing wrong is ever cached."""
    name = remote.provider_name(p)
    widths = sorted({len(row) for row in rows})
    if len(widths) > 1:
        raise ProviderError(remote.say(
            f"{name} returned vectors of different widths ({widths[0]} to {widths[-1]}) in one answer.",
            f"{name} devolvió vectores de distinto número de dimensiones ({widths[0]} a {widths[-1]}) en una "
            f"misma respuesta.",
        ))
    matrix = np.array(rows)
    if matrix.dtype.kind not in "iuf":  # numbers only: not text, not true/false, not null
        raise ProviderError(remote.say(f"{name} returned vectors that contain something other than numbers.",
                                       f"{name} devolvió vectores que contienen algo que no son números."))
    matrix = matrix.astype(np.float64)
    got = matrix.shape[1]
    native = native_dimensions(p.model)
    if dimensions and got > dimensions and p.host == "ollama" and supports_dimensions(p.model):
        # An Ollama older than 0.11.11 ignores dimensions=; this model was trained to be cut: cut it here.
        matrix, got = matrix[:, :dimensions], dimensions
        _note_dimensions(p, dimensions, "client")
    elif dimensions and got == dimensions:
        _note_dimensions(p, dimensions, "server")
    if dimensions and got != dimensions:
        raise ProviderError(remote.say(
            f"{name} was asked for {dimensions} dimensions but returned {got}: it ignores dimensions=, so "
            f"leave it unset for this model.",
            f"A {name} se le pidieron {dimensions} dimensiones y devolvió {got}: ignora dimensions=, así que "
            f"no lo uses con este modelo.",
        ))
    if not dimensions and native and got != native:
        raise ProviderError(remote.say(
            f"{p.model} makes {native}-dimensional vectors, but the answer has {got}: check that "
            f"{remote.MODEL_VARIABLES[p.host]} names the model the server runs.",
            f"{p.model} produce vectores de {native} dimensiones, pero la respuesta trae {got}: revisa que "
            f"{remote.MODEL_VARIABLES[p.host]} nombre el modelo que corre el servidor.",
        ))
    if width and got != width:
        raise ProviderError(remote.say(f"{name} returned {got} numbers per vector, but {width} for the texts before.",
                                       f"{name} devolvió {got} números por vector, pero {width} para los textos "
                                       f"anteriores."))  # fmt: skip
    check_directions(name, matrix, start)
    return _normalize(matrix)


def check_directions(name: str, matrix: np.ndarray, start: int = 0) -> None:
    """A ProviderError for the first row with NaN or infinity in it, or of zeros (it has no direction)."""
    bad = np.flatnonzero(~np.isfinite(matrix).all(axis=1))
    if len(bad):
        raise ProviderError(remote.say(
            f"{name} returned a vector with NaN or infinity in it, for text {start + bad[0]}.",
            f"{name} devolvió un vector con NaN o infinito, para el texto {start + bad[0]}.",
        ))
    zero = np.flatnonzero(~matrix.any(axis=1))
    if len(zero):
        raise ProviderError(remote.say(
            f"{name} returned a vector of zeros for text {start + zero[0]}, which has no direction.",
            f"{name} devolvió un vector de ceros para el texto {start + zero[0]}, que no tiene dirección.",
        ))


#: How the last shortened vectors of each provider were made: "server" (it honoured dimensions=) or
#: "client" (it ignored it, and the helper cut and renormalized a model trained for that).
_dimensions_made: dict[tuple, str] = {}


def _note_dimensions(p: Provider, dimensions: int, where: str) -> None:
    key = (p.host, str(p.base_url), p.model)
    if where == "client" and _dimensions_made.get(key) != "client":
        import warnings

        warnings.warn(how_dimensions_were_made(p, where, dimensions), stacklevel=4)
    _dimensions_made[key] = where


def how_dimensions_were_made(p: Provider | None = None, where: str | None = None, dimensions: int | None = None) -> str:
    """One sentence saying whether the provider shortened the last vectors itself or the helper did."""
    p = p or get_provider()
    where = where or _dimensions_made.get((p.host, str(p.base_url), p.model))
    width = f"{dimensions} " if dimensions else ""
    if p.is_local:
        return f"{p.model} runs in-process: the helper keeps its first {width}dimensions and renormalizes."
    if where == "server":
        return f"{p.model} at {p.host} made the {width}dimensions itself (it honours dimensions=)."
    if where == "client":
        return (
            f"{p.model} at {p.host} ignored dimensions= and sent full vectors: the helper kept the first "
            f"{width}numbers and renormalized them, which is right for this model (it was trained for it)."
        )
    return f"No shortened vectors from {p.model} yet in this session."


def embed_query(text: str, embeddings: Mapping[str, list[float]]) -> np.ndarray:
    """Embed one query for searching ``embeddings``: a unit vector of shape (d,).

    Raises DimensionMismatchError when the active model cannot produce vectors
    comparable with ``embeddings`` (another width, or another model's cache).
    """
    if not isinstance(embeddings, Mapping) or not embeddings:
        got = "an empty one" if isinstance(embeddings, Mapping) else f"a {type(embeddings).__name__}"
        raise ValueError(
            f"embed_query() searches a {{title: vector}} dict, like load_embeddings('movies'); it got {got}."
        )
    info = getattr(embeddings, "info", {})
    width = len(next(iter(embeddings.values())))
    p = get_provider()
    if info.get("model") == p.model:
        # Same model: a shortened cache gets a shortened query.
        native = native_dimensions(p.model)
        dims = width if native and width < native else None
        return embed(text, dimensions=dims, input_type="query", provider=p)[0]
    if info.get("model"):
        raise DimensionMismatchError(
            f"These embeddings come from {info['model']}, but the active model is {p.model}: their vectors "
            f"are not comparable. Set API_HOST for that model, or search with one of the file's own vectors."
        )
    vector = embed(text, input_type="query", provider=p)[0]
    if vector.shape[0] != width:
        raise DimensionMismatchError(
            f"The query has {vector.shape[0]} dimensions ({p.model}) but the embeddings have {width}: they "
            f"come from different models. Set API_HOST for the model that made the file, or search with one "
            f"of the file's own vectors."
        )
    return vector
