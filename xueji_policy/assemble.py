"""The check stage's driver: the files read by ``rulefiles.py`` → a checked ``RuleSet``.

Per file: load (YAML with positions, ``load.py``) → shape (``shape.py``) → parse
(``lang/parse.py``) → check (``lang/check.py``; cites against the article text, ``cites.py``;
lets, actions, outcomes, approvals, dues); then the consistency constraints, the closures and
every plan (``plan.py``).  Every located error of every file is collected; if there is any,
``RuleSetError`` is raised and nothing is returned.  ``pipeline.load_ruleset`` calls this only
when the compiled-rule cache has no entry for the files' sha256.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from pathlib import Path

import jsonschema

from .cites import ArticleStructure, Cite, CiteSyntaxError, parse_cite
from .contract import approval_bodies, did_you_mean
from .contract import schema as file_schema  # the one reader of packaged schemas
from .errors import CheckError, CiteError, DuplicateError, Location, RuleError, RuleSetError, StructureError
from .lang.builtins import parse_monthday
from .lang.check import Scope, check_expr
from .lang.codegen import CodegenError
from .lang.types import BOOL, DATE, PARAM_TYPES, Type, action_sections, schema_to_type
from .load import Y, load_yaml_bytes
from .messages import TemplateError, is_template, placeholders
from .parsing import ParsedConditions, parse_let, parse_rule_files
from .plan import attach_closures, build_plans
from .rulefiles import CALENDAR_DIR, RULE_SUFFIXES, SCHEMA_SUFFIXES, RuleFiles, read_rule_files
from .ruleset import Article, Outcome, Parameter, Rule, RuleSet
from .shape import check_shape
from .workdays import WorkCalendar, default_calendar

# The file names of a rules directory (the layout is described in ruleset.py).
_ARTICLE_FILE = re.compile(r"^(\d+)\.ya?ml$")
_ANNEX_FILE = re.compile(r"^annex-(\d+)\.ya?ml$")
_SPECIAL_FILES = {"ruleset.yaml", "parameters.yaml", "definitions.yaml", "index.yaml", "properties.yaml"}


class Assembler:
    def __init__(self, root: Path, files: RuleFiles | None = None):
        self.root = root
        # Every byte the rule set is built from, read once (rulefiles.py); names are relative paths.
        self.src = files if files is not None else read_rule_files(root)
        self.schema_file: str | None = None  # the rules directory's own case schema, if any
        self.errors: list[RuleError] = []
        # What failed to load, so that later stages do not pile follow-on errors on it.
        self.failed_articles: set[int] = set()
        self.params_failed = False
        self.lets_failed = False
        self.parsed = ParsedConditions()  # the parse stage's result (load() fills it)

    def shown(self, p: Path) -> str:
        return self.src.shown(p.as_posix())

    def exists(self, p: Path) -> bool:
        return p.as_posix() in self.src.files

    def add(self, err: RuleError) -> None:
        self.errors.append(err)

    # -- whole set ------------------------------------------------------------
    def load(self) -> RuleSet:
        root = self.root
        if self.src.problems and not self.src.files:  # a missing or unreadable directory
            raise RuleSetError(self.src.problems)
        for problem in self.src.problems:  # a link out of it, an unreadable file …: reported with the rest
            self.add(problem)
            m = _ARTICLE_FILE.match(problem.loc.file.rsplit("/", 1)[-1]) if problem.loc else None
            if m:
                self.failed_articles.add(int(m.group(1)))
        files = [Path(n) for n in self.src.names(RULE_SUFFIXES)]
        calendar_files = [Path(n) for n in self.src.names(RULE_SUFFIXES, CALENDAR_DIR)]
        meta_path = Path("ruleset.yaml")

        meta = self._load_meta(meta_path)
        schema = self._case_schema(meta)
        case_type = schema_to_type(schema) if schema else None
        try:
            calendar = WorkCalendar(files={self.src.shown(n.as_posix()): self.src.files[n.as_posix()]
                                           for n in calendar_files}) if self.src.has_dir(CALENDAR_DIR) \
                else default_calendar(None)
        except RuleError as e:
            self.add(e)
            calendar = default_calendar(None)

        docs: dict[Path, Y] = {}
        for p in files:
            name = p.name
            if name in _SPECIAL_FILES or name == meta.get("case_consistency"):
                continue
            if not (_ARTICLE_FILE.match(name) or _ANNEX_FILE.match(name)):
                self.add(StructureError(f"无法识别的规则文件名 '{name}'（应为 <条号>.yaml 或 annex-<号>.yaml）",
                                        Location(self.shown(p), 1, 1), message_en=f"unrecognised rule file {name}"))
                continue
            y = self._yaml(p)
            if y is not None and self._shape(y, file_schema("rule-file.schema.json")):
                docs[p] = y
            elif (m := _ARTICLE_FILE.match(name)) is not None:
                self.failed_articles.add(int(m.group(1)))

        self.parsed = parse_rule_files(docs)  # parse stage: every condition → AST, before any check
        articles = self._articles(docs)  # check stage from here on: articles, parameters, rules, constraints
        params = self._params(Path("parameters.yaml"), articles)
        rules: list[Rule] = []
        global_lets = self._global_lets(Path("definitions.yaml"))
        if schema is not None and case_type is not None:
            rules = self._rules(docs, articles, params, schema, case_type, calendar, global_lets)
        consistency_src, consistency = None, None
        if schema is not None and case_type is not None:
            consistency_src, consistency = self._consistency(meta, schema, case_type, params, calendar)
        if self.errors:
            raise RuleSetError(self.errors)
        assert schema is not None and case_type is not None  # else an error was recorded above

        all_files = [meta_path] + [p for p in files if p != meta_path] + calendar_files
        eff: _dt.date = meta["effective_from"]
        rs = RuleSet(
            name=meta.get("name", root.name), version=str(meta.get("version", "0")),
            document=meta.get("document"), effective_from=eff, rules=rules, articles=articles,
            params=params, case_schema=schema, case_type=case_type, calendar=calendar,
            sha256=self.src.sha256, path=root, files=[self.shown(p) for p in all_files],
            consistency_src=consistency_src)
        rs._consistency = consistency
        attach_closures(rs)
        try:
            build_plans(rs)
        except (CodegenError, RecursionError, MemoryError) as e:  # pragma: no cover - the checker should prevent it
            first = rules[0] if rules else None
            raise RuleSetError([CheckError(f"规则无法编译为可执行代码：{e}", Location(first.file, first.line, 1)
                                           if first else Location(str(root), 1, 1),
                                           message_en=f"rules could not be compiled: {e}")]) from None
        return rs

    def _yaml(self, p: Path) -> Y | None:
        try:
            return load_yaml_bytes(self.src.files[p.as_posix()], self.shown(p))
        except RuleError as e:
            self.add(e)
            return None

    def _load_meta(self, path: Path) -> dict:
        if not self.exists(path):
            self.add(StructureError("缺少 ruleset.yaml（规则集名称、版本、生效日期）", Location(self.shown(path), 1, 1),
                                    message_en="missing ruleset.yaml"))
            return {"effective_from": _dt.date.min}
        y = self._yaml(path)
        if y is None:
            return {"effective_from": _dt.date.min}
        if not self._shape(y, file_schema("ruleset.schema.json")):
            return {"effective_from": _dt.date.min}
        meta = y.plain()
        meta["effective_from"] = _as_date(meta["effective_from"])
        meta["_y"] = y
        return meta

    def _case_schema(self, meta: dict) -> dict | None:
        rel = meta.get("case_schema")
        if not rel:
            return file_schema("case.schema.json")
        y: Y = meta["_y"]
        # Only a JSON file inside the rules directory, read with the rest (and so in the fingerprint).
        if not isinstance(rel, str) or "/" in rel or "\\" in rel or rel not in self.src.files \
                or not rel.endswith(SCHEMA_SUFFIXES):
            self.add(StructureError("案例格式文件须是规则目录中的 .json 文件（只写文件名）", y.key_loc("case_schema"),
                                    message_en="case_schema must name a .json file in the rules directory"))
            return None
        try:
            schema = json.loads(self.src.files[rel].decode("utf-8"))
            jsonschema.Draft202012Validator.check_schema(schema)
            schema_to_type(schema)
            self.schema_file = rel
            return schema
        except jsonschema.SchemaError as e:
            self.add(StructureError(f"案例格式文件不是有效的 JSON Schema：{rel}（{e.message[:200]}）",
                                    y.key_loc("case_schema"), message_en=f"case schema unusable: {e.message[:200]}"))
            return None
        except (ValueError, UnicodeDecodeError, RecursionError) as e:
            self.add(StructureError(f"案例格式文件无法使用：{rel}（{str(e)[:200]}）", y.key_loc("case_schema"),
                                    message_en=f"case schema unusable: {str(e)[:200]}"))
            return None

    def _consistency(self, meta: dict, schema: dict, case_type: Type, params: dict, calendar):
        """The cross-field constraints (consistency.py): the rule set's own file named by
        ``case_consistency``, else the packaged ones for the packaged case schema, else none.
        Returns (source kept on the RuleSet, compiled constraints); errors are collected."""
        from .consistency import PACKAGED_SHOWN, Consistency, compile_text, packaged_text

        rel = meta.get("case_consistency")
        if rel:
            # Read with the rest of the directory (rulefiles.py): inside it, and in the fingerprint.
            raw = self.src.files.get(rel) if isinstance(rel, str) and "/" not in rel else None
            try:
                text = raw.decode("utf-8-sig") if raw is not None else None
            except UnicodeDecodeError:
                text = None
            if text is None:
                self.add(StructureError(f"一致性约束文件须是规则目录中的 UTF-8 YAML 文件：{rel}",
                                        meta["_y"].key_loc("case_consistency"),
                                        message_en=f"the consistency file must be a UTF-8 YAML file in the rules "
                                                   f"directory: {rel}"))
                return None, None
            src: tuple[str, str] | None = (self.src.shown(rel), text)
        elif meta.get("case_schema"):
            return None, Consistency([])
        else:
            src = None
        shown, text = src if src is not None else (PACKAGED_SHOWN, packaged_text())
        param_types = {n: PARAM_TYPES[p.type] for n, p in params.items()}
        compiled, errors = compile_text(text, shown, case_type, param_types, calendar,
                                        sections=set(action_sections(schema).values()),
                                        params_unknown=self.params_failed)
        for err in errors:
            self.add(err)
        return src, compiled

    # -- shape ----------------------------------------------------------------
    def _shape(self, y: Y, schema: dict) -> bool:
        errs = check_shape(y, schema)
        for e in errs:
            self.add(e)
        return not errs

    # -- articles -------------------------------------------------------------
    def _articles(self, docs: dict[Path, Y]) -> dict[str, Article]:
        out: dict[str, Article] = {}
        for p, y in docs.items():
            d = y.value
            number = d["article"].value if "article" in d else None
            annex = d["annex"].value if "annex" in d else None
            m = _ARTICLE_FILE.match(p.name) or _ANNEX_FILE.match(p.name)
            assert m is not None  # only such names get this far
            expected = int(m.group(1))
            is_annex = p.name.startswith("annex-")
            got = annex if is_annex else number
            if got != expected or (is_annex and number is not None) or (not is_annex and annex is not None):
                key = "annex" if is_annex else "article"
                self.add(StructureError(f"文件名 '{p.name}' 与文件中的条号不符（应为 {key}: {expected}）",
                                        y.key_loc("article" if "article" in d else "annex"),
                                        message_en=f"file name {p.name} does not match its number"))
                if not is_annex:
                    self.failed_articles.add(expected)
                continue
            text = d["text"].value
            structure = ArticleStructure.parse(text, number) if number is not None else None
            art = Article(number=number, annex=annex, title=d["title"].value, text=text,
                          chapter=d["chapter"].value if "chapter" in d else None, file=self.shown(p),
                          structure=structure)
            out[art.key] = art
        return out

    # -- parameters -----------------------------------------------------------
    def _params(self, path: Path, articles: dict[str, Article]) -> dict[str, Parameter]:
        if not self.exists(path):
            return {}
        y = self._yaml(path)
        if y is None or not self._shape(y, file_schema("parameters.schema.json")):
            self.params_failed = True
            return {}
        out: dict[str, Parameter] = {}
        for name, py in y.value["parameters"].value.items():
            d = py.value
            ptype = d["type"].value
            cite = self._cite(d["cite"], articles, None, rule_id=f"params.{name}")
            entries = []
            for vy in d["values"].value:
                eff = _as_date(vy.value["effective_from"].value)
                raw = vy.value["value"]
                value = self._param_value(raw, ptype, name)
                if value is not _BAD:
                    source = vy.value["source"].value if "source" in vy.value else None
                    entries.append((eff, value, source))
            entries.sort(key=lambda t: t[0])
            values = [(eff, value) for eff, value, _ in entries]
            dates = [d_ for d_, _ in values]
            if len(set(dates)) != len(dates):
                self.add(StructureError(f"参数 {name} 有两个相同生效日期的取值", d["values"].loc,
                                        message_en=f"parameter {name} has two values with one effective date"))
            if cite is None:
                # Reported already (or its article's file is broken): the parameter still exists, so that
                # the rules naming it are checked, not reported as naming an unknown parameter.
                cite = _cite_or_blank(d["cite"].value)
            out[name] = Parameter(name=name, title=d["title"].value, type=ptype, cite=cite, values=values,
                                  unit=d["unit"].value if "unit" in d else None,
                                  note=d["note"].value if "note" in d else None, loc=py.loc,
                                  sources=[src for _, _, src in entries])
        return out

    def _param_value(self, raw: Y, ptype: str, name: str):
        v = raw.value
        if ptype == "string_list" and isinstance(v, list):  # the loader wraps each item with its position
            v = [x.value if isinstance(x, Y) else x for x in v]
        ok = {
            "int": lambda: isinstance(v, int) and not isinstance(v, bool),
            "number": lambda: isinstance(v, (int, float)) and not isinstance(v, bool),
            "bool": lambda: isinstance(v, bool),
            "string": lambda: isinstance(v, str),
            # a list of names (营口市的区、县级市); a tuple, so a stretch's parameter values stay immutable
            "string_list": lambda: isinstance(v, list) and len(v) <= 200 and all(isinstance(x, str) for x in v),
        }
        if ptype in ok:
            if not ok[ptype]():
                self.add(CheckError(f"参数 {name} 的取值应为{PARAM_TYPES[ptype].describe()}，实际为 {v!r}", raw.loc,
                                    message_en=f"parameter {name} must be {ptype}"))
                return _BAD
            if ptype in ("int", "number") and abs(v) > 10**12:
                self.add(CheckError(f"参数 {name} 的取值过大", raw.loc, message_en="value too large"))
                return _BAD
            return tuple(v) if ptype == "string_list" else v
        if ptype == "date":
            try:
                return _as_date(v)
            except ValueError:
                self.add(CheckError(f"参数 {name} 的取值不是有效日期：{v!r}", raw.loc,
                                    message_en=f"parameter {name}: not a date"))
                return _BAD
        if ptype == "monthday":
            try:
                return parse_monthday(v)
            except (ValueError, TypeError):
                self.add(CheckError(f"参数 {name} 的取值不是有效月日（如 10-31）：{v!r}", raw.loc,
                                    message_en=f"parameter {name}: not a month-day like 10-31"))
                return _BAD
        return _BAD

    # -- cites ----------------------------------------------------------------
    def _cite(self, cy: Y, articles: dict[str, Article], article: Article | None, rule_id: str | None) -> Cite | None:
        text = cy.value
        try:
            cite = parse_cite(text)
        except CiteSyntaxError as e:
            loc = cy.scalar_locator()(e.offset)
            self.add(CiteError(f"引用格式错误：{e.message_zh if hasattr(e, 'message_zh') else e}", loc,
                               rule_id=rule_id, message_en=f"malformed cite {text!r}"))
            return None
        if cite.is_annex:
            self.add(CiteError(f"附件请通过提及它的条文引用（如 第十三条第（三）项），而不是 {text}", cy.loc,
                               rule_id=rule_id, message_en="cite annexes through the article that names them"))
            return None
        if article is not None and cite.article != article.number:
            self.add(CiteError(f"规则位于{article.label}的文件中，却引用了{Cite(article=cite.article).display()}",
                               cy.loc, rule_id=rule_id,
                               message_en=f"a rule in article {article.number}'s file cites article {cite.article}"))
            return None
        target = article or articles.get(str(cite.article))
        if target is None and cite.article in self.failed_articles:
            return None  # that file's own error is already reported
        if target is None:
            self.add(CiteError(f"引用的{Cite(article=cite.article).display()}没有规则文件（rules/{cite.article}.yaml）",
                               cy.loc, rule_id=rule_id, message_en=f"cited article {cite.article} has no file"))
            return None
        if target.structure is None:  # an annex: cited through the article that names it (above)
            return None
        if not target.structure.has(cite):
            self.add(CiteError(f"引用不存在：{target.structure.explain_missing(cite)}", cy.loc, rule_id=rule_id,
                               message_en=f"cite {text!r} names no part of the article's text"))
            return None
        return target.structure.canonical(cite)

    # -- rules ----------------------------------------------------------------
    def _global_lets(self, path: Path) -> dict[str, Y]:
        if not self.exists(path):
            return {}
        y = self._yaml(path)
        if y is None or not self._shape(y, file_schema("definitions.schema.json")):
            self.lets_failed = True
            return {}
        return dict(y.value["let"].value)

    def _lets(self, file_lets: dict[str, Y], global_lets: dict[str, Y], case_type: Type, rid_hint: str) -> dict:
        """Parse the named conditions visible in one file (global ones, then the file's own)."""
        from .lang.check import FUNCTIONS, LetDef

        if not hasattr(self, "_global_letdefs"):
            self._global_letdefs = None
        out = {}
        if self._global_letdefs is not None:  # definitions.yaml: parsed once, shared by every file
            out.update(self._global_letdefs)
        for scope_name, lets in (("definitions", global_lets if self._global_letdefs is None else {}),
                                 ("file", file_lets)):
            for name, ly in lets.items():
                if scope_name == "file" and name in global_lets:
                    self.add(CheckError(f"命名条件 '{name}' 与 rules/definitions.yaml 中的重名", ly.loc,
                                        message_en=f"let '{name}' is already defined in definitions.yaml"))
                    continue
                if case_type.field(name) is not None or name == "params" or name in FUNCTIONS:
                    self.add(CheckError(f"命名条件 '{name}' 与字段、params 或函数重名", ly.loc,
                                        message_en=f"let '{name}' clashes with a field, params or a function"))
                    continue
                parsed = parse_let(name, ly)  # the parse stage's (parsing.py)
                if parsed.too_deep:
                    raise RecursionError  # as the parser itself raised it before the stages were split
                e = parsed.error
                if e is None:
                    out[name] = LetDef(name, parsed.ast, parsed.src)
                else:
                    # A shared let is parsed once per file that sees it: report it once.
                    if not any(str(x.loc) == str(e.loc) for x in self.errors):
                        self.add(e)
                    out[name] = LetDef(name, None, parsed.src, failed=True)
            if scope_name == "definitions" and self._global_letdefs is None:
                self._global_letdefs = dict(out)
        return out

    def _rules(self, docs, articles, params, schema, case_type, calendar, global_lets) -> list[Rule]:
        param_types = {n: PARAM_TYPES[p.type] for n, p in params.items()}
        actions = list(schema["properties"]["action"]["enum"])
        sections = action_sections(schema)
        outcome_values = set(file_schema("decision.schema.json")["properties"]["outcome"].get("enum", []))
        outcome_values.discard(None)
        approvals_enum = _approvals_enum()
        seen: dict[str, Location] = {}
        out: list[Rule] = []
        for p, y in docs.items():
            if "article" not in y.value:
                continue
            m = _ARTICLE_FILE.match(p.name)
            article = articles.get(m.group(1)) if m is not None else None
            if article is None or article.file != self.shown(p):
                continue  # the file's number did not match its name: already reported
            lets = self._lets(dict(y.value["let"].value) if "let" in y.value else {}, global_lets, case_type,
                              article.file)
            for ry in y.value["rules"].value:
                rule = self._rule(ry, article, param_types, actions, sections, case_type,
                                  outcome_values, approvals_enum, lets)
                rid_y = ry.value["id"]
                rid = rid_y.value
                if rid in seen:
                    self.add(DuplicateError(f"规则编号 '{rid}' 重复（首次出现在 {seen[rid]}）", rid_y.loc, rule_id=rid,
                                            message_en=f"duplicate rule id '{rid}' (first at {seen[rid]})"))
                    continue
                seen[rid] = rid_y.loc
                if rule is not None:
                    out.append(rule)
        return out

    def _rule(self, ry: Y, article: Article, param_types, actions, sections, case_type,
              outcome_values, approvals_enum, lets) -> Rule | None:
        d = ry.value
        rid = d["id"].value
        n_errors = len(self.errors)

        cite = self._cite(d["cite"], {}, article, rid)

        acts = []
        for ay in d["actions"].value:
            a = ay.value
            if a not in actions:
                hint = did_you_mean(str(a), actions)
                self.add(CheckError(f"未知操作 '{a}'", ay.loc, rule_id=rid, message_en=f"unknown action '{a}'",
                                    hint=f"是否应为 '{hint}'？" if hint else None))
            else:
                acts.append(a)

        approvals = []
        for ay in d.get("approvals", Y([], ry.node, ry.src)).value:
            if ay.value not in approvals_enum:
                hint = did_you_mean(str(ay.value), approvals_enum)
                self.add(CheckError(f"未知审批方 '{ay.value}'（可选：{'、'.join(approvals_enum)}）", ay.loc,
                                    rule_id=rid, message_en=f"unknown approval '{ay.value}'",
                                    hint=f"是否应为 '{hint}'？" if hint else None))
            else:
                approvals.append(ay.value)

        effect = d["effect"].value
        scope = Scope(case=case_type, params=param_types, sections=sections, actions=tuple(acts), lets=lets,
                      params_unknown=self.params_failed, names_unknown=self.lets_failed)

        when = self._expr(d["when"], scope, rid, BOOL, "条件")
        unless = self._expr(d["unless"], scope, rid, BOOL, "例外条件") if "unless" in d else None
        due = None
        if "due" in d:
            if effect != "obligation":
                self.add(StructureError("只有义务规则（effect: obligation）才能有期限 due", d["due"].loc, rule_id=rid,
                                        message_en="only obligations have a due date"))
            due = self._expr(d["due"], scope, rid, DATE, "期限")

        outcomes: list[Outcome] = []
        if "outcome" in d:
            if effect != "permit":
                self.add(StructureError("只有许可规则（effect: permit）才能给出结果 outcome", d["outcome"].loc,
                                        rule_id=rid, message_en="only permits carry an outcome"))
            oy = d["outcome"]
            entries = [(oy, None)] if isinstance(oy.value, str) else [
                (e.value["value"], e.value.get("when")) for e in oy.value]
            for vy, wy in entries:
                if vy.value not in outcome_values:
                    hint = did_you_mean(vy.value, sorted(outcome_values))
                    self.add(CheckError(f"未知结果 '{vy.value}'", vy.loc, rule_id=rid,
                                        message_en=f"unknown outcome '{vy.value}'",
                                        hint=f"是否应为 '{hint}'？" if hint else None))
                    continue
                w = self._expr(wy, scope, rid, BOOL, "结果条件") if wy is not None else None
                outcomes.append(Outcome(vy.value, w[2] if w else None, wy.value if wy else None,
                                        w[1] if w else None))

        for key in ("message", "message_unmet"):
            if key in d:
                self._template(d[key], param_types, rid)

        eff_from = _opt_date(d.get("effective_from"))
        eff_to = _opt_date(d.get("effective_to"))
        if eff_from and eff_to and eff_to <= eff_from:
            self.add(StructureError(f"失效日期 {eff_to} 应晚于生效日期 {eff_from}", d["effective_to"].loc, rule_id=rid,
                                    message_en="effective_to must be after effective_from"))

        terms: dict[str, str] = {}
        for name, ty in (d["terms"].value if "terms" in d else {}).items():
            if name in lets:
                terms[name] = ty.value
            else:  # a name for people must name a let the rule can use
                hint = did_you_mean(str(name), lets)
                self.add(CheckError(f"terms 中的 '{name}' 不是命名条件（let）", d["terms"].key_loc(name), rule_id=rid,
                                    message_en=f"terms: '{name}' is not a let", hint=f"是否应为 '{hint}'？" if hint else None))

        if len(self.errors) > n_errors or when is None or cite is None:
            return None
        if (unless is None and "unless" in d) or (due is None and "due" in d):
            return None

        def compiled(t):
            return None if t is None else t[2]

        assert article.number is not None  # rules live in article files, never in annexes
        rule = Rule(
            id=rid, article=article.number, cite=cite, actions=tuple(acts), effect=effect,
            message=d["message"].value, message_unmet=d["message_unmet"].value if "message_unmet" in d else None,
            when_src=when[0], when_ast=when[1], when=when[2],
            unless_src=unless[0] if unless else None, unless_ast=unless[1] if unless else None,
            unless=compiled(unless), outcomes=tuple(outcomes), approvals=tuple(approvals),
            due_src=due[0] if due else None, due_ast=due[1] if due else None, due=compiled(due),
            reading=d["reading"].value if "reading" in d else None, terms=terms,
            note=d["note"].value if "note" in d else None,
            effective_from=eff_from, effective_to=eff_to,
            reviewed_text_sha256=d["reviewed_text_sha256"].value if "reviewed_text_sha256" in d else None,
            file=ry.src.path, line=ry.loc.line)
        return rule

    def _template(self, y: Y, param_types: dict, rid: str) -> None:
        """A message's ``{param}`` placeholders: well formed, and each a parameter."""
        text = y.value
        if not isinstance(text, str) or not is_template(text):
            return
        locate = y.scalar_locator()
        try:
            names = placeholders(text)
        except TemplateError as e:
            self.add(CheckError(f"消息中的大括号有误：{e.message_zh}", locate(e.offset), rule_id=rid,
                                message_en=f"malformed message template: {e.message_en}"))
            return
        if self.params_failed:
            return  # parameters.yaml is broken: its own error is the one to fix
        for name, offset in names:
            if name not in param_types:
                hint = did_you_mean(name, param_types)
                self.add(CheckError(f"消息中的未知参数 '{{{name}}}'（参数见 rules/parameters.yaml）", locate(offset),
                                    rule_id=rid, message_en=f"unknown parameter {{{name}}} in a message",
                                    hint=f"是否应为 '{{{hint}}}'？" if hint else None))

    def _expr(self, y: Y | None, scope: Scope, rid: str, expect: str, what: str):
        """(source text, checked AST, None) or None after recording the error.  The text was
        parsed by the parse stage (parsing.py); its parse error is reported here, in file order."""
        if y is None:
            return None
        parsed = self.parsed.get(y, rid)
        if parsed.error is not None:
            self.add(parsed.error)
            return None
        if parsed.too_deep:
            self.add(CheckError(f"{what}嵌套过深，无法检查；请拆成命名条件（let）", y.loc, rule_id=rid,
                                message_en="condition nested too deeply"))
            return None
        from .lang.check import AlreadyReported

        ast = parsed.ast
        assert ast is not None
        try:
            check_expr(ast, scope, parsed.src, expect, what)
            fn = None  # closures are the compile stage's (plan.attach_closures), for the whole set at once
        except AlreadyReported:
            return None
        except RuleError as e:
            self.add(e)
            return None
        except RecursionError:
            self.add(CheckError(f"{what}嵌套过深，无法检查；请拆成命名条件（let）", y.loc, rule_id=rid,
                                message_en="condition nested too deeply"))
            return None
        return parsed.text, ast, fn


_BAD = object()


def _cite_or_blank(text) -> Cite:
    try:
        return parse_cite(str(text))
    except CiteSyntaxError:
        return Cite(article=1)  # any cite: the rule set has an error and is never returned

def _approvals_enum() -> list[str]:
    return list(approval_bodies()[0])

def _as_date(v) -> _dt.date:
    if isinstance(v, _dt.datetime):
        return v.date()
    if isinstance(v, _dt.date):
        return v
    return _dt.date.fromisoformat(str(v))



def _opt_date(y: Y | None) -> _dt.date | None:
    return None if y is None else _as_date(y.value)
