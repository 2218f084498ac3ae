"""JSON array batches: scanned for element offsets in bounded memory, counted while scanning (never
built as one list), and each element parsed on its own exactly like a single case — so a duplicate
key, a lone surrogate or deep nesting is that element's error record, not the batch's end."""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xueji_policy.batch import MAX_LINE_BYTES, BatchTooLong, decode_line, json_array_items, json_array_spans
from xueji_policy.errors import CaseError

ROOT = Path(__file__).resolve().parent.parent
GOOD = (ROOT / "examples" / "transfer_in.json").read_bytes().strip()
DUPLICATE = GOOD.replace(b"{", b'{"action": "registration", ', 1)
SURROGATE = GOOD.replace(b'"case_id": "', b'"case_id": "\\udc00', 1)
DEEP = b"[" * 50_000 + b"]" * 50_000


def elements(body: bytes, max_items: int = 1000) -> list[bytes]:
    fp = io.BytesIO(body)
    return [raw for _, raw in json_array_items(fp, json_array_spans(fp, max_items=max_items))]


def test_each_element_is_parsed_like_a_single_case():
    raws = elements(b"[" + b",".join([GOOD, DUPLICATE, SURROGATE, DEEP, GOOD]) + b"]")
    results = [decode_line(raw, n) for n, raw in enumerate(raws, 1)]
    assert [err is None for _, err in results] == [True, False, False, False, True]
    assert results[1][1]["error"] == "malformed_json" and "重复" in results[1][1]["message"]
    assert [err["line"] for _, err in results if err] == [2, 3, 4]


class EndlessArray(io.RawIOBase):
    """``[1,1,1,…`` without end, counting the bytes read."""

    def __init__(self):
        self.read_bytes = 0
        self.started = False

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        out = (b"" if self.started else b"[") + b"1," * (n // 2)
        self.started = True
        self.read_bytes += len(out)
        return out


def test_an_array_is_counted_while_scanning():
    stream = EndlessArray()
    with pytest.raises(BatchTooLong):
        json_array_spans(stream, max_items=1000)  # type: ignore[arg-type]
    assert stream.read_bytes < 1 << 20


def test_an_element_over_the_bound_is_never_read_whole():
    body = b'[{"case_id": "' + b"x" * (5 * MAX_LINE_BYTES) + b'"}, ' + GOOD + b"]"
    raws = elements(body)
    assert len(raws[0]) == MAX_LINE_BYTES + 1 and decode_line(raws[0], 1)[1]["error"] == "too_large"
    assert decode_line(raws[1], 2)[1] is None


@pytest.mark.parametrize("body", [b"", b"  ", b"{}", b"1", b"x[1]", b"[1]x", b"[1,]", b"[,1]", b"[1,,2]", b"[1",
                                  b'["abc', b"[1]]", b"[}]"])
def test_a_body_that_is_not_one_array_is_refused(body):
    with pytest.raises(CaseError):
        json_array_spans(io.BytesIO(body), max_items=10)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.sampled_from('ab"\\,[]{}: \n\u00e9\u4e2d')),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(st.lists(json_values, max_size=8), st.integers(1, 17), st.booleans())
def test_the_scan_finds_exactly_the_elements_json_finds(items, read_size, indent):
    """Whatever the elements hold (quotes, escapes, brackets in strings) and wherever the reads cut."""
    body = json.dumps(items, indent=2 if indent else None, ensure_ascii=False).encode("utf-8")
    fp = io.BytesIO(body)
    spans = json_array_spans(fp, max_items=100, read_size=read_size)
    assert [json.loads(body[a:b]) for a, b in spans] == items


def test_the_service_answers_every_element_of_an_array_batch():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*httpx.*")
        from fastapi.testclient import TestClient

    from xueji_policy.server.app import ServerConfig, create_app

    body = b"[" + b",".join([GOOD, DUPLICATE, SURROGATE, DEEP, GOOD]) + b"]"
    with TestClient(create_app(ServerConfig()), base_url="http://127.0.0.1") as client:  # an allowed Host
        r = client.post("/v1/evaluate:batch", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text[:300]
    out = [json.loads(x) for x in r.text.split("\n")[:-1]]
    assert [o.get("error") for o in out] == [None, "malformed_json", "malformed_json", "malformed_json", None]
    assert [o["line"] for o in out if "error" in o] == [2, 3, 4]
