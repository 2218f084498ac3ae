"""Bad rule files: every mistake a rule author can make is reported, located, in Chinese.

Each ``tests/bad_rules/<name>.yaml`` is one rule file that replaces (or adds) one
file in a copy of the shipped ``rules/``.  Its header comments say where it goes
and what must be reported::

    # target: 13.yaml
    # what: a typo in a nested field path
    # expect: rules/13.yaml:34:20: [transfer.target_full] 未知字段 '…'（是否应为 'to_school'？）
    # expect-caret: 20

* ``target`` — the file name under ``rules/`` the fixture is written to;
* ``expect`` — one or more; each must be exactly the first line of one rendered
  error (``RuleError.render()``), so file, line, column, rule id, message and hint
  are all pinned;
* ``expect-only`` — (a line ``# expect-only``) the errors reported are exactly the ``expect``
  lines, in that order: a broken file reports its root error, nothing that follows from it;
* ``expect-caret`` — (belongs to the ``expect`` above it) the 1-based column the
  caret of that error must stand under, in the source line the renderer shows
  (which must be that line of the fixture).  Wide (CJK) characters take two
  columns on a terminal; the renderer pads with full-width spaces for them.

A fixture may carry more files: a line ``# ---- <file name>`` starts the next one
(everything before the first such line is the target file).  Line numbers in
``expect`` lines count from the top of each file as written, header included.

Every fixture is run through the API (``load_ruleset``) and the command line
(``xueji-policy check --rules DIR``: exit 2, the same lines on stderr, no traceback).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from xueji_policy.errors import RuleSetError
from xueji_policy.pipeline import load_ruleset
from xueji_policy.privacy import mask_ids_in_text

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_RULES = ROOT / "rules"
FIXTURE_DIR = Path(__file__).resolve().parent / "bad_rules"
FIXTURES = sorted(FIXTURE_DIR.glob("*.yaml"))

# The python-tag fixture asks os.system to create this file in the working directory.
PWNED_MARKER = "xueji_pwned_marker"


# --------------------------------------------------------------------------- fixtures


@dataclass
class Expect:
    line: str
    caret: int | None = None


@dataclass
class Fixture:
    name: str
    target: str
    files: dict[str, str]
    expects: list[Expect] = field(default_factory=list)
    only: bool = False

    def source_line(self, shown_file: str, line: int) -> str:
        name = shown_file.split("/", 1)[1]
        return self.files[name].splitlines()[line - 1]


_SEPARATOR = re.compile(r"^# ---- (\S+)[ \t]*\n", re.M)


def read_fixture(path: Path) -> Fixture:
    text = path.read_text(encoding="utf-8")
    chunks = _SEPARATOR.split(text)
    m = re.search(r"^# target: (\S+)[ \t]*$", chunks[0], re.M)
    assert m, f"{path.name}: no '# target:' line"
    files = {m.group(1): chunks[0]}
    for i in range(1, len(chunks), 2):
        files[chunks[i]] = chunks[i + 1]
    expects: list[Expect] = []
    for line in chunks[0].splitlines():
        if line.startswith("# expect: "):
            expects.append(Expect(line[len("# expect: "):].rstrip()))
        elif line.startswith("# expect-caret: "):
            assert expects and expects[-1].caret is None, f"{path.name}: expect-caret without its expect"
            expects[-1].caret = int(line[len("# expect-caret: "):])
    assert expects, f"{path.name}: no '# expect:' line"
    only = re.search(r"^# expect-only[ \t]*$", chunks[0], re.M) is not None
    return Fixture(path.stem, m.group(1), files, expects, only)


def install(fx: Fixture, tmp_path: Path) -> Path:
    """A copy of the shipped rules with the fixture's files written over it."""
    rules = tmp_path / "rules"
    shutil.copytree(SHIPPED_RULES, rules)
    for name, text in fx.files.items():
        (rules / name).write_text(text, encoding="utf-8")
    return rules


def load_errors(rules: Path) -> RuleSetError:
    with pytest.raises(RuleSetError) as info:
        load_ruleset(rules)
    return info.value


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in s)


def assert_caret(render: str, fx: Fixture, exp: Expect) -> None:
    """The render's source line is the fixture's line, and its caret stands under ``exp.caret``."""
    m = re.match(r"^(\S+?):(\d+):(\d+): ", exp.line)
    assert m, f"expect line without file:line:col: {exp.line}"
    shown_file, line = m.group(1), int(m.group(2))
    lines = render.split("\n")
    assert len(lines) == 3, f"no source line and caret in:\n{render}"
    _, src_line, caret_line = lines
    assert src_line.startswith("    ") and caret_line.startswith("    "), render
    src = src_line[4:]
    # (as every output shows it: a digit run that could hide an ID number is masked, 第三十二条)
    assert src == mask_ids_in_text(fx.source_line(shown_file, line)), f"shown line is not line {line} of {shown_file}:\n{render}"
    assert caret_line.endswith("^"), render
    pad = caret_line[4:-1]
    assert set(pad) <= {" ", "\u3000", "\t"}, f"caret padding has visible characters: {pad!r}"
    prefix = src[: exp.caret - 1]
    # Tabs stay tabs (so they expand alike); between tabs the pad is as wide as the text.
    assert [_width(p) for p in pad.split("\t")] == [_width(p) for p in prefix.split("\t")], (
        f"caret not under column {exp.caret}:\n{render}")


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("xueji-policy")
    return [str(script)] if script.exists() else [sys.executable, "-m", "xueji_policy"]


def run_check_cli(rules: Path, cwd: Path, *extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    env.pop("XUEJI_POLICY_RULES", None)
    return subprocess.run([*_cli(), "check", "--rules", str(rules), *extra], cwd=cwd, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=120)


# --------------------------------------------------------------------------- the suite


def test_fixture_count_and_headers():
    assert len(FIXTURES) >= 25
    for p in FIXTURES:
        fx = read_fixture(p)
        assert re.fullmatch(r"(\d+|annex-\d+|parameters|definitions|ruleset)\.yaml", fx.target), p.name
        for exp in fx.expects:
            assert re.match(r"^rules/\S+:\d+:\d+: ", exp.line), f"{p.name}: {exp.line}"


def test_shipped_rules_load(tmp_path):
    """The base the fixtures modify is clean: every error below comes from a fixture."""
    shutil.copytree(SHIPPED_RULES, tmp_path / "rules")
    load_ruleset(tmp_path / "rules")


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_bad_rule_file_is_reported(path, tmp_path, monkeypatch):
    fx = read_fixture(path)
    rules = install(fx, tmp_path)
    monkeypatch.chdir(tmp_path)
    err = load_errors(rules)
    assert not (tmp_path / PWNED_MARKER).exists(), "a rule file ran a command"

    renders = [e.render() for e in err.errors]
    by_head = {}
    for r in renders:
        by_head.setdefault(r.split("\n", 1)[0], r)
    shown = "\n".join(renders)
    for exp in fx.expects:
        assert exp.line in by_head, f"{path.name}: not reported:\n  {exp.line}\nreported:\n{shown}"
        if exp.caret is not None:
            assert_caret(by_head[exp.line], fx, exp)
    if fx.only:  # the root error only: nothing cascades from it
        assert [r.split("\n", 1)[0] for r in renders] == [e.line for e in fx.expects], shown
    # The aggregate message lists them too.
    for exp in fx.expects:
        assert exp.line in str(err).splitlines()


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_bad_rule_file_through_cli(path, tmp_path):
    fx = read_fixture(path)
    rules = install(fx, tmp_path)
    proc = run_check_cli(rules, tmp_path)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.splitlines()
    for exp in fx.expects:
        assert exp.line in lines, f"{path.name}: not on stderr:\n  {exp.line}\nstderr:\n{proc.stderr}"
    assert not (tmp_path / PWNED_MARKER).exists(), "a rule file ran a command"


def test_three_independent_errors_reported_together(tmp_path):
    fx = read_fixture(FIXTURE_DIR / "three_errors.yaml")
    assert len(fx.expects) == 3
    err = load_errors(install(fx, tmp_path))
    heads = [e.render().split("\n", 1)[0] for e in err.errors]
    # In file order, and nothing else about that file.
    assert [h for h in heads if h.startswith("rules/13.yaml:")] == [e.line for e in fx.expects]


def test_cli_json_output_is_located(tmp_path):
    fx = read_fixture(FIXTURE_DIR / "unknown_field_nested.yaml")
    proc = run_check_cli(install(fx, tmp_path), tmp_path, "--json")
    assert proc.returncode == 2
    import json

    data = json.loads(proc.stdout)
    assert data["error"] == "ruleset_error"
    (e,) = [e for e in data["errors"] if e["file"] == "rules/13.yaml"]
    assert (e["line"], e["column"], e["stage"], e["rule"]) == (34, 20, "check", "transfer.target_full")
    assert e["hint"] == "是否应为 'to_school'？"


# --------------------------------------------------------------------------- known bugs
#
# Each test below states the behaviour the README promises and currently fails;
# ``strict=True`` makes a fix show up as XPASS so that the marker gets removed.


def _errors_for(tmp_path, name: str) -> tuple[Fixture, RuleSetError]:
    fx = read_fixture(FIXTURE_DIR / f"{name}.yaml")
    return fx, load_errors(install(fx, tmp_path))


def test_broken_article_file_does_not_cascade(tmp_path):
    fx, err = _errors_for(tmp_path, "yaml_tab_indent")
    assert [e.loc.file for e in err.errors] == ["rules/13.yaml"], "\n".join(e.render() for e in err.errors)


def test_broken_parameters_file_does_not_cascade(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(SHIPPED_RULES, rules)
    p = rules / "parameters.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("\n    title:", "\n\ttitle:", 1), encoding="utf-8")
    err = load_errors(rules)
    assert [e.loc.file for e in err.errors] == ["rules/parameters.yaml"], len(err.errors)


def test_faulty_let_reported_once(tmp_path):
    fx = read_fixture(FIXTURE_DIR / "unknown_field_nested.yaml")
    text = fx.files["13.yaml"]
    body = text.replace("rules:\n", 'let:\n  bad: transfer.reasn == "other"\nrules:\n', 1)
    body = body.replace("transfer.to_shcool.enrollment >= params.school_cap", "bad")
    body += body[body.index("  - id:"):].replace("transfer.target_full", "transfer.target_full_2")
    rules = install(fx, tmp_path)
    (rules / "13.yaml").write_text(body, encoding="utf-8")
    err = load_errors(rules)
    heads = [e.render().split("\n", 1)[0] for e in err.errors]
    assert len(heads) == len(set(heads)), "\n".join(heads)


def test_article_number_mismatch_reports_only_the_mismatch(tmp_path):
    fx, err = _errors_for(tmp_path, "article_number_mismatch")
    heads = [e.render().split("\n", 1)[0] for e in err.errors]
    assert heads == [fx.expects[0].line], "\n".join(heads)


def test_indentation_error_message_is_chinese(tmp_path):
    fx = read_fixture(FIXTURE_DIR / "yaml_bad_indent.yaml")
    rules = install(fx, tmp_path)
    text = fx.files["13.yaml"].replace("    effect: forbid\n", "   effect: forbid\n")  # one space short
    (rules / "13.yaml").write_text(text, encoding="utf-8")
    err = load_errors(rules)
    head = err.errors[0].render().split("\n", 1)[0]
    assert head.startswith("rules/13.yaml:33:4: YAML 语法错误：")
    assert "expected" not in head and "<block" not in head, head


def test_effect_allow_suggests_permit(tmp_path):
    fx, err = _errors_for(tmp_path, "shape_effect_allow")
    assert any("permit" in (e.hint or "") for e in err.errors)


def test_long_chain_is_an_error_or_loads_never_a_traceback(tmp_path):
    fx = read_fixture(FIXTURE_DIR / "unknown_field_nested.yaml")
    rules = install(fx, tmp_path)
    text = fx.files["13.yaml"].replace("transfer.to_shcool.enrollment >= params.school_cap",
                                       "true and " * 600 + "true")
    assert len("true and " * 600) < 8000
    (rules / "13.yaml").write_text(text, encoding="utf-8")
    proc = run_check_cli(rules, tmp_path)
    assert "Traceback" not in proc.stderr
    assert proc.returncode in (0, 2)
