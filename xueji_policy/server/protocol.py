"""uvicorn's h11 protocol with a deadline for the request head.

uvicorn closes an idle keep-alive connection after ``timeout_keep_alive`` but only until the
first byte arrives: a client that sends a header byte every few seconds (slowloris), or that
connects and sends nothing, holds its connection for as long as it likes.  Here every
connection must deliver a complete request head within ``header_timeout`` seconds of being
accepted (or of its previous response); otherwise it is closed.  While the app is answering a
request the app's own deadlines apply (body read deadline, time budget), not this one.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol


class DeadlineH11Protocol(H11Protocol):
    header_timeout: float = 10.0  # set by ``with_header_timeout``

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._head_timer: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_expired)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request head (or the rest of an unread body) has its own deadline

    def _head_expired(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being answered: the app's deadlines govern it
        self.transport.close()


def with_header_timeout(seconds: float) -> type[DeadlineH11Protocol]:
    """A protocol class with this deadline (uvicorn instantiates the class it is given)."""
    return type("DeadlineH11Protocol", (DeadlineH11Protocol,), {"header_timeout": float(seconds)})
