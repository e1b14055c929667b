"""The module model: one directory's blocks as frozen records (not evaluated).

``decode_module(files) -> (Module, diagnostics)`` (implemented in
``reconciler.config.convert_model``) reads the top-level blocks of a module's
files into these records. Every record keeps its ``Pos`` and its raw
``ast`` expressions; evaluating them is the evaluator's job. Literal-only
settings (a variable's ``description``/``sensitive``/``nullable``, lifecycle
flags, a module's ``source``) are decoded here because Terraform requires them
to be constants.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.addresses import Mode
from reconciler.config import ast

__all__ = [
    "Mode",
    "RequiredProvider",
    "Backend",
    "Terraform",
    "ProviderRef",
    "ProviderConfig",
    "Validation",
    "Variable",
    "Local",
    "Output",
    "Lifecycle",
    "Resource",
    "ModuleCall",
    "Moved",
    "Import",
    "Module",
]


@dataclass(frozen=True, slots=True)
class RequiredProvider:
    name: str  # the local name, e.g. "azurerm"
    source: str | None  # e.g. "hashicorp/azurerm"
    version: str | None  # a constraint such as "~> 3.100"
    pos: ast.Pos


@dataclass(frozen=True, slots=True)
class Backend:
    type: str  # "local", "azurerm", "pg" ...
    config: ast.Body
    pos: ast.Pos


@dataclass(frozen=True, slots=True)
class Terraform:
    """All ``terraform`` blocks of a module, merged."""

    required_version: tuple[ast.Expr, ...] = ()  # every constraint must hold
    required_providers: tuple[RequiredProvider, ...] = ()
    backend: Backend | None = None
    pos: ast.Pos | None = None
    encryption: ast.Block | None = None  # OpenTofu's encryption block (reconciler.encryption_config)

    def provider(self, name: str) -> RequiredProvider | None:
        for p in self.required_providers:
            if p.name == name:
                return p
        return None


@dataclass(frozen=True, slots=True)
class ProviderRef:
    """``azurerm`` or ``azurerm.west`` as written in a ``provider`` meta-argument."""

    name: str
    alias: str | None
    pos: ast.Pos

    def __str__(self) -> str:
        return f"{self.name}.{self.alias}" if self.alias else self.name


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    name: str
    alias: str | None
    body: ast.Body  # without the ``alias`` argument
    pos: ast.Pos

    @property
    def key(self) -> str:
        return f"{self.name}.{self.alias}" if self.alias else self.name


@dataclass(frozen=True, slots=True)
class Validation:
    """A ``validation``, ``precondition`` or ``postcondition`` block."""

    condition: ast.Expr
    error_message: ast.Expr
    pos: ast.Pos


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    type_expr: ast.Expr | None
    default_expr: ast.Expr | None
    description: str | None
    sensitive: bool
    nullable: bool
    validations: tuple[Validation, ...]
    pos: ast.Pos

    @property
    def required(self) -> bool:
        return self.default_expr is None


@dataclass(frozen=True, slots=True)
class Local:
    name: str
    expr: ast.Expr
    pos: ast.Pos


@dataclass(frozen=True, slots=True)
class Output:
    name: str
    value: ast.Expr
    description: str | None
    sensitive: bool
    depends_on: tuple[ast.Expr, ...]
    pos: ast.Pos
    preconditions: tuple[Validation, ...] = ()


@dataclass(frozen=True, slots=True)
class Check:
    """A ``check`` block: assertions about the configuration's objects that warn, never stop a run."""

    name: str
    asserts: tuple[Validation, ...]
    pos: ast.Pos


@dataclass(frozen=True, slots=True)
class Lifecycle:
    prevent_destroy: bool = False
    create_before_destroy: bool = False
    ignore_changes: tuple[ast.Expr, ...] = ()  # attribute references such as ``tags`` or ``tags["a"]``
    ignore_all_changes: bool = False  # ``ignore_changes = all``
    replace_triggered_by: tuple[ast.Expr, ...] = ()
    preconditions: tuple[Validation, ...] = ()
    postconditions: tuple[Validation, ...] = ()
    pos: ast.Pos | None = None


@dataclass(frozen=True, slots=True)
class Resource:
    mode: Mode
    type: str
    name: str
    count: ast.Expr | None
    for_each: ast.Expr | None
    provider: ProviderRef | None
    depends_on: tuple[ast.Expr, ...]
    lifecycle: Lifecycle
    body: ast.Body  # without meta-arguments; ``dynamic`` blocks stay for the expander
    pos: ast.Pos
    check: str = ""  # a data source scoped to this check block: its read's failure is a warning

    @property
    def address(self) -> str:
        prefix = "data." if self.mode is Mode.DATA else ""
        return f"{prefix}{self.type}.{self.name}"

    @property
    def provider_name(self) -> str:
        """The provider's local name: the explicit one, or the type's prefix (``azurerm_x`` -> azurerm)."""
        if self.provider is not None:
            return self.provider.name
        return self.type.split("_", 1)[0]


@dataclass(frozen=True, slots=True)
class ModuleCall:
    name: str
    source: str
    source_pos: ast.Pos
    version: str | None
    count: ast.Expr | None
    for_each: ast.Expr | None
    depends_on: tuple[ast.Expr, ...]
    providers: ast.Expr | None
    arguments: dict[str, ast.Attribute] = field(hash=False)  # the module's input variables
    pos: ast.Pos


@dataclass(frozen=True, slots=True)
class Moved:
    from_: ast.Expr
    to: ast.Expr
    from_address: str  # canonical text, e.g. ``module.a.azurerm_key_vault.kv[0]``
    to_address: str
    pos: ast.Pos


@dataclass(frozen=True, slots=True)
class Removed:
    """A removed block: the objects at ``address`` (a resource or a module call, from this module,
    no instance keys) are destroyed, or with ``lifecycle { destroy = false }`` leave state and stay
    in the cloud."""

    address: str
    destroy: bool
    pos: ast.Pos


@dataclass(frozen=True, slots=True)
class Import:
    to: ast.Expr
    to_address: str
    id: ast.Expr
    for_each: ast.Expr | None
    provider: ProviderRef | None
    pos: ast.Pos


@dataclass(frozen=True, slots=True)
class Module:
    """One directory's configuration. Mappings keep declaration order."""

    terraform: Terraform
    providers: tuple[ProviderConfig, ...]
    variables: dict[str, Variable] = field(hash=False)
    locals: dict[str, Local] = field(hash=False)
    outputs: dict[str, Output] = field(hash=False)
    resources: dict[str, Resource] = field(hash=False)  # by address: ``type.name`` / ``data.type.name``
    module_calls: dict[str, ModuleCall] = field(hash=False)
    moved: tuple[Moved, ...] = ()
    imports: tuple[Import, ...] = ()
    files: tuple[str, ...] = ()
    removed: tuple[Removed, ...] = ()
    checks: dict[str, Check] = field(default_factory=dict, hash=False)

    @property
    def forget(self) -> tuple[Removed, ...]:
        """The removed blocks that keep their objects in the cloud."""
        return tuple(r for r in self.removed if not r.destroy)

    @property
    def managed_resources(self) -> tuple[Resource, ...]:
        return tuple(r for r in self.resources.values() if r.mode is Mode.MANAGED)

    @property
    def data_resources(self) -> tuple[Resource, ...]:
        return tuple(r for r in self.resources.values() if r.mode is Mode.DATA)

    def provider_config(self, key: str) -> ProviderConfig | None:
        for p in self.providers:
            if p.key == key:
                return p
        return None
