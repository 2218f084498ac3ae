"""``xueji-policy serve``: the HTTP service and the staff page (needs the ``server`` extra)."""

from __future__ import annotations

import errno
import os
import socket
import sys

from .argparse_zh import RULES_HELP, integer, number

TOKEN_ENV = "XUEJI_POLICY_ADMIN_TOKEN"
MIN_TOKEN_CHARS = 16


def add_arguments(p) -> None:
    p.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1）")
    p.add_argument("--port", type=integer, default=8080, help="端口（默认 8080）")
    p.add_argument("--rules", metavar="DIR", help=RULES_HELP)
    p.add_argument("--max-body", type=integer, default=1 << 20, metavar="BYTES", help="单个案例请求体上限（默认 1 MiB）")
    p.add_argument("--max-batch", type=integer, default=100_000, metavar="N", help="一次批量请求的案例数上限")
    p.add_argument("--max-batch-body", type=integer, default=256 << 20, metavar="BYTES", help="批量请求体上限")
    p.add_argument("--time-budget", type=number, default=10.0, metavar="SECONDS", help="每个请求的处理时限（秒）")
    p.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                   help="另外接受的 Host 主机名（可多次给出；默认只接受监听地址、localhost、127.0.0.1、[::1]）")
    p.add_argument("--allow-local-reload", action="store_true",
                   help=f"未设置 {TOKEN_ENV} 时，允许本机通过 POST /v1/reload 重新加载（仅限监听回环地址）")
    p.add_argument("--rate-limit", type=number, default=50.0, metavar="PER_SECOND",
                   help="每个客户端 IP 每秒请求数上限（令牌桶；0 表示不限，默认 50）")
    p.add_argument("--rate-burst", type=number, default=100.0, metavar="N", help="令牌桶容量（默认 100）")
    p.add_argument("--header-timeout", type=number, default=10.0, metavar="SECONDS",
                   help="连接须在此时间内送完请求头，否则关闭（默认 10 秒）")
    p.add_argument("--body-timeout", type=number, default=30.0, metavar="SECONDS",
                   help="请求体须在此时间内送完，否则 408（默认 30 秒）")
    p.add_argument("--send-timeout", type=number, default=30.0, metavar="SECONDS",
                   help="客户端须在此时间内取走每一段响应，否则断开（默认 30 秒）")
    p.add_argument("--workers", type=integer, default=2, metavar="N", help="评估进程数（默认 2）")
    p.add_argument("--max-connections", type=integer, default=200, metavar="N",
                   help="同时处理的连接数上限，超出时返回 503（默认 200）")


def _fail(message: str) -> int:
    print(f"错误：{message}", file=sys.stderr)
    return 2


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything else starts: a port in use is a clear error."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, _, proto, _, addr = infos[0]
    # proto IPPROTO_TCP, not 0: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say TCP;
    # without it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, proto or socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(addr)
        sock.listen(2048)
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def run(args) -> int:
    try:
        import uvicorn

        from ..server.app import ServerConfig, create_app, rule_errors
        from ..server.guards import is_loopback
        from ..server.protocol import with_header_timeout
    except ImportError:
        print("错误：服务需要可选依赖：pip install 'xueji-policy[server]'", file=sys.stderr)
        return 2
    for name, value in (("--time-budget", args.time_budget), ("--header-timeout", args.header_timeout),
                        ("--body-timeout", args.body_timeout), ("--send-timeout", args.send_timeout)):
        if not value > 0:
            return _fail(f"{name} 必须大于 0")
    if args.workers < 1 or args.max_connections < 1 or args.rate_limit < 0:
        return _fail("--workers、--max-connections 至少为 1，--rate-limit 不能为负")
    if not 0 < args.port < 65536:
        return _fail(f"端口 {args.port} 无效（应在 1–65535 之间）")
    token = os.environ.get(TOKEN_ENV) or None
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        return _fail(f"{TOKEN_ENV} 太短：至少 {MIN_TOKEN_CHARS} 个字符（可用 `python -c 'import secrets; print(secrets.token_urlsafe(32))'` 生成）")
    if args.allow_local_reload and not is_loopback(args.host):
        return _fail(f"--allow-local-reload 只能在监听本机回环地址时使用（当前 --host {args.host}）；"
                     f"对外服务请设置 {TOKEN_ENV}")

    try:
        sock = bind(args.host, args.port)
    except socket.gaierror:
        return _fail(f"无法解析监听地址 {args.host}")
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            return _fail(f"端口 {args.port} 已被占用（{args.host}:{args.port}）：请换一个端口（--port）或先停止占用它的程序")
        if e.errno in (errno.EACCES, errno.EPERM):
            return _fail(f"没有权限监听 {args.host}:{args.port}（1024 以下的端口需要特权）：请换一个端口（--port）")
        if e.errno == errno.EADDRNOTAVAIL:
            return _fail(f"本机没有地址 {args.host}：请检查 --host")
        return _fail(f"无法监听 {args.host}:{args.port}：{e.strerror}")

    config = ServerConfig(rules=args.rules, max_body_bytes=args.max_body, max_batch_cases=args.max_batch,
                          max_batch_body_bytes=args.max_batch_body, time_budget_seconds=args.time_budget,
                          host=args.host, allowed_hosts=tuple(args.allowed_host), admin_token=token,
                          allow_local_reload=args.allow_local_reload, rate=args.rate_limit, burst=args.rate_burst,
                          body_timeout_seconds=args.body_timeout, send_timeout_seconds=args.send_timeout,
                          workers=args.workers)
    app = create_app(config)

    async def _sighup() -> None:
        # SIGHUP reloads the rules, like POST /v1/reload (a local signal: no token needed).
        import asyncio
        import signal

        loop = asyncio.get_running_loop()

        async def reload() -> None:
            result = await app.state.do_reload()
            status = "已重新加载" if result.ok else "规则集有错误，继续使用旧规则"
            print(f"SIGHUP：{status}（sha256 {result.sha256[:12]}…）", file=sys.stderr)
            if result.error is not None:
                print(rule_errors(result.error, app.state.service.rules_dir())[0], file=sys.stderr)

        try:
            loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(reload()))
        except (NotImplementedError, AttributeError):  # not on this platform
            pass

    app.state.startup_hooks.append(_sighup)

    if not is_loopback(args.host) and not args.allowed_host:
        print(f"注意：监听 {args.host}，但未给出 --allowed-host：只接受 Host 为该地址或本机名的请求", file=sys.stderr)
    reload_mode = "需要管理令牌" if token else ("本机可用" if args.allow_local_reload else "已关闭（可发送 SIGHUP）")
    print(f"xueji-policy 服务：http://{args.host}:{args.port}/ （规则集 sha256 {app.state.service.ruleset.sha256[:12]}…；"
          f"POST /v1/reload {reload_mode}）", file=sys.stderr)
    uconfig = uvicorn.Config(app, log_level="warning", http=with_header_timeout(args.header_timeout),
                             timeout_keep_alive=5, limit_concurrency=args.max_connections,
                             h11_max_incomplete_event_size=16 * 1024, proxy_headers=False, server_header=False,
                             lifespan="on")
    try:
        uvicorn.Server(uconfig).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled: stopping is the normal end
        pass
    return 0
