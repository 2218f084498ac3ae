"""The house's shape (issue 12): no import cycle in the package — imports inside functions count."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "xueji_policy"


def _modules() -> dict[str, Path]:
    out = {}
    for p in PKG.rglob("*.py"):
        parts = list(p.relative_to(PKG.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = p
    return out


def import_graph() -> dict[str, set[str]]:
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):  # every import, at any depth
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module != "__future__":
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                targets = [f"{target}.{a.name}" if f"{target}.{a.name}" in mods else target for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            graph[name] |= {t for t in targets if t in mods and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def test_there_is_no_import_cycle_not_even_inside_functions():
    assert cycles(import_graph()) == []


def test_the_detector_sees_a_cycle_through_a_function_level_import():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_the_rule_set_model_imports_no_stage():
    graph = import_graph()
    stages = {"xueji_policy.assemble", "xueji_policy.pipeline", "xueji_policy.cache", "xueji_policy.shape",
              "xueji_policy.load", "xueji_policy.rulefiles", "xueji_policy.parsing", "xueji_policy.lang.parse",
              "xueji_policy.lang.check"}
    assert not graph["xueji_policy.ruleset"] & stages, graph["xueji_policy.ruleset"] & stages


def private_imports(mods: dict[str, Path] | None = None) -> list[str]:
    """Every use of another module's private name (``_name``): ``from .x import _name``, and
    ``x._name`` where ``x`` is a module of the package bound by an import.  Dunder names are
    not private; binding a public name to a private alias (``import cache as _cache``) is fine."""
    mods = _modules() if mods is None else mods
    out: list[str] = []

    def private(name: str) -> bool:
        return name.startswith("_") and not name.startswith("__")

    for name, path in sorted(mods.items()):
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bound: dict[str, str] = {}  # local name → module of the package
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module != "__future__":
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target not in mods and not target.startswith("xueji_policy"):
                    continue
                for a in node.names:
                    full = f"{target}.{a.name}"
                    if full in mods:
                        bound[a.asname or a.name] = full
                    elif private(a.name) and target != name:
                        out.append(f"{name}:{node.lineno} imports {a.name} from {target}")
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name in mods:
                        bound[a.asname or a.name] = a.name if a.asname else a.name.split(".")[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and bound.get(node.value.id, name) != name and private(node.attr):
                out.append(f"{name}:{node.lineno} uses {bound[node.value.id]}.{node.attr}")
    return out


def test_no_module_imports_a_private_name_of_another():
    assert private_imports() == []


def test_the_private_import_check_sees_both_forms(tmp_path):
    pkg = tmp_path / "xueji_policy"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "a.py").write_text("_x = 1\ny = 2\n", encoding="utf-8")
    (pkg / "sub" / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "sub" / "b.py").write_text(
        "from ..a import _x, y\nfrom .. import a as _a\n\n\ndef f():\n    return _a._x + _a.y\n", encoding="utf-8")
    mods = {"xueji_policy": pkg / "__init__.py", "xueji_policy.a": pkg / "a.py",
            "xueji_policy.sub": pkg / "sub" / "__init__.py", "xueji_policy.sub.b": pkg / "sub" / "b.py"}
    assert private_imports(mods) == ["xueji_policy.sub.b:1 imports _x from xueji_policy.a",
                                     "xueji_policy.sub.b:6 uses xueji_policy.a._x"]
