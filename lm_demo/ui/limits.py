"""How much a request may carry: text lengths, valid text, body size.

Why: a public Space takes input from anyone.  Text boxes had no length
limit (measured: 200 inputs of 1 MB added ~300 MiB that stayed), a JSON
body of any size was parsed in full, and a lone surrogate (``"\\ud800"`` in
the JSON) reached the tokenizer and failed there with a ``TypeError``.
``widgets.Textbox`` caps its box in the browser and checks on the server,
``guard`` checks every text any handler gets, and ``BodyLimit`` refuses an
oversized request before it is parsed.
"""

from __future__ import annotations

import json
from typing import Any

MAX_TEXT_CHARS = 20_000  # one text box: several pages of a book
MAX_ANY_TEXT_CHARS = 100_000  # any text a handler gets (pasted settings carry several boxes)
MAX_BODY_BYTES = 2 * 1024 * 1024  # a request body, uploads excepted (they have ``max_file_size``)


def text_problem(text: str, limit: int) -> tuple[str, dict[str, Any]] | None:
    """(locale key, params) of what is wrong with ``text``, or None when it is fine."""
    if len(text) > limit:
        return "err.text_too_long", {"n": len(text), "max": limit}
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return "err.bad_text", {}
    return None


_TOO_LARGE = json.dumps({"error": "La solicitud es demasiado grande / Request too large "
                                  f"(max {MAX_BODY_BYTES // (1024 * 1024)} MB)"}).encode()


class BodyLimit:
    """ASGI middleware: a request body over ``max_bytes`` (uploads excepted) gets 413 before it is read.

    Bodies without a ``Content-Length`` (chunked) are counted as they arrive
    and cut off the same way.
    """

    def __init__(self, app: Any, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or scope.get("path", "").rstrip("/").endswith("/upload"):
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        try:
            too_big = length is not None and int(length) > self.max_bytes
        except ValueError:
            too_big = True
        if too_big:
            await self._refuse(send)
            return
        seen = 0

        async def counted() -> dict:
            nonlocal seen
            message = await receive()
            if message.get("type") == "http.request":
                seen += len(message.get("body") or b"")
                if seen > self.max_bytes:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _BodyTooLarge:
            await self._refuse(send)

    @staticmethod
    async def _refuse(send: Any) -> None:
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(_TOO_LARGE)).encode())]})
        await send({"type": "http.response.body", "body": _TOO_LARGE})


class _BodyTooLarge(Exception):
    pass
