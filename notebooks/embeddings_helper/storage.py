"""Files that never lose work: reading an embeddings JSON file, writing one atomically, cleaning up
after a killed write, and a lock so that two builds of the same cache do not run at once."""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path

from .errors import CacheError


class EmbeddingSet(dict):
    """A ``dict`` of key -> vector (list of floats) that also remembers where it came from (``.info``)."""

    def __init__(self, vectors: Mapping[str, list[float]], info: Mapping | None = None, text_hashes=None):
        super().__init__(vectors)
        self.info = dict(info or {})
        self.text_hashes = dict(text_hashes or {})  # key -> hash of the text its vector was made from

    @property
    def dimensions(self) -> int:
        return len(next(iter(self.values())))


def read_embeddings_file(path: Path, fix: str) -> EmbeddingSet:
    """Read and check an embeddings file; ``fix`` is the advice given when it cannot be read."""
    if path.is_dir():
        inside = sorted(f.name for f in path.glob("*.json"))[:5]
        hint = f" (it holds {', '.join(inside)})" if inside else ""
        raise CacheError(f"{path} is a folder{hint}: give the path of one JSON file of {{title: [numbers]}}.")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except UnicodeDecodeError:
        raise CacheError(f"{path} is not a text file, so not JSON of {{title: [numbers]}}: {fix}") from None
    except json.JSONDecodeError as err:
        raise CacheError(f"{path} is not valid JSON ({err.msg} at line {err.lineno}): {fix}") from None
    return parse_embeddings(path, data)


def parse_embeddings(path: Path, data) -> EmbeddingSet:
    """The vectors of either format: this project's (metadata + "embeddings") or a plain {title: vector}."""
    if isinstance(data, dict) and isinstance(data.get("embeddings"), dict):
        info = {k: v for k, v in data.items() if k not in ("embeddings", "text_hashes")}
        vectors = data["embeddings"]
    elif isinstance(data, dict):
        info, vectors = {"model": None, "format": "plain"}, data
    else:
        raise CacheError(f"{path} should hold a JSON object of {{title: [numbers]}}, not a {type(data).__name__}.")
    if not vectors:
        raise CacheError(f"{path} holds no vectors.")
    width = None
    for title, vector in vectors.items():
        if (
            not isinstance(vector, list)
            or not vector
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in vector)
        ):
            raise CacheError(f"{path}: the value for {title!r} is not a list of numbers.")
        if width is None:
            width = len(vector)
        elif len(vector) != width:
            raise CacheError(
                f"{path}: {title!r} has {len(vector)} numbers but the first vector has {width}; "
                f"every vector in one file must have the same width."
            )
        if not all(math.isfinite(x) for x in vector):
            raise CacheError(f"{path}: the vector for {title!r} contains NaN or infinity.")
    info.setdefault("dimensions", width)
    info["path"] = str(path)
    hashes = data.get("text_hashes") if isinstance(data.get("text_hashes"), dict) else None
    return EmbeddingSet(vectors, info, hashes)


def write_json_atomic(path: Path, payload) -> None:
    """Write to a temporary file beside ``path``, then rename: a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(payload, f, ensure_ascii=False, separators=(",", ":"))
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a cache is an ordinary data file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_orphans(path: Path) -> None:
    """Delete the temporary files a killed write of ``path`` left behind (call it holding build_lock)."""
    for orphan in path.parent.glob(f".{path.name}.*.tmp"):
        orphan.unlink(missing_ok=True)


@contextmanager
def build_lock(path: Path, *, timeout: float, on_wait=None):
    """Only one build of ``path`` at a time, across processes (two notebooks opened together).

    The lock is a file in the system's temporary folder, locked by the operating system, so a
    killed process never leaves it locked. Where no lock can be made, the build goes on without.
    """
    name = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:20]
    try:
        folder = Path(tempfile.gettempdir()) / "embeddings-helper-locks"
        folder.mkdir(exist_ok=True)
        handle = open(folder / f"{name}.lock", "a+b")
    except OSError:
        yield
        return
    try:
        deadline = time.monotonic() + timeout
        while not _try_lock(handle):
            if on_wait is not None:
                on_wait()
                on_wait = None
            if time.monotonic() > deadline:
                raise CacheError(
                    f"Another process has been building {path.name} for over {timeout / 60:.0f} min; "
                    f"let it finish (or stop it), then run this again."
                )
            time.sleep(0.2)
        try:
            yield
        finally:
            _unlock(handle)
    finally:
        handle.close()


def _try_lock(handle) -> bool:
    try:
        if sys.platform == "win32":
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def _unlock(handle) -> None:
    if sys.platform == "win32":
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
