"""Reload safety (a broken rule set never replaces a working one; readers never see half a set), and
the HTTP app in process with an injected clock (the edge, the time budget, what is emitted)."""

from __future__ import annotations

import asyncio
import copy
import json
import multiprocessing
import shutil
import threading
from pathlib import Path

import httpx
import pytest

from xueji_policy.server.app import ServerConfig, create_app
from xueji_policy.service import PolicyService

ROOT = Path(__file__).resolve().parent.parent


def test_a_broken_reload_keeps_the_old_rules_serving(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    svc = PolicyService(rules)
    before = svc.ruleset.sha256
    f = rules / "13.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("params.school_cap", "params.school_capp", 1), encoding="utf-8")
    result = svc.reload()
    assert not result.ok and result.sha256 == before and svc.ruleset.sha256 == before
    assert "school_capp" in result.error.errors[0].render()
    assert result.to_dict()["errors"][0]["line"] > 0
    case = json.loads((ROOT / "examples" / "transfer_in.json").read_text(encoding="utf-8"))
    assert svc.evaluate(case)["decision"] == "allow"
    f.write_text(f.read_text(encoding="utf-8").replace("params.school_capp", "params.school_cap"), encoding="utf-8")
    assert svc.reload().ok and svc.last_error is None


def test_reloads_under_concurrent_evaluations(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    svc = PolicyService(rules)
    case = json.loads((ROOT / "examples" / "transfer_in.json").read_text(encoding="utf-8"))
    failures, stop = [], threading.Event()

    def worker():
        while not stop.is_set():
            try:
                d = svc.evaluate(case)
                assert d["decision"] == "allow", d
            except Exception as e:  # noqa: BLE001 - any failure is the test's finding
                failures.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    p = rules / "parameters.yaml"
    good = p.read_text(encoding="utf-8")
    for i in range(6):
        p.write_text(good if i % 2 else good.replace("parameters:", "parameters:\n\tbroken", 1), encoding="utf-8")
        svc.reload()
    stop.set()
    for t in threads:
        t.join()
    assert failures == []


# =========================================================================== the HTTP app, in process
#
# The app (create_app) driven through httpx's ASGI transport, with an injected clock: rate limits,
# token brute force, time budgets and the documented statuses are tested without sleeping and
# without depending on how fast this machine is.  Evaluations still run in forked worker processes.


TOKEN = "in-process-admin-token-0123456789"
CASE = json.loads((ROOT / "examples" / "transfer_in.json").read_text(encoding="utf-8"))
SMALL = json.loads((ROOT / "examples" / "status_cancellation.json").read_text(encoding="utf-8"))
PROBLEM = "application/problem+json"


class SharedClock:
    """A clock in shared memory (forked workers read the same one).  It moves only when the test
    advances it, or by ``tick`` at every reading (a deterministic stand-in for work taking time)."""

    def __init__(self, tick: float = 0.0):
        self._t = multiprocessing.get_context("fork").RawValue("d", 1000.0)
        self.tick = tick

    def __call__(self) -> float:
        self._t.value += self.tick
        return self._t.value

    def advance(self, seconds: float) -> None:
        self._t.value += seconds


@pytest.fixture(scope="module")
def shipped():
    return PolicyService(ROOT / "rules")


def run_app(config: ServerConfig, scenario, service: PolicyService, client=("127.0.0.1", 50000)):
    """``await scenario(http_client, app)`` against a fresh app; its workers are stopped after."""
    app = create_app(config, service=service)

    async def main():
        transport = httpx.ASGITransport(app=app, client=client)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1", timeout=60,
                                         headers={"content-type": "application/json"}) as c:
                return await scenario(c, app)
        finally:
            app.state.pool.close()

    return asyncio.run(main())


def cfg(**kw) -> ServerConfig:
    kw.setdefault("workers", 1)
    kw.setdefault("rate", 0)
    return ServerConfig(**kw)


def problem_of(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["content-type"].split(";")[0] == PROBLEM
    body = r.json()
    assert body["status"] == status and body["code"] == code and body["title"] and body["detail"]
    return body


# --------------------------------------------------------------------------- time budget


def _batch_lines(c, ctype: str, n: int):
    one = json.dumps(SMALL, ensure_ascii=False).encode()
    body = b"\n".join([one] * n) if ctype == "application/x-ndjson" else b"[" + b",".join([one] * n) + b"]"
    return c.post("/v1/evaluate:batch", content=body, headers={"content-type": ctype})


@pytest.mark.parametrize("ctype", ["application/x-ndjson", "application/json"])
def test_a_batch_over_the_time_budget_stops_with_a_time_budget_record(shipped, ctype):
    """Every reading of the injected clock is one 'second' of work: a 300-'second' budget runs out
    part-way through 6000 cases, at the same line every time, whatever the machine's speed."""
    n = 6000

    async def scenario(c, app):
        r = await _batch_lines(c, ctype, n)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
        return [json.loads(x) for x in r.text.splitlines()]

    stops = []
    for _ in range(2):
        lines = run_app(cfg(time_budget_seconds=300, clock=SharedClock(tick=1.0)), scenario, shipped)
        last = lines[-1]
        assert last["error"] == "time_budget", last
        assert 1 < last["line"] < n and last["line"] == len(lines)
        assert [x["line"] if "line" in x else None for x in lines[:-1]] == [None] * (len(lines) - 1)
        assert all(x["decision"] == "allow" for x in lines[:-1])
        stops.append(last["line"])
    assert stops[0] == stops[1]  # deterministic


def test_a_batch_within_its_budget_is_answered_in_full(shipped):
    async def scenario(c, app):
        r = await _batch_lines(c, "application/x-ndjson", 500)
        return [json.loads(x) for x in r.text.splitlines()]

    lines = run_app(cfg(time_budget_seconds=10_000, clock=SharedClock(tick=1.0)), scenario, shipped)
    assert len(lines) == 500 and all(x["decision"] == "allow" for x in lines)


def _spin(state, job):  # a job that never ends: stands for any evaluation slower than the budget
    while True:
        pass


def test_an_evaluation_past_the_budget_is_killed_not_left_burning_cpu(shipped):
    """The attack: a request that keeps a CPU busy long after its 503.  The worker doing it is killed."""

    async def scenario(c, app):
        pool = app.state.pool
        pool.handler = _spin
        await pool.start()
        [worker] = pool._all
        before = worker.process
        r = await c.post("/v1/evaluate", json=CASE)
        problem_of(r, 503, "time_budget")
        assert not before.is_alive() and before.exitcode is not None  # killed, reaped: no CPU burning
        [fresh] = pool._all
        assert fresh.process.pid != before.pid and fresh.process.is_alive()
        r = await c.post("/v1/evaluate:batch", json=[CASE] * 3)
        assert r.status_code == 200
        assert [json.loads(x) for x in r.text.splitlines()] == [
            {"line": 1, "error": "time_budget", "message": "批量请求超出处理时限 0.5 秒，其余案例未评估",
             "message_en": "the batch ran over its 0.5 s budget; the remaining cases were not evaluated"}]
        assert not fresh.process.is_alive()
        pool.handler = __import__("xueji_policy.server.app", fromlist=["_work"])._work
        for w in list(pool._all):  # the next job gets a worker with the real handler
            pool._retire(w)
        pool.renew()
        r = await c.post("/v1/evaluate", json=CASE)
        assert r.status_code == 200 and r.json()["decision"] == "allow"

    run_app(cfg(time_budget_seconds=0.5, batch_grace_seconds=0.2), scenario, shipped)


# --------------------------------------------------------------------------- rate limit and reload tokens


def test_the_rate_limit_is_per_client_with_retry_after(shipped):
    clock = SharedClock()

    async def scenario(c, app):
        for _ in range(3):
            assert (await c.get("/v1/articles")).status_code == 200
        r = await c.get("/v1/articles")
        problem_of(r, 429, "rate_limited")
        assert r.headers["retry-after"] == "1"
        assert (await c.get("/healthz")).status_code == 200  # liveness probes are never throttled
        other = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.2", 1)),
                                  base_url="http://127.0.0.1")
        async with other:
            assert (await other.get("/v1/articles")).status_code == 200  # another client has its own bucket
        clock.advance(1.0)
        assert (await c.get("/v1/articles")).status_code == 200
        problem_of(await c.post("/v1/evaluate", json=CASE), 429, "rate_limited")

    run_app(cfg(rate=1.0, burst=3, clock=clock), scenario, shipped)


def test_the_rate_limiter_keeps_a_bounded_number_of_clients():
    from xueji_policy.server.guards import RateLimiter

    clock = SharedClock()
    rl = RateLimiter(1.0, 2, clock=clock, max_keys=100)
    for i in range(10_000):
        rl.take(f"10.0.{i // 256}.{i % 256}")
    assert len(rl._buckets) == 100


def test_brute_forcing_the_admin_token_is_stopped(shipped):
    """The attack: guess the token.  Wrong tokens are 401 (compared in constant time), then every
    attempt is 429 — even the right token, so the limit gives away nothing — until the bucket refills."""
    clock = SharedClock()

    async def scenario(c, app):
        guesses = [{}, {"authorization": "Bearer " + TOKEN[:-1] + "X"}, {"authorization": "Basic " + TOKEN},
                   {"authorization": TOKEN}, {"authorization": "Bearer " + TOKEN + "0"}]
        for h in guesses:
            r = await c.post("/v1/reload", headers=h)
            problem_of(r, 401, "unauthorized")
            assert r.headers["www-authenticate"].startswith("Bearer")
        r = await c.post("/v1/reload", headers={"authorization": "Bearer " + TOKEN})
        problem_of(r, 429, "rate_limited")
        assert int(r.headers["retry-after"]) >= 1
        clock.advance(61)
        r = await c.post("/v1/reload", headers={"authorization": "Bearer " + TOKEN})
        assert r.status_code == 200 and r.json()["ok"] is True
        assert (await c.post("/v1/reload?token=" + TOKEN)).status_code == 401  # a token in the URL is no token

    run_app(cfg(admin_token=TOKEN, clock=clock), scenario, shipped)


@pytest.mark.parametrize("bind,client,allowed", [("127.0.0.1", "127.0.0.1", True), ("127.0.0.1", "10.1.2.3", False),
                                                 ("0.0.0.0", "127.0.0.1", False)])
def test_local_reload_only_on_loopback(shipped, bind, client, allowed):
    async def scenario(c, app):
        return await c.post("/v1/reload")

    r = run_app(cfg(allow_local_reload=True, host=bind), scenario, shipped, client=(client, 1))
    if allowed:
        assert r.status_code == 200
    else:
        problem_of(r, 403, "reload_disabled")


def test_without_a_token_reload_is_disabled(shipped):
    async def scenario(c, app):
        return await c.post("/v1/reload", headers={"authorization": "Bearer anything-at-all-0123456789"})

    problem_of(run_app(cfg(), scenario, shipped), 403, "reload_disabled")


# --------------------------------------------------------------------------- cross-site, Host, headers


@pytest.mark.parametrize("headers,status,code", [
    ({"host": "evil.example"}, 421, "bad_host"),  # DNS rebinding: evil.example → 127.0.0.1
    ({"host": "evil.example:8080"}, 421, "bad_host"),
    ({"host": "127.0.0.1.evil.example"}, 421, "bad_host"),
    ({"host": "110105199003078877.evil.example"}, 421, "bad_host"),  # echoed in the problem: masked
    ({"host": ""}, 400, "bad_host"),
    ({"origin": "http://evil.example"}, 403, "cross_site"),  # a page on another site
    ({"origin": "null"}, 403, "cross_site"),  # a sandboxed frame or a file: page
    ({"origin": "http://127.0.0.1:9999"}, 403, "cross_site"),  # another port is another origin
    ({"sec-fetch-site": "cross-site"}, 403, "cross_site"),
    ({"sec-fetch-site": "same-site"}, 403, "cross_site"),
    ({"content-type": "text/plain"}, 415, "unsupported_media_type"),  # a simple (no preflight) cross-site post
    ({"content-type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"),  # a form post
    ({"content-type": "multipart/form-data; boundary=x"}, 415, "unsupported_media_type"),
    ({"content-type": ""}, 415, "unsupported_media_type"),
])
def test_cross_site_and_rebinding_requests_are_refused(shipped, headers, status, code):
    async def scenario(c, app):
        out = []
        for path in ("/v1/evaluate", "/v1/explain", "/v1/evaluate:batch"):
            body = json.dumps(CASE if path != "/v1/evaluate:batch" else [CASE])
            out.append(await c.post(path, content=body, headers=headers))
        return out

    for r in run_app(cfg(), scenario, shipped):
        body = problem_of(r, status, code)
        assert "110105199003078877" not in r.text
        assert "evil" not in body.get("detail", "") or status == 421
        assert r.headers["x-frame-options"] == "DENY"


def test_same_origin_and_non_browser_posts_are_accepted(shipped):
    async def scenario(c, app):
        return [await c.post("/v1/evaluate", json=CASE, headers=h) for h in
                ({}, {"origin": "http://127.0.0.1"}, {"sec-fetch-site": "same-origin"}, {"sec-fetch-site": "none"},
                 {"host": "localhost", "origin": "http://localhost"}, {"content-type": "application/json; charset=utf-8"},
                 {"host": "policy.example"})]

    rs = run_app(cfg(allowed_hosts=("policy.example",)), scenario, shipped)
    assert [r.status_code for r in rs] == [200] * len(rs)


def test_every_response_has_the_security_headers(shipped):
    async def scenario(c, app):
        return [await c.get("/"), await c.get("/v1/rules"), await c.get("/v1/articles/999"), await c.get("/docs"),
                await c.get("/static/app.js"), await c.post("/v1/evaluate", content=b"{"),
                await c.get("/v1/rules", headers={"host": "evil.example"}), await c.get("/nope"),
                await c.put("/v1/evaluate", json=CASE)]

    for r in run_app(cfg(), scenario, shipped):
        if r.status_code >= 400:
            assert r.headers["content-type"].split(";")[0] == PROBLEM, r.url
        assert r.headers["x-frame-options"] == "DENY", r.url
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";")[0]  # never inline script


# --------------------------------------------------------------------------- what is emitted


def test_reload_replies_and_readyz_never_echo_file_content(tmp_path):
    """The attack: a link in rules/ to a file outside (a password file).  Whatever the loader makes of
    it, the reply and /readyz carry codes, locations and messages only — not the file's lines."""
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:SECRET-LINE-1:/root:/bin/bash\nSECRET-LINE-2: [\n", encoding="utf-8")
    svc = PolicyService(rules)
    (rules / "99.yaml").symlink_to(secret)
    f = rules / "13.yaml"
    text = f.read_text(encoding="utf-8")
    f.write_text(text.replace("params.school_cap", "params.school_capp  # SECRET-LINE-3 110105199003078877", 1),
                 encoding="utf-8")

    async def scenario(c, app):
        r = await c.post("/v1/reload", headers={"authorization": "Bearer " + TOKEN})
        return r, await c.get("/readyz")

    reply, ready = run_app(cfg(admin_token=TOKEN), scenario, svc)
    problem_of(reply, 422, "ruleset_error")
    for r in (reply, ready):
        assert "SECRET-LINE" not in r.text, r.text[:2000]
        assert "110105199003078877" not in r.text
        assert str(tmp_path) not in r.text  # no absolute paths of the server's disk
    assert any(e.get("file") == "13.yaml" for e in reply.json()["errors"])


def test_an_id_number_in_a_rule_message_is_masked_in_every_reply(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    f = rules / "13.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("message: 转入学校已达到校额上限",
                                                       "message: 转入学校已达到校额上限110105199003078877", 1),
                 encoding="utf-8")
    svc = PolicyService(rules)
    denied = copy.deepcopy(CASE)
    denied["transfer"]["to_school"]["enrollment"] = 3000

    async def scenario(c, app):
        return [await c.get("/v1/rules"), await c.get("/v1/articles/13"), await c.post("/v1/evaluate", json=denied),
                await c.post("/v1/explain", json=denied), await c.post("/v1/evaluate:batch", json=[denied])]

    for r in run_app(cfg(), scenario, svc):
        assert r.status_code == 200
        assert "110105199003078877" not in r.text and "1101051990030788" not in r.text, r.url


# --------------------------------------------------------------------------- every documented status


async def _stalled_body(release: asyncio.Event):
    yield b'{"action": '
    await release.wait()  # never set: the client stops sending; the server's deadline must end it
    yield b"}"


def _observed_statuses(tmp_path) -> dict[tuple[str, str], set[int]]:
    """Drive each operation into each answer it can give; the statuses seen, per operation."""
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    svc = PolicyService(rules)
    seen: dict[tuple[str, str], set[int]] = {}
    ops = {("POST", "/v1/evaluate"): ("/v1/evaluate", CASE), ("POST", "/v1/explain"): ("/v1/explain", CASE),
           ("POST", "/v1/evaluate:batch"): ("/v1/evaluate:batch", [CASE])}
    gets = {("GET", p): p for p in ("/v1/rules", "/v1/articles", "/v1/schema/case", "/v1/schema/decision",
                                    "/v1/examples", "/healthz", "/readyz")}
    gets[("GET", "/v1/articles/{n}")] = "/v1/articles/13"

    def note(op, r):
        seen.setdefault(op, set()).add(r.status_code)

    async def ordinary(c, app):
        for op, (path, body) in ops.items():
            note(op, await c.post(path, json=body))
            note(op, await c.post(path, content=b"{"))  # 400
            note(op, await c.post(path, json=body, headers={"origin": "http://evil.example"}))  # 403
            note(op, await c.post(path, json=body, headers={"host": "evil.example"}))  # 421
            note(op, await c.post(path, json=body, headers={"host": ""}))  # 400
            note(op, await c.post(path, content=json.dumps(body), headers={"content-type": "text/plain"}))  # 415
            note(op, await c.post(path, content=b" " * 25_000 + json.dumps(body).encode()))  # 413
            note(op, await c.post(path, json={"action": "transfer_in"} if path != "/v1/evaluate:batch" else [CASE] * 6))
            note(op, await c.post(path, content=_stalled_body(asyncio.Event())))  # 408
        for op, path in gets.items():
            note(op, await c.get(path))
            note(op, await c.get(path, headers={"host": "evil.example"}))
            note(op, await c.get(path, headers={"host": ""}))
        note(("GET", "/v1/articles/{n}"), await c.get("/v1/articles/999"))
        op = ("POST", "/v1/reload")
        admin = {"authorization": "Bearer " + TOKEN}
        note(op, await c.post("/v1/reload", headers=admin))
        note(op, await c.post("/v1/reload"))  # 401
        note(op, await c.post("/v1/reload", headers={**admin, "origin": "http://evil.example"}))  # 403
        note(op, await c.post("/v1/reload", headers={**admin, "host": "evil.example"}))  # 421
        note(op, await c.post("/v1/reload", headers={**admin, "host": ""}))  # 400
        f = rules / "13.yaml"
        good = f.read_text(encoding="utf-8")
        f.write_text(good.replace("params.school_cap", "params.school_capp", 1), encoding="utf-8")
        note(op, await c.post("/v1/reload", headers=admin))  # 422
        f.write_text(good, encoding="utf-8")
        for _ in range(4):
            note(op, await c.post("/v1/reload", headers={"authorization": "Bearer wrong"}))
        note(op, await c.post("/v1/reload", headers=admin))  # 429 after 5 wrong tokens

    run_app(cfg(admin_token=TOKEN, max_body_bytes=2000, max_batch_body_bytes=20_000, max_batch_cases=5,
                body_timeout_seconds=0.3), ordinary, svc)

    async def throttled(c, app):
        await c.get("/v1/articles")  # the one token of the bucket
        for op, (path, body) in ops.items():
            note(op, await c.post(path, json=body))
        for op, path in gets.items():
            note(op, await c.get(path))
        note(("POST", "/v1/reload"), await c.post("/v1/reload"))  # 403: no token configured

    clock = SharedClock()
    run_app(cfg(rate=1.0, burst=1, clock=clock), throttled, svc)  # every request after the first: 429

    async def instant(c, app):
        for op in (("POST", "/v1/evaluate"), ("POST", "/v1/explain")):
            note(op, await c.post(op[1], json=CASE))  # 503

    run_app(cfg(time_budget_seconds=1e-6), instant, svc)
    return seen


def test_openapi_documents_every_status_each_operation_returns(tmp_path, shipped):
    async def doc(c, app):
        return (await c.get("/openapi.json")).json()

    document = run_app(cfg(), doc, shipped)
    documented = {(m.upper(), p): {int(s) for s in op["responses"]}
                  for p, ops in document["paths"].items() for m, op in ops.items()}
    observed = _observed_statuses(tmp_path)
    assert set(observed) == set(documented)
    for op in sorted(documented):
        assert observed[op] == documented[op], (op, sorted(observed[op]), sorted(documented[op]))
        for s, resp in document["paths"][op[1]][op[0].lower()]["responses"].items():
            if int(s) >= 400:
                assert resp["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}, (op, s)


def _explode(state, job):  # a bug (or MemoryError) inside a worker
    raise MemoryError("boom")


def test_a_failing_worker_is_a_500_problem_and_a_batch_goes_on(shipped):
    async def scenario(c, app):
        app.state.pool.handler = _explode
        r = await c.post("/v1/evaluate", json=CASE)
        problem_of(r, 500, "internal")
        assert "Traceback" not in r.text and "boom" not in r.text
        r = await c.post("/v1/evaluate:batch", json=[CASE, CASE])
        lines = [json.loads(x) for x in r.text.splitlines()]
        assert [(x["line"], x["error"]) for x in lines] == [(1, "internal"), (2, "internal")]

    run_app(cfg(), scenario, shipped)


def test_a_deeply_nested_batch_array_element_is_its_own_error_record_not_a_500(shipped):
    # Each element is parsed on its own, like a single case: the deep one is that line's error record.
    line = json.dumps(SMALL, ensure_ascii=False).encode()

    async def scenario(c, app):
        return await c.post("/v1/evaluate:batch", content=b"[" + line + b"," + b"[" * 200_000 + b"]" * 200_000 + b"]")

    r = run_app(cfg(), scenario, shipped)
    assert r.status_code == 200
    records = [json.loads(x) for x in r.text.splitlines()]
    assert len(records) == 2 and "decision" in records[0]
    assert records[1]["line"] == 2 and records[1]["error"] == "malformed_json"


def test_a_json_array_batch_has_a_smaller_limit_than_ndjson(shipped):
    """An array has its own, smaller body limit: past it 413, while the same cases as NDJSON are accepted."""
    line = json.dumps(SMALL, ensure_ascii=False).encode()

    async def scenario(c, app):
        array = await c.post("/v1/evaluate:batch", content=b"[" + b",".join([line] * 40) + b"]")
        ndjson = await c.post("/v1/evaluate:batch", content=b"\n".join([line] * 40),
                              headers={"content-type": "application/x-ndjson"})
        return array, ndjson

    array, ndjson = run_app(cfg(max_array_body_bytes=len(line) * 20), scenario, shipped)
    problem_of(array, 413, "too_large")
    assert ndjson.status_code == 200 and len(ndjson.text.splitlines()) == 40


def test_the_moment_the_rule_set_is_swapped_no_job_runs_on_the_old_one(tmp_path):
    """/readyz named the new rule set while workers forked before the swap still decided with the
    old one (a SIGHUP race).  Workers are tied to the rule set they were forked with."""
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    svc = PolicyService(rules)
    p = rules / "parameters.yaml"

    async def scenario(c, app):
        before = (await c.post("/v1/evaluate", json=CASE)).json()
        assert before["decision"] == "allow"
        text = p.read_text(encoding="utf-8")
        p.write_text(text.replace("{effective_from: 2024-08-16, value: 50}", "{effective_from: 2024-08-16, value: 44}", 1),
                     encoding="utf-8")
        assert svc.reload().changed  # the swap alone, as a reload thread makes it
        ready = (await c.get("/readyz")).json()
        after = (await c.post("/v1/evaluate", json=CASE)).json()
        assert after["ruleset"]["sha256"] == ready["sha256"] != before["ruleset"]["sha256"]
        assert after["decision"] == "deny"

    run_app(cfg(workers=2), scenario, svc)
