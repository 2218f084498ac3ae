"""Parse stage: every condition text of the rule files → an AST (lang/parse.py, the Lark grammar).

Runs over the shaped rule files before anything is checked: each rule's ``when``, ``unless``,
``due`` and outcome ``when``, and the named conditions (``let``) of a file or of
``definitions.yaml``.  A text that does not parse gives its located ``ParseError``; the check
stage (assemble.py) reports it at the point where it reads that condition, so the errors of a
rule set keep their file order.  Nothing here knows the case schema, the parameters or the names
in scope: those are the check stage's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import RuleError
from .lang import ast as A
from .lang.parse import Source, parse_expr
from .load import Y


@dataclass
class Parsed:
    """One condition text: its AST, or the error that stopped its parse."""

    text: str
    src: Source
    ast: A.Expr | None = None
    error: RuleError | None = None
    too_deep: bool = False  # the parser itself ran out of stack: reported by the check stage


def parse_text(text: str, src: Source) -> Parsed:
    try:
        return Parsed(text, src, ast=parse_expr(text, src))
    except RuleError as e:
        return Parsed(text, src, error=e)
    except RecursionError:
        return Parsed(text, src, too_deep=True)


def parse_condition(y: Y, rule_id: str) -> Parsed:
    """A rule's condition as written in YAML (``when: true`` is read by YAML as a boolean)."""
    value = y.value
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    whole = y.loc
    src = Source(text, y.scalar_locator() if isinstance(value, str) else (lambda off: whole), rule_id)
    return parse_text(text, src)


def parse_let(name: str, y: Y) -> Parsed:
    return parse_text(y.value, Source(y.value, y.scalar_locator(), f"let {name}"))


class ParsedConditions:
    """Every rule condition of the rule files, parsed, found again by the YAML node it came from."""

    def __init__(self) -> None:
        self._by_node: dict[int, tuple[Y, Parsed]] = {}

    def add(self, y: Y, rule_id: str) -> None:
        self._by_node[id(y)] = (y, parse_condition(y, rule_id))  # the node is kept: its id stays its own

    def get(self, y: Y, rule_id: str) -> Parsed:
        got = self._by_node.get(id(y))
        return got[1] if got is not None and got[0] is y else parse_condition(y, rule_id)


def parse_rule_files(docs: dict[Path, Y]) -> ParsedConditions:
    """Parse every rule condition of the shaped article files."""
    out = ParsedConditions()
    for y in docs.values():
        if "article" not in y.value:
            continue
        for ry in y.value["rules"].value:
            d = ry.value
            rid = d["id"].value
            for key in ("when", "unless", "due"):
                if key in d:
                    out.add(d[key], rid)
            oy = d.get("outcome")
            if oy is not None and not isinstance(oy.value, str):
                for e in oy.value:
                    wy = e.value.get("when")
                    if wy is not None:
                        out.add(wy, rid)
    return out
