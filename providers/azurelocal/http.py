"""Request, response and error values shared by the emulator's services."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Request:
    method: str  # upper case
    host: str  # lower case, no port: "management.azure.com", "kv1.vault.azure.net"
    path: str  # as sent (case preserved)
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # keys lower case
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)  # filled by the router from the pattern
    principal: Any = None  # filled by authentication: the calling principal

    def json(self) -> Any:
        if not self.body:
            return {}
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise AzureError(
                400, "InvalidRequestContent", f"The request content was invalid: {exc}"
            ) from None
        except RecursionError:
            raise AzureError(
                400, "InvalidRequestContent", "The request content is nested too deeply."
            ) from None

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


def json_depth(body: bytes) -> int:
    """How deeply the arrays and objects of a JSON text nest, counted without parsing (so a body nested
    100,000 deep costs one pass, not a recursion): brackets inside strings don't count."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-able value, bytes, or None
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode()


class AzureError(Exception):
    """An error Azure would answer with: ``{"error": {"code", "message"}}``."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def response(self) -> Response:
        headers = {"content-type": "application/json; charset=utf-8", **self.headers}
        if self.code:
            headers.setdefault("x-ms-error-code", self.code)
        return Response(self.status, {"error": {"code": self.code, "message": self.message}}, headers)


def not_found(kind: str, name: str) -> AzureError:
    return AzureError(404, "ResourceNotFound", f"The Resource '{kind}/{name}' was not found.")


def request_from_url(
    method: str, url: str, headers: dict[str, str] | None = None, body: bytes | None = b""
) -> Request:
    """Build a Request from a full URL: host lower-cased without port, path percent-decoded
    (so ``iaasvmcontainer%3Bv2`` routes as ``iaasvmcontainer;v2``), query as a flat dict."""
    from urllib.parse import parse_qsl, unquote, urlsplit

    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    return Request(
        method=method.upper(),
        host=host,
        path=unquote(parts.path or "/"),
        query=query,
        headers={k.lower(): v for k, v in (headers or {}).items()},
        body=body or b"",
    )
