"""GET /healthz: is the appliance up, and in which mode? For monitors, `appliance check` and people.

Anyone may ask whether it is up and in which mode; the details (the model's file and process,
crashes, the schema) are for this machine only (loopback: a monitor or `appliance check` on the
server itself; through a trusted reverse proxy, the address it reports). They named absolute
paths to anyone. The owner sees the same in words on the admin's home page."""

from __future__ import annotations

import ipaddress
import sqlite3

from litestar import Request, Response, Router, get

from appliance import __version__
from appliance.conversations.push import Hub
from appliance.db import Store, schema_state
from appliance.llm.runtime import ModelRuntime
from appliance.settings import Settings
from appliance.web.services import Inject
from appliance.web.visitors import client_ip


def _local(request: Request, settings: Settings) -> bool:
    try:
        return ipaddress.ip_address(client_ip(request, settings.trusted_proxies)).is_loopback
    except ValueError:
        return False


@get("/healthz", sync_to_thread=True, cache=False)
def healthz(
    request: Request, llm: Inject[ModelRuntime], store: Inject[Store], settings: Inject[Settings], push: Inject[Hub]
) -> Response:
    model = llm.status()
    try:
        schema = schema_state(store.read())
        database = {"ok": True, "schema_version": schema["version"], "pending": schema["pending"]}
    except sqlite3.Error as exc:
        database = {"ok": False, "error": str(exc)}
    body = {
        "status": "ok" if database["ok"] else "error",
        "version": __version__,
        # knowledge-base-only is a working mode, not an outage: answers still flow.
        "mode": "model" if model["state"] == "ready" else "knowledge-base-only",
        "model": model,
        "database": database,
        "open_chats": {"streams": push.open_streams, "limit": push.max_streams},
        "warnings": _model_warnings(model),
    }
    if not _local(request, settings):
        body = {"status": body["status"], "mode": body["mode"]}
    return Response(body, status_code=200 if database["ok"] else 503, headers={"cache-control": "no-store"})


def _model_warnings(model: dict) -> list[str]:
    warnings = []
    if model.get("file") in ("missing", "changed"):
        warnings.append(
            f"model file {model['file']} on disk since it was loaded; the loaded copy keeps "
            "answering, a restart would answer from the knowledge base only"
        )
    crash = model.get("last_crash")
    if crash:
        warnings.append(
            f"the model crashed at {crash['at']} ({crash['reason']}); "
            + ("it is back" if model["state"] == "ready" else f"it is {model['state']}: {model['reason']}")
        )
    return warnings


router = Router(path="/", route_handlers=[healthz])
