"""The shape docs/ARCHITECTURE.md describes, checked: no import cycle, the answering package knows
nothing of the web side, and conversations are written in one module only."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "appliance"
WEB_SIDE = {"appliance.app", "appliance.services", "appliance.chat", "appliance.conversations", "appliance.cli"}
CONVERSATION_SQL = re.compile(r"\b(FROM|INTO|UPDATE|JOIN)\s+(conversations|messages|decisions|notes)\b", re.I)


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's own modules ``name`` imports at module level (not inside functions)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for sub in ast.walk(node) if isinstance(node, (ast.Import, ast.ImportFrom, ast.If, ast.Try)) else []:
            if isinstance(sub, ast.ImportFrom):
                base = package
                for _ in range(sub.level - 1):
                    base = base.rsplit(".", 1)[0]
                target = (f"{base}.{sub.module}" if sub.module else base) if sub.level else sub.module or ""
                for alias in sub.names:
                    found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in known else target)
            elif isinstance(sub, ast.Import):
                found.update(alias.name for alias in sub.names)
    return {m for m in found if m in known and m != name}


def test_no_import_cycle() -> None:
    modules = _modules()
    graph = {name: _imports(name, path, set(modules)) for name, path in modules.items()}
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "open":
            cycle = trail[trail.index(name) :] + [name]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        state[name] = "open"
        for other in sorted(graph[name]):
            if other != name.rsplit(".", 1)[0]:  # a module may import its own package's __init__
                visit(other, [*trail, name])
        state[name] = "done"

    for name in sorted(graph):
        visit(name, [])


def test_the_answering_package_knows_nothing_of_the_web_side() -> None:
    modules = _modules()
    for name, path in modules.items():
        if name.startswith("appliance.answering"):
            used = _imports(name, path, set(modules))
            assert not {m for m in used if m in WEB_SIDE or m.startswith("appliance.routes")}, (name, used)


def test_only_conversations_py_holds_sql_about_conversations() -> None:
    # analytics.py is the report over many conversations, read-only (see docs/ARCHITECTURE.md).
    allowed = {PACKAGE / "conversations.py", PACKAGE / "analytics.py", PACKAGE / "migrations.py"}
    offenders = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if p not in allowed and CONVERSATION_SQL.search(p.read_text(encoding="utf-8"))
    ]
    assert not offenders, offenders


def test_only_kb_index_py_touches_the_index_tables() -> None:
    index_sql = re.compile(r"\b(kb_fts|kb_vectors|kb_passages)\b")
    allowed = {PACKAGE / "answering" / "kb_index.py", PACKAGE / "migrations.py"}
    offenders = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if p not in allowed and index_sql.search(p.read_text(encoding="utf-8"))
    ]
    assert not offenders, offenders
