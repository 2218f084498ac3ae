"""Compiled-rule cache: a loaded rule set as *data*, so that a cold start skips YAML, shape and parse.

The cache is stored data, and stored data is not trusted (docs/security.md):

* it lives in a directory private to the user (``$XUEJI_POLICY_CACHE_DIR``, default
  ``~/.cache/xueji-policy``): created 0700, entries 0600; a directory or entry that is a link,
  owned by someone else or writable by group/others is refused (no cache is used);
* every entry carries an HMAC-SHA256 over its payload, keyed by a random per-user key kept 0600
  beside the entries: an entry edited without the key is ignored and rebuilt;
* an entry is rebuilt into rules only through strict validation: every AST node type, operator,
  quantifier, function name and root from a closed set, every case path resolved against the case
  schema's type and every parameter against the parameters — and the code generator refuses
  anything outside its closed sets on its own (lang/codegen.py);
* the key is the sha256 of exactly the bytes the rule set was read from (``rulefiles.py``), the
  package version, this format's version and a digest of the packaged schemas and grammar;
* old entries are pruned: the newest ``KEEP`` are kept.

Writes are atomic (a temporary file renamed into place).  ``XUEJI_POLICY_CACHE=off`` disables it.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import hmac
import json
import os
import re
import stat
import tempfile
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from .cites import ArticleStructure, Cite
from .contract import schema as packaged_schema
from .errors import Location
from .lang import ast as A
from .lang.builtins import BUILTINS
from .lang.compile import Compiler
from .lang.types import OBJECT, Type, schema_to_type
from .messages import TemplateError, placeholders
from .plan import attach_closures
from .rulefiles import CALENDAR_DIR, RULE_SUFFIXES, RuleFiles
from .ruleset import Article, Outcome, Parameter, Rule, RuleSet
from .version import __version__
from .workdays import WorkCalendar, default_calendar

FORMAT = 4  # 3: parameters carry their values' sources; 4: rules carry their terms (brief.py)
KEEP = 8  # entries kept (each rule-set edit makes a new one)
MAX_ENTRY_BYTES = 32 * 1024 * 1024
_KEY_BYTES = 32


def enabled() -> bool:
    return os.environ.get("XUEJI_POLICY_CACHE", "on").lower() not in ("0", "off", "no", "false")


def cache_dir() -> Path:
    env = os.environ.get("XUEJI_POLICY_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "xueji-policy"


@cache
def package_digest() -> str:
    """What of the package shapes a compiled rule set besides its version: schemas and grammar."""
    sha = hashlib.sha256()
    pkg = resources.files("xueji_policy")
    # The consistency constraints are compiled into the entry too: an edit to them must miss the cache.
    for rel in sorted(["schemas/case.schema.json", "schemas/decision.schema.json", "schemas/rule-file.schema.json",
                       "schemas/parameters.schema.json", "schemas/case.consistency.yaml", "lang/grammar.lark"]):
        try:
            sha.update(rel.encode() + b"\0" + pkg.joinpath(rel).read_bytes() + b"\0")
        except OSError:
            sha.update(rel.encode() + b"\0missing\0")
    return sha.hexdigest()


# --------------------------------------------------------------------------- the private directory


def _private_dir(create: bool) -> Path | None:
    """The cache directory if it is safe to use: ours, not a link, closed to group and others."""
    d = cache_dir()
    try:
        if create and not os.path.lexists(d):
            d.parent.mkdir(parents=True, exist_ok=True)
            os.mkdir(d, 0o700)
        st = os.lstat(d)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        return None
    return d


def _owned_regular(fd: int) -> bool:
    st = os.fstat(fd)
    return stat.S_ISREG(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o077


def _read_private(path: Path, limit: int) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        if not _owned_regular(fd) or os.fstat(fd).st_size > limit:
            return None
        with os.fdopen(os.dup(fd), "rb") as f:
            return f.read(limit + 1)
    except OSError:
        return None
    finally:
        os.close(fd)


def _key(d: Path, create: bool) -> bytes | None:
    """The per-user HMAC key; created atomically (never seen empty or half-written)."""
    path = d / "key"
    data = _read_private(path, _KEY_BYTES)
    if data is not None and len(data) == _KEY_BYTES:
        return data
    if data is not None or not create:
        return None  # a key of the wrong size was not made by us: use no cache
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".key-")
    try:
        os.write(fd, os.urandom(_KEY_BYTES))
        os.fsync(fd)
        os.close(fd)
        try:
            os.link(tmp, path)  # fails if another process won the race: then use theirs
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)
    data = _read_private(path, _KEY_BYTES)
    return data if data is not None and len(data) == _KEY_BYTES else None


def _entry_path(d: Path, sha: str) -> Path:
    return d / f"rules-{sha[:32]}-v{__version__}-f{FORMAT}-{package_digest()[:12]}.json"


def _mac(key: bytes, head: list, body: bytes) -> str:
    return hmac.new(key, json.dumps(head).encode() + b"\0" + body, hashlib.sha256).hexdigest()


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


class _Encoder:
    """AST → JSON, derived from the node dataclasses; shared let expansions stored once."""

    def __init__(self):
        self.lets: list[Any] = []
        self.let_index: dict[int, int] = {}
        self.keep: list[A.Expr] = []

    def ast(self, e: A.Expr | None):
        if e is None:
            return None
        out: dict[str, Any] = {"t": type(e).__name__}
        for f in dataclasses.fields(e):
            v = getattr(e, f.name)
            if f.name == "pos":
                continue
            if f.name == "type":
                out["type"] = _type_to(v)
            elif f.name == "expansion":
                out["expansion"] = None if v is None else {"ref": self.let(v)}
            elif isinstance(v, A.Node):
                out[f.name] = self.ast(v)  # type: ignore[arg-type]  # every Node subclass is an Expr
            elif isinstance(v, tuple) and v and isinstance(v[0], A.Node):
                out[f.name] = [self.ast(x) for x in v]
            elif isinstance(v, tuple):
                out[f.name] = list(v)
            else:
                out[f.name] = v
        return out

    def let(self, expansion: A.Expr) -> int:
        i = self.let_index.get(id(expansion))
        if i is None:
            body = self.ast(expansion)  # lets it uses come first: references only point back
            i = self.let_index[id(expansion)] = len(self.lets)
            self.lets.append(body)
            self.keep.append(expansion)
        return i


def _cite_to(c: Cite) -> dict:
    return {"article": c.article, "paragraph": c.paragraph, "item": c.item, "subitem": c.subitem, "annex": c.annex}


def _date_to(d):
    return d.isoformat() if isinstance(d, _dt.date) else None


def encode(rs: RuleSet, schema_file: str | None = None) -> dict:
    """The payload of a cache entry for a loaded rule set."""
    enc = _Encoder()
    rules = [{
        "id": r.id, "article": r.article, "cite": _cite_to(r.cite), "actions": list(r.actions), "effect": r.effect,
        "message": r.message, "message_unmet": r.message_unmet,
        "when_src": r.when_src, "when_ast": enc.ast(r.when_ast),
        "unless_src": r.unless_src, "unless_ast": enc.ast(r.unless_ast),
        "outcomes": [{"value": o.value, "when_src": o.when_src, "when_ast": enc.ast(o.when_ast)} for o in r.outcomes],
        "approvals": list(r.approvals), "due_src": r.due_src, "due_ast": enc.ast(r.due_ast),
        "reading": r.reading, "terms": dict(r.terms), "note": r.note, "effective_from": _date_to(r.effective_from),
        "effective_to": _date_to(r.effective_to), "reviewed_text_sha256": r.reviewed_text_sha256,
        "file": r.file, "line": r.line,
    } for r in rs.rules]
    return {
        "name": rs.name, "version": rs.version, "document": rs.document,
        "effective_from": rs.effective_from.isoformat(), "files": rs.files, "case_schema": schema_file,
        # The rule set's own consistency file by name: decoded from the directory's bytes, like the schema.
        "consistency_file": rs.consistency_src[0].split("/", 1)[-1] if rs.consistency_src else None,
        "articles": [{"number": a.number, "annex": a.annex, "title": a.title, "text": a.text,
                      "chapter": a.chapter, "file": a.file} for a in rs.articles.values()],
        "params": [{"name": p.name, "title": p.title, "type": p.type, "cite": _cite_to(p.cite),
                    "values": [[d.isoformat(), list(v) if isinstance(v, tuple) else
                                (v.isoformat() if isinstance(v, _dt.date) else v)] for d, v in p.values],
                    "unit": p.unit, "note": p.note, "sources": list(p.sources),
                    "loc": [p.loc.file, p.loc.line, p.loc.column] if p.loc else None} for p in rs.params.values()],
        "constraints": _constraints_to(rs._consistency, enc),
        "lets": enc.lets,
        "rules": rules,
    }


def _constraints_to(consistency: Any, enc: _Encoder) -> dict | None:
    """The compiled consistency constraints (their checked ASTs), so that a cold start that reads
    the cache needs neither the parser nor the shape checks to decide."""
    if consistency is None:
        return None
    return {"source": consistency.source, "constraints": [{
        "id": c.id, "src": c.contradiction_src, "ast": enc.ast(c.contradiction_ast), "message": c.message,
        "message_en": c.message_en, "reading": c.reading,
        "actions": sorted(c.actions) if c.actions is not None else None,
        "paths": [{"text": t.text, "head": t.head_var, "parts": [[n, last] for n, last in t.parts]} for t in c.paths],
        "each": [{"var": e.var, "path": list(e.path), "ast": enc.ast(e.ast)} for e in c.each],
        "file": c.file, "line": c.line} for c in consistency.constraints]}


# --------------------------------------------------------------------------- strict decoding


class Refused(ValueError):
    """A cache entry that is not exactly what this version writes: it is rebuilt, never used."""


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_TYPE_KINDS = frozenset({"int", "number", "string", "bool", "date", "null", "enum", "list", "object", "monthday",
                         "any"})
_OPS = {"BoolOp": frozenset({"and", "or"}), "Compare": frozenset({"==", "!=", "<", "<=", ">", ">="}),
        "Arith": frozenset({"+", "-"})}
_QUANTS = frozenset({"any", "all", "count"})
_ROOTS = frozenset({"case", "param", "var", "let"})
_SCALARS = (type(None), bool, int, float, str)
_EFFECTS = frozenset({"permit", "forbid", "obligation"})


def _need(cond: bool, what: str) -> None:
    if not cond:
        raise Refused(what)


def _json_value(v: Any, depth: int = 0) -> Any:
    _need(depth < 8, "value nested too deeply")
    if isinstance(v, list):
        return [_json_value(x, depth + 1) for x in v]
    if isinstance(v, dict):
        _need(all(isinstance(k, str) for k in v), "non-text key")
        return {k: _json_value(x, depth + 1) for k, x in v.items()}
    _need(isinstance(v, _SCALARS) and not (isinstance(v, int) and abs(v) > 10**15), "unexpected value")
    return v


def _type_from(d: Any, depth: int = 0) -> Type | None:
    if d is None:
        return None
    _need(isinstance(d, dict) and depth < 40 and d.get("k") in _TYPE_KINDS, "bad type")
    _need(set(d) <= {"k", "n", "v", "e", "f", "m", "d"}, "bad type key")
    fields = d.get("f", [])
    _need(isinstance(fields, list) and all(isinstance(x, list) and len(x) == 2 and isinstance(x[0], str)
                                           for x in fields), "bad type fields")
    values = d.get("v", [])
    _need(isinstance(values, list) and all(isinstance(x, _SCALARS) for x in values), "bad enum values")
    name = d.get("m", "")
    _need(isinstance(name, str), "bad type name")
    return Type(d["k"], nullable=bool(d.get("n")), values=tuple(values), elem=_type_from(d.get("e"), depth + 1),
                fields=tuple((n, _type_from(ft, depth + 1)) for n, ft in fields), name=name,
                default=_json_value(d.get("d")), has_default="d" in d)


class _Decoder:
    """JSON → AST, accepting only what the checker could have produced for this rule set."""

    _NODES = {cls.__name__: cls for cls in (A.Literal, A.ListLit, A.Path, A.Field, A.Not, A.Neg, A.BoolOp,
                                             A.Compare, A.Arith, A.In, A.IsNull, A.Call, A.Quant)}

    def __init__(self, case_type: Type, params: dict[str, Parameter]):
        self.case_type = case_type
        self.params = params
        self.lets: list[A.Expr] = []

    def ast(self, d: Any, depth: int = 0) -> A.Expr | None:
        if d is None:
            return None
        _need(isinstance(d, dict) and depth < 200, "bad node")
        cls = self._NODES.get(d.get("t"))
        if cls is None:
            raise Refused("unknown node type")
        names = {f.name for f in dataclasses.fields(cls)} - {"pos"}
        _need(set(d) - {"t"} <= names, "unknown node field")
        kw: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name == "pos" or f.name not in d:
                continue
            v = d[f.name]
            if f.name == "type":
                kw["type"] = _type_from(v)
            elif f.name == "expansion":
                if v is None:
                    kw["expansion"] = None
                else:
                    _need(isinstance(v, dict) and isinstance(v.get("ref"), int)
                          and 0 <= v["ref"] < len(self.lets), "bad let reference")
                    kw["expansion"] = self.lets[v["ref"]]  # shared, as the checker made it
            elif f.name in ("items", "operands", "args"):
                _need(isinstance(v, list) and len(v) <= 500, "bad children")
                kw[f.name] = tuple(self.ast(x, depth + 1) for x in v)
            elif f.name in ("obj", "operand", "left", "right", "iterable", "body"):
                kw[f.name] = self.ast(v, depth + 1)
                _need(kw[f.name] is not None, "missing child")
            elif f.name in ("parts",):
                _need(isinstance(v, list) and 0 < len(v) <= 12 and all(isinstance(p, str) and _IDENT.match(p)
                                                                       for p in v), "bad path")
                kw[f.name] = tuple(v)
            elif f.name in ("defaults",):
                _need(isinstance(v, list), "bad defaults")
                kw[f.name] = tuple(_json_value(x) for x in v)
            elif f.name in ("present",):
                _need(isinstance(v, list) and all(isinstance(x, bool) for x in v), "bad present flags")
                kw[f.name] = tuple(v)
            elif f.name == "default":
                kw[f.name] = _json_value(v)
            elif f.name == "value":
                _need(isinstance(v, _SCALARS), "bad literal")
                kw[f.name] = v
            elif f.name in ("negated",):
                _need(isinstance(v, bool), "bad flag")
                kw[f.name] = v
            else:  # op, name, kind, var, root
                _need(isinstance(v, str) or (f.name == "root" and v is None), f"bad {f.name}")
                kw[f.name] = v
        node = cls(**kw)
        self._closed_sets(node)
        return node

    def _closed_sets(self, e: A.Expr) -> None:
        kind = type(e).__name__
        if kind in _OPS:
            _need(e.op in _OPS[kind], "unknown operator")  # type: ignore[union-attr]
        elif isinstance(e, A.Call):
            _need(e.name in BUILTINS, "unknown function")
        elif isinstance(e, A.Quant):
            _need(e.kind in _QUANTS and bool(_IDENT.match(e.var)), "bad quantifier")
        elif isinstance(e, A.Field):
            _need(bool(_IDENT.match(e.name)), "bad field name")
        elif isinstance(e, A.Path):
            _need(e.root in _ROOTS, "unresolved path")
            if e.root == "param":
                _need(len(e.parts) == 2 and e.parts[0] == "params" and e.parts[1] in self.params, "unknown parameter")
            elif e.root == "case":
                t: Type | None = self.case_type
                for part in e.parts:  # every case path resolves against the schema, as the checker did
                    _need(t is not None and t.kind == OBJECT, "path through a non-object")
                    t = t.field(part) if t is not None else None
                    _need(t is not None, "unknown field")
            elif e.root == "let":
                _need(e.expansion is not None, "let without its expansion")

    def let_table(self, lets: Any) -> None:
        _need(isinstance(lets, list) and len(lets) <= 2000, "bad let table")
        for body in lets:
            node = self.ast(body)
            _need(node is not None, "empty let")
            self.lets.append(node)  # type: ignore[arg-type]


def _cite_from(d: Any) -> Cite:
    _need(isinstance(d, dict) and set(d) <= {"article", "paragraph", "item", "subitem", "annex"}, "bad cite")
    _need(all(v is None or (isinstance(v, int) and not isinstance(v, bool) and 0 < v < 1000) for v in d.values()),
          "bad cite part")
    return Cite(**d)


def _text(v: Any, limit: int = 100_000, optional: bool = True) -> Any:
    _need((optional and v is None) or (isinstance(v, str) and len(v) <= limit), "bad text")
    return v


def _template_ok(text: str, params: dict) -> bool:
    try:
        return all(name in params for name, _ in placeholders(text))
    except TemplateError:
        return False


def _sources(v: Any, n: int) -> list[str | None]:
    _need(isinstance(v, list) and len(v) == n, "bad parameter sources")
    return [_text(x, 300) for x in v]


def _date_from(s: Any) -> _dt.date | None:
    if s is None:
        return None
    _need(isinstance(s, str), "bad date")
    return _dt.date.fromisoformat(s)


def decode(payload: Any, files: RuleFiles) -> RuleSet:
    """A RuleSet from a cache payload (raises ``Refused`` or ValueError on anything unexpected)."""
    _need(isinstance(payload, dict), "bad payload")
    schema_file = payload.get("case_schema")
    if schema_file is None:
        schema = packaged_schema("case.schema.json")
    else:  # the schema comes from the rules directory's own bytes, never from the entry
        _need(isinstance(schema_file, str) and schema_file in files.files, "case schema not among the files")
        schema = json.loads(files.files[schema_file].decode("utf-8"))
    case_type = schema_to_type(schema)
    calendar_files = files.names(RULE_SUFFIXES, CALENDAR_DIR)
    calendar = WorkCalendar(files={files.shown(n): files.files[n] for n in calendar_files}) \
        if files.has_dir(CALENDAR_DIR) else default_calendar(None)

    articles = {}
    for a in payload["articles"]:
        number = a["number"]
        _need(number is None or (isinstance(number, int) and 0 < number < 1000), "bad article number")
        art = Article(number=number, annex=a["annex"], title=_text(a["title"], optional=False),
                      text=_text(a["text"], optional=False), chapter=_text(a["chapter"]),
                      file=_text(a["file"], optional=False),
                      structure=ArticleStructure.parse(a["text"], number) if number is not None else None)
        articles[art.key] = art
    params = {}
    for p in payload["params"]:
        _need(isinstance(p["name"], str) and bool(_IDENT.match(p["name"])), "bad parameter name")
        _need(p["type"] in ("int", "number", "date", "monthday", "string", "bool", "string_list"), "bad parameter type")
        values = []
        for d, v in p["values"]:
            if p["type"] == "date":
                v = _dt.date.fromisoformat(v)
            elif p["type"] == "monthday":
                _need(isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) for x in v), "bad month-day")
                v = tuple(v)
            elif p["type"] == "string_list":
                _need(isinstance(v, list) and all(isinstance(x, str) for x in v), "bad string list")
                v = tuple(v)
            else:
                _need(isinstance(v, _SCALARS), "bad parameter value")
            values.append((_dt.date.fromisoformat(d), v))
        loc = p["loc"]
        params[p["name"]] = Parameter(name=p["name"], title=_text(p["title"], optional=False), type=p["type"],
                                      cite=_cite_from(p["cite"]), values=values, unit=_text(p["unit"]),
                                      note=_text(p["note"]), sources=_sources(p.get("sources"), len(values)),
                                      loc=Location(str(loc[0]), int(loc[1]), int(loc[2])) if loc else None)
    dec = _Decoder(case_type, params)
    dec.let_table(payload["lets"])
    actions = set(schema["properties"]["action"]["enum"])
    rules = []
    for r in payload["rules"]:
        _need(r["effect"] in _EFFECTS, "bad effect")
        _need(isinstance(r["actions"], list) and set(r["actions"]) <= actions, "unknown action")
        _need(isinstance(r["terms"], dict), "bad terms")
        when = dec.ast(r["when_ast"])
        _need(when is not None, "rule without a condition")
        for text in (r["message"], r["message_unmet"]):  # placeholders name this set's parameters
            _need(text is None or (isinstance(text, str) and _template_ok(text, params)), "bad message template")
        outcomes = tuple(Outcome(_text(o["value"], 100, optional=False), None, _text(o["when_src"]),
                                 dec.ast(o["when_ast"])) for o in r["outcomes"])
        rules.append(Rule(
            id=_text(r["id"], 200, optional=False), article=r["article"], cite=_cite_from(r["cite"]),
            actions=tuple(r["actions"]), effect=r["effect"], message=_text(r["message"], optional=False),
            when_src=_text(r["when_src"], optional=False), when_ast=when,  # type: ignore[arg-type]
            when=None,  # type: ignore[arg-type]  # closures are built on demand (see Rule.when)
            unless_src=_text(r["unless_src"]), unless_ast=dec.ast(r["unless_ast"]),
            message_unmet=_text(r["message_unmet"]), outcomes=outcomes,
            approvals=tuple(_text(a, 100, optional=False) for a in r["approvals"]),
            due_src=_text(r["due_src"]), due_ast=dec.ast(r["due_ast"]),
            reading=_text(r["reading"]), note=_text(r["note"]), effective_from=_date_from(r["effective_from"]),
            terms={_text(k, 100, optional=False): _text(v, 100, optional=False) for k, v in r["terms"].items()},
            effective_to=_date_from(r["effective_to"]), reviewed_text_sha256=_text(r["reviewed_text_sha256"], 64),
            file=_text(r["file"], 500, optional=False), line=int(r["line"])))
    rs = RuleSet(name=_text(payload["name"], optional=False), version=str(payload["version"]),
                 document=_text(payload["document"]), effective_from=_dt.date.fromisoformat(payload["effective_from"]),
                 rules=rules, articles=articles, params=params, case_schema=schema, case_type=case_type,
                 calendar=calendar, sha256=files.sha256, path=files.root,
                 files=[_text(f, 500, optional=False) for f in payload["files"]],
                 consistency_src=_consistency_src(payload.get("consistency_file"), files))
    if payload.get("constraints") is not None:
        rs._consistency = _constraints_from(payload["constraints"], dec, calendar)
    else:
        rs.consistency_factory = _compile_consistency  # compiled from their source on first use
    attach_closures(rs)
    return rs


def _constraints_from(d: Any, dec: _Decoder, calendar: WorkCalendar) -> Any:
    """Constraints rebuilt through the same strict decoder as the rules' conditions."""
    from .consistency import Consistency, Constraint, Each, PathTemplate

    _need(isinstance(d, dict) and isinstance(d.get("constraints"), list), "bad constraints")
    compiler = Compiler(calendar)
    out = []
    for c in d["constraints"]:
        ast = dec.ast(c["ast"])
        _need(ast is not None, "constraint without a condition")
        eaches = []
        for e in c["each"]:
            _need(isinstance(e["var"], str) and bool(_IDENT.match(e["var"])), "bad each variable")
            east = dec.ast(e["ast"])
            _need(east is not None, "bad each list")
            eaches.append(Each(e["var"], tuple(_text(x, 60, optional=False) for x in e["path"]),
                               compiler.compile(east), east))  # type: ignore[arg-type]
        paths = tuple(PathTemplate(_text(t["text"], 200, optional=False), _text(t["head"], 60),
                                   tuple((_text(n, 60, optional=False), bool(last)) for n, last in t["parts"]))
                      for t in c["paths"])
        actions = c["actions"]
        _need(actions is None or (isinstance(actions, list) and all(isinstance(a, str) for a in actions)), "bad actions")
        out.append(Constraint(
            id=_text(c["id"], 80, optional=False), paths=paths, contradiction_src=_text(c["src"], optional=False),
            contradiction_ast=ast, contradiction=compiler.compile(ast),  # type: ignore[arg-type]
            message=_text(c["message"], 500, optional=False), message_en=_text(c["message_en"], 500, optional=False),
            reading=_text(c["reading"], 4000, optional=False),
            actions=frozenset(actions) if actions is not None else None, each=tuple(eaches),
            file=_text(c["file"], 500, optional=False), line=int(c["line"])))
    return Consistency(out, _text(d.get("source"), 500) or "", calendar)


def _compile_consistency(rs: RuleSet) -> Any:
    """The constraints of a rule set rebuilt from the cache: from their source, through the same
    stages as at load (the packaged file for the packaged schema, the set's own file, or none)."""
    # Imported here, on the first decision: a cold start that reads the cache needs neither the
    # YAML shape checks nor the parser until then (no cycle: consistency imports nothing of this module).
    from .consistency import Consistency, load_for

    if rs.consistency_src is None and rs.case_schema != packaged_schema("case.schema.json"):
        return Consistency([])
    return load_for(rs.consistency_src, rs.case_type, rs.params, rs.calendar, set(rs.sections.values()))


def _consistency_src(name: Any, files: RuleFiles) -> tuple[str, str] | None:
    if name is None:
        return None
    _need(isinstance(name, str) and name in files.files, "consistency file not among the files")
    return files.shown(name), files.files[name].decode("utf-8-sig")


# --------------------------------------------------------------------------- files


def _store(create: bool) -> tuple[Path, bytes] | None:
    """The private directory and its key, or None: the cache is off, foreign or unusable."""
    if not enabled():
        return None
    d = _private_dir(create=create)
    key = _key(d, create=create) if d is not None else None
    return (d, key) if d is not None and key is not None else None


def read(files: RuleFiles) -> RuleSet | None:
    """The cached rule set for these files, or None (missing, stale, corrupt, foreign: never an error)."""
    store = _store(create=False)
    if store is None:
        return None
    d, key = store
    raw = _read_private(_entry_path(d, files.sha256), MAX_ENTRY_BYTES)
    if raw is None:
        return None
    try:
        doc = json.loads(raw)
        head = [files.sha256, __version__, FORMAT, package_digest()]
        if not isinstance(doc, dict) or doc.get("key") != head or not isinstance(doc.get("body"), str):
            return None
        body = doc["body"].encode("utf-8")
        if not hmac.compare_digest(str(doc.get("mac", "")), _mac(key, head, body)):
            return None
        return decode(json.loads(body), files)
    except (Refused, ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError):
        return None  # rebuilt by a full load, never trusted


def write(rs: RuleSet, files: RuleFiles, schema_file: str | None = None) -> Path | None:
    """Store ``rs`` atomically; a failure to write only costs the next start its speed."""
    store = _store(create=True)
    if store is None:
        return None
    d, key = store
    path = _entry_path(d, files.sha256)
    try:
        body = json.dumps(encode(rs, schema_file), ensure_ascii=False, sort_keys=True)
        head = [files.sha256, __version__, FORMAT, package_digest()]
        doc = {"key": head, "mac": _mac(key, head, body.encode("utf-8")), "body": body}
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=".json")  # created 0600
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False)
        os.replace(tmp, path)
        prune(d)
        return path
    except (OSError, TypeError, ValueError, RecursionError):
        return None


def prune(d: Path | None = None, keep: int = KEEP) -> None:
    """Keep the newest ``keep`` entries (every edit of a rule set makes a new one)."""
    d = d or _private_dir(create=False)
    if d is None:
        return
    entries = []
    for p in d.glob("rules-*.json"):
        try:
            entries.append((p.lstat().st_mtime_ns, p))
        except OSError:
            continue
    for _, p in sorted(entries, reverse=True)[keep:]:
        try:
            p.unlink()
        except OSError:
            pass
