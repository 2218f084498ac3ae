"""The pipeline, in order: a rules directory → a checked, compiled ``RuleSet``.

    stage     module(s)                      error type
    read      rulefiles.py                   StructureError   every file of the directory, once, safely
                                                              (its sha256 is the rule set's fingerprint)
    load      load.py                        YamlError        YAML with positions, safe loader only
    shape     shape.py                       StructureError   each file against its JSON Schema (schemas/)
    parse     parsing.py, lang/parse.py      ParseError       every condition and let of the rule files → AST
                                                              (Lark grammar), before anything is checked
    check     assemble.py, lang/check.py,    CheckError,      names and types against the case schema;
              cites.py, consistency.py       CiteError, …     cites, lets, actions, outcomes, dues;
                                                              the cross-field constraints
    compile   lang/compile.py, lang/codegen  CodegenError     closures (explain, analysis); generated code
    plan      plan.py                        CodegenError     one generated function per action and stretch

``assemble.py`` drives the stages over the files — shape each file, parse every condition
(``parsing.parse_rule_files``), then check — and assembles the ``RuleSet`` (ruleset.py: plain
data, no stage imported).  A parse error is reported where the check stage reaches its condition,
so that a rule set's errors stay in file order.  The compiled-rule cache (cache.py) stands in for read→check when
the fingerprint is unchanged.  A rule set with any error raises ``RuleSetError`` and nothing is
returned — never a half-loaded set.
"""

from __future__ import annotations

from pathlib import Path

from . import cache as _cache
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
    from .assemble import Assembler  # the full stages only on a cache miss: a cold start stays light

    assembler = Assembler(root, files)
    rs = assembler.load()
    if cache:
        _cache.write(rs, files, assembler.schema_file)
    return rs
