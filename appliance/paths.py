"""Where things live on disk."""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "appliance"
DEMO_NAME = "appliance-demo"


def default_data_dir(demo: bool = False) -> Path:
    """The platform's user data directory; the demo shop gets its own so it never mixes with a real one."""
    return platformdirs.user_data_path(DEMO_NAME if demo else APP_NAME, appauthor=False)


def package_dir() -> Path:
    return Path(__file__).resolve().parent


def project_dir() -> Path:
    """The checkout the appliance was installed from (install.sh installs it in editable mode)."""
    return package_dir().parent


def project_models_dir() -> Path:
    return project_dir() / "models"


def static_dir() -> Path:
    return project_dir() / "static"


def templates_dir() -> Path:
    return package_dir() / "templates"


def demo_kb_path() -> Path:
    return package_dir() / "demo" / "bookshop.jsonl"
