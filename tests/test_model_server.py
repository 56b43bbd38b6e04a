"""The OpenAI-compatible backend against real servers on loopback: llama-cpp-python's own server
(``python -m llama_cpp.server``) serving the default model, and small HTTP servers that are down,
slow, or answer garbage. The same runtime, the same grounding checks."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from appliance.answering.compose import Composer
from appliance.answering.decide import Decision
from appliance.kb.retrieval import IndexedEntry
from appliance.llm.openai import OpenAIServer
from appliance.llm.runtime import ModelError, ModelRuntime, ModelState, ModelTimeout, ModelUnavailable

from .fakes import FakeOpenAI
from .helpers import free_port, stream_reply

HELLO = [{"role": "user", "content": "Say hello to a customer in one short sentence."}]
LONG = [{"role": "user", "content": "Write a long story about a bookshop in Tehran."}]


@pytest.fixture(scope="module")
def llama_server(default_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = (tmp_path_factory.mktemp("llama-server") / "server.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(default_model),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "1024",
            "--n_threads",
            "1",
            "--verbose",
            "False",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert proc.poll() is None, "llama_cpp.server exited"
            try:
                if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("llama_cpp.server did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def runtime_for(url: str, **kw) -> ModelRuntime:
    timeout = kw.pop("timeout_s", 30.0)
    rt = ModelRuntime(OpenAIServer(url, timeout_s=timeout, **kw), timeout_s=timeout).start()
    assert rt.wait_settled(30)
    return rt


@pytest.mark.model
def test_streams_from_a_real_server(llama_server: str) -> None:
    rt = runtime_for(llama_server)
    try:
        assert rt.ready, rt.status()
        status = rt.status()
        assert status["backend"] == "openai" and "SmolLM2" in status["model"] and status["pid"] is None

        pieces, stats = stream_reply(rt, HELLO, max_tokens=24)
        assert len(pieces) > 1 and "".join(pieces).strip()
        assert stats["stopped"] in {"stop", "length"} and stats["first_token_s"] is not None
    finally:
        rt.close()


@pytest.mark.model
def test_cancel_frees_the_runtime_and_the_server(llama_server: str) -> None:
    rt = runtime_for(llama_server)
    try:

        async def go():
            got = []
            async with contextlib.aclosing(rt.stream(LONG, max_tokens=300)) as it:
                async for piece in it:
                    got.append(piece)
                    if len(got) == 3:
                        break
            started = time.monotonic()
            text = await rt.complete(HELLO, max_tokens=8)
            return got, text, time.monotonic() - started

        got, text, took = asyncio.run(go())
        assert len(got) == 3 and text.strip()
        assert took < 10, "the next reply did not wait for the abandoned one to finish"
        assert rt.counters["cancelled"] == 1 and rt.counters["completed"] == 1
    finally:
        rt.close()


@pytest.mark.model
def test_a_wrong_model_name_is_named(llama_server: str) -> None:
    rt = runtime_for(llama_server, model="gpt-17")
    try:
        assert rt.state is ModelState.RESTARTING
        assert "does not serve 'gpt-17'" in rt.reason
    finally:
        rt.close()


def test_a_server_that_is_down(monkeypatch: pytest.MonkeyPatch) -> None:
    rt = runtime_for(f"http://127.0.0.1:{free_port()}/v1")
    try:
        assert rt.state is ModelState.RESTARTING and "does not answer" in rt.reason
        with pytest.raises(ModelUnavailable):
            asyncio.run(rt.complete(HELLO))
    finally:
        rt.close()


@pytest.fixture
def fake_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.mark.parametrize(
    "misbehaviour, error, match",
    [
        ({"behaviour": "garbage"}, ModelError, "not an OpenAI stream"),
        ({"status": 500}, ModelError, "HTTP 500"),
        ({"behaviour": "drop"}, ModelError, "went away"),
    ],
    ids=["garbage", "error", "drop"],
)
def test_a_misbehaving_server_costs_one_reply(
    fake_server: FakeOpenAI, misbehaviour: dict, error: type, match: str
) -> None:
    for name, value in misbehaviour.items():
        setattr(fake_server, name, value)
    rt = runtime_for(fake_server.url)
    try:
        assert rt.ready, rt.status()
        with pytest.raises(error, match=match):
            asyncio.run(rt.complete(HELLO))
    finally:
        rt.close()


@pytest.mark.slow  # real waits, real argon2 or a whole import: a second or more
def test_a_slow_server_times_out(fake_server: FakeOpenAI) -> None:
    fake_server.delay_s = 30  # longer than any test waits: only the runtime's timeout ends it
    rt = runtime_for(fake_server.url, timeout_s=1.0)
    try:
        started = time.monotonic()
        with pytest.raises(ModelTimeout):
            asyncio.run(rt.complete(HELLO))
        # The timeout (1 s) ended it, not the server (30 s); generous for a machine busy elsewhere.
        assert time.monotonic() - started < 20
    finally:
        rt.close()


def test_grounding_checks_apply_to_a_server_model(fake_server: FakeOpenAI) -> None:
    """A server model's words go through the same checks: invented figures and links are refused
    and the owner's text goes out."""
    # A well-formed stream whose words are not the owner's: 2 days instead of 3-5, a link.
    fake_server.reply = lambda prompt: ["Your order ", "arrives in 2 days. ", "Track it at http://evil.example/t"]
    rt = runtime_for(fake_server.url)
    owner_text = "Orders arrive in 3-5 business days in other cities."
    entry = IndexedEntry(
        id="shipping", title="Shipping", answer=owner_text, lang="en", passages=[owner_text], trigrams=frozenset()
    )
    decision = Decision(
        kind="answer", reason="confident", lang="en", query="how long to Shiraz", entries=[entry], confidence=0.9
    )
    composer = Composer(rt, phrase_with_model=True, model_languages=("en",), phrase_budget_s=None)
    try:
        reply = asyncio.run(composer.compose(decision, "how long does shipping take to Shiraz?"))
    finally:
        rt.close()
    assert reply.composed_by == "owner_text" and reply.text == owner_text
    assert reply.model_rejected and ("2" in reply.model_rejected or "link" in reply.model_rejected)
