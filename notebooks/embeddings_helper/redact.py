"""Keeping keys out of sight: in printed providers, in URLs, and in error messages."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

# The shapes of credentials a learner may have around: GitHub tokens (ghp_ personal, gho_ OAuth,
# ghu_/ghs_ the ones Codespaces and apps use, ghr_ refresh, github_pat_ fine-grained), OpenAI keys,
# JSON Web Tokens (Entra ID bearer tokens) and Azure keys (32 hex digits, or the newer 84 characters
# with "JQQJ9" inside). The tests scan the committed notebooks with it too.
SECRET_PATTERN = re.compile(
    r"gh[pousr]_[A-Za-z0-9]{20,}"
    r"|github_pat_\w{20,}"
    r"|sk-[A-Za-z0-9_-]{20,}"
    r"|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
    r"|\b[0-9a-fA-F]{32}\b"
    r"|\b(?=[A-Za-z0-9]{84}\b)[A-Za-z0-9]*JQQJ9[A-Za-z0-9]*"
)
HIDDEN = "***"


class Secret:
    """A key or token. The code reads it as ``.value``; printed, it shows as ``Secret('***')``."""

    __slots__ = ("value",)

    def __init__(self, value: str):
        self.value = value

    def __repr__(self) -> str:
        return f"Secret({HIDDEN!r})"

    __str__ = __repr__

    def __eq__(self, other) -> bool:
        return isinstance(other, Secret) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)


def redact_url(url: str | None) -> str | None:
    """The URL without a user name or password in it: https://user:pass@host/v1 -> https://***@host/v1.

    Also when the scheme is missing (``user:pass@host/v1``) or the value is only a netloc, and whatever
    the scheme (``mysql://``, ``postgresql://``): everything before the last ``@`` of the address part.
    """
    if not url:
        return url
    text = str(url)
    parts = urlsplit(text)
    if parts.scheme and parts.netloc:
        if "@" not in parts.netloc:
            return text
        return urlunsplit(parts._replace(netloc=f"{HIDDEN}@{parts.netloc.rsplit('@', 1)[1]}"))
    # No scheme://: the address is whatever comes before the first "/", "?" or "#".
    scheme, sep, rest = text.partition("://")
    head, tail = (scheme + sep, rest) if sep else ("", text)
    address = re.split(r"[/?#]", tail, maxsplit=1)[0]
    if "@" not in address:
        return text
    return head + f"{HIDDEN}@" + tail[len(address.rsplit("@", 1)[0]) + 1 :]


class SafeURL(str):
    """A URL that prints without its password: ``repr()`` (and so ``vars()`` and dataclass reprs) redact it.

    ``str()`` keeps the whole URL, for the client that needs it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(redact_url(str(self)))


def redact(text: str, *secrets: Secret | str | None) -> str:
    """``text`` with the given secrets, credentials in URLs and anything shaped like a token hidden."""
    for secret in secrets:
        value = secret.value if isinstance(secret, Secret) else secret
        if value and len(value) >= 4:
            text = text.replace(value, HIDDEN)
    text = re.sub(r"(\w+://)[^/\s@]+@", rf"\1{HIDDEN}@", text)
    # user:pass@host without a scheme in front
    text = re.sub(r"(?<![\w/@.:-])[\w.%+-]+:[^/\s@:]+@(?=[\w.-]+[:/\s'\"]|[\w.-]+$)", f"{HIDDEN}@", text)
    return SECRET_PATTERN.sub(HIDDEN, text)
