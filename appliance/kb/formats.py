"""Knowledge-base files: JSON Lines, CSV and Markdown, in and out.

A file is checked whole before anything is written: the first bad line or row stops the import
with its number and the reason, and the knowledge base is left untouched.

- **JSON Lines**: one entry an object a line: ``id``, ``questions`` (list), ``answer``, ``lang``,
  optional ``title``, ``tags``, ``enabled`` (the format of shared/eval, ``intent`` and ``marker``
  accepted).
- **CSV**: a header row with ``id,title,questions,answer,lang,tags,enabled``; several questions
  in one cell are separated by new lines or " | ".
- **Markdown**: every heading (#, ##, ###) starts an entry and is its title; lines starting with
  ``Q:`` (or ``س:``) right under it are extra phrasings; the rest is the answer. ``{#some-id}`` at
  the end of a heading sets the id (default: made from the title). The language is detected from
  the text unless the file starts with ``lang: fa`` or ``lang: en``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from appliance.kb.entry import Entry, EntryError, check_unique
from appliance.text.textnorm import ascii_digits, detect_language

MAX_FILE_BYTES = 20 * 1024 * 1024
CSV_FIELDS = ["id", "title", "questions", "answer", "lang", "tags", "enabled"]
FORMATS = ("jsonl", "csv", "md")


def _decode(data: bytes, name: str) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise EntryError(
            name, f"file larger than {MAX_FILE_BYTES // 2**20} MB", "entry.big_file", n=MAX_FILE_BYTES // 2**20
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise EntryError(f"{name} line {line}", "not UTF-8 text (save the file as UTF-8)", "entry.not_utf8") from None


def format_of(name: str) -> str:
    suffix = Path(name).suffix.lower().lstrip(".")
    fmt = {"jsonl": "jsonl", "ndjson": "jsonl", "json": "jsonl", "csv": "csv", "md": "md", "markdown": "md"}.get(suffix)
    if fmt is None:
        raise EntryError(
            name,
            "unknown file type: entries are .jsonl, .csv or .md; documents (.html, .pdf, .docx, .txt) are read as documents",
            "entry.file_type",
        )
    return fmt


def parse(data: bytes, name: str, fmt: str | None = None) -> list[Entry]:
    """Parse a whole knowledge-base file; raises EntryError naming the first bad line or row."""
    fmt = fmt or format_of(name)
    text = _decode(data, name)
    entries, places = {"jsonl": _jsonl, "csv": _csv, "md": _markdown}[fmt](text, name)
    if not entries:
        raise EntryError(name, "no entries found: the file is empty", "entry.empty_file")
    check_unique(entries, places)
    return entries


def read_file(path: Path) -> list[Entry]:
    return parse(Path(path).read_bytes(), Path(path).name)


def iter_jsonl(text: str, name: str) -> Iterable[tuple[str, Any]]:
    """(where, object) for every non-blank line; a line that isn't JSON stops with its number."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{name} line {number}"
        try:
            yield where, json.loads(line)
        except json.JSONDecodeError as exc:
            raise EntryError(where, f"not valid JSON ({exc.msg})", "entry.bad_json") from None


def _jsonl(text: str, name: str) -> tuple[list[Entry], list[str]]:
    entries, places = [], []
    for where, data in iter_jsonl(text, name):
        entries.append(Entry.from_dict(data, where))
        places.append(where)
    return entries, places


def _split_questions(cell: str) -> list[str]:
    return [q.strip() for q in re.split(r"\n|\s\|\s", cell) if q.strip()]


def _csv(text: str, name: str) -> tuple[list[Entry], list[str]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = {"id", "answer", "lang"} - set(header)
    if missing:
        raise EntryError(
            f"{name} row 1",
            f"missing columns: {', '.join(sorted(missing))}",
            "entry.missing_columns",
            columns=", ".join(sorted(missing)),
        )
    reader.fieldnames = header
    entries, places = [], []
    try:
        for row in reader:
            where = f"{name} row {reader.line_num}"
            if None in row:
                raise EntryError(where, "more cells than columns", "entry.extra_cells")
            if not any((v or "").strip() for v in row.values()):
                continue
            data = {k: from_spreadsheet(v) if isinstance(v, str) else v for k, v in row.items()}
            data["questions"] = _split_questions(data.get("questions") or "")
            entries.append(Entry.from_dict(data, where))
            places.append(where)
    except csv.Error as exc:
        raise EntryError(f"{name} row {reader.line_num}", f"broken CSV ({exc})", "entry.bad_csv") from None
    return entries, places


# A heading is parsed in steps, each a linear scan: one pattern with a lazy title followed by
# optional parts and spaces backtracked cubically ("# a" + 500 spaces + "x" took 32 s).
_HEADING_START = re.compile(r"^(#{1,3})[ \t]+(?=\S)")
_HEADING_ID = re.compile(r"\{#([^}\s]+)\}$")
MAX_LINE_CHARS = 20_000


def _heading(line: str) -> tuple[str, str | None] | None:
    """A heading line's title and, when it ends in ``{#id}``, the entry's id; None for other lines."""
    start = _HEADING_START.match(line)
    if start is None:
        return None
    rest = line[start.end() :].rstrip().rstrip("#").rstrip()  # "## Title ##" closes with #s
    found = _HEADING_ID.search(rest)
    title = rest[: found.start()].rstrip() if found else rest
    return (title, found.group(1) if found else None) if title else None


_QUESTION = re.compile(r"^\s*(?:Q|س)\s*[:：]\s*(.+)$", re.I)


# Persian and Arabic letters in Latin ones, for ids made from titles ("ساعت کاری" -> "saat-kari"):
# ids are Latin (entry.ID), and a readable one beats "entry-17".
_LATIN = str.maketrans(
    {
        "ا": "a",
        "آ": "a",
        "أ": "a",
        "إ": "e",
        "ب": "b",
        "پ": "p",
        "ت": "t",
        "ث": "s",
        "ج": "j",
        "چ": "ch",
        "ح": "h",
        "خ": "kh",
        "د": "d",
        "ذ": "z",
        "ر": "r",
        "ز": "z",
        "ژ": "zh",
        "س": "s",
        "ش": "sh",
        "ص": "s",
        "ض": "z",
        "ط": "t",
        "ظ": "z",
        "ع": "a",
        "غ": "gh",
        "ف": "f",
        "ق": "gh",
        "ک": "k",
        "ك": "k",
        "گ": "g",
        "ل": "l",
        "م": "m",
        "ن": "n",
        "و": "v",
        "ؤ": "v",
        "ه": "h",
        "ة": "h",
        "ی": "i",
        "ي": "i",
        "ئ": "i",
        "ى": "i",
        "ء": "",
        "\u200c": "-",
    }
)


def slug(text: str) -> str:
    """An id made from a title: Latin letters, digits and '-' only (entry.ID)."""
    text = ascii_digits(unicodedata.normalize("NFKC", text)).casefold().translate(_LATIN)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()  # é -> e; the rest goes
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return text[:80] or "entry"


def _markdown(text: str, name: str) -> tuple[list[Entry], list[str]]:
    lines = text.splitlines()
    file_lang = None
    if lines and re.match(r"^lang:\s*(fa|en)\s*$", lines[0].strip(), re.I):
        file_lang = lines[0].split(":", 1)[1].strip().lower()
        lines = lines[1:]
        offset = 2
    else:
        offset = 1
    blocks: list[tuple[int, tuple[str, str | None], list[str]]] = []
    for number, line in enumerate(lines, start=offset):
        if len(line) > MAX_LINE_CHARS:
            raise EntryError(
                f"{name} line {number}",
                f"a line longer than {MAX_LINE_CHARS} characters",
                "entry.long_line",
                n=MAX_LINE_CHARS,
            )
        heading = _heading(line)
        if heading:
            blocks.append((number, heading, []))
        elif blocks:
            blocks[-1][2].append(line)
        elif line.strip():
            raise EntryError(f"{name} line {number}", "text before the first heading", "entry.before_heading")
    entries: list[Entry] = []
    places: list[str] = []
    seen_slugs: dict[str, int] = {}
    for number, (title, given_id), body in blocks:
        where = f"{name} line {number}"
        title = title.strip()
        questions = []
        while body and (not body[0].strip() or _QUESTION.match(body[0])):
            line = body.pop(0)
            q = _QUESTION.match(line)
            if q:
                questions.append(q.group(1).strip())
        answer = "\n".join(body).strip()
        if not answer:
            raise EntryError(where, f"heading {title!r} has no answer under it", "entry.no_answer_under", heading=title)
        entry_id = given_id or slug(title)
        if not given_id and entry_id in seen_slugs:
            seen_slugs[entry_id] += 1
            entry_id = f"{entry_id}-{seen_slugs[entry_id]}"
        seen_slugs.setdefault(entry_id, 1)
        lang = file_lang or detect_language(f"{title} {answer}")
        entries.append(
            Entry.from_dict(
                {"id": entry_id, "title": title, "questions": questions, "answer": answer, "lang": lang}, where
            )
        )
        places.append(where)
    return entries, places


# -- export -------------------------------------------------------------------------------------

# A cell starting with one of these is a formula to Excel and LibreOffice (CSV injection): a
# customer's words reach the knowledge base through "save as entry", so they are quoted.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A CSV cell a spreadsheet shows as text: a leading ' before a formula character."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def from_spreadsheet(value: str) -> str:
    """The cell as the appliance wrote it, before ``spreadsheet_safe``: re-importing an export
    changes nothing."""
    if value.startswith("'") and value[1:].startswith(_FORMULA_START):
        return value[1:]
    return value


def export(entries: Iterable[Entry], fmt: str) -> str:
    entries = list(entries)
    if fmt == "jsonl":
        return "".join(json.dumps(e.to_dict(), ensure_ascii=False) + "\n" for e in entries)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        for e in entries:
            writer.writerow(
                {
                    k: spreadsheet_safe(v)
                    for k, v in {
                        "id": e.id,
                        "title": e.title,
                        "questions": "\n".join(e.questions),
                        "answer": e.answer,
                        "lang": e.lang,
                        "tags": ", ".join(e.tags),
                        "enabled": "true" if e.enabled else "false",
                    }.items()
                }
            )
        return out.getvalue()
    if fmt == "md":
        parts = []
        for e in entries:
            # Headings inside an answer would split it into two entries on re-import: indent them.
            answer = re.sub(r"^(#{1,3}\s)", r" \1", e.answer, flags=re.M)
            qs = "".join(f"Q: {q}\n" for q in e.questions)
            parts.append(f"## {e.title} {{#{e.id}}}\n{qs}\n{answer}\n")
        return "\n".join(parts)
    raise ValueError(f"unknown format {fmt!r}")
