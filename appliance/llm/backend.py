"""What the model runtime needs from a model, wherever it runs, and the errors it can raise.

Two backends speak this interface: ``llm_process.LocalProcess`` (llama.cpp in a supervised child
process on this machine) and ``llm_openai.OpenAIServer`` (any OpenAI-compatible server at a URL:
llama.cpp's llama-server, vLLM, Ollama). ``llm_runtime.ModelRuntime`` owns the queue, deadlines,
cancellation, counters and restarts; a backend only starts, streams one reply at a time, and stops.
"""

from __future__ import annotations

import signal
from typing import Any, Protocol


class ModelError(RuntimeError):
    """Base class: the model could not produce a reply; answer without it."""


class ModelUnavailable(ModelError):
    """No model is loaded (none configured, still loading, restarting, or failed)."""


class ModelBusy(ModelError):
    """The queue is full. ``position`` is how many jobs are already waiting."""

    def __init__(self, position: int):
        super().__init__(f"the model is busy ({position} replies waiting)")
        self.position = position


class ModelTimeout(ModelError):
    """The reply took longer than the configured limit."""


class BackendCrashed(ModelError):
    """The model process died (or the server went away) under us. Retryable: the runtime restarts
    the backend with backoff. ``signal_name`` is set when a signal ended a local process."""

    def __init__(self, message: str, *, signal_name: str | None = None):
        super().__init__(message)
        self.signal_name = signal_name


class BackendStartFailed(ModelError):
    """The backend could not start for a reason that a retry won't fix (a damaged model file, a
    CPU without AVX2, a server that serves no model). ``retry`` marks reasons worth retrying (a
    server that is not up yet)."""

    def __init__(self, message: str, *, retry: bool = False):
        super().__init__(message)
        self.retry = retry


# An event from a backend: ("token", text) | ("done", stats) | ("error", message).
Event = tuple[str, Any]


class Backend(Protocol):
    kind: str  # "local" or "openai"
    label: str  # shown as the model's name: a file name, or "model at URL"

    def start(self) -> dict[str, Any]:
        """Load or connect; block until ready. Returns facts for the status (load time, CPU
        features, the served model). Raises BackendStartFailed or BackendCrashed."""

    def begin(self, job_id: int, messages: list[dict[str, str]], max_tokens: int, temperature: float) -> None:
        """Start one reply. Raises BackendCrashed if the backend is gone."""

    def next_event(self, timeout: float) -> Event | None:
        """The reply's next event, or None if nothing came within ``timeout`` seconds. Raises
        BackendCrashed if the backend died meanwhile."""

    def cancel(self, job_id: int) -> None:
        """Ask the reply to stop; its "done" (stopped: cancelled) still follows."""

    def check(self) -> None:
        """Raise BackendCrashed if the backend died while idle (a local process); cheap."""

    def kill(self) -> None:
        """Stop at once (a hung reply)."""

    def stop(self) -> None:
        """Stop politely, waiting briefly."""

    def pid(self) -> int | None:
        """The local process's id (for memory figures), or None."""


def describe_signal(returncode: int | None) -> tuple[str | None, str]:
    """("SIGILL", "illegal instruction") for a process a signal ended; (None, "exit status N")
    otherwise."""
    if returncode is None:
        return None, "still running"
    if returncode < 0:
        try:
            sig = signal.Signals(-returncode)
        except ValueError:
            return f"signal {-returncode}", f"signal {-returncode}"
        return sig.name, (signal.strsignal(sig) or sig.name).lower()
    return None, f"exit status {returncode}"
