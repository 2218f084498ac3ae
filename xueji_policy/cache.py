"""Compiled-rule cache: a loaded rule set as *data*, keyed by its files' sha256.

A cold ``xueji-policy evaluate`` should not re-parse and re-check unchanged rules.
After a full load the rule set is written as JSON — metadata, parameters, article texts
and every rule's checked AST with its types — under
``$XUEJI_POLICY_CACHE_DIR`` (default ``~/.cache/xueji-policy``), named by the sha256 of
the rule files, the package version and this format's version.  Loading from it
rebuilds the closures and generated code from the ASTs, exactly as a full load would.

The cache holds no code, only data, and is never trusted blindly: a file whose key or
digest does not match, or that fails to parse, is ignored and rebuilt.  Writes are
atomic (a temporary file renamed into place).  ``XUEJI_POLICY_CACHE=off`` disables it.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from . import __version__
from .cites import Cite
from .lang import ast as A
from .lang.types import Type

FORMAT = 1
_SUFFIXES = (".yaml", ".yml", ".json")


def enabled() -> bool:
    return os.environ.get("XUEJI_POLICY_CACHE", "on").lower() not in ("0", "off", "no", "false")


def cache_dir() -> Path:
    env = os.environ.get("XUEJI_POLICY_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "xueji-policy"


def fingerprint(root: Path) -> str:
    """sha256 over every rule, parameter, calendar and schema file under ``root`` (names and bytes)."""
    sha = hashlib.sha256()
    for p in sorted(q for q in root.rglob("*") if q.is_file() and q.suffix in _SUFFIXES):
        sha.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return sha.hexdigest()


def _path(sha: str) -> Path:
    return cache_dir() / f"rules-{sha[:32]}-v{__version__}-f{FORMAT}.json"


# --------------------------------------------------------------------------- encoding


def _type_to(t: Type | None):
    if t is None:
        return None
    d: dict[str, Any] = {"k": t.kind}
    if t.nullable:
        d["n"] = 1
    if t.values:
        d["v"] = list(t.values)
    if t.elem is not None:
        d["e"] = _type_to(t.elem)
    if t.fields:
        d["f"] = [[n, _type_to(ft)] for n, ft in t.fields]
    if t.name:
        d["m"] = t.name
    if t.has_default:
        d["d"] = t.default
    return d


def _type_from(d) -> Type | None:
    if d is None:
        return None
    return Type(d["k"], nullable=bool(d.get("n")), values=tuple(d.get("v", ())),
                elem=_type_from(d.get("e")), fields=tuple((n, _type_from(ft)) for n, ft in d.get("f", ())),
                name=d.get("m", ""), default=d.get("d"), has_default="d" in d)


_NODES = {cls.__name__: cls for cls in (A.Literal, A.ListLit, A.Path, A.Field, A.Not, A.Neg, A.BoolOp, A.Compare,
                                         A.Arith, A.In, A.IsNull, A.Call, A.Quant)}


def ast_to(e: A.Expr | None):
    if e is None:
        return None
    out: dict[str, Any] = {"t": type(e).__name__}
    for f in dataclasses.fields(e):
        v = getattr(e, f.name)
        if f.name == "type":
            out["type"] = _type_to(v)
        elif f.name == "expansion":
            out["expansion"] = ast_to(v)
        elif isinstance(v, A.Node):
            out[f.name] = ast_to(v)
        elif isinstance(v, tuple) and v and isinstance(v[0], A.Node):
            out[f.name] = [ast_to(x) for x in v]
        elif isinstance(v, tuple):
            out[f.name] = list(v)
        else:
            out[f.name] = v
    return out


def ast_from(d) -> A.Expr | None:
    if d is None:
        return None
    cls = _NODES[d["t"]]
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in d:
            continue
        v = d[f.name]
        if f.name == "type":
            kwargs["type"] = _type_from(v)
        elif f.name == "expansion":
            kwargs["expansion"] = ast_from(v)
        elif isinstance(v, dict) and "t" in v:
            kwargs[f.name] = ast_from(v)
        elif isinstance(v, list) and f.name in ("items", "operands", "args"):
            kwargs[f.name] = tuple(ast_from(x) for x in v)
        elif isinstance(v, list):
            kwargs[f.name] = tuple(v)
        else:
            kwargs[f.name] = v
    return cls(**kwargs)


def _cite_to(c: Cite) -> dict:
    return {"article": c.article, "paragraph": c.paragraph, "item": c.item, "subitem": c.subitem, "annex": c.annex}


def _date_to(d):
    return d.isoformat() if isinstance(d, _dt.date) else None


def _date_from(s):
    return _dt.date.fromisoformat(s) if s else None


def encode(rs) -> dict:
    """The payload of a cache file for a loaded rule set."""
    from .ruleset import packaged_schema

    return {
        "name": rs.name, "version": rs.version, "document": rs.document,
        "effective_from": rs.effective_from.isoformat(), "files": rs.files,
        "case_schema": None if rs.case_schema == packaged_schema("case.schema.json") else rs.case_schema,
        "consistency_src": list(rs.consistency_src) if rs.consistency_src else None,
        "articles": [{"number": a.number, "annex": a.annex, "title": a.title, "text": a.text,
                      "chapter": a.chapter, "file": a.file} for a in rs.articles.values()],
        "params": [{"name": p.name, "title": p.title, "type": p.type, "cite": _cite_to(p.cite),
                    "values": [[d.isoformat(), list(v) if isinstance(v, tuple) else v] for d, v in p.values],
                    "unit": p.unit, "note": p.note,
                    "loc": [p.loc.file, p.loc.line, p.loc.column] if p.loc else None} for p in rs.params.values()],
        "rules": [{
            "id": r.id, "article": r.article, "cite": _cite_to(r.cite), "actions": list(r.actions), "effect": r.effect,
            "message": r.message, "message_unmet": r.message_unmet,
            "when_src": r.when_src, "when_ast": ast_to(r.when_ast),
            "unless_src": r.unless_src, "unless_ast": ast_to(r.unless_ast),
            "outcomes": [{"value": o.value, "when_src": o.when_src, "when_ast": ast_to(o.when_ast)} for o in r.outcomes],
            "approvals": list(r.approvals), "due_src": r.due_src, "due_ast": ast_to(r.due_ast),
            "reading": r.reading, "note": r.note, "effective_from": _date_to(r.effective_from),
            "effective_to": _date_to(r.effective_to), "reviewed_text_sha256": r.reviewed_text_sha256,
            "file": r.file, "line": r.line,
        } for r in rs.rules],
    }


def decode(payload: dict, sha: str, root: Path):
    """A RuleSet from a cache payload (closures compiled afresh from the ASTs)."""
    from .cites import ArticleStructure
    from .errors import Location
    from .lang.compile import Compiler
    from .lang.types import schema_to_type
    from .ruleset import Article, Outcome, Parameter, Rule, RuleSet, packaged_schema
    from .workdays import default_calendar

    calendar = default_calendar(root if (root / "calendar").is_dir() else None)
    compiler = Compiler(calendar)
    schema = payload["case_schema"] or packaged_schema("case.schema.json")
    articles = {}
    for a in payload["articles"]:
        art = Article(number=a["number"], annex=a["annex"], title=a["title"], text=a["text"], chapter=a["chapter"],
                      file=a["file"],
                      structure=ArticleStructure.parse(a["text"], a["number"]) if a["number"] is not None else None)
        articles[art.key] = art
    params = {}
    for p in payload["params"]:
        values = [(_dt.date.fromisoformat(d), tuple(v) if isinstance(v, list) else
                   (_dt.date.fromisoformat(v) if p["type"] == "date" else v)) for d, v in p["values"]]
        params[p["name"]] = Parameter(name=p["name"], title=p["title"], type=p["type"], cite=Cite(**p["cite"]),
                                      values=values, unit=p["unit"], note=p["note"],
                                      loc=Location(*p["loc"]) if p["loc"] else None)
    rules = []
    for r in payload["rules"]:
        when, unless, due = ast_from(r["when_ast"]), ast_from(r["unless_ast"]), ast_from(r["due_ast"])
        outcomes = []
        for o in r["outcomes"]:
            w = ast_from(o["when_ast"])
            outcomes.append(Outcome(o["value"], compiler.compile(w) if w is not None else None, o["when_src"], w))
        rule = Rule(id=r["id"], article=r["article"], cite=Cite(**r["cite"]), actions=tuple(r["actions"]),
                    effect=r["effect"], message=r["message"], when_src=r["when_src"], when_ast=when,
                    when=compiler.compile(when), unless_src=r["unless_src"], unless_ast=unless,
                    unless=compiler.compile(unless) if unless is not None else None,
                    message_unmet=r["message_unmet"], outcomes=tuple(outcomes), approvals=tuple(r["approvals"]),
                    due_src=r["due_src"], due_ast=due, due=compiler.compile(due) if due is not None else None,
                    reading=r["reading"], note=r["note"], effective_from=_date_from(r["effective_from"]),
                    effective_to=_date_from(r["effective_to"]), reviewed_text_sha256=r["reviewed_text_sha256"],
                    file=r["file"], line=r["line"])
        rules.append(rule)
    return RuleSet(name=payload["name"], version=payload["version"], document=payload["document"],
                   effective_from=_dt.date.fromisoformat(payload["effective_from"]), rules=rules, articles=articles,
                   params=params, case_schema=schema, case_type=schema_to_type(schema), calendar=calendar,
                   sha256=sha, path=root, files=payload["files"],
                   consistency_src=tuple(payload["consistency_src"]) if payload.get("consistency_src") else None)


# --------------------------------------------------------------------------- files


def read(sha: str, root: Path):
    """The cached rule set for ``sha``, or None (missing, stale, corrupt: never an error)."""
    if not enabled():
        return None
    path = _path(sha)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        body = doc["payload"]
        if doc.get("key") != [sha, __version__, FORMAT]:
            return None
        if doc.get("digest") != hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest():
            return None
        return decode(body, sha, root)
    except Exception:  # a damaged or foreign file is rebuilt, never trusted
        return None


def write(rs) -> Path | None:
    """Store ``rs`` atomically; a failure to write only costs the next start its speed."""
    if not enabled():
        return None
    path = _path(rs.sha256)
    try:
        body = encode(rs)
        doc = {"key": [rs.sha256, __version__, FORMAT],
               "digest": hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest(),
               "payload": body}
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False)
        os.replace(tmp, path)
        return path
    except (OSError, TypeError, ValueError):
        return None
