"""Asking and measuring: ``ask`` one question, ``eval`` answer quality on a set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from appliance.cli.base import data_dir_option, load_settings, main, open_store
from appliance.clock import utc_now
from appliance.kb import embedder
from appliance.kb.entry import EntryError


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
    "--orders",
    "orders_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A spreadsheet of orders (CSV or XLSX), imported as `orders import` does: the chat has its order desk.",
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
    orders_path: Path | None,
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
            orders_path=orders_path,
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
