"""Shared fixtures: real data directories, the real app, the real default model."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from litestar.testing import TestClient

from appliance import model_files, paths
from appliance.app import create_app
from appliance.db import Store
from appliance.settings import Settings


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test may read the developer's own settings or touch their data directory."""
    for key in list(os.environ):
        if key.startswith("APPLIANCE_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture
def store(data_dir: Path):
    """A migrated database in the test's data directory."""
    s = Store(data_dir / "appliance.db")
    s.migrate()
    yield s
    s.close()


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, model="none")


@pytest.fixture
def client(settings: Settings):
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="session")
def default_model() -> Path:
    """The real default model, as install.sh installs it. Missing = broken install, not a skip."""
    path = model_files.resolve("default", [paths.project_models_dir()])
    assert path is not None and path.exists(), "default model missing: run ./install.sh"
    return path


@pytest.fixture
def corrupt_model(tmp_path: Path, default_model: Path) -> Path:
    """A file that passes the GGUF header check but whose contents are garbage."""
    data = bytearray(default_model.read_bytes()[: 8 * 1024 * 1024])
    data[8:4096] = os.urandom(4088)
    path = tmp_path / "broken-model.gguf"
    path.write_bytes(bytes(data))
    return path


def stream_reply(runtime, messages: list[dict], **kwargs) -> tuple[list[str], dict]:
    """A model runtime's reply, streamed to the end: its pieces and its stats."""
    import asyncio
    import contextlib

    async def go():
        pieces: list[str] = []
        stats: dict = {}
        async with contextlib.aclosing(runtime.stream(messages, stats=stats, **kwargs)) as it:
            async for piece in it:
                pieces.append(piece)
        return pieces, stats

    return asyncio.run(go())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
