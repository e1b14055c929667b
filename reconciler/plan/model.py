"""What a plan is: plain records, no behaviour beyond small derived views.

A ``Plan`` holds one ``ResourceChange`` per resource instance (and data source read),
the output changes, the rule diagnostics, the ordering the apply must follow and where
it came from (state lineage and serial, a digest of the configuration), so a saved plan
can be checked for staleness before it is applied.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any

from reconciler.addresses import Mode, Node, parse_address
from reconciler.diagnostics import Diagnostic


class Action(enum.Enum):
    NO_OP = "no-op"
    CREATE = "create"
    READ = "read"
    UPDATE = "update"
    DELETE_THEN_CREATE = "delete-then-create"
    CREATE_THEN_DELETE = "create-then-delete"
    DELETE = "delete"
    FORGET = "forget"  # a removed block with destroy = false: out of state, left in the cloud

    @property
    def is_replace(self) -> bool:
        return self in (Action.DELETE_THEN_CREATE, Action.CREATE_THEN_DELETE)

    @property
    def json_actions(self) -> list[str]:
        """Terraform's JSON plan spelling of the action."""
        return {
            Action.NO_OP: ["no-op"],
            Action.CREATE: ["create"],
            Action.READ: ["read"],
            Action.UPDATE: ["update"],
            Action.DELETE_THEN_CREATE: ["delete", "create"],
            Action.CREATE_THEN_DELETE: ["create", "delete"],
            Action.DELETE: ["delete"],
            Action.FORGET: ["forget"],
        }[self]

    @property
    def symbol(self) -> str:
        return {
            Action.NO_OP: " ",
            Action.CREATE: "+",
            Action.READ: "<=",
            Action.UPDATE: "~",
            Action.DELETE_THEN_CREATE: "-/+",
            Action.CREATE_THEN_DELETE: "+/-",
            Action.DELETE: "-",
            Action.FORGET: ".",
        }[self]


def natural_order(address: str) -> list[Any]:
    """A sort key that orders the numbers in addresses as numbers: ``x[2]`` before ``x[10]``."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", address)]


class Reason(enum.Enum):
    """Why an action was chosen, for display only."""

    NONE = ""
    REPLACE_BECAUSE_CANNOT_UPDATE = "replace_because_cannot_update"
    REPLACE_BY_REQUEST = "replace_by_request"
    REPLACE_BY_TRIGGERS = "replace_by_triggers"
    REPLACE_BECAUSE_TAINTED = "replace_because_tainted"
    DELETE_BECAUSE_NO_RESOURCE_CONFIG = "delete_because_no_resource_config"
    DELETE_BECAUSE_COUNT_INDEX = "delete_because_count_index"
    DELETE_BECAUSE_EACH_KEY = "delete_because_each_key"
    DELETE_BECAUSE_WRONG_REPETITION = "delete_because_wrong_repetition"  # the key's kind isn't the block's
    DELETE_BECAUSE_NO_MODULE = "delete_because_no_module"
    DELETE_BY_DESTROY = "delete_by_destroy"
    READ_BECAUSE_CONFIG_UNKNOWN = "read_because_config_unknown"
    READ_BECAUSE_DEPENDENCY_PENDING = "read_because_dependency_pending"


@dataclass(frozen=True)
class ResourceChange:
    address: str  # instance address, e.g. 'terraform_data.x[0]'
    mode: Mode  # text given is read as a Mode ("managed", "data")
    type: str
    name: str
    index: Any  # None | int | str
    module: str  # "" or "module.a"
    provider: str  # local provider name, e.g. "terraform"
    action: Action
    before: dict[str, Any] | None
    after: dict[str, Any] | None  # UNKNOWN marks values known only after apply
    replace_paths: tuple[tuple[Any, ...], ...] = ()
    reason: Reason = Reason.NONE
    sensitive_paths: tuple[tuple[Any, ...], ...] = ()  # paths of ``after`` that are sensitive
    depends_on: tuple[Node, ...] = ()  # the graph nodes the object itself waits for
    phase_depends_on: dict[str, tuple[Node, ...]] = field(default_factory=dict)  # phase -> nodes it waits for
    # the phases of this instance in apply order; "" is the object itself
    phases: tuple[str, ...] = ("",)
    prevent_destroy: bool = False
    create_before_destroy: bool = False
    changed_attributes: tuple[str, ...] = ()
    # the configuration value (after defaults) the provider is asked to create or update to
    config: dict[str, Any] | None = None
    references: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # the same, through computed keys too (``k[*].id``), for the provider rules only; empty for a
    # provider without rules (``plan.assemble.references_through_keys``)
    rule_references: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # provider-private facts read at refresh (keys starting with "_"), for the domain rules only
    private: dict[str, Any] = field(default_factory=dict[str, Any])
    # the id an import block brings this existing object into state from; None: no import
    importing: str | None = None
    # the resource block plan -generate-config-out wrote for this import; "" when it was configured
    generated_config: str = ""
    # paths of ``before`` that are sensitive (as state recorded them, and the schema's)
    before_sensitive_paths: tuple[tuple[Any, ...], ...] = ()
    # left as it is because -target did not select it (terraform's JSON plan leaves it out)
    untargeted: bool = False

    @property
    def hidden_paths(self) -> tuple[tuple[Any, ...], ...]:
        """Every path sensitive on either side: what a renderer showing both must hide."""
        if not self.before_sensitive_paths:
            return self.sensitive_paths
        return tuple(sorted(set(self.sensitive_paths) | set(self.before_sensitive_paths), key=repr))

    def __post_init__(self) -> None:
        if not isinstance(self.mode, Mode):
            object.__setattr__(self, "mode", Mode(self.mode))

    @property
    def node(self) -> Node:
        """The graph node of the object itself."""
        return Node(parse_address(self.address))

    def phase_node(self, phase: str) -> Node:
        return Node(parse_address(self.address), phase)


@dataclass(frozen=True)
class OutputChange:
    name: str
    action: Action
    before: Any
    after: Any
    sensitive: bool = False


@dataclass
class Plan:
    changes: list[ResourceChange]
    outputs: list[OutputChange] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    edges: list[tuple[Node, Node, str]] = field(default_factory=list)  # (before node, after node, why)
    destroy: bool = False
    refresh_only: bool = False
    # a refresh-only plan's changes: how many objects the refresh found changed or gone since state
    # recorded them, as the note on changes outside vaultform counts them (0 for other plans)
    outside_changes: int = 0
    cloud: str = ""  # which cloud the plan targets, for the header
    state_lineage: str = ""
    state_serial: int = 0
    config_digest: str = ""
    variables: dict[str, Any] = field(default_factory=dict)
    sensitive_variables: frozenset[str] = frozenset()  # never shown; a saved plan encrypts them
    timestamp: str = ""
    # instance address -> refreshed attributes whose drift the plan accepted into state
    refreshed: dict[str, dict[str, Any] | None] = field(default_factory=dict[str, Any])
    read_real_objects: bool = True  # False: -refresh=false, the plan compared with state alone
    # data sources read while planning: instance address -> attributes
    data_values: dict[str, dict[str, Any]] = field(default_factory=dict[str, Any])
    # their sensitive paths (the schema's and where their configuration was marked)
    data_sensitive_paths: dict[str, tuple[tuple[Any, ...], ...]] = field(default_factory=dict[str, Any])
    # (from, to) addresses that moved blocks renamed in state; apply records them
    moved: list[tuple[str, str]] = field(default_factory=list)
    # the configuration planned, as the JSON plan's ``configuration`` (``plan.config_json``): made
    # when the plan is saved (only a saved plan's JSON shows it); None until then
    configuration: dict[str, Any] | None = None

    @property
    def errored(self) -> bool:
        return any(d.is_error for d in self.diagnostics)

    @property
    def applicable(self) -> bool:
        return not self.errored

    def change(self, address: str) -> ResourceChange | None:
        for c in self.changes:
            if c.address == address:
                return c
        return None

    def changes_by_address(self) -> dict[str, ResourceChange]:
        """Address -> its change (the first, as ``change`` finds it): for looking many up at once."""
        found: dict[str, ResourceChange] = {}
        for c in self.changes:
            found.setdefault(c.address, c)
        return found

    @property
    def has_changes(self) -> bool:
        return (
            bool(self.moved)
            or self.outside_changes
            > 0  # a refresh-only plan that records what changed (terraform's CanApply)
            or any(c.action not in (Action.NO_OP, Action.READ) for c in self.changes)
            or any(o.action is not Action.NO_OP for o in self.outputs)
            or any(c.importing for c in self.changes)
        )

    def counts(self) -> dict[str, int]:
        add = sum(1 for c in self.changes if c.action in (Action.CREATE,) or c.action.is_replace)
        change = sum(1 for c in self.changes if c.action is Action.UPDATE)
        destroy = sum(1 for c in self.changes if c.action is Action.DELETE or c.action.is_replace)
        return {"add": add, "change": change, "destroy": destroy}
