"""Collect every golden case file ``cases/<article>/<name>.json`` as one pytest item."""

from __future__ import annotations

import pytest

from xueji_policy.engine import default_ruleset
from xueji_policy.golden import run_file


def pytest_collect_file(parent, file_path):
    if file_path.suffix == ".json" and file_path.parent.parent == parent.config.rootpath / "cases":
        return GoldenFile.from_parent(parent, path=file_path)
    return None


class GoldenFile(pytest.File):
    def collect(self):
        yield GoldenItem.from_parent(self, name=self.path.stem)


class GoldenItem(pytest.Item):
    def runtest(self):
        result = run_file(self.path, default_ruleset())
        if not result.ok:
            raise GoldenFailure(result)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, GoldenFailure):
            r = excinfo.value.result
            return f"{r.path}:\n  " + "\n  ".join(r.problems)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, 0, f"golden: {self.path.parent.name}/{self.path.name}"


class GoldenFailure(Exception):
    def __init__(self, result):
        super().__init__(result.problems)
        self.result = result
