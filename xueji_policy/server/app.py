"""The HTTP service (``xueji-policy serve``): the library's API over HTTP, and a page for staff.

Endpoints (the OpenAPI document at ``/openapi.json`` is generated from the same
pydantic models the library uses; ``/docs`` and ``/redoc`` show it with assets served
from installed packages, no CDN):

    POST /v1/evaluate          one case → decision (``?explain=brief``: with the brief explanation)
    POST /v1/evaluate:batch    JSON array or NDJSON stream → NDJSON decisions (streamed)
    POST /v1/explain           one case → decision with the trace and a Chinese account
    GET  /v1/rules             every rule
    GET  /v1/articles/{n}      an article's text with its rules and parameters
    GET  /v1/schema/case       case.schema.json
    GET  /v1/schema/decision   decision.schema.json (the page reads its labels from x-labels)
    POST /v1/reload            reload the rules (admin token; a broken set is refused, the old one serves)
    GET  /healthz, /readyz
    GET  /                     the page for policy staff (no build step, no internet assets)

Errors are ``application/problem+json`` with the JSON paths at fault.  The edge (Host
allow-list, cross-site refusal, rate limit, security headers) is ``guards.Guard``; cases
are decided in killable worker processes (``workers.WorkerPool``) within the time budget.
Everything served passes through the ID-number mask (第三十二条).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..contract import action_titles
from ..errors import CaseError, CaseProblem, RuleSetError, XuejiError
from ..models import Case, Decision
from ..privacy import mask_ids_in_text
from ..service import PolicyService
from .guards import PROBLEM, Guard, RateLimiter, allowed_host_set, is_loopback
from .workers import WorkerCrashed, WorkerPool, WorkerTimeout

if TYPE_CHECKING:
    from ..ruleset import RuleSet

MAX_LISTED_PROBLEMS = 100  # paths listed in one problem; the rest are counted
MAX_LISTED_RULE_ERRORS = 50
MAX_MESSAGE_CHARS = 500
JSON_TYPES = ("application/json",)
NDJSON_TYPES = ("application/x-ndjson", "application/jsonl", "application/json-lines")


class Explanation(Decision):
    """A decision with its trace and a Chinese account of it (``POST /v1/explain``)."""

    text: str


@dataclass
class ServerConfig:
    rules: str | None = None
    max_body_bytes: int = 1 << 20  # one case (and one NDJSON line)
    max_batch_body_bytes: int = 256 << 20  # a batch (NDJSON is spooled: memory stays bounded anyway)
    max_array_body_bytes: int = 32 << 20  # a JSON-array batch is parsed whole (~10× its size in memory)
    max_batch_cases: int = 100_000
    time_budget_seconds: float = 10.0
    host: str = "127.0.0.1"  # the bind address: allowed as Host, and whether local reload may be allowed
    allowed_hosts: tuple[str, ...] = ()
    admin_token: str | None = None  # XUEJI_POLICY_ADMIN_TOKEN
    allow_local_reload: bool = False
    rate: float = 50.0  # requests a second per client IP (0: no limit)
    burst: float = 100.0
    auth_failures_burst: float = 5.0  # wrong reload tokens a client may send …
    auth_failures_per_second: float = 1 / 60  # … then one a minute
    body_timeout_seconds: float = 30.0  # the whole request body must arrive within this
    send_timeout_seconds: float = 30.0  # a client must take each part of the response within this
    workers: int = 2
    batch_grace_seconds: float = 2.0  # a batch chunk is killed this long after its budget ran out
    clock: Callable[[], float] = field(default=time.monotonic)  # the time budget's clock (tests inject one)


# --------------------------------------------------------------------------- output (always masked)


def _scrub(value: Any) -> Any:
    """``value`` with every ID-number-looking string masked; a huge int that spells one becomes its mask."""
    if isinstance(value, str):
        return mask_ids_in_text(value)
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**14:
        text = str(value)
        masked = mask_ids_in_text(text)
        return value if masked == text else masked
    return value


def safe_json(value: Any) -> bytes:
    """JSON for the wire: an ID number never leaves in full, whatever produced ``value``."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if mask_ids_in_text(text) != text:  # rare: re-serialise with the values masked (stays valid JSON)
        text = json.dumps(_scrub(value), ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")


def json_response(value: Any, status: int = 200, media_type: str = "application/json",
                  headers: dict[str, str] | None = None) -> Response:
    return Response(safe_json(value), status_code=status, media_type=media_type, headers=headers)


# --------------------------------------------------------------------------- problems


_TITLES = {"malformed_json": "JSON 格式错误", "too_large": "请求过大", "invalid_case": "案例不符合格式",
           "not_in_force": "规则尚未生效", "no_calendar": "缺少节假日安排数据"}
_STATUS = {"malformed_json": 400, "too_large": 413, "invalid_case": 422, "not_in_force": 422, "no_calendar": 422,
           "evaluation_error": 500, "unreadable": 400}


def problem_body(status: int, title: str, detail: str, code: str, kind: str | None = None, **extra: Any) -> dict:
    return {"type": kind or f"urn:xueji-policy:error:{code}", "title": title, "status": status,
            "detail": detail, "code": code, **extra}


def problem(status: int, title: str, detail: str, *, code: str, headers: dict[str, str] | None = None,
            **extra: Any) -> Response:
    return json_response(problem_body(status, title, detail, code, **extra), status, PROBLEM, headers)


def bounded_problems(problems: list[CaseProblem]) -> list[dict]:
    """At most MAX_LISTED_PROBLEMS paths, then one note saying how many more there are."""
    out = [p.to_dict() for p in problems[:MAX_LISTED_PROBLEMS]]
    more = len(problems) - MAX_LISTED_PROBLEMS
    if more > 0:
        out.append({"path": "$", "message": f"错误过多：另有 {more} 处未列出",
                    "message_en": f"too many errors: {more} more not listed"})
    return out


def error_body(e: XuejiError) -> tuple[int, dict]:
    status = _STATUS.get(e.code, 422)
    extra: dict[str, Any] = {"message_en": e.message_en[:MAX_MESSAGE_CHARS]}
    detail = e.message
    if isinstance(e, CaseError):
        listed = bounded_problems(e.problems)
        extra["errors"] = listed
        head = e.message.split("：", 1)[0]
        detail = head + "：" + "；".join(f"{p['path']}: {p['message']}" for p in listed)
        extra["message_en"] = "; ".join(f"{p['path']}: {p['message_en']}" for p in listed)[:20_000]
    return status, problem_body(status, _TITLES.get(e.code, "无法评估"), detail, e.code, **extra)


def _shown_path(file: str, rules_dir: Path | None) -> str:
    """A rule file's path relative to the rules directory; only the name of anything else."""
    p = Path(file)
    if rules_dir is not None:
        try:
            return p.resolve().relative_to(rules_dir.resolve()).as_posix()
        except (ValueError, OSError):
            pass
        try:
            return p.relative_to(rules_dir).as_posix()
        except ValueError:
            pass
    return p.name


def rule_errors(e: RuleSetError, rules_dir: Path | None = None) -> tuple[str, list[dict]]:
    """A refused rule set for the wire: code, file:line:col and message of each error — never the
    source line (a file that is not a rule file must not have its content echoed), never a path
    outside the rules directory."""
    listed = []
    for err in e.errors[:MAX_LISTED_RULE_ERRORS]:
        d: dict[str, Any] = {"code": err.code, "message": err.message[:MAX_MESSAGE_CHARS]}
        if err.loc is not None:
            d.update(file=_shown_path(err.loc.file, rules_dir), line=err.loc.line, column=err.loc.column)
        if err.rule_id:
            d["rule"] = err.rule_id
        listed.append(d)
    lines = [(f"{d['file']}:{d['line']}:{d['column']}: " if "file" in d else "") + d["message"] for d in listed]
    more = len(e.errors) - len(listed)
    if more > 0:
        lines.append(f"另有 {more} 处错误未列出")
    return f"规则加载失败，共 {len(e.errors)} 处错误：\n" + "\n".join(lines), listed


# --------------------------------------------------------------------------- jobs run in the workers


def _case_job(state: tuple, job: tuple) -> tuple[int, bytes]:
    """(status, body) for one case: a decision (with its account for explain) or a problem."""
    rs, config = state
    _, raw, explain = job
    from ..engine import evaluate_dict
    from ..validate import parse_case_json

    try:
        case = parse_case_json(raw, max_bytes=config.max_body_bytes)
        d = evaluate_dict(case, ruleset=rs, explain=explain)
        if explain is True:
            from ..explain import decision_text

            d["text"] = decision_text(d, rs)
        return 200, safe_json(d)
    except XuejiError as e:
        status, body = error_body(e)
        return status, safe_json(body)


def _batch_job(state: tuple, job: tuple) -> tuple[bytes, int | None]:
    """Results for a chunk of batch items, in order, stopping before the first case that starts
    after ``deadline`` (by the config's clock): (NDJSON bytes, line it stopped at or None)."""
    rs, config = state
    _, items, deadline = job
    from ..batch import decode_line, evaluate_one

    out: list[bytes] = []
    for n, item in items:
        if config.clock() > deadline:
            return b"".join(out), n
        if isinstance(item, (bytes, bytearray)):
            if len(item) > config.max_body_bytes:
                result: dict = {"line": n, "error": "too_large", "message": f"此行超过上限 {config.max_body_bytes} 字节",
                                "message_en": f"line over the {config.max_body_bytes}-byte limit"}
            else:
                case, err = decode_line(bytes(item), n)
                result = err if err is not None else evaluate_one(case, rs, n)
        else:
            result = evaluate_one(item, rs, n)
        if "problems" in result:
            result["problems"] = bounded_problems([CaseProblem(**p) for p in result["problems"]])
            result["message"] = str(result.get("message", ""))[:2000]
            result["message_en"] = str(result.get("message_en", ""))[:2000]
        out.append(safe_json(result) + b"\n")
    return b"".join(out), None


def _work(state: tuple, job: tuple) -> Any:
    return _case_job(state, job) if job[0] == "case" else _batch_job(state, job)


def _warm(rs) -> None:
    """Import and build, once in the parent, what workers use: a fork then inherits it ready
    (and no worker ever imports a module while another thread of the parent holds a lock)."""
    from ..batch import decode_line, evaluate_one  # noqa: F401
    from ..engine import evaluate_dict
    from ..explain import decision_text

    for case in _examples()[:1]:
        try:
            decision_text(evaluate_dict(case["case"], ruleset=rs, explain=True), rs)
        except XuejiError:
            pass
    try:
        evaluate_dict({"action": "?"}, ruleset=rs)
    except XuejiError:
        pass


# --------------------------------------------------------------------------- request bodies


class _Refused(Exception):
    def __init__(self, response: Response):
        self.response = response


def too_large(limit: int) -> Response:
    return problem(413, "请求过大", f"请求体超过上限 {limit} 字节", code="too_large",
                   message_en=f"request body over the {limit}-byte limit")


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def require_media(request: Request, accepted: tuple[str, ...]) -> str:
    """A form on another site can post only text/plain, urlencoded or multipart (or nothing):
    requiring a JSON type refuses such posts whatever their origin."""
    media = _media_type(request)
    if media in accepted or (media.endswith("+json") and "application/json" in accepted):
        return media
    shown = media or "（无）"
    raise _Refused(problem(415, "不支持的内容类型", f"请求体的 Content-Type 应为 {' 或 '.join(accepted)}，收到 {shown}",
                           code="unsupported_media_type",
                           message_en=f"Content-Type must be {' or '.join(accepted)}, got {media or 'none'}"))


async def _chunks_within(request: Request, config: ServerConfig):
    """The body's chunks; 408 when the whole body has not arrived within ``body_timeout_seconds``."""
    stream = request.stream().__aiter__()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + config.body_timeout_seconds
    while True:
        try:
            chunk = await asyncio.wait_for(stream.__anext__(), timeout=max(deadline - loop.time(), 0.0))
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise _Refused(problem(408, "请求体读取超时", f"请求体未能在 {config.body_timeout_seconds} 秒内传完",
                                   code="body_timeout", headers={"connection": "close"},
                                   message_en="the request body did not arrive in time")) from None
        yield chunk


async def read_body(request: Request, limit: int, config: ServerConfig) -> bytes:
    """The body, refused with 413 as soon as it passes ``limit`` (never read past it)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _Refused(too_large(limit))
    chunks, size = [], 0
    async for chunk in _chunks_within(request, config):
        size += len(chunk)
        if size > limit:
            raise _Refused(too_large(limit))
        chunks.append(chunk)
    return b"".join(chunks)


async def _spool(request: Request, limit: int, config: ServerConfig):
    import tempfile

    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _Refused(too_large(limit))
    spool = tempfile.SpooledTemporaryFile(max_size=1 << 20)
    size = 0
    try:
        async for chunk in _chunks_within(request, config):
            size += len(chunk)
            if size > limit:
                raise _Refused(too_large(limit))
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


# --------------------------------------------------------------------------- OpenAPI: every status


PROBLEM_SCHEMA = {
    "type": "object", "title": "Problem", "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "code": {"type": "string"}, "message_en": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}
_DESCRIPTIONS = {
    400: "JSON 格式错误，或缺少 Host 请求头", 401: "缺少或错误的管理令牌（Authorization: Bearer …）",
    403: "拒绝跨站请求，或未启用重新加载", 404: "没有这一条", 408: "请求体读取超时", 413: "请求过大",
    415: "Content-Type 不是 JSON", 421: "不接受的主机名（Host）", 422: "案例不符合格式、规则尚未生效、案例过多或规则集有错误",
    429: "请求过于频繁（响应头 Retry-After 给出秒数）", 503: "超出处理时限",
}
GUARD_STATUSES = (400, 421, 429)  # every operation: Host allow-list and rate limit
BODY_STATUSES = (400, 403, 408, 413, 415, 421, 422, 429, 503)  # an operation that reads a case body
BATCH_STATUSES = (400, 403, 408, 413, 415, 421, 422, 429)  # over its budget a batch ends with a record, not a 503


def problem_responses(*statuses: int) -> dict:
    ref = {"$ref": "#/components/schemas/Problem"}
    return {s: {"description": _DESCRIPTIONS[s], "content": {PROBLEM: {"schema": ref}},
                **({"headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "秒"}}} if s == 429 else {})}
            for s in sorted(set(statuses))}


# --------------------------------------------------------------------------- app


def _description(rs: RuleSet) -> str:
    """The service's description names the regulation of the rule set it serves (ruleset.yaml)."""
    doc = f"（{rs.document}）" if rs.document else ""
    return (f"《{rs.name}》{doc}规则引擎：提交一个学籍事项案例，"
            "得到准予/不予办理的决定、所依据的条文、须办理的事项（含期限）与审批方。")


def create_app(config: ServerConfig | None = None, service: PolicyService | None = None) -> FastAPI:
    config = config or ServerConfig()
    svc = service or PolicyService(config.rules)
    app = FastAPI(title="xueji-policy", version=__version__, docs_url=None, redoc_url=None,
                  description=_description(svc.ruleset))
    app.state.service = svc
    app.state.config = config
    _warm(svc.ruleset)
    pool = WorkerPool(config.workers, _work, lambda: (svc.ruleset, config), version=lambda: svc.ruleset.sha256)
    app.state.pool = pool
    auth_failures = RateLimiter(config.auth_failures_per_second, config.auth_failures_burst, clock=config.clock)
    limiter = RateLimiter(config.rate, config.burst, clock=config.clock)
    app.state.limiter = limiter
    reload_lock = asyncio.Lock()

    app.state.startup_hooks = []  # serve adds its SIGHUP handler here

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        await pool.start()
        for hook in app.state.startup_hooks:
            await hook()
        try:
            yield
        finally:
            pool.close()

    app.router.lifespan_context = lifespan

    async def in_worker(job: tuple) -> Any:
        try:
            answer = await pool.run(job, config.time_budget_seconds)
        except WorkerTimeout:
            raise _Refused(over_budget()) from None
        if answer[0] == "crash":  # an exception in the worker (a bug, or MemoryError): never a traceback
            raise WorkerCrashed(answer[1])
        return answer

    def over_budget() -> Response:
        return problem(503, "超出处理时限", f"请求未能在 {config.time_budget_seconds} 秒内完成", code="time_budget",
                       message_en=f"the request did not finish within {config.time_budget_seconds} s")

    @app.exception_handler(_Refused)
    async def _on_refused(request, exc: _Refused):
        return exc.response

    @app.exception_handler(StarletteHTTPException)
    async def _on_http(request, exc: StarletteHTTPException):  # unknown path, wrong method: problems too
        titles = {404: "没有这个地址", 405: "不支持此方法"}
        codes = {404: "not_found", 405: "method_not_allowed"}
        return problem(exc.status_code, titles.get(exc.status_code, "请求错误"), f"{request.method} {request.url.path[:200]}",
                       code=codes.get(exc.status_code, "http_error"), headers=dict(exc.headers or {}) or None)

    @app.exception_handler(WorkerCrashed)
    async def _on_crash(request, exc):
        return problem(500, "内部错误", "评估进程意外退出", code="internal", message_en="an evaluation worker died")

    @app.exception_handler(XuejiError)
    async def _on_ours(request, exc: XuejiError):
        status, body = error_body(exc)
        return json_response(body, status, PROBLEM)

    @app.exception_handler(Exception)
    async def _on_bug(request, exc: Exception):  # never a traceback to the caller
        return problem(500, "内部错误", f"{type(exc).__name__}", code="internal")

    async def one(request: Request, explain: bool | str) -> Response:
        require_media(request, JSON_TYPES)
        raw = await read_body(request, config.max_body_bytes, config)
        started = time.monotonic()
        status, body = await in_worker(("case", raw, explain))
        if time.monotonic() - started > config.time_budget_seconds:  # answered, but late: still over
            return over_budget()
        return Response(body, status_code=status, media_type="application/json" if status == 200 else PROBLEM)

    def one_case(model, parameters: tuple = ()) -> dict:
        """What /v1/evaluate and /v1/explain document alike: a Case in, ``model`` or a problem out."""
        extra: dict = {"requestBody": {"required": True, "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Case"}}}}}
        if parameters:
            extra["parameters"] = list(parameters)
        return {"responses": {200: {"model": model}, **problem_responses(*BODY_STATUSES)}, "openapi_extra": extra}

    brief_param = {"name": "explain", "in": "query", "required": False, "schema": {"type": "string", "enum": ["brief"]},
                   "description": "brief：附上简要说明（决定的 brief 字段）——只列起决定作用的规则，每条一句中文，"
                                  "写明相关事实与计算出的日期"}

    @app.post("/v1/evaluate", tags=["决定"], summary="对一个案例作出决定（?explain=brief 附简要说明）",
              **one_case(Decision, (brief_param,)))
    async def evaluate(request: Request):
        mode = request.query_params.get("explain")
        if mode not in (None, "brief"):
            return problem(400, "参数有误", f"explain 只能为 brief（收到 {mode[:50]!r}）", code="bad_parameter",
                           message_en="explain must be 'brief'")
        return await one(request, explain="brief" if mode == "brief" else False)

    @app.post("/v1/explain", tags=["决定"], summary="决定及逐条规则的说明（含各子条件取值、期限计算）",
              **one_case(Explanation))
    async def explain(request: Request):
        return await one(request, explain=True)

    @app.post("/v1/evaluate:batch", tags=["决定"], summary="批量决定：JSON 数组或 NDJSON，逐行返回 NDJSON",
              responses={200: {"description": "每个案例一行：决定或错误记录（含行号）；超出处理时限时以 time_budget 记录结束",
                               "content": {"application/x-ndjson": {"schema": {"type": "string"}}}},
                         **problem_responses(*BATCH_STATUSES)},
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Case"}}},
                  "application/x-ndjson": {"schema": {"type": "string"}}}}})
    async def evaluate_batch(request: Request):
        ctype = require_media(request, JSON_TYPES + NDJSON_TYPES)
        started = config.clock()
        loop = asyncio.get_running_loop()
        real_deadline = loop.time() + config.time_budget_seconds
        if ctype in NDJSON_TYPES:
            # The body is spooled first (memory up to 1 MiB, then a temporary file): a streaming
            # response cannot go on reading the request body, the server listens on it too.
            spool = await _spool(request, config.max_batch_body_bytes, config)
            lines = _ndjson_lines(spool, config)
        else:
            # Spooled, then scanned once for the elements' offsets (batch.json_array_spans): counted while
            # scanning (no array is built), each element parsed on its own like a single case.
            from ..batch import BatchTooLong, json_array_spans

            spool = await _spool(request, min(config.max_batch_body_bytes, config.max_array_body_bytes), config)
            try:
                spans = await run_in_threadpool(json_array_spans, spool, max_items=config.max_batch_cases)
            except BatchTooLong:
                spool.close()
                return problem(422, "案例过多", f"一次最多 {config.max_batch_cases} 个案例，收到至少 "
                               f"{config.max_batch_cases + 1} 个（数到上限即停止读取）",
                               code="batch_too_long", message_en=f"at most {config.max_batch_cases} cases")
            except BaseException:
                spool.close()
                raise
            lines = _array_items(spool, spans)
            # The budget is for deciding; the scan is bounded by the body's size.
            started = config.clock()
            real_deadline = loop.time() + config.time_budget_seconds
        return StreamingResponse(_stream(lines, pool, config, started, real_deadline),
                                 media_type="application/x-ndjson")

    @app.get("/v1/rules", tags=["规则"], summary="全部规则", responses=problem_responses(*GUARD_STATUSES))
    async def rules():
        rs = svc.ruleset
        return json_response({"version": rs.version, "sha256": rs.sha256, "rules": [_rule_json(r) for r in rs.rules]})

    @app.get("/v1/articles/{n}", tags=["规则"], summary="条文原文及编码它的规则、参数",
             responses=problem_responses(404, *GUARD_STATUSES))
    async def article(n: str):
        rs = svc.ruleset
        art = rs.articles.get(n)
        if art is None:
            return problem(404, "没有这一条", f"规则集中没有条文 {n[:100]}", code="not_found",
                           message_en=f"no article {n[:100]}")
        rules_ = [_rule_json(r) for r in rs.rules if art.number is not None and r.article == art.number]
        params = [{"name": p.name, "title": p.title, "type": p.type, "unit": p.unit, "cite": p.cite.display(),
                   "values": [{"effective_from": d.isoformat(), "value": _param_value(v)} for d, v in p.values]}
                  for p in rs.params.values() if art.number is not None and p.cite.article == art.number]
        return json_response({"key": art.key, "label": art.label, "title": art.title, "chapter": art.chapter,
                              "text": art.text, "rules": rules_, "parameters": params,
                              "golden_cases": _golden_for(rs, art.key)})

    @app.get("/v1/articles", tags=["规则"], summary="条文目录", responses=problem_responses(*GUARD_STATUSES))
    async def articles():
        rs = svc.ruleset
        return json_response([{"key": a.key, "label": a.label, "title": a.title, "chapter": a.chapter,
                               "rules": sum(1 for r in rs.rules if a.number is not None and r.article == a.number)}
                              for a in sorted(rs.articles.values(), key=lambda a: (a.number is None, a.number or a.annex))])

    @app.get("/v1/schema/case", tags=["规则"], summary="案例的 JSON Schema",
             responses=problem_responses(*GUARD_STATUSES))
    async def case_schema():
        return json_response(svc.ruleset.case_schema)

    @app.get("/v1/schema/decision", tags=["规则"], summary="决定的 JSON Schema（含各枚举值的中文名 x-labels）",
             responses=problem_responses(*GUARD_STATUSES))
    async def decision_schema():
        from ..contract import decision_schema

        return json_response(decision_schema())

    @app.get("/v1/examples", tags=["规则"], summary="随包发布的示例案例", responses=problem_responses(*GUARD_STATUSES))
    async def examples():
        return json_response(_examples())

    @app.post("/v1/reload", tags=["运维"], summary="重新加载规则；有错误的规则集被拒绝，旧规则继续服务",
              description="需要管理令牌：`Authorization: Bearer $XUEJI_POLICY_ADMIN_TOKEN`。未设置令牌时，"
                          "只有以 `--allow-local-reload` 启动且监听本机回环地址的服务接受来自本机的重新加载。",
              responses={**problem_responses(401, 403, 422, *GUARD_STATUSES)})
    async def reload(request: Request):
        refusal = reload_refusal(request)
        if refusal is not None:
            return refusal
        result = await do_reload()
        if result.ok:
            return json_response({"ok": True, "sha256": result.sha256, "changed": result.changed})
        assert result.error is not None
        detail, listed = rule_errors(result.error, svc.rules_dir())
        return problem(422, "规则集有错误，未加载", detail, code="ruleset_error", errors=listed,
                       serving_sha256=result.sha256, message_en="the rule set has errors; the old one serves")

    async def do_reload():
        """POST /v1/reload and SIGHUP alike: load beside, swap if whole, hand the new set to the workers."""
        async with reload_lock, pool.fork_lock():  # no worker is forked while rules load in a thread
            result = await run_in_threadpool(svc.reload)
            if result.ok and result.changed:  # (workers re-fork on their own: the rule set is a new object)
                await run_in_threadpool(_warm, svc.ruleset)
            return result

    app.state.do_reload = do_reload

    def reload_refusal(request: Request) -> Response | None:
        client = (request.client.host if request.client else "") or ""
        if config.admin_token:
            wait = auth_failures.peek(client)
            if wait > 0:  # too many wrong tokens: refused whatever this one is (no oracle to brute-force)
                retry = max(1, int(wait + 0.999))
                return problem(429, "请求过于频繁", f"管理令牌错误次数过多，请 {retry} 秒后再试", code="rate_limited",
                               headers={"retry-after": str(retry)}, message_en="too many wrong admin tokens")
            given = request.headers.get("authorization", "")
            scheme, _, token = given.partition(" ")
            if scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode("utf-8", "replace"),
                                                                  config.admin_token.encode("utf-8")):
                return None
            auth_failures.take(client)
            return problem(401, "需要管理令牌", "重新加载需要管理令牌（Authorization: Bearer …）", code="unauthorized",
                           headers={"www-authenticate": 'Bearer realm="xueji-policy"'},
                           message_en="reload needs the admin token (Authorization: Bearer …)")
        if config.allow_local_reload and is_loopback(config.host) and is_loopback(client):
            return None
        return problem(403, "未启用重新加载", "未设置 XUEJI_POLICY_ADMIN_TOKEN：重新加载已关闭"
                       "（仅监听本机时可用 --allow-local-reload 开启；也可发送 SIGHUP）", code="reload_disabled",
                       message_en="reload is disabled: set XUEJI_POLICY_ADMIN_TOKEN (or --allow-local-reload on loopback)")

    @app.get("/healthz", tags=["运维"], summary="进程存活", responses=problem_responses(400, 421))
    async def healthz():
        return {"status": "ok"}

    @app.get("/readyz", tags=["运维"], summary="可以服务：已加载规则集", responses=problem_responses(*GUARD_STATUSES))
    async def readyz():
        rs = svc.ruleset
        body: dict[str, Any] = {"status": "ready", "name": rs.name, "document": rs.document, "version": rs.version,
                                "sha256": rs.sha256, "rules": len(rs.rules)}
        warning = rs.calendar_warning()  # the holiday calendar ends within 60 days: add next year's file
        if warning:
            body["warnings"] = [warning]
        if svc.last_error is not None:
            body["last_reload_error"] = rule_errors(svc.last_error, svc.rules_dir())[0]
        return json_response(body)

    static = resources.files("xueji_policy").joinpath("server", "static")

    @app.get("/", include_in_schema=False)
    async def page():
        return HTMLResponse(static.joinpath("index.html").read_text(encoding="utf-8"))

    @app.get("/docs", include_in_schema=False)
    async def docs():
        return HTMLResponse(static.joinpath("docs.html").read_text(encoding="utf-8"))

    @app.get("/redoc", include_in_schema=False)
    async def redoc():
        return HTMLResponse(static.joinpath("redoc.html").read_text(encoding="utf-8"))

    own = {"app.js": "text/javascript", "style.css": "text/css", "docs.js": "text/javascript",
           "redoc.js": "text/javascript"}
    vendored = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css",
                "redoc.standalone.js": "text/javascript", "favicon.png": "image/png"}

    @app.get("/static/{name}", include_in_schema=False)
    async def static_file(name: str):
        # Fixed lists: no path from the request reaches the disk.
        if name in own:
            return Response(static.joinpath(name).read_bytes(), media_type=own[name] + "; charset=utf-8",
                            headers={"cache-control": "no-cache"})
        if name in vendored:
            return Response(_vendored(name), media_type=vendored[name],
                            headers={"cache-control": "public, max-age=86400"})
        return problem(404, "没有这个文件", name[:100], code="not_found", message_en="no such file")

    _install_openapi(app)

    guard_hosts = allowed_host_set(config.host, config.allowed_hosts)
    app.add_middleware(Guard, allowed_hosts=guard_hosts, limiter=limiter, send_timeout=config.send_timeout_seconds)
    return app


_REDOC_CDN_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"  # ReDoc's sidebar logo, hard-coded in the bundle


@functools.cache
def _vendored(name: str) -> bytes:
    """Swagger UI's and ReDoc's assets from the installed ``fastapi-offline`` package (no CDN).
    ReDoc's one hard-coded image on a CDN is pointed at our own icon: nothing leaves the machine."""
    data = resources.files("fastapi_offline").joinpath("static", name).read_bytes()
    return data.replace(_REDOC_CDN_LOGO, b"/static/favicon.png") if name == "redoc.standalone.js" else data


def _install_openapi(app: FastAPI) -> None:
    """Put the library's Case model and the Problem schema into the OpenAPI components."""
    from fastapi.openapi.utils import get_openapi

    def openapi():
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        comps = schema.setdefault("components", {}).setdefault("schemas", {})
        case_schema = Case.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, sub in case_schema.pop("$defs", {}).items():
            comps.setdefault(name, sub)
        comps["Case"] = case_schema
        comps["Problem"] = PROBLEM_SCHEMA
        # FastAPI documents a 422 "validation error" for operations with parameters; ours (a string
        # path parameter, bodies read by hand) cannot fail FastAPI's validation.
        for ops in schema.get("paths", {}).values():
            for op in ops.values():
                r422 = op.get("responses", {}).get("422")
                if r422 and "HTTPValidationError" in json.dumps(r422):
                    del op["responses"]["422"]
        for unused in ("HTTPValidationError", "ValidationError"):
            if unused in comps and unused not in json.dumps({k: v for k, v in schema.items() if k != "components"}):
                comps.pop(unused)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


# --------------------------------------------------------------------------- helpers


def _rule_json(r) -> dict:
    from ..contract import effect_labels

    return {"id": r.id, "article": r.article, "cite": r.cite_text, "effect": r.effect,
            "effect_label": effect_labels().get(r.effect, r.effect), "actions": list(r.actions),
            "message": r.message, "when": r.when_src, "unless": r.unless_src, "due": r.due_src,
            "outcomes": [{"value": o.value, "when": o.when_src} for o in r.outcomes], "approvals": list(r.approvals),
            "reading": r.reading}


def _param_value(v):
    if isinstance(v, tuple):
        return f"{v[0]:02d}-{v[1]:02d}"
    return v.isoformat() if hasattr(v, "isoformat") else v


def _golden_for(rs, key: str) -> list[dict]:
    from ..validate import read_case_file

    folder = rs.path.parent / "cases" / key
    out = []
    for p in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            doc = read_case_file(p)
        except CaseError:
            continue
        if not isinstance(doc, dict):
            continue
        out.append({"name": p.stem, "description": doc.get("description", ""), "expect": doc.get("expect", {}),
                    "case": doc.get("case")})
    return out


def _examples() -> list[dict]:
    from ..ruleset import default_rules_dir
    from ..validate import read_case_file

    folder = default_rules_dir().parent / "examples"
    out = []
    titles = action_titles()
    for p in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            case = read_case_file(p)
        except CaseError:
            continue
        # named in Chinese for the page's list: the action's title and the case's own number
        title = titles.get(str(case.get("action")), p.stem) if isinstance(case, dict) else p.stem
        if isinstance(case, dict) and isinstance(case.get("case_id"), str):
            title += f"（{case['case_id']}）"
        out.append({"name": p.stem, "title": title, "case": case})
    return out


def _array_items(spool, spans: list):
    async def gen():
        from ..batch import json_array_items

        try:
            for n, raw in json_array_items(spool, spans):
                yield n, raw, None
        finally:
            spool.close()
    return gen()


def _ndjson_lines(spool, config: ServerConfig):
    async def gen():
        from ..batch import MAX_LINE_BYTES
        from ..ioerrors import bounded_lines

        try:
            count = 0
            for n, raw in bounded_lines(spool, MAX_LINE_BYTES):  # a huge line is refused, never read whole
                if not raw.strip():
                    continue
                count += 1
                if count > config.max_batch_cases:
                    yield n, None, {"error": "batch_too_long", "message": f"一次最多 {config.max_batch_cases} 个案例",
                                    "message_en": f"at most {config.max_batch_cases} cases in one batch"}
                    return
                yield n, raw, None
        finally:
            spool.close()
    return gen()


def _budget_record(n: int, config: ServerConfig) -> bytes:
    return safe_json({"line": n, "error": "time_budget",
                      "message": f"批量请求超出处理时限 {config.time_budget_seconds} 秒，其余案例未评估",
                      "message_en": f"the batch ran over its {config.time_budget_seconds} s budget; "
                                    "the remaining cases were not evaluated"}) + b"\n"


async def _stream(lines, pool: WorkerPool, config: ServerConfig, started: float, real_deadline: float,
                  chunk_size: int = 128):
    """Evaluate in chunks in the workers (other requests keep being served), in order.

    Each chunk's worker stops before the first case that would start past the budget (by
    ``config.clock``); a chunk still running ``batch_grace_seconds`` after the budget (one
    slow case) is killed, and the record names the chunk's first line."""
    deadline = started + config.time_budget_seconds
    loop = asyncio.get_running_loop()

    async def run(chunk: list) -> tuple[bytes, int | None]:
        timeout = max(real_deadline - loop.time(), 0.0) + config.batch_grace_seconds
        try:
            answer = await pool.run(("batch", chunk, deadline), timeout)
        except WorkerTimeout:
            return b"", chunk[0][0]
        except WorkerCrashed:
            answer = ("crash", "WorkerCrashed")
        if answer[0] == "crash":  # the chunk's lines get error records; the batch goes on
            return b"".join(safe_json({"line": n, "error": "internal", "message": "评估进程出错，此行未评估",
                                       "message_en": "the evaluation worker failed on this chunk"}) + b"\n"
                            for n, _ in chunk), None
        return answer

    chunk: list = []
    async for n, item, stop in lines:
        if stop is None and config.clock() > deadline:
            stop = "budget"
        if stop is not None:
            if chunk:
                out, stopped = await run(chunk)
                yield out
                if stopped is not None:
                    yield _budget_record(stopped, config)
                    return
            yield _budget_record(n, config) if stop == "budget" else safe_json({"line": n, **stop}) + b"\n"
            return
        chunk.append((n, item))
        if len(chunk) >= chunk_size:
            out, stopped = await run(chunk)
            yield out
            if stopped is not None:
                yield _budget_record(stopped, config)
                return
            chunk = []
    if chunk:
        out, stopped = await run(chunk)
        yield out
        if stopped is not None:
            yield _budget_record(stopped, config)
