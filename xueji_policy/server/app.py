"""The HTTP service (``xueji-policy serve``): the library's API over HTTP, and a page for staff.

Endpoints (the OpenAPI document at ``/openapi.json`` is generated from the same
pydantic models the library uses):

    POST /v1/evaluate          one case → decision
    POST /v1/evaluate:batch    JSON array or NDJSON stream → NDJSON decisions (streamed)
    POST /v1/explain           one case → decision with the trace and a Chinese account
    GET  /v1/rules             every rule
    GET  /v1/articles/{n}      an article's text with its rules and parameters
    GET  /v1/schema/case       case.schema.json
    POST /v1/reload            reload the rules (a broken set is refused, the old one serves)
    GET  /healthz, /readyz
    GET  /                     the page for policy staff (no build step, no internet assets)

Errors are ``application/problem+json`` with the JSON paths at fault.  Limits on the
body size (413), the batch length (422) and a per-request time budget (503) are set
by ``ServerConfig``.  ID numbers never appear in full.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from .. import __version__
from ..errors import CaseError, XuejiError
from ..models import Case, Decision
from ..privacy import mask_ids_in_text
from ..service import PolicyService

PROBLEM = "application/problem+json"


class Explanation(Decision):
    """A decision with its trace and a Chinese account of it (``POST /v1/explain``)."""

    text: str


@dataclass
class ServerConfig:
    rules: str | None = None
    max_body_bytes: int = 1 << 20  # one case
    max_batch_body_bytes: int = 256 << 20  # a batch (NDJSON is streamed: memory stays bounded anyway)
    max_batch_cases: int = 100_000
    time_budget_seconds: float = 10.0


# --------------------------------------------------------------------------- problems


def problem(status: int, title: str, detail: str, *, kind: str = "about:blank", **extra) -> JSONResponse:
    body = {"type": kind, "title": title, "status": status, "detail": mask_ids_in_text(detail), **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


_STATUS = {"malformed_json": 400, "too_large": 413, "invalid_case": 422, "not_in_force": 422, "no_calendar": 422,
           "evaluation_error": 500, "unreadable": 400}


def error_problem(e: XuejiError) -> JSONResponse:
    extra: dict[str, Any] = {"code": e.code, "message_en": mask_ids_in_text(e.message_en)}
    if isinstance(e, CaseError):
        extra["errors"] = [p.to_dict() for p in e.problems]
    return problem(_STATUS.get(e.code, 422), {"malformed_json": "JSON 格式错误", "too_large": "请求过大",
                                              "invalid_case": "案例不符合格式", "not_in_force": "规则尚未生效",
                                              "no_calendar": "缺少节假日安排数据"}.get(e.code, "无法评估"),
                   e.message, kind=f"urn:xueji-policy:error:{e.code}", **extra)


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it passes ``limit`` (never read past it)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _TooLarge(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


class _TooLarge(Exception):
    def __init__(self, limit: int):
        self.limit = limit


def too_large(limit: int) -> JSONResponse:
    return problem(413, "请求过大", f"请求体超过上限 {limit} 字节", kind="urn:xueji-policy:error:too_large",
                   code="too_large", message_en=f"request body over the {limit}-byte limit")


# --------------------------------------------------------------------------- app


def create_app(config: ServerConfig | None = None, service: PolicyService | None = None) -> FastAPI:
    config = config or ServerConfig()
    svc = service or PolicyService(config.rules)
    app = FastAPI(title="xueji-policy", version=__version__,
                  description="《营口市普通高中学籍管理实施细则（试行）》（营教发〔2024〕17号）规则引擎：提交一个学籍事项案例，"
                              "得到准予/不予办理的决定、所依据的条文、须办理的事项（含期限）与审批方。")
    app.state.service = svc
    app.state.config = config

    async def within_budget(fn, *args, **kw):
        started = time.monotonic()
        try:
            result = await asyncio.wait_for(run_in_threadpool(fn, *args, **kw), timeout=config.time_budget_seconds)
        except TimeoutError:
            raise _OverBudget() from None
        if time.monotonic() - started > config.time_budget_seconds:  # finished, but late: still over
            raise _OverBudget()
        return result

    @app.exception_handler(_TooLarge)
    async def _on_too_large(request, exc: _TooLarge):
        return too_large(exc.limit)

    @app.exception_handler(_OverBudget)
    async def _on_budget(request, exc):
        return problem(503, "超出处理时限", f"请求未能在 {config.time_budget_seconds} 秒内完成",
                       kind="urn:xueji-policy:error:time_budget", code="time_budget")

    @app.exception_handler(XuejiError)
    async def _on_ours(request, exc: XuejiError):
        return error_problem(exc)

    @app.exception_handler(Exception)
    async def _on_bug(request, exc: Exception):  # never a traceback to the caller
        return problem(500, "内部错误", f"{type(exc).__name__}", kind="urn:xueji-policy:error:internal",
                       code="internal")

    from ..validate import parse_case_json

    def _case(raw: bytes):
        return parse_case_json(raw, max_bytes=config.max_body_bytes)

    def one_case(model) -> dict:
        """What /v1/evaluate and /v1/explain document alike: a Case in, ``model`` or a problem out."""
        return {"responses": {200: {"model": model}, 400: {"description": "JSON 格式错误"},
                              413: {"description": "请求过大"}, 422: {"description": "案例不符合格式或规则尚未生效"},
                              503: {"description": "超出处理时限"}},
                "openapi_extra": {"requestBody": {"required": True, "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Case"}}}}}}

    @app.post("/v1/evaluate", tags=["决定"], summary="对一个案例作出决定", **one_case(Decision))
    async def evaluate(request: Request):
        case = _case(await read_body(request, config.max_body_bytes))
        return JSONResponse(await within_budget(svc.evaluate, case))

    @app.post("/v1/explain", tags=["决定"], summary="决定及逐条规则的说明（含各子条件取值、期限计算）",
              **one_case(Explanation))
    async def explain(request: Request):
        from ..explain import decision_text

        case = _case(await read_body(request, config.max_body_bytes))
        rs = svc.ruleset

        def run():
            from ..engine import evaluate_dict

            d = evaluate_dict(case, ruleset=rs, explain=True)
            d["text"] = decision_text(d, rs)
            return d

        return JSONResponse(await within_budget(run))

    @app.post("/v1/evaluate:batch", tags=["决定"], summary="批量决定：JSON 数组或 NDJSON，逐行返回 NDJSON",
              responses={200: {"description": "每个案例一行：决定或错误记录（含行号）",
                               "content": {"application/x-ndjson": {}}},
                         413: {"description": "请求过大"}, 422: {"description": "案例过多"}},
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Case"}}},
                  "application/x-ndjson": {"schema": {"type": "string"}}}}})
    async def evaluate_batch(request: Request):
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        rs = svc.ruleset
        started = time.monotonic()
        if ctype in ("application/x-ndjson", "application/jsonl", "application/json-lines", "text/plain"):
            # The body is spooled first (memory up to 1 MiB, then a temporary file): a streaming
            # response cannot go on reading the request body, the server listens on it too.
            spool = await _spool(request, config.max_batch_body_bytes)
            lines = _ndjson_lines(spool, config)
        else:
            # Spooled, then scanned once for the elements' offsets: counted while scanning (no array is
            # built), and each element is parsed on its own like a single case (duplicate keys refused).
            from ..batch import BatchTooLong, json_array_spans

            spool = await _spool(request, config.max_batch_body_bytes)
            try:
                spans = await run_in_threadpool(json_array_spans, spool, max_items=config.max_batch_cases)
            except BatchTooLong:
                spool.close()
                return problem(422, "案例过多", f"一次最多 {config.max_batch_cases} 个案例，收到至少 "
                               f"{config.max_batch_cases + 1} 个（数到上限即停止读取）",
                               kind="urn:xueji-policy:error:batch_too_long", code="batch_too_long")
            except BaseException:
                spool.close()
                raise
            lines = _array_items(spool, spans)
            started = time.monotonic()  # the budget is for deciding; the scan is bounded by the body's size
        return StreamingResponse(_stream(lines, rs, config, started), media_type="application/x-ndjson")

    @app.get("/v1/rules", tags=["规则"], summary="全部规则")
    async def rules():
        rs = svc.ruleset
        return {"version": rs.version, "sha256": rs.sha256, "rules": [_rule_json(r) for r in rs.rules]}

    @app.get("/v1/articles/{n}", tags=["规则"], summary="条文原文及编码它的规则、参数",
             responses={404: {"description": "没有这一条"}})
    async def article(n: str):
        rs = svc.ruleset
        key = n if not n.startswith("annex") else n
        art = rs.articles.get(key)
        if art is None:
            return problem(404, "没有这一条", f"规则集中没有条文 {n}", code="not_found")
        rules_ = [_rule_json(r) for r in rs.rules if art.number is not None and r.article == art.number]
        params = [{"name": p.name, "title": p.title, "type": p.type, "unit": p.unit, "cite": p.cite.display(),
                   "values": [{"effective_from": d.isoformat(), "value": _param_value(v)} for d, v in p.values]}
                  for p in rs.params.values() if art.number is not None and p.cite.article == art.number]
        return {"key": art.key, "label": art.label, "title": art.title, "chapter": art.chapter, "text": art.text,
                "rules": rules_, "parameters": params, "golden_cases": _golden_for(rs, art.key)}

    @app.get("/v1/articles", tags=["规则"], summary="条文目录")
    async def articles():
        rs = svc.ruleset
        return [{"key": a.key, "label": a.label, "title": a.title, "chapter": a.chapter,
                 "rules": sum(1 for r in rs.rules if a.number is not None and r.article == a.number)}
                for a in sorted(rs.articles.values(), key=lambda a: (a.number is None, a.number or a.annex))]

    @app.get("/v1/schema/case", tags=["规则"], summary="案例的 JSON Schema")
    async def case_schema():
        return JSONResponse(svc.ruleset.case_schema)

    @app.get("/v1/examples", tags=["规则"], summary="随包发布的示例案例")
    async def examples():
        return _examples()

    @app.post("/v1/reload", tags=["运维"], summary="重新加载规则；有错误的规则集被拒绝，旧规则继续服务")
    async def reload():
        result = await run_in_threadpool(svc.reload)
        if result.ok:
            return result.to_dict()
        return problem(422, "规则集有错误，未加载", result.error.message, kind="urn:xueji-policy:error:ruleset",
                       code="ruleset_error", errors=result.to_dict()["errors"], serving_sha256=result.sha256)

    @app.get("/healthz", tags=["运维"], summary="进程存活")
    async def healthz():
        return {"status": "ok"}

    @app.get("/readyz", tags=["运维"], summary="可以服务：已加载规则集")
    async def readyz():
        rs = svc.ruleset
        body = {"status": "ready", "version": rs.version, "sha256": rs.sha256, "rules": len(rs.rules)}
        if svc.last_error is not None:
            body["last_reload_error"] = svc.last_error.message
        return body

    static = resources.files("xueji_policy").joinpath("server", "static")

    @app.get("/", include_in_schema=False)
    async def page():
        return HTMLResponse(static.joinpath("index.html").read_text(encoding="utf-8"))

    @app.get("/static/{name}", include_in_schema=False)
    async def static_file(name: str):
        if name not in {"app.js", "style.css"}:  # a fixed list: no path from the request reaches the disk
            return problem(404, "没有这个文件", name, code="not_found")
        media = "text/javascript" if name.endswith(".js") else "text/css"
        return Response(static.joinpath(name).read_text(encoding="utf-8"), media_type=media + "; charset=utf-8")

    _install_openapi(app)
    return app


class _OverBudget(Exception):
    pass


def _install_openapi(app: FastAPI) -> None:
    """Put the library's Case model into the OpenAPI components (the request bodies refer to it)."""
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
        app.openapi_schema = schema
        return schema

    app.openapi = openapi


# --------------------------------------------------------------------------- helpers


def _rule_json(r) -> dict:
    return {"id": r.id, "article": r.article, "cite": r.cite_text, "effect": r.effect, "actions": list(r.actions),
            "message": r.message, "when": r.when_src, "unless": r.unless_src, "due": r.due_src,
            "outcomes": [{"value": o.value, "when": o.when_src} for o in r.outcomes], "approvals": list(r.approvals),
            "reading": r.reading}


def _param_value(v):
    if isinstance(v, tuple):
        return f"{v[0]:02d}-{v[1]:02d}"
    return v.isoformat() if hasattr(v, "isoformat") else v


def _golden_for(rs, key: str) -> list[dict]:
    folder = rs.path.parent / "cases" / key
    out = []
    for p in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        out.append({"name": p.stem, "description": doc.get("description", ""), "expect": doc.get("expect", {}),
                    "case": doc.get("case")})
    return out


def _examples() -> list[dict]:
    from ..ruleset import default_rules_dir

    folder = default_rules_dir().parent / "examples"
    out = []
    for p in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            out.append({"name": p.stem, "case": json.loads(p.read_text(encoding="utf-8"))})
        except (OSError, ValueError):
            continue
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


async def _spool(request: Request, limit: int):
    import tempfile

    spool = tempfile.SpooledTemporaryFile(max_size=1 << 20)
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            spool.close()
            raise _TooLarge(limit)
        spool.write(chunk)
    spool.seek(0)
    return spool


def _ndjson_lines(spool, config: ServerConfig):
    async def gen():
        from ..batch import bounded_lines

        try:
            count = 0
            for n, raw in bounded_lines(spool):  # a huge line is refused, never read whole
                if not raw.strip():
                    continue
                count += 1
                if count > config.max_batch_cases:
                    yield n, None, {"error": "batch_too_long", "message": f"一次最多 {config.max_batch_cases} 个案例"}
                    return
                yield n, raw, None
        finally:
            spool.close()
    return gen()


def _evaluate_chunk(chunk: list, rs) -> list[bytes]:
    from ..batch import _decode, evaluate_one

    out = []
    for n, item in chunk:
        if isinstance(item, (bytes, bytearray)):
            case, err = _decode(item, n)
            result = err if err is not None else evaluate_one(case, rs, n)
        else:
            result = evaluate_one(item, rs, n)
        # backslashreplace: a lone surrogate is written as its JSON escape, it cannot cut the stream
        out.append((json.dumps(result, ensure_ascii=False) + "\n").encode("utf-8", "backslashreplace"))
    return out


async def _stream(lines, rs, config: ServerConfig, started: float, chunk_size: int = 128):
    """Evaluate in chunks off the event loop (other requests keep being served), in order."""
    chunk: list = []
    async for n, item, stop in lines:
        if stop is None and time.monotonic() - started > config.time_budget_seconds:
            stop = {"error": "time_budget",
                    "message": f"批量请求超出处理时限 {config.time_budget_seconds} 秒，其余案例未评估"}
        if stop is not None:
            for line in await run_in_threadpool(_evaluate_chunk, chunk, rs):
                yield line
            yield (json.dumps({"line": n, **stop}, ensure_ascii=False) + "\n").encode()
            return
        chunk.append((n, item))
        if len(chunk) >= chunk_size:
            for line in await run_in_threadpool(_evaluate_chunk, chunk, rs):
                yield line
            chunk = []
    for line in await run_in_threadpool(_evaluate_chunk, chunk, rs):
        yield line
