"""Running the appliance: ``serve``, ``check`` and the systemd unit (``service-unit``)."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import Any

import click

from appliance import __version__, paths
from appliance import settings as settings_mod
from appliance.app import SETTINGS_ENV
from appliance.cli.base import DEMO_SHOP_NAME, data_dir_option, load_settings, main, open_store
from appliance.clock import utc_now
from appliance.ops import checks
from appliance.ops.instance_lock import AlreadyRunning, InstanceLock
from appliance.owner import account as owner
from appliance.owner.secret import load_or_create


@main.command()
@data_dir_option
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default 8750).")
@click.option("--model", default=None, help="'default', 'none', or a GGUF file name or path.")
@click.option("--log-level", default=None, type=click.Choice(["debug", "info", "warning", "error"]))
def serve(**flags: Any) -> None:
    """Run the appliance (granian, one worker) until stopped with Ctrl-C."""
    settings = load_settings(**flags)
    lock = InstanceLock(settings.data_dir)
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        raise click.ClickException(str(exc)) from None
    _check_port_free(settings.host, settings.port)

    if settings.demo and not (settings.data_dir / settings_mod.SETTINGS_FILE).exists():
        # The demo's first run: give the shop a name (the owner can change it later).
        paths.ensure_data_dir(settings.data_dir)
        settings_mod.write_file(settings.data_dir, {"shop_name": DEMO_SHOP_NAME})
        settings = load_settings(**flags)
    store = open_store(settings)
    try:
        load_or_create(settings.data_dir)
        token = owner.new_setup_token(store, utc_now)
    finally:
        store.close()

    click.echo(f"Appliance {__version__}, data in {settings.data_dir}")
    click.echo(f"  Chat and API:  {settings.base_url}/")
    click.echo(f"  Admin:         {settings.base_url}/admin/")
    click.echo(f"  Health:        {settings.base_url}/healthz")
    if token:
        click.echo("")
        click.echo("First run: open this one-time link to set the owner's password:")
        click.echo(f"  {settings.base_url}/admin/setup?token={token}")
    click.echo("")
    sys.stdout.flush()

    os.environ[SETTINGS_ENV] = settings.to_json()
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    try:
        Granian(
            "appliance.app:app_from_environment",
            factory=True,
            address=settings.host,
            port=settings.port,
            interface=Interfaces.ASGI,
            # One worker on purpose: one model, one scheduler, one SQLite writer.
            workers=1,
            # Requests the worker holds at once (backpressure; granian's default is the backlog,
            # 1,024): every open chat holds one, so room for them all and as many again besides
            # (1,030 trickled bodies filled the default and nobody else got an answer).
            backlog=connections_room(settings.max_open_chats),
            backpressure=connections_room(settings.max_open_chats),
            log_level=LogLevels(settings.log_level),
            respawn_failed_workers=True,
        ).serve()
    finally:
        lock.release()


def connections_room(max_open_chats: int) -> int:
    """granian's backlog and backpressure: twice the open chats, and 1,024 more."""
    return 2 * max_open_chats + 1024


def _check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise click.ClickException(
                f"can't listen on {host}:{port} ({exc.strerror}); is another program using it? "
                "Choose another with --port"
            ) from None


@main.command()
@data_dir_option
def check(**flags: Any) -> None:
    """Verify the installation: Python, llama.cpp, model, data directory, database, disk."""
    settings = load_settings(**flags)
    results = checks.run_all(settings)
    colours = {checks.OK: "green", checks.WARN: "yellow", checks.FAIL: "red"}
    for r in results:
        click.echo(f"[{click.style(r.status.upper(), fg=colours[r.status])}] {r.name}: {r.detail}")
    failed = [r for r in results if r.status == checks.FAIL]
    if failed:
        raise click.ClickException(f"{len(failed)} check(s) failed")
    click.echo("All checks passed." if not any(r.status == checks.WARN for r in results) else "Passed, with warnings.")


@main.command("service-unit")
@click.option("--user", default="appliance", help="The unprivileged user the service runs as.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("/var/lib/appliance"))
@click.option("--port", type=int, default=8750)
def service_unit(user: str, data_dir: Path, port: int) -> None:
    """Print a systemd unit for this installation (install.sh --service installs it)."""
    exe = Path(sys.executable).with_name("appliance")
    click.echo(f"""[Unit]
Description=Offline customer-support appliance
After=network.target

[Service]
Type=simple
User={user}
Group={user}
Environment=APPLIANCE_DATA_DIR={data_dir}
ExecStart={exe} serve --port {port}
Restart=on-failure
RestartSec=5
# Each open chat holds a socket: room for the default 1,000 (services.room_for_streams).
LimitNOFILE=65536
# The appliance needs its data directory and nothing else of the system.
NoNewPrivileges=true
ProtectSystem=strict
ProtectHome=read-only
PrivateTmp=true
ReadWritePaths={data_dir}

[Install]
WantedBy=multi-user.target""")
