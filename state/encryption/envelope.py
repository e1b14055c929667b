"""OpenTofu's encrypted form of a state or plan (internal/encryption/base.go, state.go).

An encrypted state is one compact JSON object::

    {"serial": 7, "lineage": "...", "meta": {"key_provider.pbkdf2.NAME": "<base64 of JSON>"},
     "encrypted_data": "<base64>", "encryption_version": "v0"}

``serial`` and ``lineage`` are copied in the clear from the state (OpenTofu's ``statedata``
passthrough, checked against the decrypted state on reading); ``meta`` holds each key provider's
metadata (Go encodes ``[]byte`` as standard base64); ``encryption_version`` marks the object as
encrypted. A plan's envelope is the same without serial and lineage. The keys are written in
Go's field order, so the bytes match what OpenTofu writes.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

VERSION = "v0"


@dataclass(frozen=True, slots=True)
class Envelope:
    meta: dict[str, bytes]
    data: bytes
    version: str = VERSION
    serial: int | None = None
    lineage: str | None = None


def encode(envelope: Envelope, *, state: bool) -> bytes:
    doc: dict[str, Any] = {}
    if state:
        doc["serial"] = envelope.serial
        doc["lineage"] = envelope.lineage or ""
    doc["meta"] = {k: base64.b64encode(v).decode("ascii") for k, v in sorted(envelope.meta.items())}
    doc["encrypted_data"] = base64.b64encode(envelope.data).decode("ascii")
    doc["encryption_version"] = envelope.version
    return json.dumps(doc, separators=(",", ":")).encode("ascii")


def _document(data: bytes) -> dict[str, Any] | None:
    head = data.lstrip()[:1]
    if head != b"{":
        return None
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None


def is_envelope(data: bytes | str) -> bool:
    """Whether ``data`` is encrypted (a JSON object with a non-empty ``encryption_version``)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if b'"encryption_version"' not in raw:  # cheap: a plain state is not parsed twice
        return False
    doc = _document(raw)
    return (
        doc is not None and isinstance(doc.get("encryption_version"), str) and bool(doc["encryption_version"])
    )


class EnvelopeError(ValueError):
    pass


def decode(data: bytes) -> Envelope | None:
    """The envelope in ``data``, or None when ``data`` is not encrypted; ``EnvelopeError`` when it
    claims to be and is damaged."""
    if b'"encryption_version"' not in data:
        return None
    doc = _document(data)
    if doc is None or not isinstance(doc.get("encryption_version"), str) or not doc["encryption_version"]:
        return None
    meta = doc.get("meta") or {}
    try:
        if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
            raise EnvelopeError("its meta is not an object of base64 strings")
        decoded_meta = {str(k): base64.b64decode(v, validate=True) for k, v in meta.items()}
        sealed = doc.get("encrypted_data")
        if not isinstance(sealed, str):
            raise EnvelopeError("it has no encrypted_data")
        payload = base64.b64decode(sealed, validate=True)
    except binascii.Error:
        raise EnvelopeError("its base64 is damaged") from None
    serial = doc.get("serial")
    lineage = doc.get("lineage")
    return Envelope(
        decoded_meta,
        payload,
        doc["encryption_version"],
        serial if type(serial) is int else None,
        lineage if isinstance(lineage, str) and lineage else None,
    )
