"""Reading planned values and the references written in configuration.

Rules judge objects whose ids may not exist before apply, so every match is made
either by a known value or by a reference as written
(``azurerm_recovery_services_vault.vault.identity[0].principal_id``). This module
holds the two small tools for that: safe lookups into planned attribute dicts that
may hold ``UNKNOWN`` anywhere, and a parser that turns a reference string into the
instance it points at and the attribute path it reads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from reconciler.values import UNKNOWN

# --------------------------------------------------------------------------- values

Path = tuple[str | int, ...]


def lookup(obj: Any, path: Path) -> Any:
    """The value at ``path`` inside nested dicts/lists; ``None`` when absent, ``UNKNOWN`` when unknown.

    A single nested block may be stored as a dict or as a one-element list; an
    integer step on a dict, or a string step on a list of one dict, is forgiven.
    """
    cur = obj
    for step in path:
        if cur is UNKNOWN:
            return UNKNOWN
        if cur is None:
            return None
        if isinstance(step, int):
            if isinstance(cur, dict):
                cur = cur if step == 0 else None
            elif isinstance(cur, (list, tuple)):
                cur = cur[step] if -len(cur) <= step < len(cur) else None
            else:
                return None
        else:
            if isinstance(cur, (list, tuple)):
                cur = cur[0] if len(cur) == 1 else None
                if cur is UNKNOWN:
                    return UNKNOWN
            cur = cur.get(step) if isinstance(cur, dict) else None
    return cur


def known(value: Any) -> bool:
    """True when ``value`` is present and not unknown (a shallow check)."""
    return value is not None and value is not UNKNOWN


def known_str(value: Any) -> str | None:
    """A non-empty known string, else None."""
    return value if isinstance(value, str) and value != "" else None


def block(obj: dict | None, name: str) -> dict | None | Any:
    """The first ``name`` block of ``obj`` as a dict, ``None`` when absent, ``UNKNOWN`` when unknown."""
    if obj is None:
        return None
    value = obj.get(name)
    if value is UNKNOWN:
        return UNKNOWN
    if isinstance(value, dict):
        return value
    if isinstance(value, (list, tuple)):
        if not value:
            return None
        first = value[0]
        return first if isinstance(first, dict) or first is UNKNOWN else None
    return None


def blocks(obj: dict | None, name: str) -> list:
    """Every ``name`` block of ``obj`` (dicts, or UNKNOWN entries); [] when absent or unknown."""
    if obj is None:
        return []
    value = obj.get(name)
    if isinstance(value, dict):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, dict) or v is UNKNOWN]
    return []


def same_text(a: Any, b: Any) -> bool | None:
    """Case-insensitive comparison of two strings: True/False when both known, None otherwise."""
    a, b = known_str(a), known_str(b)
    if a is None or b is None:
        return None
    return a.rstrip("/").lower() == b.rstrip("/").lower()


def normalize_location(value: Any) -> str | None:
    """ "West Europe" and "westeurope" are the same region."""
    text = known_str(value)
    return re.sub(r"\s+", "", text).lower() if text else None


# --------------------------------------------------------------------------- references


@dataclass(frozen=True)
class Reference:
    """A reference as written, split into what it points at and what it reads.

    ``resource`` is the resource address (``azurerm_key_vault_key.k``,
    ``data.azurerm_client_config.current``, ``module.m.azurerm_key_vault.kv``);
    ``key`` the literal instance key as written (``[0]``, ``["a"]``) or ``""`` when none,
    ``None`` when the index was an expression (``[count.index]``);
    ``attr`` the attribute path read (``("identity", 0, "principal_id")``).
    """

    resource: str
    key: str | None
    attr: Path
    type_name: str

    @property
    def instance(self) -> str:
        return self.resource + (self.key or "")

    def reads(self, *names: str) -> bool:
        """True when the path's string steps start with ``names`` (indexes ignored)."""
        steps = tuple(s for s in self.attr if isinstance(s, str))
        return steps[: len(names)] == names

    @property
    def path_cut(self) -> bool:
        """No attribute path: the text stopped at a computed key (``x.y[each.key].id`` is sent as
        ``x.y``), so what it reads is not known; rules may take it to read what they look for."""
        return not self.attr

    @property
    def last(self) -> str:
        steps = [s for s in self.attr if isinstance(s, str)]
        return steps[-1] if steps else ""


_TOKEN = re.compile(r'\s*(?:\.\s*)?(?:([A-Za-z_][\w-]*)|\[\s*("(?:[^"\\]|\\.)*"|\d+|[^\]]*)\s*\])')


def _tokens(text: str) -> list[tuple[str, str]]:
    """("name", x) and ("index", raw) tokens; stops at anything it can't read."""
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            break
        out.append(("name", m.group(1)) if m.group(1) is not None else ("index", m.group(2)))
        pos = m.end()
    return out


def _literal_index(raw: str) -> str | int | None:
    if raw.isdigit():
        return int(raw)
    if raw.startswith('"'):
        try:
            return json.loads(raw)
        except ValueError:
            return None
    return None


def _format_key(key: str | int) -> str:
    return f"[{key}]" if isinstance(key, int) else "[" + json.dumps(key) + "]"


def parse_reference(text: str, *, module_prefix: str = "") -> Reference | None:
    """Parse ``[data.]type.name[key].attr...``; None for var./local./each. and the like.

    ``module_prefix`` (``module.m.``) is put in front of the resource address, because a
    reference inside a module names resources of that module without the prefix; a
    reference that already starts with it is taken as it is.
    """
    if module_prefix and text.startswith(module_prefix):
        module_prefix = ""  # written with its module path already (as the planner sends it)
    toks = _tokens(text)
    i = 0
    prefix = module_prefix
    while i + 1 < len(toks) and toks[i] == ("name", "module") and toks[i + 1][0] == "name":
        prefix += f"module.{toks[i + 1][1]}"
        i += 2
        if i < len(toks) and toks[i][0] == "index":
            lit = _literal_index(toks[i][1])
            prefix += _format_key(lit) if lit is not None else f"[{toks[i][1]}]"
            i += 1
        prefix += "."
    data = ""
    if i < len(toks) and toks[i] == ("name", "data"):
        data, i = "data.", i + 1
    if i + 1 >= len(toks) or toks[i][0] != "name" or toks[i + 1][0] != "name":
        return None
    type_name, name = toks[i][1], toks[i + 1][1]
    if "_" not in type_name:  # var.x, local.y, each.value, count.index, path.module
        return None
    i += 2
    key: str | None = ""
    if i < len(toks) and toks[i][0] == "index":
        lit = _literal_index(toks[i][1])
        key = _format_key(lit) if lit is not None else None
        i += 1
    attr: list[str | int] = []
    for kind, value in toks[i:]:
        if kind == "name":
            attr.append(value)
        else:
            lit = _literal_index(value)
            attr.append(lit if lit is not None else 0)
    return Reference(f"{prefix}{data}{type_name}.{name}", key, tuple(attr), type_name)


def module_prefix_of(address: str) -> str:
    """``module.a["x"].module.b.`` for an instance address inside modules, else ``""``."""
    toks = _tokens(address)
    out, i = "", 0
    while i + 1 < len(toks) and toks[i] == ("name", "module") and toks[i + 1][0] == "name":
        out += f"module.{toks[i + 1][1]}"
        i += 2
        if i < len(toks) and toks[i][0] == "index":
            lit = _literal_index(toks[i][1])
            out += _format_key(lit) if lit is not None else f"[{toks[i][1]}]"
            i += 1
        out += "."
    return out


def resource_of(address: str) -> str:
    """The resource address of an instance address (its trailing key removed)."""
    return re.sub(r'\[(?:\d+|"(?:[^"\\]|\\.)*")\]$', "", address)


def parse_all(texts: Iterable[str], *, module_prefix: str = "") -> tuple[Reference, ...]:
    out = []
    for t in texts:
        ref = parse_reference(t, module_prefix=module_prefix)
        if ref is not None:
            out.append(ref)
    return tuple(out)
