"""The state file format: deterministic JSON, validated on the way in.

Layout (``format_version`` "1")::

    {
      "format_version": "1",
      "vaultform_version": "0.1.0",
      "lineage": "<uuid fixed at creation>",
      "serial": 7,
      "outputs": {"name": {"sensitive": false, "value": ...}},
      "resources": [
        {"module": "", "mode": "managed", "type": "...", "name": "...",
         "provider": "...", "prevent_destroy": false,
         "instances": [{"index_key": null, "schema_version": 0, "status": "",
                        "create_before_destroy": false, "attributes": {...},
                        "sensitive_paths": [["secret"]], "dependencies": [...],
                        "pending": null}]}
      ],
      "check_results": []
    }

Structural keys keep the order above; attribute objects are sorted by key, so the
same state always gives the same bytes. Values at ``sensitive_paths`` are stored
as they are (planning compares them), which is why the file is written with mode
0600. Key material never reaches the state: providers return only public key
parts and identifiers, and the encoder refuses a PEM private key block outright.

``StateEncoder`` remembers the JSON text of every resource and instance it has
encoded, keyed by object identity; as unchanged parts of a state are shared
objects, re-encoding after a one-resource change encodes one resource.
"""

from __future__ import annotations

import itertools
import json
import math
import operator
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from state import tfstate_v4
from state.encryption import envelope
from state.encryption.target import TargetEncryption
from state.errors import AddressError, StateError
from state.model import (
    VAULTFORM_VERSION,
    InstanceAddress,
    InstanceState,
    InstanceStatus,
    Mode,
    OutputState,
    PendingAction,
    PendingOperation,
    ResourceState,
    State,
    format_key,
    format_module,
    parse_address,
    parse_module,
)

__all__ = [
    "FORMAT_VERSION",
    "StateEncoder",
    "encode_state",
    "decode_state",
    "from_document",
    "to_document",
    "format_time",
    "instances_without_id",
]

FORMAT_VERSION = "1"

_PRIVATE_KEY_MARKERS = ("PRIVATE KEY-----",)


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``: ``2026-11-28T12:00:00Z``."""
    text = moment.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def _step(where: str, key: Any) -> str:
    if isinstance(key, str) and key.isidentifier():
        return f"{where}.{key}"
    return f"{where}{format_key(key) if isinstance(key, (int, str)) else '[?]'}"


def _canonical(value: Any, where: str) -> Any:
    """A JSON-ready copy with sorted object keys; refuses what JSON can't hold."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, str):
        if "-----BEGIN" in value and any(m in value for m in _PRIVATE_KEY_MARKERS):
            raise StateError(
                "state",
                "refusing to store private key material",
                where=where,
                hint="Providers must return only public key parts and identifiers.",
            )
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise StateError("state", f"cannot store the number {value}", where=where)
        return value
    if isinstance(value, dict):
        out = {}
        for key in sorted(value, key=lambda k: (not isinstance(k, str), str(k))):
            if not isinstance(key, str):
                raise StateError("state", f"object key {key!r} is not a string", where=where)
            out[key] = _canonical(value[key], _step(where, key))
        return out
    if isinstance(value, (list, tuple)):
        return [_canonical(v, f"{where}[{i}]") for i, v in enumerate(value)]
    kind = "a value known only after apply" if type(value).__name__ == "Unknown" else type(value).__name__
    raise StateError(
        "state",
        f"cannot store {kind}",
        where=where,
        hint="Only fully known JSON values (strings, numbers, booleans, null, "
        "lists and objects) belong in state.",
    )


def _pending_doc(pending: PendingOperation | None) -> dict[str, Any] | None:
    if pending is None:
        return None
    return {
        "operation": pending.operation.value,
        "started_at": format_time(pending.started_at),
        "planned_id": pending.planned_id,
        "request_digest": pending.request_digest,
    }


def _instance_doc(inst: InstanceState, where: str) -> dict[str, Any]:
    return {
        "index_key": inst.index_key,
        "schema_version": inst.schema_version,
        "status": inst.status.value,
        "create_before_destroy": inst.create_before_destroy,
        "attributes": _canonical(dict(inst.attributes), f"{where}.attributes"),
        "sensitive_paths": [list(p) for p in inst.sensitive_paths],
        "dependencies": [str(d) for d in inst.dependencies],
        "pending": _pending_doc(inst.pending),
        **({"private": _canonical(dict(inst.private), f"{where}.private")} if inst.private else {}),
        **({"types": dict(inst.types)} if inst.types else {}),
    }


def _resource_head(res: ResourceState) -> dict[str, Any]:
    return {
        "module": res.module,
        "mode": res.mode.value,
        "type": res.type,
        "name": res.name,
        "provider": res.provider,
        "prevent_destroy": res.prevent_destroy,
    }


def _outputs_doc(outputs: dict[str, OutputState]) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for name, out in sorted(outputs.items()):
        entry = {"sensitive": out.sensitive, "value": _canonical(out.value, f"outputs.{name}")}
        if out.type is not None:
            entry["type"] = out.type
        doc[name] = entry
    return doc


def to_document(state: State) -> dict[str, Any]:
    """The state as a JSON-ready dict (the same content ``encode_state`` writes)."""
    resources = []
    for i, res in enumerate(state.resources):
        doc = _resource_head(res)
        doc["instances"] = [
            _instance_doc(inst, f"resources[{i}].instances[{j}]") for j, inst in enumerate(res.instances)
        ]
        resources.append(doc)
    return {
        "format_version": FORMAT_VERSION,
        "vaultform_version": state.vaultform_version,
        "lineage": state.lineage,
        "serial": state.serial,
        "outputs": _outputs_doc(dict(state.outputs)),
        "resources": resources,
        "check_results": [_canonical(c, f"check_results[{i}]") for i, c in enumerate(state.check_results)],
    }


# Go's encoding/json, which writes terraform.tfstate, escapes these in strings (HTML safety and
# JavaScript line separators); terraform 1.11 writes an input "<a&b>" as "\u003ca\u0026b\u003e"
# (checked with the binary). They only ever occur inside strings in JSON text.
_GO_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


def go_escaped(text: str) -> str:
    """JSON text with the escapes Go's encoding/json adds (``<``, ``>``, ``&``, U+2028, U+2029)."""
    for char, escape in _GO_ESCAPES:
        if char in text:
            text = text.replace(char, escape)
    return text


def go_json(value: Any, *, indent: bool = False, default: Any = None) -> str:
    """``value`` as terraform's -json outputs write it with Go's encoding/json: compact (json.Marshal:
    ``show -json``, ``output -json NAME``) or indented by two spaces (MarshalIndent: ``output -json``).
    Numbers are plain decimal, never with an exponent (``0.0000001``, not ``1e-07``): terraform's
    values are cty numbers, written as big.Float's Text('f', -1) (checked with the binary)."""

    def dump(v: Any) -> str:
        return json.dumps(
            v,
            ensure_ascii=False,
            allow_nan=False,
            default=default,
            indent=2 if indent else None,
            separators=None if indent else (",", ":"),
        )

    text = dump(value)
    if _EXPONENT.search(text):  # rare: a float Python writes with an exponent (or a string that looks so)
        text = _PLAIN_NUMBER.sub(r"\1", dump(_plain_floats(value)))
    return go_escaped(text)


# a number token with an exponent (after a colon, comma or bracket, as JSON writes numbers): ids
# and hashes in strings ("0e5d7a9b") don't look like one
_EXPONENT = re.compile(r"(?:^|[:,\[])\s*-?\d+(?:\.\d+)?[eE][-+]?\d+\s*(?:[,\]}]|$)", re.MULTILINE)
_PLAIN = "\ue000"  # marks a number's plain text inside a string (a private-use character)
_PLAIN_NUMBER = re.compile(f'"{_PLAIN}(-?[0-9.]+){_PLAIN}"')


def _plain_floats(value: Any) -> Any:
    """``value`` with each float Python would write with an exponent replaced by a marked string of
    its plain decimal text, which ``go_json`` then writes as the bare number."""
    kind = type(value)
    if kind is float:
        text = repr(value)
        return f"{_PLAIN}{format(Decimal(text), 'f')}{_PLAIN}" if "e" in text else value
    if kind is dict:
        return {k: _plain_floats(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_plain_floats(v) for v in value]
    return value


def _dump(value: Any, indent: int) -> str:
    """JSON with two-space indentation, every line after the first shifted by ``indent``."""
    text = go_escaped(json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False))
    return text.replace("\n", "\n" + " " * indent) if indent else text


class StateEncoder:
    """Encodes states to text, reusing the text of unchanged resources and instances.

    Keep one encoder per state file. It remembers the last state's resources
    (strong references, so identities stay valid) with their encoded bytes;
    the next state is compared to it position by position with identity
    checks, and only resources that are new objects are encoded again, reusing
    the bytes of their unchanged instances.
    """

    def __init__(self, encryption: TargetEncryption | None = None) -> None:
        self.encryption = encryption  # the state target of an ``encryption`` block, if any
        self.outdated = False  # the last state decoded is stored in another form than ours (see decode)
        self._resources: tuple[ResourceState, ...] = ()
        self._texts: list[bytes] = []
        self._instance_texts: list[tuple[bytes, ...]] = []

    def encode(self, state: State) -> str:
        return self.encode_bytes(state).decode("utf-8")

    def encode_bytes(self, state: State) -> bytes:
        """The UTF-8 text of ``state``; raises ``StateError`` (source "state") for unstorable values."""
        return b"".join(self.encode_chunks(state))

    def encode_chunks(self, state: State) -> list[bytes]:
        """``encode_bytes`` in a few large pieces, saving a copy when writing to a file; with
        ``encryption``, one piece: OpenTofu's encrypted envelope of the text."""
        chunks = self._plain_chunks(state)
        self.outdated = False
        if self.encryption is None:
            return chunks
        sealed = self.encryption.encrypt(
            b"".join(chunks), source="state", serial=int(state.serial), lineage=state.lineage
        )
        return [sealed]

    def decode(self, data: bytes | str, *, source: str = "state") -> State:
        """``decode_state`` with this encoder's encryption: what every backend reads through.
        ``outdated`` says afterwards whether the data was stored otherwise than the encryption
        writes it (an old key, or unencrypted data being migrated): then the backend writes the
        state again even when its content is unchanged."""
        if self.encryption is None:
            return decode_state(data, source=source)
        raw = data.encode("utf-8") if isinstance(data, str) else data
        state, current = _decrypted(raw, source, self.encryption)
        self.outdated = not current
        return state

    def _plain_chunks(self, state: State) -> list[bytes]:
        resources = state.resources
        old = self._resources
        if len(resources) == len(old):
            texts = list(self._texts)
            instance_texts = list(self._instance_texts)
            changed = itertools.compress(range(len(resources)), map(operator.is_not, resources, old))
            for i in changed:
                texts[i], instance_texts[i] = self._encode_resource(
                    resources[i], i, old[i], self._instance_texts[i]
                )
        elif abs(len(resources) - len(old)) == 1 and self._one_added_or_removed(resources):
            texts, instance_texts = self._spliced(resources)
        else:
            by_key = {res.key: n for n, res in enumerate(old)}
            texts, instance_texts = [], []
            for i, res in enumerate(resources):
                n = by_key.get(res.key)
                if n is not None and old[n] is res:
                    text, inst_texts = self._texts[n], self._instance_texts[n]
                else:
                    text, inst_texts = self._encode_resource(
                        res, i, None if n is None else old[n], () if n is None else self._instance_texts[n]
                    )
                texts.append(text)
                instance_texts.append(inst_texts)
        self._resources, self._texts, self._instance_texts = resources, texts, instance_texts
        head = "".join(
            [
                "{\n",
                f'  "version": {tfstate_v4.TERRAFORM_STATE_VERSION},\n',
                f'  "terraform_version": {json.dumps(tfstate_v4.WRITTEN_TERRAFORM_VERSION)},\n',
                f'  "serial": {int(state.serial)},\n',
                f'  "lineage": {json.dumps(state.lineage)},\n',
                f'  "outputs": {_dump(tfstate_v4.outputs_v4(_outputs_doc(dict(state.outputs))), 2)},\n',
                '  "resources": [\n    ' if texts else '  "resources": [',
            ]
        ).encode("utf-8")
        checks = [_canonical(c, f"check_results[{i}]") for i, c in enumerate(state.check_results)]
        tail = "".join(
            [
                "\n  ],\n" if texts else "],\n",
                '  "check_results": ',
                _dump(checks or None, 2),
                ',\n  "vaultform_version": ',
                json.dumps(state.vaultform_version),
                "\n}\n",
            ]
        ).encode("utf-8")
        return [head, b",\n    ".join(texts), tail]

    def _one_added_or_removed(self, resources: tuple[ResourceState, ...]) -> bool:
        """Whether ``resources`` is the last state's with one resource inserted or removed."""
        old = self._resources
        at = self._first_difference(resources)
        if len(resources) > len(old):
            return all(map(operator.is_, resources[at + 1 :], old[at:]))
        return all(map(operator.is_, resources[at:], old[at + 1 :]))

    def _first_difference(self, resources: tuple[ResourceState, ...]) -> int:
        old = self._resources
        return next(
            itertools.compress(itertools.count(), map(operator.is_not, resources, old)),
            min(len(resources), len(old)),
        )

    def _spliced(self, resources: tuple[ResourceState, ...]) -> tuple[list[Any], list[Any]]:
        at = self._first_difference(resources)
        if len(resources) < len(self._resources):
            return self._texts[:at] + self._texts[at + 1 :], self._instance_texts[:at] + self._instance_texts[
                at + 1 :
            ]
        text, inst_texts = self._encode_resource(resources[at], at, None, ())
        return self._texts[:at] + [text] + self._texts[at:], self._instance_texts[:at] + [
            inst_texts
        ] + self._instance_texts[at:]

    @staticmethod
    def _encode_resource(
        res: ResourceState, i: int, previous: ResourceState | None, previous_texts: tuple[bytes, ...]
    ) -> tuple[bytes, tuple[bytes, ...]]:
        reuse: dict[int, bytes] = {}
        if (
            previous is not None
            and previous.key == res.key
            and previous.prevent_destroy == res.prevent_destroy
        ):
            reuse = {id(inst): text for inst, text in zip(previous.instances, previous_texts)}
        pieces = []
        for j, inst in enumerate(res.instances):
            text = reuse.get(id(inst))
            if text is None:
                doc = _instance_doc(inst, f"resources[{i}].instances[{j}]")
                text = _dump(tfstate_v4.instance_v4(doc, res.type, res.prevent_destroy), 8).encode("utf-8")
            pieces.append(text)
        head = _dump(tfstate_v4.resource_head_v4(_resource_head(res)), 4).encode("utf-8")
        # splice the instances in as the last member of the resource object
        listing = (b"[\n        " + b",\n        ".join(pieces) + b"\n      ]") if pieces else b"[]"
        text = head[: -len(b"\n    }")] + b',\n      "instances": ' + listing + b"\n    }"
        return text, tuple(pieces)


def encode_state(state: State) -> str:
    """The canonical text of ``state`` (one-off; backends keep a ``StateEncoder``)."""
    return StateEncoder().encode(state)


# --------------------------------------------------------------------------- reading

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_TOP_KEYS = {
    "format_version",
    "vaultform_version",
    "lineage",
    "serial",
    "outputs",
    "resources",
    "check_results",
}
_RESOURCE_KEYS = {"module", "mode", "type", "name", "provider", "prevent_destroy", "instances"}
_INSTANCE_KEYS = {
    "index_key",
    "schema_version",
    "status",
    "create_before_destroy",
    "attributes",
    "sensitive_paths",
    "dependencies",
    "pending",
    "private",
    "types",
}
_PENDING_KEYS = {"operation", "started_at", "planned_id", "request_digest"}
_OUTPUT_KEYS = {"value", "sensitive", "type"}
_PRIMITIVE_TYPES = {"string", "number", "bool", "dynamic"}


def _is_type(t: Any) -> bool:
    """A type in cty's JSON form, as terraform writes it beside an output."""
    if isinstance(t, str):
        return t in _PRIMITIVE_TYPES
    if not isinstance(t, list) or len(t) != 2:
        return False
    kind, inner = t
    if kind in ("list", "set", "map"):
        return _is_type(inner)
    if kind == "tuple":
        return isinstance(inner, list) and all(_is_type(x) for x in inner)
    if kind == "object":
        return isinstance(inner, dict) and all(isinstance(k, str) and _is_type(x) for k, x in inner.items())
    return False


_KIND_NAMES: dict[type, str] = {
    str: "a string",
    int: "a whole number",
    bool: "true or false",
    dict: "an object",
    list: "a list",
    type(None): "null",
}
_MISSING = object()


class _Reader:
    """Validating accessors that name the place of every problem."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, where: str, problem: str, hint: str = "") -> StateError:
        return StateError(self.source, problem, where=where, hint=hint)

    def get(self, obj: dict[str, Any], key: str, where: str, *kinds: type, default: Any = _MISSING) -> Any:
        if key not in obj:
            if default is _MISSING:
                raise self.fail(where, f"missing {key}")
            return default
        value = obj[key]
        # bool is an int in Python but not a number in the state file
        if type(value) in kinds:  # types compare by identity
            return value
        wanted = " or ".join(_KIND_NAMES[k] for k in kinds)
        raise self.fail(_step(where, key) if where else key, f"expected {wanted}, found {_describe(value)}")

    def closed(self, obj: dict[str, Any], allowed: set[str], where: str) -> None:
        if allowed.issuperset(obj):
            return
        extra = sorted(set(obj) - allowed)
        if extra:
            raise self.fail(
                where, f"unexpected key {extra[0]!r}", f"Known keys here: {', '.join(sorted(allowed))}."
            )

    def enum(self, enum_type: Callable[..., Any], value: str, where: str) -> Any:
        try:
            return enum_type(value)
        except ValueError:
            choices = ", ".join(repr(m.value) for m in enum_type)  # type: ignore[attr-defined]
            raise self.fail(where, f"{value!r} is not one of {choices}") from None


def _describe(value: Any) -> str:
    for kind, name in _KIND_NAMES.items():
        if type(value) is kind:
            return name
    return "a number with a fraction" if isinstance(value, float) else type(value).__name__


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def decode_state(
    data: bytes | str, *, source: str = "state", encryption: TargetEncryption | None = None
) -> State:
    """Parse and validate a state file's text; every problem is a ``StateError``.

    With ``encryption`` (the state target of an ``encryption`` block) the text is decrypted
    first - or taken as it is, when unencrypted and a method allows that; without it, an
    encrypted state is refused with a message saying so."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if encryption is not None:
        return _decrypted(raw, source, encryption)[0]
    if envelope.is_envelope(raw):
        raise StateError(
            source,
            "the state is encrypted, and this configuration sets up no state encryption",
            hint="Add the terraform { encryption { ... state { method = ... } } } block it was written "
            "with, or set TF_ENCRYPTION. Nothing was changed.",
        )
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise StateError(
                source,
                f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
                hint="The file is not a vaultform state.",
            ) from exc
    if not data.strip():
        raise StateError(
            source,
            "the file is empty",
            hint="A state file is never written empty. If you mean to start without "
            "state, remove the file; otherwise restore it from its .backup.",
        )
    try:
        doc = json.loads(data, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise StateError(
            source, f"not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})"
        ) from None
    except ValueError as exc:
        raise StateError(source, f"not valid JSON: {exc}") from None
    except RecursionError:
        raise StateError(source, "values are nested too deeply to be a state") from None
    return from_document(doc, source=source)


def _decrypted(raw: bytes, source: str, encryption: TargetEncryption) -> tuple[State, bool]:
    """The state in ``raw`` through ``encryption``, and whether it is stored as the method writes it."""
    data, current = encryption.read(raw, source=source)
    state = decode_state(data, source=source)
    passthrough = envelope.decode(raw) if data is not raw else None
    if passthrough is not None and (
        (passthrough.serial is not None and passthrough.serial != state.serial)
        or (passthrough.lineage is not None and passthrough.lineage != state.lineage)
    ):
        raise StateError(
            source,
            "the encrypted state's serial or lineage does not match the ones written beside it",
            hint="The envelope was edited or assembled from two states. Restore it from a backup.",
        )
    return state, current


def from_document(doc: Any, *, source: str = "state") -> State:
    r = _Reader(source)
    if type(doc) is not dict:
        raise r.fail("", f"expected a JSON object at the top, found {_describe(doc)}")
    if tfstate_v4.is_terraform_state(doc):
        doc = tfstate_v4.to_vaultform_document(doc, source=source)
    _check_format_version(r, doc)
    r.closed(doc, _TOP_KEYS, "")
    lineage = r.get(doc, "lineage", "", str)
    if not lineage:
        raise r.fail("lineage", "is empty")
    serial = r.get(doc, "serial", "", int)
    if serial < 0:
        raise r.fail("serial", f"must not be negative, found {serial}")
    version = r.get(doc, "vaultform_version", "", str, default="")
    outputs = _read_outputs(r, r.get(doc, "outputs", "", dict, default={}))
    resources = [
        _resource_as_usual(res) or _read_resource(r, res, f"resources[{i}]")
        for i, res in enumerate(r.get(doc, "resources", "", list))
    ]
    seen: dict[tuple[Any, ...], int] = {}
    for i, res in enumerate(resources):
        if res.key in seen:
            raise r.fail(
                f"resources[{i}]", f"{res.address} appears twice (also at resources[{seen[res.key]}])"
            )
        seen[res.key] = i
    checks = r.get(doc, "check_results", "", list, default=[])
    for i, check in enumerate(checks):
        if type(check) is not dict:
            raise r.fail(f"check_results[{i}]", f"expected an object, found {_describe(check)}")
    return State(
        lineage=lineage,
        serial=serial,
        vaultform_version=version,
        resources=tuple(resources),
        outputs=outputs,
        check_results=tuple(checks),
    )


def _check_format_version(r: _Reader, doc: dict[str, Any]) -> None:
    if "format_version" not in doc:
        raise r.fail("", "missing format_version")
    fv = r.get(doc, "format_version", "", str)
    if not fv.isdigit():
        raise r.fail("format_version", f"{fv!r} is not a format version")
    if int(fv) > int(FORMAT_VERSION):
        raise r.fail(
            "",
            f"written by a newer vaultform (format_version {fv}); this vaultform "
            f"{VAULTFORM_VERSION} reads format_version {FORMAT_VERSION}",
            "Upgrade vaultform to use this state. It was left untouched.",
        )
    if fv != FORMAT_VERSION:
        raise r.fail(
            "format_version",
            f"unsupported format_version {fv}; this vaultform reads format_version {FORMAT_VERSION}",
        )


def _read_outputs(r: _Reader, outputs: dict[str, Any]) -> dict[str, OutputState]:
    result = {}
    for name, out in outputs.items():
        where = _step("outputs", name)
        if type(out) is not dict:
            raise r.fail(where, f"expected an object, found {_describe(out)}")
        r.closed(out, _OUTPUT_KEYS, where)
        if "value" not in out:
            raise r.fail(where, "missing value")
        recorded = out.get("type")
        if recorded is not None and not _is_type(recorded):
            raise r.fail(
                f"{where}.type", f'{_describe(recorded)} is not a type (e.g. "string", ["list", "string"])'
            )
        sensitive = r.get(out, "sensitive", where, bool, default=False)
        result[name] = OutputState(out["value"], sensitive, recorded)
    return result


def _read_resource(r: _Reader, res: Any, where: str) -> ResourceState:
    if type(res) is not dict:
        raise r.fail(where, f"expected an object, found {_describe(res)}")
    r.closed(res, _RESOURCE_KEYS, where)
    mode_text = r.get(res, "mode", where, str)
    mode = _MODES.get(mode_text) or r.enum(Mode, mode_text, f"{where}.mode")
    names = {}
    for key in ("type", "name"):
        text = r.get(res, key, where, str)
        if not _NAME.fullmatch(text):
            raise r.fail(f"{where}.{key}", f"{text!r} is not a valid {key}")
        names[key] = text
    module = r.get(res, "module", where, str, default="")
    try:
        module_path = parse_module(module)
    except AddressError as exc:
        raise r.fail(f"{where}.module", exc.problem) from None
    provider = r.get(res, "provider", where, str)
    if not provider:
        raise r.fail(f"{where}.provider", "is empty")
    prevent = r.get(res, "prevent_destroy", where, bool, default=False)
    instances = [
        _instance_as_usual(inst) or _read_instance(r, inst, f"{where}.instances[{j}]")
        for j, inst in enumerate(r.get(res, "instances", where, list))
    ]
    keys: dict[Any, int] = {}
    for j, inst in enumerate(instances if len(instances) > 1 else ()):  # one instance: no duplicate
        marker = (type(inst.index_key).__name__, inst.index_key)
        if marker in keys:
            raise r.fail(
                f"{where}.instances[{j}]",
                (
                    f"index key {format_key(inst.index_key)}"
                    if inst.index_key is not None
                    else "the keyless instance"
                )
                + f" appears twice (also at instances[{keys[marker]}])",
            )
        keys[marker] = j
    return ResourceState(
        mode, names["type"], names["name"], format_module(module_path), provider, tuple(instances), prevent
    )


# A state of 10,000 objects spends most of its decoding in the checks below, almost all of
# them passed. The usual shapes (every key of the expected type, no sensitive path, no pending
# operation) are read in one go first; anything else - including every mistake - goes through
# the readers that check each key and name its place, so what is refused and how is the same.
_USUAL_RESOURCE_KEYS = frozenset(_RESOURCE_KEYS - {"instances"})


def _resource_as_usual(res: Any) -> ResourceState | None:
    """``res`` read without naming places, or None if anything about it is unusual."""
    if type(res) is not dict or not _RESOURCE_KEYS.issuperset(res):
        return None
    mode_text, kind, name = res.get("mode"), res.get("type"), res.get("name")
    provider, module = res.get("provider"), res.get("module", "")
    prevent, listed = res.get("prevent_destroy", False), res.get("instances")
    if (
        type(mode_text) is not str
        or mode_text not in _MODES
        or type(kind) is not str
        or type(name) is not str
        or type(provider) is not str
        or not provider
        or type(module) is not str
        or type(prevent) is not bool
        or type(listed) is not list
        or not _NAME.fullmatch(kind)
        or not _NAME.fullmatch(name)
    ):
        return None
    if module:
        try:
            module = format_module(parse_module(module))
        except AddressError:
            return None
    instances = []
    for listed_inst in listed:
        inst = _instance_as_usual(listed_inst)
        if inst is None:
            return None
        instances.append(inst)
    if len(instances) > 1 and len({(type(i.index_key), i.index_key) for i in instances}) != len(instances):
        return None  # a key twice: the full reader names both places
    return ResourceState(_MODES[mode_text], kind, name, module, provider, tuple(instances), prevent)


def _instance_as_usual(inst: Any) -> InstanceState | None:
    """``inst`` read without naming places, or None if anything about it is unusual."""
    if type(inst) is not dict or not _INSTANCE_KEYS.issuperset(inst):
        return None
    get = inst.get
    attributes, index_key, status = get("attributes"), get("index_key"), get("status", "")
    schema_version, cbd = get("schema_version", 0), get("create_before_destroy", False)
    private = get("private") if "private" in inst else {}
    types = get("types") if "types" in inst else {}
    paths, deps = get("sensitive_paths", _MISSING), get("dependencies", _MISSING)
    if (
        type(attributes) is not dict
        or (index_key is not None and type(index_key) is not int and type(index_key) is not str)
        or type(status) is not str
        or status not in _STATUSES
        or type(schema_version) is not int
        or schema_version < 0
        or type(cbd) is not bool
        or type(private) is not dict
        or type(types) is not dict
        or (paths is not _MISSING and paths != [])  # a sensitive path is checked step by step there
        or get("pending") is not None
        or (deps is not _MISSING and type(deps) is not list)
    ):
        return None
    parsed: tuple[InstanceAddress, ...] = ()
    if type(deps) is list and deps:
        try:
            parsed = tuple(parse_address(dep) if type(dep) is str else _unusual() for dep in deps)
        except (AddressError, _Unusual):
            return None
    return InstanceState(
        index_key, attributes, (), parsed, _STATUSES[status], cbd, schema_version, None, private, types
    )


class _Unusual(Exception):
    pass


def _unusual() -> Any:
    raise _Unusual


def _read_instance(r: _Reader, inst: Any, where: str) -> InstanceState:
    if type(inst) is not dict:
        raise r.fail(where, f"expected an object, found {_describe(inst)}")
    r.closed(inst, _INSTANCE_KEYS, where)
    attributes = r.get(inst, "attributes", where, dict)
    paths = []
    for k, path in enumerate(r.get(inst, "sensitive_paths", where, list, default=[])):
        if type(path) is not list or not path or not all(type(s) in (str, int) for s in path):
            raise r.fail(
                f"{where}.sensitive_paths[{k}]", "a sensitive path is a non-empty list of keys and indexes"
            )
        paths.append(tuple(path))
    dependencies = []
    for k, dep in enumerate(r.get(inst, "dependencies", where, list, default=[])):
        if type(dep) is not str:
            raise r.fail(f"{where}.dependencies[{k}]", f"expected a string, found {_describe(dep)}")
        try:
            dependencies.append(parse_address(dep))
        except AddressError as exc:
            raise r.fail(f"{where}.dependencies[{k}]", str(exc)) from None
    schema_version = r.get(inst, "schema_version", where, int, default=0)
    if schema_version < 0:
        raise r.fail(f"{where}.schema_version", "must not be negative")
    return InstanceState(
        index_key=r.get(inst, "index_key", where, type(None), int, str, default=None),
        attributes=attributes,
        sensitive_paths=tuple(paths),
        dependencies=tuple(dependencies),
        status=_status(r, r.get(inst, "status", where, str, default=""), where),
        create_before_destroy=r.get(inst, "create_before_destroy", where, bool, default=False),
        schema_version=schema_version,
        pending=_read_pending(
            r, r.get(inst, "pending", where, dict, type(None), default=None), f"{where}.pending"
        ),
        private=r.get(inst, "private", where, dict, default={}),
        types=r.get(inst, "types", where, dict, default={}),
    )


# the members by their text: an enum's own lookup by value is a call through its metaclass, once
# per resource and per instance of a state
_MODES = {m.value: m for m in Mode}
_STATUSES = {s.value: s for s in InstanceStatus}


def _status(r: _Reader, text: str, where: str) -> InstanceStatus:
    found = _STATUSES.get(text)
    return found if found is not None else r.enum(InstanceStatus, text, f"{where}.status")


def _read_pending(r: _Reader, pending: dict[str, Any] | None, where: str) -> PendingOperation | None:
    if pending is None:
        return None
    r.closed(pending, _PENDING_KEYS, where)
    started = r.get(pending, "started_at", where, str)
    try:
        moment = datetime.fromisoformat(started)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise r.fail(f"{where}.started_at", f"{started!r} is not a time like 2026-01-31T12:00:00Z")
    return PendingOperation(
        operation=r.enum(PendingAction, r.get(pending, "operation", where, str), f"{where}.operation"),
        started_at=moment,
        request_digest=r.get(pending, "request_digest", where, str),
        planned_id=r.get(pending, "planned_id", where, str, type(None), default=None),
    )


def instances_without_id(state: State) -> list[tuple[str, str]]:
    """``(instance address, what is wrong)`` for every managed object in ``state`` that has no
    usable id: nothing can refresh, update or destroy an object it can't name. (A state
    with them decodes, so ``state rm`` can still remove them.) An instance whose create was
    interrupted carries a pending operation instead and is left to recovery."""
    found = []
    for address, res, inst in state.instances():
        if res.mode is not Mode.MANAGED or inst.pending is not None or not inst.attributes:
            continue
        value = inst.attributes.get("id", _MISSING)
        if type(value) is str and value:
            continue
        if value is _MISSING:
            what = "has no id"
        elif value == "":
            what = "has an empty id"
        else:
            what = f"has {_describe(value)} as its id"
        found.append((str(address), what))
    return found
