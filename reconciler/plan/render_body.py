"""Object bodies of the human plan: attributes, nested blocks and values, before -> after.

Lines look like Terraform's: a two-column action symbol (``+``, ``-``, ``~`` or blank for
an unchanged value shown for context) at ``4 * depth + 2`` spaces, attribute names of a
body aligned on ``=``, nested blocks after the attributes (each after a blank line),
collections element by element, unchanged attributes, elements and blocks counted in a
``# (N unchanged ... hidden)`` line. A body is rendered whole with ``+`` when ``before`` is
None (created) and with ``-`` and ``-> null`` when ``after`` is None (destroyed).
"""

from __future__ import annotations

import difflib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from providers.schema import BlockSchema, Kind, NestedBlock, Nesting, ResourceSchema
from reconciler.value_text import go_quote, number_text
from reconciler.values import UNKNOWN

KNOWN_AFTER_APPLY = "(known after apply)"
SENSITIVE = "(sensitive value)"
FORCES_REPLACEMENT = "# forces replacement"
# unchanged attributes still shown for context, so the reader knows which object it is
IDENTIFYING = frozenset({"id", "name", "tags"})

_GREEN, _YELLOW, _RED, _CYAN, _BOLD = "32", "33", "31", "36", "1"
_SYMBOL_COLOR = {"+": _GREEN, "-": _RED, "~": _YELLOW, "<=": _CYAN, ".": _RED}


@dataclass(frozen=True)
class Palette:
    """ANSI colour, or plain text when ``enabled`` is false."""

    enabled: bool

    def paint(self, text: str, *codes: str) -> str:
        if not self.enabled or not text:
            return text
        return f"\x1b[{';'.join(codes)}m{text}\x1b[0m"

    def bold(self, text: str) -> str:
        return self.paint(text, _BOLD)

    def symbol(self, sym: str) -> str:
        if len(sym) == 3 and sym[1] == "/":  # -/+ and +/-
            return self.symbol(sym[0]) + "/" + self.symbol(sym[2])
        color = _SYMBOL_COLOR.get(sym)
        return self.paint(sym, color) if color else sym


def schema_sensitive(block: BlockSchema | None, path: tuple[Any, ...]) -> bool:
    """Whether the schema declares the attribute at ``path`` (or one containing it) sensitive."""
    current = block
    for step in path:
        if current is None:
            return False
        if isinstance(step, int):
            continue
        nb = current.block_map.get(step)
        if nb is not None:
            current = nb.block
            continue
        attr = current.attribute_map.get(step)
        return bool(attr and attr.sensitive)
    return False


@dataclass(frozen=True)
class Sensitivity:
    """Which paths of an object hold sensitive values: explicit paths and the schema's."""

    paths: frozenset[Any] = field(default_factory=frozenset[Any])
    block: BlockSchema | None = None
    all: bool = False

    @classmethod
    def of(cls, paths: Iterable[Iterable[Any]], schema: ResourceSchema | None) -> Sensitivity:
        return cls(frozenset(tuple(p) for p in paths), schema.block if schema else None)

    @classmethod
    def everything(cls) -> Sensitivity:
        return cls(all=True)

    def __call__(self, path: tuple[Any, ...]) -> bool:
        if self.all:
            return True
        if any(path[: len(p)] == p for p in self.paths):
            return True
        return schema_sensitive(self.block, path)


# --------------------------------------------------------------------------- values


def nothing(value: Any) -> bool:
    """None, an empty list and an empty map all mean 'not set' to users and to Azure."""
    return value is None or (isinstance(value, (list, tuple, dict)) and not value)


def scalar_text(value: Any) -> str:
    if value is UNKNOWN:
        return KNOWN_AFTER_APPLY
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return number_text(value)
    return go_quote(str(value))


def _canonical(value: Any, as_set: bool = False) -> Any:
    if value is UNKNOWN:
        return {"\x00unknown": True}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items() if not nothing(v)}
    if isinstance(value, (list, tuple)):
        items = [_canonical(v) for v in value]
        return sorted(items, key=_key) if as_set else items
    if isinstance(value, Decimal):
        return float(value)
    return value


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def same(before: Any, after: Any, as_set: bool = False) -> bool:
    """Equal for display: sets as sets, 'nothing' as nothing, unknowns never equal."""
    if nothing(before) and nothing(after):
        return True
    if _contains_unknown(after) or _contains_unknown(before):
        return False
    return _key(_canonical(before, as_set)) == _key(_canonical(after, as_set))


def _contains_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(_contains_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_contains_unknown(v) for v in value)
    return False


def _is_identifier(text: str) -> bool:
    return text.replace("_", "a").replace("-", "a").isalnum() and not text[:1].isdigit()


def key_text(key: Any, quote: bool) -> str:
    text = str(key)
    return go_quote(text) if quote or not _is_identifier(text) else text


def hidden_note(count: int, noun: str) -> str:
    return f"# ({count} unchanged {noun}{'s' if count != 1 else ''} hidden)"


def _multiline(value: Any) -> bool:
    return isinstance(value, str) and "\n" in value.rstrip("\n")


# --------------------------------------------------------------------------- renderer


@dataclass(frozen=True)
class BodyRenderer:
    """Draws values and bodies; ``replace_paths`` get the '# forces replacement' marker."""

    palette: Palette
    sensitive: Sensitivity
    replace_paths: frozenset[Any]
    show_unchanged: bool = False  # an object imported as it is: every value shown, none hidden

    @staticmethod
    def line_for(palette: Palette, depth: int, sym: str, text: str) -> str:
        pad = " " * (4 * depth + 2)
        if sym == " ":
            return pad + "  " + text
        return pad + palette.symbol(sym) + " " + text

    def line(self, depth: int, sym: str, text: str) -> str:
        return self.line_for(self.palette, depth, sym, text)

    def _forces(self, path: tuple[Any, ...], *, block: bool) -> bool:
        if block:
            return any(
                p == path or (path and isinstance(path[-1], int) and p == path[:-1])
                for p in self.replace_paths
            )
        return any(p[: len(path)] == path for p in self.replace_paths)

    def _mark(self) -> str:
        return " " + self.palette.paint(FORCES_REPLACEMENT, _RED)

    # ---- one value, whole (created, destroyed or unchanged): first item is inline text

    def value(self, value: Any, sym: str, depth: int, path: tuple[Any, ...], quote_keys: bool) -> list[str]:
        if self.sensitive(path):
            return [SENSITIVE]
        if value is UNKNOWN:
            return [KNOWN_AFTER_APPLY]
        if isinstance(value, dict):
            shown = [k for k in sorted(value, key=str) if value[k] is not None]
            if not shown:
                return ["{}"]
            width = max(len(key_text(k, quote_keys)) for k in shown)
            lines = ["{"]
            for k in shown:
                sub = self.value(value[k], sym, depth + 1, path + (k,), False)
                lines.append(self.line(depth + 1, sym, f"{key_text(k, quote_keys).ljust(width)} = {sub[0]}"))
                lines.extend(sub[1:])
            return lines + [self.line(depth, " ", "}")]
        if isinstance(value, (list, tuple)):
            if not value:
                return ["[]"]
            lines = ["["]
            for i, element in enumerate(value):
                lines.extend(self._element(element, sym, depth + 1, path + (i,)))
            return lines + [self.line(depth, " ", "]")]
        if _multiline(value):
            lines = ["<<-EOT"]
            lines += [self.line(depth + 1, " ", ln) if ln else "" for ln in value.rstrip("\n").split("\n")]
            return lines + [self.line(depth, " ", "EOT")]
        return [scalar_text(value)]

    def _element(self, element: Any, sym: str, depth: int, path: tuple[Any, ...]) -> list[str]:
        sub = self.value(element, sym, depth, path, False)
        sub[-1] += ","
        return [self.line(depth, sym, sub[0])] + sub[1:]

    # ---- a value that may have changed: (symbol, lines) with the first line inline

    def value_change(
        self,
        before: Any,
        after: Any,
        depth: int,
        path: tuple[Any, ...],
        *,
        quote_keys: bool,
        as_set: bool = False,
    ) -> tuple[str, list[str]]:
        if before is None:
            return "+", self.value(after, "+", depth, path, quote_keys)
        if after is None:
            lines = self.value(before, "-", depth, path, quote_keys)
            lines[-1] += " -> null"
            return "-", lines
        if self.sensitive(path):
            return "~", [SENSITIVE]
        if after is UNKNOWN:
            lines = self.value(before, "-", depth, path, quote_keys)
            lines[-1] += f" -> {KNOWN_AFTER_APPLY}"
            return "~", lines
        if isinstance(before, dict) and isinstance(after, dict):
            return "~", self._map_change(before, after, depth, path, quote_keys)
        if isinstance(before, (list, tuple)) and isinstance(after, (list, tuple)):
            return "~", self._list_change(before, after, depth, path, as_set)
        if _multiline(before) and _multiline(after):
            return "~", self._text_change(before, after, depth)
        old = self.value(before, "-", depth, path, quote_keys)
        new = self.value(after, "+", depth, path, quote_keys)
        old[-1] += f" -> {new[0]}"
        return "~", old + new[1:]

    def _map_change(
        self, before: dict[str, Any], after: dict[str, Any], depth: int, path: tuple[Any, ...], quote: bool
    ) -> list[str]:
        entries: list[tuple[str, str, list[str]]] = []
        hidden = 0
        width = 0  # as terraform's: the widest key, hidden unchanged ones included
        for k in sorted(set(before) | set(after), key=str):
            b, a = before.get(k), after.get(k)
            if nothing(b) and nothing(a):
                continue
            width = max(width, len(key_text(k, quote)))
            if same(b, a):
                hidden += 1
                continue
            if not quote and a is None and not nothing(b):
                # an object's attribute, as terraform's renderer shows it: gone from the object,
                # "- b = 2"; still there but null, "~ b = 2 -> null"
                sym, sub = self._attribute_gone(b, k in after, depth + 1, path + (k,))
            else:
                sym, sub = self.value_change(b, a, depth + 1, path + (k,), quote_keys=False)
            entries.append((key_text(k, quote), sym, sub))
        lines = ["{"]
        for k, sym, sub in entries:
            lines.append(self.line(depth + 1, sym, f"{k.ljust(width)} = {sub[0]}"))
            lines.extend(sub[1:])
        if hidden:
            what = "element" if quote else "attribute"
            lines.append(self.line(depth + 1, " ", hidden_note(hidden, what)))
        return lines + [self.line(depth, " ", "}")]

    def _attribute_gone(
        self, before: Any, still_there: bool, depth: int, path: tuple[Any, ...]
    ) -> tuple[str, list[str]]:
        lines = self.value(before, "-", depth, path, False)
        if not still_there:
            return "-", lines
        lines[-1] += " -> null"
        return "~", lines

    def _list_change(
        self, before: Any, after: Any, depth: int, path: tuple[Any, ...], as_set: bool
    ) -> list[str]:
        keys_b = [_key(_canonical(v)) for v in before]
        keys_a = [_key(_canonical(v)) for v in after]
        if not as_set:
            return self._sequence_change(before, after, keys_b, keys_a, depth, path)
        lines = ["["]
        hidden = 0
        left = Counter(keys_a)
        removed = []
        for i, k in enumerate(keys_b):
            if left[k] > 0 and not _contains_unknown(before[i]):
                left[k] -= 1
                hidden += 1
            else:
                removed.append(i)
        kept = Counter(keys_b)
        added = []
        for j, k in enumerate(keys_a):
            if kept[k] > 0 and not _contains_unknown(after[j]):
                kept[k] -= 1
            else:
                added.append(j)
        for i in removed:
            lines.extend(self._element(before[i], "-", depth + 1, path + (i,)))
        for j in added:
            lines.extend(self._element(after[j], "+", depth + 1, path + (j,)))
        if hidden:
            lines.append(self.line(depth + 1, " ", hidden_note(hidden, "element")))
        return lines + [self.line(depth, " ", "]")]

    def _sequence_change(
        self, before: Any, after: Any, keys_b: list[str], keys_a: list[str], depth: int, path: tuple[Any, ...]
    ) -> list[str]:
        """A list's elements as terraform's list renderer shows them (renderers/list.go): each change
        with the unchanged element just before it and just after it for context, and a count of
        the unchanged ones between."""
        lines = ["["]
        unchanged: list[int] = []  # after-indexes of unchanged elements not shown yet
        show_next = False
        for b, a in element_pairs(before, after, keys_b, keys_a):
            same = (
                b is not None and a is not None and keys_b[b] == keys_a[a] and not _contains_unknown(after[a])
            )
            if same and not show_next:
                unchanged.append(a)  # type: ignore[arg-type]
                continue
            show_next = False
            if len(unchanged) > 1:
                lines.append(self.line(depth + 1, " ", hidden_note(len(unchanged) - 1, "element")))
            if unchanged:
                lines.extend(self._element(after[unchanged[-1]], " ", depth + 1, path + (unchanged[-1],)))
            unchanged = []
            if same:
                lines.extend(self._element(after[a], " ", depth + 1, path + (a,)))
                continue
            show_next = True
            if a is None:
                lines.extend(self._element(before[b], "-", depth + 1, path + (b,)))
            elif b is None:
                lines.extend(self._element(after[a], "+", depth + 1, path + (a,)))
            else:
                sym, sub = self.value_change(before[b], after[a], depth + 1, path + (a,), quote_keys=False)
                sub[-1] += ","
                lines.append(self.line(depth + 1, sym, sub[0]))
                lines.extend(sub[1:])
        if unchanged:
            lines.append(self.line(depth + 1, " ", hidden_note(len(unchanged), "element")))
        return lines + [self.line(depth, " ", "]")]

    def _text_change(self, before: str, after: str, depth: int) -> list[str]:
        old, new = before.rstrip("\n").split("\n"), after.rstrip("\n").split("\n")
        lines = ["<<-EOT"]
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
            if tag == "equal":
                lines += [self.line(depth + 1, " ", ln) if ln else "" for ln in old[i1:i2]]
                continue
            lines += [self.line(depth + 1, "-", ln) for ln in old[i1:i2]]
            lines += [self.line(depth + 1, "+", ln) for ln in new[j1:j2]]
        return lines + [self.line(depth, " ", "EOT")]

    # ---- object bodies

    def body(
        self,
        block: BlockSchema | None,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        depth: int,
        path: tuple[Any, ...],
    ) -> list[str]:
        """Lines of a body; ``before`` None: created, ``after`` None: destroyed."""
        b_all, a_all = before or {}, after or {}
        blocks = block.block_map if block else {}
        entries: list[tuple[str, str, list[str]]] = []
        nested: list[str] = []
        hidden_attrs = hidden_blocks = 0
        width = 0  # as terraform's: the widest name, hidden unchanged attributes included
        for name in sorted(set(b_all) | set(a_all), key=str):
            b = b_all.get(name) if before is not None else None
            a = a_all.get(name) if after is not None else None
            nb = blocks.get(name)
            if nb is not None and _block_items(b) is not None and _block_items(a) is not None:
                groups, hidden = self._blocks(
                    nb, b, a, before is not None and after is not None, depth, path + (name,)
                )
                nested.extend(groups)
                hidden_blocks += hidden
                continue
            if nothing(b) and nothing(a):
                continue
            width = max(width, len(name))
            attr = block.attribute_map.get(name) if block else None
            kind = attr.type.kind if attr else None
            as_set = kind is Kind.SET
            quote = kind is Kind.MAP or attr is None
            if before is not None and after is not None and same(b, a, as_set):
                if (name in IDENTIFYING or self.show_unchanged) and not self.sensitive(path + (name,)):
                    entries.append((name, " ", self.value(a, " ", depth, path + (name,), quote)))
                else:
                    hidden_attrs += 1
                continue
            sym, sub = self.value_change(b, a, depth, path + (name,), quote_keys=quote, as_set=as_set)
            # terraform's renderer marks no attribute of dynamic type (it is shown as an output is)
            forced = kind is not Kind.ANY and self._forces(path + (name,), block=False)
            if before is not None and after is not None and forced:
                sub[0] += self._mark()
            entries.append((name, sym, sub))
        lines: list[str] = []
        for name, sym, sub in entries:
            lines.append(self.line(depth, sym, f"{name.ljust(width)} = {sub[0]}"))
            lines.extend(sub[1:])
        if hidden_attrs:
            lines.append(self.line(depth, " ", hidden_note(hidden_attrs, "attribute")))
        for group_line in nested:
            if group_line is _GROUP_START:
                if lines:
                    lines.append("")
                continue
            lines.append(group_line)
        if hidden_blocks:
            if lines:
                lines.append("")
            lines.append(self.line(depth, " ", hidden_note(hidden_blocks, "block")))
        return lines

    def _blocks(
        self, nb: NestedBlock, before: Any, after: Any, updating: bool, depth: int, path: tuple[Any, ...]
    ) -> tuple[list[str], int]:
        b_items, a_items = _block_items(before) or [], _block_items(after) or []
        single = nb.nesting is Nesting.SINGLE
        out: list[str] = []
        hidden = 0
        for i, b, a in _pair_blocks(nb, b_items, a_items):
            bpath = path if single else path + (i,)
            if b is not None and a is not None and same(b, a) and updating and not self.show_unchanged:
                hidden += 1
                continue
            sym = "+" if b is None else "-" if a is None else " " if same(b, a) else "~"
            header = f"{nb.name} {{"
            if updating and self._forces(bpath, block=True):
                header += self._mark()
            out.append(_GROUP_START)
            out.append(self.line(depth, sym, header))
            out.extend(self.body(nb.block, b, a, depth + 1, bpath))
            out.append(self.line(depth, " ", "}"))
        return out, hidden


_GROUP_START = "\x00block"  # marks where a nested block starts, for the blank line before it


def _block_items(value: Any) -> list[dict[str, Any]] | None:
    """The blocks a nested-block value holds, or None when it isn't blocks (e.g. unknown)."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, dict) for v in value):
        return list(value)
    return None


def _pair_blocks(
    nb: NestedBlock, before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> Iterator[tuple[int, dict[str, Any] | None, dict[str, Any] | None]]:
    """(index, before block, after block): by position, or for sets by equal content first."""
    if nb.nesting is not Nesting.SET:
        for i in range(max(len(before), len(after))):
            yield (i, before[i] if i < len(before) else None, after[i] if i < len(after) else None)
        return
    unmatched_after = list(range(len(after)))
    removed = []
    for i, b in enumerate(before):
        match = next((j for j in unmatched_after if same(b, after[j])), None)
        if match is None:
            removed.append(i)
        else:
            unmatched_after.remove(match)
            yield (match, b, after[match])
    for i in removed:
        yield (i, before[i], None)
    for j in unmatched_after:
        yield (j, None, after[j])


def element_pairs(
    before: list[Any], after: list[Any], keys_b: list[str], keys_a: list[str]
) -> list[tuple[int | None, int | None]]:
    """Which elements of two lists go together, as terraform pairs them (collections.ProcessSlice):
    index by index when the lists are as long and not a reordering; otherwise along their longest
    common subsequence, the rest removed then added (objects side by side as one change)."""
    if len(keys_b) == len(keys_a) and not set(keys_b) <= set(keys_a):
        return list(zip(range(len(keys_b)), range(len(keys_a)), strict=True))
    common = _longest_common(keys_b, keys_a)
    out: list[tuple[int | None, int | None]] = []
    i = j = c = 0
    while i < len(keys_b) or j < len(keys_a) or c < len(common):
        while i < len(keys_b) and (c >= len(common) or keys_b[i] != common[c]):
            pair = (
                isinstance(before[i], dict)
                and j < len(keys_a)
                and isinstance(after[j], dict)
                and (c >= len(common) or keys_a[j] != common[c])
            )
            if pair:
                out.append((i, j))
                i, j = i + 1, j + 1
                continue
            out.append((i, None))
            i += 1
        while j < len(keys_a) and (c >= len(common) or keys_a[j] != common[c]):
            out.append((None, j))
            j += 1
        if c < len(common):
            out.append((i, j))
            i, j, c = i + 1, j + 1, c + 1
    return out


def _longest_common(xs: list[str], ys: list[str]) -> list[str]:
    """The longest common subsequence terraform's objchange.LongestCommonSubsequence picks
    (the same table and the same walk back from the end, so ties go the same way)."""
    if not xs or not ys:
        return []
    w = len(xs)
    c = [0] * (len(xs) * len(ys))
    for y in range(len(ys)):
        for x in range(w):
            if xs[x] == ys[y]:
                c[w * y + x] = 1 if x == 0 or y == 0 else c[w * (y - 1) + (x - 1)] + 1
            else:
                left = c[w * y + (x - 1)] if x > 0 else 0
                up = c[w * (y - 1) + x] if y > 0 else 0
                c[w * y + x] = max(left, up)
    seq: list[str] = []
    x, y = len(xs) - 1, len(ys) - 1
    while x > -1 and y > -1:
        if xs[x] == ys[y]:
            seq.append(xs[x])
            x, y = x - 1, y - 1
        else:
            left = c[w * y + (x - 1)] if x > 0 else 0
            up = c[w * (y - 1) + x] if y > 0 else 0
            if left > up:
                x -= 1
            else:
                y -= 1
    return seq[::-1]
