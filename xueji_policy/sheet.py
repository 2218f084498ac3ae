"""Spreadsheets: a template sheet for one action, and a batch read from (and written back to) a sheet.

A sheet (``.xlsx``, or ``.csv`` with the same layout) has two header rows and one case per row:

* row 1: the Chinese title of each column (the case schema's ``title``; staff read this row);
* row 2: the dotted JSON path of each column (``transfer.to_school.enrollment``; the program reads
  this row, so columns may be reordered, and a column with an empty row 2 is a note column that
  is carried through untouched).

Cells (rows 3…):

* an empty cell: the fact is not stated (the key is absent from the case); a row with nothing but
  its action is blank (a template comes with the action filled in down its rows);
* ``无`` or ``null``: explicitly null, where the schema allows null (``prior_outcome``, ``end`` …);
  for a list, the empty list;
* booleans ``是`` / ``否`` (also ``true`` / ``false``, and Excel's TRUE / FALSE);
* enums by their Chinese label (the schema's ``x-labels``) or by their code;
* dates as Excel dates or ISO text ``YYYY-MM-DD``;
* a list of values: one cell, the values separated by ``;`` (or ``；``);
* a list of objects (``student.suspensions``, ``graduation.proficiency_exams``): one column per
  field of an item, path ``student.suspensions[].start``, each cell the items' values separated by
  ``;`` in item order — item *i* is made of the *i*-th value of every such column (an empty value
  between separators: that field is absent from that item; ``无``: that item's null); and a column
  for the list itself (path ``student.suspensions``) where ``无`` states that there are none (the
  empty list) — all its columns empty: the list is not stated;
* a nullable object (``registration.leave``): a column for the object itself, ``无`` stating it is
  null, beside the columns of its fields.

Which columns a template has for an action is derived, never listed by hand: the schema's
top-level scalar fields, the required fields (of the case, of the action's section and of every
object in use), and every field the action's rules — and the consistency constraints that apply to
it — read (a list or object read whole brings all its fields).  ``template_columns`` computes it.

Reading is bounded: the file's size, the zip's entries and their declared unpacked size (an xlsx is
a zip: a zip bomb is refused before anything is unpacked, and the reader never unpacks more than
declared), the number of rows and columns, and each cell's length.  A bad row gets its error in its
own row; only a sheet that cannot be read at all (not a sheet, unknown column paths, too big) is an
error of the whole batch.

Written back, each row keeps its input cells — ID numbers masked (第三十二条) — followed by the
decision, outcome, reasons, basis, the facts still needed, obligations with their due dates,
approvals and the row's error.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .contract import (
    approval_bodies,
    decision_labels,
    did_you_mean,
    enum_labels,
    json_path,
    outcome_labels,
    parse_day,
    personal_data_paths_of,
)
from .errors import CaseError, CaseProblem, XuejiError
from .lang import ast as A
from .privacy import mask_id, mask_ids_in_text

# --------------------------------------------------------------------------- bounds

MAX_FILE_BYTES = 20 << 20  # the sheet file itself
MAX_UNZIPPED_BYTES = 100 << 20  # an xlsx's parts together, as declared by the zip (checked before reading)
MAX_ZIP_ENTRIES = 2000
MAX_ROWS = 20000  # data rows (after the two header rows)
MAX_COLUMNS = 512
MAX_CELL_CHARS = 4000
EXCEL_CELL_CHARS = 32767  # Excel's own limit on a cell's text
TEMPLATE_ROWS = 500  # rows of a template that carry the drop-downs and the date format

NULL_WORDS = frozenset({"无", "null", "NULL", "Null"})
TRUE_WORDS = frozenset({"是", "true", "TRUE", "True"})
FALSE_WORDS = frozenset({"否", "false", "FALSE", "False"})
_SPLIT = re.compile(r"[;；]")
_ITEM = "[]"  # the step of a list of objects' item in a column path
NONE_KIND = "none"  # the column of a nullable object or a list of objects: 无 says there is none
UNDETERMINED_LABEL = "尚不能决定"  # contract v2's third decision, until the decision schema labels it

SHEET_SUFFIXES = (".xlsx", ".csv")


class SheetError(XuejiError):
    """A sheet that cannot be read as a whole (not a sheet, bad header rows, over a bound)."""

    code = "bad_sheet"


# --------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class Column:
    """One leaf field of the case schema as a sheet column."""

    parts: tuple[str, ...]  # ("student", "suspensions", "[]", "start") for a list of objects
    title: str
    kind: str  # "string" | "integer" | "number" | "boolean" | "date" | "enum" | NONE_KIND
    many: bool = False  # ;-separated values (a list, or a field of a list of objects)
    nullable: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)  # enum code → Chinese label
    required: bool = False  # required at every step (of the case, within its section)

    @property
    def path(self) -> str:
        return ".".join(self.parts).replace("." + _ITEM, _ITEM)

    @property
    def read_parts(self) -> tuple[str, ...]:
        """The path as the rules name it (no item step)."""
        return tuple(p for p in self.parts if p != _ITEM)

    @property
    def item_list(self) -> tuple[str, ...] | None:
        """For a field of a list of objects: the list's path."""
        return self.parts[:self.parts.index(_ITEM)] if _ITEM in self.parts else None


def _deref(node: dict, root: dict) -> dict:
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
        return node
    target = dict(root.get("$defs", {}).get(ref[len("#/$defs/"):], {}))
    for k, v in node.items():  # sibling keywords beside $ref (title, description, default) win
        if k != "$ref":
            target[k] = v
    return target


def _unnull(node: dict, root: dict) -> tuple[dict, bool]:
    """The node without its ``X or null`` wrapper, and whether null is allowed."""
    node = _deref(node, root)
    nullable = False
    for key in ("anyOf", "oneOf"):
        if key in node:
            branches = [_deref(b, root) for b in node[key]]
            rest = [b for b in branches if b.get("type") != "null"]
            nullable = len(rest) < len(branches)
            if len(rest) == 1:
                outer = {k: v for k, v in node.items() if k != key}
                node = {**rest[0], **outer}
    types = node.get("type")
    if isinstance(types, list):
        nullable = nullable or "null" in types
    if None in (node.get("enum") or ()):
        nullable = True
    return node, nullable


def _base_type(node: dict) -> str | None:
    types = node.get("type")
    if isinstance(types, list):
        types = next((t for t in types if t != "null"), None)
    return types


_TITLE_CUT = re.compile(r"[：:；;（(，,。]")


def field_title(node: dict, name: str) -> str:
    """The schema's ``title``; without one, the description's first words, else the field name."""
    title = node.get("title")
    if isinstance(title, str) and title.strip():
        return title.strip()
    desc = node.get("description")
    if isinstance(desc, str) and desc.strip():
        head = _TITLE_CUT.split(desc.strip(), 1)[0].strip()
        if head:
            return head
    return name


def _kind(node: dict) -> str:
    if "enum" in node or "const" in node:
        return "enum"
    base = _base_type(node)
    if base == "string" and node.get("format") == "date":
        return "date"
    return {"boolean": "boolean", "integer": "integer", "number": "number"}.get(base or "", "string")


def _enum_node_labels(node: dict, parts: tuple[str, ...], schema: dict) -> dict[str, str]:
    if parts == ("action",):  # the actions are titled once, in x-action-titles
        titles = schema.get("x-action-titles", {})
        return {a: titles.get(a, a) for a in node.get("enum", ())}
    if "const" in node:
        return {node["const"]: str(node["const"])}
    return dict(enum_labels(node))


def all_columns(schema: dict) -> list[Column]:
    """Every leaf field of the case schema as a column, in the schema's order.

    Titles: each field's title, prefixed by those of the objects between it and its section
    (``转入学校·在校学生人数``)."""
    out: list[Column] = []

    def leaf(node: dict, parts: tuple[str, ...], title: str, nullable: bool, many: bool, required: bool) -> None:
        kind = _kind(node)
        labels = _enum_node_labels(node, parts, schema) if kind == "enum" else {}
        out.append(Column(parts, title, kind, many, nullable, labels, required))

    def walk(node: dict, parts: tuple[str, ...], titles: tuple[str, ...], required: bool, depth: int) -> None:
        if depth > 16:
            return
        node, nullable = _unnull(node, schema)
        title = "·".join(titles[1:] or titles)
        base = _base_type(node)
        if base == "object" and "properties" in node:
            if nullable and len(parts) > 1:  # 无 = the object is null (stated: there is none)
                out.append(Column(parts, title, NONE_KIND, False, True, {}, False))
            req = set(node.get("required", ()))
            for name, sub in node["properties"].items():
                sub_node, _ = _unnull(sub, schema)
                walk(sub, parts + (name,), titles + (field_title(sub_node, name),), required and name in req,
                     depth + 1)
            return
        if base == "array" and isinstance(node.get("items"), dict):
            item, _ = _unnull(node["items"], schema)
            if _base_type(item) == "object" and "properties" in item:
                out.append(Column(parts, title, NONE_KIND, True, True, {}, False))  # 无 = no items (many: a list)
                for name, sub in item["properties"].items():
                    sub_node, sub_null = _unnull(sub, schema)
                    if _base_type(sub_node) in ("object", "array"):
                        continue  # a list inside a list item: beyond what one cell can say
                    leaf(sub_node, parts + (_ITEM, name), "·".join(titles[1:] + (field_title(sub_node, name),)),
                         sub_null, True, False)
                return
            leaf(item, parts, title, nullable, True, required)
            return
        leaf(node, parts, title, nullable, False, required)

    sections = set(schema.get("x-action-sections", {}).values())
    req = set(schema.get("required", ()))
    for name, sub in schema.get("properties", {}).items():
        sub_node, _ = _unnull(sub, schema)
        # A section is required for its actions (the schema's if/then), so within its own sheet.
        walk(sub, (name,), (field_title(sub_node, name),), name in req or name in sections, 1)
    return out


def _case_paths(exprs: Iterable[A.Expr]) -> set[tuple[str, ...]]:
    """The case paths some expressions read (named conditions expanded)."""
    out: set[tuple[str, ...]] = set()
    seen: set[int] = set()
    todo = list(exprs)
    while todo:
        e = todo.pop()
        for node in A.walk(e):
            if isinstance(node, A.Path):
                if node.root == "case":
                    out.add(node.parts)
                elif node.root == "let" and node.expansion is not None and id(node.expansion) not in seen:
                    seen.add(id(node.expansion))
                    todo.append(node.expansion)
    return out


def paths_read(rs, action: str) -> set[tuple[str, ...]]:
    """Every case path the rules of ``action`` (on any date) and its consistency constraints read."""
    exprs: list[A.Expr] = []
    for r in rs.rules:
        if action not in r.actions:
            continue
        exprs += [e for e in (r.when_ast, r.unless_ast, r.due_ast) if e is not None]
        exprs += [o.when_ast for o in r.outcomes if o.when_ast is not None]
    consistency = rs.consistency
    if consistency is not None:
        for c in consistency.for_action(action):
            exprs.append(c.contradiction_ast)
            exprs += [e.ast for e in c.each]
    return _case_paths(exprs)


def template_columns(rs, action: str) -> list[Column]:
    """The columns a sheet for ``action`` needs (see the module's docstring), in the schema's order."""
    schema = rs.case_schema
    sections = schema.get("x-action-sections", {})
    if action not in sections:
        raise unknown_action(action, schema)
    own = sections[action]
    others = set(sections.values()) - {own}
    cols = [c for c in all_columns(schema) if c.parts[0] not in others]
    read = paths_read(rs, action)

    def is_read(c: Column) -> bool:
        p = c.read_parts
        return any(p[:len(r)] == r for r in read)

    # Objects in use: the ancestors of every field read; a required field of an object in use is needed.
    in_use = {()} | {c.read_parts[:i] for c in cols if is_read(c) for i in range(1, len(c.read_parts))}
    in_use.add((own,))
    top_scalars = {c.parts for c in cols if len(c.parts) == 1}

    def needed(c: Column) -> bool:
        if c.parts in top_scalars or is_read(c):
            return True
        if c.item_list is not None:
            return False
        # Required at each step below an object in use, that object itself needed.
        p = c.parts
        for i in range(len(p) - 1, -1, -1):
            if p[:i] in in_use:
                return _required_below(schema, p, i)
        return False

    chosen = [c for c in cols if c.kind != NONE_KIND and needed(c)]
    # A nullable object's or a list's own column (无: none) goes with its fields.
    holders = {c.read_parts[:i] for c in chosen for i in range(1, len(c.read_parts))}
    return [c for c in cols if (c.kind == NONE_KIND and c.parts in holders) or (c.kind != NONE_KIND and c in chosen)]


def _required_below(schema: dict, parts: tuple[str, ...], start: int) -> bool:
    """Whether each step of ``parts`` after ``parts[:start]`` is required in its object."""
    node: dict = schema
    for i, name in enumerate(parts):
        node, _ = _unnull(node, schema)
        props = node.get("properties", {})
        if name not in props:
            return False
        if i >= start:
            required = set(node.get("required", ()))
            sections = set(schema.get("x-action-sections", {}).values()) if i == 0 else set()
            if name not in required and name not in sections:
                return False
        node = props[name]
    return True


def unknown_action(action: str, schema: dict) -> XuejiError:
    titles = schema.get("x-action-titles", {})
    known = list(schema.get("x-action-sections", {}))
    hint = did_you_mean(action, known + list(titles.values()))
    if hint in titles.values():
        hint = next(a for a, t in titles.items() if t == hint)
    listed = "、".join(f"{a}（{titles.get(a, a)}）" for a in known)
    return XuejiError(f"未知的学籍事项 '{action}'" + (f"，是否想写 '{hint}'？" if hint else "。") + f"可选：{listed}",
                      f"unknown action {action!r}" + (f"; did you mean {hint!r}?" if hint else ""))


def action_of(text: str, schema: dict) -> str:
    """An action named by its code or its Chinese title."""
    sections = schema.get("x-action-sections", {})
    if text in sections:
        return text
    for a, t in schema.get("x-action-titles", {}).items():
        if t == text:
            return a
    raise unknown_action(text, schema)


# --------------------------------------------------------------------------- the template


def _col_letter(i: int) -> str:
    """1 → A, 27 → AA (as Excel names columns)."""
    out = ""
    while i > 0:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def _openpyxl():
    try:
        import openpyxl
    except ImportError:
        raise XuejiError("读写 Excel 表格需要 openpyxl：pip install 'xueji-policy[xlsx]'",
                         "reading and writing Excel sheets needs openpyxl: pip install 'xueji-policy[xlsx]'") from None
    return openpyxl


def _prompt(c: Column) -> str:
    """The cell's input hint (Excel shows it on the cell; at most 255 characters)."""
    if c.kind == NONE_KIND:
        return "没有时填“无”；有则留空，填写其后各列"
    if c.kind == "enum":
        text = "可选：" + "、".join(c.labels.values())
    elif c.kind == "boolean":
        text = "是 / 否"
    elif c.kind == "date":
        text = "日期，如 2025-09-01"
    elif c.kind in ("integer", "number"):
        text = "整数" if c.kind == "integer" else "数值"
    else:
        text = "文字"
    if c.many:
        text += "；多项用 ; 分隔"
    if c.nullable:
        text += "；“无”表示没有"
    if c.required:
        text += "；必填"
    return text[:255]


def write_template(rs, action: str, out: str | Path) -> list[Column]:
    """Write the sheet for ``action`` to ``out`` (``.xlsx``, or ``.csv``: the two header rows only)."""
    cols = template_columns(rs, action)
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix == ".csv":
        _write_csv(out, [[c.title for c in cols], [c.path for c in cols]])
        return cols
    if suffix != ".xlsx":
        raise SheetError(f"模板文件应以 .xlsx 或 .csv 结尾：{out.name}", f"the template must be .xlsx or .csv: {out.name}")
    openpyxl = _openpyxl()
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    titles = rs.case_schema.get("x-action-titles", {})
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = _sheet_title(titles.get(action, action))
    options = wb.create_sheet("选项")
    options.sheet_state = "hidden"
    ws.append([c.title for c in cols])
    ws.append([c.path for c in cols])
    bold, grey = Font(bold=True), Font(color="808080", size=9)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for i, c in enumerate(cols, 1):
        head = ws.cell(row=1, column=i)
        head.font, head.fill = bold, fill
        ws.cell(row=2, column=i).font = grey
        letter = _col_letter(i)
        ws.column_dimensions[letter].width = max(10, min(40, 2 * len(c.title) + 2))
        last = 2 + TEMPLATE_ROWS
        values: list[str] = []
        if c.parts == ("action",):  # a sheet is for one action
            values = [c.labels.get(action, action)]
        elif c.kind == NONE_KIND:
            values = ["无"]
        elif c.kind == "enum" and not c.many:
            values = list(c.labels.values()) + (["无"] if c.nullable else [])
        elif c.kind == "boolean" and not c.many:
            values = ["是", "否"]
        dv = None
        if values:  # the choices live in the hidden sheet: a list typed into the rule is capped at 255 characters
            for r, v in enumerate(values, 1):
                options.cell(row=r, column=i, value=v)
            dv = DataValidation(type="list", formula1=f"'选项'!${letter}$1:${letter}${len(values)}", allow_blank=True,
                                showErrorMessage=True, errorTitle="无效的选项", error="请从下拉列表中选择")
        elif c.kind == "date" and not c.many:
            dv = DataValidation(type="date", operator="between", formula1="DATE(1900,1,1)",
                                formula2="DATE(2199,12,31)", allow_blank=True, showErrorMessage=True,
                                errorTitle="无效的日期", error="请填写日期，如 2025-09-01")
        if dv is None:
            dv = DataValidation(allow_blank=True)
        prompt = f"可选：{values[0]}；必填" if c.parts == ("action",) else _prompt(c)
        dv.promptTitle, dv.prompt, dv.showInputMessage = c.title[:32], prompt, True
        dv.add(f"{letter}3:{letter}{last}")
        ws.add_data_validation(dv)
        number_format = "yyyy-mm-dd" if c.kind == "date" and not c.many else "@" if (
            c.kind in ("string", "enum") or c.many) else None
        if number_format:
            for r in range(3, last + 1):
                ws.cell(row=r, column=i).number_format = number_format
        if c.parts == ("action",):  # filled in: a row holding nothing else is blank (``filled_rows``)
            for r in range(3, last + 1):
                ws.cell(row=r, column=i).value = values[0]
    ws.freeze_panes = "B3"
    _save(wb, out)
    return cols


_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


def _sheet_title(title: str) -> str:
    return _SHEET_NAME_BAD.sub("_", title)[:31] or "案例"


def _save(wb, out: Path) -> None:
    from .ioerrors import os_error_zh

    try:
        wb.save(out)
    except OSError as e:
        raise SheetError(f"无法写入 {out.name}：{os_error_zh(e)}", f"cannot write {out.name}: {e.strerror}") from None


def _write_csv(out: Path | None, rows: Iterable[list]) -> bytes:
    """CSV with a BOM, so that Excel reads the Chinese as UTF-8; to ``out``, or returned when ``out`` is None."""
    from .ioerrors import os_error_zh

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    for row in rows:
        w.writerow(["" if v is None else v for v in row])
    data = ("\ufeff" + buf.getvalue()).encode("utf-8", "backslashreplace")
    if out is not None:
        try:
            out.write_bytes(data)
        except OSError as e:
            raise SheetError(f"无法写入 {out.name}：{os_error_zh(e)}", f"cannot write {out.name}: {e.strerror}") from None
    return data


# --------------------------------------------------------------------------- reading a sheet


@dataclass
class Sheet:
    """A sheet as read: its header rows, and its data rows (row number, raw cell values)."""

    titles: list[str]
    paths: list[str]
    rows: list[tuple[int, list[Any]]]


def read_sheet(path: str | Path) -> Sheet:
    """The first worksheet of an ``.xlsx``, or a ``.csv``, within the bounds (``SheetError`` if not)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SHEET_SUFFIXES:
        raise SheetError(f"表格文件应以 .xlsx 或 .csv 结尾：{path.name}", f"a sheet must be .xlsx or .csv: {path.name}")
    from .ioerrors import os_error_zh

    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SheetError(f"表格文件过大：{size} 字节，上限 {MAX_FILE_BYTES} 字节",
                             f"the sheet is too large: {size} bytes, limit {MAX_FILE_BYTES}")
        data = path.read_bytes()
    except OSError as e:
        raise SheetError(f"无法读取表格 {path.name}：{os_error_zh(e)}", f"cannot read {path.name}: {e.strerror}") from None
    if len(data) > MAX_FILE_BYTES:  # grew while we looked
        raise SheetError(f"表格文件过大：上限 {MAX_FILE_BYTES} 字节", f"the sheet is too large: limit {MAX_FILE_BYTES}")
    raw = _csv_rows(data) if suffix == ".csv" else _xlsx_rows(data, path.name)
    return _sheet_of(raw)


def _csv_rows(data: bytes) -> Iterator[list[Any]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:  # Excel on a Chinese Windows saves CSV in GB18030 (GBK)
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise SheetError("CSV 文件既不是 UTF-8 也不是 GB18030 编码", "the CSV is neither UTF-8 nor GB18030") from None
    if "\x00" in text:
        raise SheetError("CSV 文件含有空字符（NUL）：不是文本表格", "the CSV holds NUL characters: not a text sheet")
    csv.field_size_limit(MAX_CELL_CHARS * 4)
    try:
        yield from csv.reader(io.StringIO(text, newline=""))
    except csv.Error as e:
        raise SheetError(f"CSV 格式有误：{e}", f"malformed CSV: {e}") from None


def _check_zip(data: bytes, name: str) -> None:
    """Refuse a zip bomb before unpacking anything: the reader never unpacks past a part's declared size."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise SheetError(f"{name} 不是有效的 xlsx 文件（无法作为 zip 打开）", f"{name} is not a valid xlsx file") from None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise SheetError(f"{name} 含有 {len(infos)} 个部件，超过上限 {MAX_ZIP_ENTRIES}",
                         f"{name} has {len(infos)} parts, over the limit {MAX_ZIP_ENTRIES}")
    total = sum(i.file_size for i in infos)
    if total > MAX_UNZIPPED_BYTES:
        raise SheetError(f"{name} 解压后共 {total} 字节，超过上限 {MAX_UNZIPPED_BYTES} 字节（疑似压缩炸弹）",
                         f"{name} unpacks to {total} bytes, over the limit {MAX_UNZIPPED_BYTES} (a zip bomb?)")


def _xlsx_rows(data: bytes, name: str) -> Iterator[list[Any] | tuple[Any, ...]]:
    _check_zip(data, name)
    openpyxl = _openpyxl()
    try:
        # read_only: rows are streamed from the sheet's XML, never built as a whole grid in memory
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # an untrusted file: whatever the parser trips on, it is not a sheet we can read
        raise SheetError(f"{name} 不是有效的 xlsx 文件：{type(e).__name__}", f"{name} is not a valid xlsx file: {e}") from None
    try:
        ws = wb.worksheets[0] if wb.worksheets else None
        if ws is None:
            raise SheetError(f"{name} 中没有工作表", f"{name} has no worksheet")
        try:
            head = [list(r) for r in ws.iter_rows(min_row=1, max_row=2, max_col=MAX_COLUMNS + 1, values_only=True)]
            yield from head
            # Data rows only as wide as the header: a stray cell in column XFD, or a lone cell in row
            # 1048576 (read-only mode fills the rows between with one shared empty tuple), stays cheap.
            width = max([_used(r) for r in head] + [1])
            yield from ws.iter_rows(min_row=3, max_col=min(width, MAX_COLUMNS + 1), values_only=True)
        except SheetError:
            raise
        except Exception as e:
            raise SheetError(f"{name} 不是有效的 xlsx 文件：{type(e).__name__}",
                             f"{name} is not a valid xlsx file: {e}") from None
    finally:
        wb.close()


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _sheet_of(raw: Iterator[list[Any] | tuple[Any, ...]]) -> Sheet:
    titles: list[Any] | tuple[Any, ...] = []
    paths: list[Any] | tuple[Any, ...] = []
    rows: list[tuple[int, list[Any]]] = []
    width = 0
    for n, row in enumerate(raw, 1):
        if n == 1:
            titles = row
            continue
        if n == 2:
            paths = row
            # The header rows say how wide the sheet is: a cell right of the last titled column is not read.
            width = max(_used(paths), _used(titles))
            if width > MAX_COLUMNS:
                raise SheetError(f"表格超过 {MAX_COLUMNS} 列", f"the sheet has more than {MAX_COLUMNS} columns")
            continue
        row = row[:width]
        if row.count(None) == len(row) or all(_blank(v) for v in row):  # count: the common empty row, in C
            continue
        if len(rows) >= MAX_ROWS:
            raise SheetError(f"表格数据超过 {MAX_ROWS} 行（第 {n} 行）：请分成几个文件",
                             f"the sheet has more than {MAX_ROWS} data rows (row {n}): split it")
        rows.append((n, list(row) + [None] * (width - len(row))))
    if not _used(paths):
        raise SheetError("表格缺少第 2 行（各列的字段路径，如 student.name）：请用 xueji-policy template 生成模板",
                         "the sheet lacks row 2 (the field path of each column): make one with xueji-policy template")
    pad = lambda r: (list(r) + [None] * width)[:width]
    return Sheet([_text(v) for v in pad(titles)], [_text(v).strip() for v in pad(paths)], rows)


def _used(row: list[Any] | tuple[Any, ...]) -> int:
    """How many columns of a row hold anything (up to its last non-blank cell)."""
    n = len(row)
    while n and _blank(row[n - 1]):
        n -= 1
    return n


def _text(v: Any) -> str:
    return "" if v is None else str(v)


# --------------------------------------------------------------------------- cells → a case

RESULT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("decision", "决定"), ("outcome", "结果"), ("reasons", "理由"), ("basis", "依据"),
    ("needs", "尚需查明的事实"), ("obligations", "须办理的事项及期限"), ("approvals", "审批/核准"), ("error", "错误"),
)
_RESULT_PATHS = frozenset(p for p, _ in RESULT_COLUMNS)


@dataclass
class Layout:
    """Which column of a sheet is which field (``None``: a note column, or an earlier result)."""

    columns: list[Column | None]
    results: set[int]  # indexes of result columns of an earlier run (dropped on output)


def layout(sheet: Sheet, schema: dict) -> Layout:
    by_path = {c.path: c for c in all_columns(schema)}
    cols: list[Column | None] = []
    results: set[int] = set()
    problems: list[str] = []
    seen: dict[str, int] = {}
    for i, p in enumerate(sheet.paths):
        if not p:
            cols.append(None)
            continue
        if p in _RESULT_PATHS:
            cols.append(None)
            results.add(i)
            continue
        c = by_path.get(p)
        letter = _col_letter(i + 1)
        if c is None:
            hint = did_you_mean(p, by_path)
            problems.append(f"{letter} 列第 2 行的字段路径 '{p}' 不是案例中的字段" + (f"，是否想写 '{hint}'？" if hint else ""))
        elif p in seen:
            problems.append(f"{letter} 列与 {_col_letter(seen[p] + 1)} 列的字段路径相同（{p}）")
        else:
            seen[p] = i
        cols.append(c)
    if "action" not in seen and not problems:
        problems.append("表格缺少 action 列（学籍事项）")
    if problems:
        raise SheetError("表格的第 2 行（字段路径）有误：" + "；".join(problems[:20]),
                         f"row 2 (the field paths) is wrong: {len(problems)} problem(s)")
    return Layout(cols, results)


class _Bad(Exception):
    def __init__(self, zh: str, en: str):
        super().__init__(zh)
        self.zh, self.en = zh, en


_EXCEL_EPOCH = _dt.date(1899, 12, 30)


def _scalar(c: Column, v: Any) -> Any:
    """One value of a cell as its JSON value (``_Bad`` if it cannot be)."""
    if isinstance(v, str):
        v = v.strip()
        if len(v) > MAX_CELL_CHARS:
            raise _Bad(f"内容过长（{len(v)} 个字符，上限 {MAX_CELL_CHARS}）", f"too long ({len(v)} characters)")
        if v in NULL_WORDS:
            if not c.nullable:
                raise _Bad("此项不能为“无”（null）", "may not be null")
            return None
    k = c.kind
    if k == NONE_KIND:
        if v in NULL_WORDS:
            return None
        raise _Bad(f"此列只可填“无”（表示没有）或留空，而不是 '{v}'", f"only 无 or empty, got {v!r}")
    if k == "boolean":
        if isinstance(v, bool):
            return v
        if v in TRUE_WORDS:
            return True
        if v in FALSE_WORDS:
            return False
        raise _Bad(f"应为“是”或“否”，而不是 '{v}'", f"expected 是 or 否, got {v!r}")
    if k in ("integer", "number"):
        if isinstance(v, bool):
            raise _Bad("应为数字", "expected a number")
        if isinstance(v, str):
            try:
                v = int(v) if re.fullmatch(r"[+-]?[0-9]+", v) else float(v)
            except ValueError:
                raise _Bad(f"应为数字，而不是 '{v}'", f"expected a number, got {v!r}") from None
        if isinstance(v, float):
            if v != v or v in (float("inf"), float("-inf")):
                raise _Bad("应为数字", "expected a number")
            if k == "integer" or v.is_integer():
                if not v.is_integer():
                    raise _Bad(f"应为整数，而不是 {v}", f"expected an integer, got {v}")
                return int(v)
            return v
        if isinstance(v, int):
            return v
        raise _Bad("应为数字", "expected a number")
    if k == "date":
        if isinstance(v, _dt.datetime):
            if v.time() != _dt.time(0):
                raise _Bad("应为日期（不含时刻）", "expected a date without a time")
            return v.date().isoformat()
        if isinstance(v, _dt.date):
            return v.isoformat()
        if isinstance(v, (int, float)) and not isinstance(v, bool) and 61 <= v < 2958466 and float(v).is_integer():
            # a date cell that lost its date format: Excel's serial day number (1900 system, after its 1900-02-29)
            return (_EXCEL_EPOCH + _dt.timedelta(days=int(v))).isoformat()
        if isinstance(v, str) and parse_day(v) is not None:
            return v
        raise _Bad(f"应为日期 YYYY-MM-DD（如 2025-09-01），而不是 '{v}'", f"expected a date YYYY-MM-DD, got {v!r}")
    if isinstance(v, float) and v.is_integer():
        v = int(v)  # a number typed into a text column (an ID number without its X)
    if isinstance(v, (_dt.date, _dt.datetime)):
        v = v.isoformat()[:10]
    text = str(v).strip() if not isinstance(v, str) else v
    if k == "enum":
        for code, label in c.labels.items():
            if text == label or text == str(code):
                return code
        hint = did_you_mean(text, list(c.labels.values()))
        choices = "、".join(c.labels.values())
        raise _Bad(f"'{text}' 不是可选的值" + (f"，是否想写 '{hint}'？" if hint else "。") + f"可选：{choices}",
                   f"{text!r} is not one of the choices")
    return text


_ABSENT = object()  # an empty value between separators: that field is absent from that item


def _cell_values(c: Column, v: Any) -> Any:
    """The cell's JSON value: a scalar, or for a ``many`` column a list.

    A list of values: ``无`` is the empty list, empty values are skipped.  A field of a list of
    objects: one value per item, ``无`` that item's null, an empty value ``_ABSENT``."""
    if not c.many or c.kind == NONE_KIND:
        return _scalar(c, v)
    if not isinstance(v, str):
        return [_scalar(c, v)]
    s = v.strip()
    if len(s) > MAX_CELL_CHARS:
        raise _Bad(f"内容过长（{len(s)} 个字符，上限 {MAX_CELL_CHARS}）", f"too long ({len(s)} characters)")
    if c.item_list is None:
        if s in NULL_WORDS:
            return []
        return [_scalar(c, p) for p in _SPLIT.split(s) if p.strip()]
    return [_ABSENT if not p.strip() else _scalar(c, p) for p in _SPLIT.split(s)]


def _put(doc: dict, parts: tuple[str, ...], value: Any) -> None:
    for step in parts[:-1]:
        doc = doc.setdefault(step, {})
    doc[parts[-1]] = value


def row_case(lay: Layout, row: list[Any], row_no: int) -> dict | CaseError:
    """The case of one row, or the ``CaseError`` naming each bad cell (by column letter and title)."""
    case: dict = {}
    problems: list[CaseProblem] = []
    items: dict[tuple[str, ...], dict[str, list]] = {}
    nones: dict[tuple[str, ...], tuple[int, Column]] = {}
    for i, c in enumerate(lay.columns):
        if c is None:
            continue
        v = row[i]
        if _blank(v):
            continue
        try:
            value = _cell_values(c, v)
        except _Bad as e:
            where = f"第 {row_no} 行 {_col_letter(i + 1)} 列（{c.title}）"
            problems.append(CaseProblem(json_path(c.read_parts), f"{where}：{e.zh}",
                                        f"row {row_no} column {_col_letter(i + 1)}: {e.en}"))
            continue
        if c.kind == NONE_KIND:
            nones[c.parts] = (i, c)
            continue
        lst = c.item_list
        if lst is None:
            _put(case, c.parts, value)
        else:
            items.setdefault(lst, {})[c.parts[-1]] = value
    for parts, (i, holder) in nones.items():
        filled = [d for j, d in enumerate(lay.columns)
                  if d is not None and d.kind != NONE_KIND and d.parts[:len(parts)] == parts and not _blank(row[j])]
        if filled:
            problems.append(CaseProblem(json_path(parts), f"第 {row_no} 行 {_col_letter(i + 1)} 列（{holder.title}）"
                                        f"填了“无”，其后各列却有内容（{filled[0].title}）：两者只能取其一",
                                        f"row {row_no}: 无 beside values of its fields"))
            continue
        _put(case, parts, [] if holder.many else None)
    for lst, fields in items.items():
        n = max(len(v) for v in fields.values())
        built = [{k: v[j] for k, v in fields.items() if j < len(v) and v[j] is not _ABSENT} for j in range(n)]
        _put(case, lst, built)
    if problems:
        return CaseError(problems)
    return case


def filled_rows(sheet: Sheet, lay: Layout) -> Sheet:
    """The sheet without the rows that hold nothing but their action (a template comes with the
    action filled in down its rows)."""
    at = [i for i, c in enumerate(lay.columns) if c is not None and c.parts == ("action",)]
    rows = [(n, row) for n, row in sheet.rows
            if any(not _blank(v) for i, v in enumerate(row) if i not in at)]
    return Sheet(sheet.titles, sheet.paths, rows)


def cases_of(sheet: Sheet, schema: dict) -> Iterator[tuple[int, dict | CaseError]]:
    """(row number, case or its error) for each data row."""
    lay = layout(sheet, schema)
    for n, row in filled_rows(sheet, lay).rows:
        yield n, row_case(lay, row, n)


# --------------------------------------------------------------------------- a case → cells (the template's rows)


def case_row(columns: list[Column], case: dict) -> list[Any]:
    """A case as the cells of a row of ``columns`` (Chinese labels, 是/否, ``;``-joined lists).
    Fields of the case with no column are left out."""

    def get(parts: tuple[str, ...]) -> tuple[bool, Any]:
        doc: Any = case
        for step in parts:
            if not isinstance(doc, dict) or step not in doc:
                return False, None
            doc = doc[step]
        return True, doc

    def show(c: Column, v: Any) -> str:
        if v is None:
            return ""
        if c.kind == "boolean":
            return "是" if v else "否"
        if c.kind == "enum":
            return c.labels.get(v, str(v))
        return str(v)

    out: list[Any] = []
    for c in columns:
        if c.kind == NONE_KIND:
            ok, v = get(c.parts)
            out.append("无" if ok and (v is None or v == []) else None)
            continue
        lst = c.item_list
        if lst is not None:
            ok, items = get(lst)
            if not ok or not isinstance(items, list) or not items:  # an empty list: every column of it empty
                out.append(None)
                continue
            name = c.parts[-1]
            vals = ["" if not isinstance(it, dict) or name not in it else "无" if it[name] is None
                    else show(c, it[name]) for it in items]
            out.append(";".join(vals) if any(vals) else None)
            continue
        ok, v = get(c.parts)
        if not ok:
            out.append(None)
        elif v is None:
            out.append("无")
        elif c.many:
            out.append(";".join(show(c, x) for x in v) if v else "无")
        elif c.kind == "date":
            day = parse_day(v)
            out.append(day if day is not None else v)
        elif c.kind in ("boolean", "enum"):
            out.append(show(c, v))
        else:
            out.append(v)
    return out


# --------------------------------------------------------------------------- results → cells


def _lines(items: Iterable[str]) -> str:
    return "\n".join(items)


_INDEX = re.compile(r"\[[0-9]+\]")


def _column_path(json_path_text: str) -> str:
    """``$.student.suspensions[1].start`` → ``student.suspensions[].start``; ``$.transfer.materials[2]`` →
    ``transfer.materials``: the column a problem's path falls in."""
    p = json_path_text[2:] if json_path_text.startswith("$.") else json_path_text.lstrip("$")
    p = _INDEX.sub("[]", p)
    return p[:-2] if p.endswith("[]") else p


def _error_text(record: dict, where: Mapping[str, str]) -> str:
    """An error record in Chinese; each problem located by its column (``F 列（证件号码）``) where the sheet has one."""
    problems = record.get("problems")
    if not problems:
        return str(record.get("message") or record.get("error"))
    out = []
    for p in problems:
        msg = str(p.get("message", ""))
        if msg.startswith("第 "):  # a cell refused while reading the row: located already
            out.append(msg)
            continue
        path = str(p.get("path", ""))
        out.append(f"{where.get(_column_path(path)) or path}：{msg}")
    return _lines(out)


def verdict_text(decision: str) -> str:
    """准予办理 / 不予办理 / 尚不能决定: the decision schema's label (and 办理 after 准予, 不予)."""
    labels = decision_labels()
    if decision not in labels:
        return UNDETERMINED_LABEL if decision == "undetermined" else decision
    return labels[decision] + ("办理" if decision in ("allow", "deny") else "")


def field_titles(schema: dict) -> dict[str, str]:
    """Dotted path (list indexes left out) → title, for naming the facts a decision still needs:
    every field, and every list of objects (``student.suspensions`` → 历次及当前休学)."""
    out: dict[str, str] = {}
    for c in all_columns(schema):
        out[".".join(c.read_parts)] = c.title
        if c.item_list is not None:
            out.setdefault(".".join(c.item_list), c.title.rsplit("·", 1)[0])
    return out


def _need_text(need: Mapping[str, Any], where: Mapping[str, str], titles: Mapping[str, str]) -> str:
    """``L 列（历次及当前休学·休学结束日期）（student.suspensions[0].end）：第十四条第（三）项``."""
    path = str(need.get("path", ""))
    named = where.get(_column_path("$." + path)) or titles.get(_INDEX.sub("", path), "")
    cites = need.get("cites") or ()
    return f"{named}（{path}）" + (f"：{'、'.join(map(str, cites))}" if cites else "")


def result_cells(record: dict, schema: dict, where: Mapping[str, str] | None = None,
                 titles: Mapping[str, str] | None = None) -> list[str]:
    """The appended cells of one row: decision, outcome, reasons, basis, needs, obligations, approvals, error.
    ``where``: column path → how to name its column (``F 列（证件号码）``); ``titles``: ``field_titles(schema)``
    (computed when not given)."""
    if "error" in record:
        return ["错误", "", "", "", "", "", "", mask_ids_in_text(_error_text(record, where or {}))[:EXCEL_CELL_CHARS]]
    verdict = verdict_text(str(record.get("decision")))
    outcome = record.get("outcome")
    outcome_text = outcome_labels().get(outcome, str(outcome)) if outcome else ""
    if record.get("conditional_outcomes"):  # allowed, the outcome hanging on facts not stated
        outcome_text = _lines(f"{outcome_labels().get(o.get('outcome'), str(o.get('outcome')))}："
                              + (f"若 {o['condition']}" if o.get("condition") else "其余情形")
                              for o in record["conditional_outcomes"])
    reasons = _lines(f"{r.get('cite', '')}：{r.get('message', '')}" for r in record.get("reasons") or ())
    basis = _lines(f"{r.get('cite', '')}：{r.get('message', '')}" for r in record.get("basis") or ())
    needs_list = record.get("needs") or ()
    if needs_list and titles is None:
        titles = field_titles(schema)
    needs = _lines(_need_text(n, where or {}, titles or {}) for n in needs_list)
    obligations = _lines(
        f"{o.get('cite', '')}：{o.get('message', '')}"
        + (f"（期限 {o['due']}）" if o.get("due") else "")
        + (f"（条件：{o['condition']}）" if o.get("condition") else "")
        for o in record.get("obligations") or ())
    _, body_labels = approval_bodies()
    approvals = "、".join(body_labels.get(a, a) for a in record.get("approvals") or ())
    cells = [verdict, outcome_text, reasons, basis, needs, obligations, approvals, ""]
    return [mask_ids_in_text(c)[:EXCEL_CELL_CHARS] for c in cells]


def _shown_input(c: Column | None, v: Any, personal: set[tuple[str, ...]]) -> Any:
    """An input cell as written back: an ID number (and any field built from one) masked (第三十二条)."""
    if v is None:
        return None
    if c is not None and c.read_parts in personal:
        return mask_id(_text(v).strip()) if not _blank(v) else v
    if isinstance(v, str):
        return mask_ids_in_text(v)[:EXCEL_CELL_CHARS]
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 10 ** 14:
        return mask_ids_in_text(str(v))
    if isinstance(v, float) and v.is_integer() and abs(v) >= 1e14:
        return mask_ids_in_text(str(int(v)))
    return v


def _personal(schema: dict) -> set[tuple[str, ...]]:
    return {tuple(p for p in path if p != "*") for path in personal_data_paths_of(schema)}


def write_results(sheet: Sheet, lay: Layout, records: list[dict], schema: dict, out: str | Path) -> None:
    """The sheet again, each row followed by its result cells, to ``out`` (``.xlsx`` or ``.csv``)."""
    out = Path(out)
    personal = _personal(schema)
    keep = [i for i in range(len(sheet.paths)) if i not in lay.results]
    titles = [mask_ids_in_text(sheet.titles[i]) for i in keep] + [t for _, t in RESULT_COLUMNS]
    paths = [sheet.paths[i] for i in keep] + [p for p, _ in RESULT_COLUMNS]
    where = {c.path: f"{_col_letter(i + 1)} 列（{sheet.titles[i] or c.title}）" for i, c in enumerate(lay.columns) if c}
    named = field_titles(schema)
    body = []
    for (_, row), record in zip(sheet.rows, records):
        body.append([_shown_input(lay.columns[i], row[i], personal) for i in keep]
                    + result_cells(record, schema, where, named))
    suffix = out.suffix.lower()
    if suffix == ".csv":
        _write_csv(out, [titles, paths] + [[_csv_value(v) for v in r] for r in body])
        return
    if suffix != ".xlsx":
        raise SheetError(f"结果文件应以 .xlsx 或 .csv 结尾：{out.name}", f"the output must be .xlsx or .csv: {out.name}")
    openpyxl = _openpyxl()
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("结果")
    ws.freeze_panes = "B3"
    bold, grey, wrap = Font(bold=True), Font(color="808080", size=9), Alignment(wrap_text=True, vertical="top")
    date_cols = {n for n, i in enumerate(keep) if (c := lay.columns[i]) is not None and c.kind == "date" and not c.many}

    def cells(values: list[Any], font=None, data: bool = False) -> list:
        row: list[Any] = []
        for n, v in enumerate(values):
            v = _xlsx_value(v)
            dated = data and n in date_cols and isinstance(v, (_dt.date, _dt.datetime))
            wrapped = data and n >= len(keep) and isinstance(v, str) and "\n" in v
            if font is None and not dated and not wrapped:
                row.append(v)  # a plain value: a styled cell costs several times as much to write
                continue
            cell = WriteOnlyCell(ws, value=v)
            if font is not None:
                cell.font = font
            if dated:
                cell.number_format = "yyyy-mm-dd"
            if wrapped:
                cell.alignment = wrap
            row.append(cell)
        return row

    ws.append(cells(titles, bold))
    ws.append(cells(paths, grey))
    for r in body:
        ws.append(cells(r, data=True))
    _save(wb, out)


_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _xlsx_value(v: Any) -> Any:
    if isinstance(v, str):
        v = _ILLEGAL_XML.sub("", v)
        if v.startswith("="):  # a value, never a formula written into someone's sheet
            v = "'" + v
    return v


def _csv_value(v: Any) -> Any:
    if isinstance(v, _dt.datetime):
        return v.date().isoformat() if v.time() == _dt.time(0) else v.isoformat()
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") and not re.fullmatch(r"[+-]?[0-9.]+", v):
        return "'" + v  # CSV injection: Excel would run a cell starting with = + - @ as a formula
    return v


# --------------------------------------------------------------------------- the batch


def evaluate_sheet(path: str | Path, out: str | Path, *, rs=None, log=None, tally=None) -> list[dict]:
    """Decide every row of a sheet and write it back with the results; the records, in row order."""
    from .batch import evaluate_one
    from .engine import default_ruleset

    rs = rs or default_ruleset()
    sheet = read_sheet(path)
    lay = layout(sheet, rs.case_schema)
    sheet = filled_rows(sheet, lay)
    records = []
    for n, row in sheet.rows:
        record = evaluate_one(row_case(lay, row, n), rs, n, log)
        records.append(record)
        if tally is not None:
            tally.add(record)
    write_results(sheet, lay, records, rs.case_schema, out)
    return records
