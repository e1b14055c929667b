"""Terraform's JSON configuration syntax (``*.tf.json``) -> ``ast.File``.

``parse_json_config(text, filename) -> (ast.File | None, [Diagnostic])`` reads a file written in
the JSON syntax (developer.hashicorp.com/terraform/language/syntax/json; HCL's json/structure.go
and terraform's configs package for the details) into the same nodes the native syntax gives, so
the rest of vaultform can't tell the two apart: a directory in JSON plans as the same
configuration written in .tf does.

Reading it takes three steps:

* A strict JSON parser (RFC 8259, as HCL's: no comments, no trailing commas, no NaN) that keeps
  every value's offsets; invalid JSON is one "syntax" diagnostic naming the file, line and column.
* A schema-driven walk: the root object's properties are top-level block types, the nested
  objects their labels, then the body. In a body, a property is a nested block when the block
  type expects one there (``lifecycle``, ``provisioner``, ``dynamic``, a provider schema's nested
  block such as ``identity``), an argument otherwise. A block's value is an object (one block), an
  array of objects (several, in order) or null (none). ``"//"`` properties of bodies are comments.
* Each argument's value becomes an expression in one of terraform's ways of reading JSON:

  - an expression (the general rule): a string is a string template, parsed as HCL's template
    syntax (``${...}``, ``%{...}``, ``$${`` escapes) with every interpolation parsed by the HCL
    parser at its line and column in the JSON file; arrays are tuples, objects are objects whose
    keys are templates too;
  - a literal (``variable`` default/description, ``output`` description, module source/version,
    provider alias, every setting of a ``terraform`` block, lifecycle flags): strings are taken
    as written, never as templates;
  - native syntax in a string (``depends_on``, ``provider``, ``ignore_changes``,
    ``replace_triggered_by``, variable ``type``, moved/import/removed addresses, module
    ``providers``): the string holds a reference, keyword or type expression as the native syntax
    writes it (``"azurerm.west"``, ``"list(string)"``); ``"${...}"`` is refused there as terraform
    refuses it.

Positions are those of the JSON file: a block's is its innermost label (or its type's property),
an argument's its property; inside a string, each expression's position is found through the
string's escapes, so a diagnostic points at the right column of the JSON line.

Which properties of a resource body are nested blocks depends on the provider's schema, so a
JSON file's tree is not kept in the parse cache (``loader_parallel``).
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reconciler.config import ast
from reconciler.config.loader_scan import LineIndex, strip_interpolation_markers
from reconciler.config.types import whole_number
from reconciler.diagnostics import Diagnostic, SourceRange, error

if TYPE_CHECKING:
    from providers.schema import BlockSchema

__all__ = ["JSON_SUFFIX", "parse_json_config"]

JSON_SUFFIX = ".tf.json"
CODE = "syntax"  # the code of the loader's syntax errors: validation stops at a file that can't be read
DUPLICATE_CODE = "duplicate-attribute"  # the native syntax's code for an argument set twice
MAX_NESTING = 100  # JSON arrays and objects nested deeper than this are refused (as brackets in .tf)
MAX_INT_DIGITS = 4300  # Python refuses int() of more digits (sys.get_int_max_str_digits)


# --------------------------------------------------------------------------- JSON values


@dataclass(slots=True)
class JString:
    value: str
    start: int  # offset of the opening quote
    end: int  # offset just past the closing quote


@dataclass(slots=True)
class JNumber:
    text: str
    start: int
    end: int


@dataclass(slots=True)
class JKeyword:
    value: bool | None
    start: int
    end: int


@dataclass(slots=True)
class JArray:
    items: list[JNode]
    start: int
    end: int


@dataclass(slots=True)
class JProperty:
    name: JString
    value: JNode


@dataclass(slots=True)
class JObject:
    properties: list[JProperty]
    start: int
    end: int


JNode = JString | JNumber | JKeyword | JArray | JObject


class JsonProblem(Exception):
    """Invalid JSON, or JSON that isn't a configuration; offsets into the text."""

    def __init__(self, summary: str, detail: str, start: int, end: int | None = None):
        super().__init__(summary)
        self.summary = summary
        self.detail = detail
        self.start = start
        self.end = end


# --------------------------------------------------------------------------- the JSON parser

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_NUMBER_LIKE = re.compile(r"[-+.0-9A-Za-z_]+")
_WORD = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_CHUNK = re.compile(r'[^"\\\x00-\x1f]+')
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_KEYWORDS: dict[str, bool | None] = {"true": True, "false": False, "null": None}


def read_string(text: str, i: int, offsets: list[int] | None = None) -> tuple[str, int]:
    """The JSON string whose opening quote is at ``i``: its value and the offset past its closing
    quote. With ``offsets``, the offset in ``text`` of each character of the value is appended
    (of the escape that wrote it), then that of the closing quote. An escaped lone surrogate
    becomes U+FFFD, as in terraform."""
    parts: list[str] = []
    j = i + 1
    n = len(text)
    while True:
        m = _CHUNK.match(text, j)
        if m is not None:
            parts.append(m.group())
            if offsets is not None:
                offsets.extend(range(j, m.end()))
            j = m.end()
        if j >= n:
            raise JsonProblem("Unterminated string", "This string has no closing quote.", i, j)
        c = text[j]
        if c == '"':
            if offsets is not None:
                offsets.append(j)
            return "".join(parts), j + 1
        if c == "\\":
            e = text[j + 1 : j + 2]
            if e in _ESCAPES:
                parts.append(_ESCAPES[e])
                k = j + 2
            elif e == "u" and _HEX4.match(text, j + 2):
                code = int(text[j + 2 : j + 6], 16)
                k = j + 6
                if 0xD800 <= code < 0xDC00 and text.startswith("\\u", k) and _HEX4.match(text, k + 2):
                    low = int(text[k + 2 : k + 6], 16)
                    if 0xDC00 <= low < 0xE000:
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        k += 6
                if 0xD800 <= code < 0xE000:
                    code = 0xFFFD
                parts.append(chr(code))
            else:
                shown = text[j : j + 6] if e == "u" else text[j : j + 2]
                raise JsonProblem(
                    "Invalid JSON string",
                    f'"{shown}" is not a JSON escape sequence; JSON strings accept \\", \\\\, \\/, \\b, '
                    "\\f, \\n, \\r, \\t and \\uXXXX (four hexadecimal digits).",
                    j,
                    j + len(shown),
                )
            if offsets is not None:
                offsets.append(j)
            j = k
            continue
        if c == "\n":
            raise JsonProblem(
                "Unterminated string",
                "This string has no closing quote on its line; a JSON string can't span lines "
                "(write \\n for a new line).",
                i,
                j,
            )
        raise JsonProblem(
            "Invalid JSON string",
            f"A JSON string can't hold the control character U+{ord(c):04X} as it is; write it as an "
            "escape (\\t for a tab, \\uXXXX for others).",
            j,
            j + 1,
        )


class _Parser:
    """Recursive descent over the text; nesting is bounded by ``MAX_NESTING``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)

    def skip(self, i: int) -> int:
        m = _WS.match(self.text, i)
        return m.end() if m is not None else i

    def document(self) -> JNode:
        i = self.skip(0)
        if i >= self.n:
            raise JsonProblem(
                "Missing value",
                "The file is empty: a .tf.json file holds one JSON object whose properties are "
                'block types, e.g. {"resource": {...}}.',
                i,
            )
        node, i = self.value(i, 0)
        i = self.skip(i)
        if i < self.n:
            raise JsonProblem(
                "Extraneous data after value",
                "A .tf.json file holds exactly one JSON value; remove what follows it (or put it "
                "inside the root object).",
                i,
            )
        return node

    def value(self, i: int, depth: int) -> tuple[JNode, int]:
        if i >= self.n:
            raise JsonProblem("Missing value", "The JSON data ends prematurely.", i)
        c = self.text[i]
        if c == "{":
            return self.object(i, depth + 1)
        if c == "[":
            return self.array(i, depth + 1)
        if c == '"':
            value, end = read_string(self.text, i)
            return JString(value, i, end), end
        if c in "-+.0123456789":
            return self.number(i)
        word = _WORD.match(self.text, i)
        if word is not None:
            return self.keyword(word.group(), i)
        if self.text.startswith(("//", "/*"), i):
            raise JsonProblem(
                "Invalid JSON value",
                'JSON has no comments; to note something in a block, give it a "//" property '
                '(e.g. "//": "why this is here").',
                i,
                i + 2,
            )
        raise JsonProblem(
            "Invalid JSON value",
            f"A JSON value starts with a brace, a bracket, a number, a double-quoted string or one "
            f"of true, false and null, not {c!r}.",
            i,
            i + 1,
        )

    def _nesting(self, i: int, depth: int) -> None:
        if depth > MAX_NESTING:
            raise JsonProblem(
                "JSON nested too deeply",
                f"Arrays and objects nest more than {MAX_NESTING} levels deep here; simplify the "
                "value (move inner parts into locals).",
                i,
                i + 1,
            )

    def object(self, i: int, depth: int) -> tuple[JNode, int]:
        self._nesting(i, depth)
        text = self.text
        props: list[JProperty] = []
        j = self.skip(i + 1)
        if j < self.n and text[j] == "}":
            return JObject(props, i, j + 1), j + 1
        while True:
            if j >= self.n:
                raise self._unclosed(i, "{", "}")
            if text[j] != '"':
                raise JsonProblem(
                    "Invalid JSON property name",
                    "A property name is a string in double quotes, followed by a colon and the value.",
                    j,
                    j + 1,
                )
            name, k = read_string(text, j)
            key = JString(name, j, k)
            k = self.skip(k)
            if k >= self.n or text[k] != ":":
                raise JsonProblem(
                    "Missing property value colon",
                    f'A colon must follow the property name "{name}", then its value.',
                    k,
                    k + 1,
                )
            k = self.skip(k + 1)
            value, k = self.value(k, depth)
            props.append(JProperty(key, value))
            k = self.skip(k)
            if k >= self.n:
                raise self._unclosed(i, "{", "}")
            if text[k] == "}":
                return JObject(props, i, k + 1), k + 1
            if text[k] != ",":
                raise JsonProblem(
                    "Missing comma between properties",
                    "A comma must separate each property of an object from the next.",
                    k,
                    k + 1,
                )
            j = self.skip(k + 1)
            if j < self.n and text[j] == "}":
                raise JsonProblem(
                    "Trailing comma in object",
                    "JSON does not permit a comma after the last property of an object; remove it.",
                    k,
                    k + 1,
                )

    def array(self, i: int, depth: int) -> tuple[JNode, int]:
        self._nesting(i, depth)
        text = self.text
        items: list[JNode] = []
        j = self.skip(i + 1)
        if j < self.n and text[j] == "]":
            return JArray(items, i, j + 1), j + 1
        while True:
            if j >= self.n:
                raise self._unclosed(i, "[", "]")
            value, k = self.value(j, depth)
            items.append(value)
            k = self.skip(k)
            if k >= self.n:
                raise self._unclosed(i, "[", "]")
            if text[k] == "]":
                return JArray(items, i, k + 1), k + 1
            if text[k] != ",":
                raise JsonProblem(
                    "Missing comma between array elements",
                    "A comma must separate each element of an array from the next.",
                    k,
                    k + 1,
                )
            j = self.skip(k + 1)
            if j < self.n and text[j] == "]":
                raise JsonProblem(
                    "Trailing comma in array",
                    "JSON does not permit a comma after the last element of an array; remove it.",
                    k,
                    k + 1,
                )

    def _unclosed(self, i: int, opener: str, closer: str) -> JsonProblem:
        what = "object" if opener == "{" else "array"
        return JsonProblem(
            f"Unclosed {what}",
            f'The "{opener}" here has no matching "{closer}": the file ends inside this {what}.',
            i,
            i + 1,
        )

    def number(self, i: int) -> tuple[JNode, int]:
        m = _NUMBER.match(self.text, i)
        extent = _NUMBER_LIKE.match(self.text, i)
        end = extent.end() if extent is not None else i + 1
        if m is None or m.end() != end:
            raise JsonProblem(
                "Invalid JSON number",
                f'"{self.text[i:end][:40]}" is not a JSON number: write digits with an optional "-", '
                'fraction and exponent (no "+", leading zeros or trailing ".").',
                i,
                end,
            )
        return JNumber(m.group(), i, end), end

    def keyword(self, word: str, i: int) -> tuple[JNode, int]:
        end = i + len(word)
        if word in _KEYWORDS:
            return JKeyword(_KEYWORDS[word], i, end), end
        hint = f' Did you mean "{word.lower()}"?' if word.lower() in _KEYWORDS else ""
        raise JsonProblem(
            "Invalid JSON keyword",
            f'"{word[:40]}" is not a JSON value: JSON has only true, false and null (in lower case), and '
            f"strings are written in double quotes.{hint}",
            i,
            end,
        )


# --------------------------------------------------------------------------- what a body holds


class Reading(enum.Enum):
    """How a JSON value is read as an expression (terraform's readings of JSON)."""

    EXPRESSION = "expression"  # strings are templates (the general rule)
    LITERAL = "literal"  # strings are taken as written (hcl.Expression.Value(nil))
    NATIVE = "native"  # a string holds native syntax: a reference, keyword or type expression
    PROVIDERS = "providers"  # a module's providers map: keys and values are native syntax
    REQUIREMENT = "requirement"  # a required_providers entry: literal, configuration_aliases native


@dataclass(frozen=True)
class _Nested:
    """A nested block type: its label names, and the body its blocks have (given their labels)."""

    labels: tuple[str, ...]
    body: Callable[[tuple[str, ...]], _Body]
    # a provider's optional-and-computed list of blocks (azurerm_key_vault's access_policy):
    # terraform reads "name": [] there as the argument name = [] (explicitly none), not as no blocks
    empty_array_is_argument: bool = False


@dataclass(frozen=True)
class _Body:
    modes: Mapping[str, Reading] = field(default_factory=dict)  # arguments read other than by default
    default: Reading = Reading.EXPRESSION
    blocks: Mapping[str, _Nested] = field(default_factory=dict)
    schema: BlockSchema | None = None  # a provider schema whose nested blocks this body takes
    schema_blocks: bool = False  # the body takes its schema's nested blocks and dynamic blocks
    only_arguments: bool = False  # locals, required_providers: every property is an argument

    def mode(self, name: str) -> Reading:
        return self.modes.get(name, self.default)

    def nested(self, name: str) -> _Nested | None:
        if self.only_arguments:
            return None
        found = self.blocks.get(name)
        if found is not None or not self.schema_blocks:
            return found
        schema = self.schema
        if name == "dynamic":
            return _Nested(("type",), lambda labels: _dynamic_body(schema, labels[0]))
        child = schema.block_map.get(name) if schema is not None else None
        if child is None:
            return None
        return _Nested(
            (),
            lambda _labels: _schema_body(child.block),
            empty_array_is_argument=child.computed and child.max_items != 1,
        )


def _fixed(body: _Body) -> Callable[[tuple[str, ...]], _Body]:
    return lambda _labels: body


def _schema_body(schema: BlockSchema | None) -> _Body:
    return _Body(schema=schema, schema_blocks=True)


def _dynamic_body(parent: BlockSchema | None, block_type: str) -> _Body:
    child = parent.block_map.get(block_type) if parent is not None else None
    content = child.block if child is not None else None
    return _Body(
        modes={"iterator": Reading.NATIVE},
        blocks={"content": _Nested((), lambda _labels: _schema_body(content))},
    )


_EXPRESSIONS = _Body()
_LITERALS = _Body(default=Reading.LITERAL)
_CONDITION = _Nested((), _fixed(_EXPRESSIONS))  # condition / error_message
_CONNECTION = _Nested((), _fixed(_Body(modes={"type": Reading.LITERAL})))
_PROVISIONER = _Nested(
    ("type",),
    _fixed(
        _Body(
            modes={"when": Reading.NATIVE, "on_failure": Reading.NATIVE}, blocks={"connection": _CONNECTION}
        )
    ),
)
_LIFECYCLE = _Nested(
    (),
    _fixed(
        _Body(
            modes={
                "create_before_destroy": Reading.LITERAL,
                "prevent_destroy": Reading.LITERAL,
                "ignore_changes": Reading.NATIVE,
                "replace_triggered_by": Reading.NATIVE,
            },
            blocks={"precondition": _CONDITION, "postcondition": _CONDITION},
        )
    ),
)
_RESOURCE_META: Mapping[str, Reading] = {"provider": Reading.NATIVE, "depends_on": Reading.NATIVE}
_RESOURCE_BLOCKS: Mapping[str, _Nested] = {
    "lifecycle": _LIFECYCLE,
    "provisioner": _PROVISIONER,
    "connection": _CONNECTION,
}


def _resource_body(data: bool, type_name: str) -> _Body:
    from providers.schema import Mode as SchemaMode  # lazy: start-up
    from reconciler.providers_registry import resource_schema  # lazy: start-up

    found = resource_schema(SchemaMode.DATA if data else SchemaMode.MANAGED, type_name)
    return _Body(
        modes=_RESOURCE_META,
        blocks=_RESOURCE_BLOCKS,
        schema=found.block if found is not None else None,
        schema_blocks=True,
    )


def _provider_body(name: str) -> _Body:
    from reconciler.providers_registry import schema_for  # lazy: start-up

    found = schema_for(name)
    return _Body(
        modes={"alias": Reading.LITERAL, "version": Reading.LITERAL},
        schema=found.provider_config if found is not None else None,
        schema_blocks=True,
    )


_TARGET = _Nested((), _fixed(_Body(blocks={"fallback": _Nested((), _fixed(_EXPRESSIONS))})))
_ENCRYPTION = _Body(  # OpenTofu's, which vaultform reads (reconciler.encryption_config)
    blocks={
        "key_provider": _Nested(("type", "name"), _fixed(_EXPRESSIONS)),
        "method": _Nested(("type", "name"), _fixed(_EXPRESSIONS)),
        "state": _TARGET,
        "plan": _TARGET,
        "remote_state_data_sources": _Nested(
            (),
            _fixed(
                _Body(
                    blocks={"default": _TARGET, "remote_state_data_source": _Nested(("name",), _TARGET.body)}
                )
            ),
        ),
    }
)
_TERRAFORM = _Body(
    modes={"experiments": Reading.NATIVE},
    default=Reading.LITERAL,
    blocks={
        "required_providers": _Nested((), _fixed(_Body(default=Reading.REQUIREMENT, only_arguments=True))),
        "backend": _Nested(("type",), _fixed(_LITERALS)),
        "cloud": _Nested(
            (), _fixed(_Body(default=Reading.LITERAL, blocks={"workspaces": _Nested((), _fixed(_LITERALS))}))
        ),
        "provider_meta": _Nested(("provider",), _fixed(_LITERALS)),
        "encryption": _Nested((), _fixed(_ENCRYPTION)),
    },
)
_VARIABLE = _Body(
    modes={
        "type": Reading.NATIVE,
        "default": Reading.LITERAL,
        "description": Reading.LITERAL,
        "sensitive": Reading.LITERAL,
        "nullable": Reading.LITERAL,
        "ephemeral": Reading.LITERAL,
    },
    blocks={"validation": _CONDITION},
)
_OUTPUT = _Body(
    modes={
        "description": Reading.LITERAL,
        "sensitive": Reading.LITERAL,
        "ephemeral": Reading.LITERAL,
        "depends_on": Reading.NATIVE,
    },
    blocks={"precondition": _CONDITION},
)
_MODULE = _Body(
    modes={
        "source": Reading.LITERAL,
        "version": Reading.LITERAL,
        "providers": Reading.PROVIDERS,
        "depends_on": Reading.NATIVE,
    }
)
_REMOVED = _Body(
    modes={"from": Reading.NATIVE},
    blocks={
        "lifecycle": _Nested((), _fixed(_LITERALS)),
        "provisioner": _PROVISIONER,
        "connection": _CONNECTION,
    },
)
_CHECK = _Body(
    blocks={
        "data": _Nested(("type", "name"), lambda labels: _resource_body(True, labels[0])),
        "assert": _CONDITION,
    }
)

# terraform 1.11's top-level block types. ("ephemeral" is read so that vaultform's decoder reports
# it as the block type it doesn't support, as it does in a .tf file.)
_TOP: Mapping[str, _Nested] = {
    "terraform": _Nested((), _fixed(_TERRAFORM)),
    "provider": _Nested(("name",), lambda labels: _provider_body(labels[0])),
    "variable": _Nested(("name",), _fixed(_VARIABLE)),
    "locals": _Nested((), _fixed(_Body(only_arguments=True))),
    "output": _Nested(("name",), _fixed(_OUTPUT)),
    "module": _Nested(("name",), _fixed(_MODULE)),
    "resource": _Nested(("type", "name"), lambda labels: _resource_body(False, labels[0])),
    "data": _Nested(("type", "name"), lambda labels: _resource_body(True, labels[0])),
    "ephemeral": _Nested(("type", "name"), _fixed(_EXPRESSIONS)),
    "moved": _Nested((), _fixed(_Body(modes={"from": Reading.NATIVE, "to": Reading.NATIVE}))),
    "import": _Nested((), _fixed(_Body(modes={"to": Reading.NATIVE, "provider": Reading.NATIVE}))),
    "removed": _Nested((), _fixed(_REMOVED)),
    "check": _Nested(("name",), _fixed(_CHECK)),
}

# What a native-syntax string holds, by argument, for messages: (what it is, an example).
_NATIVE_WORDS: Mapping[str, tuple[str, str]] = {
    "depends_on": ("reference", "terraform_data.a"),
    "provider": ("provider reference", "azurerm.west"),
    "providers": ("provider reference", "azurerm.west"),
    "configuration_aliases": ("provider reference", "azurerm.west"),
    "ignore_changes": ("attribute name or all", "tags"),
    "replace_triggered_by": ("reference", "terraform_data.trigger"),
    "type": ("type constraint", "list(string)"),
    "from": ("address", "terraform_data.old"),
    "to": ("address", "terraform_data.new"),
    "iterator": ("name", "item"),
    "when": ("keyword", "destroy"),
    "on_failure": ("keyword", "continue"),
    "experiments": ("keyword", "an_experiment"),
}


# --------------------------------------------------------------------------- positions


class _Problem(Exception):
    def __init__(self, summary: str, detail: str, where: SourceRange):
        super().__init__(summary)
        self.summary = summary
        self.detail = detail
        self.where = where


_FIELDS: dict[type, tuple[str, ...]] = {}


def remap(node: Any, move: Callable[[ast.Pos], ast.Pos]) -> Any:
    """``node`` (an ``ast`` node, a tuple of them, or a template part) with every ``Pos`` moved."""
    if isinstance(node, ast.Pos):
        return move(node)
    if isinstance(node, tuple):
        return tuple(remap(x, move) for x in node)
    kind = type(node)
    if dataclasses.is_dataclass(node) and kind.__module__ == ast.__name__:
        names = _FIELDS.get(kind)
        if names is None:
            names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(node))
        return kind(*(remap(getattr(node, name), move) for name in names))
    return node


class _StringPlaces:
    """Where each character of a JSON string's value is in the file: positions found in the value
    (line and column of the value read as text) -> positions in the file."""

    def __init__(self, text: str, index: LineIndex, node: JString, file: str) -> None:
        self.offsets: list[int] = []
        read_string(text, node.start, self.offsets)
        self.value_index = LineIndex(node.value)
        self.size = len(node.value)
        self.index = index
        self.file = file

    def _offset(self, line: int, column: int) -> int:
        if line < 1:
            return self.offsets[0]
        try:
            at = self.value_index.offset(line, column)
        except IndexError:
            at = self.size
        return self.offsets[min(max(at, 0), self.size)]

    def __call__(self, pos: ast.Pos) -> ast.Pos:
        line, column = self.index.position(self._offset(pos.line, pos.column))
        end_line, end_column = self.index.position(self._offset(pos.end_line, pos.end_column))
        return ast.Pos(self.file, line, column, end_line, end_column)


# --------------------------------------------------------------------------- native syntax in strings


class _Fragments:
    """Parse native syntax found in a JSON string (an interpolation's expression, or a whole string
    that holds a reference or type), placed at a line and column of the string's value."""

    def __init__(self, filename: str) -> None:
        self.filename = filename

    def __call__(self, expr_text: str, line: int, column: int) -> ast.Expr:
        return self.parse(expr_text, line, column, "template")

    def parse(self, expr_text: str, line: int, column: int, what: str) -> ast.Expr:
        from hcl2.rules import base as r_base  # lazy: start-up
        from hcl2.rules import expressions as r_expr  # lazy: start-up
        from lark.exceptions import LarkError  # lazy: start-up

        from reconciler.config import hcl2_tree  # lazy: start-up
        from reconciler.config.convert import Converter, ConvertProblem  # lazy: start-up

        source, marks = strip_interpolation_markers(expr_text)
        padded = "x = (\n" + " " * (column - 1) + source + "\n)\n"
        where = ast.Pos(self.filename, line, column, line, column + len(expr_text))
        try:
            start = hcl2_tree.parse(padded)
        except (LarkError, RuntimeError):
            raise ConvertProblem(f"Invalid {what}", "", where) from None
        try:
            children = start.body.children
            attr = children[0] if len(children) == 1 else None
            term = attr.expression if isinstance(attr, r_base.AttributeRule) else None
            if not (isinstance(term, r_expr.ExprTermRule) and term.parentheses):
                raise ConvertProblem(f"Invalid {what}", "", where)  # text that closed the parenthesis
            marks_lc = {}
            if marks:
                index = LineIndex(padded)
                marks_lc = {index.position(off + 6 + column - 1): f for off, f in marks.items()}
            inner = Converter(self.filename, marks_lc, line_shift=line - 2, fragment=self).expr(term)
        finally:
            hcl2_tree.release(start)
        return inner.expr if isinstance(inner, ast.Parens) else inner


_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_TRAVERSAL = re.compile(rf"({_NAME})((?:\.{_NAME})*)\Z")
_NOT_A_ROOT = {"true", "false", "null", "for", "if", "in"}


def _plain_traversal(text: str, file: str) -> ast.Expr | None:
    """``a.b.c`` without the parser, placed as the converter places it (at line 1, column 1)."""
    m = _TRAVERSAL.match(text)
    if m is None or m.group(1) in _NOT_A_ROOT:
        return None
    out: ast.Expr = ast.Variable(m.group(1), ast.Pos(file, 1, 1, 1, 1 + len(m.group(1))))
    at = len(m.group(1))
    for name in m.group(2).split(".")[1:]:
        at += 1 + len(name)
        out = ast.GetAttr(out, name, ast.Pos(file, 1, 1, 1, 1 + at))
    return out


# --------------------------------------------------------------------------- JSON -> ast


class _Translator:
    def __init__(self, text: str, filename: str) -> None:
        self.text = text
        self.file = filename
        self.index = LineIndex(text)
        self.fragments = _Fragments(filename)
        self.problems: list[Diagnostic] = []  # the file can't be read: it is not used
        self.diagnostics: list[Diagnostic] = []  # reported; the file is used (duplicate arguments)

    # ---------------------------------------------------------------- places

    def pos(self, start: int, end: int) -> ast.Pos:
        line, column = self.index.position(start)
        end_line, end_column = self.index.position(max(end, start))
        return ast.Pos(self.file, line, column, end_line, end_column)

    def problem(self, summary: str, detail: str, start: int, end: int | None = None) -> _Problem:
        return _Problem(summary, detail, self.pos(start, end if end is not None else start + 1).range())

    def report(self, p: _Problem) -> None:
        self.problems.append(error(CODE, p.summary, p.detail, range=p.where))

    # ---------------------------------------------------------------- structure

    def file_body(self, root: JNode) -> ast.Body:
        if not isinstance(root, (JObject, JArray)):
            raise self.problem(
                "Root value must be object",
                "The root value of a .tf.json file is a JSON object whose properties are block types "
                '(or an array of such objects), e.g. {"resource": {...}}.',
                root.start,
                root.end,
            )
        blocks: list[ast.Block] = []
        for prop in self.properties(root, None, "the root of the file"):
            name = prop.name.value
            if name == "//":
                continue
            try:
                nested = _TOP.get(name)
                if nested is None:
                    # an unknown block type: vaultform's decoder reports it, as for a .tf file
                    where = self.pos(prop.name.start, prop.value.end)
                    blocks.append(ast.Block(name, (), ast.Body((), (), where), where, ()))
                    continue
                self.unpack(name, prop.name, prop.value, nested, blocks)
            except _Problem as p:
                self.report(p)
        return ast.Body((), tuple(blocks), self.pos(root.start, root.end))

    def properties(self, node: JNode, label: str | None, block_type: str) -> list[JProperty]:
        """The properties of an object, or of each object of an array (HCL's collectDeepAttrs)."""
        if isinstance(node, JObject):
            return node.properties
        if isinstance(node, JKeyword) and node.value is None:
            return []
        if isinstance(node, JArray):
            found: list[JProperty] = []
            for item in node.items:
                if not isinstance(item, JObject):
                    raise self.problem(
                        "Incorrect JSON value type",
                        f"A JSON object is required here, to give the {label} labels of {block_type} blocks."
                        if label
                        else "A JSON object is required here, whose properties are block types.",
                        item.start,
                        item.end,
                    )
                found.extend(item.properties)
            return found
        raise self.problem(
            "Incorrect JSON value type",
            f"Either a JSON object or a JSON array of objects is required here, to give the {label} "
            f"labels of {block_type} blocks."
            if label
            else "Either a JSON object or a JSON array of objects is required here.",
            node.start,
            node.end,
        )

    def unpack(
        self,
        block_type: str,
        key: JString,
        value: JNode,
        nested: _Nested,
        out: list[ast.Block],
        labels: tuple[str, ...] = (),
        label_pos: tuple[ast.Pos, ...] = (),
    ) -> None:
        """The blocks ``value`` gives, the labels still to read first (HCL's unpackBlock)."""
        if len(labels) < len(nested.labels):
            label = nested.labels[len(labels)]
            props = self.properties(value, label, f'"{block_type}"')
            if not props:
                raise self.problem(
                    "Missing block label",
                    f"At least one object property is required, whose name is the {label} of a "
                    f'"{block_type}" block.',
                    value.start,
                    value.end,
                )
            for p in props:
                where = self.pos(p.name.start, p.name.end)
                self.unpack(
                    block_type, p.name, p.value, nested, out, labels + (p.name.value,), label_pos + (where,)
                )
            return
        spec = nested.body(labels)
        if isinstance(value, JObject):
            out.append(self.block(block_type, labels, label_pos, key.start, value, spec))
        elif isinstance(value, JKeyword) and value.value is None:
            return
        elif isinstance(value, JArray):
            for item in value.items:
                if isinstance(item, JObject):
                    out.append(self.block(block_type, labels, label_pos, item.start, item, spec))
                elif isinstance(item, JKeyword) and item.value is None:
                    where = self.pos(item.start, item.end)
                    out.append(ast.Block(block_type, labels, ast.Body((), (), where), where, label_pos))
                else:
                    raise self.problem(
                        "Incorrect JSON value type",
                        f'A JSON object is required here, holding the arguments and blocks of a "{block_type}" block.',
                        item.start,
                        item.end,
                    )
        else:
            raise self.problem(
                "Incorrect JSON value type",
                f'Either a JSON object or a JSON array is required, representing the contents of one or more "{block_type}" blocks.',
                value.start,
                value.end,
            )

    def block(
        self,
        block_type: str,
        labels: tuple[str, ...],
        label_pos: tuple[ast.Pos, ...],
        start: int,
        obj: JObject,
        spec: _Body,
    ) -> ast.Block:
        return ast.Block(block_type, labels, self.body(obj, spec), self.pos(start, obj.end), label_pos)

    def body(self, obj: JObject, spec: _Body) -> ast.Body:
        attrs: list[ast.Attribute] = []
        blocks: list[ast.Block] = []
        seen: dict[str, ast.Attribute] = {}
        for prop in obj.properties:
            name = prop.name.value
            if name == "//":
                continue
            try:
                nested = spec.nested(name)
                value = prop.value
                if nested is not None and not (
                    nested.empty_array_is_argument and isinstance(value, JArray) and not value.items
                ):
                    self.unpack(name, prop.name, value, nested, blocks)
                    continue
                name_pos = self.pos(prop.name.start, prop.name.end)
                attr = ast.Attribute(
                    name,
                    self.expr(value, spec.mode(name), name),
                    self.pos(prop.name.start, value.end),
                    name_pos,
                )
            except _Problem as p:
                self.report(p)
                continue
            first = seen.get(name)
            if first is not None:
                self.diagnostics.append(
                    error(
                        DUPLICATE_CODE,
                        f'Duplicate argument "{name}"',
                        f'"{name}" is already set on line {first.pos.line} (and again on line '
                        f"{attr.pos.line}); keep one of them.",
                        range=attr.name_pos.range(),
                    )
                )
                continue
            seen[name] = attr
            attrs.append(attr)
        return ast.Body(tuple(attrs), tuple(blocks), self.pos(obj.start, obj.end))

    # ---------------------------------------------------------------- expressions

    def expr(self, node: JNode, mode: Reading, name: str) -> ast.Expr:
        where = self.pos(node.start, node.end)
        if isinstance(node, JString):
            if mode is Reading.LITERAL or mode is Reading.REQUIREMENT:
                return ast.Literal(node.value, where)
            if mode is Reading.EXPRESSION:
                return self.template(node)
            return self.native(node, name)
        if isinstance(node, JNumber):
            return self.number(node)
        if isinstance(node, JKeyword):
            return ast.Literal(node.value, where)
        if isinstance(node, JArray):
            item_mode = Reading.LITERAL if mode is Reading.REQUIREMENT else mode
            if mode is Reading.PROVIDERS:
                item_mode = Reading.EXPRESSION
            return ast.TupleCons(tuple(self.expr(item, item_mode, name) for item in node.items), where)
        items: list[tuple[ast.Expr, ast.Expr]] = []
        for prop in node.properties:
            key_where = self.pos(prop.name.start, prop.name.end)
            key: ast.Expr
            if mode is Reading.EXPRESSION:
                key = self.template(prop.name, unwrap=False)
                value = self.expr(prop.value, mode, name)
            elif mode is Reading.PROVIDERS:
                key = self.native(prop.name, name)
                if isinstance(key, ast.Variable):  # a bare name, as a native object key is read
                    key = ast.Literal(key.name, key.pos)
                value = self.expr(prop.value, Reading.NATIVE, name)
            elif mode is Reading.REQUIREMENT:
                key = ast.Literal(prop.name.value, key_where)
                inner = Reading.NATIVE if prop.name.value == "configuration_aliases" else Reading.LITERAL
                value = self.expr(prop.value, inner, prop.name.value)
            elif mode is Reading.NATIVE:
                key = self.template(prop.name, unwrap=False)
                value = self.expr(prop.value, Reading.EXPRESSION, name)
            else:
                key = ast.Literal(prop.name.value, key_where)
                value = self.expr(prop.value, mode, name)
            items.append((key, value))
        return ast.ObjectCons(tuple(items), where)

    def number(self, node: JNumber) -> ast.Expr:
        where = self.pos(node.start, node.end)
        text = node.text
        if not any(c in text for c in ".eE"):
            if len(text.lstrip("-")) > MAX_INT_DIGITS:
                raise self.problem(
                    "Number too large",
                    f"This number has {len(text)} digits; numbers may have at most {MAX_INT_DIGITS}.",
                    node.start,
                    node.end,
                )
            return ast.Literal(int(text), where)
        whole = whole_number(text)  # 1e23 is exact, as terraform reads it
        if whole is not None:
            return ast.Literal(whole, where)
        value = float(text)
        if value in (float("inf"), float("-inf")):
            raise self.problem(
                "Number out of range",
                f"{text[:40]} is too large to represent; use a smaller number.",
                node.start,
                node.end,
            )
        return ast.Literal(value, where)

    def template(self, node: JString, *, unwrap: bool = True) -> ast.Expr:
        """A string read as a string template, as HCL reads a JSON string where an expression goes.
        (An object key stays a template even when it is one interpolation: a bare name there would
        be read as the key's text.)"""
        where = self.pos(node.start, node.end)
        value = node.value
        if "${" not in value and "%{" not in value:
            return ast.Literal(value, where)
        from reconciler.config import convert_templates as tpl  # lazy: start-up
        from reconciler.config.convert import ConvertProblem  # lazy: start-up

        places = _StringPlaces(self.text, self.index, node, self.file)
        try:
            pieces = tpl.heredoc_pieces(value, 1, self.file, self.fragments)
            built = tpl.build(pieces, where, heredoc=False)
        except tpl.TemplateProblem as exc:
            raise _Problem(
                exc.summary, exc.detail.replace(" in the heredoc", " in this string"), places(exc.pos).range()
            ) from None
        except ConvertProblem as exc:
            raise _Problem(
                "Invalid expression in string template",
                exc.detail
                or 'The text inside this string\'s "${...}" or "%{...}" is not a valid expression; fix '
                'it, or write "$${" / "%%{" for a literal "${" / "%{".',
                places(exc.pos).range(),
            ) from None
        if not isinstance(built, ast.Template):
            return ast.Literal(built.value, where) if isinstance(built, ast.Literal) else built
        parts = built.parts
        if unwrap and len(parts) == 1 and isinstance(parts[0], ast.TemplateInterp):
            # "${x}" alone is x itself (HCL's TemplateWrapExpr): the tree of `name = x` in a .tf file
            return remap(parts[0].expr, places)
        return ast.Template(remap(parts, places), where, False)

    def native(self, node: JString, name: str) -> ast.Expr:
        """A string that holds native syntax: a reference, keyword or type expression."""
        what, example = _NATIVE_WORDS.get(name, ("expression", "terraform_data.a"))
        places = _StringPlaces(self.text, self.index, node, self.file)
        found = _plain_traversal(node.value, self.file)
        if found is None:
            from reconciler.config.convert import ConvertProblem  # lazy: start-up

            try:
                found = self.fragments.parse(node.value, 1, 1, what)
            except ConvertProblem as exc:
                if exc.detail:  # a problem found inside a valid expression (a number too large ...)
                    raise _Problem(exc.summary, exc.detail, places(exc.pos).range()) from None
                wrapped = node.value.strip().startswith("${")
                raise _Problem(
                    f'Invalid {what} in "{name}"',
                    f'In JSON syntax, "{name}" is a string holding the {what} as the native syntax writes '
                    f'it, such as "{example}"'
                    + (', without "${" and "}" around it' if wrapped else "")
                    + f'; "{node.value[:60]}" is not one.',
                    self.pos(node.start, node.end).range(),
                ) from None
        return remap(found, places)


def parse_json_config(text: str, filename: str) -> tuple[ast.File | None, list[Diagnostic]]:
    """Read a ``.tf.json`` file's text; every problem is a diagnostic, nothing raises."""
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        root = _Parser(text).document()
    except JsonProblem as exc:
        index = LineIndex(text)
        line, column = index.position(min(exc.start, len(text)))
        end = exc.end if exc.end is not None else exc.start + 1
        end_line, end_column = index.position(min(max(end, exc.start), len(text)))
        where = SourceRange(filename, line, column, end_line, end_column)
        return None, [error(CODE, exc.summary, exc.detail, range=where)]
    translator = _Translator(text, filename)
    try:
        body = translator.file_body(root)
    except _Problem as p:
        translator.report(p)
        return None, translator.problems
    except RecursionError:
        return None, [
            error(
                CODE,
                "Expression nested too deeply",
                "Simplify the expressions of this file (move inner parts into locals).",
                range=SourceRange(filename, 1, 1),
            )
        ]
    if translator.problems:
        return None, translator.problems + translator.diagnostics
    return ast.File(filename, body), translator.diagnostics
