"""The OpenAI-compatible path, end to end through the real openai SDK, against a server on 127.0.0.1."""

import numpy as np
import pytest

import embeddings_helper as eh
from conftest import fake_vector, openai_provider


def test_request_auth_and_unit_rows(server):
    m = eh.embed(["hello", "world"], provider=openai_provider(server))
    assert m.shape == (2, 1536) and m.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(m, axis=1), 1.0, atol=1e-5)
    expected = np.array(fake_vector("world", 1536))
    np.testing.assert_allclose(m[1], expected / np.linalg.norm(expected), atol=1e-5)  # order kept
    (request,) = server.requests
    assert request["path"] == "/v1/embeddings"
    assert request["headers"]["authorization"] == "Bearer test-key-123"
    assert request["body"]["model"] == "text-embedding-3-small"
    assert request["body"]["input"] == ["hello", "world"]
    assert request["body"]["encoding_format"] == "float"
    assert "dimensions" not in request["body"]


def test_batches_and_order(server):
    texts = [f"text {i}" for i in range(150)]
    m = eh.embed(texts, batch_size=64, provider=openai_provider(server))
    assert [len(r["body"]["input"]) for r in server.requests] == [64, 64, 22]
    assert [t for r in server.requests for t in r["body"]["input"]] == texts
    v = np.array(fake_vector("text 149", 1536))
    np.testing.assert_allclose(m[149], v / np.linalg.norm(v), atol=1e-5)


def test_dimensions_are_sent_to_text_embedding_3(server):
    m = eh.embed("hello", dimensions=256, provider=openai_provider(server))
    assert m.shape == (1, 256)
    assert server.requests[0]["body"]["dimensions"] == 256
    assert np.linalg.norm(m[0]) == pytest.approx(1.0, abs=1e-5)


def test_azure_dimensions_variable_is_the_default(server):
    p = eh.get_provider(
        {
            "API_HOST": "azure",
            "AZURE_OPENAI_ENDPOINT": server.url,
            "AZURE_OPENAI_API_KEY": "az-key",
            "AZURE_OPENAI_EMBEDDING_DEPLOYMENT": "my-emb",
            "AZURE_OPENAI_EMBEDDING_DIMENSIONS": "512",
        }
    )
    m = eh.embed("hello", provider=p)
    assert m.shape == (1, 512)
    (request,) = server.requests
    assert request["path"] == "/openai/v1/embeddings"
    assert request["body"]["model"] == "my-emb" and request["body"]["dimensions"] == 512
    assert request["headers"]["authorization"] == "Bearer az-key"


def test_azure_keyless_sends_an_entra_token(server, monkeypatch):
    import azure.identity
    from azure.core.credentials import AccessToken

    class FakeCredential:
        def get_token(self, *scopes, **kwargs):
            assert scopes == ("https://cognitiveservices.azure.com/.default",)
            return AccessToken("entra-token", 4102444800)

    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", FakeCredential)
    p = eh.get_provider({"API_HOST": "azure", "AZURE_OPENAI_ENDPOINT": server.url})
    assert p.use_azure_identity
    eh.embed("hello", provider=p)
    assert server.requests[0]["headers"]["authorization"] == "Bearer entra-token"


def test_azure_with_a_key_on_the_foundry_form_of_the_v1_endpoint(server):
    """https://NAME.services.ai.azure.com/openai/v1/ is the same API: the request goes to .../openai/v1/embeddings."""
    p = eh.get_provider({"API_HOST": "azure", "AZURE_OPENAI_ENDPOINT": server.url + "/openai/v1/",
                         "AZURE_OPENAI_API_KEY": "azure-key", "AZURE_OPENAI_EMBEDDING_DEPLOYMENT": "emb3"})  # fmt: skip
    eh.embed(["a", "b"], dimensions=128, provider=p)
    (request,) = server.requests
    assert request["path"] == "/openai/v1/embeddings"
    assert request["body"]["model"] == "emb3" and request["body"]["dimensions"] == 128
    assert request["headers"]["authorization"] == "Bearer azure-key"


def test_ollama_path(server):
    server.width = 768  # nomic-embed-text's width
    p = eh.get_provider({"API_HOST": "ollama", "OLLAMA_ENDPOINT": server.url + "/v1"})
    m = eh.embed("hello", provider=p)
    assert m.shape == (1, 768)
    assert server.requests[0]["body"]["model"] == "nomic-embed-text"
    assert "dimensions" not in server.requests[0]["body"]


def test_transient_server_errors_are_retried(server, short_budget):
    server.responses = [500, 503]
    m = eh.embed("hello", provider=openai_provider(server))
    assert m.shape == (1, 1536)
    assert len(server.requests) == 3


def test_refused_credentials_name_the_variable(server):
    server.responses = [401]
    with pytest.raises(eh.ProviderError, match="OPENAI_API_KEY") as err:
        eh.embed("hello", provider=openai_provider(server))
    assert "401" in str(err.value)
    assert len(server.requests) == 1  # not retried


def test_unknown_model_names_the_variable(server):
    p = eh.get_provider(
        {"API_HOST": "ollama", "OLLAMA_ENDPOINT": server.url + "/v1", "OLLAMA_EMBEDDING_MODEL": "no-such-model"}
    )
    with pytest.raises(eh.ProviderError, match="no-such-model"):
        eh.embed("hello", provider=p)


def test_the_client_itself_for_the_lesson(server):
    """Lesson 1 calls client.embeddings.create(...) directly; the helper's client is a real OpenAI client."""
    client = eh.get_client(openai_provider(server))
    response = client.embeddings.create(model="text-embedding-3-small", input="hello", dimensions=8)
    assert len(response.data[0].embedding) == 8  # base64 by default in the SDK; the server speaks both
    assert response.usage.prompt_tokens == 1
