"""ASGI middleware that bounds request bodies: over the size limit → 413, slower than the time limit → 408."""

from __future__ import annotations

import asyncio
import json
import time


class BodySizeLimit:
    """Counts body bytes as they arrive (Content-Length is checked first, chunked uploads as they stream).

    The whole body must also arrive within `body_timeout_s`, so a client trickling an upload cannot
    hold a connection and an upload slot for ever.
    """

    def __init__(self, app, max_bytes: int, body_timeout_s: float = 30.0) -> None:
        self.app, self.max_bytes, self.body_timeout_s = app, max_bytes, body_timeout_s

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._refuse(send, 413, f"upload too large: the limit is {self.max_bytes:,} bytes")
        seen = 0
        started = refused = body_done = False
        deadline = time.monotonic() + self.body_timeout_s

        async def counting_receive():
            # Frameworks turn exceptions raised here into their own 400, so on overflow answer 413
            # (or 408) ourselves and tell the app the client went away; whatever it sends after is dropped.
            nonlocal seen, refused, body_done
            if refused:
                return {"type": "http.disconnect"}
            if body_done:  # after the body, receive() only waits for a disconnect: no deadline
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                refused = True
                if not started:
                    await self._refuse(send, 408, f"the upload took over {self.body_timeout_s:g} s")
                return {"type": "http.disconnect"}
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
                if seen > self.max_bytes:
                    refused = True
                    if not started:
                        await self._refuse(send, 413, f"upload too large: the limit is {self.max_bytes:,} bytes")
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message):
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counting_receive, tracking_send)

    async def _refuse(self, send, status: int, detail: str) -> None:
        body = json.dumps({"detail": detail}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),  # the rest of the body is never read
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
