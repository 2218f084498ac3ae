"""The README and the docs agree with the code.

* every shell command shown in a ```sh block of README.md, docs/*.md or the staff guides
  docs/zh/*.md runs (in a scratch copy of the repository's rules, cases and examples) and ends in
  a documented outcome, exit 0 or 1 — or, in a block preceded by ``<!-- exit: N -->`` (a guide
  showing a mistake and its message), exactly N; a block preceded by ``<!-- not-run: reason -->``
  is skipped (kept few: installs, the test suite itself); one preceded by
  ``<!-- needs-command: NAME -->`` runs once ``xueji-policy NAME`` exists (a command being built);
  ``xueji-policy serve`` is started, asked for /healthz and stopped with Ctrl-C;
* the layout section lists every module of the package, and only those;
* every ``params.X`` named in the docs is a parameter of rules/parameters.yaml;
* the README's command table states the exit codes each command's ``--help`` states.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from leakscan import record_output

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "docs" / "zh").glob("*.md"))]
NOT_RUN = re.compile(r"^<!--\s*not-run:\s*(\S.*?)\s*-->$")
EXIT = re.compile(r"^<!--\s*exit:\s*(\d)\s*-->$")
NEEDS = re.compile(r"^<!--\s*needs-command:\s*([\w-]+)\s*-->$")


@dataclass
class Block:
    path: Path
    line: int  # of the opening fence
    commands: list[str]
    not_run: str | None
    exit: int | None = None  # the exit code every command must end with (a mistake shown on purpose)
    needs: str | None = None  # a command this block runs only once it exists

    @property
    def id(self) -> str:
        return f"{self.path.name}:{self.line}"


def sh_blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    out, i = [], 0
    while i < len(lines):
        if lines[i].strip() == "```sh":
            start, body = i + 1, []
            i += 1
            while lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            before = next((s.strip() for s in reversed(lines[: start - 1]) if s.strip()), "")
            m = NOT_RUN.match(before)
            e = EXIT.match(before)
            n = NEEDS.match(before)
            commands = [c for c in body if c.strip() and not c.lstrip().startswith("#")]
            out.append(Block(path, start, commands, m.group(1) if m else None,
                             int(e.group(1)) if e else None, n.group(1) if n else None))
        i += 1
    return out


BLOCKS = [b for p in DOCS for b in sh_blocks(p)]


def test_there_are_blocks_to_run_and_few_that_are_not():
    assert len([b for b in BLOCKS if b.not_run is None]) >= 4
    skipped = [b for b in BLOCKS if b.not_run is not None]
    assert len(skipped) <= 4, [b.id for b in skipped]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """A copy of what the docs' commands read (the checkout itself is never written)."""
    root = tmp_path_factory.mktemp("docs")
    for name in ("rules", "cases", "examples"):
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k != "XUEJI_POLICY_RULES"}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(command: str, cwd: Path) -> None:
    port = _free_port()
    argv = shlex.split(re.sub(r"--port\s+\d+", f"--port {port}", command))
    proc = subprocess.Popen(argv, cwd=cwd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(240):  # bounded: at most ~2 minutes on a busy machine
            if proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"{command}: no answer on /healthz")
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # Ctrl-C: the documented normal stop, exit 0
        code = proc.wait(timeout=60)
        out, err = proc.communicate()
        record_output(command, out, err)
    assert code == 0, err.decode()


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.not_run is None], ids=lambda b: b.id)
def test_every_shell_command_in_the_docs_runs(block, scratch):
    if block.needs is not None:
        from xueji_policy.cli.main import COMMANDS

        if block.needs not in COMMANDS:
            pytest.skip(f"xueji-policy {block.needs} is not built yet")
    for command in block.commands:
        if re.match(r"xueji-policy\s+serve\b", command.strip()):
            _serve(command.strip(), scratch)
            continue
        proc = subprocess.run(["bash", "-c", command], cwd=scratch, env=_env(), capture_output=True, timeout=600)
        record_output(command, proc.stdout, proc.stderr)
        err = proc.stderr.decode()
        assert "Traceback" not in err and "内部错误" not in err, err
        expected = (block.exit,) if block.exit is not None else (0, 1)
        assert proc.returncode in expected, f"{block.id}: `{command}` exited {proc.returncode}:\n{err[-2000:]}"
        if block.exit:  # a mistake shown on purpose: the guide shows the message the command prints
            first = next((line for line in err.splitlines() if line.strip()), "")
            assert first and first in block.path.read_text(encoding="utf-8"), (block.id, first)


def test_the_staff_guides_exist_in_chinese():
    names = {p.stem for p in (ROOT / "docs" / "zh").glob("*.md")}
    assert {"修改数字与规则", "黄金案例", "节假日日历文件", "表格批量评估", "常见错误与修改方法"} <= names
    for p in (ROOT / "docs" / "zh").glob("*.md"):
        blocks = sh_blocks(p)
        assert blocks, f"{p.name}: no runnable example"
        assert not [b for b in blocks if b.not_run], f"{p.name}: every example of a staff guide runs"


def test_the_runner_would_catch_a_command_that_fails(scratch):
    """The check above can fail: a command with an error exits 2."""
    proc = subprocess.run(["bash", "-c", "xueji-policy test cases/99"], cwd=scratch, env=_env(),
                          capture_output=True, timeout=120)
    assert proc.returncode == 2


# --------------------------------------------------------------------------- the layout section


def _layout_modules(readme: str) -> tuple[set[str], set[str]]:
    """(modules, directories) the README's layout lists under ``xueji_policy/``."""
    section = readme[readme.index("## Layout"):]
    block = section[section.index("```") + 3:]
    block = block[block.index("\n") + 1: block.index("```")]
    modules: set[str] = set()
    dirs: set[str] = set()
    inside, prefix = False, ""
    for line in block.splitlines():
        if line.startswith("xueji_policy/"):
            inside = True
            continue
        if inside and line and not line.startswith(" "):
            break
        if not inside or not line.strip():
            continue
        tokens = re.findall(r"[\w.]+/?", line)
        if line.startswith("  ") and not line.startswith("   "):  # an entry; deeper lines continue it
            prefix = tokens[0] if tokens[0].endswith("/") else ""
        for tok in tokens:
            if tok.endswith("/"):
                dirs.add(tok)
            elif tok.endswith(".py") and tok != prefix:
                modules.add(prefix + tok)
    return modules, dirs


def test_the_layout_lists_every_module_and_only_those():
    modules, dirs = _layout_modules((ROOT / "README.md").read_text(encoding="utf-8"))
    pkg = ROOT / "xueji_policy"
    actual = {p.relative_to(pkg).as_posix() for p in pkg.rglob("*.py") if "__pycache__" not in p.parts}
    actual -= {p for p in actual if p.endswith("/__init__.py")}  # a subpackage's marker needs no line
    assert modules == actual, {"not in the README": sorted(actual - modules), "no such module": sorted(modules - actual)}
    tree_dirs = {p.name + "/" for p in pkg.rglob("*") if p.is_dir() and p.name != "__pycache__"}
    assert tree_dirs <= dirs, sorted(tree_dirs - dirs)


def test_the_layout_check_would_catch_a_missing_module():
    text = (ROOT / "README.md").read_text(encoding="utf-8").replace(" cache.py ", " ", 1)
    text = text.replace("  cache.py  ", "  ", 1)
    modules, _ = _layout_modules(text)
    assert "cache.py" not in modules


# --------------------------------------------------------------------------- parameters and exit codes


def test_no_example_names_a_parameter_that_does_not_exist():
    params = set(yaml.safe_load((ROOT / "rules" / "parameters.yaml").read_text(encoding="utf-8"))["parameters"])
    for path in DOCS:
        named = set(re.findall(r"params\.(\w+)", path.read_text(encoding="utf-8")))
        assert named <= params, (path.name, sorted(named - params))


def test_the_readme_table_states_each_commands_exit_codes():
    from xueji_policy.cli.main import COMMANDS, EXIT_CODES, exit_code_text

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Command line"):readme.index("### Reviewing an amendment")]
    seen = set()
    for row in (r for r in table.splitlines() if r.startswith("| `xueji-policy")):
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]
        words = set(re.findall(r"--?[\w-]+|\w+", cells[0]))
        key = max((k for k in EXIT_CODES if set(k.split()) <= words), key=len)
        assert cells[-1] == exit_code_text(key), (key, cells[-1])
        seen.add(key)
    assert seen == set(EXIT_CODES), set(EXIT_CODES) - seen
    assert set(COMMANDS) <= seen
