#!/usr/bin/env python3
"""Write rule-file skeletons ``rules/<N>.yaml`` (N = 1..38) and ``rules/annex-<N>.yaml``.

Each skeleton carries the article's (or annex's) text, cut from the regulation by
``xueji_policy.cites.split_regulation``, and an empty ``rules: []`` list to be
filled in by hand.  Existing files are left alone unless ``--force`` is given
(``--force`` overwrites the hand-written rules too — use with care).
``--check`` writes nothing and verifies that every existing file's ``text`` is
still exactly the extracted body.

    /work/venv/bin/python scripts/extract_articles.py [--force | --check]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from xueji_policy.cites import ArticleSource, int_to_cn, split_regulation  # noqa: E402

SOURCE = ROOT / "docs" / "source" / "yingkou-xueji-xize-2024.txt"
RULES = ROOT / "rules"
REGULATION_NAME = "《营口市普通高中学籍管理实施细则（试行）》"

# Short titles for the articles that have no heading of their own (≤ 12 characters).
# 第十三条 转学, 第十四条 休学与复学, 第十五条 退学 carry their own heading in the text.
TITLES: dict[int, str] = {
    1: "制定目的和依据",
    2: "适用范围",
    3: "管理体制和职责",
    4: "招生录取与报到注册",
    5: "学籍号与一人一籍",
    6: "身份证读卡建档",
    7: "不予注册学籍情形",
    8: "建立学籍档案",
    9: "电子学籍监管与纸质档案",
    10: "升学时学籍档案转接",
    11: "修改学生基础信息",
    12: "学籍变动种类",
    16: "死亡注销学籍",
    17: "学年学分制",
    18: "表扬和奖励",
    19: "处分种类",
    20: "处分原则与程序",
    21: "处分审批程序",
    22: "学生申诉",
    23: "撤销处分",
    24: "奖惩资料纳入学籍",
    25: "毕业条件",
    26: "结业与转为毕业",
    27: "肄业",
    28: "证书制作与发放",
    29: "证书换补发",
    30: "学籍管理员配备",
    31: "经费保障与及时操作",
    32: "学籍数据安全",
    33: "违反细则的责任",
    34: "学校违规情形",
    35: "严禁违规争抢生源",
    36: "外籍及港澳台学生",
    37: "解释权",
    38: "施行日期",
}


def title_of(src: ArticleSource) -> str:
    if src.heading:
        return src.heading
    if src.kind == "article":
        return TITLES[src.number]
    raise ValueError(f"{src.label} has no title line")


def file_name(src: ArticleSource) -> str:
    return f"{src.number}.yaml" if src.kind == "article" else f"annex-{src.number}.yaml"


def _kv(key: str, value) -> str:
    """One ``key: value`` line, quoted by PyYAML only if needed; real characters, not escapes."""
    return yaml.safe_dump({key: value}, allow_unicode=True, width=10_000, sort_keys=False)


def render(src: ArticleSource) -> str:
    title = title_of(src)
    if src.kind == "article":
        head = f"# 第{int_to_cn(src.number)}条 {title} — {REGULATION_NAME}\n"
        head += _kv("article", src.number) + _kv("title", title) + _kv("chapter", src.chapter)
    else:
        head = f"# 附件{src.number} {title} — {REGULATION_NAME}\n"
        head += _kv("annex", src.number) + _kv("title", title)
    assert src.text.endswith("\n") and "\n\n" not in src.text
    body = "".join("  " + line + "\n" for line in src.text.splitlines())
    return head + "text: |\n" + body + "rules: []\n"


def verify(path: Path, src: ArticleSource) -> list[str]:
    """Problems with ``path``'s text / number against the extraction (empty list if fine)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    problems = []
    key = "article" if src.kind == "article" else "annex"
    if not isinstance(data, dict):
        return [f"{path}: not a mapping"]
    if data.get(key) != src.number:
        problems.append(f"{path}: {key} is {data.get(key)!r}, expected {src.number}")
    if data.get("text") != src.text:
        problems.append(f"{path}: text differs from the extracted {src.label}")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, default=SOURCE)
    ap.add_argument("--rules-dir", type=Path, default=RULES)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--force", action="store_true", help="overwrite existing files")
    g.add_argument("--check", action="store_true", help="verify existing files, write nothing")
    args = ap.parse_args(argv)

    sources = split_regulation(args.source.read_text(encoding="utf-8"))
    n_art = sum(s.kind == "article" for s in sources)
    n_ann = sum(s.kind == "annex" for s in sources)
    if (n_art, n_ann) != (38, 3):
        print(f"expected 38 articles and 3 annexes, found {n_art} and {n_ann}", file=sys.stderr)
        return 1

    problems: list[str] = []
    written = skipped = 0
    if not args.check:
        args.rules_dir.mkdir(parents=True, exist_ok=True)
    for src in sources:
        path = args.rules_dir / file_name(src)
        if args.check:
            if not path.exists():
                problems.append(f"{path}: missing")
            else:
                problems += verify(path, src)
            continue
        if path.exists() and not args.force:
            skipped += 1
            continue
        path.write_text(render(src), encoding="utf-8")
        written += 1
        problems += verify(path, src)

    for p in problems:
        print(p, file=sys.stderr)
    if not args.check:
        print(f"wrote {written} file(s), left {skipped} existing file(s) alone")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
