"""``xueji-policy serve``: the HTTP service and the staff page (needs the ``server`` extra)."""

from __future__ import annotations

import sys

from .argparse_zh import RULES_HELP, integer, number


def add_arguments(p) -> None:
    p.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1）")
    p.add_argument("--port", type=integer, default=8080, help="端口（默认 8080）")
    p.add_argument("--rules", metavar="DIR", help=RULES_HELP)
    p.add_argument("--max-body", type=integer, default=1 << 20, metavar="BYTES", help="单个案例请求体上限（默认 1 MiB）")
    p.add_argument("--max-batch", type=integer, default=100_000, metavar="N", help="一次批量请求的案例数上限")
    p.add_argument("--max-batch-body", type=integer, default=256 << 20, metavar="BYTES", help="批量请求体上限")
    p.add_argument("--time-budget", type=number, default=10.0, metavar="SECONDS", help="每个请求的处理时限（秒）")


def run(args) -> int:
    try:
        import uvicorn

        from ..server.app import ServerConfig, create_app
    except ImportError:
        print("错误：服务需要可选依赖：pip install 'xueji-policy[server]'", file=sys.stderr)
        return 2
    config = ServerConfig(rules=args.rules, max_body_bytes=args.max_body, max_batch_cases=args.max_batch,
                          max_batch_body_bytes=args.max_batch_body, time_budget_seconds=args.time_budget)
    app = create_app(config)

    @app.on_event("startup")
    async def _sighup() -> None:
        # SIGHUP reloads the rules, like POST /v1/reload: a broken set is refused, the old one serves.
        import asyncio
        import signal

        def reload() -> None:
            result = app.state.service.reload()
            status = "已重新加载" if result.ok else "规则集有错误，继续使用旧规则"
            print(f"SIGHUP：{status}（sha256 {result.sha256[:12]}…）", file=sys.stderr)
            if result.error is not None:
                print(result.error.message, file=sys.stderr)

        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reload)
        except (NotImplementedError, AttributeError):  # not on this platform
            pass

    print(f"xueji-policy 服务：http://{args.host}:{args.port}/ （规则集 sha256 {app.state.service.ruleset.sha256[:12]}…）",
          file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
