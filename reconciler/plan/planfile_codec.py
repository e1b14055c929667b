"""Plan <-> JSON for saved plans: every field, with the types JSON lacks tagged explicitly.

Plain JSON values stay as they are. What JSON cannot say is a one-key object whose key
starts with ``$``:

=====================  ===============================================
``{"$unknown": true}``  ``UNKNOWN`` (known after apply)
``{"$tuple": [...]}``   a tuple (paths, dependencies)
``{"$frozenset": [...]}``  a frozen set (the names of sensitive variables)
``{"$decimal": "1.5"}``  a Decimal number, exactly
``{"$address": "a.b[\"k\"]"}``  an instance address (``InstanceAddress``), as users write it
``{"$node": ["a.b", "phase"]}``  a graph node (``Node``): its address as users write it, and its phase
``{"$dict": [[k, v]]}`` a dict whose keys are not all strings, or one with a key starting
                        with ``$`` (so user data can never pass for a tag)
``{"$enum": N, "value": v}``   a member of a known enum (``Action``, ``Reason``, ``Severity``)
``{"$record": N, "fields": {}}``  a known record (``ResourceChange``, ``OutputChange``,
                        ``Diagnostic``, ``SourceRange``), field by field
``{"$sealed": "..."}``  a secret: the encoded value, sealed with the plan key
=====================  ===============================================

Records are encoded field by field from their dataclass fields, so a field added to the
plan model later is saved and loaded without touching this module. Only the records and
enums listed here are ever built from a file.

Secrets: a value is sealed when it sits at a sensitive path of its object (the change's
``sensitive_paths`` and the schema's sensitive attributes), when it is a sensitive variable
or a sensitive output, and - because values flow from variables into attributes - when it is
a string that contains the text of any of those secrets (of at least ``MIN_EMBEDDED_SECRET``
characters; a shorter one only where it is the whole string).
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from reconciler.addresses import AddressError, InstanceAddress, Mode, Node, parse_address
from reconciler.diagnostics import Diagnostic, DiagnosticsError, Severity, SourceRange, error
from reconciler.plan.model import Action, OutputChange, Reason, ResourceChange
from reconciler.values import UNKNOWN

RECORDS: dict[str, type] = {c.__name__: c for c in (ResourceChange, OutputChange, Diagnostic, SourceRange)}
ENUMS: dict[str, type[enum.Enum]] = {e.__name__: e for e in (Action, Reason, Severity, Mode)}

MIN_EMBEDDED_SECRET = 4  # shorter secret texts are sealed where they are a whole value, not inside others

Sealer = Callable[[bytes], str]
Opener = Callable[[str], bytes]
Sensitive = Callable[[tuple[Any, ...]], bool]


def _never(_path: tuple[Any, ...]) -> bool:
    return False


class Encoder:
    """Encodes values; seals what is sensitive (``sealer`` is called only when needed)."""

    def __init__(self, sealer: Sealer, secrets: frozenset[str] = frozenset()):
        self.sealer = sealer
        self.secrets = frozenset(s for s in secrets if s)
        self.sealed_count = 0

    def seal(self, value: Any) -> dict[str, Any]:
        self.sealed_count += 1
        inner = Encoder(self.sealer)  # inside a sealed value nothing is sealed again
        text = json.dumps(inner.value(value), ensure_ascii=False, allow_nan=False)
        return {"$sealed": self.sealer(text.encode("utf-8"))}

    def _secret_text(self, value: str) -> bool:
        # a secret of a few characters would match half the plan: those only when whole
        return any(s == value or (len(s) >= MIN_EMBEDDED_SECRET and s in value) for s in self.secrets)

    def value(self, value: Any, sensitive: Sensitive = _never, path: tuple[Any, ...] = ()) -> Any:
        if path and sensitive(path) and value is not None and value is not UNKNOWN:
            return self.seal(value)
        if value is UNKNOWN:
            return {"$unknown": True}
        if isinstance(value, str):
            return self.seal(value) if self._secret_text(value) else value
        if value is None or isinstance(value, (bool, int, float)):
            return value
        if isinstance(value, Decimal):
            return {"$decimal": str(value)}
        if isinstance(value, InstanceAddress):
            return {"$address": str(value)}
        if isinstance(value, Node):  # compact: a plan may hold a million dependencies
            return {"$node": [str(value.address), value.phase]}
        if isinstance(value, enum.Enum):
            name = type(value).__name__
            if ENUMS.get(name) is not type(value):
                raise TypeError(f"a saved plan cannot hold the enum {name}")
            return {"$enum": name, "value": value.value}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return self.record(value)
        if isinstance(value, tuple):
            return {"$tuple": [self.value(v, sensitive, path + (i,)) for i, v in enumerate(value)]}
        if isinstance(value, frozenset):
            return {"$frozenset": [self.value(v) for v in sorted(value, key=repr)]}
        if isinstance(value, list):
            return [self.value(v, sensitive, path + (i,)) for i, v in enumerate(value)]
        if isinstance(value, dict):
            if all(isinstance(k, str) and not k.startswith("$") for k in value):
                return {k: self.value(v, sensitive, path + (k,)) for k, v in value.items()}
            return {
                "$dict": [[self.value(k), self.value(v, sensitive, path + (k,))] for k, v in value.items()]
            }
        raise TypeError(f"a saved plan cannot hold a {type(value).__name__}")

    def record(self, value: Any, special: dict[str, Callable[[Any], Any]] | None = None) -> dict[str, Any]:
        name = type(value).__name__
        if RECORDS.get(name) is not type(value):
            raise TypeError(f"a saved plan cannot hold the record {name}")
        special = special or {}
        fields = {}
        for f in dataclasses.fields(RECORDS[name]):
            v = getattr(value, f.name)
            fields[f.name] = special[f.name](v) if f.name in special else self.value(v)
        return {"$record": name, "fields": fields}


class Decoder:
    def __init__(self, opener: Callable[[], Opener], source: str):
        self._opener = opener  # fetched on the first sealed value only
        self.source = source

    def fail(self, problem: str) -> DiagnosticsError:
        return DiagnosticsError(
            error(
                "plan_file",
                f"{self.source} is not a valid saved plan",
                problem + " The file was altered or written by another program; run plan "
                "again to save a fresh plan.",
            )
        )

    def value(self, doc: Any) -> Any:
        if doc is None or isinstance(doc, (bool, int, float, str)):
            return doc
        if isinstance(doc, list):
            return [self.value(v) for v in doc]
        if not isinstance(doc, dict):
            raise self.fail(f"unexpected {type(doc).__name__}")
        tags = [k for k in doc if k.startswith("$")]
        if not tags:
            return {k: self.value(v) for k, v in doc.items()}
        tag = tags[0]
        if tag == "$unknown":
            return UNKNOWN
        if tag == "$tuple" and isinstance(doc[tag], list):
            return tuple(self.value(v) for v in doc[tag])
        if tag == "$decimal" and isinstance(doc[tag], str):
            try:
                return Decimal(doc[tag])
            except ArithmeticError:
                raise self.fail(f"{doc[tag]!r} is not a number") from None
        if tag == "$frozenset" and isinstance(doc[tag], list):
            try:
                return frozenset(self.value(v) for v in doc[tag])
            except TypeError:
                raise self.fail("a $frozenset holds a value that cannot be in a set") from None
        if tag == "$dict" and isinstance(doc[tag], list):
            try:
                return {self.value(k): self.value(v) for k, v in doc[tag]}
            except (TypeError, ValueError):
                raise self.fail("a $dict entry is not a [key, value] pair") from None
        if tag == "$address" and isinstance(doc[tag], str):
            try:
                return parse_address(doc[tag])
            except AddressError as exc:
                raise self.fail(str(exc)) from None
        if tag == "$node" and isinstance(doc[tag], list) and len(doc[tag]) == 2:
            text, phase = doc[tag]
            if not isinstance(text, str) or not isinstance(phase, str):
                raise self.fail("a $node is not [address, phase]")
            try:
                return Node(parse_address(text), phase)
            except AddressError as exc:
                raise self.fail(str(exc)) from None
        if tag == "$enum":
            enum_type = ENUMS.get(doc["$enum"])
            try:
                return enum_type(doc.get("value"))  # type: ignore[misc]
            except (TypeError, ValueError):
                raise self.fail(f"unknown enum value {doc.get('value')!r} of {doc['$enum']!r}") from None
        if tag == "$record":
            return self.record(doc)
        if tag == "$sealed" and isinstance(doc[tag], str):
            text = self._opener()(doc[tag])
            try:
                return self.value(json.loads(text.decode("utf-8")))
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise self.fail("a sealed value does not hold JSON") from None
        raise self.fail(f"unknown tag {tag!r}")

    def record(self, doc: dict[str, Any], expected: type | None = None) -> Any:
        cls = RECORDS.get(str(doc.get("$record")))
        fields = doc.get("fields")
        if cls is None or not isinstance(fields, dict) or (expected is not None and cls is not expected):
            raise self.fail(f"unexpected record {doc.get('$record')!r}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(fields) - known
        if unknown:
            raise self.fail(f"{cls.__name__} has no field(s) {', '.join(sorted(unknown))}")
        try:
            return cls(**{k: self.value(v) for k, v in fields.items()})
        except TypeError as exc:
            raise self.fail(f"{cls.__name__}: {exc}") from None


def path_predicate(paths: Iterable[Iterable[Any]]) -> Sensitive:
    """True for a path at or under any of ``paths``."""
    wanted = {tuple(p) for p in paths}

    def check(path: tuple[Any, ...]) -> bool:
        return any(path[:n] in wanted for n in range(1, len(path) + 1))

    return check
