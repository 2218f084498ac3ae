"""Load stage: a YAML file → located values (``Y``), through the safe loader only.

YAML is composed into nodes (so every value keeps its line and column) and each
scalar is built by PyYAML's *safe* constructor.  Refused with a located error:
syntax errors, tags other than YAML's own (``!!python/object`` …), anchors and
aliases (no "billion laughs"), duplicate keys, absurd nesting and numbers.
Nothing in a rule file is ever executed.
"""

from __future__ import annotations

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
            raise self.err(node, f"无法读取的值：{e}", f"unreadable value: {e}") from None
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
        mark = e.problem_mark or e.context_mark
        loc = src.location(mark.line, mark.column) if mark else src.location(0, 0)
        problem = (e.problem or str(e)).strip()
        raise YamlError(f"YAML 语法错误：{_yaml_problem_zh(problem)}", loc,
                        message_en=f"YAML syntax error: {problem}") from None
    except yaml.YAMLError as e:
        raise YamlError(f"YAML 错误：{e}", src.location(0, 0), message_en=str(e)) from None
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


_PROBLEMS_ZH = {
    "mapping values are not allowed here": "此处不能出现键值（是否缩进有误？条件中含 ': ' 时请把条件写成 | 块）",
    "could not find expected ':'": "找不到应有的 ':'（键与值之间要有冒号和空格）",
    "found character '\\t' that cannot start any token": "不能用制表符（Tab）缩进，请用空格",
    "expected <block end>, but found '-'": "列表项（-）的缩进与同层不一致",
    "expected <block end>, but found": "缩进不一致：这一行与同一层的其他键没有对齐",
    "expected <block mapping start>": "缩进不一致：这一行应与同一层的其他键对齐",
    "did not find expected key": "缩进不一致或缺少键：这一行与同一层的其他键没有对齐",
    "did not find expected '-' indicator": "列表项（-）的缩进与同层不一致",
    "found undefined alias": "未定义的别名",
    "found unexpected end of stream": "文件意外结束（引号或括号未闭合？）",
    "found unknown escape character": "字符串中有无法识别的转义字符（\\）",
    "found unexpected ':'": "此处不应有 ':'（条件中的冒号请放在引号内或写成 | 块）",
    "while scanning a quoted scalar": "引号未闭合",
}


def _yaml_problem_zh(problem: str) -> str:
    for en, zh in _PROBLEMS_ZH.items():
        if problem.startswith(en):
            return zh
    return problem
