"""Shared fixtures: real data directories, the real app, the demo shop indexed with the real
embedder, the real default model, real Chromium. Shared functions are in helpers.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from litestar.testing import TestClient

from appliance import paths
from appliance.app import create_app
from appliance.db import Store
from appliance.kb import embedder
from appliance.kb import formats as kb_formats
from appliance.kb import store as kb
from appliance.kb.retrieval import RetrievalIndex
from appliance.llm import files as model_files
from appliance.owner import account as owner
from appliance.settings import Settings

from .helpers import Clock, chromium_paths, make_api_client, password_hash, start_chromium, store_on_copy


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


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def admin(data_dir: Path, clock: Clock):
    """The app with an owner whose password is ``helpers.PASSWORD`` (not signed in yet)."""
    settings = Settings(data_dir=data_dir, model="none", shop_name="Book Nook")
    with TestClient(create_app(settings, clock=clock)) as c:
        owner.set_password(c.app.state.store, password_hash(), clock)
        yield c


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo bookshop's knowledge base, indexed once for the whole run; tests use copies."""
    d = tmp_path_factory.mktemp("demo")
    store = Store(d / "appliance.db")
    store.migrate()
    kb.save(store, kb_formats.read_file(paths.demo_kb_path()), embedder=embedder.shared(), now="t0", source="demo")
    store.close()
    return d / "appliance.db"


@pytest.fixture(scope="session")
def demo_store(demo_db: Path, tmp_path_factory: pytest.TempPathFactory):
    """A store on a copy of the indexed demo bookshop, shared by the tests that only read it."""
    s = store_on_copy(demo_db, tmp_path_factory.mktemp("demo-store"))
    yield s
    s.close()


@pytest.fixture(scope="session")
def demo_index(demo_store: Store) -> RetrievalIndex:
    return RetrievalIndex(demo_store, embedder.shared())


@pytest.fixture
def api(data_dir: Path, demo_db: Path):
    """The app on a copy of the demo bookshop, for the widget's API."""
    with make_api_client(data_dir, demo_db) as c:
        yield c


@pytest.fixture
def browser(tmp_path: Path):
    """Real headless Chromium, as the guide says to start it."""
    if chromium_paths() is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium and chromedriver are missing: ./install.sh --dev installs them", pytrace=False)
        pytest.skip("Chromium/chromedriver not installed (./install.sh --dev installs them)")
    driver = start_chromium(tmp_path / "chrome", "--window-size=1280,900", "--lang=en-US")
    yield driver
    driver.quit()
