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
    """The widget's and the admin's files: inside the package when installed from a wheel,
    static/ at the top of the repository in a checkout."""
    packaged = package_dir() / "static"
    return packaged if packaged.is_dir() else project_dir() / "static"


def templates_dir() -> Path:
    return package_dir() / "web" / "templates"


def demo_kb_path() -> Path:
    return package_dir() / "demo" / "bookshop.jsonl"


def ensure_data_dir(data_dir: Path) -> None:
    """Create the data directory and its parts, readable by the appliance's user only: it holds
    customers' conversations and the secret."""
    for d in (data_dir, data_dir / "backups", data_dir / "logs", data_dir / "models"):
        d.mkdir(mode=0o700, parents=True, exist_ok=True)
