"""In-process transport: the official Azure SDK clients talk to the emulator without a socket.

A ``requests`` adapter turns each prepared request into an emulator ``Request``, calls
``env.handle`` and turns the answer into a ``requests.Response``; azure-core's
``RequestsTransport`` carries it, so every retry, polling and authentication policy of the SDK
runs unchanged. Use ``local_transport(env)`` as ``transport=`` and ``credential`` (the deployer)
or ``LocalCredential(object_id)`` as the credential of any management or data-plane client.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import requests
from azure.core.pipeline.transport import RequestsTransport
from urllib3.response import HTTPResponse

from providers.azurelocal.credential import LocalCredential
from providers.azurelocal.http import request_from_url

_REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

credential = LocalCredential()


def _text_headers(headers: Mapping[str, str | bytes]) -> dict[str, str]:
    """Header values as text (requests allows bytes; HTTP/1.1 header bytes are ISO-8859-1)."""
    return {k: v.decode("latin-1") if isinstance(v, bytes) else v for k, v in headers.items()}


def _body_bytes(body) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if hasattr(body, "read"):
        return body.read()
    return b"".join(body)


class EmulatorAdapter(requests.adapters.HTTPAdapter):
    """Answers every request from the emulator instead of the network."""

    def __init__(self, env) -> None:
        super().__init__()
        self.env = env

    def send(
        self,
        request: requests.PreparedRequest,
        stream=False,
        timeout=None,
        verify=True,
        cert=None,
        proxies=None,
    ) -> requests.Response:
        emulated = request_from_url(
            request.method or "GET",
            request.url or "",
            _text_headers(request.headers),
            _body_bytes(request.body),
        )
        answer = self.env.handle(emulated)
        data = answer.encoded()
        headers = {k: v for k, v in answer.headers.items()}
        headers["Content-Length"] = str(len(data))
        raw = HTTPResponse(
            body=io.BytesIO(data),
            headers=headers,
            status=answer.status,
            reason=_REASONS.get(answer.status, ""),
            preload_content=False,
            decode_content=False,
            request_url=request.url,
        )
        return self.build_response(request, raw)

    def close(self) -> None:
        """No connections to close."""


def local_session(env) -> requests.Session:
    session = requests.Session()
    adapter = EmulatorAdapter(env)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def local_transport(env) -> RequestsTransport:
    """A transport for ``transport=`` on any azure-core based client, bound to ``env``."""
    return RequestsTransport(session=local_session(env), session_owner=False)
