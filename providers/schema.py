"""Resource schemas as data.

A provider describes every resource type and data source it serves with these
frozen records; the engine reads them generically (validation, defaults,
force-new, sensitive values, one-way changes) and never branches on a type name.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from functools import cached_property
from typing import Any

from state.addresses import Mode  # one Mode for configuration, schemas, plans and state


class Kind(enum.Enum):
    STRING = "string"
    NUMBER = "number"
    BOOL = "bool"
    LIST = "list"
    SET = "set"
    MAP = "map"
    ANY = "any"  # dynamic: any value (terraform_data.input, ...)


@dataclass(frozen=True, slots=True)
class Type:
    kind: Kind
    element: Type | None = None

    def __str__(self) -> str:
        if self.element is None:
            return self.kind.value
        return f"{self.kind.value}({self.element})"


STRING = Type(Kind.STRING)
NUMBER = Type(Kind.NUMBER)
BOOL = Type(Kind.BOOL)
ANY = Type(Kind.ANY)


def list_of(t: Type) -> Type:
    return Type(Kind.LIST, t)


def set_of(t: Type) -> Type:
    return Type(Kind.SET, t)


def map_of(t: Type) -> Type:
    return Type(Kind.MAP, t)


class ChangeKind(enum.Enum):
    """How an attribute may change once the object exists (beyond force_new)."""

    FIXED_ONCE_SET = "fixed_once_set"  # any change after a value was set is refused
    ONE_WAY = "one_way"  # may move away from ``from_value`` never back to it
    FINAL_VALUE = "final_value"  # once it holds ``value``, it can't change


@dataclass(frozen=True, slots=True)
class ChangeRule:
    kind: ChangeKind
    code: str  # the refusal code, e.g. "R10"
    message: str  # why Azure refuses it, in vaultform's words
    value: Any = None  # FINAL_VALUE: the final value; ONE_WAY: the value never returned to


@dataclass(frozen=True)
class Attribute:
    name: str
    type: Type
    required: bool = False
    optional: bool = False
    computed: bool = False  # the provider sets it (optional+computed: user may set it)
    default: Any = None  # filled when the user leaves it unset (and not computed)
    enum: tuple[Any, ...] | None = None
    case_insensitive: bool = False  # enum/permission values compared and read back case-insensitively
    pattern: str | None = None  # a regular expression a string must fully match
    pattern_hint: str = ""  # what the pattern means, for the error message
    min_value: float | None = None
    max_value: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    force_new: bool = False
    sensitive: bool = False
    reconciled: bool = True  # False: azurerm knows it, vaultform accepts it with a warning
    deprecated: str = ""  # non-empty: a warning with this text
    deprecated_since: str = ""  # the provider version that deprecated it: no warning when pinned below
    conflicts_with: tuple[str, ...] = ()
    change_rule: ChangeRule | None = None
    description: str = ""
    fold: str = ""  # a name in FOLDS: spellings Azure treats as the same value
    echoes: str = ""  # another attribute of the block whose value this one repeats: its marks follow


_ZERO = {Kind.STRING: "", Kind.NUMBER: 0, Kind.BOOL: False, Kind.LIST: [], Kind.SET: [], Kind.MAP: {}}


def zero_value(t: Type) -> Any:
    """What Azure reads back for an unset argument of type ``t`` (None for ``any``)."""
    zero = _ZERO.get(t.kind)
    return type(zero)() if isinstance(zero, (list, dict)) else zero


def _fold_location(value: str) -> str:
    return value.replace(" ", "").lower()


def _fold_rfc3339(value: str) -> str:
    from datetime import datetime

    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Equivalent spellings of one value ("West Europe" is "westeurope"); the planner compares
# folded values so a re-spelling is no change.
FOLDS = {
    "location": _fold_location,
    "rfc3339": _fold_rfc3339,
    "lower": str.lower,
}


def folded(attr: Attribute, value: Any) -> Any:
    fold = FOLDS.get(attr.fold)
    if fold is None or not isinstance(value, str):
        return value
    return fold(value)


class Nesting(enum.Enum):
    SINGLE = "single"  # at most one block; value is a dict or None
    LIST = "list"  # ordered blocks; value is a list of dicts
    SET = "set"  # unordered blocks; value is a list of dicts compared as a set


@dataclass(frozen=True)
class BlockSchema:
    attributes: tuple[Attribute, ...] = ()
    blocks: tuple[NestedBlock, ...] = ()
    # Cross-argument constraints between names (attributes or blocks) of this block.
    exactly_one_of: tuple[tuple[str, ...], ...] = ()  # per group: exactly one is set
    at_least_one_of: tuple[tuple[str, ...], ...] = ()  # per group: one or more are set
    required_with: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (name, others): name set -> others set

    @cached_property
    def attribute_map(self) -> dict[str, Attribute]:
        return {a.name: a for a in self.attributes}

    @cached_property
    def block_map(self) -> dict[str, NestedBlock]:
        return {b.name: b for b in self.blocks}

    def names(self) -> list[str]:
        return [a.name for a in self.attributes] + [b.name for b in self.blocks]


@dataclass(frozen=True)
class NestedBlock:
    name: str
    block: BlockSchema
    nesting: Nesting = Nesting.LIST
    min_items: int = 0
    max_items: int | None = None
    force_new: bool = False
    computed: bool = False  # the provider may fill it when the user leaves it out
    reconciled: bool = True
    change_rule: ChangeRule | None = None
    description: str = ""
    phase: str = ""  # non-empty: applied as a separate graph node after the object
    # itself (e.g. a vault's "encryption" is its key assignment)
    # may also be written as an argument, ``name = [...]`` (azurerm's ConfigModeAttr): a key vault's
    # ``access_policy = []`` removes every inline policy; any other block written so is refused
    attribute_syntax: bool = False


@dataclass(frozen=True)
class ResourceSchema:
    type_name: str  # "azurerm_key_vault"
    mode: Mode
    block: BlockSchema
    description: str = ""
    import_id_hint: str = ""  # how an import id looks, for messages
    version: int = 0

    @property
    def attribute_map(self) -> dict[str, Attribute]:
        return self.block.attribute_map

    @property
    def block_map(self) -> dict[str, NestedBlock]:
        return self.block.block_map


@dataclass(frozen=True)
class ValueKind:
    """What a string means beyond its type: a key URI, a key vault's ARM id, a principal id..."""

    name: str
    description: str  # "a key vault's ARM id (/subscriptions/.../vaults/NAME)"
    where: str = ""  # where a value of this kind comes from, for the fix: "azurerm_key_vault_key.NAME.id"


@dataclass(frozen=True)
class ValueKinds:
    """Which attributes produce which kind of value, and which kinds each argument accepts.

    Keys are ``(TYPE, PATH)``: TYPE is ``azurerm_key_vault`` or ``data.azurerm_key_vault``, PATH
    the attribute's dotted path with block names (``identity.principal_id``,
    ``encryption.key_id``). The engine reports an argument given a reference to another kind,
    before any value is known.
    """

    kinds: dict[str, ValueKind] = field(default_factory=dict)
    produces: dict[tuple[str, str], str] = field(default_factory=dict)
    accepts: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)

    def accepted_by(self, type_name: str) -> dict[str, tuple[str, ...]]:
        return {path: kinds for (t, path), kinds in self.accepts.items() if t == type_name}


@dataclass(frozen=True)
class ProviderSchema:
    name: str  # "azurerm"
    # the provider's full address as Terraform prints it ("registry.terraform.io/hashicorp/azurerm");
    # "" for the registry's hashicorp namespace under ``name``
    source: str = ""
    resources: dict[str, ResourceSchema] = field(default_factory=dict)
    data_sources: dict[str, ResourceSchema] = field(default_factory=dict)
    provider_config: BlockSchema = BlockSchema()
    value_kinds: ValueKinds = field(default_factory=ValueKinds)
    # the provider's own words for a type it doesn't serve ("did you mean ...", "known but not managed")
    explain_unknown: Callable[[Mode, str], str] | None = field(default=None, compare=False)
    # the resources' ``version`` is the schema version the provider terraform runs records, so an
    # object recorded in a later one was written by a newer provider; False where versions are
    # left at 0 and a state terraform's provider wrote may carry any
    versions_match_terraform: bool = False

    @property
    def address(self) -> str:
        return self.source or f"registry.terraform.io/hashicorp/{self.name}"

    def lookup(self, mode: Mode, type_name: str) -> ResourceSchema | None:
        table = self.resources if mode is Mode.MANAGED else self.data_sources
        return table.get(type_name)
