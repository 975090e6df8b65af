"""Bounded waits: a cell that calls a hosted provider ends in seconds, with one sentence saying what
happened, whatever the server does; rate limits are honoured within the budget and paced ahead of time.
Every case runs against a stand-in server on 127.0.0.1, and prints how long the helper waited."""

import time

import pytest

import embeddings_helper as eh
from conftest import Reply, openai_provider


def timed_failure(call):
    """The ProviderError a call ends with, and the seconds it took."""
    start = time.monotonic()
    with pytest.raises(eh.ProviderError) as err:
        call()
    return str(err.value), time.monotonic() - start


def github(server):
    return eh.get_provider({"GITHUB_TOKEN": "gh-token", "GITHUB_MODELS_ENDPOINT": server.url + "/inference"})


def test_the_budget_is_what_the_readme_says():
    assert (eh.config.CONNECT_TIMEOUT, eh.config.READ_TIMEOUT, eh.config.CALL_BUDGET) == (5.0, 20.0, 30.0)
    patience = eh.pacing.interactive()
    assert (patience.budget, patience.connect, patience.read, patience.read_retries) == (30.0, 5.0, 20.0, 1)
    assert eh.pacing.for_builds().budget > patience.budget


def test_a_silent_server_ends_in_a_clear_error_within_the_budget(server, short_budget):
    server.responses = [Reply(silent=True)] * 3
    message, seconds = timed_failure(lambda: eh.embed("hello", provider=openai_provider(server)))
    print(f"silent server, 3 s budget: gave up after {seconds:.1f} s")
    assert eh.config.CALL_BUDGET - 0.5 <= seconds <= eh.config.CALL_BUDGET + 2
    assert len(server.requests) == 2  # a timed-out read is retried once
    assert "sent no answer in 3 s" in message and "API_HOST=local" in message
    assert "Could not reach" not in message  # it was reached


def test_with_the_real_budget_a_silent_server_is_given_up_on_within_a_minute(server):
    server.responses = [Reply(silent=True)] * 3
    message, seconds = timed_failure(lambda: eh.embed("hello", provider=openai_provider(server)))
    print(f"silent server, default budget: gave up after {seconds:.1f} s")
    assert 25 <= seconds <= 40
    assert len(server.requests) == 2 and "sent no answer" in message


def test_retry_after_beyond_the_budget_fails_at_once_saying_how_long(server):
    server.responses = [Reply(429, {"error": {"message": "Rate limit exceeded"}}, {"Retry-After": "60"})]
    message, seconds = timed_failure(lambda: eh.embed("hello", provider=github(server)))
    print(f"429 with Retry-After: 60: gave up after {seconds:.1f} s")
    assert seconds < 3
    assert message.startswith("GitHub Models asks to wait 60 s: run the cell again after that, or set API_HOST=local")
    assert len(server.requests) == 1  # no retry that could only be refused again

    message, seconds = timed_failure(lambda: eh.embed("hello", provider=github(server)))
    assert seconds < 1 and "asks to wait" in message
    assert len(server.requests) == 1  # the helper remembers: the next cell does not knock too early


def test_a_retry_after_of_an_hour_is_reported_as_such(server):
    server.responses = [Reply(429, {"error": {"message": "Rate limit exceeded"}}, {"Retry-After": "3600"})]
    message, seconds = timed_failure(lambda: eh.embed("hello", provider=github(server)))
    assert seconds < 3 and len(server.requests) == 1
    assert "asks to wait 60 min" in message and "150 requests a day" in message
    assert "retries" not in message  # it did not retry, and does not claim to


def test_a_short_retry_after_is_waited_out(server, capsys):
    server.responses = [Reply(429, {"error": {"message": "slow down"}}, {"Retry-After": "1"})]
    start = time.monotonic()
    assert eh.embed("hello", provider=github(server)).shape == (1, 1536)
    assert time.monotonic() - start >= 0.9 and len(server.requests) == 2
    assert "GitHub Models: rate limit: waiting 1 s" in capsys.readouterr().err  # the cell says why it waits


def test_a_lasting_rate_limit_without_retry_after_gives_up_in_seconds(server, short_budget):
    server.responses = [Reply(429, {"error": {"message": "Too many requests"}})] * 10
    message, seconds = timed_failure(lambda: eh.embed("hello", provider=openai_provider(server)))
    print(f"lasting 429 without Retry-After: gave up after {seconds:.1f} s")
    assert seconds < eh.config.CALL_BUDGET
    assert len(server.requests) == eh.pacing.interactive().retries + 1
    assert "still refusing requests (429" in message and "API_HOST=local" in message


def test_lasting_server_errors_are_named_with_the_servers_words(server, short_budget):
    server.responses = [503] * 10
    message, seconds = timed_failure(lambda: eh.embed("hello", provider=openai_provider(server)))
    print(f"lasting 503: gave up after {seconds:.1f} s")
    assert seconds < eh.config.CALL_BUDGET and len(server.requests) == 4
    assert "kept failing (503: simulated 503)" in message


def test_a_pause_says_why():
    pacer = eh.pacing.Pacer(eh.config.Limits(inputs=1, tokens=1, per_minute=None))
    assert pacer.wait_time() == (0.0, "")
    pacer.hold(2.0, because="503", asked=False)
    wait, why = pacer.wait_time()
    assert 1.5 < wait <= 2.0 and why == "server error 503"
    pacer.hold(3.0, because="429", asked=True)
    assert pacer.wait_time()[1] == "rate limit"


def test_a_closed_port_fails_at_once_and_names_the_variable():
    p = eh.get_provider({"API_HOST": "ollama", "OLLAMA_ENDPOINT": "http://127.0.0.1:9/v1"})
    message, seconds = timed_failure(lambda: eh.embed("hello", provider=p))
    print(f"closed port: {seconds:.2f} s")
    assert seconds < 2
    assert "Nothing answers at http://127.0.0.1:9/v1/embeddings (connection refused)" in message
    assert "ollama serve" in message and "OLLAMA_ENDPOINT" in message and "API_HOST=local" in message


def test_an_unknown_host_is_named():
    p = eh.get_provider({"API_HOST": "openai", "OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "http://no-such-host.invalid/v1"})
    message, seconds = timed_failure(lambda: eh.embed("hello", provider=p))
    assert seconds < 10
    assert "no-such-host.invalid" in message and "OPENAI_BASE_URL" in message


def test_requests_are_paced_to_the_per_minute_limit(server, monkeypatch):
    """3 requests per 2 s on both sides (GitHub's 15 per 60 s, scaled down): the 4th waits instead of a 429."""
    monkeypatch.setattr(eh.pacing, "WINDOW_SECONDS", 2.0)
    monkeypatch.setitem(eh.config.PROVIDER_LIMITS, "github", eh.config.Limits(inputs=3, tokens=64_000, per_minute=3))
    server.per_minute, server.window = 3, 2.0
    start = time.monotonic()
    m = eh.embed([f"text {i}" for i in range(12)], provider=github(server))
    seconds = time.monotonic() - start
    print(f"4 requests at 3 per 2 s: {seconds:.1f} s")
    assert m.shape == (12, 1536)
    assert [len(r["body"]["input"]) for r in server.requests] == [3, 3, 3, 3]
    assert server.refused == [] and seconds >= 1.5


def test_when_the_minutes_requests_are_used_up_the_cell_is_told_when_to_retry(server, monkeypatch):
    monkeypatch.setitem(eh.config.PROVIDER_LIMITS, "github", eh.config.Limits(inputs=2048, tokens=64_000, per_minute=2))
    eh.embed("one", provider=github(server))
    eh.embed("two", provider=github(server))
    message, seconds = timed_failure(lambda: eh.embed("three", provider=github(server)))
    assert seconds < 1 and len(server.requests) == 2
    assert message.startswith("GitHub Models allows 2 requests a minute") and "run the cell again in" in message


def test_a_build_waits_out_a_rate_limit_with_a_countdown(live, monkeypatch):
    """Another process used the quota: the build's requests get 429s, and it waits instead of failing."""
    live.per_minute, live.window = 1, 2.0
    shown = []
    real_countdown = eh.pacing.countdown

    def countdown(bar, seconds, reason):
        shown.append((seconds, reason))
        real_countdown(bar, seconds, reason)

    monkeypatch.setattr(eh.pacing, "countdown", countdown)
    start = time.monotonic()
    words = eh.build_cache("words", batch_size=300)
    print(f"build of 3 requests at 1 per 2 s: {time.monotonic() - start:.1f} s")
    assert len(words) == len(eh.dataset_texts("words")) and words.info["complete"]
    assert live.refused == [429, 429]
    assert [reason for _, reason in shown] == ["The server at " + live.url.split("//")[1] + ": rate limit"] * 2
    assert all(1 <= seconds <= 2 for seconds, _ in shown)
