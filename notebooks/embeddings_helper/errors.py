"""The errors the helper raises: each message says what went wrong and how to fix it."""

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



class DatabaseError(EmbeddingsError):
    """Lesson 07's PostgreSQL could not be started or reached."""
