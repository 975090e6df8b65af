"""Which provider API_HOST selects, and the errors that tell a learner what to set."""

import pytest

import embeddings_helper as eh


def test_unset_host_without_token_is_local():
    p = eh.get_provider({})
    assert (p.host, p.model) == ("local", eh.LOCAL_MODEL)
    assert p.is_local


def test_unset_host_with_github_token_is_github():
    p = eh.get_provider({"GITHUB_TOKEN": "t0ken"})
    assert p.host == "github"
    assert p.model == "openai/text-embedding-3-small"
    assert p.base_url == "https://models.github.ai/inference"
    assert p.api_key.value == "t0ken"


def test_github_model_is_overridable():
    p = eh.get_provider(
        {"API_HOST": "github", "GITHUB_TOKEN": "x", "GITHUB_EMBEDDING_MODEL": "openai/text-embedding-3-large"}
    )
    assert p.model == "openai/text-embedding-3-large"


def test_azure_keyless_by_default():
    p = eh.get_provider(
        {
            "API_HOST": "azure",
            "AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com/",
            "AZURE_OPENAI_EMBEDDING_DEPLOYMENT": "emb3",
            "AZURE_OPENAI_EMBEDDING_DIMENSIONS": "256",
        }
    )
    assert p.host == "azure"
    assert p.base_url == "https://res.openai.azure.com/openai/v1/"
    assert p.model == "emb3"
    assert p.dimensions == 256
    assert p.use_azure_identity and p.api_key is None


def test_azure_with_key_uses_the_key():
    p = eh.get_provider(
        {"API_HOST": "azure", "AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com", "AZURE_OPENAI_API_KEY": "k"}
    )
    assert p.api_key.value == "k" and not p.use_azure_identity
    assert p.model == "text-embedding-3-small"


def test_openai_and_ollama():
    p = eh.get_provider(
        {"API_HOST": "openai", "OPENAI_API_KEY": "k", "OPENAI_EMBEDDING_MODEL": "text-embedding-3-large"}
    )
    assert (p.host, p.model, p.base_url) == ("openai", "text-embedding-3-large", None)
    p = eh.get_provider({"API_HOST": "OLLAMA"})
    assert (p.host, p.model, p.base_url) == ("ollama", "nomic-embed-text", "http://localhost:11434/v1")
    p = eh.get_provider(
        {"API_HOST": "ollama", "OLLAMA_ENDPOINT": "http://gpu-box:11434/v1", "OLLAMA_EMBEDDING_MODEL": "mxbai"}
    )
    assert (p.base_url, p.model) == ("http://gpu-box:11434/v1", "mxbai")


def test_explicit_local_ignores_a_github_token():
    assert eh.get_provider({"API_HOST": "local", "GITHUB_TOKEN": "x"}).is_local


def test_host_argument_overrides_api_host():
    assert eh.get_provider({"API_HOST": "github"}, host="local").is_local


def test_unknown_host_lists_the_valid_ones():
    with pytest.raises(eh.ConfigurationError) as err:
        eh.get_provider({"API_HOST": "gemini"})
    for host in eh.API_HOSTS:
        assert host in str(err.value)
    assert "'gemini'" in str(err.value)


@pytest.mark.parametrize(
    ("env", "variable", "hint"),
    [
        ({"API_HOST": "github"}, "GITHUB_TOKEN", "models"),
        ({"API_HOST": "azure"}, "AZURE_OPENAI_ENDPOINT", "openai.azure.com"),
        ({"API_HOST": "openai"}, "OPENAI_API_KEY", "platform.openai.com"),
        (
            {"API_HOST": "azure", "AZURE_OPENAI_ENDPOINT": "https://YOUR-RESOURCE-NAME.openai.azure.com"},
            "AZURE_OPENAI_ENDPOINT",
            ".env",
        ),
    ],
)
def test_missing_variable_names_it_and_the_fix(env, variable, hint):
    with pytest.raises(eh.ConfigurationError) as err:
        eh.get_provider(env)
    message = str(err.value)
    assert variable in message and hint in message
    assert "API_HOST=local" in message


def test_bad_azure_dimensions():
    with pytest.raises(eh.ConfigurationError, match="AZURE_OPENAI_EMBEDDING_DIMENSIONS"):
        eh.get_provider(
            {
                "API_HOST": "azure",
                "AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com",
                "AZURE_OPENAI_EMBEDDING_DIMENSIONS": "small",
            }
        )


def test_dotenv_is_read_and_the_real_environment_wins(monkeypatch, tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("API_HOST=openai\nOPENAI_API_KEY=from-dotenv\nOPENAI_EMBEDDING_MODEL=text-embedding-3-large\n")
    monkeypatch.setattr(eh.config, "DOTENV_PATH", dotenv)
    p = eh.get_provider()
    assert (p.host, p.api_key.value, p.model) == ("openai", "from-dotenv", "text-embedding-3-large")
    monkeypatch.setenv("OPENAI_API_KEY", "from-environment")
    assert eh.get_provider().api_key.value == "from-environment"
    monkeypatch.setenv("API_HOST", "local")
    assert eh.get_provider().is_local


def test_secrets_stay_out_of_repr_and_description():
    p = eh.get_provider({"API_HOST": "openai", "OPENAI_API_KEY": "sk-very-secret"})
    assert "sk-very-secret" not in repr(p)
    assert "sk-very-secret" not in eh.describe_provider(p)


def test_descriptions_name_host_and_model():
    assert "offline" in eh.describe_provider(eh.get_provider({}))
    line = eh.describe_provider(eh.get_provider({"GITHUB_TOKEN": "x"}))
    assert "GitHub Models" in line and "text-embedding-3-small" in line and "1536" in line


def test_local_has_no_openai_client():
    with pytest.raises(eh.ConfigurationError, match="in-process"):
        eh.get_client(eh.get_provider({}))


def test_the_lessons_client_gives_up_in_bounded_time():
    """The client that lessons call directly: a 5 s connect, a 20 s read, one retry."""
    client = eh.get_client(eh.get_provider({"API_HOST": "openai", "OPENAI_API_KEY": "k"}))
    assert client.max_retries == eh.config.CLIENT_MAX_RETRIES == 1
    assert (client.timeout.connect, client.timeout.read) == (eh.config.CONNECT_TIMEOUT, eh.config.READ_TIMEOUT)
    assert (eh.config.CONNECT_TIMEOUT, eh.config.READ_TIMEOUT, eh.config.CALL_BUDGET) == (5.0, 20.0, 30.0)
    assert eh.remote._client(eh.get_provider({"API_HOST": "openai", "OPENAI_API_KEY": "k"})).max_retries == 0


def test_the_provider_line_speaks_the_lessons_language(monkeypatch, tmp_path):
    spanish_lessons = tmp_path / "notebooks" / "es"
    spanish_lessons.mkdir(parents=True)
    english = eh.describe_provider()
    monkeypatch.chdir(spanish_lessons)  # where a Spanish lesson's kernel runs
    spanish = eh.describe_provider()
    assert "512 dimensions" in english and "offline, no key" in english
    assert "512 dimensiones" in spanish and "sin conexión, sin clave" in spanish
    p = eh.get_provider({"API_HOST": "openai", "OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "http://u:pw@127.0.0.1:9/v1"})
    assert "servidor compatible con OpenAI en http://***@127.0.0.1:9/v1" in eh.describe_provider(p)
