import os
import sys
import tempfile
from pathlib import Path

# tests/strategies.py is a helper module, not a test file.
sys.path.insert(0, str(Path(__file__).parent))

# Keep the compiled-rule cache of a test run out of the user's home (subprocesses inherit it).
os.environ.setdefault("XUEJI_POLICY_CACHE_DIR", tempfile.mkdtemp(prefix="xueji-policy-cache-"))


# --------------------------------------------------------------------------- 第三十二条: scan every output

import leakscan  # noqa: E402
import pytest  # noqa: E402


def pytest_runtest_logreport(report):
    leakscan.record_output(report.nodeid, report.capstdout, report.capstderr, report.longreprtext)


def pytest_sessionfinish(session, exitstatus):
    leaks = leakscan.find_leaks()
    if leaks:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = "\n".join(f"  {where}: {masked}" for where, masked in leaks[:20])
        if reporter:
            reporter.write_line(f"\n第三十二条：测试输出中出现了完整的身份证号码（{len(leaks)} 处）：\n{lines}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
