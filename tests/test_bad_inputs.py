"""Bad case inputs: every kind is refused with the right error code, in Chinese and English,
naming the JSON paths at fault, without a traceback and without an ID number in full.

The catalogue is ``tests/bad_inputs/expected.yaml`` (one entry per kind; the file's header
says what each field means).  Every kind is fed

* to the command line, ``python -m xueji_policy evaluate -`` (bytes on stdin) and
  ``evaluate FILE`` — exit 2 (an accepted input: 0/1), the Chinese substring and every
  path on stderr, nothing on stdout, no traceback;
* to ``evaluate --batch IN.jsonl`` as the middle of five lines (newlines in the fixture
  become spaces) — every line answered in order, the bad one an error record with its
  line number and code (a blank line is skipped, as documented in ``batch.py``);
* to the API, ``parse_case_json(raw)`` then ``evaluate_dict(case)`` — a ``XuejiError``
  with the code, the paths among ``err.problems`` and both messages;

and no output of any of these (stdout, stderr, ``err.to_dict()``) holds an ID number of
the fixture in full.  A known bug of the package is a strict xfail of the part it breaks
(the entry's ``xfail``), so that a fix shows up as XPASS.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from xueji_policy.engine import evaluate_dict
from xueji_policy.errors import CaseError, XuejiError
from xueji_policy.validate import DEFAULT_MAX_BYTES, parse_case_json

ROOT = Path(__file__).resolve().parents[1]
BAD = Path(__file__).resolve().parent / "bad_inputs"
BASE_CASE = BAD / "base_case.json"

STREAM_ABOVE = 8 << 20  # inputs larger than this are streamed, never held whole
CLI_TIMEOUT = 120

MiB = 1 << 20


# --------------------------------------------------------------------------- generated inputs


@dataclass(frozen=True)
class Generated:
    """``prefix + unit * count + suffix``: a very large input described in a few bytes."""

    prefix: bytes
    unit: bytes
    count: int
    suffix: bytes

    def size(self) -> int:
        return len(self.prefix) + len(self.unit) * self.count + len(self.suffix)

    def build(self) -> bytes:
        return self.prefix + self.unit * self.count + self.suffix

    def skeleton(self) -> bytes:
        return self.prefix + self.unit + self.suffix


def _base() -> dict:
    return json.loads(BASE_CASE.read_text("utf-8"))


def _split_at(text: str, marker: str) -> tuple[bytes, bytes]:
    i = text.index(marker)
    return text[:i].encode("utf-8"), text[i + len(marker):].encode("utf-8")


def gen_suspensions_10000() -> Generated:
    case = _base()
    case["student"]["suspensions"] = ["@@"]
    entry = json.dumps({"start": "2024-03-04", "end": "2024-07-10", "reason": "illness"})
    pre, post = _split_at(json.dumps(case, ensure_ascii=False), '"@@"')
    return Generated(pre, (entry + ", ").encode(), 9999, entry.encode() + post)


def gen_pad_2mib_in_string() -> Generated:
    case = _base()
    case["student"]["name"] = "@@"
    pre, post = _split_at(json.dumps(case, ensure_ascii=False, indent=2), "@@")
    return Generated(pre + "李浩然".encode(), b" ", 2 * MiB, post)


def gen_stream_50mib() -> Generated:
    case = _base()
    case["case_id"] = "@@"
    pre, post = _split_at(json.dumps(case, ensure_ascii=False), "@@")
    return Generated(pre, b" " * 1024, 50 * 1024, post)


def gen_valid_json_1_2mib() -> Generated:
    text = BASE_CASE.read_text("utf-8")
    assert text.startswith("{")
    return Generated(b"{", b" ", int(1.2 * MiB), text[1:].encode("utf-8"))


GENERATORS = {
    "suspensions_10000": gen_suspensions_10000,
    "pad_2mib_in_string": gen_pad_2mib_in_string,
    "stream_50mib": gen_stream_50mib,
    "valid_json_1_2mib": gen_valid_json_1_2mib,
}


# --------------------------------------------------------------------------- the catalogue


@dataclass(frozen=True)
class Kind:
    file: str
    what: str
    codes: tuple[str, ...] | None  # None: the input must be accepted
    paths: tuple[str, ...]
    zh: str | None
    en: str | None
    generate: str | None = None
    quick: bool = False
    forbid: tuple[str, ...] = ()
    decision: str | None = None
    xfail: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def accepted(self) -> bool:
        return self.codes is None

    @functools.cached_property
    def generated(self) -> Generated | None:
        return GENERATORS[self.generate]() if self.generate else None

    def raw(self) -> bytes:
        if self.generated is not None:
            return self.generated.build()
        return (BAD / self.file).read_bytes()

    def size(self) -> int:
        return self.generated.size() if self.generated is not None else (BAD / self.file).stat().st_size

    def id_numbers(self) -> set[str]:
        """Every ID-number-looking run (18 or 15 characters) of the fixture, in every
        encoding it could be read in."""
        raw = self.generated.skeleton() if self.generated is not None else self.raw()
        texts = [raw.decode("utf-8", "replace"), raw.decode("latin-1")]
        if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
            texts.append(raw.decode("utf-16", "replace"))
        found: set[str] = set()
        for t in texts:
            found.update(m.group(0) for m in _ID_RUN.finditer(t))
        return found


_ID_RUN = re.compile(r"(?<![0-9])(?:[0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9])")


def _load_catalogue() -> list[Kind]:
    entries = yaml.safe_load((BAD / "expected.yaml").read_text("utf-8"))
    kinds = []
    for e in entries:
        code = e["code"]
        codes = None if code is None else tuple(code if isinstance(code, list) else [code])
        kinds.append(Kind(
            file=e["file"], what=e["what"], codes=codes, paths=tuple(e.get("paths") or ()),
            zh=e.get("zh"), en=e.get("en"), generate=e.get("generate"), quick=bool(e.get("quick")),
            forbid=tuple(e.get("forbid") or ()), decision=e.get("decision"), xfail=dict(e.get("xfail") or {}),
        ))
    return kinds


CATALOGUE = _load_catalogue()


def _params(part: str) -> list:
    """One pytest param per kind; the kind's known bug in ``part`` is a strict xfail."""
    out = []
    for k in CATALOGUE:
        marks = []
        if part in k.xfail:
            marks.append(pytest.mark.xfail(strict=True, reason=k.xfail[part]))
        out.append(pytest.param(k, id=Path(k.file).stem, marks=marks))
    return out


# --------------------------------------------------------------------------- running the CLI


@dataclass
class Run:
    returncode: int
    stdout: bytes
    stderr: bytes
    seconds: float

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "replace")


_STREAM_CODE = r"""
import sys
spec = sys.argv[1]
with open(spec + ".prefix", "rb") as f: prefix = f.read()
with open(spec + ".unit", "rb") as f: unit = f.read()
with open(spec + ".suffix", "rb") as f: suffix = f.read()
count = int(sys.argv[2])
out = sys.stdout.buffer
try:
    out.write(prefix)
    block = unit * max(1, (1 << 20) // len(unit))
    per_block = (1 << 20) // len(unit) or 1
    full, rest = divmod(count, per_block)
    for _ in range(full):
        out.write(block)
    out.write(unit * rest)
    out.write(suffix)
    out.flush()
except BrokenPipeError:  # the reader may stop early: that is the point
    pass
"""


def _cmd(args: list[str], wrapper: str | None = None) -> list[str]:
    if wrapper is None:
        return [sys.executable, "-m", "xueji_policy", *args]
    return [sys.executable, "-c", wrapper, *args]


def run_cli(args: list[str], *, stdin: bytes | Generated | None = None, workdir: Path | None = None,
            wrapper: str | None = None, env: dict | None = None) -> Run:
    """Run the command line; a ``Generated`` stdin is streamed from another process."""
    env = {**os.environ, **(env or {})}
    env.pop("XUEJI_POLICY_DEBUG", None)
    start = time.monotonic()
    if isinstance(stdin, Generated) and stdin.size() > STREAM_ABOVE:
        assert workdir is not None
        spec = workdir / f"stream-{os.getpid()}-{time.monotonic_ns()}"
        Path(str(spec) + ".prefix").write_bytes(stdin.prefix)
        Path(str(spec) + ".unit").write_bytes(stdin.unit)
        Path(str(spec) + ".suffix").write_bytes(stdin.suffix)
        gen = subprocess.Popen([sys.executable, "-c", _STREAM_CODE, str(spec), str(stdin.count)],
                               stdout=subprocess.PIPE)
        try:
            proc = subprocess.Popen(_cmd(args, wrapper), stdin=gen.stdout, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, cwd=ROOT, env=env)
            gen.stdout.close()
            out, err = proc.communicate(timeout=CLI_TIMEOUT)
        finally:
            gen.kill()
            gen.wait()
        return Run(proc.returncode, out, err, time.monotonic() - start)
    data = stdin.build() if isinstance(stdin, Generated) else (stdin if stdin is not None else b"")
    proc = subprocess.run(_cmd(args, wrapper), input=data, capture_output=True, cwd=ROOT, env=env, check=False,
                          timeout=CLI_TIMEOUT)
    return Run(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("bad-inputs")


class _Runs:
    """Each CLI run of a kind happens once per module, shared by the tests that look at it."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self._cache: dict[tuple[str, str], Run] = {}

    def stdin(self, kind: Kind) -> Run:
        key = (kind.file, "stdin")
        if key not in self._cache:
            src = kind.generated if kind.generated is not None else kind.raw()
            self._cache[key] = run_cli(["evaluate", "-"], stdin=src, workdir=self.workdir)
        return self._cache[key]

    def file(self, kind: Kind) -> Run:
        key = (kind.file, "file")
        if key not in self._cache:
            path = self.workdir / "files" / kind.file
            path.parent.mkdir(exist_ok=True)
            if kind.generated is not None:
                g = kind.generated
                with open(path, "wb") as f:
                    f.write(g.prefix)
                    left = g.count
                    while left:
                        n = min(left, max(1, MiB // len(g.unit)))
                        f.write(g.unit * n)
                        left -= n
                    f.write(g.suffix)
            else:
                path.write_bytes(kind.raw())
            try:
                self._cache[key] = run_cli(["evaluate", str(path)])
            finally:
                if kind.generated is not None:
                    path.unlink()
        return self._cache[key]

    def batch(self, kind: Kind) -> tuple[Run, int]:
        """Five lines, the kind's bytes (newlines made spaces) in the middle; (run, its line number)."""
        key = (kind.file, "batch")
        if key not in self._cache:
            good = BASE_CASE.read_bytes().replace(b"\n", b" ").strip()
            bad = kind.raw().replace(b"\n", b" ")
            path = self.workdir / f"batch-{Path(kind.file).stem}.jsonl"
            path.write_bytes(b"\n".join([good, good, bad, good, good]) + b"\n")
            try:
                self._cache[key] = run_cli(["evaluate", "--batch", str(path)])
            finally:
                path.unlink()
        return self._cache[key], 3


@pytest.fixture(scope="module")
def runs(workdir) -> _Runs:
    return _Runs(workdir)


def _api(kind: Kind):
    """(decision, None, seconds) or (None, error, seconds) from parse_case_json + evaluate_dict."""
    raw = kind.raw()
    start = time.monotonic()
    try:
        decision = evaluate_dict(parse_case_json(raw))
    except XuejiError as e:
        return None, e, time.monotonic() - start
    return decision, None, time.monotonic() - start


# --------------------------------------------------------------------------- (a) the command line


def _check_cli(kind: Kind, run: Run) -> None:
    assert "Traceback" not in run.err, run.err[-2000:]
    if kind.accepted:
        expected = {"allow": 0, "deny": 1}[kind.decision]
        assert run.returncode == expected, run.err[-2000:]
        decision = json.loads(run.out)
        assert decision["decision"] == kind.decision
        return
    assert run.returncode == 2, f"exit {run.returncode}: {run.err[-2000:]}"
    assert run.stdout == b"", "an error must not print a decision"
    assert run.err.startswith("错误："), run.err[:500]
    assert kind.zh in run.err, run.err[:2000]
    for path in kind.paths:
        assert path in run.err, (path, run.err[:2000])
    for bad in kind.forbid:
        assert bad not in run.err, (bad, run.err[:2000])


@pytest.mark.parametrize("kind", _params("cli"))
def test_cli_stdin(kind: Kind, runs: _Runs):
    _check_cli(kind, runs.stdin(kind))


@pytest.mark.parametrize("kind", _params("cli"))
def test_cli_file(kind: Kind, runs: _Runs):
    _check_cli(kind, runs.file(kind))


_MENTIONS_LINE = re.compile(r"第 \d+ 行|第 \d+ 列|line \d+|column \d+")


@pytest.mark.parametrize("kind", _params("batch"))
def test_cli_batch_answers_every_line(kind: Kind, runs: _Runs):
    run, bad_line = runs.batch(kind)
    assert "Traceback" not in run.err, run.err[-2000:]
    assert run.returncode == 0, f"exit {run.returncode}: {run.err[-2000:]}"
    records = [json.loads(line) for line in run.out.splitlines()]
    blank = not kind.raw().replace(b"\n", b" ").strip()
    if blank:  # a blank line is skipped (batch.py); the others keep their numbers
        assert len(records) == 4
        assert all(r.get("decision") == "allow" for r in records), records
        return
    assert len(records) == 5, [r.get("error") or r.get("decision") for r in records]
    for i in (0, 1, 3, 4):
        assert records[i].get("decision") == "allow", records[i]
    rec = records[bad_line - 1]
    if kind.accepted:
        assert rec.get("decision") == kind.decision, rec
        return
    assert rec.get("line") == bad_line, rec
    assert rec.get("error") in kind.codes, rec
    # Joined into one line, a fixture's line and column numbers change: those are not compared.
    if not _MENTIONS_LINE.search(kind.zh + kind.en):
        assert kind.zh in rec["message"] and kind.en in rec["message_en"], rec
    got_paths = {x for p in rec.get("problems", []) for x in [p["path"], *p.get("paths", [])]}
    assert set(kind.paths) <= got_paths, (kind.paths, got_paths)
    for bad in kind.forbid:
        assert bad not in rec["message"] and bad not in rec["message_en"], (bad, rec)


# --------------------------------------------------------------------------- (b) the API


@pytest.mark.parametrize("kind", _params("api"))
def test_api(kind: Kind):
    decision, err, _seconds = _api(kind)  # no timing assertion: CI machines are busy
    if kind.accepted:
        assert err is None, err
        assert decision["decision"] == kind.decision
        return
    assert err is not None, f"accepted, decision {decision and decision['decision']!r}"
    assert err.code in kind.codes, (err.code, err.message[:500])
    if kind.paths:
        assert isinstance(err, CaseError)
        got = [x for p in err.problems for x in (p.path, *p.paths)]  # a contradiction names every path
        for path in kind.paths:
            assert path in got, (path, got)
    else:
        assert not isinstance(err, CaseError) or err.problems
    assert kind.zh in err.message, err.message[:2000]
    assert kind.en in err.message_en, err.message_en[:2000]
    for bad in kind.forbid:
        assert bad not in err.message and bad not in err.message_en, bad
    json.dumps(err.to_dict(), ensure_ascii=False).encode("utf-8")  # reportable as JSON


# --------------------------------------------------------------------------- (c) no ID number in full


@pytest.mark.parametrize("kind", [pytest.param(k, id=Path(k.file).stem) for k in CATALOGUE])
def test_no_id_number_in_full_anywhere(kind: Kind, runs: _Runs):
    ids = kind.id_numbers()
    if not ids:
        pytest.skip("the fixture holds no ID number")
    outputs = {}
    for mode in ("stdin", "file"):
        run = getattr(runs, mode)(kind)
        outputs[f"{mode} stdout"] = run.out
        outputs[f"{mode} stderr"] = run.err
    batch_run, _ = runs.batch(kind)
    outputs["batch stdout"] = batch_run.out
    outputs["batch stderr"] = batch_run.err
    try:
        decision, err, _ = _api(kind)
    except Exception:  # noqa: BLE001 - another test reports an escaping exception
        decision, err = None, None
    if err is not None:
        outputs["to_dict"] = json.dumps(err.to_dict(), ensure_ascii=False)
        outputs["str"] = str(err)
    if decision is not None:
        outputs["decision"] = json.dumps(decision, ensure_ascii=False)
    for where, text in outputs.items():
        for n in ids:
            assert n not in text and n.upper() not in text, f"{where} shows an ID number in full"


# --------------------------------------------------------------------------- the catalogue itself


def test_catalogue_has_at_least_30_distinct_kinds():
    files = [k.file for k in CATALOGUE]
    whats = [k.what for k in CATALOGUE]
    assert len(set(files)) == len(files), "a fixture listed twice"
    assert len(set(whats)) == len(whats), "two kinds described alike"
    assert len(CATALOGUE) >= 30


def test_every_entry_is_complete_and_every_fixture_listed():
    listed = {k.file for k in CATALOGUE if not k.generate}
    on_disk = {p.name for p in BAD.iterdir() if p.is_file()} - {"expected.yaml", "base_case.json"}
    assert on_disk == listed
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for k in CATALOGUE:
        assert cjk.search(k.what) and "\n" not in k.what, k.file
        assert Path(k.file).suffix in (".json", ".bin"), k.file
        assert (k.file.endswith(".bin")) == (k.file in ("non_utf8_gbk.bin", "utf16_with_bom.bin")), k.file
        if k.accepted:
            assert k.decision in ("allow", "deny") and not k.paths
        else:
            assert k.zh and k.en and cjk.search(k.zh), k.file
        if k.generate:
            assert k.generate in GENERATORS and not (BAD / k.file).exists(), k.file
        assert set(k.xfail) <= {"api", "cli", "batch"}, k.file
        assert all(r.startswith("bug: ") for r in k.xfail.values()), k.file


def test_base_case_is_accepted():
    """Each fixture differs from this valid case only by its flaw."""
    decision = evaluate_dict(parse_case_json(BASE_CASE.read_bytes()))
    assert decision["decision"] == "allow"


def test_the_large_valid_case_is_refused_only_for_its_size():
    kind = next(k for k in CATALOGUE if k.generate == "valid_json_1_2mib")
    raw = kind.raw()
    assert DEFAULT_MAX_BYTES < len(raw) < 1.3 * MiB
    decision = evaluate_dict(parse_case_json(raw, max_bytes=2 * MiB))
    assert decision["decision"] == "allow"


def test_generated_sizes():
    sizes = {k.generate: k.size() for k in CATALOGUE if k.generate}
    assert sizes["stream_50mib"] >= 50 * MiB
    assert sizes["pad_2mib_in_string"] >= 2 * MiB
    kind = next(k for k in CATALOGUE if k.generate == "suspensions_10000")
    assert len(json.loads(kind.raw())["student"]["suspensions"]) == 10000
    assert kind.size() < DEFAULT_MAX_BYTES  # refused for the list, not for the size


# --------------------------------------------------------------------------- a huge input is not read whole

# The peak resident size of this process's own memory (VmHWM): unlike ru_maxrss, it is not
# inherited from the parent that forked it.
_MAXRSS_WRAPPER = r"""
import os, sys
from xueji_policy.cli.main import main
try:
    rc = main(sys.argv[1:])
finally:
    with open("/proc/self/status") as f:
        hwm = next(line.split()[1] for line in f if line.startswith("VmHWM:"))
    with open(os.environ["XUEJI_TEST_MAXRSS"], "w") as f:
        f.write(hwm)
sys.exit(rc)
"""


def _peak_kib(workdir: Path, args: list[str], stdin) -> tuple[Run, int]:
    out = workdir / f"maxrss-{time.monotonic_ns()}"
    run = run_cli(args, stdin=stdin, workdir=workdir, wrapper=_MAXRSS_WRAPPER,
                  env={"XUEJI_TEST_MAXRSS": str(out)})
    return run, int(out.read_text())


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc/self/status (VmHWM)")
@pytest.mark.parametrize("mode", ["stdin", "file"])
def test_50mib_is_refused_without_reading_it_into_memory(mode: str, workdir: Path):
    kind = next(k for k in CATALOGUE if k.generate == "stream_50mib")
    g = kind.generated
    _, base_kib = _peak_kib(workdir, ["evaluate", "-"], b"")  # an error before any rule is loaded
    if mode == "stdin":
        run, peak_kib = _peak_kib(workdir, ["evaluate", "-"], g)
    else:
        path = workdir / "huge-50mib.json"
        with open(path, "wb") as f:
            f.write(g.prefix)
            for _ in range(g.count):
                f.write(g.unit)
            f.write(g.suffix)
        try:
            run, peak_kib = _peak_kib(workdir, ["evaluate", str(path)], None)
        finally:
            path.unlink()
    assert run.returncode == 2 and "输入过大" in run.err, run.err[:500]
    grown_mib = (peak_kib - base_kib) / 1024
    assert grown_mib < 16, f"peak memory grew by {grown_mib:.0f} MiB for a {g.size() / MiB:.0f} MiB input"


# --------------------------------------------------------------------------- messages that should say more


def _kind(stem: str) -> Kind:
    return next(k for k in CATALOGUE if Path(k.file).stem == stem)


def test_trailing_comma_is_named():
    _, err, _ = _api(_kind("malformed_trailing_comma"))
    assert "逗号" in err.message, err.message


def test_unknown_action_suggests_the_nearest_action():
    _, err, _ = _api(_kind("unknown_action"))
    assert '是否应为 "transfer_in"' in err.message, err.message
    assert 'did you mean "transfer_in"' in err.message_en, err.message_en


# --------------------------------------------------------------------------- unreadable files


@pytest.mark.parametrize("which", ["missing", "directory"])
def test_unreadable_case_file(which: str, workdir: Path):
    from xueji_policy.cli.evaluate import read_case

    path = workdir / "no-such-case.json" if which == "missing" else workdir
    run = run_cli(["evaluate", str(path)])
    assert run.returncode == 2, run.err
    assert "Traceback" not in run.err and run.stdout == b""
    assert "无法读取案例文件" in run.err, run.err
    with pytest.raises(CaseError) as ei:
        read_case(str(path))
    assert ei.value.code == "unreadable"
    assert "cannot read case file" in ei.value.message_en


def test_unreadable_batch_file(workdir: Path):
    run = run_cli(["evaluate", "--batch", str(workdir / "no-such-batch.jsonl")])
    assert run.returncode == 2 and "Traceback" not in run.err
    assert "无法读取批量文件" in run.err, run.err


def test_unreadable_case_file_is_named(workdir: Path):
    path = workdir / "no-such-case.json"
    run = run_cli(["evaluate", str(path)])
    assert "no-such-case.json" in run.err, run.err
