"""Files outside the rules directory are never read or echoed (issue 10, class 3)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from xueji_policy.errors import RuleSetError
from xueji_policy.pipeline import load_ruleset
from xueji_policy.rulefiles import MAX_FILE_BYTES, read_rule_files

ROOT = Path(__file__).resolve().parent.parent
LIB = Path(__file__).parent / "fixtures" / "library_rules"
SECRET = "top-secret-line: 不应出现在任何输出中"


@pytest.fixture
def secret(tmp_path) -> Path:
    p = tmp_path / "outside" / "secret.yaml"
    p.parent.mkdir()
    p.write_text(f"{SECRET}\nmore: text\n", encoding="utf-8")
    return p


@pytest.fixture
def rules(tmp_path) -> Path:
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    return tmp_path / "rules"


def _load_error(root: Path) -> str:
    with pytest.raises(RuleSetError) as info:
        load_ruleset(root, cache=False)
    text = str(info.value) + repr(info.value.to_dict())
    assert SECRET not in text and "top-secret" not in text
    return text


@pytest.mark.parametrize("name", ["99.yaml", "parameters.yaml", "passwd.yaml", "evil.json"])
def test_a_link_out_of_the_directory_is_refused_and_not_echoed(rules, secret, name):
    target = rules / name
    if target.exists():
        target.unlink()
    target.symlink_to(secret)
    text = _load_error(rules)
    assert name in text and "链接" in text


def test_a_linked_calendar_directory_outside_is_refused(rules, secret):
    (rules / "calendar").rename(rules.parent / "cal-elsewhere") if (rules / "calendar").exists() else None
    (rules / "calendar").symlink_to(secret.parent)
    assert "calendar" in _load_error(rules)


def test_the_cli_and_the_reload_path_never_print_the_linked_file(rules, secret):
    (rules / "99.yaml").symlink_to("/etc/passwd")
    out = subprocess.run([sys.executable, "-m", "xueji_policy", "check", "--rules", str(rules)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert "root:" not in out.stdout + out.stderr and "99.yaml" in out.stderr


def test_a_link_inside_the_directory_is_read_like_the_file(tmp_path):
    root = tmp_path / "lib"
    shutil.copytree(LIB, root)
    real = tmp_path / "lib" / "store"
    real.mkdir()
    (root / "2.yaml").rename(real / "2.yaml")
    (root / "2.yaml").symlink_to(real / "2.yaml")
    assert len(load_ruleset(root, cache=False).rules) > 0


@pytest.mark.parametrize("where", ["../outside.json", "/etc/passwd", "sub/case.schema.json", "parameters.yaml"])
def test_a_case_schema_outside_the_directory_is_refused(tmp_path, where):
    root = tmp_path / "lib"
    shutil.copytree(LIB, root)
    (tmp_path / "outside.json").write_text(f'{{"title": "{SECRET}"}}', encoding="utf-8")
    meta = root / "ruleset.yaml"
    meta.write_text(meta.read_text(encoding="utf-8").replace("case_schema: case.schema.json",
                                                              f"case_schema: {where}"), encoding="utf-8")
    text = _load_error(root)
    assert "案例格式文件" in text and "ruleset.yaml" in text


def test_a_fifo_never_blocks_the_load(rules):
    os.mkfifo(rules / "98.yaml")
    assert "98.yaml" in _load_error(rules)


def test_an_oversized_file_is_refused_without_reading_it_whole(rules):
    (rules / "97.yaml").write_bytes(b"# " + b"x" * (MAX_FILE_BYTES + 10))
    assert "97.yaml" in _load_error(rules)


def test_what_is_read_is_what_the_fingerprint_names(rules):
    files = read_rule_files(rules)
    assert "parameters.yaml" in files.files and "13.yaml" in files.files
    rs = load_ruleset(rules, cache=False)
    assert rs.sha256 == files.sha256
