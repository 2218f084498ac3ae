"""Parse stage: condition text → AST (Lark, LALR), with located ``ParseError``s.

Only our ``ParseError`` ever leaves this module: Lark's exceptions, absurd nesting
and oversized numbers are all turned into one located, Chinese message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from lark import Lark, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from lark.visitors import Transformer_NonRecursive

from ..errors import Location, ParseError
from . import ast as A

MAX_EXPR_CHARS = 8000
MAX_NESTING = 48
MAX_INT_DIGITS = 15
MAX_DEPTH = 64


@dataclass
class Source:
    """Where an expression's text lives, to turn offsets into file positions."""

    text: str
    locate: Callable[[int], Location] | None = None
    rule_id: str | None = None

    def location(self, offset: int) -> Location:
        if self.locate is not None:
            return self.locate(offset)
        line = self.text.count("\n", 0, offset) + 1
        start = self.text.rfind("\n", 0, offset) + 1
        end = self.text.find("\n", offset)
        end = len(self.text) if end < 0 else end
        return Location("<条件>", line, offset - start + 1, self.text[start:end])


@lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = resources.files(__package__).joinpath("grammar.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=False)


_TOKEN_ZH = {
    "RPAR": "')'", "LPAR": "'('", "RSQB": "']'", "LSQB": "'['", "COMMA": "','", "COLON": "':'",
    "DOT": "'.'", "NAME": "名称", "INT": "整数", "DECIMAL": "小数", "STRING": "字符串",
    "COMP_OP": "比较运算符", "ADD_OP": "'+' 或 '-'", "MINUS": "'-'", "$END": "表达式结尾",
    "AND": "and", "OR": "or", "NOT": "not", "IN": "in", "IS": "is", "NULL": "null",
    "TRUE": "true", "FALSE": "false", "ANY": "any", "ALL": "all", "COUNT": "count",
}


def _describe_expected(expected: set[str]) -> str:
    names = sorted({_TOKEN_ZH.get(t, t.lower()) for t in expected})
    if len(names) > 8:
        names = names[:8] + ["…"]
    return "、".join(names)


def parse_expr(text: str, source: Source | None = None) -> A.Expr:
    """Parse one condition.  Raises ``ParseError`` located in the rule file."""
    src = source or Source(text)
    rule_id = src.rule_id
    if not isinstance(text, str):
        raise ParseError("条件必须是文本", src.location(0), rule_id=rule_id,
                         message_en="a condition must be text")
    if not text.strip():
        raise ParseError("条件为空", src.location(0), rule_id=rule_id, message_en="empty condition")
    if len(text) > MAX_EXPR_CHARS:
        raise ParseError(f"条件过长（{len(text)} 字符，上限 {MAX_EXPR_CHARS}）", src.location(0), rule_id=rule_id,
                         message_en="condition too long")
    _check_nesting(text, src)
    try:
        tree = _parser().parse(text)
    except UnexpectedCharacters as e:
        at = e.pos_in_stream if e.pos_in_stream is not None else len(text)  # always set by the lexer
        ch = text[at] if at < len(text) else ""
        hint = _char_hint(ch)
        raise ParseError(f"语法错误：无法识别的字符 {ch!r}", src.location(at), rule_id=rule_id,
                         message_en=f"syntax error: unexpected character {ch!r}", hint=hint) from None
    except UnexpectedToken as e:
        tok = e.token
        pos = tok.start_pos if tok.start_pos is not None else len(text)
        shown = "表达式结尾" if tok.type == "$END" else repr(str(tok))
        raise ParseError(
            f"语法错误：此处不应出现 {shown}，应为 {_describe_expected(e.expected)}",
            src.location(min(pos, len(text))), rule_id=rule_id,
            message_en=f"syntax error: unexpected {tok.type} {str(tok)!r}") from None
    except UnexpectedEOF as e:
        raise ParseError(f"语法错误：条件不完整，应为 {_describe_expected(set(e.expected))}",
                         src.location(len(text)), rule_id=rule_id,
                         message_en="syntax error: unexpected end of condition") from None
    except (UnexpectedInput, LarkError) as e:  # any other Lark failure: still ours, still located
        raise ParseError(f"语法错误：{type(e).__name__}", src.location(0), rule_id=rule_id) from None
    try:
        ast = _ToAst(src).transform(tree)
    except VisitError as e:
        if isinstance(e.orig_exc, ParseError):
            raise e.orig_exc from None
        raise ParseError(f"语法错误：{e.orig_exc}", src.location(0), rule_id=rule_id) from None
    if _depth(ast) > MAX_DEPTH:
        raise ParseError(f"条件嵌套过深（超过 {MAX_DEPTH} 层）；请拆成命名条件（let）", src.location(0), rule_id=rule_id,
                         message_en="condition nested too deeply")
    return ast


def _depth(e: A.Expr) -> int:
    """Depth of the AST, without recursion (later stages recurse, so it is bounded here)."""
    deepest, stack = 0, [(e, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        stack.extend((c, d + 1) for c in A.children(node))
    return deepest


# Comparison signs as typed by an input method or copied from the regulation: the operator to write.
_OPERATORS = {"≥": ">=", "⩾": ">=", "≧": ">=", "≤": "<=", "⩽": "<=", "≦": "<=", "≠": "!=", "＝": "==",
              "＜": "<", "＞": ">", "！": "!=", "＆": "and", "｜": "or", "＋": "+", "－": "-", "−": "-"}
_OPERATOR_ZH = {">=": "大于或等于", "<=": "小于或等于", "!=": "不等于", "==": "等于", "<": "小于", ">": "大于",
                "and": "并且", "or": "或者", "+": "加", "-": "减"}


def _char_hint(ch: str) -> str | None:
    if ch in _OPERATORS:
        op = _OPERATORS[ch]
        return f"请用 {op}（{_OPERATOR_ZH[op]}）；条件中的运算符只用半角：>=、<=、==、!=、<、>、and、or、not"
    fullwidth = {"（": "(", "）": ")", "，": ",", "：": ":", "“": '"', "”": '"', "‘": "'", "’": "'",
                 "【": "[", "】": "]", "。": ".", "．": ".", "［": "[", "］": "]", "＂": '"', "＇": "'"}
    if ch in fullwidth:
        return f"是否应为半角字符 {fullwidth[ch]!r}？"
    if ch == "=":
        return "比较相等请用 '=='"
    if ch == "&":
        return "请用 and"
    if ch == "|":
        return "请用 or"
    if ch == "!":
        return "取反请用 not，不等请用 '!='"
    if ch and not ch.isascii():
        import unicodedata

        latin = _CONFUSABLE.get(ch) or unicodedata.normalize("NFKC", ch)
        if latin.isascii() and latin.isalnum():
            name = unicodedata.name(ch, "")
            return f"{ch!r}（{name}，U+{ord(ch):04X}）看起来像英文字母 {latin!r}，但不是；请用英文字母重新输入"
        if len(latin) == 1 and latin.isascii() and latin.isprintable() and not latin.isspace():
            return f"是否应为半角字符 {latin!r}？"  # another full-width sign
        return "字段名只能使用英文字母、数字和下划线；中文请写在引号内"
    return None


# Letters of other scripts that look like Latin ones (the common Cyrillic and Greek look-alikes).
_CONFUSABLE = {"а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s",
               "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
               "Х": "X", "ο": "o", "α": "a", "ν": "v", "ι": "i", "Ο": "O", "Α": "A", "Β": "B", "Ε": "E", "Τ": "T"}


def _check_nesting(text: str, src: Source) -> None:
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([":
            depth += 1
            if depth > MAX_NESTING:
                raise ParseError(f"括号嵌套过深（超过 {MAX_NESTING} 层）", src.location(i), rule_id=src.rule_id,
                                 message_en="brackets nested too deeply")
        elif ch in ")]":
            depth -= 1
    # Long chains of "not" or unary minus nest without brackets.
    words = text.split()
    if words.count("not") > MAX_NESTING or text.count("-") > MAX_NESTING * 4:
        raise ParseError("条件嵌套过深", src.location(0), rule_id=src.rule_id, message_en="condition nested too deeply")


def _pos(meta_or_token) -> int:
    return getattr(meta_or_token, "start_pos", 0) or 0


@v_args(meta=True)
class _ToAst(Transformer_NonRecursive):
    # Non-recursive: a long "a and b and …" chain is a deep tree to Lark.
    def __init__(self, src: Source):
        super().__init__(visit_tokens=False)
        self.src = src

    def _err(self, msg: str, pos: int, en: str) -> ParseError:
        return ParseError(msg, self.src.location(pos), rule_id=self.src.rule_id, message_en=en)

    # literals ---------------------------------------------------------------
    def int_(self, meta, items):
        tok = items[0]
        if len(tok) > MAX_INT_DIGITS:
            raise self._err(f"整数过大（超过 {MAX_INT_DIGITS} 位）", tok.start_pos, "integer too large")
        return A.Literal(int(tok), pos=tok.start_pos)

    def decimal(self, meta, items):
        tok = items[0]
        if len(tok) > MAX_INT_DIGITS + 8:
            raise self._err("小数位数过多", tok.start_pos, "decimal too long")
        return A.Literal(float(tok), pos=tok.start_pos)

    def string(self, meta, items):
        tok = items[0]
        raw = str(tok)
        if raw.startswith("'"):
            body = raw[1:-1].replace('\\"', '"')
            raw = '"' + body.replace('"', '\\"').replace("\\'", "'") + '"'
        try:
            value = json.loads(raw)
        except ValueError:
            raise self._err("字符串中的转义字符无效", tok.start_pos, "invalid escape in string") from None
        return A.Literal(value, pos=tok.start_pos)

    def true(self, meta, items):
        return A.Literal(True, pos=_pos(meta))

    def false(self, meta, items):
        return A.Literal(False, pos=_pos(meta))

    def null(self, meta, items):
        return A.Literal(None, pos=_pos(meta))

    def list_(self, meta, items):
        elems = tuple(items[0]) if items else ()
        return A.ListLit(elems, pos=_pos(meta))

    def args(self, meta, items):
        return list(items)

    # names ------------------------------------------------------------------
    def name(self, meta, items):
        return A.Path((str(items[0]),), pos=items[0].start_pos)

    def field(self, meta, items):
        obj, name = items
        if isinstance(obj, A.Path):  # a.b.c stays one path: names resolve against the schema together
            return A.Path(obj.parts + (str(name),), pos=obj.pos)
        return A.Field(obj, str(name), pos=name.start_pos)

    def call(self, meta, items):
        name = items[0]
        args = tuple(items[1]) if len(items) > 1 else ()
        return A.Call(str(name), args, pos=name.start_pos)

    def _quant(self, kind, meta, items):
        var, iterable, body = items
        return A.Quant(kind, str(var), iterable, body, pos=_pos(meta))

    def any_(self, meta, items):
        return self._quant("any", meta, items)

    def all_(self, meta, items):
        return self._quant("all", meta, items)

    def count_(self, meta, items):
        return self._quant("count", meta, items)

    # operators --------------------------------------------------------------
    def _flatten(self, op, meta, items):
        left, right = items
        operands = left.operands if isinstance(left, A.BoolOp) and left.op == op else (left,)
        return A.BoolOp(op, tuple(operands) + (right,), pos=_pos(meta))

    def or_(self, meta, items):
        return self._flatten("or", meta, items)

    def and_(self, meta, items):
        return self._flatten("and", meta, items)

    def not_(self, meta, items):
        return A.Not(items[0], pos=_pos(meta))

    def neg(self, meta, items):
        operand = items[0]
        # Fold "-3" into a literal so that pretty-printing round-trips.
        if isinstance(operand, A.Literal) and type(operand.value) in (int, float):
            return A.Literal(-operand.value, pos=_pos(meta))
        return A.Neg(operand, pos=_pos(meta))

    def compare(self, meta, items):
        left, op, right = items
        return A.Compare(str(op), left, right, pos=op.start_pos)

    def arith(self, meta, items):
        left, op, right = items
        return A.Arith(str(op), left, right, pos=op.start_pos)

    def in_(self, meta, items):
        return A.In(items[0], items[1], False, pos=_pos(meta))

    def not_in(self, meta, items):
        return A.In(items[0], items[1], True, pos=_pos(meta))

    def is_null(self, meta, items):
        return A.IsNull(items[0], False, pos=_pos(meta))

    def is_not_null(self, meta, items):
        return A.IsNull(items[0], True, pos=_pos(meta))
