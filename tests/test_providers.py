"""Which provider API_HOST selects, and the errors that tell a learner what to set."""

import pytest

import embeddings_helper as eh


def test_unset_host_without_token_is_local():
    p = eh.get_provider({})
    assert (p.host, p.model) == ("local", eh.LOCAL_MODEL)
    assert p.is_local


def test_unset_host_is_local_whatever_tokens_exist():
    """A Codespace always has GITHUB_TOKEN: it must not pick a provider any more."""
    env = {"GITHUB_TOKEN": "t0ken", "OPENAI_API_KEY": "sk-x", "AZURE_OPENAI_API_KEY": "k"}
    p = eh.get_provider(env)
    assert (p.host, p.model) == ("local", eh.LOCAL_MODEL)


@pytest.mark.parametrize("value", ["github", "GitHub", " github "])
def test_github_models_is_retired_and_says_what_to_set(value):
    with pytest.raises(eh.ConfigurationError) as err:
        eh.get_provider({"API_HOST": value, "GITHUB_TOKEN": "t0ken"})
    message = str(err.value)
    assert "GitHub Models was retired on 2026-07-30" in message
    for host in ("local", "azure", "openai", "ollama"):
        assert host in message
    assert message.count(". ") <= 2 and "models.github.ai" not in message


def test_github_models_is_no_host_any_more():
    assert "github" not in eh.API_HOSTS and eh.API_HOSTS[0] == "local"
    assert "github" not in eh.config.PROVIDER_LIMITS and "github" not in eh.DEFAULT_MODELS


def test_the_retirement_sentence_speaks_spanish_in_a_spanish_lesson(monkeypatch, tmp_path):
    spanish_lessons = tmp_path / "notebooks" / "es"
    spanish_lessons.mkdir(parents=True)
    monkeypatch.chdir(spanish_lessons)
    with pytest.raises(eh.ConfigurationError, match="GitHub Models dejó de funcionar el 2026-07-30"):
        eh.get_provider({"API_HOST": "github"})


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://res.openai.azure.com/openai/v1/",
        "https://res.openai.azure.com",
        "https://res.services.ai.azure.com/openai/v1/",
        "https://res.services.ai.azure.com/openai/v1",
        "https://res.services.ai.azure.com/openai",
    ],
)
def test_azure_v1_endpoint_in_both_forms(endpoint):
    p = eh.get_provider({"API_HOST": "azure", "AZURE_OPENAI_ENDPOINT": endpoint, "AZURE_OPENAI_API_KEY": "k"})
    host = endpoint.split("//")[1].split("/")[0]
    assert p.base_url == f"https://{host}/openai/v1/"


def test_a_foundry_project_endpoint_gets_the_resources_address():
    with pytest.raises(eh.ConfigurationError, match=r"https://res\.services\.ai\.azure\.com/openai/v1/"):
        eh.get_provider({"API_HOST": "azure", "AZURE_OPENAI_ENDPOINT": "https://res.services.ai.azure.com/api/projects/p1"})


def test_keyless_azure_passes_azure_identitys_token_provider_as_the_api_key(monkeypatch):
    """No key: the SDK gets a callable that returns an Entra ID bearer token for Cognitive Services."""
    import azure.identity

    scopes = []

    class FakeCredential:
        def get_token(self, *wanted, **kwargs):
            scopes.extend(wanted)
            return azure.core.credentials.AccessToken("entra-token", 2**31)

    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", FakeCredential)
    p = eh.get_provider({"API_HOST": "azure", "AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com"})
    options = eh.remote.client_options(p)
    assert callable(options["api_key"]) and options["api_key"]() == "entra-token"
    assert scopes == ["https://cognitiveservices.azure.com/.default"]
    assert options["base_url"] == "https://res.openai.azure.com/openai/v1/"


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
    assert eh.get_provider({"API_HOST": "openai"}, host="local").is_local


def test_unknown_host_lists_the_valid_ones():
    with pytest.raises(eh.ConfigurationError) as err:
        eh.get_provider({"API_HOST": "gemini"})
    for host in eh.API_HOSTS:
        assert host in str(err.value)
    assert "'gemini'" in str(err.value)


@pytest.mark.parametrize(
    ("env", "variable", "hint"),
    [
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
    line = eh.describe_provider(eh.get_provider({"API_HOST": "azure", "AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com",
                                                 "AZURE_OPENAI_API_KEY": "k"}))  # fmt: skip
    assert "Microsoft Foundry / Azure OpenAI" in line and "text-embedding-3-small" in line and "1536" in line


def test_the_lessons_client_gives_up_in_bounded_time():
    """The client that lessons call directly: a 5 s connect, a 20 s read; the helper retries, not the SDK."""
    client = eh.get_client(eh.get_provider({"API_HOST": "openai", "OPENAI_API_KEY": "k"}))
    assert client.max_retries == 0
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


@pytest.mark.parametrize("name", ["PAPERMILL_INPUT_PATH", "__vsc_ipynb_file__", "__session__"])
def test_the_notebook_itself_decides_the_language_wherever_its_kernel_runs(monkeypatch, tmp_path, name):
    """papermill from the repository root (with --inject-input-path), VS Code, JupyterLab: the path wins."""
    import sys

    monkeypatch.chdir(tmp_path)  # not notebooks/es/
    main = sys.modules["__main__"]
    monkeypatch.setattr(main, name, "notebooks/es/03_busqueda.ipynb", raising=False)
    assert eh.config.lesson_language() == "es"
    assert "sin conexión, sin clave" in eh.describe_provider(eh.get_provider({}))
    monkeypatch.setattr(main, name, "notebooks/03_search.ipynb", raising=False)
    monkeypatch.chdir(tmp_path)
    assert eh.config.lesson_language() == "en"


def test_without_a_notebook_path_the_kernels_folder_decides(monkeypatch, tmp_path):
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    folder = tmp_path / "notebooks" / "es"
    folder.mkdir(parents=True)
    monkeypatch.chdir(folder)
    assert eh.config.lesson_language() == "es"
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "notebooks" / "01_generate_embedding.ipynb"))
    assert eh.config.lesson_language() == "en"


def test_a_spanish_lesson_hears_configuration_mistakes_in_spanish(spanish):
    with pytest.raises(eh.ConfigurationError, match="OPENAI_API_KEY no está definida. Crea una en"):
        eh.get_provider({"API_HOST": "openai"})
    with pytest.raises(eh.ConfigurationError, match="no es una URL completa: escríbela con su esquema"):
        eh.get_provider({"API_HOST": "openai", "OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "u:pw@h.example/v1"})
    with pytest.raises(eh.ConfigurationError, match="no es un proveedor conocido"):
        eh.get_provider({"API_HOST": "gemini"})


@pytest.mark.parametrize(
    ("settings", "spanish_words"),
    [
        ({"API_HOST": "local", "LOCAL_EMBEDDING_MODEL": "bert"}, "no es un modelo local"),
        ({"API_HOST": "azure", "AZURE_OPENAI_ENDPOINT": "https://n.openai.azure.com/openai/deployments/emb/embeddings"},
         "es la URL completa de un deployment; pon AZURE_OPENAI_ENDPOINT=https://n.openai.azure.com"),
        ({"API_HOST": "azure", "AZURE_OPENAI_ENDPOINT": "https://n.services.ai.azure.com/api/projects/p"},
         "es el endpoint de un proyecto de Foundry"),
        ({"API_HOST": "azure", "AZURE_OPENAI_ENDPOINT": "https://n.openai.azure.com",
          "AZURE_OPENAI_EMBEDDING_DIMENSIONS": "ancho"}, "no es un número entero positivo"),
        ({"API_HOST": "ollama", "OLLAMA_ENDPOINT": "http://localhost:11434/api"},
         "apunta a la API propia de Ollama .*pon OLLAMA_ENDPOINT=http://localhost:11434/v1"),
    ],
)
def test_the_rarer_configuration_mistakes_are_explained_in_spanish_too(spanish, settings, spanish_words):
    with pytest.raises(eh.ConfigurationError, match=spanish_words):
        eh.get_provider(settings)


def test_a_dotenv_in_another_encoding_is_explained_in_spanish(spanish, monkeypatch, tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("API_HOST=local\n", encoding="utf-16")
    monkeypatch.setattr(eh.config, "DOTENV_PATH", dotenv)
    with pytest.raises(eh.ConfigurationError, match="está guardado en UTF-16 .* guárdalo otra vez en UTF-8"):
        eh.get_provider()
    dotenv.write_bytes(b"API_HOST=l\xe9ocal\n")
    with pytest.raises(eh.ConfigurationError, match="no es texto UTF-8 \\(el byte 10 no se puede leer\\)"):
        eh.get_provider()
