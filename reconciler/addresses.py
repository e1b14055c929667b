"""Addresses of resources and their instances, as Terraform users write them.

``azurerm_key_vault.kv``, ``azurerm_key_vault_key.k[0]``, ``terraform_data.x["a"]``,
``data.azurerm_client_config.current``, ``module.net["eu"].azurerm_key_vault.kv``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Union

from providers.schema import Mode  # one Mode for configuration, schemas and plans

InstanceKey = Union[None, int, str]


def format_key(key: InstanceKey) -> str:
    if key is None:
        return ""
    if isinstance(key, int):
        return f"[{key}]"
    return "[" + json.dumps(key, ensure_ascii=False) + "]"


@dataclass(frozen=True, slots=True, order=True)
class ModuleStep:
    name: str
    key: InstanceKey = None

    def __str__(self) -> str:
        return f"module.{self.name}{format_key(self.key)}"


@dataclass(frozen=True, slots=True)
class ResourceAddress:
    """A resource block (all its instances): ``[module...] [data.]type.name``."""

    mode: Mode
    type: str
    name: str
    module: tuple[ModuleStep, ...] = ()

    def __str__(self) -> str:
        prefix = "".join(f"{m}." for m in self.module)
        data = "data." if self.mode is Mode.DATA else ""
        return f"{prefix}{data}{self.type}.{self.name}"

    def instance(self, key: InstanceKey = None) -> InstanceAddress:
        return InstanceAddress(self, key)

    @property
    def module_path(self) -> str:
        return ".".join(str(m) for m in self.module)


@dataclass(frozen=True, slots=True)
class InstanceAddress:
    resource: ResourceAddress
    key: InstanceKey = None

    def __str__(self) -> str:
        return f"{self.resource}{format_key(self.key)}"

    @property
    def mode(self) -> Mode:
        return self.resource.mode

    @property
    def type(self) -> str:
        return self.resource.type

    @property
    def name(self) -> str:
        return self.resource.name


class AddressError(ValueError):
    pass


_TOKEN = re.compile(
    r"""
    (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
  | \[(?P<int>\d+)\]
  | \[(?P<str>"(?:[^"\\]|\\.)*")\]
  | (?P<dot>\.)
""",
    re.VERBOSE,
)


def _tokens(text: str) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise AddressError(f"unexpected {text[pos]!r} at position {pos + 1} in {text!r}")
        if m.group("name") is not None:
            out.append(("name", m.group("name")))
        elif m.group("int") is not None:
            out.append(("key", int(m.group("int"))))
        elif m.group("str") is not None:
            out.append(("key", json.loads(m.group("str"))))
        pos = m.end()
    return out


def parse_instance(text: str) -> InstanceAddress:
    """Parse ``[module.a[...].]...[data.]type.name[key]``; raises AddressError with a reason."""
    text = text.strip()
    toks = _tokens(text)
    i = 0
    module: list[ModuleStep] = []

    def take_name(what: str) -> str:
        nonlocal i
        if i >= len(toks) or toks[i][0] != "name":
            raise AddressError(f"{text!r} is not a resource address: expected {what}")
        i += 1
        return str(toks[i - 1][1])

    def take_key() -> InstanceKey:
        nonlocal i
        if i < len(toks) and toks[i][0] == "key":
            i += 1
            return toks[i - 1][1]  # type: ignore[return-value]
        return None

    while i < len(toks) and toks[i] == ("name", "module"):
        i += 1
        name = take_name("a module name after 'module.'")
        module.append(ModuleStep(name, take_key()))
    mode = Mode.MANAGED
    if i < len(toks) and toks[i] == ("name", "data"):
        mode = Mode.DATA
        i += 1
    rtype = take_name("a resource type")
    rname = take_name("a resource name after the type")
    key = take_key()
    if i != len(toks):
        raise AddressError(f"{text!r} is not a resource address: unexpected text after {rtype}.{rname}")
    return InstanceAddress(ResourceAddress(mode, rtype, rname, tuple(module)), key)


def parse_resource(text: str) -> ResourceAddress:
    inst = parse_instance(text)
    if inst.key is not None:
        raise AddressError(f"{text!r} names one instance; a resource address has no [key]")
    return inst.resource
