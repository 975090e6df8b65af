"""Requests planned by texts and tokens: building the shipped datasets on the tight tier the helper assumes
for an OpenAI-compatible server of unknown make takes a handful of requests, each within its caps, and a
request refused as too large is halved."""

import numpy as np
import pytest

import embeddings_helper as eh
from conftest import FakeEmbeddingsServer, openai_provider


def test_the_token_estimate_never_undercounts_a_real_tokenizer():
    """Checked against the local model's WordPiece tokenizer, on English, accents, CJK, emoji and symbols;
    OpenAI's byte-level tokenizers make at most one token per byte by construction."""
    tokenizer = eh.local._static_model().tokenizer
    texts = list(eh.dataset_texts("movies").values())[:50] + [
        "naïve café Zoë", "千と千尋の神隠し", "🎉🦁👑 party", "∰∮≋ ⊕⊗", "a" * 500, "x1 y2 z3 " * 40,
    ]  # fmt: skip
    for text in texts:
        assert eh.pacing.estimate_tokens(text) >= len(tokenizer.encode(text).ids), text


def test_a_batch_is_planned_within_both_caps():
    limits = eh.config.Limits(inputs=5, tokens=100, per_minute=None)
    assert eh.pacing.plan_batch(["ab"] * 20, limits, 2048) == 5  # the input cap
    assert eh.pacing.plan_batch(["x" * 30] * 20, limits, 2048) == 3  # 3 × 32 ≤ 100 < 4 × 32
    assert eh.pacing.plan_batch(["x" * 500, "y"], limits, 2048) == 1  # a long text goes alone
    assert eh.pacing.plan_batch(["ab"] * 20, limits, 2) == 2  # batch_size=


def test_building_movies_and_words_on_the_tight_tier_takes_a_handful_of_requests(monkeypatch, tmp_path):
    """From scratch, against a stand-in with the tight tier's limits: 15 a minute, 2,048 inputs, 64,000 tokens."""
    monkeypatch.setattr(eh.caches, "EMBEDDINGS_DIR", tmp_path)
    assert eh.config.PROVIDER_LIMITS["compatible"] == eh.config.Limits(inputs=2048, tokens=64_000, per_minute=15)
    with FakeEmbeddingsServer(width=64) as server:
        server.per_minute, server.max_inputs, server.max_tokens = 15, 2048, 64_000
        monkeypatch.setenv("API_HOST", "openai")
        monkeypatch.setenv("OPENAI_API_KEY", "k")
        monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
        monkeypatch.setenv("OPENAI_EMBEDDING_MODEL", "text-embedding-3-test")  # 64 numbers: quick to parse
        assert eh.pacing.tier(eh.get_provider()) == "compatible"
        movies, words = eh.load_embeddings("movies"), eh.load_embeddings("words")
    sizes = [len(r["body"]["input"]) for r in server.requests]
    print(f"movies and words on the tight tier from scratch: {len(sizes)} requests of {sizes} texts")
    assert movies.info["model"] == words.info["model"] == "text-embedding-3-test" and len(sizes) >= 2
    assert len(movies) == len(eh.dataset_texts("movies")) and len(words) == len(eh.dataset_texts("words"))
    assert len(server.requests) <= 8
    assert server.refused == []
    assert all(n <= 2048 for n in sizes)
    assert all(server.tokens(r) <= 64_000 for r in server.requests)


def test_a_batch_refused_as_too_large_is_halved_and_later_ones_planned_smaller(server):
    texts = [f"movie {i}: " + "a story of friendship and dragons " * 6 for i in range(40)]  # ~210 bytes each
    server.max_tokens = 3000  # the helper believes 64,000
    m = eh.embed(texts, provider=openai_provider(server))
    sizes = [len(r["body"]["input"]) for r in server.requests]
    print(f"cap of 3,000 tokens: requests of {sizes} texts")
    assert server.refused == [413, 413]
    assert sizes[:2] == [40, 20] and all(n <= 10 for n in sizes[2:]) and sum(sizes[2:]) == 40
    v = np.array([eh.embed(t, provider=openai_provider(server))[0] for t in texts[:3]])
    np.testing.assert_allclose(m[:3], v, atol=1e-6)  # right vectors, in the right order

    server.requests.clear()
    eh.embed(texts, provider=openai_provider(server))
    assert server.refused == [413, 413]  # learned: no request refused the second time
    assert all(len(r["body"]["input"]) <= 10 for r in server.requests)


def test_a_single_text_too_long_for_the_model_is_named(server):
    server.max_tokens = 10
    with pytest.raises(eh.ProviderError, match=r"refused text 0 as too long \(Request body too large.*shorten it"):
        eh.embed("a sentence far longer than ten tokens, of course", provider=openai_provider(server))
    assert len(server.requests) == 1
