"""The orders' storage: the only module that reads or writes ``orders``, ``order_imports``,
``order_lookups`` and ``order_desk``.

``orders`` is the owner's spreadsheet, replaced whole by each import (the sheet is the shop's
list; an order gone from it is gone here). ``order_lookups`` is the audit log the owner reads and
what tries are counted on; ``order_desk`` is a conversation's order question in progress.
Functions take the sqlite_utils Database of the caller's transaction (``store.write()`` to
write), as the catalog's store does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from appliance.orders.order import Order, normalize_number

OUTCOMES = ("found", "not_found", "wrong_proof", "limited", "unavailable", "handed_over")
FAILED = ("not_found", "wrong_proof")
# One network's failed lookups (no such order, or a proof that doesn't match) before the desk
# refuses its tries without asking the shop. Guessing order numbers from one network by making a
# new visitor and conversation per try got three tries each, without end. A shop's own customers
# behind one address (an office, a mobile carrier's NAT) mistype a proof now and then: twenty
# failures in an hour is far past that, and sixty in a day lets at most sixty guesses a day reach
# the shop's order system, however many are sent.
NETWORK_FAILED_PER_HOUR = 20
NETWORK_FAILED_PER_DAY = 60
STAGES = ("number", "proof")
KEEP_IMPORTS = 50
_COLUMNS = tuple(f.name for f in fields(Order))  # the orders table's columns, in the Order's order


@dataclass(frozen=True)
class Import:
    at: str
    source: str
    kind: str  # file | feed
    rows: int
    error: str
    mapping: dict[str, Any]


@dataclass(frozen=True)
class Lookup:
    at: str
    conversation_id: str | None  # None once the conversation was erased
    visitor: str | None
    number: str
    outcome: str  # one of OUTCOMES
    source: str
    network: str | None = None  # a keyed hash of the network it came from (IPv6 by /64)
    guessing: bool = False  # refused because its network failed too often (network_over)


@dataclass(frozen=True)
class Guessing:
    """A network refused for failing too often since a time: how many of its tries were refused,
    and the last one."""

    network: str
    refused: int
    last: str


@dataclass(frozen=True)
class DeskState:
    number: str
    stage: str  # number | proof
    tries: int
    updated_at: str


# -- the sheet ------------------------------------------------------------------------------------


def replace_sheet(db: Database, orders: list[Order], *, source: str, kind: str, mapping: dict, now: str) -> int:
    """Inside the caller's write transaction: the sheet's orders become ``orders`` (nothing of the
    previous sheet stays), and the import is recorded. A number twice in the sheet: its last row
    counts, as the owner's latest line. Returns how many orders."""
    rows: dict[str, list[str]] = {}
    for order in orders:
        number = normalize_number(order.number)
        if number:
            rows[number] = [number, *(getattr(order, c) for c in _COLUMNS[1:]), source[:500], now]
    db.execute("DELETE FROM orders")
    if rows:
        columns = [*_COLUMNS, "source", "imported_at"]
        db.conn.executemany(
            f"INSERT INTO orders ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", list(rows.values())
        )
    _record(db, now=now, source=source, kind=kind, rows=len(rows), error="", mapping=mapping)
    return len(rows)


def sheet_order(db: Database, number: str) -> Order | None:
    """The sheet's order by its number as typed («#۱۲۳۴۵», "wc-1042"), or None."""
    key = normalize_number(number)
    if not key:
        return None
    row = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM orders WHERE number = ?", [key]).fetchone()
    return Order(*row) if row else None


def sheet_size(db: Database) -> int:
    return int(db.execute("SELECT COUNT(*) FROM orders").fetchone()[0])


def record_import(db: Database, *, now: str, source: str, kind: str, error: str) -> None:
    """A failed import (the sheet's address down, a file that can't be read): the sheet stays as
    it was, and the owner sees why in the history."""
    _record(db, now=now, source=source, kind=kind, rows=0, error=error, mapping=None)


def _record(db: Database, *, now: str, source: str, kind: str, rows: int, error: str, mapping: dict | None) -> None:
    db.execute(
        "INSERT INTO order_imports (at, source, kind, rows, error, mapping) VALUES (?, ?, ?, ?, ?, ?)",
        [now, source[:500], kind, rows, error[:1000], json.dumps(mapping or {}, ensure_ascii=False)],
    )
    db.execute(
        "DELETE FROM order_imports WHERE id NOT IN (SELECT id FROM order_imports ORDER BY id DESC LIMIT ?)",
        [KEEP_IMPORTS],
    )


def imports(db: Database, limit: int = 20) -> list[Import]:
    """The import history, newest first."""
    rows = db.execute(
        "SELECT at, source, kind, rows, error, mapping FROM order_imports ORDER BY id DESC LIMIT ?", [limit]
    ).fetchall()
    return [Import(r[0], r[1], r[2], r[3], r[4], json.loads(r[5] or "{}")) for r in rows]


def last_mapping(db: Database, columns: list[str]) -> dict | None:
    """The mapping used last for a sheet with these same columns (the owner maps them once)."""
    for r in imports(db, KEEP_IMPORTS):
        if not r.error and r.mapping.get("columns") == columns:
            return {k: v for k, v in r.mapping.items() if k != "columns"}
    return None


# -- the audit log --------------------------------------------------------------------------------


def record_lookup(
    db: Database,
    *,
    at: str,
    conversation_id: str | None,
    visitor: str | None,
    number: str,
    outcome: str,
    source: str,
    network: str | None = None,
) -> None:
    """One line of the audit log: who asked about which number, from which network (a keyed
    hash, never the address), and what came of it."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown lookup outcome {outcome!r}")
    db.execute(
        "INSERT INTO order_lookups (at, conversation_id, visitor, number, outcome, source, network) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [at, conversation_id, visitor, normalize_number(number)[:100], outcome, source[:50], network],
    )


def lookups(db: Database, *, limit: int = 200, conversation_id: str | None = None) -> list[Lookup]:
    """The audit log, newest first (of one conversation, when named). A refusal because its
    network failed too often is marked ``guessing``: the owner's sign of numbers being guessed."""
    where, params = ("WHERE conversation_id = ?", [conversation_id]) if conversation_id else ("", [])
    rows = db.execute(
        "SELECT at, conversation_id, visitor, number, outcome, source, network FROM order_lookups "
        f"{where} ORDER BY at DESC, id DESC LIMIT ?",
        [*params, limit],
    ).fetchall()
    found = []
    for at, conversation, visitor, number, outcome, source, network in rows:
        guessing = outcome == "limited" and network is not None and network_over(db, network, at)
        found.append(Lookup(at, conversation, visitor, number, outcome, source, network, guessing))
    return found


def network_over(db: Database, network: str, at: str, *, asking: int = 0) -> bool:
    """Whether this network's failed lookups before ``at`` (an ISO time) reached a limit: the
    hour's or the day's. ``asking``: its lookups under way, not logged yet, counted as failed."""
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return False

    def failed(back: timedelta) -> int:
        return int(
            db.execute(
                f"SELECT COUNT(*) FROM order_lookups WHERE network = ? AND at >= ? AND at <= ? "
                f"AND outcome IN ({', '.join('?' * len(FAILED))})",
                [network, (moment - back).isoformat(), at, *FAILED],
            ).fetchone()[0]
        )

    return (
        failed(timedelta(hours=1)) + asking >= NETWORK_FAILED_PER_HOUR
        or failed(timedelta(days=1)) + asking >= NETWORK_FAILED_PER_DAY
    )


def guessing(db: Database, *, since: str) -> list[Guessing]:
    """The networks refused since ``since`` because they failed too often (guessing order numbers,
    most likely), most refused first. Once a network is seen refused for that, its later
    refusals count too (one check a network, not one a row: an attack is thousands of rows)."""
    rows = db.execute(
        "SELECT network, at FROM order_lookups WHERE outcome = 'limited' AND network IS NOT NULL AND at >= ? "
        "ORDER BY at",
        [since],
    ).fetchall()
    found: dict[str, tuple[int, str]] = {}
    for network, at in rows:
        if network in found or network_over(db, network, at):
            refused, _ = found.get(network, (0, at))
            found[network] = (refused + 1, at)
    return sorted((Guessing(n, r, last) for n, (r, last) in found.items()), key=lambda g: (-g.refused, g.last))


def count_lookups(
    db: Database,
    *,
    since: str,
    outcomes: tuple[str, ...],
    number: str | None = None,
    visitor: str | None = None,
    conversation_id: str | None = None,
    network: str | None = None,
) -> int:
    """Lookups at or after ``since`` with one of ``outcomes``, of this number, visitor,
    conversation and/or network (each one given narrows the count; each has its index)."""
    if not outcomes:
        return 0
    where = ["at >= ?", f"outcome IN ({', '.join('?' * len(outcomes))})"]
    params: list[str] = [since, *outcomes]
    for column, value in (
        ("number", normalize_number(number) if number is not None else None),
        ("visitor", visitor),
        ("conversation_id", conversation_id),
        ("network", network),
    ):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    return int(db.execute(f"SELECT COUNT(*) FROM order_lookups WHERE {' AND '.join(where)}", params).fetchone()[0])


# -- a conversation's question in progress --------------------------------------------------------


def desk_state(db: Database, conversation_id: str) -> DeskState | None:
    row = db.execute(
        "SELECT number, stage, tries, updated_at FROM order_desk WHERE conversation_id = ?", [conversation_id]
    ).fetchone()
    return DeskState(*row) if row else None


def set_desk_state(db: Database, conversation_id: str, *, number: str, stage: str, tries: int, now: str) -> None:
    if stage not in STAGES:
        raise ValueError(f"unknown order desk stage {stage!r}")
    db.execute(
        "INSERT INTO order_desk (conversation_id, number, stage, tries, updated_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(conversation_id) DO UPDATE SET number = excluded.number, stage = excluded.stage, "
        "tries = excluded.tries, updated_at = excluded.updated_at",
        [conversation_id, number, stage, tries, now],
    )


def clear_desk_state(db: Database, conversation_id: str) -> None:
    db.execute("DELETE FROM order_desk WHERE conversation_id = ?", [conversation_id])
