"""How long to wait for a hosted provider, and how fast to send it requests.

Two kinds of calls wait differently:

- an ``embed()`` call from a cell gets a budget of about 30 s for each request, retries and waits
  included (``config.CALL_BUDGET``); past it, the learner gets a sentence saying what happened;
- a cache build waits longer for a slow answer or a rate limit, with a countdown in its progress bar.

Requests to one provider are paced to what the provider itself says: the ``x-ratelimit-*`` headers
that OpenAI and Azure OpenAI send with every answer (the requests a minute, and how many requests and
tokens are left until when), and a 429's ``Retry-After``, which is remembered so the next call does not
knock again too early. Before a provider has said anything, ``config.PROVIDER_LIMITS`` is assumed.

Time is read through ``now()`` and spent through ``sleep()`` of this module, so that tests can run the
pacing on a fake clock instead of the wall clock of a shared machine.
"""

from __future__ import annotations

import email.utils
import math
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from . import config
from .config import Limits, Provider

WINDOW_SECONDS = 60.0  # a per-minute limit counts the requests of the last minute

now = time.monotonic  # replaced by a fake clock in tests
sleep = time.sleep


@dataclass(frozen=True)
class Patience:
    """How long one request to a provider may take, retries and waits included."""

    budget: float  # seconds for one request with all its retries and waits
    connect: float  # to open a connection
    read: float  # for the answer to start arriving
    read_retries: int  # how many times a request that timed out is sent again
    retries: int  # how many times a request refused by a 429 or a server error is sent again
    wait: Callable[[float, str], None]  # sleeps, and shows why: ``wait(seconds, reason)``
    announce: Callable[[str], None] | None = None  # shows what a request is waiting for (a build's progress bar)


def interactive() -> Patience:
    """For a call made from a cell: a bounded wait, a printed line when it has to wait at all."""
    return Patience(
        budget=config.CALL_BUDGET,
        connect=config.CONNECT_TIMEOUT,
        read=config.READ_TIMEOUT,
        read_retries=1,
        retries=3,
        wait=announce_and_sleep,
    )


def for_builds(bar=None) -> Patience:
    """For a cache build: longer waits, counted down in the progress bar ``bar`` (a tqdm bar)."""
    wait = (lambda seconds, reason: countdown(bar, seconds, reason)) if bar is not None else announce_and_sleep
    return Patience(
        budget=config.BUILD_BUDGET,
        connect=config.CONNECT_TIMEOUT,
        read=config.BUILD_READ_TIMEOUT,
        read_retries=2,
        retries=8,
        wait=wait,
        announce=lambda reason: show_waiting(bar, reason),
    )


def announce_and_sleep(seconds: float, reason: str) -> None:
    if seconds >= 0.5:
        print(f"{reason}: waiting {duration(seconds)}…", file=sys.stderr, flush=True)
    sleep(seconds)


def countdown(bar, seconds: float, reason: str) -> None:
    """Sleep ``seconds``, showing why and the seconds left after the progress bar."""
    end = now() + seconds
    while (left := end - now()) > 0:
        bar.set_postfix_str(f"{reason}: {math.ceil(left)} s", refresh=True)
        sleep(min(1.0, left))
    bar.set_postfix_str("", refresh=True)


def show_waiting(bar, reason: str) -> None:
    """Say after the progress bar what a request is waiting for (an answer), so a bar at 0 is never mute."""
    if bar is not None:
        bar.set_postfix_str(reason, refresh=True)


def duration(seconds: float) -> str:
    """60 -> '60 s', 600 -> '10 min', 20000 -> '5 h 33 min'."""
    if seconds < 100:
        return f"{math.ceil(seconds)} s"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60} min"


def retry_after(headers) -> float | None:
    """Seconds a 429 or 503 asks to wait: ``retry-after-ms``, ``retry-after`` in seconds or as a date."""
    if headers is None:
        return None
    try:
        if headers.get("retry-after-ms"):
            return float(headers["retry-after-ms"]) / 1000
        value = headers.get("retry-after")
        if not value:
            return None
        if value.strip().replace(".", "", 1).isdigit():
            return float(value)
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError):
        return None


_RESET_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def reset_seconds(value: str | None) -> float | None:
    """An ``x-ratelimit-reset-*`` value in seconds: '1s', '6m0s', '20ms', '1h2m3.5s', or a bare number."""
    if not value:
        return None
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        pass
    parts = _RESET_PART.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value:
        return None
    scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return sum(float(n) * scale[u] for n, u in parts)


def _whole(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None and value.strip() else None
    except ValueError:
        return None


def estimate_tokens(text: str) -> int:
    """An upper bound on a text's tokens, without the model's tokenizer: its UTF-8 bytes, plus 2.

    OpenAI's tokenizers (byte-level BPE) never make more tokens than bytes, and WordPiece models like
    nomic-embed-text at most one per character plus two markers; English averages about 4 bytes a token,
    so this overestimates about fourfold, and a request planned with it is never refused as too large.
    """
    return len(text.encode("utf-8")) + 2


class Pacer:
    """What the helper knows about one provider: when it may send the next request, and how big."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.sent: deque[float] = deque()  # when the recent requests were sent (time.monotonic())
        self.not_before = 0.0  # after a 429 or a server error: send nothing until then
        self.asked_to_wait = False  # True when not_before is the provider's own Retry-After
        self.because = ""  # the status that set not_before ("429", "503", ...)
        self.last_error = ""  # and what the server said then
        self.lock = threading.Lock()

    def wait_time(self) -> tuple[float, str]:
        """Seconds until the next request may go, and why ("" when it may go now)."""
        with self.lock:
            now_ = now()
            while self.sent and now_ - self.sent[0] >= WINDOW_SECONDS:
                self.sent.popleft()
            wait, why = self.not_before - now_, ""
            if wait > 0:
                why = {"429": "rate limit", "quota": "quota used up"}.get(self.because, f"server error {self.because}")
            per_minute = self.limits.per_minute
            if per_minute and len(self.sent) >= per_minute:
                # when the oldest of them leaves the provider's window (which it joined a little later)
                free_at = self.sent[-per_minute] + WINDOW_SECONDS * 1.05
                if free_at - now_ > wait:
                    wait, why = free_at - now_, "per-minute limit"
            return max(0.0, wait), why

    def record_request(self) -> None:
        with self.lock:
            self.sent.append(now())

    def hold(self, seconds: float, *, because: str, asked: bool, error: str = "") -> None:
        """Send nothing for ``seconds`` after a failed request (``asked``: the provider said how long)."""
        with self.lock:
            self.not_before = max(self.not_before, now() + seconds)
            self.because, self.asked_to_wait, self.last_error = because, asked, error

    def learn(self, headers) -> None:
        """Take in what an answer's ``x-ratelimit-*`` headers say (OpenAI and Azure OpenAI send them).

        ``limit-requests`` replaces the assumed requests a minute; none left (``remaining-requests`` or
        ``remaining-tokens`` at 0) holds the next request until the matching ``reset-*`` time.
        """
        if headers is None:
            return
        limit = _whole(headers.get("x-ratelimit-limit-requests"))
        if limit and limit > 0:
            with self.lock:
                self.limits = self.limits._replace(per_minute=limit)
        for kind in ("requests", "tokens"):
            left = _whole(headers.get(f"x-ratelimit-remaining-{kind}"))
            reset = reset_seconds(headers.get(f"x-ratelimit-reset-{kind}"))
            if left is not None and left <= 0:
                self.hold(reset if reset is not None else WINDOW_SECONDS, because="quota", asked=True, error=kind)

    def shrink(self, inputs: int, tokens: int) -> None:
        """The provider refused a request this big: plan smaller ones from now on."""
        with self.lock:
            self.limits = self.limits._replace(
                inputs=max(1, min(self.limits.inputs, inputs)), tokens=max(1, min(self.limits.tokens, tokens))
            )


_pacers: dict[tuple, Pacer] = {}
_pacers_lock = threading.Lock()


def tier(p: Provider) -> str:
    """Which of ``config.PROVIDER_LIMITS`` a provider starts from: an OpenAI-compatible server of unknown
    make gets the tight tier until its own headers say more."""
    if p.host == "openai" and p.base_url and "api.openai.com" not in str(p.base_url):
        return "compatible"
    return p.host


def pacer_for(p: Provider) -> Pacer:
    """One Pacer per provider and endpoint, shared by every call in this Python process."""
    key = (p.host, str(p.base_url))
    with _pacers_lock:
        if key not in _pacers:
            _pacers[key] = Pacer(config.PROVIDER_LIMITS[tier(p)])
        return _pacers[key]


def plan_batch(texts: list[str], limits: Limits, max_inputs: int) -> int:
    """How many of ``texts``, from the first, fit in one request (at least one)."""
    tokens = 0
    for n, text in enumerate(texts[: min(limits.inputs, max_inputs)]):
        tokens += estimate_tokens(text)
        if tokens > limits.tokens and n > 0:
            return n
    return min(len(texts), limits.inputs, max_inputs)
