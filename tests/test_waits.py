"""Bounded waits: a cell that calls a hosted provider ends in seconds, with one sentence saying what
happened, whatever the server does; rate limits are honoured within the budget and paced ahead of time.
Every case runs against a stand-in server on 127.0.0.1, and prints how long the helper waited."""

import time

import pytest

import embeddings_helper as eh
from conftest import Reply, openai_provider

NAME = "The server at "  # how the helper names an OpenAI-compatible server of its own: "The server at HOST:PORT"


def timed_failure(call):
    """The ProviderError a call ends with, and the seconds it took."""
    start = time.monotonic()
    with pytest.raises(eh.ProviderError) as err:
        call()
    return str(err.value), time.monotonic() - start


def test_the_budget_is_what_the_readme_says():
    assert (eh.config.CONNECT_TIMEOUT, eh.config.READ_TIMEOUT, eh.config.CALL_BUDGET) == (5.0, 20.0, 30.0)
    patience = eh.pacing.interactive()
    assert (patience.budget, patience.connect, patience.read, patience.read_retries) == (30.0, 5.0, 20.0, 1)
    builds = eh.pacing.for_builds()
    assert builds.budget == eh.config.BUILD_BUDGET == 60.0  # the README: a message within a minute, builds too
    assert builds.read * (builds.read_retries + 1) >= builds.budget  # the budget, not the timeouts, ends a build


def test_a_silent_server_ends_in_a_clear_error_within_the_budget(server, short_budget):
    server.responses = [Reply(silent=True)] * 3
    message, seconds = timed_failure(lambda: eh.embed("hello", provider=openai_provider(server)))
    print(f"silent server, 3 s budget: gave up after {seconds:.1f} s")
    assert eh.config.CALL_BUDGET - 0.5 <= seconds <= eh.config.CALL_BUDGET + 10  # generous: a busy machine
    assert len(server.requests) == 2  # a timed-out read is retried once
    assert "sent no answer in 3 s" in message and "API_HOST=local" in message
    assert "Could not reach" not in message  # it was reached


def test_with_the_real_budget_a_silent_server_is_given_up_on_within_a_minute(server):
    server.responses = [Reply(silent=True)] * 3
    message, seconds = timed_failure(lambda: eh.embed("hello", provider=openai_provider(server)))
    print(f"silent server, default budget: gave up after {seconds:.1f} s")
    assert 25 <= seconds <= 60
    assert len(server.requests) == 2 and "sent no answer" in message


def test_retry_after_beyond_the_budget_fails_at_once_saying_how_long(server):
    server.responses = [Reply(429, {"error": {"message": "Rate limit exceeded"}}, {"Retry-After": "60"})]
    message, seconds = timed_failure(lambda: eh.embed("hello", provider=openai_provider(server)))
    print(f"429 with Retry-After: 60: gave up after {seconds:.1f} s")
    assert seconds < 10  # at once: no retry, no wait (generous for a busy machine)
    assert message.startswith(NAME)
    assert "asks to wait 60 s: run the cell again after that, or set API_HOST=local" in message
    assert len(server.requests) == 1  # no retry that could only be refused again

    message, seconds = timed_failure(lambda: eh.embed("hello", provider=openai_provider(server)))
    assert seconds < 10 and "asks to wait" in message
    assert len(server.requests) == 1  # the helper remembers: the next cell does not knock too early


def test_a_retry_after_of_an_hour_is_reported_as_such(server):
    server.responses = [Reply(429, {"error": {"message": "Rate limit exceeded"}}, {"Retry-After": "3600"})]
    message, seconds = timed_failure(lambda: eh.embed("hello", provider=openai_provider(server)))
    assert seconds < 10 and len(server.requests) == 1
    assert "asks to wait 60 min" in message
    assert "retries" not in message  # it did not retry, and does not claim to


def test_a_short_retry_after_is_waited_out(server, capsys, fake_clock):
    server.responses = [Reply(429, {"error": {"message": "slow down"}}, {"Retry-After": "2"})]
    assert eh.embed("hello", provider=openai_provider(server)).shape == (1, 1536)
    assert fake_clock.slept == [2.0] and len(server.requests) == 2
    assert ": rate limit: waiting 2 s" in capsys.readouterr().err  # the cell says why it waits


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


def test_a_pause_says_why(fake_clock):
    pacer = eh.pacing.Pacer(eh.config.Limits(inputs=1, tokens=1, per_minute=None))
    assert pacer.wait_time() == (0.0, "")
    pacer.hold(2.0, because="503", asked=False)
    fake_clock.sleep(0.5)
    wait, why = pacer.wait_time()
    assert wait == 1.5 and why == "server error 503"
    pacer.hold(3.0, because="429", asked=True)
    assert pacer.wait_time()[1] == "rate limit"


def test_a_closed_port_fails_at_once_and_names_the_variable():
    p = eh.get_provider({"API_HOST": "ollama", "OLLAMA_ENDPOINT": "http://127.0.0.1:9/v1"})
    message, seconds = timed_failure(lambda: eh.embed("hello", provider=p))
    print(f"closed port: {seconds:.2f} s")
    assert seconds < 10
    assert "Nothing answers at http://127.0.0.1:9/v1/embeddings (connection refused)" in message
    assert "ollama serve" in message and "OLLAMA_ENDPOINT" in message and "API_HOST=local" in message


def test_an_unknown_host_is_named():
    p = eh.get_provider({"API_HOST": "openai", "OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "http://no-such-host.invalid/v1"})
    message, seconds = timed_failure(lambda: eh.embed("hello", provider=p))
    assert seconds < 10
    assert "no-such-host.invalid" in message and "OPENAI_BASE_URL" in message


def test_requests_are_paced_to_the_per_minute_limit(server, fake_clock, monkeypatch):
    """3 requests per 20 s on both sides, on a fake clock: the 4th waits instead of a 429. No wall clock is read,
    so a busy machine cannot make it fail."""
    monkeypatch.setattr(eh.pacing, "WINDOW_SECONDS", 20.0)  # within one call's 30 s budget
    eh.pacing.pacer_for(openai_provider(server)).limits = eh.config.Limits(inputs=3, tokens=64_000, per_minute=3)
    server.per_minute, server.window, server.clock = 3, 20.0, fake_clock.now
    m = eh.embed([f"text {i}" for i in range(12)], batch_size=3, provider=openai_provider(server))
    assert m.shape == (12, 1536)
    assert [len(r["body"]["input"]) for r in server.requests] == [3, 3, 3, 3]
    assert server.refused == []
    times = [r["time"] - server.requests[0]["time"] for r in server.requests]
    assert times[:3] == [0, 0, 0] and times[3] >= 20  # the 4th went once the first had left the window
    assert len(fake_clock.slept) == 1 and 20 <= fake_clock.slept[0] <= 22


def test_when_the_minutes_requests_are_used_up_the_cell_is_told_when_to_retry(server):
    eh.pacing.pacer_for(openai_provider(server)).limits = eh.config.Limits(inputs=2048, tokens=64_000, per_minute=2)
    eh.embed("one", provider=openai_provider(server))
    eh.embed("two", provider=openai_provider(server))
    message, seconds = timed_failure(lambda: eh.embed("three", provider=openai_provider(server)))
    assert seconds < 10 and len(server.requests) == 2
    assert message.startswith(NAME) and "allows 2 requests a minute" in message and "run the cell again in" in message


def test_an_unknown_server_starts_on_the_tight_tier_until_its_headers_say_more(server, fake_clock):
    p = openai_provider(server)
    assert eh.pacing.pacer_for(p).limits.per_minute == 15
    server.headers = {"x-ratelimit-limit-requests": "3000", "x-ratelimit-remaining-requests": "2999",
                      "x-ratelimit-reset-requests": "20ms"}  # fmt: skip
    eh.embed("one", provider=p)
    assert eh.pacing.pacer_for(p).limits.per_minute == 3000
    for i in range(20):  # more than the tight tier's 15, with no wait at all
        eh.embed(f"text {i}", provider=p)
    assert fake_clock.slept == []


def test_no_requests_left_in_the_headers_holds_the_next_request_until_the_reset(server, fake_clock, capsys):
    p = openai_provider(server)
    server.headers = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "6s"}
    eh.embed("one", provider=p)
    assert fake_clock.slept == [] and len(server.requests) == 1
    server.headers = {"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "1m30s"}
    eh.embed("two", provider=p)  # waited 6 s first, then learned that no tokens are left for 90 s
    assert fake_clock.slept == [6.0] and len(server.requests) == 2
    message, _ = timed_failure(lambda: eh.embed("three", provider=p))
    assert "tokens for now are used up" in message and "run the cell again in 90 s" in message
    assert len(server.requests) == 2 and "quota used up: waiting 6 s" in capsys.readouterr().err


@pytest.mark.parametrize(("value", "seconds"), [("1s", 1), ("6m0s", 360), ("20ms", 0.02), ("1h2m3.5s", 3723.5),
                                                ("17", 17), ("0.5", 0.5), ("soon", None), ("", None)])  # fmt: skip
def test_reset_times_are_read_in_the_forms_providers_send(value, seconds):
    assert eh.pacing.reset_seconds(value) == seconds


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
