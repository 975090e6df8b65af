"""The build lock works for every OS user who shares a cache folder, and leaves no file behind."""

import os
import queue
import shutil
import sys
import tempfile
import threading
from itertools import count
from pathlib import Path

import pytest

import embeddings_helper as eh
from conftest import LIVE_MODEL

NOBODY = 65534  # the unprivileged user of most Unix systems
WAITING = "Another process is building"


def test_builds_leave_no_lock_files_behind(live, monkeypatch, tmp_path):
    system_tmp = tmp_path / "system-tmp"  # where a lock kept in the temporary folder would pile up
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    widths = [8, 16, 24, 32, 40, 48]
    for width in widths:
        eh.build_cache("words", dimensions=width)
    eh.build_cache("words", dimensions=8, force=True)
    built = sorted(eh.cache_path("words", LIVE_MODEL, width).name for width in widths)
    assert sorted(p.name for p in eh.caches.EMBEDDINGS_DIR.iterdir()) == built
    assert list(system_tmp.rglob("*")) == []


def test_a_failed_build_leaves_no_lock_file_either(live, monkeypatch, tmp_path):
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    eh.caches.EMBEDDINGS_DIR.mkdir()
    live.responses = [400]  # refused: the build stops with an error
    with pytest.raises(eh.ProviderError):
        eh.build_cache("words")
    assert list(eh.caches.EMBEDDINGS_DIR.iterdir()) == []
    assert list(system_tmp.rglob("*")) == []


@pytest.mark.skipif(sys.platform == "win32", reason="file modes and umask are Unix notions")
def test_the_lock_file_is_open_to_every_user_whatever_the_umask(tmp_path):
    path = tmp_path / "words__m.json"
    previous = os.umask(0o077)  # a private umask, as some shared servers set
    try:
        with eh.storage.build_lock(path, timeout=60):
            mode = eh.storage.lock_path(path).stat().st_mode & 0o777
    finally:
        os.umask(previous)
    assert mode == 0o666
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(sys.platform == "win32", reason="Windows cannot delete an open lock file, so has no such race")
def test_a_waiter_never_shares_the_lock_with_a_newcomer_after_the_file_is_deleted(tmp_path, monkeypatch):
    """The last holder deletes the lock file; a process that was waiting on it then holds a lock on a
    deleted file, which must not count: a newcomer has made a new file and may hold that one."""
    path = tmp_path / "words__m.json"
    events, go = queue.Queue(), threading.Semaphore(0)

    def pause():  # the waiter, between two tries: tell the test, wait for its go
        events.put("paused")
        go.acquire()

    monkeypatch.setattr(eh.storage, "_pause", pause)

    def waiter():
        with eh.storage.build_lock(path, timeout=600):
            events.put("inside")

    first = eh.storage.build_lock(path, timeout=600)
    first.__enter__()
    thread = threading.Thread(target=waiter, daemon=True)
    thread.start()
    assert events.get(timeout=60) == "paused"  # the waiter has the first file open, and is refused
    first.__exit__(None, None, None)  # deletes the first file and unlocks it
    assert not eh.storage.lock_path(path).exists()
    newcomer = eh.storage.build_lock(path, timeout=600)
    newcomer.__enter__()  # makes a second file and locks it
    go.release()  # the waiter gets the first (deleted) file's lock, sees that it is stale, tries the second
    assert events.get(timeout=60) == "paused"  # and waits: it is not inside while the newcomer is
    newcomer.__exit__(None, None, None)
    go.release()
    assert events.get(timeout=60) == "inside"
    thread.join(timeout=60)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def shared_folder():
    """A cache folder that every user may write to, outside pytest's private temporary folders."""
    folder = Path(tempfile.mkdtemp(prefix="shared-embeddings-", dir="/tmp" if os.path.isdir("/tmp") else None))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def as_nobody(work, go_r, result_w, stderr_w):
    """In a forked child: become 'nobody', wait for the go, run ``work``, report; never return."""
    message = "error: did not finish"
    try:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
        sys.stderr = os.fdopen(stderr_w, "w", buffering=1)
        os.read(go_r, 1)
        message = work()
    except BaseException as err:  # reported to the parent, which asserts on it
        message = f"error: {type(err).__name__}: {err}"
    finally:
        os.write(result_w, message.encode())
        os._exit(0)


@pytest.mark.skipif(not hasattr(os, "fork") or not hasattr(os, "setuid"), reason="needs fork() and setuid() (Unix)")
def test_a_second_os_user_waits_for_the_build_and_sends_no_request(live, monkeypatch, shared_folder):
    """Two people share a cache folder: the second one's load waits for the first one's build and
    reads its cache, so the requests are spent once."""
    if os.geteuid() != 0:
        pytest.skip("acting as a second OS user ('nobody', uid 65534) needs root, as the tests run in CI")
    monkeypatch.setattr(eh.caches, "EMBEDDINGS_DIR", shared_folder)
    # The child may not be able to read the repository (a clone inside a folder private to root): what it
    # needs from there is read before the fork, and the shipped caches are looked for in the shared folder.
    rows = eh.load_dataset("words")
    monkeypatch.setattr(eh.caches, "load_dataset", lambda name: rows)
    monkeypatch.setattr(eh.caches, "SHIPPED_DIR", shared_folder / "shipped")
    eh.embed("warm up")  # the child cannot read root's Python: everything it needs is imported before fork
    from tqdm.auto import tqdm  # noqa: F401

    eh.remote._client.cache_clear()  # no connection shared by the two processes
    live.requests.clear()

    requests, answered, answer = count(), threading.Event(), threading.Event()

    def hold_the_first_answer(vectors):  # the first build stays inside its lock until the test says so
        if next(requests) == 0:
            answered.set()
            answer.wait()
        return vectors

    live.transform = hold_the_first_answer
    go_r, go_w = os.pipe()
    result_r, result_w = os.pipe()
    stderr_r, stderr_w = os.pipe()

    def second_user():
        eh.config.DOTENV_PATH = shared_folder / "no.env"  # pytest's temporary folder is private to root
        words = eh.load_embeddings("words")
        return f"ok {len(words)} {words.info['path']}"

    pid = os.fork()
    if pid == 0:
        for fd in (go_w, result_r, stderr_r):
            os.close(fd)
        as_nobody(second_user, go_r, result_w, stderr_w)
    for fd in (go_r, result_w, stderr_w):
        os.close(fd)
    try:
        results = []
        first = threading.Thread(target=lambda: results.append(eh.load_embeddings("words")))
        first.start()
        assert answered.wait(timeout=60)  # the first user's build holds the lock, waiting for its answer
        os.write(go_w, b"g")  # the second user loads the same dataset now
        said = []
        with os.fdopen(stderr_r) as stderr:
            for line in stderr:  # ends when the child exits
                said.append(line)
                if WAITING in line:
                    break
            answer.set()
            first.join(timeout=60)
            said.append(stderr.read())
    finally:
        answer.set()
        os.close(go_w)
        _, status = os.waitpid(pid, 0)
    with os.fdopen(result_r) as result:
        reported = result.read()
    path = eh.cache_path("words", LIVE_MODEL)
    assert any(WAITING in line for line in said), f"the second user did not wait: {''.join(said)!r} {reported}"
    assert reported == f"ok {len(eh.dataset_texts('words'))} {path}"
    assert os.waitstatus_to_exitcode(status) == 0
    assert len(live.requests) == 1  # one build's worth of requests, not two
    assert results[0].info["complete"]
    assert sorted(p.name for p in shared_folder.iterdir()) == [path.name]  # and no lock file left
