"""``xueji-policy verify PROPS.yaml`` / ``verify --compare OLD NEW``: proofs with an SMT solver.

Exit codes: 0 every property proved (``--compare``: every action equivalent), 1 a property refuted (with a
counterexample checked by ``evaluate``) or not proved, 2 an error — a property file mistake, or a
counterexample the engine does not confirm (a bug of the encoding, reported as such).
"""

from __future__ import annotations

import datetime as _dt
import json
import sys


def add_arguments(p) -> None:
    p.add_argument("props", metavar="PROPS.yaml", nargs="?", help="性质文件（如 rules/properties.yaml）")
    p.add_argument("--rules", metavar="DIR", help="规则目录（默认：随包发布的 rules/）")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="只证明这一天的案例（参数取当日的值）；默认：规则生效以来、日历覆盖的每一天")
    p.add_argument("--compare", nargs=2, metavar=("OLD", "NEW"), help="比较两个规则目录：逐个操作判断等价、更严格、更宽松或互有宽严")
    p.add_argument("--action", action="extend", nargs="+", metavar="ACTION",
                   help="--compare 时只比较这些操作（可写多个，也可重复）")
    p.add_argument("--symbolic-params", action="store_true",
                   help="把整数、数值参数当作符号：证明对参数的任何非负取值都成立；反例给出所需的参数值")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")


def _day(text: str | None) -> _dt.date | None:
    if text is None:
        return None
    from ..errors import XuejiError

    try:
        return _dt.date.fromisoformat(text)
    except ValueError:
        raise XuejiError(f"--date 应为 YYYY-MM-DD 格式的日期，实际为 {text!r}", f"--date must be YYYY-MM-DD: {text!r}") \
            from None


def _missing_z3() -> int:
    try:
        import z3  # noqa: F401
    except ImportError:
        print("错误：证明需要 z3-solver：pip install 'xueji-policy[verify]'", file=sys.stderr)
        return 2
    return 0


def run(args) -> int:
    from ..errors import XuejiError
    from ..privacy import mask_ids_in_text

    if _missing_z3():
        return 2
    day = _day(args.date)
    if args.compare:
        return _compare(args, day)
    if not args.props:
        raise XuejiError("请给出性质文件（PROPS.yaml）或 --compare OLD NEW", "give PROPS.yaml or --compare OLD NEW")
    from ..pipeline import load_ruleset
    from ..verify.core import EncodingBug
    from ..verify.properties import check_property, load_properties

    rs = load_ruleset(args.rules)
    props = load_properties(args.props, rs)
    results = []
    for prop in props:
        try:
            results.append(check_property(rs, prop, day, symbolic=args.symbolic_params))
        except EncodingBug as e:
            print(f"错误（证明程序缺陷）：{e.message}", file=sys.stderr)
            return 2
    if args.json:
        print(mask_ids_in_text(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=2)))
    else:
        for r in results:
            print(mask_ids_in_text(_text(r)))
        proved = sum(r.status == "proved" for r in results)
        print(f"共 {len(results)} 条性质：{proved} 条已证明，{len(results) - proved} 条未证明或被反驳。")
    return 0 if all(r.status == "proved" for r in results) else 1


def _text(r) -> str:
    from ..verify.core import bound_note

    p = r.prop
    head = f"[{p.id}]" + (f"（{p.cite}）" if p.cite else "") + f" {p.action}：期望 {p.expect}"
    if r.status == "proved":
        return f"已证明 {head} — {r.seconds:.2f} 秒（{bound_note()}）"
    if r.status == "refuted":
        params = f"参数取值 {json.dumps(r.params, ensure_ascii=False)} 时，" if r.params else ""
        return (f"被反驳 {head} — {params}反例（已通过 case.schema.json 校验，evaluate 判定为 {r.decided}）：\n"
                + json.dumps(r.counterexample, ensure_ascii=False, indent=2))
    return f"未能证明 {head} — {r.message}"


def _known_actions(asked: list[str], known: list[str]) -> None:
    """An action neither rule set knows is a mistake, not an "equivalent" action."""
    from ..contract import did_you_mean
    from ..errors import XuejiError

    for a in asked:
        if a not in known:
            guess = did_you_mean(a, known)
            hint = f"（是否应为 {guess!r}？）" if guess else f"（两套规则共有的操作：{'、'.join(known)}）"
            raise XuejiError(f"--action：两套规则中没有共同的操作 {a!r}{hint}",
                             f"--action: no action {a!r} in both rule sets")


def _compare(args, day) -> int:
    from ..pipeline import load_ruleset
    from ..privacy import mask_ids_in_text
    from ..verify.compare import RELATIONS_ZH, compare
    from ..verify.core import EncodingBug

    old, new = load_ruleset(args.compare[0]), load_ruleset(args.compare[1])
    _known_actions(args.action or [], [a for a in old.actions if a in new.actions])
    try:
        results = compare(old, new, day, args.action)
    except EncodingBug as e:
        print(f"错误（证明程序缺陷）：{e.message}", file=sys.stderr)
        return 2
    if args.json:
        print(mask_ids_in_text(json.dumps([c.to_dict() for c in results], ensure_ascii=False, indent=2)))
        return 0 if all(c.relation == "equivalent" for c in results) else 1
    for c in results:
        line = f"{c.action}：{RELATIONS_ZH[c.relation]}（{c.relation}，{c.seconds:.2f} 秒）"
        if c.message:
            line += f" — {c.message}"
        print(line)
        for label, case in (("新规则允许而旧规则拒绝的案例", c.newly_allowed), ("旧规则允许而新规则拒绝的案例", c.newly_denied)):
            if case is not None:
                print(f"  {label}（已经 evaluate 在两套规则上复核）：")
                print(mask_ids_in_text("  " + json.dumps(case, ensure_ascii=False)))
    return 0 if all(c.relation == "equivalent" for c in results) else 1
