"""Keys stay out of sight: in the provider line every notebook prints (and commits), in the Provider
object however it is printed, and in error messages even when a server echoes the key back.
Where a variable came from is said when it matters."""

import dataclasses
import json

import pytest

import embeddings_helper as eh
from conftest import Reply

KEY = "sk-proj-" + "abcdefghijklmnopqrstuvwxyz0123456789"  # built here, so no key-shaped literal is tracked


def test_credentials_inside_a_url_are_not_printed():
    p = eh.get_provider(
        {"API_HOST": "openai", "OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": "https://alice:s3cr3t-pass@llm.example.com/v1"}
    )
    line = eh.describe_provider(p)
    assert "s3cr3t-pass" not in line and "alice" not in line
    assert "OpenAI-compatible server at https://***@llm.example.com/v1" in line
    assert "s3cr3t-pass" not in repr(p)
    ollama = eh.get_provider({"API_HOST": "ollama", "OLLAMA_ENDPOINT": "http://bob:pw1234@gpu:11434/v1"})
    assert "pw1234" not in eh.describe_provider(ollama)


def test_the_key_is_not_in_any_printout_of_the_provider():
    p = eh.get_provider({"API_HOST": "openai", "OPENAI_API_KEY": KEY})
    for shown in (repr(p), str(p), repr(vars(p)), repr(dataclasses.asdict(p)), f"{p.api_key}"):
        assert KEY not in shown
    with pytest.raises(TypeError):
        json.dumps(dataclasses.asdict(p))  # not silently written to a file either
    assert p.api_key.value == KEY  # the code still has it
    assert dataclasses.replace(p, model="text-embedding-3-large").api_key == p.api_key


def test_a_key_echoed_by_the_server_is_hidden_in_the_error(server):
    server.responses = [Reply(401, {"error": {"message": f"Incorrect API key provided: {KEY}. Find yours at ..."}})]
    p = eh.get_provider({"API_HOST": "openai", "OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": server.url + "/v1"})
    with pytest.raises(eh.ProviderError) as err:
        eh.embed("hello", provider=p)
    message = str(err.value)
    assert KEY not in message and "Incorrect API key provided: ***" in message


def test_a_token_of_another_shape_echoed_by_the_server_is_hidden_too(server):
    other = "ghs_" + "A1b2C3d4" * 5
    server.responses = [Reply(400, {"error": {"message": f"bad request from token {other}"}})]
    p = eh.get_provider({"API_HOST": "openai", "OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.url + "/v1"})
    with pytest.raises(eh.ProviderError) as err:
        eh.embed("hello", provider=p)
    assert other not in str(err.value) and "bad request from token ***" in str(err.value)


def test_a_refused_key_says_where_it_came_from(server, monkeypatch, tmp_path):
    """A key exported in the shell wins over the one a learner put in .env: the message says which was used."""
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"API_HOST=openai\nOPENAI_API_KEY=sk-{'x' * 36}\nOPENAI_BASE_URL={server.url}/v1\n")
    monkeypatch.setattr(eh.config, "DOTENV_PATH", dotenv)
    monkeypatch.setenv("OPENAI_API_KEY", "shell-key")
    server.responses = [401]
    with pytest.raises(eh.ProviderError) as err:
        eh.embed("hello")
    assert "check OPENAI_API_KEY from the environment, which overrides .env" in str(err.value)
    assert "shell-key" not in str(err.value)
    monkeypatch.delenv("OPENAI_API_KEY")
    assert eh.get_provider().key_source == "OPENAI_API_KEY from .env"


def test_an_empty_variable_in_the_shell_does_not_hide_dotenv(monkeypatch, tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("API_HOST=openai\nOPENAI_API_KEY=from-dotenv\n")
    monkeypatch.setattr(eh.config, "DOTENV_PATH", dotenv)
    monkeypatch.setenv("API_HOST", "")  # `export API_HOST=` in a shell
    monkeypatch.setenv("OPENAI_API_KEY", "  ")
    p = eh.get_provider()
    assert (p.host, p.api_key.value) == ("openai", "from-dotenv")


def test_a_bad_value_says_which_file_it_came_from(monkeypatch, tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("API_HOST=gemini\n")
    monkeypatch.setattr(eh.config, "DOTENV_PATH", dotenv)
    with pytest.raises(eh.ConfigurationError, match=r"API_HOST='gemini' \(from \.env\)"):
        eh.get_provider()


@pytest.mark.parametrize(
    "secret",
    [
        "ghp_" + "a1B2" * 9,  # personal access token
        "ghu_" + "Z9y8" * 9,  # user-to-server token (Codespaces)
        "ghs_" + "Q1w2" * 9,  # server-to-server token (Codespaces, Actions)
        "github_pat_" + "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
        KEY,
        "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwczovL2NvZ25pdGl2ZXNlcnZpY2VzIn0.c2lnbmF0dXJlLWJ5dGVz",
        "0123456789abcdef0123456789abcdef",  # an Azure key
        "A" * 52 + "JQQJ99" + "B" * 26,  # a newer Azure key
    ],
    ids=["ghp", "ghu", "ghs", "github_pat", "sk", "jwt", "azure-hex", "azure-84"],
)
def test_the_secret_scan_recognises_each_kind_of_key(secret):
    assert eh.redact.SECRET_PATTERN.search(f"token: {secret}\n")
    assert secret not in eh.redact.redact(f"Authorization: Bearer {secret}")


@pytest.mark.parametrize(
    "text",
    ["a toddler-friendly movie about cats", "sk-learn is a library", "texts_sha256 3f2a", "ghost_town", "eyJ"],
)
def test_the_secret_scan_leaves_ordinary_text_alone(text):
    assert not eh.redact.SECRET_PATTERN.search(text)
    assert eh.redact.redact(text) == text


@pytest.mark.parametrize(
    "env",
    [
        {"API_HOST": "openai", "OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "user:hunter2pass@llm.example.com/v1"},
        {"API_HOST": "ollama", "OLLAMA_ENDPOINT": "user:hunter2pass@gpu-box:11434/v1"},
        {"API_HOST": "azure", "AZURE_OPENAI_ENDPOINT":
            "https://user:hunter2pass@res.openai.azure.com/openai/deployments/emb3/embeddings"},
        {"API_HOST": "azure", "AZURE_OPENAI_ENDPOINT": "user:hunter2pass@res.openai.azure.com"},
        {"API_HOST": "openai", "OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "https://user:hunter2pass@h.example/v1/embeddings"},
    ],
    ids=["openai-scheme-less", "ollama-scheme-less", "azure-deployment-url", "azure-scheme-less", "full-request-url"],
)  # fmt: skip
def test_a_url_mistake_never_repeats_the_password(env):
    """The message names the mistake and the value to set, with the credentials hidden, in the fix too."""
    with pytest.raises(eh.ConfigurationError) as err:
        eh.get_provider(env)
    message = str(err.value)
    assert "hunter2pass" not in message and "***@" in message


def test_vars_and_asdict_of_a_provider_hide_the_url_password():
    import dataclasses

    p = eh.get_provider({"API_HOST": "openai", "OPENAI_API_KEY": "sk-" + "s" * 30,
                         "OPENAI_BASE_URL": "https://user:hunter2pass@h.example/v1"})  # fmt: skip
    for shown in (repr(p), str(vars(p)), str(dataclasses.asdict(p)), repr(p.base_url)):
        assert "hunter2pass" not in shown and "sssss" not in shown
    assert str(p.base_url) == "https://user:hunter2pass@h.example/v1"  # the client still gets the whole URL
