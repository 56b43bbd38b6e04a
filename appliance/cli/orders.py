"""The shop's orders from the shell: ``orders import FILE`` (the owner's spreadsheet) and
``orders test NUMBER`` (the configured source asked for one order, as the chat would ask it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from appliance import i18n
from appliance.cli.base import data_dir_option, load_settings, main, open_store
from appliance.clock import utc_now
from appliance.kb.entry import EntryError


@main.group("orders")
def orders_group() -> None:
    """The shop's orders: import the spreadsheet, test the source the chat asks."""


@orders_group.command("import")
@data_dir_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--map",
    "overrides",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="Which column holds a field, where the guess is wrong (repeatable): --map tracking_code=بارکد",
)
@click.option("--lang", type=click.Choice(["en", "fa"]), default="en", help="The language of a refusal's reason.")
def orders_import(file: Path, overrides: tuple[str, ...], lang: str, **flags: Any) -> None:
    """Import the spreadsheet of orders (CSV or XLSX); it replaces the orders imported before."""
    from appliance.orders import sheet
    from appliance.orders import store as orders_store

    settings = load_settings(**flags)
    data = file.read_bytes()
    store = open_store(settings)
    try:
        try:
            table, guessed = sheet.read(data, file.name)
            mapping = orders_store.last_mapping(store.read(), table.columns) or guessed
            for item in overrides:
                fld, sep, column = item.partition("=")
                if not sep or fld not in sheet.FIELDS:
                    raise click.ClickException(
                        f"--map {item!r}: use FIELD=COLUMN, FIELD one of {', '.join(sheet.FIELDS)}"
                    )
                mapping[fld] = column
            n, used = sheet.import_sheet(
                store, data, file.name, source=file.name, kind="file", now=utc_now().isoformat(), mapping=mapping
            )
        except EntryError as exc:
            raise click.ClickException(f"nothing imported: {i18n.refusal(lang, exc)}") from None
    finally:
        store.close()
    shown = ", ".join(f"{k}={v}" for k, v in used.items())
    click.echo(f"{file.name} ({shown}): {n} orders")


@orders_group.command("test")
@data_dir_option
@click.argument("number")
@click.option("--timeout", "timeout_s", type=float, default=None, help="Seconds to wait for the shop's system.")
@click.option("--lang", type=click.Choice(["en", "fa"]), default="en", help="The language of a failure's reason.")
def orders_test(number: str, timeout_s: float | None, lang: str, **flags: Any) -> None:
    """Look an order up in the configured source and print what a customer who proves it is
    theirs would be told, and whether it holds a phone number or an e-mail to prove it with
    (never their values)."""
    from appliance.orders.order import OrdersUnavailable, public
    from appliance.orders.sources import source_from

    settings = load_settings(**flags)
    store = open_store(settings)
    try:
        source = source_from(settings, store, timeout_s=timeout_s)
        if source is None:
            raise click.ClickException("no order source is set (settings: orders_source)")
        try:
            order = source.lookup(number)
        except OrdersUnavailable as exc:
            raise click.ClickException(f"{source.name}: {i18n.refusal(lang, exc)}") from None
    finally:
        store.close()
    if order is None:
        click.echo(f"{source.name}: no order {number}")
        raise SystemExit(1)
    click.echo(f"{source.name}: order {order.number}")
    for name, value in public(order).items():
        if name != "number":
            click.echo(f"  {name}: {value}")
    click.echo(f"  phone to prove it: {'yes' if order.phone else 'no'}")
    click.echo(f"  e-mail to prove it: {'yes' if order.email else 'no'}")
