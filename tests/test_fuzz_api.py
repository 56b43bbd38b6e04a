"""The public API fuzzed from its own OpenAPI schema (schemathesis), against a real server.

Valid and invalid data for every operation, with and without a real visitor token and a real
conversation id: never a 5xx, never a stack trace, every error a JSON body with a stable code."""

import json

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from .helpers import (
    free_port,
    start_server,
    stop,
    wait_healthy,
)

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 40


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory):
    data_dir = tmp_path_factory.mktemp("fuzz-data")
    # Generous limits so the fuzzer reaches the handlers instead of the rate limiter.
    (data_dir / "settings.toml").write_text(
        "visitor_messages_per_minute = 100000\nip_messages_per_minute = 100000\nip_conversations_per_day = 100000\n",
        encoding="utf-8",
    )
    port = free_port()
    proc = start_server(data_dir, port, "--demo", "--model", "none")
    wait_healthy(port, proc, timeout=120)
    base = f"http://127.0.0.1:{port}"
    started = httpx.post(f"{base}/api/v1/conversations", json={"lang": "fa"}).json()
    yield {"base": base, "token": started["visitor_token"], "conversation": started["conversation_id"]}
    out = stop(proc)
    assert "Traceback" not in out, out[-3000:]  # nothing went wrong inside, either


def operations(base: str) -> list:
    """Every operation but the widget's event stream: a valid call to it never ends (that is its
    job), so a fuzzer waits on it for ever. Its refusals are tested in tests/test_push.py."""
    schema = schemathesis.openapi.from_url(f"{base}/api/schema/openapi.json")
    ops = [result.ok() for result in schema.get_all_operations()]
    return [op for op in ops if not op.path.endswith("/events")]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_public_api_fuzzed(fuzz_server, mode: GenerationMode) -> None:
    ops = operations(fuzz_server["base"])
    assert len(ops) >= 9
    seen: dict[int, int] = {}

    for operation in ops:

        @given(case=operation.as_strategy(generation_mode=mode))
        # No shrinking: a failure is reported as found (shrinking HTTP cases took minutes).
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            phases=[Phase.explicit, Phase.generate],
        )
        def fuzz(case) -> None:
            # Most cases reach the handler as the real visitor in their real conversation; the
            # rest keep the fuzzer's own token and ids (the 401/404 paths).
            if hash(repr((case.body, case.query, case.path_parameters))) % 4:
                case.headers = {**(case.headers or {}), "authorization": f"Bearer {fuzz_server['token']}"}
                if case.path_parameters and "conversation_id" in case.path_parameters:
                    case.path_parameters["conversation_id"] = fuzz_server["conversation"]
            response = case.call(base_url=fuzz_server["base"], timeout=30)
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
            where = (case.method, case.formatted_path, repr(case.body)[:200], response.text[:300])
            assert response.status_code < 500, where
            assert "Traceback" not in response.text and 'File "' not in response.text, where
            if response.status_code >= 400:
                body = json.loads(response.text)
                assert isinstance(body.get("error"), str) and body["error"], where

        try:
            fuzz()
        except Unsatisfiable:  # no invalid request exists for an operation without inputs
            assert mode is GenerationMode.NEGATIVE and not operation.body and not operation.query
    # Valid data got through to the handlers and past them; invalid data was refused as such.
    if mode is GenerationMode.POSITIVE:
        assert seen.get(200, 0) + seen.get(201, 0) > 20, seen
    assert any(400 <= code < 500 for code in seen), seen
