"""The compiled-rule cache: used when the files are unchanged, rebuilt when stale or corrupt."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from xueji_policy import cache
from xueji_policy.golden import run_all
from xueji_policy.ruleset import load_ruleset

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def rules(tmp_path, monkeypatch):
    monkeypatch.setenv("XUEJI_POLICY_CACHE_DIR", str(tmp_path / "cache"))
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    return tmp_path / "rules"


def _entries(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache").glob("rules-*.json"))


def test_a_cached_rule_set_decides_every_golden_case_as_a_fresh_load(rules, tmp_path, monkeypatch):
    fresh = load_ruleset(rules, cache=False)
    assert _entries(tmp_path) == []
    load_ruleset(rules)  # writes the cache
    assert len(_entries(tmp_path)) == 1
    monkeypatch.setattr("xueji_policy.loader.Loader.load", lambda self: pytest.fail("must come from the cache"))
    cached = load_ruleset(rules)
    assert cached.sha256 == fresh.sha256
    assert [r.id for r in cached.rules] == [r.id for r in fresh.rules]
    a = run_all(ROOT / "cases", fresh)
    b = run_all(ROOT / "cases", cached)
    assert [x.decision for x in a] == [x.decision for x in b]
    assert all(x.ok for x in b)


def test_a_changed_rule_file_is_a_new_key(rules, tmp_path):
    first = load_ruleset(rules)
    p = rules / "parameters.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("value: 3000}", "value: 2900}", 1), encoding="utf-8")
    second = load_ruleset(rules)
    assert second.sha256 != first.sha256 and len(_entries(tmp_path)) == 2


@pytest.mark.parametrize("damage", ["garbage", "truncated", "tampered", "wrong_key"])
def test_a_corrupt_or_tampered_entry_is_rebuilt_never_trusted(rules, tmp_path, damage):
    load_ruleset(rules)
    (entry,) = _entries(tmp_path)
    text = entry.read_text(encoding="utf-8")
    if damage == "garbage":
        entry.write_bytes(b"\x00\xff not json")
    elif damage == "truncated":
        entry.write_text(text[: len(text) // 2], encoding="utf-8")
    elif damage == "tampered":  # change a rule's message without fixing the digest
        doc = json.loads(text)
        doc["payload"]["rules"][0]["message"] = "篡改"
        entry.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    else:
        doc = json.loads(text)
        doc["key"][0] = "0" * 64
        entry.write_text(json.dumps(doc), encoding="utf-8")
    rs = load_ruleset(rules)
    assert rs.rules[0].message != "篡改"
    assert cache.read(rs.sha256, rules) is not None  # rewritten, and valid again


def test_the_cache_can_be_turned_off(rules, tmp_path, monkeypatch):
    monkeypatch.setenv("XUEJI_POLICY_CACHE", "off")
    load_ruleset(rules)
    assert _entries(tmp_path) == []
