"""Checks an evaluated resource body against its schema, generically.

Everything here reads the schema records of ``providers.schema``; nothing branches
on a type name. A body is a dict of attribute values and nested blocks (a dict for
SINGLE nesting, a list of dicts for LIST and SET); ``UNKNOWN`` may stand anywhere
and the checks skip what isn't known yet.

Public functions:
- ``check_block`` - diagnostics for one body (stable codes, see ``Code``)
- ``coerce`` / ``coerce_block`` - Terraform's silent conversions ("true" -> true, "5" -> 5)
- ``normalize_block`` - case-insensitive enum values in the catalog's spelling
- ``apply_defaults`` - fill defaults of unset optional attributes
- ``sensitive_paths`` / ``sensitive_value_paths`` - where secrets live
"""

from __future__ import annotations

import contextlib
import difflib
import enum
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from providers.schema import Attribute, BlockSchema, Kind, NestedBlock, Nesting, Type
from reconciler.diagnostics import Diagnostic, SourceRange, error, warning
from reconciler.values import UNKNOWN, type_name

Path = tuple
Where = Callable[[Path], "SourceRange | None"]
ANY_INDEX = "*"  # stands for every index of a LIST/SET block in ``sensitive_paths``


class Code(enum.StrEnum):
    UNSUPPORTED_ARGUMENT = "unsupported_argument"
    UNSUPPORTED_BLOCK = "unsupported_block"
    MISSING_ARGUMENT = "missing_argument"
    TOO_MANY_BLOCKS = "too_many_blocks"
    WRONG_TYPE = "wrong_type"
    INVALID_VALUE = "invalid_value"
    CONFLICTING_ARGUMENTS = "conflicting_arguments"
    COMPUTED_ARGUMENT = "computed_argument"
    UNRECONCILED_ARGUMENT = "unreconciled_argument"
    DEPRECATED_ARGUMENT = "deprecated_argument"


# --------------------------------------------------------------------------- coercion


class CoercionError(ValueError):
    """A value that can't be converted to the wanted type; ``path`` is relative to the value."""

    def __init__(self, expected: str, got: str, *, shown: str = "", path: Path = ()):
        self.expected, self.got, self.shown, self.path = expected, got, shown, path
        super().__init__(self.message)

    @property
    def message(self) -> str:
        got = _with_article(self.got) + (f" ({self.shown})" if self.shown else "")
        return f"{_with_article(self.expected)} is required, got {got}"


def _with_article(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def _type_phrase(t: Type) -> str:
    if t.kind is Kind.ANY:
        return "value"
    if t.element is None:
        return t.kind.value
    return f"{t.kind.value} of {_type_phrase(t.element)}"


_NUMBER_TEXT = re.compile(r"-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else '"' + value + '"'
    return text if len(text) <= 40 else text[:37] + "..."


def coerce(t: Type, value: Any) -> Any:
    """``value`` converted to ``t`` the way Terraform converts silently, or ``CoercionError``.

    null and UNKNOWN pass through (also inside collections). Strings become numbers
    ("5" -> 5) and bools ("true"/"1", "false"/"0"); numbers and bools become strings.
    """
    if value is None or value is UNKNOWN or t.kind is Kind.ANY:
        return value
    kind = t.kind
    if kind is Kind.STRING:
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(int(value)) if float(value).is_integer() else repr(float(value))
        raise CoercionError("string", type_name(value))
    if kind is Kind.NUMBER:
        if isinstance(value, bool):
            raise CoercionError("number", "bool")
        if isinstance(value, (int, float)):
            return value
        if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value):
            if re.fullmatch(r"-?\d+", value):
                return int(value)
            number = float(value)
            return int(number) if number.is_integer() and abs(number) < 2**53 else number
        raise CoercionError("number", type_name(value), shown=_short(value) if isinstance(value, str) else "")
    if kind is Kind.BOOL:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value in ("true", "1", "false", "0"):
            return value in ("true", "1")
        raise CoercionError(
            "bool", type_name(value), shown=_short(value) if isinstance(value, (str, int, float)) else ""
        )
    element = t.element or Type(Kind.ANY)
    if kind in (Kind.LIST, Kind.SET):
        if not isinstance(value, (list, tuple)):
            raise CoercionError(_type_phrase(t), type_name(value))
        out = []
        for i, item in enumerate(value):
            try:
                out.append(coerce(element, item))
            except CoercionError as exc:
                raise CoercionError(exc.expected, exc.got, shown=exc.shown, path=(i,) + exc.path) from None
        return _dedupe(out) if kind is Kind.SET else out
    if kind is Kind.MAP:
        if not isinstance(value, dict):
            raise CoercionError(_type_phrase(t), type_name(value))
        result = {}
        for key, item in value.items():
            try:
                result[key] = coerce(element, item)
            except CoercionError as exc:
                raise CoercionError(exc.expected, exc.got, shown=exc.shown, path=(key,) + exc.path) from None
        return result
    return value


def _dedupe(items: list) -> list:
    out: list = []
    for item in items:
        if item is UNKNOWN or not any(item is not UNKNOWN and item == seen for seen in out):
            out.append(item)
    return out


# --------------------------------------------------------------------------- helpers


def _is_set(body: dict, name: str) -> bool:
    return name in body and body[name] is not None


def _computed_only(attr: Attribute) -> bool:
    return attr.computed and not attr.optional and not attr.required


def _computed_only_block(nb: NestedBlock) -> bool:
    """A block only the provider fills (e.g. a data source's output list)."""
    return (
        nb.computed
        and all(_computed_only(a) for a in nb.block.attributes)
        and all(_computed_only_block(b) for b in nb.block.blocks)
    )


def _settable_names(schema: BlockSchema) -> list[str]:
    """What a configuration may write in this block (for hints)."""
    return [a.name for a in schema.attributes if not _computed_only(a)] + [
        b.name for b in schema.blocks if not _computed_only_block(b)
    ]


def _block_items(raw: Any) -> list | None:
    """The block instances of a nested-block value, or None when the shape is wrong."""
    if raw is None:
        return []
    if isinstance(raw, dict):
        return [raw]
    if isinstance(raw, (list, tuple)):
        return list(raw)
    return None


def _display(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _suggest(name: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    if close:
        return f' Did you mean "{close[0]}"?'
    if candidates:
        return " Valid names here: " + ", ".join(f'"{c}"' for c in sorted(candidates)) + "."
    return " Nothing may be set here."


def _leaves(t: Type, value: Any, path: Path) -> Iterator[tuple[Path, Any]]:
    """The scalar values inside a coerced value, with their paths; unknowns are skipped."""
    if value is UNKNOWN or value is None:
        return
    if t.kind in (Kind.LIST, Kind.SET) and isinstance(value, list):
        for i, item in enumerate(value):
            yield from _leaves(t.element or Type(Kind.ANY), item, path + (i,))
    elif t.kind is Kind.MAP and isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(t.element or Type(Kind.ANY), item, path + (key,))
    elif t.kind is not Kind.ANY:
        yield path, value


def _enum_match(attr: Attribute, value: Any) -> Any:
    """The catalog spelling matching ``value`` case-insensitively, or None."""
    if isinstance(value, str):
        for allowed in attr.enum or ():
            if isinstance(allowed, str) and allowed.lower() == value.lower():
                return allowed
    return None


# --------------------------------------------------------------------------- checking


@dataclass
class _Checker:
    where: Where
    address: str | None
    admits: Callable[[str], bool]  # whether the configured provider versions reach this one
    diags: list[Diagnostic] = field(default_factory=list)

    def _range(self, path: Path) -> SourceRange | None:
        for cut in range(len(path), -1, -1):
            found = self.where(path[:cut])
            if found is not None:
                return found
        return None

    def error(self, code: Code, summary: str, detail: str, path: Path) -> None:
        self.diags.append(error(code.value, summary, detail, address=self.address, range=self._range(path)))

    def warn(self, code: Code, summary: str, detail: str, path: Path) -> None:
        self.diags.append(warning(code.value, summary, detail, address=self.address, range=self._range(path)))

    # -- a block body

    def block(self, schema: BlockSchema, body: Any, path: Path) -> None:
        if body is UNKNOWN:
            return
        if body is None:
            body = {}
        if not isinstance(body, dict):
            self.error(
                Code.WRONG_TYPE,
                "Incorrect block value type",
                f"{_display(path) or 'The body'} must be a block (an object), got "
                f"{_with_article(type_name(body))}.",
                path,
            )
            return
        for key, raw in body.items():
            if key in schema.attribute_map or key in schema.block_map:
                continue
            names = _settable_names(schema)
            # blocks the schema doesn't know reach here as a list of bodies; a lone object is an
            # argument's value (`tag = { env = "dev" }`), as terraform calls it
            looks_like_block = (
                isinstance(raw, (list, tuple)) and bool(raw) and all(isinstance(i, dict) for i in raw)
            )
            where = path + (key,)
            if looks_like_block:
                self.error(
                    Code.UNSUPPORTED_BLOCK,
                    "Unsupported block type",
                    f'Blocks of type "{key}" are not expected here.' + _suggest(key, names),
                    where,
                )
            else:
                self.error(
                    Code.UNSUPPORTED_ARGUMENT,
                    "Unsupported argument",
                    f'An argument named "{key}" is not expected here.' + _suggest(key, names),
                    where,
                )
        for attr in schema.attributes:
            self.attribute(attr, body, path)
        for nested in schema.blocks:
            self.nested(nested, body.get(nested.name), path + (nested.name,))
        self.constraints(schema, body, path)

    # -- one attribute

    def attribute(self, attr: Attribute, body: dict, path: Path) -> None:
        here = path + (attr.name,)
        if not _is_set(body, attr.name):
            if attr.required:
                shown = _display(here)
                why = f" ({attr.description})" if attr.description else ""
                self.error(
                    Code.MISSING_ARGUMENT,
                    "Missing required argument",
                    f'The argument "{shown}" is required, but no definition was found{why}.',
                    here,
                )
            return
        shown = _display(here)
        if _computed_only(attr):
            self.error(
                Code.COMPUTED_ARGUMENT,
                "Value for unconfigurable attribute",
                f'Can\'t configure a value for "{shown}": its value is decided by the provider. '
                f"Remove it and read it from the object once it exists.",
                here,
            )
            return
        if attr.deprecated and (not attr.deprecated_since or self.admits(attr.deprecated_since)):
            self.warn(Code.DEPRECATED_ARGUMENT, f'Deprecated argument "{attr.name}"', attr.deprecated, here)
        if not attr.reconciled:
            self.warn(
                Code.UNRECONCILED_ARGUMENT,
                f'Argument "{attr.name}" is not reconciled',
                f'"{shown}" is an azurerm argument that vaultform accepts but does not manage: '
                f"its value is neither applied nor compared with Azure.",
                here,
            )
        raw = body[attr.name]
        if raw is UNKNOWN:
            return
        try:
            value = coerce(attr.type, raw)
        except CoercionError as exc:
            at = here + exc.path
            if attr.sensitive:
                exc.shown = ""
            self.error(
                Code.WRONG_TYPE,
                "Incorrect attribute value type",
                f'Inappropriate value for attribute "{_display(at)}": {exc.message}.'
                + _type_advice(exc, attr),
                at,
            )
            return
        self.values(attr, value, here)

    def values(self, attr: Attribute, value: Any, here: Path) -> None:
        is_collection = attr.type.kind in (Kind.LIST, Kind.SET, Kind.MAP)
        if is_collection or isinstance(value, str):
            size = len(value) if isinstance(value, (str, list, dict)) else None
            unit = "characters" if isinstance(value, str) else "elements"
            if size is not None and attr.min_length is not None and size < attr.min_length:
                self.invalid(
                    attr, here, f'"{_display(here)}" must have at least {attr.min_length} {unit}, got {size}.'
                )
            if size is not None and attr.max_length is not None and size > attr.max_length:
                self.invalid(
                    attr, here, f'"{_display(here)}" must have at most {attr.max_length} {unit}, got {size}.'
                )
        for at, leaf in _leaves(attr.type, value, here):
            self.leaf(attr, leaf, at)

    def leaf(self, attr: Attribute, leaf: Any, at: Path) -> None:
        shown = "(sensitive value)" if attr.sensitive else _short(leaf)
        if attr.enum is not None and leaf not in attr.enum:
            match = _enum_match(attr, leaf)
            if match is not None and attr.case_insensitive:
                return
            allowed = ", ".join(_short(v) for v in attr.enum)
            if match is not None:
                hint = f' Did you mean "{match}"? The value is case-sensitive.'
            else:
                close = (
                    difflib.get_close_matches(
                        leaf, [v for v in attr.enum if isinstance(v, str)], n=1, cutoff=0.6
                    )
                    if isinstance(leaf, str)
                    else []
                )
                hint = f' Did you mean "{close[0]}"?' if close else ""
            self.invalid(
                attr, at, f'{shown} is not an allowed value for "{_display(at)}".{hint} Allowed: {allowed}.'
            )
            return
        if attr.pattern and isinstance(leaf, str) and not re.fullmatch(attr.pattern, leaf):
            self.invalid(
                attr,
                at,
                f'{shown} is not a valid value for "{_display(at)}": expected '
                f"{attr.pattern_hint or attr.pattern}.",
            )
        if isinstance(leaf, (int, float)) and not isinstance(leaf, bool):
            low, high = attr.min_value, attr.max_value
            if (low is not None and leaf < low) or (high is not None and leaf > high):
                self.invalid(
                    attr,
                    at,
                    f'{shown} is out of range for "{_display(at)}": expected {_range_text(low, high)}.',
                )

    def invalid(self, attr: Attribute, at: Path, detail: str) -> None:
        self.error(Code.INVALID_VALUE, f'Invalid value for "{attr.name}"', detail, at)

    # -- nested blocks

    def nested(self, nb: NestedBlock, raw: Any, here: Path) -> None:
        if raw is UNKNOWN:
            return
        items = _block_items(raw)
        shown = _display(here)
        if items is None:
            self.error(
                Code.WRONG_TYPE,
                "Incorrect block value type",
                f'"{shown}" must be given as a block, got {_with_article(type_name(raw))}.',
                here,
            )
            return
        if items and _computed_only_block(nb):
            self.error(
                Code.COMPUTED_ARGUMENT,
                "Value for unconfigurable block",
                f'Can\'t configure "{shown}": the provider fills it in. Remove the block.',
                here,
            )
            return
        if items and not nb.reconciled:
            self.warn(
                Code.UNRECONCILED_ARGUMENT,
                f'Block "{nb.name}" is not reconciled',
                f'"{shown}" is an azurerm block that vaultform accepts but does not manage: '
                f"its content is neither applied nor compared with Azure.",
                here,
            )
        known = not any(item is UNKNOWN for item in items)
        if known and len(items) < nb.min_items:
            self.error(
                Code.MISSING_ARGUMENT,
                f'Insufficient "{nb.name}" blocks',
                f'At least {nb.min_items} "{shown}" block{"s" if nb.min_items > 1 else ""} '
                f"required{': ' + nb.description if nb.description else '.'}",
                here,
            )
        limit = 1 if nb.nesting is Nesting.SINGLE else nb.max_items
        if limit is not None and len(items) > limit:
            self.error(
                Code.TOO_MANY_BLOCKS,
                f'Too many "{nb.name}" blocks',
                f'No more than {limit} "{shown}" block{"s" if limit > 1 else ""} allowed; '
                f"found {len(items)}. Merge or remove the extra ones.",
                here + (limit,),
            )
        for i, item in enumerate(items):
            sub = here if nb.nesting is Nesting.SINGLE else here + (i,)
            self.block(nb.block, item, sub)

    # -- cross-argument constraints

    def constraints(self, schema: BlockSchema, body: dict, path: Path) -> None:
        seen: set[frozenset] = set()
        for attr in schema.attributes:
            for other in attr.conflicts_with:
                pair = frozenset((attr.name, other))
                if pair in seen:
                    continue
                seen.add(pair)
                self.conflict((attr.name, other), body, path, at_most=1)
        for group in schema.exactly_one_of:
            self.conflict(group, body, path, at_most=1, at_least=1)
        for group in schema.at_least_one_of:
            self.conflict(group, body, path, at_least=1)
        for name, others in schema.required_with:
            if not _is_set(body, name) or _has_empty_block(schema, body, name):
                continue
            for other in others:
                if not _is_set(body, other) or _has_empty_block(schema, body, other):
                    self.error(
                        Code.MISSING_ARGUMENT,
                        "Missing required argument",
                        f'"{_display(path + (other,))}" is required when '
                        f'"{_display(path + (name,))}" is set.',
                        path + (name,),
                    )

    def conflict(
        self,
        group: tuple[str, ...],
        body: dict,
        path: Path,
        *,
        at_most: int | None = None,
        at_least: int | None = None,
    ) -> None:
        present = [n for n in group if _is_set(body, n) and not _has_empty_list(body, n)]
        if any(body.get(n) is UNKNOWN for n in present):
            return
        names = ", ".join(f'"{_display(path + (n,))}"' for n in group)
        if at_most is not None and len(present) > at_most:
            self.error(
                Code.CONFLICTING_ARGUMENTS,
                "Conflicting arguments",
                f"Only one of {names} may be set; keep one and remove the others.",
                path + (max(present, key=list(body).index),),
            )
        if at_least is not None and len(present) < at_least:
            exactly = at_most == 1
            self.error(
                Code.MISSING_ARGUMENT,
                "Missing required argument",
                f"{'Exactly' if exactly else 'At least'} one of {names} must be set.",
                path,
            )


def _has_empty_list(body: dict, name: str) -> bool:
    value = body.get(name)
    return isinstance(value, (list, tuple)) and len(value) == 0


def _has_empty_block(schema: BlockSchema, body: dict, name: str) -> bool:
    return name in schema.block_map and _has_empty_list(body, name)


def _type_advice(exc: CoercionError, attr: Attribute) -> str:
    """How to write a bool or a number instead of what was given: "without quotes" only for a
    string, and an example only from the attribute's own allowed values."""
    quoted = exc.got == "string"
    if exc.expected == "bool":
        return f" Use true or false{' without quotes' if quoted else ''}."
    if exc.expected != "number":
        return ""
    allowed = [v for v in attr.enum or () if isinstance(v, (int, float)) and not isinstance(v, bool)]
    example = f", e.g. {allowed[0]}" if allowed else ""
    if quoted:
        return f" Use a number without quotes{example}."
    return f" Use a number{example}." if example else ""


def _range_text(low: float | None, high: float | None) -> str:
    def fmt(x: float) -> str:
        return str(int(x)) if float(x).is_integer() else str(x)

    if low is not None and high is not None:
        return f"a number from {fmt(low)} to {fmt(high)}"
    if low is not None:
        return f"a number of at least {fmt(low)}"
    return f"a number of at most {fmt(high)}"  # type: ignore[arg-type]


def check_block(
    schema: BlockSchema,
    value: dict,
    *,
    where: Where,
    address: str | None = None,
    path: Path = (),
    admits: Callable[[str], bool] | None = None,
) -> list[Diagnostic]:
    """Every schema problem of one evaluated body, as diagnostics with source ranges.

    ``where(path)`` gives the source range of the attribute or block at ``path``
    (e.g. ``("encryption", 0, "key_id")``); when it has none the nearest parent's
    range is used.
    """
    checker = _Checker(where=where, address=address, admits=admits or (lambda _version: True))
    checker.block(schema, value, tuple(path))
    return checker.diags


# --------------------------------------------------------------------------- transforms


def _map_body(schema: BlockSchema, value: Any, on_attr: Callable[[Attribute, dict], None]) -> Any:
    """A copy of ``value`` with ``on_attr`` applied to each body, recursively into blocks."""
    if not isinstance(value, dict):
        return value
    body = dict(value)
    for attr in schema.attributes:
        on_attr(attr, body)
    for nb in schema.blocks:
        raw = body.get(nb.name)
        if isinstance(raw, dict):
            body[nb.name] = _map_body(nb.block, raw, on_attr)
        elif isinstance(raw, (list, tuple)):
            body[nb.name] = [_map_body(nb.block, item, on_attr) for item in raw]
    return body


def coerce_block(schema: BlockSchema, value: Any) -> Any:
    """``value`` with every attribute converted to its schema type where Terraform would.

    Values that can't be converted are left as they are (``check_block`` reports them).
    """

    def convert(attr: Attribute, body: dict) -> None:
        if attr.name in body:
            with contextlib.suppress(CoercionError):
                body[attr.name] = coerce(attr.type, body[attr.name])

    return _map_body(schema, value, convert)


def normalize_block(schema: BlockSchema, value: Any, *, all_enums: bool = False) -> Any:
    """``value`` with enum values written in the catalog's spelling.

    By default only ``case_insensitive`` attributes are touched (what a user may write
    in any case). ``all_enums=True`` also folds case-sensitive enums, for values read
    back from Azure, which doesn't always keep the case it was given.
    """

    def fold(attr: Attribute, body: dict) -> None:
        if attr.enum is None or not (attr.case_insensitive or all_enums) or attr.name not in body:
            return
        body[attr.name] = _fold_value(attr, body[attr.name])

    return _map_body(schema, value, fold)


def _fold_value(attr: Attribute, value: Any) -> Any:
    if isinstance(value, str):
        return _enum_match(attr, value) or value
    if isinstance(value, list):
        return [_fold_value(attr, v) for v in value]
    if isinstance(value, tuple):
        return tuple(_fold_value(attr, v) for v in value)
    if isinstance(value, dict):
        return {k: _fold_value(attr, v) for k, v in value.items()}
    return value


def apply_defaults(schema: BlockSchema, value: Any) -> Any:
    """``value`` with the default of every unset optional attribute filled in, recursively.

    Computed attributes without a default are left for the provider; absent blocks
    stay absent (defaults apply inside the blocks that are written).
    """

    def fill(attr: Attribute, body: dict) -> None:
        if attr.default is not None and not attr.required and body.get(attr.name) is None:
            body[attr.name] = attr.default

    return _map_body(schema, value, fill)


def sensitive_paths(schema: BlockSchema, prefix: Path = ()) -> set[Path]:
    """Schema paths of sensitive attributes; ``ANY_INDEX`` stands for each block index."""
    out: set[Path] = {prefix + (a.name,) for a in schema.attributes if a.sensitive}
    for nb in schema.blocks:
        step = (nb.name,) if nb.nesting is Nesting.SINGLE else (nb.name, ANY_INDEX)
        out |= sensitive_paths(nb.block, prefix + step)
    return out


def sensitive_value_paths(schema: BlockSchema, value: Any, prefix: Path = ()) -> set[Path]:
    """Concrete paths of sensitive attributes set in ``value``."""
    if not isinstance(value, dict):
        return set()
    out: set[Path] = {
        prefix + (a.name,) for a in schema.attributes if a.sensitive and value.get(a.name) is not None
    }
    for nb in schema.blocks:
        raw = value.get(nb.name)
        if isinstance(raw, dict):
            out |= sensitive_value_paths(nb.block, raw, prefix + (nb.name,))
        elif isinstance(raw, (list, tuple)):
            for i, item in enumerate(raw):
                out |= sensitive_value_paths(nb.block, item, prefix + (nb.name, i))
    return out
