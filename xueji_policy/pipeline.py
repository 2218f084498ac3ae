"""The pipeline, in order: a rules directory → a checked, compiled ``RuleSet``.

    read      rulefiles.py     every file of the directory, once, safely (its sha256 is the
                               rule set's fingerprint)
    load      load.py          YAML with positions, through the safe loader only
    shape     loader.py        each file against its JSON Schema (schemas/rule-file, parameters)
    parse     lang/parse.py    conditions → AST (Lark)
    check     lang/check.py    names and types against the case schema; cites (cites.py)
    compile   lang/compile.py  closures for explain and analysis; lang/codegen.py for plans
    plan      ruleset.py       one generated function per action and stretch of dates

The compiled-rule cache (cache.py) stands in for read→check when the fingerprint is unchanged.
Every stage reports its own located error type (errors.py); a rule set with any error raises
``RuleSetError`` and nothing is returned — never a half-loaded set.
"""

from __future__ import annotations

from pathlib import Path

from . import cache as _cache
from .loader import Loader
from .rulefiles import read_rule_files
from .ruleset import RuleSet, default_rules_dir


def load_ruleset(path: str | Path | None = None, *, cache: bool = True) -> RuleSet:
    """Load, check and compile every rule file under ``path`` (default: the shipped rules).

    Raises ``RuleSetError`` listing every located error; never returns a partial set.
    Unchanged rule files are read from the compiled-rule cache.
    """
    root = Path(path) if path is not None else default_rules_dir()
    files = read_rule_files(root)  # once: the cache key and the load see the same bytes
    if cache and not files.problems:
        cached = _cache.read(files)
        if cached is not None:
            return cached
    loader = Loader(root, files)
    rs = loader.load()
    if cache:
        _cache.write(rs, files, loader.schema_file)
    return rs
