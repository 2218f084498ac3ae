"""Cites: numerals, Cite display/parse, article structure, regulation splitting."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from xueji_policy.cites import (
    ArticleStructure,
    Cite,
    CiteNotFoundError,
    CiteSyntaxError,
    Regulation,
    cn_to_int,
    int_to_cn,
    parse_cite,
    split_regulation,
)

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "docs" / "source" / "yingkou-xueji-xize-2024.txt"
RULES = ROOT / "rules"


@pytest.fixture(scope="module")
def sources():
    return split_regulation(SOURCE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def reg(sources):
    return Regulation(sources)


def structure(reg: Regulation, n: int) -> ArticleStructure:
    return reg.structure(n)


def shape(s: ArticleStructure):
    """[(paragraph, [(item, n_subitems), …], n_direct_subitems), …]"""
    return [(p.number, [(i.number, len(i.subitems)) for i in p.items], len(p.subitems))
            for p in s.paragraphs]


# --------------------------------------------------------------------------- numerals


@pytest.mark.parametrize("n, cn", [
    (1, "一"), (2, "二"), (9, "九"), (10, "十"), (11, "十一"), (19, "十九"), (20, "二十"),
    (21, "二十一"), (30, "三十"), (38, "三十八"), (99, "九十九"), (100, "一百"),
    (101, "一百零一"), (110, "一百一十"), (119, "一百一十九"), (999, "九百九十九"),
])
def test_numerals(n, cn):
    assert int_to_cn(n) == cn
    assert cn_to_int(cn) == n


@pytest.mark.parametrize("cn, n", [("一十", 10), ("一十五", 15), ("两", 2), ("一百〇五", 105)])
def test_numeral_variants(cn, n):
    assert cn_to_int(cn) == n


@pytest.mark.parametrize("bad", ["", "零", "十十", "二二", "十零", "三十八条", "百", "一百十", "abc", "十一十"])
def test_bad_numerals(bad):
    with pytest.raises(ValueError):
        cn_to_int(bad)


@pytest.mark.parametrize("bad", [0, -1, 1000, True, 1.0])
def test_int_to_cn_range(bad):
    with pytest.raises(ValueError):
        int_to_cn(bad)


def test_numerals_round_trip_all():
    for n in range(1, 1000):
        assert cn_to_int(int_to_cn(n)) == n


# --------------------------------------------------------------------------- Cite


@pytest.mark.parametrize("cite, text", [
    (Cite(article=13, item=1, subitem=4), "第十三条第（一）项第4目"),
    (Cite(article=4, paragraph=2), "第四条第二款"),
    (Cite(article=14, item=3), "第十四条第（三）项"),
    (Cite(article=8, paragraph=2, item=1), "第八条第二款第（一）项"),
    (Cite(article=25), "第二十五条"),
    (Cite(annex=1), "附件1"),
    (Cite(article=34, item=8), "第三十四条第（八）项"),
    (Cite(article=13, item=10, subitem=12), "第十三条第（十）项第12目"),
])
def test_display(cite, text):
    assert cite.display() == text
    assert str(cite) == text
    assert parse_cite(text) == cite


def test_to_dict():
    assert Cite(article=13, item=1, subitem=4).to_dict() == {
        "article": 13, "paragraph": None, "item": 1, "subitem": 4}
    assert Cite(article=4, paragraph=2).to_dict() == {
        "article": 4, "paragraph": 2, "item": None, "subitem": None}


@pytest.mark.parametrize("kwargs", [
    {}, {"article": 1, "annex": 1}, {"annex": 1, "item": 1}, {"article": 0},
    {"article": 1, "item": -1}, {"article": True}, {"article": "13"},
])
def test_invalid_cite_values(kwargs):
    with pytest.raises(ValueError):
        Cite(**kwargs)


opt = st.none() | st.integers(1, 99)


@given(article=st.integers(1, 99), paragraph=opt, item=opt, subitem=opt)
def test_display_parse_round_trip(article, paragraph, item, subitem):
    c = Cite(article=article, paragraph=paragraph, item=item, subitem=subitem)
    assert parse_cite(c.display()) == c


@given(annex=st.integers(1, 99))
def test_annex_round_trip(annex):
    assert parse_cite(Cite(annex=annex).display()) == Cite(annex=annex)


def test_round_trip_every_unit_of_the_regulation(reg):
    n = 0
    for a in reg.articles:
        for c in reg.structure(a).cites():
            assert parse_cite(c.display()) == c
            assert reg.has(c), c.display()
            assert reg.canonical(c) == c
            n += 1
    assert n > 100


@pytest.mark.parametrize("text, canonical", [
    ("第十三条(一)4", "第十三条第（一）项第4目"),
    ("第十三条（一）4", "第十三条第（一）项第4目"),
    ("第十三条第(一)项第4目", "第十三条第（一）项第4目"),
    ("第十三条 第（一）项 第4目", "第十三条第（一）项第4目"),
    ("  第 十三 条（一）4目 ", "第十三条第（一）项第4目"),
    ("第13条", "第十三条"),
    ("第13条第（一）项", "第十三条第（一）项"),
    ("第13条(1)", "第十三条第（一）项"),
    ("第十三条第一项", "第十三条第（一）项"),
    ("第十三条（一）项", "第十三条第（一）项"),
    ("第4条第2款", "第四条第二款"),
    ("第八条第二款（一）", "第八条第二款第（一）项"),
    ("第八条 第二款 (七)", "第八条第二款第（七）项"),
    ("第十三条第（一）项4目", "第十三条第（一）项第4目"),
    ("第十三条第（一）项第四目", "第十三条第（一）项第4目"),
    ("第二十五条\u3000", "第二十五条"),
    ("附件1", "附件1"),
    ("附件 2", "附件2"),
    ("附件三", "附件3"),
])
def test_lenient_forms(text, canonical):
    assert parse_cite(text).display() == canonical


@pytest.mark.parametrize("text, offset", [
    ("", 0),
    ("   ", 0),
    ("十三条", 0),                    # no 第
    ("第条", 1),                      # no number
    ("第十三", 3),                    # no 条
    ("第十十条", 1),                  # malformed numeral
    ("第0条", 1),
    ("第十三条第（一项", 7),          # missing ）
    ("第十三条（一", 6),
    ("第十三条第（一）项第4", 11),     # missing 目
    ("第十三条第（一）项第4目x", 12),   # trailing text
    ("第十三条第（一）项第二款", 11),   # 款 after 项
    ("第十三条第（）项", 6),           # empty item number
    ("第十三条abc", 4),
    ("附件", 2),
    ("附件1第一条", 3),
])
def test_syntax_error_offsets(text, offset):
    with pytest.raises(CiteSyntaxError) as ei:
        parse_cite(text)
    assert ei.value.offset == offset, ei.value.message
    assert isinstance(ei.value, ValueError)
    assert ei.value.message  # Chinese message


def test_syntax_error_message_is_chinese():
    with pytest.raises(CiteSyntaxError) as ei:
        parse_cite("第十三条第（一项")
    assert "）" in ei.value.message and "项" in ei.value.message
    assert "第 8 个字符" in str(ei.value)


# --------------------------------------------------------------------------- structure


def test_article_4(reg):
    s = structure(reg, 4)
    assert s.heading is None
    assert shape(s) == [(1, [], 0), (2, [], 0)]
    assert s.text_of(Cite(article=4, paragraph=2)).startswith("被录取的新生凭录取结果")


def test_article_7(reg):
    s = structure(reg, 7)
    assert shape(s) == [(1, [(n, 0) for n in range(1, 7)], 0)]
    assert s.paragraphs[0].implicit is False


def test_article_8(reg):
    s = structure(reg, 8)
    assert shape(s) == [(1, [], 0), (2, [(n, 0) for n in range(1, 8)], 0)]
    assert s.text_of(Cite(article=8, paragraph=2)).startswith("学生学籍档案内容包括：\n（一）")
    assert s.text_of(Cite(article=8, paragraph=2, item=7)) == "（七）上级教育行政部门规定的其他信息和材料。\n"


def test_article_13(reg):
    s = structure(reg, 13)
    assert s.heading == "转学"
    assert len(s.paragraphs) == 1 and s.paragraphs[0].implicit
    items = s.paragraphs[0].items
    assert [i.number for i in items] == list(range(1, 8))
    assert [x.number for x in items[0].subitems] == list(range(1, 10))
    assert items[2].subitems == []
    # plain lines inside an item belong to it
    item1 = s.text_of(Cite(article=13, item=1))
    assert "有下列情况之一的，不得办理转学：\n" in item1
    assert item1.endswith("9.其他违反有关政策规定的。\n")
    item2 = s.text_of(Cite(article=13, item=2))
    assert item2.endswith("学生转出由市教育局根据学生具备的转出条件予以核准，学校不得拒绝办理符合条件的转出。\n")
    assert s.text_of(Cite(article=13, item=3)).count("\n") == 3
    assert s.text_of(Cite(article=13, item=1, subitem=4)) == "4.转入学校已达到校额上限3000人的或转入年级班额已满50人的；\n"


def test_article_14(reg):
    s = structure(reg, 14)
    assert s.heading == "休学与复学"
    assert shape(s) == [(1, [(n, 0) for n in range(1, 7)], 0)]
    # the indented （六） in the source is still an item
    assert s.text_of(Cite(article=14, item=6)) == "（六）学生休学满一年的，应免除其休学期间的学费。\n"


def test_article_15(reg):
    s = structure(reg, 15)
    assert s.heading == "退学"
    assert shape(s) == [(1, [(1, 4), (2, 0)], 0)]
    item1 = s.text_of(Cite(article=15, item=1))
    line = "学校作出退学处理决定需经校务会议讨论通过，通知学生本人及其父母或其他法定监护人，并报市教育局核准。\n"
    assert item1.endswith(line)
    assert line not in s.text_of(Cite(article=15, item=1, subitem=4))
    assert line not in s.text_of(Cite(article=15, item=2))


def test_article_19(reg):
    # NB: in this source text 第十九条 has two paragraphs: the 开除学籍 sentence
    # (学生在校期间被司法部门判刑…) is on the same line as the list of sanctions.
    s = structure(reg, 19)
    assert shape(s) == [(1, [], 0), (2, [], 0)]
    assert "给予开除学籍处分" in s.text_of(Cite(article=19, paragraph=2))


def test_article_18(reg):
    assert shape(structure(reg, 18)) == [(1, [], 0), (2, [], 0), (3, [], 0)]


def test_article_22(reg):
    s = structure(reg, 22)
    assert shape(s) == [(1, [], 0), (2, [], 0), (3, [], 0)]
    assert "5个工作日内" in s.text_of(Cite(article=22, paragraph=3))


def test_article_25(reg):
    s = structure(reg, 25)
    assert shape(s) == [(1, [(1, 0), (2, 0), (3, 0)], 0)]


def test_article_34(reg):
    assert shape(structure(reg, 34)) == [(1, [(n, 0) for n in range(1, 9)], 0)]


def test_structure_rules_on_synthetic_text():
    text = "\n".join([
        "标题",
        "第一款引语：",
        "1．甲；",
        "2、乙；",
        "第二款。",
        "（一）项一",
        "  1.目一",
        "项一的补充说明",
        "（二）项二",
    ])
    s = ArticleStructure.parse(text, 99)
    assert s.heading == "标题"
    assert shape(s) == [(1, [], 2), (2, [(1, 1), (2, 0)], 0)]
    assert s.has(Cite(article=99, paragraph=1, subitem=2))
    assert s.has(Cite(article=99, subitem=2))  # only 第一款 has direct 目
    assert s.text_of(Cite(article=99, paragraph=2, item=1)) == "（一）项一\n1.目一\n项一的补充说明\n"
    assert s.text_of(Cite(article=99)) == "标题\n第一款引语：\n1．甲；\n2、乙；\n第二款。\n（一）项一\n1.目一\n项一的补充说明\n（二）项二\n"


def test_structure_sequence_errors():
    with pytest.raises(ValueError):
        ArticleStructure.parse("引语：\n（一）甲\n（三）丙")
    with pytest.raises(ValueError):
        ArticleStructure.parse("引语：\n（一）甲\n1.a\n3.c")


def test_heading_only_when_short_and_unpunctuated(reg):
    for n in range(1, 39):
        h = structure(reg, n).heading
        assert h in (None, "转学", "休学与复学", "退学"), (n, h)
    assert structure(reg, 13).heading == "转学"


# --------------------------------------------------------------------------- has / explain / text_of


@pytest.mark.parametrize("text", [
    "第一条", "第三十八条", "第四条第一款", "第四条第二款", "第七条第（六）项",
    "第八条第二款第（一）项", "第八条第二款第（七）项", "第十三条第（一）项第4目",
    "第十三条第（一）项第9目", "第十三条第（七）项", "第十四条第（三）项",
    "第十五条第（一）项第4目", "第十九条第二款", "第二十二条第三款", "第二十五条第（三）项",
    "第十三条第一款", "第十三条第一款第（一）项", "附件1", "附件3",
])
def test_has_true(reg, text):
    c = parse_cite(text)
    assert reg.has(c)
    assert reg.explain_missing(c) == ""


@pytest.mark.parametrize("text, message", [
    ("第十三条第（十）项", "第十三条没有第（十）项（共七项）"),
    ("第十三条第（一）项第12目", "第十三条第（一）项没有第12目（共9目）"),
    ("第四条第三款", "第四条没有第三款（共两款）"),
    ("第十三条第（三）项第1目", "第十三条第（三）项没有第1目（该项不分目）"),
    ("第四条第（一）项", "第四条没有第（一）项（该条不分项）"),
    ("第八条第一款第（一）项", "第八条第一款没有第（一）项（该款不分项）"),
    ("第八条第二款第（八）项", "第八条第二款没有第（八）项（共七项）"),
    ("第二十二条第四款", "第二十二条没有第四款（共三款）"),
    ("第十三条第二款", "第十三条没有第二款（该条不分款）"),
    ("第十五条第（一）项第5目", "第十五条第（一）项没有第5目（共4目）"),
    ("第三十九条", "原文没有第三十九条（共三十八条）"),
    ("附件4", "原文没有附件4（共3个附件）"),
])
def test_has_false_and_explain(reg, text, message):
    c = parse_cite(text)
    assert not reg.has(c)
    assert reg.explain_missing(c) == message
    with pytest.raises(CiteNotFoundError) as ei:
        reg.text_of(c)
    assert ei.value.message == message


def test_subitem_without_item_is_explained(reg):
    c = parse_cite("第十三条第4目")
    assert not reg.has(c)
    assert "须写明项" in reg.explain_missing(c)


def test_structure_checks_article_number(reg):
    s = structure(reg, 13)
    assert not s.has(Cite(article=14, item=1))
    assert "第十四条" in s.explain_missing(Cite(article=14, item=1))
    assert not s.has(Cite(annex=1))


def test_canonical(reg):
    # items in a single-paragraph article are cited without 款 …
    assert reg.canonical(parse_cite("第十三条第一款第（一）项第4目")).display() == "第十三条第（一）项第4目"
    assert reg.canonical(parse_cite("第十三条第一款")).display() == "第十三条"
    # … and with 款 when the article has several (第八条: items in 第二款)
    assert reg.has(parse_cite("第八条第（一）项"))
    assert reg.canonical(parse_cite("第八条第（一）项")).display() == "第八条第二款第（一）项"
    assert reg.canonical(parse_cite("第四条第二款")).display() == "第四条第二款"


def test_text_of_is_exact_and_nested(reg, sources):
    for src in sources:
        if src.kind != "article":
            assert reg.text_of(src.cite) == src.text
            continue
        s = reg.structure(src.number)
        assert s.text_of(src.cite) == src.text
        for c in s.cites():
            t = s.text_of(c)
            assert t and t.endswith("\n") and t in src.text
            # a unit's text contains the text of every unit inside it
            for inner in s.cites():
                if c.contains(inner) and c != inner:
                    assert s.text_of(inner) in t


def test_text_of_paragraph_excludes_heading(reg):
    s = structure(reg, 13)
    assert s.text_of(Cite(article=13)).startswith("转学\n（一）")
    assert s.text_of(Cite(article=13, paragraph=1)).startswith("（一）")


# --------------------------------------------------------------------------- split_regulation


def test_split_counts(sources):
    arts = [s for s in sources if s.kind == "article"]
    anns = [s for s in sources if s.kind == "annex"]
    assert [a.number for a in arts] == list(range(1, 39))
    assert [a.number for a in anns] == [1, 2, 3]


def test_split_details(sources):
    by = {(s.kind, s.number): s for s in sources}
    a1 = by["article", 1]
    assert a1.chapter == "第一章 总则"
    assert a1.text.startswith("为全面贯彻党的教育方针")
    assert "关于印发" not in a1.text and "此件公开发布" not in a1.text
    a3 = by["article", 3]
    assert "第二章" not in a3.text and a3.text.endswith("确保信息真实、准确、完整。\n")
    a4 = by["article", 4]
    assert a4.chapter == "第二章 入学和注册" and a4.text.startswith("学校按照教育部")
    a9, a10 = by["article", 9], by["article", 10]  # no blank line between them in the source
    assert "第十条" not in a9.text and a10.text.startswith("学生在升学时")
    a13 = by["article", 13]
    assert a13.heading == "转学" and a13.chapter == "第三章 学籍变动管理"
    assert a13.text.startswith("转学\n（一）转学分为转入和转出。")
    a14 = by["article", 14]
    assert "\n（六）学生休学满一年的" in a14.text  # indentation removed
    a26 = by["article", 26]
    assert "第二十五条规定的毕业要求" in a26.text  # an in-text reference is not a header
    a38 = by["article", 38]
    assert a38.chapter == "第七章 附则"
    assert a38.text == ("本《细则》自发布之日起施行，《关于印发<营口市普通高级中学学生学籍管理实施细则（试行）>"
                        "的通知》（营教发〔2017〕64号）同时废止。\n")
    ann1 = by["annex", 1]
    assert ann1.heading == ann1.listed_name == "营口市普通高中学籍办理转入材料要求和流程"
    assert by["annex", 2].listed_name == "营口市普通高中学生休学申请表"
    assert by["annex", 3].heading == "营口市普通高中学生退学申请表"
    assert "附件2" not in ann1.text and "附件3" not in by["annex", 2].text
    for s in sources:
        assert "\n\n" not in s.text and s.text.endswith("\n")
        for line in s.text.splitlines():
            assert line == line.strip(" \t\u3000")


def test_split_tolerates_crlf(sources):
    crlf = SOURCE.read_text(encoding="utf-8").replace("\n", "\r\n")
    assert split_regulation(crlf) == sources


# --------------------------------------------------------------------------- rule-file skeletons


def _rule_file(src) -> Path:
    return RULES / (f"{src.number}.yaml" if src.kind == "article" else f"annex-{src.number}.yaml")


def test_rule_files_exist_and_match(sources):
    for src in sources:
        path = _rule_file(src)
        raw = path.read_text(encoding="utf-8")
        data = yaml.safe_load(raw)
        assert data["text"] == src.text, path
        assert "\\u" not in raw  # real characters, not escapes
        first = raw.splitlines()[0]
        assert first.startswith(f"# {src.label} ") and first.endswith("《营口市普通高中学籍管理实施细则（试行）》")
        assert "rules" in data and isinstance(data["rules"], list)
        if src.kind == "article":
            assert data["article"] == src.number
            assert data["chapter"] == src.chapter
            title = data["title"]
            assert isinstance(title, str) and 0 < len(title) <= 12
            if src.heading:
                assert title == src.heading
        else:
            assert data["annex"] == src.number
            assert data["title"] == src.heading


def test_rule_files_titles(sources):
    titles = {n: yaml.safe_load((RULES / f"{n}.yaml").read_text(encoding="utf-8"))["title"]
              for n in range(1, 39)}
    assert titles[13] == "转学" and titles[14] == "休学与复学" and titles[15] == "退学"
    assert titles[4] == "招生录取与报到注册"
    assert titles[16] == "死亡注销学籍"
    assert titles[25] == "毕业条件"
    assert len(set(titles.values())) == 38


def test_no_extra_rule_skeletons():
    names = {p.name for p in RULES.glob("*.yaml")}
    expected = {f"{n}.yaml" for n in range(1, 39)} | {f"annex-{n}.yaml" for n in (1, 2, 3)}
    assert expected <= names
