"""Citations of the regulation: numerals, the ``Cite`` value, its parser, article structure.

The regulation (《营口市普通高中学籍管理实施细则（试行）》) is cited the way Chinese
legal texts are cited: 条 (article) › 款 (paragraph) › 项 (item, written （一）（二）…)
› 目 (subitem, written 1. 2. …); the three annexes are cited as 附件1–3.

Canonical display forms (used in decisions)::

    第十三条第（一）项第4目    第四条第二款    第十四条第（三）项
    第八条第二款第（一）项      第二十五条      附件1

``parse_cite`` accepts these plus lenient variants (half-width parentheses,
Arabic article numbers, a missing 第/项/目, spaces) and reports syntax errors
with the 0-based character offset of the problem.

``ArticleStructure.parse`` recovers 款/项/目 from an article's text, and
``split_regulation`` cuts the whole regulation file into articles and annexes.
Every unit's text is a sequence of whole lines, each ending in ``\\n``; so
``text_of`` of an article is exactly its body and every smaller unit's text is a
substring of it (convenient for hashing cited text).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = [
    "ArticleSource",
    "ArticleStructure",
    "Cite",
    "CiteNotFoundError",
    "CiteSyntaxError",
    "Item",
    "Paragraph",
    "Regulation",
    "Subitem",
    "cn_to_int",
    "int_to_cn",
    "parse_cite",
    "split_regulation",
]

# --------------------------------------------------------------------------- numerals

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
           "六": 6, "七": 7, "八": 8, "九": 9}
_CN_DIGITS = "零一二三四五六七八九"
_NUMERAL_CHARS = set(_DIGITS) | {"十", "百"}


def cn_to_int(text: str) -> int:
    """Chinese numeral → int, 1..999: ``"三十八"`` → 38, ``"十"`` → 10, ``"一百零五"`` → 105.

    Accepts 两 for 2 and 〇 for 零, and the optional leading 一 of 一十. Raises
    ``ValueError`` for anything that is not a well-formed numeral.
    """
    if not isinstance(text, str) or not text:
        raise ValueError(f"不是中文数字：{text!r}")
    s = text
    hundreds = 0
    if "百" in s:
        head, _, s = s.partition("百")
        if len(head) != 1 or head not in _DIGITS or _DIGITS[head] == 0:
            raise ValueError(f"不是中文数字：{text!r}")
        hundreds = _DIGITS[head]
        if s == "":
            return hundreds * 100
        if s[0] in "零〇":
            # 一百零五: 零 stands for the missing tens; only a single digit may follow.
            s = s[1:]
            if len(s) != 1 or s not in _DIGITS or _DIGITS[s] == 0:
                raise ValueError(f"不是中文数字：{text!r}")
            return hundreds * 100 + _DIGITS[s]
        if "十" in s and s.index("十") == 0:
            raise ValueError(f"不是中文数字：{text!r}")  # 一百十 must be 一百一十
    rest = _under_100(s, text, allow_bare_ten=hundreds == 0)
    value = hundreds * 100 + rest
    if value < 1:
        raise ValueError(f"不是中文数字：{text!r}")
    return value


def _under_100(s: str, original: str, *, allow_bare_ten: bool) -> int:
    bad = ValueError(f"不是中文数字：{original!r}")
    if "十" in s:
        tens_s, _, ones_s = s.partition("十")
        if tens_s == "":
            if not allow_bare_ten:
                raise bad
            tens = 1
        elif len(tens_s) == 1 and tens_s in _DIGITS and _DIGITS[tens_s] > 0:
            tens = _DIGITS[tens_s]
        else:
            raise bad
        if ones_s == "":
            ones = 0
        elif len(ones_s) == 1 and ones_s in _DIGITS and _DIGITS[ones_s] > 0:
            ones = _DIGITS[ones_s]
        else:
            raise bad
        return tens * 10 + ones
    if len(s) == 1 and s in _DIGITS and _DIGITS[s] > 0:
        return _DIGITS[s]
    raise bad


def int_to_cn(n: int) -> str:
    """int → Chinese numeral, 1..999: 38 → ``"三十八"``, 10 → ``"十"``, 110 → ``"一百一十"``."""
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 999:
        raise ValueError(f"只能转换 1–999 的整数：{n!r}")
    hundreds, rest = divmod(n, 100)
    tens, ones = divmod(rest, 10)
    out = ""
    if hundreds:
        out += _CN_DIGITS[hundreds] + "百"
        if rest == 0:
            return out
        if tens == 0:
            return out + "零" + _CN_DIGITS[ones]
        out += _CN_DIGITS[tens] + "十"
    elif tens:
        out += ("" if tens == 1 else _CN_DIGITS[tens]) + "十"
    if ones:
        out += _CN_DIGITS[ones]
    return out


def _count_cn(n: int) -> str:
    """A count as said in a sentence: 共两款, 共七项 (两, not 二, for exactly 2)."""
    return "两" if n == 2 else int_to_cn(n)


# --------------------------------------------------------------------------- Cite


class CiteSyntaxError(ValueError):
    """A cite string that does not parse.  ``offset`` is the 0-based character offset."""

    def __init__(self, message_zh: str, offset: int, text: str | None = None):
        super().__init__(message_zh, offset)
        self.message = message_zh
        self.offset = offset
        self.text = text

    def __str__(self) -> str:
        s = f"{self.message}（第 {self.offset + 1} 个字符处）"
        if self.text is not None:
            s += f"：{self.text}"
        return s


class CiteNotFoundError(LookupError):
    """A well-formed cite naming a unit the regulation does not have."""

    def __init__(self, message_zh: str, cite: Cite | None = None):
        super().__init__(message_zh)
        self.message = message_zh
        self.cite = cite

    def __str__(self) -> str:
        return self.message


def _check_pos(name: str, v) -> None:
    if v is None:
        return
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError(f"Cite.{name} must be a positive int or None, not {v!r}")


@dataclass(frozen=True)
class Cite:
    """One citation: an article unit (条/款/项/目) or an annex (附件N)."""

    article: int | None = None
    paragraph: int | None = None
    item: int | None = None
    subitem: int | None = None
    annex: int | None = None

    def __post_init__(self) -> None:
        for name in ("article", "paragraph", "item", "subitem", "annex"):
            _check_pos(name, getattr(self, name))
        if (self.article is None) == (self.annex is None):
            raise ValueError("a Cite names exactly one of an article or an annex")
        if self.annex is not None and (self.paragraph or self.item or self.subitem):
            raise ValueError("an annex cite has no paragraph, item or subitem")

    @property
    def is_annex(self) -> bool:
        return self.annex is not None

    @property
    def article_no(self) -> int:
        """The article of an article cite (call it once the cite is known not to be an annex)."""
        assert self.article is not None, "an annex cite has no article"
        return self.article

    def display(self) -> str:
        """The canonical form: ``第十三条第（一）项第4目``, ``第四条第二款``, ``附件1``."""
        if self.annex is not None:
            return f"附件{self.annex}"
        s = f"第{int_to_cn(self.article_no)}条"
        if self.paragraph is not None:
            s += f"第{int_to_cn(self.paragraph)}款"
        if self.item is not None:
            s += f"第（{int_to_cn(self.item)}）项"
        if self.subitem is not None:
            s += f"第{self.subitem}目"
        return s

    def __str__(self) -> str:
        return self.display()

    def to_dict(self) -> dict:
        """The Reason fields: ``{article, paragraph, item, subitem}`` (an annex cite has article None)."""
        return {"article": self.article, "paragraph": self.paragraph,
                "item": self.item, "subitem": self.subitem}

    def sort_key(self) -> tuple:
        """Document order: articles first (条 › 款 › 项 › 目), then annexes."""
        if self.annex is not None:
            return (1, self.annex, 0, 0, 0)
        return (0, self.article, self.paragraph or 0, self.item or 0, self.subitem or 0)

    def article_cite(self) -> Cite:
        """The whole article (or annex) this cite is in."""
        return Cite(annex=self.annex) if self.annex is not None else Cite(article=self.article)

    def contains(self, other: Cite) -> bool:
        """True if ``other`` is this unit or inside it (syntactically: 第十三条 contains 第十三条第（一）项)."""
        if self.annex is not None or other.annex is not None:
            return self.annex == other.annex and self.annex is not None
        if self.article != other.article:
            return False
        for mine, theirs in ((self.paragraph, other.paragraph), (self.item, other.item),
                             (self.subitem, other.subitem)):
            if mine is not None and mine != theirs:
                return False
        return True


# --------------------------------------------------------------------------- parser

_SPACE = set(" \t\u3000\u00a0")
_LPAREN = "（("
_RPAREN = "）)"


class _CiteParser:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    # -- helpers
    def error(self, message: str, offset: int | None = None) -> CiteSyntaxError:
        return CiteSyntaxError(message, self.pos if offset is None else offset, self.text)

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in _SPACE:
            self.pos += 1

    def peek(self, k: int = 0) -> str:
        self.skip_ws()
        i = self.pos + k
        return self.text[i] if i < len(self.text) else ""

    def peek_after_ws(self, start: int) -> tuple[str, int]:
        i = start
        while i < len(self.text) and self.text[i] in _SPACE:
            i += 1
        return (self.text[i] if i < len(self.text) else "", i)

    def accept(self, chars: str) -> bool:
        if self.peek() and self.peek() in chars:
            self.pos += 1
            return True
        return False

    def expect(self, chars: str, what: str) -> None:
        if not self.accept(chars):
            got = self.peek()
            found = f"，遇到「{got}」" if got else "，引用已结束"
            raise self.error(f"此处应为「{what}」{found}")

    def number(self, what: str) -> int:
        """A Chinese or Arabic numeral at the current position."""
        self.skip_ws()
        start = self.pos
        t = self.text
        if self.pos < len(t) and t[self.pos].isascii() and t[self.pos].isdigit():
            while self.pos < len(t) and t[self.pos].isascii() and t[self.pos].isdigit():
                self.pos += 1
            digits = t[start:self.pos]
            value = int(digits)
            if value < 1 or digits.startswith("0"):
                raise self.error(f"{what}必须是正整数，不能是「{digits}」", start)
            return value
        while self.pos < len(t) and t[self.pos] in _NUMERAL_CHARS:
            self.pos += 1
        numeral = t[start:self.pos]
        if not numeral:
            got = t[start] if start < len(t) else ""
            found = f"，遇到「{got}」" if got else "，引用已结束"
            raise self.error(f"此处应为{what}（中文数字或阿拉伯数字）{found}", start)
        try:
            return cn_to_int(numeral)
        except ValueError:
            raise self.error(f"「{numeral}」不是正确的中文数字", start) from None

    def at_number(self, start: int | None = None) -> bool:
        ch, _ = self.peek_after_ws(self.pos if start is None else start)
        return bool(ch) and (ch in _NUMERAL_CHARS or (ch.isascii() and ch.isdigit()))

    # -- grammar
    def parse(self) -> Cite:
        if not self.text.strip():
            raise self.error("引用为空", 0)
        self.skip_ws()
        if self.text.startswith("附件", self.pos):
            self.pos += 2
            annex = self.number("附件编号")
            self.end()
            return Cite(annex=annex)
        if self.peek() != "第":
            raise self.error("引用应以「第…条」或「附件」开头")
        self.pos += 1
        article = self.number("条号")
        self.expect("条", "条")
        paragraph = item = subitem = None

        # 款: 第二款
        ch, i = self.peek_after_ws(self.pos)
        if ch == "第" and self._numeral_then(i + 1, "款"):
            self.pos = i + 1
            paragraph = self.number("款号")
            self.expect("款", "款")

        # 项: 第（一）项 / （一） / (一) / 第一项
        ch, i = self.peek_after_ws(self.pos)
        if ch == "第":
            ch2, j = self.peek_after_ws(i + 1)
            if ch2 and ch2 in _LPAREN:
                self.pos = j
                item = self._paren_item()
                self.accept("项")
            elif self._numeral_then(i + 1, "项"):
                self.pos = i + 1
                item = self.number("项号")
                self.expect("项", "项")
        elif ch and ch in _LPAREN:
            self.pos = i
            item = self._paren_item()
            self.accept("项")

        # 目: 第4目 / 4 / 4目
        ch, i = self.peek_after_ws(self.pos)
        if ch == "第" or (ch and self.at_number(i)):
            had_di = ch == "第"
            self.pos = i + 1 if had_di else i
            subitem = self.number("目号")
            if not self.accept("目") and had_di:
                got = self.peek()
                if got in ("款", "项", "条"):
                    raise self.error(f"「{got}」的位置不对：引用的顺序是 条、款、项、目")
                raise self.error("此处应为「目」" + (f"，遇到「{got}」" if got else "，引用已结束"))
        self.end()
        return Cite(article=article, paragraph=paragraph, item=item, subitem=subitem)

    def _numeral_then(self, i: int, unit: str) -> bool:
        """Is there a numeral starting at ``i`` (after spaces) immediately followed by ``unit``?"""
        _, j = self.peek_after_ws(i)
        k = j
        t = self.text
        while k < len(t) and (t[k] in _NUMERAL_CHARS or (t[k].isascii() and t[k].isdigit())):
            k += 1
        if k == j:
            return False
        ch, _ = self.peek_after_ws(k)
        return ch == unit

    def _paren_item(self) -> int:
        self.expect(_LPAREN, "（")
        value = self.number("项号")
        self.expect(_RPAREN, "）")
        return value

    def end(self) -> None:
        self.skip_ws()
        if self.pos < len(self.text):
            got = self.text[self.pos]
            if got in ("款", "项", "条"):
                raise self.error(f"「{got}」的位置不对：引用的顺序是 条、款、项、目")
            raise self.error(f"引用在此处应结束，多出「{self.text[self.pos:]}」")


def parse_cite(text: str) -> Cite:
    """Parse a cite string.  Raises ``CiteSyntaxError`` with the offset of the problem.

    >>> parse_cite("第十三条第（一）项第4目").display()
    '第十三条第（一）项第4目'
    >>> parse_cite("第13条 (一) 4").display()
    '第十三条第（一）项第4目'
    """
    if not isinstance(text, str):
        raise CiteSyntaxError("引用必须是字符串", 0)
    return _CiteParser(text).parse()


# --------------------------------------------------------------------------- structure

_ITEM_RE = re.compile(r"^[（(]([零〇一二两三四五六七八九十百]+)[）)]")
_SUBITEM_RE = re.compile(r"^([0-9]{1,3})\s*[.．、]")
_HEADING_PUNCT = set("。，；：、,;:（）()《》“”\"!?！？")


def _strip_line(line: str) -> str:
    return line.strip(" \t\u3000\u00a0\r\n")


@dataclass
class Subitem:
    number: int
    lines: list[int] = field(default_factory=list)  # indices into ArticleStructure.lines


@dataclass
class Item:
    number: int
    lines: list[int] = field(default_factory=list)  # every line of the item, subitems included
    subitems: list[Subitem] = field(default_factory=list)

    def subitem(self, n: int) -> Subitem | None:
        return next((s for s in self.subitems if s.number == n), None)


@dataclass
class Paragraph:
    number: int
    lines: list[int] = field(default_factory=list)  # every line of the paragraph
    items: list[Item] = field(default_factory=list)
    subitems: list[Subitem] = field(default_factory=list)  # 目 directly under the 款 (no 项)
    implicit: bool = False  # opened by an item/subitem line, not by a lead sentence

    def item(self, n: int) -> Item | None:
        return next((i for i in self.items if i.number == n), None)

    def subitem(self, n: int) -> Subitem | None:
        return next((s for s in self.subitems if s.number == n), None)


def _is_heading(line: str) -> bool:
    return (len(line) <= 12 and not _ITEM_RE.match(line) and not _SUBITEM_RE.match(line)
            and not any(ch in _HEADING_PUNCT for ch in line))


@dataclass
class ArticleStructure:
    """款/项/目 of one article, recovered from its text (see module doc for the rules)."""

    article: int | None
    heading: str | None
    lines: list[str]
    paragraphs: list[Paragraph]
    heading_line: int | None = None

    # ---------------------------------------------------------------- parsing
    @classmethod
    def parse(cls, text: str, article: int | None = None) -> ArticleStructure:
        """Parse an article body.

        Rules: non-empty lines are units; a leading short title line without
        punctuation is a heading; ``（一）`` starts an item (项); ``1.`` ``2．``
        ``3、`` starts a subitem (目) of the current item, or of the current
        paragraph if no item has started; before any item, every other line is a
        new paragraph (款); once items have started, further plain lines belong
        to the current item; items belong to the paragraph in which they start.
        Raises ``ValueError`` if item or subitem numbers are out of sequence.
        """
        lines = [_strip_line(ln) for ln in text.splitlines()]
        lines = [ln for ln in lines if ln]
        label = f"第{int_to_cn(article)}条" if article else "本条"
        heading = None
        heading_line = None
        paragraphs: list[Paragraph] = []
        cur_item: Item | None = None

        def para() -> Paragraph:
            if not paragraphs:
                paragraphs.append(Paragraph(1, implicit=True))
            return paragraphs[-1]

        for idx, line in enumerate(lines):
            if idx == 0 and len(lines) > 1 and _is_heading(line):
                heading, heading_line = line, idx
                continue
            m_item = _ITEM_RE.match(line)
            m_sub = _SUBITEM_RE.match(line)
            if m_item:
                p = para()
                n = cn_to_int(m_item.group(1))
                expected = len(p.items) + 1
                if n != expected:
                    raise ValueError(f"{label}第{int_to_cn(p.number)}款的项号不连续："
                                     f"应为（{int_to_cn(expected)}），却是（{m_item.group(1)}）")
                cur_item = Item(n, [idx])
                p.items.append(cur_item)
                p.lines.append(idx)
            elif m_sub:
                p = para()
                n = int(m_sub.group(1))
                owner = cur_item if cur_item is not None else p
                expected = len(owner.subitems) + 1
                if n != expected:
                    where = f"第（{int_to_cn(cur_item.number)}）项" if cur_item else f"第{int_to_cn(p.number)}款"
                    raise ValueError(f"{label}{where}的目号不连续：应为 {expected}，却是 {n}")
                # a subitem is one line: a following plain line goes to the item
                owner.subitems.append(Subitem(n, [idx]))
                if cur_item is not None:
                    cur_item.lines.append(idx)
                p.lines.append(idx)
            elif cur_item is not None:
                # text inside an item but outside its numbered list: cited by the item
                cur_item.lines.append(idx)
                paragraphs[-1].lines.append(idx)
            else:
                paragraphs.append(Paragraph(len(paragraphs) + 1, [idx]))
        return cls(article=article, heading=heading, lines=lines, paragraphs=paragraphs,
                   heading_line=heading_line)

    # ---------------------------------------------------------------- lookup
    def paragraph(self, n: int) -> Paragraph | None:
        return self.paragraphs[n - 1] if 1 <= n <= len(self.paragraphs) else None

    @property
    def items(self) -> list[Item]:
        """All items of the article, in order (they may sit in different paragraphs)."""
        return [i for p in self.paragraphs for i in p.items]

    def _label(self, cite: Cite) -> str:
        return f"第{int_to_cn(cite.article_no)}条"

    def _resolve(self, cite: Cite):
        """→ (unit, None) or (None, message)."""
        if cite.annex is not None:
            return None, f"{cite.display()}是附件，不是条文"
        label = self._label(cite)
        if self.article is not None and cite.article != self.article:
            return None, f"引用的是{label}，而这里是第{int_to_cn(self.article)}条"
        if cite.paragraph is None and cite.item is None and cite.subitem is None:
            return self, None

        # 款
        n_par = len(self.paragraphs)
        if cite.paragraph is not None:
            p = self.paragraph(cite.paragraph)
            if p is None:
                if n_par <= 1:
                    return None, f"{label}没有第{int_to_cn(cite.paragraph)}款（该条不分款）"
                return None, f"{label}没有第{int_to_cn(cite.paragraph)}款（共{_count_cn(n_par)}款）"
            prefix = f"{label}第{int_to_cn(cite.paragraph)}款"
        else:
            prefix = label
            p = None
            if cite.item is not None:
                with_items = [q for q in self.paragraphs if q.items]
                if not with_items:
                    return None, f"{label}没有第（{int_to_cn(cite.item)}）项（该条不分项）"
                if len(with_items) > 1:
                    return None, (f"{label}有{_count_cn(len(with_items))}款分项，"
                                  f"引用项时须写明款，如{label}第{int_to_cn(with_items[0].number)}款"
                                  f"第（{int_to_cn(cite.item)}）项")
                p = with_items[0]
            else:  # subitem directly
                with_subs = [q for q in self.paragraphs if q.subitems]
                if not with_subs:
                    if any(i.subitems for i in self.items):
                        return None, f"{label}的目在项之下，引用目时须写明项，如{label}第（一）项第{cite.subitem}目"
                    return None, f"{label}没有第{cite.subitem}目（该条不分目）"
                if len(with_subs) > 1:
                    return None, f"{label}有多款分目，引用目时须写明款"
                p = with_subs[0]

        if cite.item is None and cite.subitem is None:
            return p, None

        # 项
        if cite.item is not None:
            it = p.item(cite.item)
            if it is None:
                unit = "款" if cite.paragraph is not None else "条"
                if not p.items:
                    return None, f"{prefix}没有第（{int_to_cn(cite.item)}）项（该{unit}不分项）"
                return None, f"{prefix}没有第（{int_to_cn(cite.item)}）项（共{_count_cn(len(p.items))}项）"
            if cite.subitem is None:
                return it, None
            prefix += f"第（{int_to_cn(cite.item)}）项"
            sub = it.subitem(cite.subitem)
            if sub is None:
                if not it.subitems:
                    return None, f"{prefix}没有第{cite.subitem}目（该项不分目）"
                return None, f"{prefix}没有第{cite.subitem}目（共{len(it.subitems)}目）"
            return sub, None

        # 目 directly under a 款
        assert cite.subitem is not None  # neither item nor subitem returned above
        sub = p.subitem(cite.subitem)
        if sub is None:
            if not p.subitems:
                if p.items and any(i.subitems for i in p.items):
                    return None, f"{prefix}的目在项之下，引用目时须写明项"
                return None, f"{prefix}没有第{cite.subitem}目（不分目）"
            return None, f"{prefix}没有第{cite.subitem}目（共{len(p.subitems)}目）"
        return sub, None

    def has(self, cite: Cite) -> bool:
        """Does this article have the unit ``cite`` names?

        A cite without 款 is accepted for an item when exactly one paragraph has
        items (第十三条第（一）项; also 第八条第（一）项 for 第八条第二款第（一）项);
        ``canonical`` gives the preferred form.
        """
        unit, _ = self._resolve(cite)
        return unit is not None

    def explain_missing(self, cite: Cite) -> str:
        """Why ``cite`` names nothing here, in Chinese; ``""`` if it does name a unit.

        e.g. ``第十三条没有第（十）项（共七项）``, ``第十三条第（一）项没有第12目（共9目）``,
        ``第四条没有第三款（共两款）``.
        """
        _, message = self._resolve(cite)
        return message or ""

    def canonical(self, cite: Cite) -> Cite:
        """The preferred form of a cite that exists: 款 is written iff the article has
        more than one paragraph (第八条第二款第（一）项, but 第十三条第（一）项)."""
        unit, message = self._resolve(cite)
        if unit is None:
            raise CiteNotFoundError(message, cite)
        if isinstance(unit, ArticleStructure):
            return Cite(article=cite.article)
        multi = len(self.paragraphs) > 1
        if isinstance(unit, Paragraph):
            return Cite(article=cite.article, paragraph=unit.number) if multi else Cite(article=cite.article)
        owner = next(p for p in self.paragraphs
                     if unit in p.items or unit in p.subitems or any(unit in i.subitems for i in p.items))
        return Cite(article=cite.article, paragraph=owner.number if multi else None,
                    item=cite.item, subitem=cite.subitem)

    def text_of(self, cite: Cite) -> str:
        """The exact text of the cited unit: whole lines, each ending in ``\\n``.

        The article: every line, heading included; a paragraph: its lines with its
        items; an item: its lines with its subitems; a subitem: its line(s).
        Raises ``CiteNotFoundError`` if the unit does not exist.
        """
        unit, message = self._resolve(cite)
        if unit is None:
            raise CiteNotFoundError(message, cite)
        idx = range(len(self.lines)) if isinstance(unit, ArticleStructure) else unit.lines
        return "".join(self.lines[i] + "\n" for i in idx)

    def cites(self) -> Iterator[Cite]:
        """Every unit of the article in document order, in canonical form."""
        a = self.article
        if a is None:
            raise ValueError("cites() needs the article number: ArticleStructure.parse(text, article=N)")
        yield Cite(article=a)
        multi = len(self.paragraphs) > 1
        for p in self.paragraphs:
            pn = p.number if multi else None
            if multi:
                yield Cite(article=a, paragraph=p.number)
            for s in p.subitems:
                yield Cite(article=a, paragraph=pn, subitem=s.number)
            for it in p.items:
                yield Cite(article=a, paragraph=pn, item=it.number)
                for s in it.subitems:
                    yield Cite(article=a, paragraph=pn, item=it.number, subitem=s.number)


# --------------------------------------------------------------------------- regulation file

_CHAPTER_RE = re.compile(r"^第([零〇一二两三四五六七八九十百]+)章[ \t\u3000]*(.*)$")
_ARTICLE_RE = re.compile(r"^第([零〇一二两三四五六七八九十百]+)条(?:[ \t\u3000]+(.*))?$")
_ANNEX_HEAD_RE = re.compile(r"^附件[ \t\u3000]*([0-9]+)$")
_ANNEX_LIST_RE = re.compile(r"^附件[：:]")
_ANNEX_LIST_ENTRY_RE = re.compile(r"^(?:附件[：:])?[ \t\u3000]*([0-9]+)[.．、][ \t\u3000]*(.+)$")


@dataclass(frozen=True)
class ArticleSource:
    """One article (``kind == "article"``) or annex (``kind == "annex"``) of the regulation.

    ``text`` is the body: for an article everything after ``第N条`` and its
    spacing (a heading such as 转学 is its first line); blank lines dropped,
    each line stripped of indentation and trailing spaces and ended with ``\\n``.
    ``heading`` is the article's own title line (转学) or the annex's title line.
    ``listed_name`` is, for an annex, its name in the 附件 list after 第三十八条.
    """

    kind: str
    number: int
    text: str
    chapter: str | None = None
    heading: str | None = None
    listed_name: str | None = None

    @property
    def cite(self) -> Cite:
        return Cite(article=self.number) if self.kind == "article" else Cite(annex=self.number)

    @property
    def label(self) -> str:
        return f"第{int_to_cn(self.number)}条" if self.kind == "article" else f"附件{self.number}"

    def structure(self) -> ArticleStructure:
        if self.kind != "article":
            raise ValueError(f"{self.label}是附件，不分款项")
        return ArticleStructure.parse(self.text, self.number)


def _body(lines: list[str]) -> str:
    kept = [_strip_line(ln) for ln in lines]
    return "".join(ln + "\n" for ln in kept if ln)


def split_regulation(source_text: str) -> list[ArticleSource]:
    """Cut the regulation file into its articles (in order) followed by its annexes.

    The notice and title before 第一章 belong to no article; chapter lines
    (``第二章 入学和注册``) are recorded as each article's ``chapter``; the 附件
    list after the last article (``附件：1.营口市…``) belongs to no article and
    becomes the annexes' ``listed_name``.  An article header must carry the
    next article number in sequence, so a sentence that happens to begin with
    ``第N条`` is not mistaken for a header.
    """
    raw = source_text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[dict] = []
    listed: dict[int, str] = {}
    chapter: str | None = None
    started = False
    mode = "preamble"  # preamble | article | annex_list | annex
    current: dict | None = None

    for raw_line in raw:
        line = _strip_line(raw_line)
        m_ch = _CHAPTER_RE.match(line)
        if m_ch and mode in ("preamble", "article"):
            started = True
            chapter = re.sub(r"[ \t\u3000]+", " ", line)
            mode = "article"
            current = None
            continue
        if not started:
            continue
        m_art = _ARTICLE_RE.match(line)
        if m_art and mode == "article":
            try:
                n = cn_to_int(m_art.group(1))
            except ValueError:
                n = None
            expected = sum(1 for a in out if a["kind"] == "article") + 1
            if n == expected:
                current = {"kind": "article", "number": n, "lines": [m_art.group(2) or ""],
                           "chapter": chapter}
                out.append(current)
                continue
        if _ANNEX_LIST_RE.match(line) and mode == "article":
            mode = "annex_list"
            current = None
        m_ann = _ANNEX_HEAD_RE.match(line)
        if m_ann and mode in ("article", "annex_list", "annex"):
            mode = "annex"
            current = {"kind": "annex", "number": int(m_ann.group(1)), "lines": [], "chapter": None}
            out.append(current)
            continue
        if mode == "annex_list":
            m = _ANNEX_LIST_ENTRY_RE.match(line)
            if m:
                listed[int(m.group(1))] = m.group(2).strip()
            continue
        if current is not None:
            current["lines"].append(raw_line)

    result: list[ArticleSource] = []
    for a in out:
        text = _body(a["lines"])
        heading = None
        if a["kind"] == "article":
            s = ArticleStructure.parse(text, a["number"])
            heading = s.heading
        else:
            heading = text.split("\n", 1)[0] if text else None
        result.append(ArticleSource(kind=a["kind"], number=a["number"], text=text,
                                    chapter=a["chapter"], heading=heading,
                                    listed_name=listed.get(a["number"]) if a["kind"] == "annex" else None))
    return result


class Regulation:
    """The whole regulation: look up any cite (article units and annexes)."""

    def __init__(self, sources: list[ArticleSource]):
        self.sources = list(sources)
        self.articles = {s.number: s for s in self.sources if s.kind == "article"}
        self.annexes = {s.number: s for s in self.sources if s.kind == "annex"}
        self._structures: dict[int, ArticleStructure] = {}

    @classmethod
    def from_text(cls, source_text: str) -> Regulation:
        return cls(split_regulation(source_text))

    @classmethod
    def from_file(cls, path) -> Regulation:
        from pathlib import Path

        return cls.from_text(Path(path).read_text(encoding="utf-8"))

    def structure(self, article: int) -> ArticleStructure:
        if article not in self._structures:
            self._structures[article] = self.articles[article].structure()
        return self._structures[article]

    def _missing_top(self, cite: Cite) -> str | None:
        if cite.annex is not None:
            if cite.annex not in self.annexes:
                return f"原文没有附件{cite.annex}（共{len(self.annexes)}个附件）"
            return None
        if cite.article not in self.articles:
            return f"原文没有第{int_to_cn(cite.article_no)}条（共{_count_cn(len(self.articles))}条）"
        return None

    def has(self, cite: Cite) -> bool:
        if self._missing_top(cite) is not None:
            return False
        return cite.annex is not None or self.structure(cite.article_no).has(cite)

    def explain_missing(self, cite: Cite) -> str:
        top = self._missing_top(cite)
        if top is not None:
            return top
        return "" if cite.annex is not None else self.structure(cite.article_no).explain_missing(cite)

    def canonical(self, cite: Cite) -> Cite:
        top = self._missing_top(cite)
        if top is not None:
            raise CiteNotFoundError(top, cite)
        return cite if cite.annex is not None else self.structure(cite.article_no).canonical(cite)

    def text_of(self, cite: Cite) -> str:
        top = self._missing_top(cite)
        if top is not None:
            raise CiteNotFoundError(top, cite)
        if cite.annex is not None:
            return self.annexes[cite.annex].text
        return self.structure(cite.article_no).text_of(cite)
