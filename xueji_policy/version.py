"""The package version, from the installed distribution's metadata (a leaf module: everything may
import it, and it imports nothing of the package)."""

from __future__ import annotations


def _dist_info_version() -> str | None:
    """The version in the name of the first ``xueji_policy-<version>.dist-info`` on ``sys.path`` —
    where ``importlib.metadata`` finds it, without importing it (that import alone costs a cold
    ``evaluate`` about a tenth of its instructions: email, zipfile, csv …).  None when it is not
    that simple (no such directory, or two in one place): then ``importlib.metadata`` decides."""
    import os
    import sys

    for entry in sys.path:
        try:
            names = [n for n in os.listdir(entry or ".") if n.startswith("xueji_policy-") and n.endswith(".dist-info")]
        except OSError:
            continue
        if len(names) == 1:
            return names[0][len("xueji_policy-"):-len(".dist-info")] or None
        if names:
            return None
    return None


def _version() -> str:
    """The installed distribution's version; in a bare source checkout, pyproject.toml's."""
    fast = _dist_info_version()
    if fast is not None:
        return fast
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("xueji-policy")
    except PackageNotFoundError:
        import tomllib
        from pathlib import Path

        try:
            with open(Path(__file__).resolve().parent.parent / "pyproject.toml", "rb") as f:
                project = tomllib.load(f).get("project", {})
        except (OSError, tomllib.TOMLDecodeError):
            return "0+unknown"
        return str(project.get("version", "0+unknown")) if project.get("name") == "xueji-policy" else "0+unknown"


__version__ = _version()
