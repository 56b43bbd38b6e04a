"""The shop's content from the shell: ``kb import/export/reindex`` and ``catalog import/export``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from appliance import settings as settings_mod
from appliance.cli.base import _write_out, data_dir_option, load_settings, main, open_store
from appliance.clock import utc_now
from appliance.kb import embedder
from appliance.kb import formats as kb_formats
from appliance.kb import store as kb
from appliance.kb.entry import EntryError


@main.group("catalog")
def catalog_group() -> None:
    """Import and export the product catalog."""


@catalog_group.command("import")
@data_dir_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--currency", default="", help="The currency the prices are in, as customers should read it.")
@click.option(
    "--map",
    "overrides",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="Which column holds a field, where the guess is wrong (repeatable): --map name_fa=عنوان",
)
def catalog_import(file: Path, currency: str, overrides: tuple[str, ...], **flags: Any) -> None:
    """Import a catalog CSV or JSON (WooCommerce, Shopify or a spreadsheet); it replaces the catalog."""
    from appliance.catalog import formats as catalog_formats
    from appliance.catalog import store as catalog_store

    settings = load_settings(**flags)
    try:
        table = catalog_formats.read_table(file.read_bytes(), file.name)
        mapping = dict(table.mapping)
        for item in overrides:
            fld, sep, column = item.partition("=")
            if not sep or fld not in (*catalog_formats.FIELDS, "preset"):
                raise click.ClickException(
                    f"--map {item!r}: use FIELD=COLUMN, FIELD one of {', '.join(catalog_formats.FIELDS)}"
                )
            mapping[fld] = column
        products = catalog_formats.build(table, mapping, currency=currency)
    except EntryError as exc:
        raise click.ClickException(f"nothing imported: {exc}") from None
    store = open_store(settings)
    try:
        with store.write() as db:
            n = catalog_store.replace_all(
                db, products, source=file.name, kind="file",
                mapping={**mapping, "columns": table.columns, "currency_text": currency}, now=utc_now().isoformat(),
            )  # fmt: skip
    finally:
        store.close()
    shown = ", ".join(f"{k}={v}" for k, v in mapping.items() if k != "preset")
    click.echo(f"{file.name} ({mapping['preset']}: {shown}): {n} products and variants")


@catalog_group.command("export")
@data_dir_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def catalog_export(output: Path | None, **flags: Any) -> None:
    """Export the catalog as CSV (the columns in the README; importable as it is)."""
    from appliance.catalog import formats as catalog_formats
    from appliance.catalog import store as catalog_store

    settings = load_settings(**flags)
    store = open_store(settings)
    try:
        text = catalog_formats.to_csv(catalog_store.all_products(store.read()))
    finally:
        store.close()
    _write_out(text, output)


@main.group("kb")
def kb_group() -> None:
    """Import, export and re-index the knowledge base."""


@kb_group.command("import")
@data_dir_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--document", "as_document", is_flag=True, help="Read a .md file as a document, not as entries.")
@click.option("--accept-faq", is_flag=True, help="Take every question/answer pair a document proposes as an entry.")
def kb_import(file: Path, as_document: bool, accept_faq: bool, **flags: Any) -> None:
    """Import entries (.jsonl, .csv, .md) or a document (.html, .txt, .pdf, .docx; .md with
    --document). All or nothing; importing the same file again changes only what changed."""
    from appliance.documents import extract

    settings = load_settings(**flags)
    kind = extract.kind_of(file.name)
    if kind in {"html", "txt", "pdf", "docx"} or (as_document and kind == "md"):
        _import_document(file, settings, accept_faq)
        return
    try:
        entries = kb_formats.read_file(file)
    except EntryError as exc:
        raise click.ClickException(f"nothing imported: {exc}") from None
    store = open_store(settings)
    try:
        result = kb.save(
            store, entries, embedder=embedder.shared(), now=utc_now().isoformat(), source=f"import:{file.name}"
        )
    finally:
        store.close()
    click.echo(f"{file.name}: {result.created} added, {result.updated} updated, {result.unchanged} unchanged")


def _import_document(file: Path, settings: settings_mod.Settings, accept_faq: bool) -> None:
    from appliance.documents import extract
    from appliance.documents import store as documents_store

    data = file.read_bytes()
    try:
        doc = extract.extract(data, file.name)
    except EntryError as exc:
        raise click.ClickException(f"nothing imported: {exc}") from None
    store = open_store(settings)
    try:
        done = documents_store.save(
            store,
            doc,
            source=file.name,
            data=data,
            embedder=embedder.shared(),
            now=utc_now().isoformat(),
            approved=range(len(doc.proposals)) if accept_faq else (),
        )
    finally:
        store.close()
    click.echo(
        f"{file.name}: document “{doc.title}”, {len(doc.sections)} sections "
        f"({done.added} added, {done.changed} changed, {done.removed} removed), {done.faq_entries} FAQ entries"
    )
    if doc.proposals and not accept_faq:
        click.echo(
            f"{len(doc.proposals)} question/answer pairs found: approve them one by one in the admin "
            "(Documents), or import again with --accept-faq"
        )


@kb_group.command("export")
@data_dir_option
@click.option("--format", "fmt", type=click.Choice(kb_formats.FORMATS), default="jsonl")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (default: standard output).",
)
def kb_export(fmt: str, output: Path | None, **flags: Any) -> None:
    """Export every entry (JSON Lines keeps everything; CSV and Markdown are for editing)."""
    settings = load_settings(**flags)
    store = open_store(settings)
    try:
        text = kb_formats.export(kb.all_entries(store.read()), fmt)
    finally:
        store.close()
    _write_out(text, output)


@kb_group.command("reindex")
@data_dir_option
def kb_reindex(**flags: Any) -> None:
    """Rebuild the search index and embeddings of every entry (after an upgrade)."""
    settings = load_settings(**flags)
    store = open_store(settings)
    try:
        n = kb.reindex(store, embedder=embedder.shared())
    finally:
        store.close()
    click.echo(f"re-indexed {n} entries")
