"""What the appliance's helper processes share: the model (``llm_worker``) and the shop's
calibration fit (``shop_calibration``) run as ``python -m appliance....`` children of the web
process, at a priority that leaves the CPU to customers."""

from __future__ import annotations

import os
from pathlib import Path


def child_env() -> dict[str, str]:
    """The environment for a ``python -m appliance.X`` child: the package importable however the
    parent was started (installed, editable, or from a checkout)."""
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    return env


def lower_priority(nice: int) -> None:
    """Run this process at ``nice``; at 19 also in Linux's idle scheduling class, where it gets
    only CPU time nothing else wants and any thread of the web process that wakes up takes the
    core from it at once."""
    if nice:
        try:
            os.nice(nice)
        except OSError:
            pass
    if nice >= 19 and hasattr(os, "SCHED_IDLE"):
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        except OSError:
            pass
