"""The shape docs/ARCHITECTURE.md describes, checked: the packages are layered (each imports only
from the layers below it and itself), no module imports another in a circle, and a kind of data
has one module that writes it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "appliance"
# Lowest first. A package (or a module at the top of appliance/) imports from its own package and
# from the layers below it, never from its own layer's others or from above.
LAYERS: list[set[str]] = [
    {"text", "locale"},  # reading words, and the catalogs' msgid tables: imported by all, importing none
    {"clock", "paths", "i18n", "child_process"},
    {"settings", "migrations"},
    {"db"},
    {"kb"},
    {"documents"},
    {"catalog", "orders"},  # the shop's products; the shop's orders (neither sees the other)
    {"llm"},
    {"answering"},  # the only package that sees the catalog, the documents and the model together
    {"conversations"},
    {"reports"},
    {"owner"},
    {"ops"},
    {"channels"},  # Telegram/Bale, the support mailbox, webhooks, the owner's phone
    {"web"},
    {"app"},
    {"cli"},
]
CONVERSATION_SQL = re.compile(r"\b(FROM|INTO|UPDATE|JOIN)\s+(conversations|messages|decisions|notes)\b", re.I)


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _imports(name: str, path: Path, known: set[str], *, lazy: bool = False) -> set[str]:
    """The package's own modules ``name`` imports at module level (with ``lazy``, inside functions
    too; never under TYPE_CHECKING)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        looked_in = (ast.Import, ast.ImportFrom, ast.If, ast.Try) + (
            (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef) if lazy else ()
        )
        for sub in ast.walk(node) if isinstance(node, looked_in) else []:
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


def _unit(module: str) -> str:
    """The package a module belongs to (``appliance.kb.store`` -> ``kb``), or the top-level
    module's own name."""
    return module.split(".")[1] if "." in module else module


def test_the_packages_are_layered() -> None:
    """Including imports inside functions: a lazy import is still a dependency."""
    modules = _modules()
    layer_of = {unit: i for i, layer in enumerate(LAYERS) for unit in layer}
    units = {_unit(m) for m in modules if m != "appliance"} - {"__main__"}
    assert units <= set(layer_of), f"not in a layer: {sorted(units - set(layer_of))}"
    wrong = []
    for name, path in modules.items():
        if name in ("appliance", "appliance.__main__"):
            continue
        mine = _unit(name)
        for used in _imports(name, path, set(modules), lazy=True):
            theirs = _unit(used)
            if used != "appliance" and theirs != mine and layer_of[theirs] >= layer_of[mine]:
                wrong.append(f"{name} imports {used}")
    assert not wrong, wrong


def test_no_more_than_twelve_modules_at_the_top() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 12, top


def test_only_conversations_store_holds_sql_about_conversations() -> None:
    # reports/analytics.py is the report over many conversations, read-only (see docs/ARCHITECTURE.md).
    allowed = {PACKAGE / "conversations" / "store.py", PACKAGE / "reports" / "analytics.py", PACKAGE / "migrations.py"}
    offenders = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if p not in allowed and CONVERSATION_SQL.search(p.read_text(encoding="utf-8"))
    ]
    assert not offenders, offenders


def test_only_the_kb_index_touches_the_index_tables() -> None:
    index_sql = re.compile(r"\b(kb_fts|kb_vectors|kb_passages)\b")
    allowed = {PACKAGE / "kb" / "index.py", PACKAGE / "migrations.py"}
    offenders = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if p not in allowed and index_sql.search(p.read_text(encoding="utf-8"))
    ]
    assert not offenders, offenders


def test_only_the_llm_worker_imports_llama_cpp() -> None:
    importers = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if re.search(r"^\s*(import llama_cpp|from llama_cpp\b)", p.read_text(encoding="utf-8"), re.M)
    ]
    assert importers == ["llm/worker.py"], importers


def test_only_db_writes_the_meta_table() -> None:
    # db.py's write_meta/bump_meta: the one place that writes meta (versions, presence, backups).
    meta_sql = re.compile(r"\b(INSERT\s+(OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE|DELETE\s+FROM)\s+meta\b", re.I)
    allowed = {PACKAGE / "db.py", PACKAGE / "migrations.py"}
    offenders = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if p not in allowed and meta_sql.search(p.read_text(encoding="utf-8"))
    ]
    assert not offenders, offenders


def test_only_saved_replies_holds_sql_about_saved_replies() -> None:
    saved_sql = re.compile(r"\b(FROM|INTO|UPDATE|JOIN|TABLE)\s+saved_replies\b", re.I)
    allowed = {PACKAGE / "conversations" / "saved_replies.py", PACKAGE / "migrations.py"}
    offenders = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if p not in allowed and saved_sql.search(p.read_text(encoding="utf-8"))
    ]
    assert not offenders, offenders
