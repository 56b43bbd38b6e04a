"""GET /healthz: is the appliance up, and in which mode? For monitors, `appliance check` and people."""

from __future__ import annotations

import sqlite3

from litestar import Response, Router, get

from .. import __version__
from ..db import Store, schema_state
from ..llm_runtime import ModelRuntime
from ..services import Inject


@get("/healthz", sync_to_thread=True, cache=False)
def healthz(llm: Inject[ModelRuntime], store: Inject[Store]) -> Response:
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
        "warnings": _model_warnings(model),
    }
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
