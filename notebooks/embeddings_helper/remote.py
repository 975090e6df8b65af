"""Hosted providers through the openai SDK: one client per provider, and one request per batch."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from . import config
from .config import Provider, get_provider
from .errors import ConfigurationError, ProviderError

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
    return OpenAI(base_url=p.base_url, api_key=api_key, max_retries=config.MAX_RETRIES, timeout=config.TIMEOUT_SECONDS)


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
            f"{p.host} is still rate-limiting after {config.MAX_RETRIES} retries (429). Wait a minute and run "
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

