"""The HTML report: self-contained, and it renders every article in a real headless browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from xueji_policy.engine import default_ruleset
from xueji_policy.golden import run_all
from xueji_policy.report import render

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
HEADLESS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    rs = default_ruleset()
    out = tmp_path_factory.mktemp("report") / "report.html"
    out.write_text(render(rs, run_all(ROOT / "cases", rs)), encoding="utf-8")
    return out


def test_report_is_self_contained(report):
    html = report.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']https?://""", html), "the report must not load anything from the network"
    assert "<script src" not in html and "<link rel=\"stylesheet\"" not in html
    for n in ("第一条", "第十三条", "第三十八条", "附件1", "附件3"):
        assert n in html
    assert "transfer.target_full" in html and "班额上限" in html


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium); "
                                              ".ci/run installs it where it can")
def test_report_renders_every_article_in_headless_chromium(report, tmp_path):
    rs = default_ruleset()
    profile = tmp_path / "profile"
    dom = subprocess.run([CHROMIUM, *HEADLESS, f"--user-data-dir={profile}", "--dump-dom", report.as_uri()],
                         capture_output=True, timeout=120)
    text = dom.stdout.decode("utf-8")
    assert dom.returncode == 0, dom.stderr.decode(errors="replace")[-2000:]
    for art in rs.articles.values():
        assert f'id="a-{art.key}"' in text and art.label in text, art.label
    shot = tmp_path / "report.png"
    subprocess.run([CHROMIUM, *HEADLESS, f"--user-data-dir={profile}", "--window-size=1400,1600",
                    f"--screenshot={shot}", report.as_uri()], capture_output=True, timeout=120, cwd=tmp_path)
    assert shot.exists() and shot.stat().st_size > 10_000
