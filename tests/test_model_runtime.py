"""The model worker, with the real default model (no fakes)."""

import asyncio
import contextlib
import time
from pathlib import Path

import pytest

from appliance.llm.runtime import ModelBusy, ModelError, ModelRuntime, ModelState, ModelTimeout, ModelUnavailable

from .helpers import (
    stream_reply,
)

pytestmark = pytest.mark.model

HELLO = [{"role": "user", "content": "Say hello to a customer in one short sentence."}]
LONG = [{"role": "user", "content": "Write a long story about a bookshop in Tehran."}]


@pytest.fixture(scope="module")
def runtime(default_model: Path):
    rt = ModelRuntime(default_model, n_ctx=1024, queue_size=1, timeout_s=30).start()
    assert rt.wait_settled(120)
    yield rt
    rt.close()


def test_loads_and_reports_ready(runtime: ModelRuntime) -> None:
    status = runtime.status()
    assert status["state"] == "ready", status
    assert status["model"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert status["n_threads"] >= 1 and status["n_ctx"] == 1024


def test_streams_a_short_completion(runtime: ModelRuntime) -> None:
    pieces, stats = stream_reply(runtime, HELLO, max_tokens=24)
    assert len(pieces) > 1, "expected the reply in several streamed pieces"
    assert "".join(pieces).strip()
    assert stats["stopped"] in {"stop", "length"} and stats["pieces"] >= len(pieces)  # tokens, sent in batches
    assert stats["first_token_s"] is not None


def test_cancellation_frees_the_worker(runtime: ModelRuntime) -> None:
    before = dict(runtime.counters)

    async def go():
        got = []
        async with contextlib.aclosing(runtime.stream(LONG, max_tokens=200)) as it:
            async for piece in it:
                got.append(piece)
                if len(got) == 2:
                    break  # the customer went away
        # the worker stops within a token and takes the next job
        text = await runtime.complete(HELLO, max_tokens=8)
        return got, text

    got, text = asyncio.run(go())
    assert len(got) == 2 and text.strip()
    # the long story was abandoned, not generated to its end behind the customer's back
    assert runtime.counters["cancelled"] == before["cancelled"] + 1
    assert runtime.counters["completed"] == before["completed"] + 1


def test_full_queue_answers_busy_at_once(runtime: ModelRuntime) -> None:
    """queue_size=1: one job running, one waiting, the third is refused without waiting."""

    async def go():
        first = runtime.stream(LONG, max_tokens=200)
        await first.__anext__()  # job 1 is generating
        second = runtime.stream(LONG, max_tokens=200)
        waiting = asyncio.ensure_future(second.__anext__())  # job 2 sits in the queue
        await asyncio.sleep(0)
        started = time.monotonic()
        with pytest.raises(ModelBusy) as busy:
            await runtime.stream(HELLO).__anext__()
        refused_after = time.monotonic() - started
        await first.aclose()
        await waiting
        await second.aclose()
        return busy.value, refused_after

    busy, refused_after = asyncio.run(go())
    assert busy.position == 1
    assert refused_after < 1.0  # refused immediately, not after waiting for a slot


def test_timeout_ends_a_reply(default_model: Path) -> None:
    rt = ModelRuntime(default_model, n_ctx=512, timeout_s=0.05).start()
    try:
        assert rt.wait_settled(120) and rt.ready

        async def go():
            return await rt.complete(LONG, max_tokens=400)

        with pytest.raises(ModelTimeout):
            asyncio.run(go())
    finally:
        rt.close()


def test_corrupt_model_file_means_knowledge_base_only(corrupt_model: Path) -> None:
    rt = ModelRuntime(corrupt_model).start()
    assert rt.wait_settled(60)
    status = rt.status()
    assert status["state"] == ModelState.FAILED.value
    assert "broken-model.gguf" in status["reason"]

    async def go():
        return await rt.complete(HELLO)

    with pytest.raises(ModelUnavailable):
        asyncio.run(go())
    rt.close()


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"", "not a GGUF"),
        (b"<html>404 not found</html>" * 10, "not a GGUF"),
        (b"GGUF" + b"\0" * 100, "too small"),
    ],
)
def test_files_that_are_not_models(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(content)
    rt = ModelRuntime(path).start()
    assert rt.wait_settled(10)
    assert rt.state is ModelState.FAILED and reason in rt.reason


def test_damaged_default_model_fails_its_hash(tmp_path: Path, default_model: Path) -> None:
    data = bytearray(default_model.read_bytes())
    data[-1000] ^= 0xFF  # one flipped byte deep in the weights
    path = tmp_path / default_model.name
    path.write_bytes(bytes(data))
    rt = ModelRuntime(path).start()
    assert rt.wait_settled(60)
    assert rt.state is ModelState.FAILED and "SHA-256" in rt.reason


def test_no_model_configured() -> None:
    rt = ModelRuntime(None, not_configured_reason="model = none").start()
    assert rt.status()["state"] == "none" and rt.reason == "model = none"


def test_a_model_that_keeps_failing_is_switched_off(default_model: Path) -> None:
    """Three failed replies in a row (here: prompts too long for the context window, a real
    llama.cpp error) put the appliance in knowledge-base-only mode instead of failing every reply."""
    rt = ModelRuntime(default_model, n_ctx=256, timeout_s=30).start()
    assert rt.wait_settled(120) and rt.ready
    too_long = [{"role": "user", "content": "books " * 2000}]

    async def go():
        for _ in range(3):
            with pytest.raises(ModelError, match="generation failed"):
                await rt.complete(too_long, max_tokens=4)
        with pytest.raises(ModelUnavailable, match="failed 3 replies in a row"):
            await rt.complete(HELLO, max_tokens=4)

    try:
        asyncio.run(go())
        assert rt.state is ModelState.FAILED and rt.counters["failed"] == 3
        assert rt.status()["state"] == "failed" and "restart it to retry" in rt.status()["reason"]
    finally:
        rt.close()
