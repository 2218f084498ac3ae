"""The compiled-rule cache: used when the files are unchanged, rebuilt when stale or corrupt."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from xueji_policy import cache
from xueji_policy.golden import run_all
from xueji_policy.pipeline import load_ruleset
from xueji_policy.plan import build_plans
from xueji_policy.rulefiles import read_rule_files

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
    monkeypatch.setattr("xueji_policy.assemble.Assembler.load", lambda self: pytest.fail("must come from the cache"))
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


def _doc(entry: Path) -> dict:
    return json.loads(entry.read_text(encoding="utf-8"))


def _write_doc(entry: Path, doc: dict) -> None:
    entry.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def _resign(tmp_path: Path, doc: dict, body: dict) -> dict:
    """What an attacker who can also read the user's key would do: a correctly keyed entry."""
    text = json.dumps(body, ensure_ascii=False, sort_keys=True)
    key = (tmp_path / "cache" / "key").read_bytes()
    return {**doc, "body": text, "mac": cache._mac(key, doc["key"], text.encode("utf-8"))}


@pytest.mark.parametrize("damage", ["garbage", "truncated", "tampered", "digest_recomputed", "wrong_key"])
def test_a_corrupt_or_tampered_entry_is_rebuilt_never_trusted(rules, tmp_path, damage):
    load_ruleset(rules)
    (entry,) = _entries(tmp_path)
    text = entry.read_text(encoding="utf-8")
    doc = json.loads(text)
    body = json.loads(doc["body"])
    if damage == "garbage":
        entry.write_bytes(b"\x00\xff not json")
    elif damage == "truncated":
        entry.write_text(text[: len(text) // 2], encoding="utf-8")
    elif damage == "tampered":  # change a rule's message without the key
        body["rules"][0]["message"] = "篡改"
        _write_doc(entry, {**doc, "body": json.dumps(body, ensure_ascii=False)})
    elif damage == "digest_recomputed":  # the old attack: an unkeyed digest recomputed after the edit
        body["rules"][0]["message"] = "篡改"
        new = json.dumps(body, ensure_ascii=False, sort_keys=True)
        _write_doc(entry, {**doc, "body": new, "mac": hashlib.sha256(new.encode()).hexdigest()})
    else:
        doc["key"][0] = "0" * 64
        _write_doc(entry, doc)
    rs = load_ruleset(rules)
    assert rs.rules[0].message != "篡改"
    assert cache.read(read_rule_files(rules)) is not None  # rewritten, and valid again


def _deny_to_allow(body: dict) -> None:
    # A data edit that would turn a deny into an allow: the class-size forbid never fires.
    for r in body["rules"]:
        if r["id"] == "transfer.target_full":
            r["when_ast"] = {"t": "Literal", "value": False, "type": {"k": "bool"}}


@pytest.mark.parametrize("attack", [
    "operator_with_code", "function_name", "unknown_field", "unknown_node", "root", "quantifier", "bool_op",
    "constraint_operator"])
def test_even_a_correctly_keyed_entry_is_rebuilt_only_through_strict_validation(rules, tmp_path, attack, monkeypatch):
    load_ruleset(rules)
    (entry,) = _entries(tmp_path)
    doc = _doc(entry)
    body = json.loads(doc["body"])
    marker = tmp_path / "pwned"
    payload = f"__import__('os').system('touch {marker}')"

    def first(node_type: str) -> dict:
        def walk(x):
            if isinstance(x, dict):
                if x.get("t") == node_type:
                    return x
                for v in x.values():
                    hit = walk(v)
                    if hit is not None:
                        return hit
            elif isinstance(x, list):
                for v in x:
                    hit = walk(v)
                    if hit is not None:
                        return hit
            return None
        return walk(body["rules"]) or walk(body["lets"])

    if attack == "operator_with_code":
        first("Compare")["op"] = f"== {payload} =="
    elif attack == "function_name":
        first("Call")["name"] = "__import__"
    elif attack == "unknown_field":
        first("Path")["parts"] = ["student", "no_such_field"]
    elif attack == "unknown_node":
        first("Compare")["t"] = "Exec"
    elif attack == "root":
        first("Path")["root"] = "builtins"
    elif attack == "quantifier":
        first("Quant")["kind"] = f"any({payload}) or any"
    elif attack == "constraint_operator":  # the consistency constraints go through the same decoder
        (c0,) = [c for c in body["constraints"]["constraints"] if c["ast"]["t"] == "Compare"][:1]
        c0["ast"]["op"] = f"== {payload} =="
    else:
        first("BoolOp")["op"] = f"or {payload} or"
    _write_doc(entry, _resign(tmp_path, doc, body))
    calls = []
    original = cache.decode
    monkeypatch.setattr(cache, "decode", lambda *a: calls.append(1) or original(*a))
    assert cache.read(read_rule_files(rules)) is None  # refused …
    assert calls  # … by the decoder, not merely by the key
    rs = load_ruleset(rules)  # … and rebuilt from the rule files
    build_plans(rs)
    assert not marker.exists()


def test_a_correctly_keyed_data_edit_is_what_the_key_is_for(rules, tmp_path):
    # Validation cannot tell a well-formed edit from the real thing; the key can.
    load_ruleset(rules)
    (entry,) = _entries(tmp_path)
    doc = _doc(entry)
    body = json.loads(doc["body"])
    _deny_to_allow(body)
    (tmp_path / "cache" / "key").write_bytes(b"k" * 32)  # a key the attacker chose does not help either …
    _write_doc(entry, _resign(tmp_path, doc, body))
    assert cache.read(read_rule_files(rules)) is not None  # … only possession of the user's key does
    (tmp_path / "cache" / "key").unlink()
    assert cache.read(read_rule_files(rules)) is None


@pytest.mark.parametrize("problem", ["group_writable_dir", "foreign_owner", "entry_is_a_link", "world_readable_entry"])
def test_a_cache_that_is_not_private_is_not_used(rules, tmp_path, monkeypatch, problem):
    load_ruleset(rules)
    d = tmp_path / "cache"
    (entry,) = _entries(tmp_path)
    if problem == "group_writable_dir":
        d.chmod(0o777)
    elif problem == "foreign_owner":
        uid = os.getuid() + 4242  # as if the files belonged to someone else
        monkeypatch.setattr(cache.os, "getuid", lambda: uid)
    elif problem == "entry_is_a_link":
        elsewhere = tmp_path / "elsewhere.json"
        entry.rename(elsewhere)
        entry.symlink_to(elsewhere)
    else:
        entry.chmod(0o644)
    assert cache.read(read_rule_files(rules)) is None
    assert load_ruleset(rules).rules  # still loads, from the rule files


def test_the_cache_is_created_private(rules, tmp_path):
    load_ruleset(rules)
    d = tmp_path / "cache"
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    for p in d.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p


def test_old_entries_are_pruned(rules, tmp_path):
    load_ruleset(rules)
    d = tmp_path / "cache"
    (entry,) = _entries(tmp_path)
    for i in range(cache.KEEP + 5):
        copy = d / f"rules-{i:032d}-old.json"
        shutil.copy(entry, copy)
        os.utime(copy, (1_000_000 + i, 1_000_000 + i))
    p = rules / "parameters.yaml"
    p.write_text(p.read_text(encoding="utf-8") + "\n# edit\n", encoding="utf-8")
    load_ruleset(rules)
    assert len(_entries(tmp_path)) == cache.KEEP


def _make_key(d: str, q) -> None:
    import os as _os

    _os.environ["XUEJI_POLICY_CACHE_DIR"] = d
    from xueji_policy import cache as c

    q.put(c._key(c._private_dir(create=True), create=True))


def test_twelve_processes_creating_the_key_at_once_agree(tmp_path):
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    q = ctx.Queue()
    procs = [ctx.Process(target=_make_key, args=(str(tmp_path / "k"), q)) for _ in range(12)]
    for p in procs:
        p.start()
    keys = [q.get(timeout=60) for _ in procs]
    for p in procs:
        p.join()
    assert len(set(keys)) == 1 and keys[0] and len(keys[0]) == 32


def test_a_file_edited_during_a_load_never_maps_the_new_fingerprint_to_the_old_rules(rules, tmp_path):
    from xueji_policy.assemble import Assembler

    files = read_rule_files(rules)
    p = rules / "parameters.yaml"
    text = p.read_text(encoding="utf-8")
    assert "value: 3000}\n  class_cap:" in text
    p.write_text(text.replace("value: 3000}\n  class_cap:", "value: 2900}\n  class_cap:"), encoding="utf-8")
    rs = Assembler(rules, files).load()  # built from what was read, named by what was read
    assert rs.sha256 == files.sha256 != read_rule_files(rules).sha256
    assert rs.params["school_cap"].values[0][1] == 3000
    assert load_ruleset(rules).params["school_cap"].values[0][1] == 2900


def test_the_cache_can_be_turned_off(rules, tmp_path, monkeypatch):
    monkeypatch.setenv("XUEJI_POLICY_CACHE", "off")
    load_ruleset(rules)
    assert _entries(tmp_path) == []
