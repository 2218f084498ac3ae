"""A real install: the package carries its rules and data, and finds them through the import system.

``.ci/run`` builds the wheel and proves it in a clean venv from outside the checkout. These tests
check the same without a build (no network, seconds): pyproject's package list and data globs
cover the tree, and a copy of the package laid out as the wheel lays it out — from pyproject's
own mapping — decides cases from another directory, with nothing of the checkout reachable.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import site
import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path

import pytest
from leakscan import record_output

ROOT = Path(__file__).resolve().parent.parent
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
PACKAGES: list[str] = SETUPTOOLS["packages"]
PACKAGE_DIR: dict[str, str] = SETUPTOOLS.get("package-dir", {})
PACKAGE_DATA: dict[str, list[str]] = SETUPTOOLS["package-data"]


def _source_dir(package: str) -> Path:
    """Where a package's files are in the repository (pyproject's package-dir, else its dotted path)."""
    parts = package.split(".")
    for i in range(len(parts), 0, -1):
        prefix = ".".join(parts[:i])
        if prefix in PACKAGE_DIR:
            return ROOT / PACKAGE_DIR[prefix] / Path(*parts[i:])
    return ROOT / Path(*parts)


def _is_data(path: Path) -> bool:
    return "__pycache__" not in path.parts and path.suffix not in (".py", ".pyc")


def _data_files(package: str) -> list[Path]:
    """Files of a package the wheel carries besides its modules (matched by pyproject's package-data)."""
    src = _source_dir(package)
    out = []
    for p in src.rglob("*"):
        rel = p.relative_to(src).as_posix()
        if p.is_file() and _is_data(p) and any(fnmatch.fnmatchcase(rel, g) for g in PACKAGE_DATA.get(package, [])):
            out.append(p)
    return out


def test_every_python_package_of_the_tree_is_in_the_wheel():
    # Every directory of xueji_policy holding modules is a package of its own in pyproject.
    tree = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "xueji_policy").rglob("*.py")
            if "__pycache__" not in p.parts}
    assert tree <= set(PACKAGES), tree - set(PACKAGES)
    for package in PACKAGES:
        assert _source_dir(package).is_dir(), package


def test_the_rules_the_examples_and_every_data_file_ship():
    # Everything policy staff may put in rules/ (article files, calendar/) and every data file of the
    # package (schemas, grammar, page, template) is matched by a package-data glob.
    owners = {_source_dir(p): p for p in PACKAGES}
    files = {p for src in owners for p in src.rglob("*") if p.is_file() and _is_data(p)}
    for p in files:  # shipped when a glob of a package it lies in matches it
        assert any(fnmatch.fnmatchcase(p.relative_to(src).as_posix(), g)
                   for src in p.parents if src in owners for g in PACKAGE_DATA.get(owners[src], [])), \
            f"{p.relative_to(ROOT)} is not shipped: add it to [tool.setuptools.package-data]"
    rules = {p.name for p in _data_files("xueji_policy.rules")}
    assert {"ruleset.yaml", "parameters.yaml", "definitions.yaml", "index.yaml", "13.yaml"} <= rules
    assert "calendar/*.yaml" in PACKAGE_DATA["xueji_policy.rules"]
    assert {p.name for p in _data_files("xueji_policy.examples")} >= {"transfer_in.json"}
    data = {p.relative_to(ROOT / "xueji_policy").as_posix() for p in _data_files("xueji_policy")}
    assert {"schemas/case.schema.json", "lang/grammar.lark", "server/static/index.html",
            "templates/report.html.j2"} <= data


def test_the_default_rules_are_found_through_the_installed_package(monkeypatch):
    from xueji_policy.ruleset import default_rules_dir

    monkeypatch.delenv("XUEJI_POLICY_RULES", raising=False)
    assert default_rules_dir() == Path(str(resources.files("xueji_policy.rules")))
    monkeypatch.setenv("XUEJI_POLICY_RULES", "/somewhere/else")
    assert default_rules_dir() == Path("/somewhere/else")
    assert resources.files("xueji_policy.examples").joinpath("transfer_in.json").is_file()


def _lay_out_as_the_wheel(dest: Path, packages: list[str]) -> None:
    """Copy each package's modules and package-data to where the wheel puts them."""
    for package in packages:
        src = _source_dir(package)
        target = dest / Path(*package.split("."))
        target.mkdir(parents=True, exist_ok=True)
        for p in src.glob("*.py"):
            shutil.copy2(p, target / p.name)
        for p in _data_files(package):
            out = target / p.relative_to(src)
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(p, out)


def _python_without_the_checkout(site_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    # -S: no .pth files, so the editable install's finder (which maps the package onto the
    # checkout) is not there; the dependencies come from this interpreter's site-packages.
    env = {k: v for k, v in os.environ.items() if k not in ("XUEJI_POLICY_RULES", "PYTHONPATH")}
    env["PYTHONPATH"] = os.pathsep.join([str(site_dir), *site.getsitepackages()])
    proc = subprocess.run([sys.executable, "-S", *args], cwd=cwd, env=env, capture_output=True, timeout=300)
    record_output(" ".join(args), proc.stdout, proc.stderr)
    assert b"Traceback" not in proc.stderr, proc.stderr.decode()
    return proc


def test_a_wheel_laid_out_copy_decides_from_outside_the_checkout(tmp_path):
    site_dir, user = tmp_path / "site", tmp_path / "user"
    _lay_out_as_the_wheel(site_dir, PACKAGES)
    user.mkdir()
    shutil.copy2(ROOT / "examples" / "transfer_in.json", user / "case.json")
    code = """
import json, sys
import xueji_policy
from xueji_policy import evaluate
from xueji_policy.ruleset import default_rules_dir
site = sys.argv[1]
assert xueji_policy.__file__.startswith(site), xueji_policy.__file__
assert str(default_rules_dir()).startswith(site), default_rules_dir()
d = evaluate(json.load(open("case.json", encoding="utf-8")))
print(d.decision)
"""
    proc = _python_without_the_checkout(site_dir, user, "-c", code, str(site_dir))
    assert proc.returncode == 0 and proc.stdout.decode().strip() == "allow", proc.stderr.decode()
    version = _python_without_the_checkout(site_dir, user, "-m", "xueji_policy", "--version")
    assert version.returncode == 0 and f"规则目录：{site_dir}" in version.stdout.decode()
    check = _python_without_the_checkout(site_dir, user, "-m", "xueji_policy", "check")
    assert check.returncode == 0 and "规则检查通过" in check.stdout.decode()
    test = _python_without_the_checkout(site_dir, user, "-m", "xueji_policy", "test", str(ROOT / "cases" / "4"))
    assert test.returncode == 0 and "通过" in test.stdout.decode()
    # The staff page's examples ship too.
    examples = _python_without_the_checkout(site_dir, user, "-c", "from importlib import resources; print(sorted("
                                            "p.name for p in resources.files('xueji_policy.examples').iterdir()))")
    assert "transfer_in.json" in examples.stdout.decode()


def test_without_the_rules_package_the_error_says_how_to_name_the_rules(tmp_path):
    site_dir, user = tmp_path / "site", tmp_path / "user"
    _lay_out_as_the_wheel(site_dir, [p for p in PACKAGES if p != "xueji_policy.rules"])
    user.mkdir()
    proc = _python_without_the_checkout(site_dir, user, "-m", "xueji_policy", "check")
    err = proc.stderr.decode()
    assert proc.returncode == 2
    assert "找不到随包发布的规则" in err and "--rules" in err and "XUEJI_POLICY_RULES" in err
    # …and naming them works.
    proc = _python_without_the_checkout(site_dir, user, "-m", "xueji_policy", "check", "--rules", str(ROOT / "rules"))
    assert proc.returncode == 0


def test_the_version_comes_from_the_installed_metadata_with_a_source_fallback(monkeypatch):
    from importlib import metadata

    from xueji_policy import version as package_version

    assert package_version._version() == package_version.__version__ == metadata.version("xueji-policy")
    # The cheap path (the dist-info directory's name, no importlib.metadata) finds the same.
    assert package_version._dist_info_version() in (None, metadata.version("xueji-policy"))
    monkeypatch.setattr(package_version, "_dist_info_version", lambda: None)
    assert package_version._version() == metadata.version("xueji-policy")

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert package_version._version() == project["version"]


@pytest.mark.parametrize("name", ["LICENSE", "CHANGELOG.md"])
def test_license_and_changelog_exist(name):
    assert (ROOT / name).is_file()


def test_the_license_file_is_the_one_pyproject_names():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")


def test_the_changelog_has_a_section_per_release_and_per_rule_set_version():
    import yaml

    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    ruleset = yaml.safe_load((ROOT / "rules" / "ruleset.yaml").read_text(encoding="utf-8"))
    assert "## [Unreleased]" in text
    assert f"## [{project['version']}] - " in text
    assert f"规则集 {ruleset['version']}" in text


def test_examples_batch_holds_every_example_one_per_line():
    lines = (ROOT / "examples" / "batch.jsonl").read_text(encoding="utf-8").splitlines()
    files = sorted((ROOT / "examples").glob("*.json"))
    assert [json.loads(x) for x in lines] == [json.loads(p.read_text(encoding="utf-8")) for p in files]
