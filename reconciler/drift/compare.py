"""Compare two values of one object attribute by attribute: the pure part of drift detection.

``differences(a, b)`` walks both values together and returns the leaves that differ,
each with a display path (``identity[0].type``, ``access_policy[<object id>].key_permissions``)
and a pattern path without selectors (``identity.type``) that the classification table
matches. A block element present on one side only is one difference, not one per
attribute. Lists of plain values are compared as sets (Azure returns permissions and
address ranges in any order and spelling case). ``kind_of`` says how a value moved.

What is particular to a provider's types comes from its ``DriftRules``
(``providers.drift_protocol``): repeated blocks matched by a key attribute instead of
position (``keyed_lists``), derived attributes never reported (``ignored``) and facts
outside the schema with the value they have when state recorded nothing (``implied``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from providers.drift_protocol import DriftRules
from reconciler.drift.model import ChangeKind
from reconciler.values import UNKNOWN

NO_KEYS: Mapping[tuple[str, str], str] = MappingProxyType({})

_SELECTOR = re.compile(r"\[[^\]]*\]")


@dataclass(frozen=True)
class Difference:
    path: str  # display path, with selectors
    recorded: Any
    actual: Any

    @property
    def pattern_path(self) -> str:
        return pattern_of(self.path)

    @property
    def top(self) -> str:
        return self.path.split(".")[0].split("[")[0]


def pattern_of(path: str) -> str:
    return _SELECTOR.sub("", path)


def is_empty(v: Any) -> bool:
    return v is None or v == "" or v == [] or v == {}


def _is_block_list(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def _scalar_set(v: list) -> frozenset:
    return frozenset(str(x).lower() if isinstance(x, str) else x for x in v)


def same(a: Any, b: Any) -> bool:
    """Equal as drift sees it: lists of plain values as sets, strings without case in sets."""
    if a is UNKNOWN or b is UNKNOWN:
        return True
    if is_empty(a) and is_empty(b):
        return True
    if isinstance(a, list) and isinstance(b, list) and not _is_block_list(a) and not _is_block_list(b):
        return _scalar_set(a) == _scalar_set(b)
    return a == b


def _elements(values: list, key: str | None) -> dict[str, dict]:
    if key is None:
        return {str(i): v for i, v in enumerate(values)}
    return {str(v.get(key) or i).lower(): v for i, v in enumerate(values)}


def differences(
    recorded: Any,
    actual: Any,
    path: str = "",
    *,
    type_name: str = "",
    keyed_lists: Mapping[tuple[str, str], str] = NO_KEYS,
) -> list[Difference]:
    if same(recorded, actual):
        return []
    if isinstance(recorded, dict) and isinstance(actual, dict):
        out: list[Difference] = []
        for name in sorted(set(recorded) | set(actual)):
            if name.startswith("_"):
                continue
            sub = f"{path}.{name}" if path else name
            out += differences(
                recorded.get(name), actual.get(name), sub, type_name=type_name, keyed_lists=keyed_lists
            )
        return out
    blocks = [v for v in (recorded, actual) if _is_block_list(v)]
    if blocks and all(_is_block_list(v) or is_empty(v) for v in (recorded, actual)):
        key = keyed_lists.get((type_name, pattern_of(path)))
        left, right = _elements(recorded or [], key), _elements(actual or [], key)
        out = []
        for k in sorted(set(left) | set(right), key=lambda s: (len(s), s)):
            sub = f"{path}[{k}]"
            if k in left and k in right:
                out += differences(left[k], right[k], sub, type_name=type_name, keyed_lists=keyed_lists)
            else:
                out.append(Difference(sub, left.get(k), right.get(k)))
        return out
    return [Difference(path, recorded, actual)]


def kind_of(recorded: Any, actual: Any) -> ChangeKind:
    if is_empty(recorded) and not is_empty(actual):
        return ChangeKind.ADDED
    if is_empty(actual) and not is_empty(recorded):
        return ChangeKind.REMOVED
    if isinstance(recorded, bool) and isinstance(actual, bool):
        return ChangeKind.ENABLED if actual else ChangeKind.DISABLED
    if isinstance(recorded, list) and isinstance(actual, list):
        before, after = _scalar_set(recorded), _scalar_set(actual)
        if before - after:
            return ChangeKind.NARROWED
        if after - before:
            return ChangeKind.BROADENED
    return ChangeKind.CHANGED


def lookup(
    value: Any, path: str, type_name: str = "", keyed_lists: Mapping[tuple[str, str], str] = NO_KEYS
) -> Any:
    """The value at a display path (as ``differences`` writes it); None when absent."""
    current = value
    walked = ""
    for part in re.findall(r"[^.\[\]]+|\[[^\]]*\]", path):
        if current is None or current is UNKNOWN:
            return current
        if part.startswith("["):
            sel = part[1:-1]
            if not isinstance(current, list):
                return None
            key = keyed_lists.get((type_name, pattern_of(walked)))
            current = _elements(current, key).get(sel.lower() if key else sel)
            walked += part
        else:
            current = current.get(part) if isinstance(current, dict) else None
            walked = f"{walked}.{part}" if walked else part
    return current


def object_view(type_name: str, attributes: dict | None, rules: DriftRules) -> dict | None:
    """The attributes drift compares: derived ones left out, implied facts filled in."""
    if attributes is None:
        return None
    ignored = rules.ignored.get(type_name, frozenset())
    out = {k: v for k, v in attributes.items() if k not in ignored and not k.startswith("_")}
    for (t, name), implied in rules.implied.items():
        if t == type_name and out.get(name) is None:
            out[name] = implied
    return out
