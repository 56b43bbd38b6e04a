"""The model in its own process: a native crash, a hang or the OOM killer costs at most the reply in
flight, and the model comes back. Real default model, real child process, real signals."""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from appliance.llm import runtime as llm_runtime
from appliance.llm.runtime import ModelError, ModelRuntime, ModelState, ModelUnavailable

pytestmark = pytest.mark.model

LONG = [{"role": "user", "content": "Write a long story about a bookshop in Tehran."}]
HELLO = [{"role": "user", "content": "Say hello to a customer in one short sentence."}]


@pytest.fixture
def fast_restarts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llm_runtime, "BACKOFF_S", (0.2, 0.2, 0.2))


def wait_for(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


async def first_token_then(rt: ModelRuntime, action) -> tuple[list[str], BaseException | None]:
    """Stream a long reply; after its first token run ``action``; collect what follows."""
    got: list[str] = []
    try:
        async with contextlib.aclosing(rt.stream(LONG, max_tokens=400)) as it:
            async for piece in it:
                got.append(piece)
                if len(got) == 1:
                    action()
    except ModelError as exc:
        return got, exc
    return got, None


@pytest.mark.parametrize(
    "sig, name", [(signal.SIGILL, "SIGILL"), (signal.SIGSEGV, "SIGSEGV"), (signal.SIGKILL, "SIGKILL")]
)  # SIGKILL: what the OOM killer sends
def test_a_crash_mid_reply_costs_that_reply_only(default_model: Path, fast_restarts: None, sig: int, name: str) -> None:
    rt = ModelRuntime(default_model, n_ctx=1024, timeout_s=60).start()
    try:
        assert rt.wait_settled(120) and rt.ready
        pid = rt.backend.pid()
        got, error = asyncio.run(first_token_then(rt, lambda: os.kill(pid, sig)))
        assert got, "the reply had started"
        assert error is not None and name in str(error), error
        assert rt.last_crash["signal"] == name and rt.counters["crashed"] == 1
        # The web side (this process) is alive and knows why; the model comes back by itself.
        assert wait_for(lambda: rt.ready, 60), rt.status()
        assert rt.backend.pid() != pid and rt.counters["restarts"] == 1
        assert asyncio.run(rt.complete(HELLO, max_tokens=8)).strip()
    finally:
        rt.close()


def test_a_model_that_keeps_crashing_stays_off_until_the_owner_restarts_it(
    default_model: Path, fast_restarts: None
) -> None:
    rt = ModelRuntime(default_model, n_ctx=512, timeout_s=60).start()
    try:
        for attempt in range(llm_runtime.MAX_CRASHES):
            assert wait_for(lambda: rt.ready, 60), rt.status()
            os.kill(rt.backend.pid(), signal.SIGILL)
            assert wait_for(lambda n=attempt + 1: rt.counters["crashed"] == n, 10)
        assert wait_for(lambda: rt.state is ModelState.FAILED, 10), rt.status()
        status = rt.status()
        assert "crashed 3 times" in status["reason"] and "until you restart it" in status["reason"]
        assert "./install.sh" in status["reason"]  # SIGILL: the build does not suit this CPU
        with pytest.raises(ModelUnavailable):
            asyncio.run(rt.complete(HELLO))
        time.sleep(1)
        assert rt.state is ModelState.FAILED and rt.backend.pid() is None  # it stays off
        assert rt.restart()
        assert rt.wait_settled(120) and wait_for(lambda: rt.ready, 60), rt.status()
        assert asyncio.run(rt.complete(HELLO, max_tokens=8)).strip()
    finally:
        rt.close()


def test_a_hung_model_is_killed_and_restarted(
    default_model: Path, fast_restarts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process that stops answering (here: stopped by SIGSTOP mid-reply) is noticed at the reply's
    deadline, killed after a short grace, and started again."""
    monkeypatch.setattr(llm_runtime, "HANG_GRACE_S", 1.0)
    rt = ModelRuntime(default_model, n_ctx=512, timeout_s=2).start()
    try:
        assert rt.wait_settled(120) and rt.ready
        pid = rt.backend.pid()
        started = time.monotonic()
        got, error = asyncio.run(first_token_then(rt, lambda: os.kill(pid, signal.SIGSTOP)))
        assert error is not None and "stopped responding" in str(error)
        assert time.monotonic() - started < 10
        assert wait_for(lambda: rt.ready, 60) and rt.backend.pid() != pid
    finally:
        rt.close()


def test_the_web_side_never_loads_llama_cpp(default_model: Path) -> None:
    """The app, the CLI, the runtime and the checks import without llama.cpp; only the model
    process loads it."""
    code = (
        "import sys, asyncio\n"
        "from pathlib import Path\n"
        "import appliance.app, appliance.cli, appliance.ops.checks, appliance.cli.evaluate\n"
        "from appliance.llm.runtime import ModelRuntime\n"
        f"rt = ModelRuntime(Path({str(default_model)!r}), n_ctx=512).start()\n"
        "assert rt.wait_settled(120) and rt.ready, rt.status()\n"
        "print(asyncio.run(rt.complete([{'role': 'user', 'content': 'Hi'}], max_tokens=4)))\n"
        "maps = open('/proc/self/maps').read()\n"
        "child = open(f'/proc/{rt.backend.pid()}/maps').read()\n"
        "rt.close()\n"
        "assert 'llama_cpp' not in sys.modules, 'llama_cpp imported in the web process'\n"
        "assert 'libllama' not in maps and 'libggml' not in maps\n"
        "assert 'libllama' in child\n"
        "print('isolated')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "isolated" in proc.stdout


@pytest.mark.skipif(platform.machine() not in {"x86_64", "AMD64"}, reason="x86-64 feature check")
def test_a_cpu_without_avx2_gets_a_clear_message(
    default_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a CPU older than our build's baseline the model process refuses to load llama.cpp (which
    would die of SIGILL) and says why; the appliance answers from the knowledge base."""
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse sse2 ssse3 sse4_1 sse4_2 avx\n")
    monkeypatch.setenv("APPLIANCE_CPUINFO", str(cpuinfo))
    rt = ModelRuntime(default_model, n_ctx=512).start()
    try:
        assert rt.wait_settled(60)
        assert rt.state is ModelState.FAILED and rt.counters["crashed"] == 0
        assert "lacks AVX2, FMA, F16C" in rt.reason and "knowledge base only" in rt.reason
    finally:
        rt.close()


def test_the_model_yields_the_cpu_and_goes_first_when_memory_runs_out(default_model: Path) -> None:
    rt = ModelRuntime(default_model, n_ctx=512).start()
    try:
        assert rt.wait_settled(120) and rt.ready
        pid = rt.backend.pid()
        assert os.getpriority(os.PRIO_PROCESS, pid) == 19
        assert os.sched_getscheduler(pid) == os.SCHED_IDLE
        assert Path(f"/proc/{pid}/oom_score_adj").read_text().strip() == "1000"
        assert os.getpriority(os.PRIO_PROCESS, os.getpid()) == 0  # the web side is untouched
    finally:
        rt.close()
