"""Oversized, malformed and wrongly encoded requests and uploads: each gets a clear 4xx in the
shape its caller reads (JSON with a stable code for the API, the page with a message for the
admin), nothing is stored half-way, and the app goes on working."""

import gzip
import json
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from litestar.testing import TestClient

from appliance.kb import formats as kb_formats
from appliance.kb import store as kb

from .helpers import (
    asgi_get,
    bearer,
    post,
    sign_in,
    start_chat,
)

JSON = {"content-type": "application/json"}


def count_messages(c: TestClient) -> int:
    return (
        c.app.state.services.store.read().execute("SELECT count(*) FROM messages WHERE role = 'customer'").fetchone()[0]
    )


@pytest.mark.parametrize(
    "name, body, headers, status, code",
    [
        ("not UTF-8", b'{"text": "\xff\xfe"}', JSON, 400, "bad_encoding"),
        (
            "Latin-1 sent as such",
            '{"text": "café"}'.encode("latin-1"),
            {"content-type": "application/json; charset=latin-1"},
            400,
            "bad_encoding",
        ),
        ("UTF-16", '{"text": "hi"}'.encode("utf-16"), JSON, 400, "bad_request"),
        ("gzip body", gzip.compress(b'{"text": "hi"}'), {**JSON, "content-encoding": "gzip"}, 400, "bad_request"),
        ("lone surrogate", b'{"text": "hi \\ud800"}', JSON, 400, "bad_request"),
        ("truncated JSON", b'{"text": "hi', JSON, 400, "bad_request"),
        ("a JSON array", b"[1, 2]", JSON, 400, "bad_request"),
        ("null", b"null", JSON, 400, "bad_request"),
        ("empty body", b"", JSON, 400, "bad_request"),
        ("text is a number", b'{"text": 5}', JSON, 400, "bad_request"),
        ("text is an object", b'{"text": {"a": 1}}', JSON, 400, "bad_request"),
        ("deep nesting", b'{"text": "x", "y": ' + b"[" * 50000 + b"]" * 50000 + b"}", JSON, 413, "too_large"),
        ("only control characters", b'{"text": "\\u0000\\u001b\\u0007"}', JSON, 422, "empty"),
    ],
)
def test_malformed_messages_are_clear_4xx(
    api: TestClient, name: str, body: bytes, headers: dict, status: int, code: str
) -> None:
    conv, token, _ = start_chat(api)
    before = count_messages(api)
    r = api.post(f"/api/v1/conversations/{conv}/messages", content=body, headers={**bearer(token), **headers})
    assert r.status_code == status, (name, r.text)
    assert r.json()["error"] == code and r.json()["message"], name
    assert "Traceback" not in r.text
    assert count_messages(api) == before  # nothing half-stored
    ok = api.post(f"/api/v1/conversations/{conv}/messages", json={"text": "hello"}, headers=bearer(token))
    assert ok.status_code == 200  # and the next good request works


def test_control_characters_are_removed_from_stored_text(api: TestClient) -> None:
    conv, token, _ = start_chat(api)
    api.post(
        f"/api/v1/conversations/{conv}/messages",
        json={"text": "where\u0000 is\u001b[31m my order?\nthanks"},
        headers=bearer(token),
    )
    stored = (
        api.app.state.services.store.read().execute("SELECT text FROM messages WHERE role = 'customer'").fetchone()[0]
    )
    assert stored == "where is[31m my order?\nthanks"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nothing-here",
        "/api/v1/conversations/..%2f..%2fetc/messages",
        "/api/v2/conversations",
    ],
)
def test_unknown_api_paths_answer_in_the_api_shape(api: TestClient, path: str) -> None:
    r = api.get(path)
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_wrong_methods_and_hostile_paths(api: TestClient) -> None:
    conv, token, _ = start_chat(api)
    assert api.delete(f"/api/v1/conversations/{conv}/messages", headers=bearer(token)).status_code == 405
    r = api.get(f"/api/v1/conversations/{'a' * 5000}/messages", headers=bearer(token))
    assert r.status_code == 404 and r.json()["error"] == "no_conversation"  # the API's own code survives
    assert api.get(f"/api/v1/conversations/{conv}/messages?after=-1", headers=bearer(token)).status_code == 400
    assert (
        api.get(
            f"/api/v1/conversations/{conv}/messages?after=99999999999999999999999", headers=bearer(token)
        ).status_code
        == 400
    )
    # Sent as written (the test client would collapse them), at files that are really there.
    for path in (
        "/static/../pyproject.toml",
        "/static/%2e%2e/pyproject.toml",
        "/static/..%2fpyproject.toml",
        "/static/../../../../../../../../etc/passwd",
    ):
        status, body = asgi_get(api.app, path)
        assert status == 404 and b"[project]" not in body and b"root:" not in body, path
    r = api.post("/api/v1/conversations", content=b"x" * 100_000, headers=JSON)
    assert r.status_code == 413 and r.json()["error"] == "too_large"


def _zip() -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("kb.jsonl", '{"id": "a", "title": "t", "answer": "a", "lang": "en"}\n')
    return out.getvalue()


@pytest.mark.parametrize(
    "name, filename, content, expect",
    [
        ("binary", "kb.jsonl", bytes(range(256)) * 20, "UTF-8"),
        ("a zip renamed", "kb.jsonl", _zip(), "UTF-8"),
        ("UTF-16 CSV", "kb.csv", "id,title,answer,lang\na,t,x,en\n".encode("utf-16"), "UTF-8"),
        ("an image", "kb.md", b"\x89PNG\r\n\x1a\n" + b"\0" * 200, "UTF-8"),
        ("unknown extension", "kb.exe", b"MZ\x90\x00", "unknown file type"),
        ("empty", "kb.jsonl", b"", "no entries found"),
        ("only blank lines", "kb.jsonl", b"\n\n  \n", "no entries found"),
        ("JSON, not JSON lines", "kb.jsonl", b'[{"id": "a"}]', "line 1"),
        ("CSV without the columns", "kb.csv", b"name,price\nbook,5\n", "title"),
        ("an entry without an answer", "kb.jsonl", b'{"id": "a", "title": "t", "lang": "en"}\n', "line 1"),
        (
            "a huge line",
            "kb.jsonl",
            b'{"id": "a", "title": "' + b"t" * 300 + b'", "answer": "x", "lang": "en"}\n',
            "line 1",
        ),
    ],
)
def test_broken_uploads_are_refused_clearly(
    admin: TestClient, name: str, filename: str, content: bytes, expect: str
) -> None:
    sign_in(admin)
    english = {"hx-current-url": "http://testserver/admin/kb?lang=en"}
    r = post(
        admin, "/admin/kb-import", files={"file": (filename, content, "application/octet-stream")}, headers=english
    )
    assert 400 <= r.status_code < 500, (name, r.status_code)
    assert expect in r.text, (name, r.text[-600:])
    assert "Traceback" not in r.text
    assert kb.count(admin.app.state.services.store.read()) == 0


@pytest.mark.parametrize("extra, status", [(2_000, 422), (1_000_000, 413)])
def test_an_oversized_upload_is_refused(admin: TestClient, extra: int, status: int) -> None:
    """Just over the file limit: the form says so; far over it, the body limit stops the upload
    before it is read into memory."""
    sign_in(admin)
    line = (json.dumps({"id": "x", "title": "t", "answer": "a" * 1000, "lang": "en"}) + "\n").encode()
    content = line * ((kb_formats.MAX_FILE_BYTES + extra) // len(line) + 1)
    english = {"hx-current-url": "http://testserver/admin/kb?lang=en"}
    r = post(admin, "/admin/kb-import", files={"file": ("kb.jsonl", content, "application/x-ndjson")}, headers=english)
    assert r.status_code == status and "20 MB" in r.text and "Traceback" not in r.text
    assert kb.count(admin.app.state.services.store.read()) == 0
    sign_in(admin)
    assert admin.get("/admin/kb").status_code == 200  # the admin goes on working


def test_kb_cli_refuses_a_binary_file(tmp_path: Path, data_dir: Path) -> None:
    from click.testing import CliRunner

    from appliance.cli import main

    bad = tmp_path / "kb.jsonl"
    bad.write_bytes(bytes(range(256)))
    result = CliRunner().invoke(main, ["kb", "import", str(bad), "--data-dir", str(data_dir)])
    assert result.exit_code == 1 and "nothing imported" in result.output and "UTF-8" in result.output


def test_json_nested_thousands_deep_and_a_nul_in_a_path_are_clear_400s(api: TestClient) -> None:
    deep = b'{"lang": "en", "x": ' + b"[" * 8000 + b"]" * 8000 + b"}"
    r = api.post("/api/v1/conversations", content=deep, headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"] == "too_deep"
    r = api.get("/static/%00")
    assert r.status_code == 400 and "Traceback" not in r.text
    assert api.get("/static/htmx-2.0.11.min.js").status_code == 200


def test_the_widget_greeting_comes_from_the_settings_only(api: TestClient) -> None:
    """/widget?greeting=... showed any text as the shop's own first words: a phishing line on
    the shop's chat, one link away."""
    page = api.get("/widget", params={"lang": "en", "greeting": "Your account is locked: pay at evil.example"})
    assert page.status_code == 200 and "evil.example" not in page.text


def test_the_front_pages_snippet_never_echoes_the_host_header(data_dir) -> None:
    from appliance.app import create_app
    from appliance.settings import Settings

    settings = Settings(data_dir=data_dir, model="none", public_url="https://support.example-shop.ir")
    with TestClient(create_app(settings)) as c:
        page = c.get("/", headers={"host": "evil.example"}).text
    assert "evil.example" not in page and "https://support.example-shop.ir/static/widget-loader-" in page
