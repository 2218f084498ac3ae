"""The package version, from the installed distribution's metadata (a leaf module: everything may
import it, and it imports nothing of the package)."""

from __future__ import annotations


def _version() -> str:
    """The installed distribution's version; in a bare source checkout, pyproject.toml's."""
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
