"""Addresses of resources, their instances and graph nodes: one family for the whole product.

``azurerm_key_vault.kv``, ``azurerm_key_vault_key.k[0]``, ``terraform_data.x["a"]``,
``data.azurerm_client_config.current``, ``module.net["eu"].azurerm_key_vault.kv``.

The engine, the providers' protocol and the state all use these types; text appears only
where addresses are read from or written for people and files (``parse_address``,
``str()``). The lowest layer: this module imports nothing of the product's.
"""

from __future__ import annotations

import enum
import re
import string
from dataclasses import dataclass, field
from functools import lru_cache

from state.errors import AddressError

IndexKey = None | int | str
"""An instance key: None (no count/for_each), an int (count) or a str (for_each)."""


class Mode(enum.Enum):
    """A managed resource or a data source."""

    MANAGED = "managed"
    DATA = "data"


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_UNESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def format_key(key: IndexKey) -> str:
    """``[0]``, ``["a"]`` or ``""`` for no key; a string is quoted as terraform quotes it (HCL's
    quoted string: ``\\n``-style escapes, ``${`` and ``%{`` doubled as ``$${`` and ``%%{``), so
    the address reads back as written."""
    if key is None:
        return ""
    if isinstance(key, bool) or not isinstance(key, (int, str)):
        raise TypeError(f"an instance key is an int or a str, not {type(key).__name__}")
    if isinstance(key, int):
        return f"[{key}]"
    return "[" + hcl_quoted(key) + "]"


_QUOTE_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"', "\\": "\\\\"}


def hcl_quoted(text: str) -> str:
    """``text`` as an HCL quoted string, the way terraform writes an instance key
    (addrs.toHCLQuotedString)."""
    out = ['"']
    for i, ch in enumerate(text):
        escaped = _QUOTE_ESCAPES.get(ch)
        if escaped is not None:
            out.append(escaped)
        elif ch in "$%":
            out.append(ch * 2 if text[i + 1 : i + 2] == "{" else ch)
        elif not ch.isprintable():
            code = ord(ch)
            out.append(f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def key_order(key: IndexKey) -> tuple[int, int, str]:
    """Sort order of instance keys: no key, then ints, then strings."""
    if key is None:
        return (0, 0, "")
    if isinstance(key, int):
        return (1, key, "")
    return (2, 0, key)


def address_order(address: InstanceAddress) -> tuple[object, ...]:
    """Terraform's order of instance addresses: the root module first, shallower modules before
    deeper ones, steps by name then key; then data sources before managed resources, by type,
    name and key."""
    resource = address.resource
    return (
        len(resource.module),
        tuple((step.name, key_order(step.key)) for step in resource.module),
        resource.mode is Mode.MANAGED,
        resource.type,
        resource.name,
        key_order(address.key),
    )


@dataclass(frozen=True, slots=True)
class ModuleStep:
    name: str
    key: IndexKey = None

    def __str__(self) -> str:
        return f"module.{self.name}{format_key(self.key)}"


ModulePath = tuple[ModuleStep, ...]


def format_module(path: ModulePath) -> str:
    return ".".join(str(step) for step in path)


@dataclass(frozen=True, slots=True)
class ResourceAddress:
    """``module.m.azurerm_key_vault.kv`` or ``data.azurerm_client_config.c``."""

    mode: Mode
    type: str
    name: str
    module: ModulePath = ()

    @property
    def module_text(self) -> str:
        return format_module(self.module)

    @property
    def key(self) -> tuple[str, str, str, str]:
        """The identity used to index resources in a ``State``."""
        return (self.module_text, self.mode.value, self.type, self.name)

    def instance(self, key: IndexKey = None) -> InstanceAddress:
        return InstanceAddress(self, key)

    def __str__(self) -> str:
        local = f"{self.type}.{self.name}"
        if self.mode is Mode.DATA:
            local = "data." + local
        return f"{self.module_text}.{local}" if self.module else local


@dataclass(frozen=True, slots=True)
class InstanceAddress:
    """A resource address plus an instance key (None when there is none)."""

    resource: ResourceAddress
    key: IndexKey = None
    # the text and the hash, worked out on first use: addresses are sorted, shown and kept in
    # sets often, and a parsed address is shared (``parse_address`` is cached)
    _text: str | None = field(default=None, init=False, repr=False, compare=False, hash=False)
    _hash: int | None = field(default=None, init=False, repr=False, compare=False, hash=False)

    def __hash__(self) -> int:
        value = self._hash
        if value is None:
            value = hash((self.resource, self.key))
            object.__setattr__(self, "_hash", value)
        return value

    def __str__(self) -> str:
        text = self._text
        if text is None:
            text = f"{self.resource}{format_key(self.key)}"
            object.__setattr__(self, "_text", text)
        return text

    @property
    def mode(self) -> Mode:
        return self.resource.mode

    @property
    def type(self) -> str:
        return self.resource.type

    @property
    def name(self) -> str:
        return self.resource.name

    @property
    def module(self) -> ModulePath:
        return self.resource.module

    @property
    def module_text(self) -> str:
        return self.resource.module_text


class _Scanner:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def fail(self, problem: str) -> AddressError:
        return AddressError(self.text, problem, self.pos)

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def ident(self, what: str) -> str:
        match = _IDENT.match(self.text, self.pos)
        if not match:
            raise self.fail(f"expected {what} (letters, digits, '_' or '-', not starting with a digit)")
        self.pos = match.end()
        return match.group()

    def dot(self, after: str) -> None:
        if self.at_end() or self.text[self.pos] != ".":
            raise self.fail(f"expected '.' after {after}")
        self.pos += 1

    def quoted(self) -> str:
        """An HCL quoted string without templates (terraform's rule for keys in addresses)."""
        text, i = self.text, self.pos + 1
        out: list[str] = []
        while i < len(text):
            ch = text[i]
            if ch == '"':
                self.pos = i + 1
                return "".join(out)
            if ch == "\\":
                escape = text[i + 1 : i + 2]
                if escape in _UNESCAPES:
                    out.append(_UNESCAPES[escape])
                    i += 2
                    continue
                digits = 4 if escape == "u" else 8 if escape == "U" else 0
                code = text[i + 2 : i + 2 + digits]
                if not digits or len(code) != digits or not all(c in string.hexdigits for c in code):
                    self.pos = i
                    raise self.fail('an invalid escape in the string key (\\n, \\t, \\", \\\\ or \\uNNNN)')
                out.append(chr(int(code, 16)))
                i += 2 + digits
                continue
            if ch in "$%" and text[i + 1 : i + 2] == ch and text[i + 2 : i + 3] == "{":
                out.append(ch + "{")  # $${ is a literal ${
                i += 3
                continue
            if ch in "$%" and text[i + 1 : i + 2] == "{":
                self.pos = i
                raise self.fail(
                    f'template sequences are not allowed in an address: write {ch}{ch}{{ for a literal "{ch}{{"'
                )
            out.append(ch)
            i += 1
        raise self.fail("unterminated or badly escaped string key")

    def key(self) -> IndexKey:
        if self.at_end() or self.text[self.pos] != "[":
            return None
        start = self.pos
        self.pos += 1
        if self.pos < len(self.text) and self.text[self.pos] == '"':
            value: IndexKey = self.quoted()
        else:
            match = re.compile(r"-?[0-9]+").match(self.text, self.pos)
            if not match:
                raise self.fail('an instance key is a number like [0] or a quoted string like ["a"]')
            value = int(match.group())
            self.pos = match.end()
        if self.at_end() or self.text[self.pos] != "]":
            self.pos = max(self.pos, start)
            raise self.fail("expected ']' to close the instance key")
        self.pos += 1
        return value


@lru_cache(maxsize=65536)
def parse_address(text: str) -> InstanceAddress:
    """Parse ``[module.NAME[KEY].]...[data.]TYPE.NAME[KEY]``.

    The result's ``key`` is None when the text has no instance key; use
    ``.resource`` for the resource as a whole.
    """
    if not isinstance(text, str) or not text:
        raise AddressError(str(text), "an address is not empty")
    scan = _Scanner(text)
    module: list[ModuleStep] = []
    while True:
        word = scan.ident("a resource type, 'data' or 'module'")
        if word == "module":
            scan.dot("'module'")
            name = scan.ident("a module name")
            module.append(ModuleStep(name, scan.key()))
            scan.dot(f"module.{name}")
            continue
        mode = Mode.MANAGED
        if word == "data":
            mode = Mode.DATA
            scan.dot("'data'")
            word = scan.ident("a data source type")
        scan.dot(f"the type {word!r}")
        name = scan.ident("a resource name")
        key = scan.key()
        if not scan.at_end():
            raise scan.fail("unexpected text after the address")
        return InstanceAddress(ResourceAddress(mode, word, name, tuple(module)), key)


def parse_resource_address(text: str) -> ResourceAddress:
    """Like ``parse_address`` but refuses an instance key."""
    parsed = parse_address(text)
    if parsed.key is not None:
        raise AddressError(text, "expected a resource address without an instance key")
    return parsed.resource


def parse_module(text: str) -> ModulePath:
    """Parse a module path such as ``module.a[0].module.b``; ``""`` is the root."""
    if text == "":
        return ()
    parsed = parse_address(f"{text}.x.y")
    if parsed.resource.mode is not Mode.MANAGED or parsed.key is not None:
        raise AddressError(text, "expected a module path like module.a.module.b")
    return parsed.resource.module


def as_resource_address(addr: ResourceAddress | InstanceAddress | str) -> ResourceAddress:
    if isinstance(addr, ResourceAddress):
        return addr
    if isinstance(addr, InstanceAddress):
        return addr.resource
    return parse_address(str(addr)).resource  # text, or the engine's own address objects


def as_instance_address(addr: InstanceAddress | ResourceAddress | str) -> InstanceAddress:
    if isinstance(addr, InstanceAddress):
        return addr
    if isinstance(addr, ResourceAddress):
        return InstanceAddress(addr, None)
    return parse_address(str(addr))


# --------------------------------------------------------------------------- graph nodes


@dataclass(frozen=True, slots=True)
class Node:
    """A step of an instance in the dependency graph: the object itself (``phase`` "") or one
    of its later phases (a vault's key assignment, phase "encryption").

    A pair, never joined into one string and taken apart again: instance keys may hold any
    character. ``str()`` is for people only (``addr`` or ``addr#phase``).
    """

    address: InstanceAddress
    phase: str = ""

    def __str__(self) -> str:
        return f"{self.address}#{self.phase}" if self.phase else str(self.address)

    @property
    def object(self) -> Node:
        """The node of the object itself (this one when it has no phase)."""
        return self if not self.phase else Node(self.address)
