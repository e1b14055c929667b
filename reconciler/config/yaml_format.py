"""YAML as terraform's yamlencode and yamldecode read and write it (``functions_data`` calls
these; its docstring says how). Kept apart so PyYAML is loaded only when a configuration calls
one of them, not at every command's start-up.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml  # type: ignore[import-untyped]  # PyYAML ships no type hints

from reconciler.config.functions_spec import FunctionError
from reconciler.config.types import ConversionError, normalize_number
from reconciler.value_text import number_text

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

# --------------------------------------------------------------------------- yamlencode


def _events(value: Any, out: list) -> None:
    if value is None:
        out.append(yaml.ScalarEvent(None, None, (True, True), "null", style=None))
    elif isinstance(value, bool):
        out.append(yaml.ScalarEvent(None, None, (True, True), "true" if value else "false", style=None))
    elif isinstance(value, (int, float, Decimal)):
        out.append(yaml.ScalarEvent(None, None, (True, True), number_text(value), style=None))
    elif isinstance(value, str):
        style = "|" if "\n" in value else '"'
        out.append(yaml.ScalarEvent(None, None, (True, True), value, style=style))
    elif isinstance(value, (list, tuple)):
        out.append(yaml.SequenceStartEvent(None, None, True, flow_style=False))
        for item in value:
            _events(item, out)
        out.append(yaml.SequenceEndEvent())
    elif isinstance(value, dict):
        out.append(yaml.MappingStartEvent(None, None, True, flow_style=False))
        for key in sorted(value, key=str):
            _events(str(key), out)
            _events(value[key], out)
        out.append(yaml.MappingEndEvent())
    else:
        raise FunctionError(f"can't marshal {type(value).__name__} as YAML", 0)


def encode(value: Any) -> str:
    """yamlencode's text of ``value``."""
    events: list = [yaml.StreamStartEvent(encoding="utf-8"), yaml.DocumentStartEvent(explicit=False)]
    _events(value, events)
    events += [yaml.DocumentEndEvent(explicit=False), yaml.StreamEndEvent()]
    emitted = yaml.emit(events, Dumper=_DUMPER, allow_unicode=True)
    text = emitted.decode("utf-8") if isinstance(emitted, bytes) else emitted
    # The document end marker: go-cty-yaml's emitter (go-yaml v2's) writes "..." after a plain
    # scalar at the root and nowhere else; libyaml 0.2.5 writes it after a "|+" block instead.
    if text.endswith("\n...\n"):
        text = text[:-4]
    if value is None or isinstance(value, (bool, int, float, Decimal)):
        text += "...\n"
    return text


# --------------------------------------------------------------------------- yamldecode

_STR_TAG = "tag:yaml.org,2002:str"
_BINARY_TAG = "tag:yaml.org,2002:binary"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_NULL_TAG = "tag:yaml.org,2002:null"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_RESOLVABLE = {"", _STR_TAG, _BOOL_TAG, _INT_TAG, _FLOAT_TAG, _NULL_TAG, _TIMESTAMP_TAG, _BINARY_TAG}

_WORDS: dict[str, Any] = {}
for _words, _value in (
    ("y Y yes Yes YES true True TRUE on On ON", True),
    ("n N no No NO false False FALSE off Off OFF", False),
    ("~ null Null NULL", None),
):
    for _w in _words.split():
        _WORDS[_w] = _value
_WORDS[""] = None
_INFINITIES = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF"}
_INTEGER = re.compile(r"\A(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)\Z")
_FLOAT = re.compile(r"\A[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_TIMESTAMP = re.compile(
    r"\A(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[Tt ](\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,9}))?"
    r"(?:(Z)|([-+]\d{2}):?(\d{2}))?)?\Z"
)


class _YamlError(Exception):
    pass


def _at(event, message: str) -> _YamlError:
    # go-cty-yaml's positions (error.go): the event's 0-based line as it is, the column from 1,
    # and no position at all on the first line
    mark = event.start_mark
    if mark is None or mark.line == 0:
        return _YamlError(message)
    return _YamlError(f"on line {mark.line}, column {mark.column + 1}: {message}")


def _syntax_error(exc: yaml.MarkedYAMLError) -> str:
    problem = exc.problem or exc.context or "invalid YAML syntax"
    mark, context = exc.problem_mark, exc.context_mark
    if mark is not None and mark.line != 0:
        if isinstance(exc, yaml.scanner.ScannerError):
            return f"on line {mark.line + 1}, column 1: {problem}"
        return f"on line {mark.line}, column {mark.column + 1}: {problem}"
    if context is not None and context.line != 0:
        return f"on line {context.line}, column {context.column + 1}: {problem}"
    return problem


def _timestamp(src: str) -> str | None:
    m = _TIMESTAMP.match(src)
    if not m:
        return None
    year, month, day, hour, minute, second, _frac, zulu, off_h, off_m = m.groups()
    try:
        if hour is None:
            return datetime(int(year), int(month), int(day), tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        t = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError:
        return None
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    if zulu or off_h is None or (int(off_h) == 0 and int(off_m) == 0):
        return text + "Z"  # no zone is UTC, and Go writes a zero offset as Z
    return f"{text}{off_h}:{off_m}"


def _number(text: str):
    plain = text.replace("_", "")
    try:
        d = Decimal(plain)
    except InvalidOperation:
        try:
            return int(plain, 0)
        except ValueError:
            return None
    if not d.is_finite():
        return None
    if d == d.to_integral_value():
        return int(d)
    try:
        return normalize_number(float(d))
    except ConversionError:
        return None


def _scalar(event) -> Any:
    tag = event.tag or ""
    if tag == "!":
        tag = _STR_TAG if event.style else ""
    src = event.value
    if tag not in _RESOLVABLE:
        raise _at(event, f'unsupported tag "{tag}"')
    quoted = event.style in ("'", '"')
    block = event.style in ("|", ">")
    if tag not in (_STR_TAG, _BINARY_TAG) and not block:
        if quoted:
            return src
        if src in _WORDS:
            return _WORDS[src]
        if src in _INFINITIES:
            raise _at(event, "floating point infinity is not supported")
        if tag == "" and src in (".nan", ".NaN", ".NAN"):
            raise _at(event, "floating point NaN is not supported")
        head = src[:1]
        if head == "." or head.isdigit() or head in "+-":
            if tag in ("", _TIMESTAMP_TAG) and (head.isdigit()):
                stamp = _timestamp(src)
                if stamp is not None:
                    return stamp
            if _INTEGER.match(src) or _FLOAT.match(src):
                tag = tag or _FLOAT_TAG
    if tag in (_STR_TAG, _BINARY_TAG, "") or (block and tag == ""):
        return src
    if tag == _BOOL_TAG:
        if src in _WORDS and isinstance(_WORDS[src], bool):
            return _WORDS[src]
    elif tag in (_INT_TAG, _FLOAT_TAG):
        number = _number(src)
        if number is not None:
            return number
    elif tag == _TIMESTAMP_TAG:
        stamp = _timestamp(src)
        if stamp is not None:
            return stamp
    elif tag == _NULL_TAG:
        return None
    raise _at(event, f'cannot parse "{src}" as {tag}')


class _Reader:
    def __init__(self, text: str):
        self.events = iter(yaml.parse(text, Loader=_LOADER))
        self.anchors: dict[str, Any] = {}
        self.pending: set[str] = set()

    def next(self):
        return next(self.events)

    def value(self, event) -> Any:
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self.pending:
                raise _at(event, f'cannot refer to anchor "{event.anchor}" from inside its own definition')
            if event.anchor not in self.anchors:
                raise _at(event, f'reference to undefined anchor "{event.anchor}"')
            return self.anchors[event.anchor]
        anchor = getattr(event, "anchor", None)
        if anchor:
            self.pending.add(anchor)
        if isinstance(event, yaml.ScalarEvent):
            result = _scalar(event)
        elif isinstance(event, yaml.SequenceStartEvent):
            result = self.sequence(event)
        elif isinstance(event, yaml.MappingStartEvent):
            result = self.mapping(event)
        elif isinstance(event, yaml.StreamEndEvent):
            raise _at(event, "expecting value but found end of stream")
        else:
            raise _at(event, "unexpected parser event")
        if anchor:
            self.pending.discard(anchor)
            self.anchors[anchor] = result
        return result

    def sequence(self, start) -> list:
        if start.tag not in (None, "!", "tag:yaml.org,2002:seq"):
            raise _at(start, f"can't interpret sequence as {start.tag}")
        items: list[Any] = []
        while True:
            event = self.next()
            if isinstance(event, yaml.SequenceEndEvent):
                return items
            items.append(self.value(event))

    def mapping(self, start) -> dict:
        if start.tag not in (None, "!", "tag:yaml.org,2002:map"):
            raise _at(start, f"can't interpret mapping as {start.tag}")
        result: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        while True:
            key_event = self.next()
            if isinstance(key_event, yaml.MappingEndEvent):
                return {**merged, **result}
            value_event = self.next()
            if isinstance(key_event, yaml.ScalarEvent) and (
                (key_event.tag is None and key_event.value == "<<" and not key_event.style)
                or key_event.tag == _MERGE_TAG
            ):
                merge = self.value(value_event)
                sources = merge if isinstance(merge, list) else [merge]
                for source in sources:
                    if not isinstance(source, dict):
                        raise _at(value_event, "cannot merge a non-mapping into mapping")
                    merged.update({k: v for k, v in source.items() if k not in merged})
                continue
            if not isinstance(key_event, yaml.ScalarEvent):
                raise _at(key_event, "only strings are allowed as mapping keys")
            key = self.value(key_event)
            if key is None:
                raise _at(key_event, "mapping key cannot be null")
            if isinstance(key, bool):
                key = "true" if key else "false"
            elif not isinstance(key, str):
                key = number_text(key)
            result[key] = self.value(value_event)


def decode(src: str) -> Any:
    """yamldecode's value of ``src``."""
    reader = _Reader(src or "\n")
    try:
        reader.next()  # the stream's start
        start = reader.next()
        if not isinstance(start, yaml.DocumentStartEvent):
            raise _at(start, "missing start of document")
        value = reader.value(reader.next())
        end = reader.next()
        if isinstance(end, yaml.DocumentStartEvent):
            raise _at(end, "only a single document is allowed")
        if not isinstance(end, yaml.DocumentEndEvent):
            raise _at(end, "unexpected extra content after value")
        after = reader.next()
        if not isinstance(after, yaml.StreamEndEvent):
            raise _at(after, "unexpected extra content after value")
    except _YamlError as exc:
        raise FunctionError(str(exc), 0) from None
    except yaml.MarkedYAMLError as exc:
        raise FunctionError(_syntax_error(exc), 0) from None
    except yaml.YAMLError as exc:
        raise FunctionError(str(exc), 0) from None
    return value
