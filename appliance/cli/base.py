"""What every command shares: the ``appliance`` group, the data-directory options, the settings
and the database as the commands open them."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from appliance import __version__, paths
from appliance import settings as settings_mod
from appliance.clock import utc_now
from appliance.db import DatabaseError, Store
from appliance.kb import embedder
from appliance.kb import formats as kb_formats
from appliance.kb import store as kb

DEMO_SHOP_NAME = "کتاب‌فروشی نمونه (Demo Bookshop)"


def data_dir_option(fn: Callable) -> Callable:
    @click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Data directory (default: $APPLIANCE_DATA_DIR or the platform's user data dir).",
    )
    @click.option(
        "--demo", is_flag=True, default=None, help="Use the bundled demo bookshop and its own data directory."
    )
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return wrapper


def load_settings(**flags: Any) -> settings_mod.Settings:
    try:
        return settings_mod.load(flags)
    except settings_mod.SettingsError as exc:
        raise click.ClickException(f"bad setting: {exc}") from None


def open_store(settings: settings_mod.Settings) -> Store:
    """The data directory's database, migrated, its knowledge base indexed (and the demo shop
    loaded when --demo)."""
    try:
        paths.ensure_data_dir(settings.data_dir)
        store = Store(settings.db_path)
        store.migrate()
    except (DatabaseError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    if settings.demo:
        _load_demo(store)
    indexed = kb.ensure_indexed(store, embedder=embedder.shared())
    if indexed:
        click.echo(f"indexed {indexed} knowledge-base entries", err=True)
    return store


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="appliance")
def main() -> None:
    """An offline customer-support appliance for small shops."""


def _write_out(text: str, output: Path | None) -> None:
    """An export to its file, or to standard output."""
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


def _load_demo(store: Store) -> None:
    """Load the demo bookshop's knowledge base (idempotent: unchanged entries are left alone)."""
    entries = kb_formats.read_file(paths.demo_kb_path())
    result = kb.save(store, entries, embedder=embedder.shared(), now=utc_now().isoformat(), source="demo")
    click.echo(
        f"Demo bookshop: {kb.count(store.read())} knowledge-base entries "
        f"({result.created} added, {result.updated} updated)",
        err=True,
    )
