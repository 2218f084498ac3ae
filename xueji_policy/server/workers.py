"""Evaluation in worker processes that can be stopped.

A thread cannot be stopped: with evaluation in the event loop's thread pool, a request over
its time budget got its 503 while its thread went on burning a CPU for as long as the work
took.  Here each evaluation runs in a forked worker process that already holds the loaded
rule set (fork copies it; nothing is re-read); the parent waits for the answer with a hard
deadline, and a worker that misses it is killed (SIGKILL) and replaced.  Batch chunks are
also stopped cooperatively: a worker checks the budget before each case, so a batch ends
with a precise ``time_budget`` record, and the kill is only the backstop for one slow case.

A reload swaps the service's rule set in the parent: a worker forked under another rule set is
replaced before it takes another job (busy ones finish the job they have, on the rule set it
started with), so every job that starts after the swap runs on the new rule set.

Jobs and answers are small tuples over a pipe; the answer is bytes the parent sends as is.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class WorkerTimeout(Exception):
    """The job missed its deadline: its worker was killed."""


class WorkerCrashed(Exception):
    """The worker died without answering (out of memory, killed from outside …)."""


@dataclass
class _Worker:
    process: Any  # multiprocessing.Process (fork context)
    conn: Any  # the parent's end of the pipe
    generation: tuple  # (the pool's generation, the state's version) when it was forked

    def kill(self) -> None:
        try:
            self.process.kill()
        except (OSError, ValueError, AttributeError):
            pass
        try:
            self.conn.close()
        except OSError:
            pass
        try:
            self.process.join(timeout=5)
        except (OSError, ValueError, AssertionError):
            pass


def _close_inherited_fds(keep: int) -> None:
    """Close every descriptor the fork copied but the worker does not use (all but stdio and its
    pipe): the listening socket, other workers' pipes, and the clients' connections — a copy of a
    connection held here would keep it open after the server closed it (no FIN would be sent)."""
    os.closerange(3, keep)
    os.closerange(keep + 1, _max_fd())


def _max_fd() -> int:
    try:
        limit = os.sysconf("SC_OPEN_MAX")
    except (ValueError, OSError):
        limit = 65536
    return limit if limit > 0 else 65536


def _worker_main(conn, handler: Callable[[Any, tuple], Any], state: Any) -> None:
    # The parent's signal set-up (uvicorn's handlers, asyncio's wakeup fd) is not ours: the parent
    # stops workers itself; Ctrl-C on the terminal reaches the whole group and the parent handles it.
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    _close_inherited_fds(conn.fileno())  # other workers' pipes too: each sees EOF when the parent goes
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            os._exit(0)
        try:
            answer = handler(state, job)
        except BaseException as e:  # noqa: BLE001 - the parent turns it into a 500 problem, never a traceback
            answer = ("crash", type(e).__name__)
        try:
            conn.send(answer)
        except (BrokenPipeError, OSError):
            os._exit(0)


class WorkerPool:
    """``size`` forked workers running ``handler(state, job)``; ``state()`` is read at each fork.

    ``version()`` names the state (the rule set's identity): a worker forked under another version
    is replaced before its next job, so the moment the service swaps its rule set no job runs on
    the old one."""

    def __init__(self, size: int, handler: Callable[[Any, tuple], Any], state: Callable[[], Any],
                 version: Callable[[], Any] = lambda: None):
        self.size = max(1, int(size))
        self.handler = handler
        self.state = state
        self.version = version
        self.generation = 0
        self._ctx = multiprocessing.get_context("fork")
        self._all: list[_Worker] = []
        self._idle: asyncio.Queue[_Worker] | None = None
        self._fork_lock: asyncio.Lock | None = None
        self._closed = False

    # ------------------------------------------------------------------ lifecycle

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe(duplex=True)
        p = self._ctx.Process(target=_worker_main, args=(child, self.handler, self.state()),
                              name="xueji-policy-worker", daemon=True)
        p.start()
        child.close()
        w = _Worker(p, parent, (self.generation, self.version()))
        self._all.append(w)
        return w

    def _retire(self, w: _Worker) -> None:
        w.kill()
        if w in self._all:
            self._all.remove(w)

    def fork_lock(self) -> asyncio.Lock:
        """Held around every fork, and by the app around work in other threads of this process
        (loading rules on reload): a fork never copies a lock another thread holds mid-way."""
        if self._fork_lock is None:
            self._fork_lock = asyncio.Lock()
        return self._fork_lock

    async def start(self) -> None:
        if self._idle is not None:
            return
        self._idle = asyncio.Queue()
        async with self.fork_lock():
            for _ in range(self.size):
                self._idle.put_nowait(self._spawn())

    def renew(self) -> None:
        """The rule set changed: every worker forked before now is replaced before its next job."""
        self.generation += 1

    def close(self) -> None:
        self._closed = True
        for w in list(self._all):
            self._retire(w)

    # ------------------------------------------------------------------ jobs

    async def _fresh(self, w: _Worker) -> _Worker:
        if w.generation == (self.generation, self.version()) and w.process.is_alive():
            return w
        self._retire(w)
        async with self.fork_lock():
            return self._spawn()

    async def run(self, job: tuple, timeout: float) -> Any:
        """The worker's answer to ``job``; ``WorkerTimeout`` if none came within ``timeout``
        seconds (waiting for a free worker included) — that worker is then killed and replaced."""
        await self.start()
        assert self._idle is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0.0)
        try:
            w = await asyncio.wait_for(self._idle.get(), timeout=max(deadline - loop.time(), 0.0))
        except TimeoutError:
            raise WorkerTimeout() from None
        healthy = False
        try:
            w = await self._fresh(w)
            w.conn.send(job)
            reading = loop.run_in_executor(None, w.conn.recv)
            try:
                answer = await asyncio.wait_for(asyncio.shield(reading), timeout=max(deadline - loop.time(), 0.0))
            except TimeoutError:
                w.process.kill()  # the reader thread sees EOF once the worker is gone
                await asyncio.gather(reading, return_exceptions=True)
                raise WorkerTimeout() from None
            except (EOFError, OSError):
                raise WorkerCrashed() from None
            healthy = True
            return answer
        finally:
            if not healthy:
                self._retire(w)  # killed mid-job: the CPU it was burning is freed now
                if not self._closed:
                    async with self.fork_lock():
                        w = self._spawn()
            if not self._closed:
                self._idle.put_nowait(w)
