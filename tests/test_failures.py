"""Every failure is one clear sentence: odd answers from a server, configuration mistakes (caught
when the provider is read, not blamed on the model later), unreadable files, bad arguments, and the
build script's own errors."""

import json
import re

import numpy as np
import pytest
from build_cache import main as build_cache_main

import embeddings_helper as eh
from conftest import Reply, openai_provider

# ---------------------------------------------------------------- answers that are not embeddings


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (Reply(200, "<!DOCTYPE html><html><body>Welcome to nginx</body></html>", content_type="text/html"),
         "answered with a web page (HTML) instead of embeddings"),
        (Reply(200, '{"data": [{"embedding": [0.1, '), "answered with text that is not JSON"),
        (Reply(200, ""), "answered with an empty body"),
        (Reply(200, {"object": "list", "model": "m"}),
         "without the list of embeddings, 'data' (it sent: object, model)"),
        (Reply(200, {"error": {"message": "quota exhausted"}}),
         "with an error instead of embeddings (quota exhausted)"),
        (Reply(200, {"data": [{"index": 0}]}), "with a malformed item 0"),
        (Reply(200, {"data": []}), "returned 0 vectors for 1 texts"),
    ],
    ids=["html", "bad-json", "empty", "no-data", "error-200", "no-embedding", "no-rows"],
)  # fmt: skip
def test_a_200_that_is_not_embeddings_is_named(server, reply, words):
    server.responses = [reply]
    with pytest.raises(eh.ProviderError) as err:
        eh.embed("hello", provider=openai_provider(server))
    message = str(err.value)
    assert words in message
    assert len(server.requests) == 1


def test_the_url_and_the_variable_are_named_when_the_endpoint_is_not_an_api(server):
    server.responses = [Reply(200, "<html><title>Jupyter</title></html>", content_type="text/html")]
    with pytest.raises(eh.ProviderError) as err:
        eh.embed("hello", provider=openai_provider(server))
    assert f"{server.url}/v1/embeddings answered" in str(err.value) and "OPENAI_BASE_URL" in str(err.value)


def test_a_404_shows_the_servers_words_and_the_url(server):
    with pytest.raises(eh.ProviderError) as err:
        eh.embed("hello", provider=openai_provider(server, model="no-such-model"))
    message = str(err.value)
    assert f"{server.url}/v1/embeddings answered 404 (model no-such-model not found)" in message
    assert "OPENAI_EMBEDDING_MODEL ('no-such-model') and OPENAI_BASE_URL" in message


def test_keyless_azure_without_az_login_says_to_run_it(server, monkeypatch):
    import azure.identity
    from azure.core.exceptions import ClientAuthenticationError

    class NoSignedInUser:
        def get_token(self, *scopes, **kwargs):
            raise ClientAuthenticationError("DefaultAzureCredential failed to retrieve a token.")

    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", NoSignedInUser)
    p = eh.get_provider({"API_HOST": "azure", "AZURE_OPENAI_ENDPOINT": server.url})
    with pytest.raises(eh.ProviderError, match=r"run `az login`.*or set AZURE_OPENAI_API_KEY"):
        eh.embed("hello", provider=p)
    assert server.requests == []


# ---------------------------------------------------------------- configuration


@pytest.mark.parametrize("value", ["0", "²", "-3", "256.0", "small"])
def test_azure_dimensions_must_be_a_positive_whole_number(value):
    env = {"API_HOST": "azure", "AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com"}
    with pytest.raises(eh.ConfigurationError, match="is not a positive whole number") as err:
        eh.get_provider({**env, "AZURE_OPENAI_EMBEDDING_DIMENSIONS": value})
    assert f"AZURE_OPENAI_EMBEDDING_DIMENSIONS={value!r}" in str(err.value)


@pytest.mark.parametrize(
    "endpoint",
    ["https://res.openai.azure.com", "https://res.openai.azure.com/", "https://res.openai.azure.com/openai/v1",
     "https://res.openai.azure.com/openai/v1/", "https://res.openai.azure.com/openai"],
)  # fmt: skip
def test_the_azure_endpoint_is_accepted_with_or_without_its_api_path(endpoint):
    p = eh.get_provider({"API_HOST": "azure", "AZURE_OPENAI_ENDPOINT": endpoint})
    assert p.base_url == "https://res.openai.azure.com/openai/v1/"  # never /openai/v1/openai/v1/


def test_a_full_azure_deployment_url_is_explained():
    url = "https://res.openai.azure.com/openai/deployments/emb-small/embeddings?api-version=2024-02-01"
    with pytest.raises(eh.ConfigurationError) as err:
        eh.get_provider({"API_HOST": "azure", "AZURE_OPENAI_ENDPOINT": url})
    message = str(err.value)
    assert "AZURE_OPENAI_ENDPOINT=https://res.openai.azure.com " in message
    assert "AZURE_OPENAI_EMBEDDING_DEPLOYMENT=emb-small" in message


@pytest.mark.parametrize(
    ("endpoint", "base_url"),
    [("http://localhost:11434", "http://localhost:11434/v1"), ("http://gpu:11434/", "http://gpu:11434/v1"),
     ("http://gpu:11434/v1/", "http://gpu:11434/v1")],
)  # fmt: skip
def test_an_ollama_endpoint_without_v1_gets_it(endpoint, base_url):
    assert eh.get_provider({"API_HOST": "ollama", "OLLAMA_ENDPOINT": endpoint}).base_url == base_url


def test_ollamas_own_api_is_pointed_to_the_openai_compatible_one():
    with pytest.raises(eh.ConfigurationError, match="set OLLAMA_ENDPOINT=http://localhost:11434/v1"):
        eh.get_provider({"API_HOST": "ollama", "OLLAMA_ENDPOINT": "http://localhost:11434/api/embed"})


@pytest.mark.parametrize(
    ("env", "suggestion"),
    [
        ({"API_HOST": "ollama", "OLLAMA_ENDPOINT": "localhost:11434/v1"}, "'http://localhost:11434/v1'"),
        ({"API_HOST": "azure", "AZURE_OPENAI_ENDPOINT": "res.services.ai.azure.com/openai/v1/"},
         "'https://res.services.ai.azure.com/openai/v1/'"),
        ({"API_HOST": "openai", "OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "api.example.com/v1"},
         "'https://api.example.com/v1'"),
        ({"API_HOST": "azure", "AZURE_OPENAI_ENDPOINT": "res.openai.azure.com"}, "'https://res.openai.azure.com'"),
    ],
)  # fmt: skip
def test_a_url_without_its_scheme_is_caught_when_the_provider_is_read(env, suggestion):
    with pytest.raises(eh.ConfigurationError, match="is not a full URL") as err:
        eh.get_provider(env)
    assert suggestion in str(err.value)


def test_a_full_request_url_is_caught():
    env = {"API_HOST": "openai", "OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "https://api.example.com/v1/embeddings"}
    with pytest.raises(eh.ConfigurationError, match="set it to 'https://api.example.com/v1'"):
        eh.get_provider(env)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_a_dotenv_saved_as_utf16_is_named(monkeypatch, tmp_path, encoding):
    dotenv = tmp_path / ".env"
    dotenv.write_text("\ufeffAPI_HOST=openai\nOPENAI_API_KEY=k\n", encoding=encoding)
    monkeypatch.setattr(eh.config, "DOTENV_PATH", dotenv)
    with pytest.raises(eh.ConfigurationError, match="saved as UTF-16.*save it again as UTF-8"):
        eh.get_provider()


def test_a_dotenv_with_a_byte_order_mark_or_in_latin1(monkeypatch, tmp_path):
    dotenv = tmp_path / ".env"
    monkeypatch.setattr(eh.config, "DOTENV_PATH", dotenv)
    dotenv.write_text("API_HOST=openai\nOPENAI_API_KEY=k\n", encoding="utf-8-sig")
    assert eh.get_provider().host == "openai"  # the mark does not hide the first variable
    dotenv.write_bytes("API_HOST=openai\n# clé\n".encode("latin-1"))
    with pytest.raises(eh.ConfigurationError, match="is not UTF-8 text"):
        eh.get_provider()


# ---------------------------------------------------------------- files and arguments


def test_a_folder_is_not_an_embeddings_file(tmp_path):
    (tmp_path / "mine.json").write_text("{}")
    with pytest.raises(eh.CacheError, match=r"is a folder \(it holds mine.json\): give the path of one JSON file"):
        eh.load_embeddings(tmp_path)


@pytest.mark.parametrize("content", [b"title,vector\nA,1 2 3\n", b"\x89PNG\r\n\x1a\n\x00\x00"], ids=["csv", "binary"])
def test_a_learners_file_that_is_not_json_is_not_told_to_be_deleted(tmp_path, content):
    path = tmp_path / "my_vectors.json"
    path.write_bytes(content)
    with pytest.raises(eh.CacheError) as err:
        eh.load_embeddings(path)
    message = str(err.value)
    assert str(path) in message and "check that it is the file you meant" in message
    assert "delete" not in message.lower()


def test_a_broken_cache_of_the_project_says_how_to_get_it_back(live):
    path = eh.cache_path("words", "text-embedding-3-test")
    path.parent.mkdir(parents=True)
    path.write_text('{"model": "text-embedding-3-test", "embeddings": {"dog": [0.1, ')
    with pytest.raises(eh.CacheError, match="delete it, and it will be built again"):
        eh.load_embeddings("words")
    shipped = eh.cache_path("words", eh.LOCAL_MODEL).name
    assert "git checkout -- data/embeddings/" + shipped in eh.caches._advice(eh.SHIPPED_DIR / shipped)


@pytest.mark.parametrize(("embeddings", "words"), [({}, "an empty one"), ([[0.1, 0.2]], "a list")])
def test_embed_query_needs_a_dict_of_vectors(embeddings, words):
    with pytest.raises(ValueError, match=f"searches a {{title: vector}} dict.*it got {words}"):
        eh.embed_query("cats", embeddings)


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, None])
def test_batch_size_must_be_a_positive_whole_number(batch_size):
    with pytest.raises(ValueError, match="batch_size must be a positive whole number"):
        eh.embed("x", batch_size=batch_size)
    with pytest.raises(ValueError, match="batch_size must be a positive whole number"):
        eh.build_cache("words", batch_size=batch_size)


@pytest.mark.parametrize("text", ["🎉🎉", "∰∰", "\u200b"], ids=["emoji", "symbols", "zero-width"])
def test_the_local_model_never_returns_a_vector_of_zeros(text, monkeypatch):
    assert np.linalg.norm(eh.embed(text)[0]) == pytest.approx(1.0, abs=1e-5)  # the default model reads it
    monkeypatch.setenv("LOCAL_EMBEDDING_MODEL", eh.STATIC_MODEL)  # the static model has no row for it
    with pytest.raises(eh.ProviderError, match=re.escape(f"has no vector for {text!r} (text 1)") + ".*Add some words"):
        eh.embed(["a dog", text])
    with pytest.raises(eh.ProviderError, match="has no vector for"):
        eh.embed_query(text, eh.load_embeddings("movies"))
    assert eh.embed(f"a dog {text}").shape == (1, 256)  # with a word it knows, it is fine


# ---------------------------------------------------------------- the build script


def test_the_build_script_reports_a_configuration_error_in_one_line(monkeypatch, capsys):
    monkeypatch.setenv("API_HOST", "openai")
    assert build_cache_main(["words"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: OPENAI_API_KEY is not set.") and "Traceback" not in err


def test_the_build_script_reports_a_provider_error_in_one_line(live, capsys):
    live.responses = [Reply(200, "<html></html>", content_type="text/html")]
    assert build_cache_main(["words"]) == 1
    err = capsys.readouterr().err
    assert "error: " in err and "web page (HTML)" in err and "Traceback" not in err


def test_the_build_script_refuses_bad_dimensions_before_any_request(live, capsys):
    with pytest.raises(SystemExit) as exit_:
        build_cache_main(["words", "--dimensions", "0"])
    assert exit_.value.code == 2 and "'0' is not a positive whole number" in capsys.readouterr().err
    assert live.requests == []


@pytest.mark.parametrize(
    ("error", "code", "words"),
    [(KeyboardInterrupt(), 130, "interrupted: what was embedded is kept"),
     (PermissionError(13, "Permission denied", "/data/embeddings/x.json"), 1, "Permission denied (/data/")],
)  # fmt: skip
def test_the_build_script_ends_an_interruption_or_a_disk_error_in_one_line(live, monkeypatch, capsys, error, code,
                                                                           words):
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(eh, "build_cache", fail)
    assert build_cache_main(["words"]) == code
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_the_build_script_builds_and_says_where(live, capsys):
    assert build_cache_main(["words"]) == 0
    out = capsys.readouterr().out
    path = eh.cache_path("words", "text-embedding-3-test")
    assert f"{path}: 690 vectors of 64 dimensions" in out
    assert json.loads(path.read_text())["complete"] is True
