"""The real OpenAI SDK on every host: get_client() offline answers in-process; on a hosted provider the
lessons' direct calls are bounded in time, speak in one sentence, and check the vectors like embed().
Also: gone services (410), dropped connections, task prefixes, and Ollama's dimensions."""

import socket
import time
import warnings

import numpy as np
import openai
import pytest

import embeddings_helper as eh
from conftest import Reply, openai_provider


def test_offline_get_client_is_the_real_sdk_and_gives_embeds_vectors(monkeypatch):
    texts = ["dog", "perro", "a robot falls in love"]
    expected = eh.embed(texts)

    def no_socket(*args, **kwargs):
        raise AssertionError("the in-process client opened a socket")

    monkeypatch.setattr(socket, "socket", no_socket)
    client = eh.get_client()
    assert isinstance(client, openai.OpenAI)
    response = client.embeddings.create(model=eh.LOCAL_MODEL, input=texts)
    assert isinstance(response, openai.types.CreateEmbeddingResponse)
    assert response.model == eh.LOCAL_MODEL and response.usage.prompt_tokens > 0
    vectors = np.array([item.embedding for item in response.data])
    np.testing.assert_allclose(vectors, expected, atol=1e-6)
    floats = client.embeddings.create(model=eh.LOCAL_MODEL, input="dog", encoding_format="float")
    np.testing.assert_allclose(floats.data[0].embedding, expected[0], atol=1e-6)


def test_offline_dimensions_are_honoured_by_the_static_model_and_refused_by_the_default():
    static = eh.get_client(eh.get_provider({"API_HOST": "local", "LOCAL_EMBEDDING_MODEL": eh.STATIC_MODEL}))
    short = static.embeddings.create(model=eh.STATIC_MODEL, input="dog", dimensions=64).data[0].embedding
    np.testing.assert_allclose(short, eh.embed("dog", 64, provider=eh.Provider("local", eh.STATIC_MODEL))[0], atol=1e-6)
    with pytest.raises(openai.BadRequestError) as err:
        eh.get_client().embeddings.create(model=eh.LOCAL_MODEL, input="dog", dimensions=64)
    assert err.value.status_code == 400
    assert "does not accept dimensions=" in str(err.value) and eh.STATIC_MODEL in str(err.value)


def test_offline_an_unknown_model_is_named():
    with pytest.raises(eh.ProviderError, match="'text-embedding-3-small' does not exist here") as err:
        eh.get_client().embeddings.create(model="text-embedding-3-small", input="dog")
    assert "LOCAL_EMBEDDING_MODEL" in str(err.value)


def test_the_lessons_client_rejects_a_nan_vector_and_a_wrong_width(server):
    client = eh.get_client(openai_provider(server))
    server.transform = lambda vectors: [[float("nan")] + v[1:] for v in vectors]
    with pytest.raises(eh.ProviderError, match="NaN or infinity in it, for text 0"):
        client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    server.transform, server.ignore_dimensions = None, True
    with pytest.raises(eh.ProviderError, match="asked for 256 dimensions but returned 1536"):
        client.embeddings.create(model="text-embedding-3-small", input="a", dimensions=256)
    server.transform = lambda vectors: [[0.0] * len(v) for v in vectors]
    with pytest.raises(eh.ProviderError, match="vector of zeros"):
        client.embeddings.create(model="text-embedding-3-small", input="a")


def test_the_lessons_client_turns_sdk_failures_into_one_sentence(server, short_budget):
    client = eh.get_client(openai_provider(server))
    server.responses = [Reply(429, {"error": {"message": "Rate limit"}}, {"Retry-After": "60"})]
    with pytest.raises(eh.ProviderError, match="asks to wait 60 s: run the cell again after that") as err:
        client.embeddings.create(model="text-embedding-3-small", input="a")
    assert err.value.__cause__ is None
    eh.pacing._pacers.clear()
    server.responses = [Reply(silent=True)] * 3
    start = time.monotonic()
    with pytest.raises(eh.ProviderError, match="accepted the connection but sent no answer"):
        client.embeddings.create(model="text-embedding-3-small", input="a")
    assert time.monotonic() - start <= eh.config.CALL_BUDGET + 10  # generous: a busy machine
    server.responses = [500]  # one server error is retried, and the call succeeds
    assert len(client.embeddings.create(model="text-embedding-3-small", input="a").data) == 1


@pytest.mark.parametrize(
    "reply",
    [
        Reply(410, {"error": {"message": "This model has been retired."}}),
        Reply(403, {"error": {"message": "Forbidden"}}, {"Sunset": "Thu, 30 Jul 2026 00:00:00 GMT"}),
        Reply(403, {"error": {"message": "Forbidden"}}, {"Deprecation": "true"}),
    ],
    ids=["410", "403-sunset", "403-deprecation"],
)
def test_a_gone_service_says_it_is_gone(server, reply):
    server.responses = [reply]
    with pytest.raises(eh.ProviderError) as err:
        eh.embed("hello", provider=openai_provider(server))
    message = str(err.value)
    assert "is gone (retired)" in message and "will not help" in message and "API_HOST=local" in message
    assert "check OPENAI_EMBEDDING_MODEL" not in message and len(server.requests) == 1  # not retried
    server.responses = [reply]
    with pytest.raises(eh.ProviderError, match="is gone"):
        eh.get_client(openai_provider(server)).embeddings.create(model="text-embedding-3-small", input="a")


def test_a_plain_403_still_names_the_credentials(server):
    server.responses = [403]
    with pytest.raises(eh.ProviderError, match="denied access") as err:
        eh.embed("hello", provider=openai_provider(server))
    assert "gone" not in str(err.value)


def test_a_connection_dropped_without_an_answer_is_retried_once(server):
    server.responses = [Reply(drop=True)]
    assert eh.embed("hello", provider=openai_provider(server)).shape == (1, 1536)
    assert len(server.requests) == 2
    server.requests.clear()
    server.responses = [Reply(drop=True)] * 2
    with pytest.raises(eh.ProviderError, match="closed the connection without an answer, twice"):
        eh.embed("hello", provider=openai_provider(server))
    assert len(server.requests) == 2


def test_a_text_that_cannot_be_sent_is_named():
    with pytest.raises(ValueError, match="cannot be sent as UTF-8 at position 1") as err:
        eh.embed(["fine", "half an emoji \ud83d here"])
    assert "half an emoji" in str(err.value)


@pytest.mark.parametrize(
    ("model", "query", "document"),
    [
        ("nomic-embed-text", "search_query: ", "search_document: "),
        ("nomic-embed-text:latest", "search_query: ", "search_document: "),
        ("embeddinggemma", "task: search result | query: ", "title: none | text: "),
        ("qwen3-embedding:0.6b", "Instruct: Given a web search query, retrieve relevant passages that answer the "
                                 "query\nQuery:", ""),
        ("jeffh/intfloat-multilingual-e5-small:f16", "query: ", "passage: "),
        ("text-embedding-3-small", "", ""),
        (eh.LOCAL_MODEL, "", ""),
    ],
)  # fmt: skip
def test_each_model_gets_its_own_task_prefixes(model, query, document):
    assert eh.task_prefix(model, "query") == query and eh.task_prefix(model, "document") == document
    assert eh.task_prefix(model, None) == ""


def test_queries_and_documents_reach_ollama_with_their_prefixes(server):
    server.width = 768
    p = eh.get_provider({"API_HOST": "ollama", "OLLAMA_ENDPOINT": server.url + "/v1"})  # nomic-embed-text
    eh.embed("a film about dragons", input_type="query", provider=p)
    eh.embed(["Shrek (2001): an ogre..."], input_type="document", provider=p)
    eh.embed("plain", provider=p)
    assert [r["body"]["input"] for r in server.requests] == [
        ["search_query: a film about dragons"], ["search_document: Shrek (2001): an ogre..."], ["plain"]]
    with pytest.raises(ValueError, match="input_type must be 'query', 'document' or None"):
        eh.embed("x", input_type="question", provider=p)


def test_a_cache_embeds_its_rows_as_documents(server, monkeypatch, tmp_path):
    monkeypatch.setattr(eh.caches, "EMBEDDINGS_DIR", tmp_path)
    server.width = 768
    p = eh.get_provider({"API_HOST": "ollama", "OLLAMA_ENDPOINT": server.url + "/v1"})  # nomic-embed-text
    words = eh.build_cache("words", p)
    sent = [text for r in server.requests for text in r["body"]["input"]]
    assert len(sent) == len(words) and all(text.startswith("search_document: ") for text in sent)
    assert set(words) == set(eh.dataset_texts("words"))  # the keys stay the plain words


def test_ollama_dimensions_are_sent_and_cut_here_when_the_server_ignores_them(server):
    server.width = 1024
    p = eh.get_provider({"API_HOST": "ollama", "OLLAMA_ENDPOINT": server.url + "/v1",
                         "OLLAMA_EMBEDDING_MODEL": "qwen3-embedding:0.6b"})  # fmt: skip
    short = eh.embed("hello", dimensions=256, provider=p)
    assert server.requests[-1]["body"]["dimensions"] == 256 and short.shape == (1, 256)
    assert "made the 256 dimensions itself" in eh.how_dimensions_were_made(p, dimensions=256)
    server.ignore_dimensions = True  # an Ollama older than 0.11.11
    with pytest.warns(UserWarning, match="ignored dimensions= and sent full vectors"):
        cut = eh.embed("hello", dimensions=256, provider=p)
    full = eh.embed("hello", provider=p)[0]
    np.testing.assert_allclose(cut[0], full[:256] / np.linalg.norm(full[:256]), atol=1e-6)
    assert "kept the first 256 numbers and renormalized" in eh.how_dimensions_were_made(p, dimensions=256)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once, not at every call
        eh.embed("hello again", dimensions=256, provider=p)


def test_a_model_not_trained_to_be_cut_is_not_cut_on_ollama(server):
    server.width = 1024
    p = eh.get_provider({"API_HOST": "ollama", "OLLAMA_ENDPOINT": server.url + "/v1",
                         "OLLAMA_EMBEDDING_MODEL": "bge-m3"})  # fmt: skip
    with pytest.raises(ValueError, match="does not accept dimensions="):
        eh.embed("hello", dimensions=256, provider=p)
    assert server.requests == []


def test_a_build_against_a_silent_server_says_why_it_waits_and_ends_within_its_budget(live, monkeypatch):
    monkeypatch.setattr(eh.config, "BUILD_BUDGET", 3.0)  # a twentieth of the real minute
    monkeypatch.setattr(eh.config, "BUILD_READ_TIMEOUT", 1.0)
    shown = []
    monkeypatch.setattr(eh.pacing, "show_waiting", lambda bar, reason: shown.append(reason))
    live.responses = [Reply(silent=True)] * 10
    start = time.monotonic()
    with pytest.raises(eh.ProviderError, match="sent no answer"):
        eh.build_cache("words", batch_size=300)
    seconds = time.monotonic() - start
    print(f"build against a silent server, 3 s budget: gave up after {seconds:.1f} s")
    assert seconds <= 3.0 + 10 and shown and all("waiting for an answer" in reason for reason in shown)


def test_a_build_told_to_wait_longer_than_its_budget_stops_at_once(live):
    live.responses = [Reply(429, {"error": {"message": "Rate limit"}}, {"Retry-After": "61"})]
    start = time.monotonic()
    with pytest.raises(eh.ProviderError, match="asks to wait 61 s"):
        eh.build_cache("words", batch_size=300)
    assert time.monotonic() - start < 10 and len(live.requests) == 1


def test_a_spanish_lesson_hears_the_providers_failures_in_spanish(server, monkeypatch, tmp_path):
    folder = tmp_path / "notebooks" / "es"
    folder.mkdir(parents=True)
    monkeypatch.chdir(folder)
    server.responses = [Reply(429, {"error": {"message": "Rate limit"}}, {"Retry-After": "60"})]
    with pytest.raises(eh.ProviderError) as err:
        eh.embed("hola", provider=openai_provider(server))
    assert "El servidor en 127.0.0.1" in str(err.value) and "pide esperar 60 s" in str(err.value)
    assert "pon API_HOST=local para trabajar sin conexión" in str(err.value)
    eh.pacing._pacers.clear()
    server.responses = [Reply(410, {"error": {"message": "gone"}})]
    with pytest.raises(eh.ProviderError, match="ya no existe \\(fue retirado\\)"):
        eh.embed("hola", provider=openai_provider(server))
    closed = eh.get_provider({"API_HOST": "ollama", "OLLAMA_ENDPOINT": "http://127.0.0.1:9/v1"})
    with pytest.raises(eh.ProviderError, match="Nada responde en .* \\(conexión rechazada\\): inicia Ollama"):
        eh.embed("hola", provider=closed)
