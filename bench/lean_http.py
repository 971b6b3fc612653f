"""A minimal HTTP/1.1 keep-alive client for load generation, on asyncio protocols.

httpx costs about 1.2 ms of CPU per request, as much as the server it measures; the load
generator shares the machine with the centers and PostgreSQL, so every millisecond it spends
is taken from them. This client does what the benchmark needs and no more: one connection,
one request in flight, ``Content-Length`` bodies (what uvicorn sends for JSON replies).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any


class Reply:
    """A response: status and body."""

    __slots__ = ("body", "status_code")

    def __init__(self, status: int, body: bytes) -> None:
        self.status_code = status
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.buf = bytearray()
        self.waiter: asyncio.Future[Reply] | None = None
        self.transport: Any = None
        self.closed: Exception | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # uvloop's transports do not subclass asyncio.Transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = exc or ConnectionError("connection closed by the server")
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(self.closed)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        length = 0
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if len(self.buf) < end + 4 + length:
            return
        body = bytes(self.buf[end + 4 : end + 4 + length])
        del self.buf[: end + 4 + length]
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(Reply(status, body))


class LeanClient:
    """One keep-alive connection to ``host:port``; requests are sent one at a time."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._proto: _Protocol | None = None

    async def _connect(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        _, proto = await loop.create_connection(_Protocol, self.host, self.port)
        return proto

    async def post(
        self, path: str, *, json_body: Any = None, headers: dict[str, str] | None = None
    ) -> Reply:
        if self._proto is None or self._proto.closed is not None:
            self._proto = await self._connect()
        proto = self._proto
        body = b"" if json_body is None else json.dumps(json_body).encode()
        lines = [f"POST {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if json_body is not None:
            lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(body)}")
        proto.waiter = asyncio.get_running_loop().create_future()
        assert proto.transport is not None
        proto.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        return await proto.waiter

    async def aclose(self) -> None:
        if self._proto is not None and self._proto.transport is not None:
            self._proto.transport.close()
