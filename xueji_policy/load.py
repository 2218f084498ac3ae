"""Load stage: a YAML file → located values (``Y``), through the safe loader only.

YAML is composed into nodes (so every value keeps its line and column) and each
scalar is built by PyYAML's *safe* constructor.  Refused with a located error:
syntax errors, tags other than YAML's own (``!!python/object`` …), anchors and
aliases (no "billion laughs"), duplicate keys, absurd nesting and numbers.
Nothing in a rule file is ever executed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from .errors import Location, StructureError, YamlError

MAX_FILE_BYTES = 2 * 1024 * 1024
# libyaml's safe loader when the PyYAML build has it: the same nodes and marks, much faster.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_DEPTH = 40
_STD_TAGS = {
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null", "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq",
}


@dataclass
class SourceFile:
    """A rule file's text, to show the offending line of an error."""

    path: str  # as shown in messages, e.g. "rules/13.yaml"
    text: str
    lines: list[str] = field(init=False)

    def __post_init__(self):
        self.lines = self.text.splitlines()

    def location(self, line0: int, col0: int) -> Location:
        src = self.lines[line0] if 0 <= line0 < len(self.lines) else None
        return Location(self.path, line0 + 1, col0 + 1, src)


@dataclass
class Y:
    """A located YAML value: ``value`` is a scalar, ``dict[str, Y]`` or ``list[Y]``."""

    value: Any
    node: yaml.Node
    src: SourceFile
    key_nodes: dict = field(default_factory=dict)  # mapping: key → key node

    @property
    def loc(self) -> Location:
        m = self.node.start_mark
        return self.src.location(m.line, m.column)

    def key_loc(self, key: str) -> Location:
        node = self.key_nodes.get(key, self.node)
        m = node.start_mark
        return self.src.location(m.line, m.column)

    def get(self, key: str, default=None) -> Y | None:
        if isinstance(self.value, dict):
            return self.value.get(key, default)
        return default

    def plain(self) -> Any:
        """The value without positions."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value

    def scalar_locator(self):
        """offset in this scalar's string value → Location in the file.

        Walks the value and the raw source text in step: non-blank characters must
        match one for one; indentation, quotes, escapes and folding are skipped.
        Good for plain, quoted and block (``|``, ``>``) scalars alike.
        """
        text = self.value if isinstance(self.value, str) else str(self.value)
        raw = self.src.text
        j, stop = self.node.start_mark.index, self.node.end_mark.index
        positions: list[int] = []  # file index of each value character
        for ch in text:
            if not ch.isspace():
                k = raw.find(ch, j, stop)
                if k >= 0:
                    j = k
            positions.append(j)
            if not ch.isspace():
                j += 1
        line_starts = [0]
        for i, c in enumerate(raw):
            if c == "\n":
                line_starts.append(i + 1)

        import bisect

        def locate(offset: int) -> Location:
            if not positions:
                return self.loc
            idx = positions[min(max(offset, 0), len(positions) - 1)]
            if offset >= len(positions):
                idx = positions[-1] + 1
            line0 = bisect.bisect_right(line_starts, idx) - 1
            return self.src.location(line0, idx - line_starts[line0])

        return locate


class _Builder:
    def __init__(self, src: SourceFile):
        self.src = src
        self.constructor = SafeConstructor()
        self.seen: set[int] = set()

    def err(self, node: yaml.Node, msg: str, en: str) -> YamlError:
        m = node.start_mark
        return YamlError(msg, self.src.location(m.line, m.column), message_en=en)

    def build(self, node: yaml.Node, depth: int = 0) -> Y:
        if depth > MAX_DEPTH:
            raise self.err(node, f"嵌套层数过多（超过 {MAX_DEPTH} 层）", "nested too deeply")
        if id(node) in self.seen:
            raise self.err(node, "不允许使用 YAML 锚点与别名（& / *）", "YAML anchors and aliases are not allowed")
        self.seen.add(id(node))
        if node.tag not in _STD_TAGS:
            raise self.err(node, f"不允许的 YAML 标签 {node.tag!r}", f"YAML tag {node.tag!r} is not allowed")
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Y] = {}
            keys: dict[str, yaml.Node] = {}
            for knode, vnode in node.value:
                if knode.tag == "tag:yaml.org,2002:merge":
                    raise self.err(knode, "不允许使用 YAML 合并键 <<", "YAML merge keys are not allowed")
                k = self.build(knode, depth + 1).value
                if not isinstance(k, (str, int)) or isinstance(k, bool):
                    raise self.err(knode, "键必须是文字", "keys must be text")
                k = str(k)
                if k in out:
                    raise self.err(knode, f"重复的键 '{k}'", f"duplicate key '{k}'")
                out[k] = self.build(vnode, depth + 1)
                keys[k] = knode
            return Y(out, node, self.src, keys)
        if isinstance(node, yaml.SequenceNode):
            return Y([self.build(n, depth + 1) for n in node.value], node, self.src)
        try:
            value = self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as e:
            shown = str(node.value)[:40]
            what = "日期（应为有效日期，写成 YYYY-MM-DD）" if node.tag.endswith(":timestamp") else "数字或日期"
            raise self.err(node, f"无法读取的值 '{shown}'：{what}写法有误", f"unreadable value: {e}") from None
        return Y(value, node, self.src)


def load_yaml_text(text: str, path: str) -> Y:
    src = SourceFile(path, text)
    if len(text) > MAX_FILE_BYTES:
        raise YamlError(f"文件过大（超过 {MAX_FILE_BYTES // 1024} KiB）", src.location(0, 0),
                        message_en="file too large")
    if "&" in text or "*" in text:
        _refuse_anchors(text, src)
    try:
        try:
            node = yaml.compose(text, Loader=_FAST_LOADER)
        except yaml.YAMLError:
            # The pure-Python loader gives the messages (and positions) we translate.
            node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        raise _syntax_error(e, src) from None
    except yaml.reader.ReaderError as e:
        raise _reader_error(e, src) from None
    except yaml.YAMLError as e:
        raise YamlError("YAML 语法错误：无法解析此文件", src.location(0, 0), message_en=str(e)) from None
    except RecursionError:
        raise YamlError("YAML 嵌套层数过多", src.location(0, 0), message_en="YAML nested too deeply") from None
    if node is None:
        raise StructureError("文件为空", src.location(0, 0), message_en="empty file")
    try:
        return _Builder(src).build(node)
    except RecursionError:
        raise YamlError("YAML 嵌套层数过多", src.location(0, 0), message_en="YAML nested too deeply") from None


def _refuse_anchors(text: str, src: SourceFile) -> None:
    """Anchors/aliases are refused before composing, so a bomb is never expanded."""
    try:
        for tok in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(tok, (yaml.AnchorToken, yaml.AliasToken)):
                m = tok.start_mark
                raise YamlError("不允许使用 YAML 锚点与别名（& / *）", src.location(m.line, m.column),
                                message_en="YAML anchors and aliases are not allowed")
    except yaml.YAMLError:
        return  # the composer reports syntax errors with their position


def load_yaml_file(path: Path, shown: str | None = None) -> Y:
    shown = shown or str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise YamlError(f"无法读取文件：{e.strerror}", Location(shown, 1, 1), message_en=str(e)) from None
    return load_yaml_bytes(raw, shown)


def load_yaml_bytes(raw: bytes, shown: str) -> Y:
    if len(raw) > MAX_FILE_BYTES:
        raise YamlError(f"文件过大（超过 {MAX_FILE_BYTES // 1024} KiB）", Location(shown, 1, 1),
                        message_en="file too large")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise YamlError(f"文件不是 UTF-8 编码（第 {e.start} 字节）", Location(shown, 1, 1),
                        message_en="file is not UTF-8") from None
    return load_yaml_text(text, shown)


def yaml_error(e: yaml.YAMLError, text: str, shown: str) -> YamlError:
    """Any PyYAML error while reading ``text`` (the file ``shown``) → one located Chinese ``YamlError``."""
    src = SourceFile(shown, text)
    if isinstance(e, yaml.MarkedYAMLError):
        return _syntax_error(e, src)
    if isinstance(e, yaml.reader.ReaderError):
        return _reader_error(e, src)
    return YamlError("YAML 语法错误：无法解析此文件", src.location(0, 0), message_en=str(e))


def _syntax_error(e: yaml.MarkedYAMLError, src: SourceFile) -> YamlError:
    """PyYAML's error → one Chinese message, located where the mistake is (not where PyYAML noticed it)."""
    problem = (e.problem or str(e)).strip()
    context = (e.context or "").strip()
    mark = e.problem_mark or e.context_mark
    line, col = (mark.line, mark.column) if mark else (0, 0)
    zh = _yaml_problem_zh(problem, context)
    cm = e.context_mark
    if cm is not None and (problem.startswith("could not find expected ':'") or context.startswith(
            "while scanning a quoted scalar") or "end of stream" in problem):
        # The mistake is where the key or quote began; PyYAML notices it a line (or a file) later.
        line, col = cm.line, cm.column
        if problem.startswith("could not find expected ':'"):
            text = src.lines[line] if 0 <= line < len(src.lines) else ""
            key = re.match(r"[^\s:#]+", text[col:])
            if key and text[col + key.end():].startswith(":"):
                zh = f"冒号后面要有空格：应写成 '{key.group(0)}: …'"
                col += key.end()
            elif key and col + key.end() < len(text.rstrip()):
                zh = f"缺少冒号：'{key.group(0)}' 后面应有 ': '（键与值之间要有冒号和空格）"
                col += key.end()
            else:
                zh = "缺少冒号：这一行应写成 键: 值（冒号后面有空格）"
    elif cm is not None and context.startswith("while parsing a flow") and mark is not None and mark.line > cm.line:
        # A bracket left open runs into the next lines: the mistake is the bracket.
        bracket = "[" if "sequence" in context else "{"
        zh = f"从这里开始的 '{bracket}' 没有闭合（或其中少了 ','）"
        line, col = cm.line, cm.column
    elif problem.startswith("mapping values are not allowed here"):
        line, col, zh = _colon_on_line_before(src, line, col, zh)
    return YamlError(f"YAML 语法错误：{zh}", src.location(line, col), message_en=f"YAML syntax error: {problem}")


def _colon_on_line_before(src: SourceFile, line: int, col: int, zh: str) -> tuple[int, int, str]:
    """``a:1`` (or ``a 1``) above a ``b: 2`` at the same indentation: PyYAML reads both lines as one text
    and stumbles on the second colon; the mistake is the line before."""
    text = src.lines[line] if 0 <= line < len(src.lines) else ""
    indent = len(text) - len(text.lstrip(" "))
    k = line - 1
    while k >= 0 and (not src.lines[k].strip() or src.lines[k].lstrip().startswith("#")):
        k -= 1
    if k < 0:
        return line, col, zh
    before = src.lines[k]
    body = before.lstrip(" ")
    if len(before) - len(body) != indent or body.startswith(("- ", "-\t")) or body.endswith(":"):
        return line, col, zh
    m = re.match(r"([^\s:#\[\]{}]+):(?=\S)", body)
    if m:
        return k, indent + m.end() - 1, f"冒号后面要有空格：应写成 '{m.group(1)}: …'"
    if ": " not in body and " #" not in body:
        key = re.match(r"[^\s#]+", body)
        if key and key.end() < len(body.rstrip()):
            return k, indent + key.end(), f"缺少冒号：'{key.group(0)}' 后面应有 ': '（键与值之间要有冒号和空格）"
    return line, col, zh


def _reader_error(e: yaml.reader.ReaderError, src: SourceFile) -> YamlError:
    before = src.text[:max(e.position, 0)]
    line = before.count("\n")
    col = len(before) - (before.rfind("\n") + 1)
    ch = e.character
    code = f"#x{ch:04x}" if isinstance(ch, int) else repr(ch)
    return YamlError(f"YAML 语法错误：文件中有不允许的控制字符（{code}）；请删除它或改为普通文字",
                     src.location(line, col), message_en=str(e))


# PyYAML's problem texts (scanner, parser, composer) → Chinese; {0} is the token or character it names.
_PROBLEMS_ZH: list[tuple[str, str]] = [
    (r"mapping values are not allowed here", "此处不能出现键值（是否缩进有误？条件中含 ': ' 时请把条件写成 | 块）"),
    (r"could not find expected ':'", "缺少冒号：这一行应写成 键: 值（冒号后面有空格）"),
    (r"found character '\\t' that cannot start any token", "不能用制表符（Tab）缩进，请用空格"),
    (r"found character (.+) that cannot start any token",
     "字符 {0} 不能出现在这里；以它开头的文字请放在引号内"),
    (r"expected <block end>, but found '-'", "列表项（-）的缩进与同层不一致"),
    (r"expected <block end>, but found '\?'", "缩进不一致：这一行与同一层的其他键没有对齐"),
    (r"expected <block end>, but found (.+)", "缩进不一致：这一行与同一层的其他键没有对齐（遇到{0}）"),
    (r"expected ',' or '\]', but got (.+)", "方括号列表 [ … ] 中此处应为 ',' 或 ']'，却遇到{0}（括号不配对？）"),
    (r"expected ',' or '\}', but got (.+)", "花括号 { … } 中此处应为 ',' 或 '}'，却遇到{0}（括号不配对？）"),
    (r"expected the node content, but found (.+)", "此处缺少值，却遇到{0}"),
    (r"expected '<document start>', but found (.+)",
     "文件中有多余的内容（遇到{0}）：是否缩进有误，或这一行少了 '- ' 或 ':'？"),
    (r"expected a single document in the stream", "一个文件只能有一个 YAML 文档（不要用 --- 分隔多个文档）"),
    (r"but found another document", "一个文件只能有一个 YAML 文档（不要用 --- 分隔多个文档）"),
    (r"found unexpected end of stream", "引号未闭合：从这里开始的引号到文件末尾都没有闭合"),
    (r"found unexpected document separator", "引号未闭合：从这里开始的引号遇到了文档分隔符（--- 或 ...）"),
    (r"found unknown escape character (.+)",
     "双引号文字中有无法识别的转义（反斜杠 \\ 后跟 {0}）；要写反斜杠本身请写两个，或改用单引号"),
    (r"expected escape sequence of (\d+) hexadecimal numbers, but found (.+)",
     "双引号文字中的转义应跟 {0} 位十六进制数字，却遇到{1}"),
    (r"expected chomping or indentation indicators, but found (.+)",
     "块标记 | 或 > 后面只能跟 +、- 或缩进数字，却遇到{0}"),
    (r"expected indentation indicator in the range 1-9, but found 0", "块标记 | 或 > 后面的缩进数字应在 1 到 9 之间"),
    (r"expected a comment or a line break, but found (.+)",
     "此处之后应直接换行（或写 # 注释），却遇到{0}"),
    (r"mapping keys are not allowed here", "此处不能出现键（'?'）；以 ? 开头的文字请放在引号内"),
    (r"sequence entries are not allowed here", "此处不能出现列表项 '-'（是否缩进有误，或 '-' 后少了空格？）"),
    (r"invalid indentation or unclosed '\[' or '\{'", "缩进有误，或 '[' / '{' 没有闭合"),
    (r"found undefined alias", "不允许使用 YAML 锚点与别名（& / *）；以 & 或 * 开头的文字请放在引号内"),
    (r"found duplicate anchor", "不允许使用 YAML 锚点与别名（& / *）；以 & 或 * 开头的文字请放在引号内"),
    (r"expected alphabetic or numeric character, but found (.+)",
     "锚点或别名（& / *）写法有误（遇到{0}）；以 & 或 * 开头的文字请放在引号内"),
    (r"found undefined tag handle (.+)", "不允许的 YAML 标签 {0}；以 ! 开头的文字请放在引号内"),
    (r"found non-specific tag", "不允许的 YAML 标签 '!'；以 ! 开头的文字请放在引号内"),
    (r"expected URI.*", "YAML 标签（!）写法有误；以 ! 开头的文字请放在引号内"),
    (r"expected '>', but found (.+)", "YAML 标签（!<…>）写法有误；以 ! 开头的文字请放在引号内"),
    (r"expected '!', but found (.+)", "YAML 标签（!）写法有误；以 ! 开头的文字请放在引号内"),
    (r"expected ' ', but found (.+)", "此处应有空格，却遇到{0}；以 ! 或 % 开头的文字请放在引号内"),
    (r"expected a digit.*", "YAML 指令（%）写法有误；以 % 开头的文字请放在引号内"),
    (r"found duplicate YAML directive|found incompatible YAML document|duplicate tag handle",
     "YAML 指令（%）写法有误；规则文件不需要 % 指令"),
    (r"found duplicate key", "重复的键"),
    (r"did not find expected key", "缩进不一致或缺少键：这一行与同一层的其他键没有对齐"),
    (r"did not find expected '-' indicator", "列表项（-）的缩进与同层不一致"),
]
_PROBLEM_RES = [(re.compile(en), zh) for en, zh in _PROBLEMS_ZH]

# PyYAML's token names, as a reader of the file sees them.
_TOKENS_ZH = {
    "'<block mapping start>'": " 新的一组键值", "'<block sequence start>'": " 列表", "'<block end>'": " 缩进结束",
    "'<scalar>'": "文字", "'<stream end>'": "文件末尾", "'<document start>'": "文档分隔符 ---",
    "'<document end>'": "文档结束符 ...", "'<alias>'": "别名（*）", "'<anchor>'": "锚点（&）", "'<tag>'": "标签（!）",
    "'<block entry>'": "列表项 '-'", "'<directive>'": "指令（%）",
}


def _token_zh(token: str) -> str:
    token = token.strip()
    return _TOKENS_ZH.get(token, f" {token} ").strip()


def _yaml_problem_zh(problem: str, context: str = "") -> str:
    for pattern, zh in _PROBLEM_RES:
        m = pattern.match(problem)
        if m:
            for i, g in enumerate(m.groups()):  # not str.format: the texts show literal braces
                zh = zh.replace(f"{{{i}}}", g if g.isdigit() else _token_zh(g))
            return zh
    return "无法识别的写法（请检查这一行的缩进、冒号、引号和括号）"
