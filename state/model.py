"""The state model: what vaultform remembers about the objects it manages.

Values are frozen dataclasses; every change goes through a small method that
returns a new object and shares every untouched part with the old one. That
makes "did anything change" cheap and exact: ``State.same_content`` compares
tuples whose unchanged elements are the very same objects (an identity check),
and only the replaced parts are compared field by field. ``attributes`` dicts
and ``outputs`` are plain dicts for convenience: treat them as read-only and
build a new instance (``InstanceState.with_attributes``) instead of editing one.

Addresses come from ``state.addresses`` (the one address family the engine and the
providers use too); they are re-exported here for the state package's callers.
"""

from __future__ import annotations

import bisect
import enum
import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from importlib import metadata
from typing import Any

from state.addresses import (
    IndexKey,
    InstanceAddress,
    Mode,
    ModulePath,
    ModuleStep,
    ResourceAddress,
    as_instance_address,
    as_resource_address,
    format_key,
    format_module,
    key_order,
    parse_address,
    parse_module,
    parse_resource_address,
)

__all__ = [  # the address names are re-exported for the state package's callers
    "IndexKey",
    "InstanceAddress",
    "Mode",
    "ModulePath",
    "ModuleStep",
    "ResourceAddress",
    "format_key",
    "format_module",
    "key_order",
    "parse_address",
    "parse_module",
    "parse_resource_address",
]


def _installed_version() -> str:
    try:
        return metadata.version("vaultform")
    except metadata.PackageNotFoundError:
        return "0.0.0"


VAULTFORM_VERSION = _installed_version()

PathStep = str | int


class InstanceStatus(enum.Enum):
    READY = ""
    TAINTED = "tainted"


class PendingAction(enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    REPLACE = "replace"


# --------------------------------------------------------------------------- state values


@dataclass(frozen=True, slots=True)
class PendingOperation:
    """An operation started against the cloud whose outcome is not yet recorded.

    Written before the request is sent, so a crash leaves a trace: the next run
    looks for ``planned_id`` (when the id is known in advance, as for ARM PUTs)
    and compares ``request_digest`` to tell a retry of the same request from a
    different one.
    """

    operation: PendingAction
    started_at: datetime
    planned_id: str | None
    request_digest: str

    def __post_init__(self) -> None:
        if not isinstance(self.operation, PendingAction):
            object.__setattr__(self, "operation", PendingAction(self.operation))
        if self.started_at.tzinfo is None:
            raise ValueError("PendingOperation.started_at must carry a time zone (use UTC)")


# A provider's read names, under this key, the private facts ("_"-named) of the object that state
# keeps (``InstanceState.private``); the read's other private facts are its own, read afresh each
# time (a vault's item history). A fact first learned by a read (a key the vault moved away from
# outside vaultform or in a run cut short) is kept from then on.
KEPT_FACTS = "_kept"


def terraform_attributes(values: Mapping[str, Any]) -> dict[str, Any]:
    """An object's values without its provider's private facts ("_"-named): terraform's attributes."""
    return {k: v for k, v in values.items() if not k.startswith("_")}


def _sensitive_sort_key(path: tuple[PathStep, ...]) -> str:
    return json.dumps(list(path))


@dataclass(frozen=True)
class InstanceState:
    """One object in the cloud (or one read of a data source).

    ``sensitive_paths`` lists attribute paths (tuples of keys and list indexes)
    whose values are secret: they are stored, because planning needs them, but
    never shown. Providers never return key material, so none is ever stored.
    """

    index_key: IndexKey = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    sensitive_paths: tuple[tuple[PathStep, ...], ...] = ()
    dependencies: tuple[InstanceAddress, ...] = ()  # text is read as addresses
    status: InstanceStatus = InstanceStatus.READY
    create_before_destroy: bool = False
    schema_version: int = 0
    pending: PendingOperation | None = None
    # the provider's own facts about the object that the cloud doesn't keep and the next run needs
    # (a vault's keys it moved away from); names start with "_", as a refresh's private facts do
    private: Mapping[str, Any] = field(default_factory=dict)
    # the type of each dynamic attribute (one of any type, as terraform_data's input) as terraform
    # records it beside the value, cty's JSON form: a list, set or map is not told by the value
    # alone. An attribute not here: the type its value gives (a tuple or an object)
    types: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.index_key, bool) or not isinstance(self.index_key, (type(None), int, str)):
            raise TypeError(f"index_key must be None, int or str, not {self.index_key!r}")
        if not isinstance(self.status, InstanceStatus):
            object.__setattr__(self, "status", InstanceStatus(self.status))
        # most instances have no sensitive path and at most one dependency: those need no
        # set and no sort (hashing an address is the bulk of reading a large state otherwise)
        if self.sensitive_paths or type(self.sensitive_paths) is not tuple:
            paths = {tuple(p) for p in self.sensitive_paths}
            object.__setattr__(self, "sensitive_paths", tuple(sorted(paths, key=_sensitive_sort_key)))
        deps = self.dependencies
        if len(deps) == 1 and type(deps) is tuple and isinstance(deps[0], InstanceAddress):
            return
        unique = {d if isinstance(d, InstanceAddress) else parse_address(d) for d in deps}
        object.__setattr__(self, "dependencies", tuple(sorted(unique, key=str)))

    @property
    def tainted(self) -> bool:
        return self.status is InstanceStatus.TAINTED

    def with_attributes(
        self, attributes: Mapping[str, Any], sensitive_paths: tuple[Any, ...] | list[Any] | None = None
    ) -> InstanceState:
        if sensitive_paths is None:
            sensitive_paths = self.sensitive_paths
        return replace(self, attributes=dict(attributes), sensitive_paths=tuple(sensitive_paths))

    def with_read(self, read: Mapping[str, Any]) -> InstanceState:
        """This object as a read found it: the attributes it returned; of the provider's private
        facts ("_"-named), the ones this state keeps and those the read names under
        ``KEPT_FACTS``, updated where the read carries them (a refresh's own facts, such as a
        vault's item history, are read afresh each time and never stored among terraform's
        attributes)."""
        attributes = terraform_attributes(read)
        private = {k: read.get(k, v) for k, v in self.private.items()}
        for name in read.get(KEPT_FACTS) or ():
            if isinstance(name, str) and name.startswith("_") and name != KEPT_FACTS and read.get(name):
                private[name] = read[name]
        return replace(self, attributes=attributes, private=private)

    def with_status(self, status: InstanceStatus) -> InstanceState:
        return self if status is self.status else replace(self, status=status)

    def with_pending(self, pending: PendingOperation | None) -> InstanceState:
        return self if pending == self.pending else replace(self, pending=pending)

    def with_dependencies(
        self, dependencies: tuple[InstanceAddress, ...] | list[InstanceAddress]
    ) -> InstanceState:
        return replace(self, dependencies=tuple(dependencies))


def _instance_sort_key(inst: InstanceState) -> tuple[Any, ...]:
    return key_order(inst.index_key)


@dataclass(frozen=True)
class ResourceState:
    """A resource block's objects: one instance, or one per count index / for_each key."""

    mode: Mode
    type: str
    name: str
    module: str  # "" for the root module, else "module.a.module.b[0]"
    provider: str
    instances: tuple[InstanceState, ...] = ()
    prevent_destroy: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.mode, Mode):
            object.__setattr__(self, "mode", Mode(self.mode))
        instances = self.instances
        if len(instances) > 1 or type(instances) is not tuple:  # one instance: nothing to sort or compare
            instances = tuple(sorted(instances, key=_instance_sort_key))
            keys = [inst.index_key for inst in instances]
            if len(set(keys)) != len(keys):
                raise ValueError(f"{self.type}.{self.name}: two instances share an index key")
            object.__setattr__(self, "instances", instances)
        object.__setattr__(self, "key", (self.module, self.mode.value, self.type, self.name))

    key: tuple[str, str, str, str] = field(init=False, repr=False, compare=False)
    """The identity used to index resources in a ``State`` (module, mode, type, name)."""

    @property
    def address(self) -> ResourceAddress:
        return ResourceAddress(self.mode, self.type, self.name, parse_module(self.module))

    def instance(self, key: IndexKey = None) -> InstanceState | None:
        for inst in self.instances:
            if inst.index_key == key and type(inst.index_key) is type(key):
                return inst
        return None

    def _position(self, key: IndexKey) -> int | None:
        for i, inst in enumerate(self.instances):
            if inst.index_key == key and type(inst.index_key) is type(key):
                return i
        return None

    def with_instance(self, instance: InstanceState) -> ResourceState:
        i = self._position(instance.index_key)
        if i is not None:
            if self.instances[i] is instance:
                return self
            instances = self.instances[:i] + (instance,) + self.instances[i + 1 :]
        else:
            instances = self.instances + (instance,)
        return replace(self, instances=instances)

    def without_instance(self, key: IndexKey) -> ResourceState:
        i = self._position(key)
        if i is None:
            return self
        return replace(self, instances=self.instances[:i] + self.instances[i + 1 :])


def value_type(value: Any) -> Any:
    """The type Terraform records beside a dynamic value, inferred as Terraform infers a literal's:
    a collection is a tuple or an object (attributes in name order, as cty writes them)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float, Decimal)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return ["object", {str(k): value_type(value[k]) for k in sorted(value, key=str)}]
    if isinstance(value, (list, tuple)):
        return ["tuple", [value_type(v) for v in value]]
    return "dynamic"


@dataclass(frozen=True, slots=True)
class OutputState:
    value: Any
    sensitive: bool = False
    # the type terraform records beside the value (cty's JSON form) when the value alone doesn't
    # tell it - a list, set or map, which a plain value would give as a tuple or an object; None:
    # the value's own
    type: Any = None

    @property
    def json_type(self) -> Any:
        """The type as state and ``output -json`` write it: the recorded one, else the value's own."""
        return self.type if self.type is not None else value_type(self.value)


def _resource_sort_key(res: ResourceState) -> tuple[Any, ...]:
    return res.key


_ResourceIndex = dict[tuple[str, str, str, str], ResourceState]


@dataclass(frozen=True)
class State:
    """A whole state: resources sorted by address, outputs by name.

    ``lineage`` is fixed when a state is first created and never changes;
    ``serial`` counts real changes and is bumped by the backend on write, only
    when the content differs from what is stored.
    """

    lineage: str
    serial: int = 0
    vaultform_version: str = VAULTFORM_VERSION
    resources: tuple[ResourceState, ...] = ()
    outputs: Mapping[str, OutputState] = field(default_factory=dict)
    check_results: tuple[Mapping[str, Any], ...] = ()
    _index: _ResourceIndex | None = field(default=None, init=False, repr=False, compare=False, hash=False)
    _instances: tuple[tuple[InstanceAddress, ResourceState, InstanceState], ...] | None = field(
        default=None, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        resources = tuple(sorted(self.resources, key=_resource_sort_key))
        object.__setattr__(self, "resources", resources)
        object.__setattr__(self, "check_results", tuple(self.check_results))
        if len({r.key for r in resources}) != len(resources):
            raise ValueError("two resources in a state share an address")

    @classmethod
    def new(cls, *, lineage: str | None = None, vaultform_version: str = VAULTFORM_VERSION) -> State:
        return cls(lineage=lineage or str(uuid.uuid4()), serial=0, vaultform_version=vaultform_version)

    # ------------------------------------------------------------------ lookups

    def _by_key(self) -> _ResourceIndex:
        """Resources by ``key``, built on first use and handed on to derived states."""
        index = self._index
        if index is None:
            index = {res.key: res for res in self.resources}
            object.__setattr__(self, "_index", index)
        return index

    def _position(self, key: tuple[Any, ...]) -> int:
        """Where a resource with ``key`` is or would go in the sorted ``resources``."""
        return bisect.bisect_left(self.resources, key, key=_resource_sort_key)

    def resource(self, addr: ResourceAddress | InstanceAddress | str) -> ResourceState | None:
        return self._by_key().get(as_resource_address(addr).key)

    def instance(self, addr: InstanceAddress | ResourceAddress | str) -> InstanceState | None:
        address = as_instance_address(addr)
        res = self.resource(address.resource)
        return None if res is None else res.instance(address.key)

    def instances(self) -> Iterator[tuple[InstanceAddress, ResourceState, InstanceState]]:
        """Every instance in address order, with its resource (worked out once per state: a plan
        walks them several times)."""
        found = self._instances
        if found is None:
            found = tuple(
                (InstanceAddress(address, inst.index_key), res, inst)
                for res in self.resources
                for address in (res.address,)
                for inst in res.instances
            )
            object.__setattr__(self, "_instances", found)
        return iter(found)

    def addresses(self) -> list[str]:
        return [str(addr) for addr, _, _ in self.instances()]

    # ------------------------------------------------------------------ changes

    def same_content(self, other: State) -> bool:
        """True when ``other`` holds the same lineage, resources, outputs and checks.

        Serial and vaultform_version are bookkeeping and not compared. Unchanged
        resources are shared objects, so this costs an identity check each.
        """
        if self is other:
            return True
        return (
            self.lineage == other.lineage
            and self.resources == other.resources
            and self.outputs == other.outputs
            and self.check_results == other.check_results
        )

    def with_serial(self, serial: int) -> State:
        if serial == self.serial:
            return self
        return self._derive(serial=serial)

    def with_resource(self, resource: ResourceState) -> State:
        """Insert or replace ``resource`` (an empty one is removed instead)."""
        if not resource.instances:
            return self.without_resource(resource.address)
        index = self._by_key()
        existing = index.get(resource.key)
        if existing is resource:
            return self
        at = self._position(resource.key)
        after = at + 1 if existing is not None else at
        index = dict(index)  # a C-level copy: cheap even for thousands of resources
        index[resource.key] = resource
        return self._derive(resources=self.resources[:at] + (resource,) + self.resources[after:], index=index)

    def without_resource(self, addr: ResourceAddress | InstanceAddress | str) -> State:
        key = as_resource_address(addr).key
        index = self._by_key()
        if key not in index:
            return self
        at = self._position(key)
        index = dict(index)
        del index[key]
        return self._derive(resources=self.resources[:at] + self.resources[at + 1 :], index=index)

    def with_instance(
        self,
        addr: InstanceAddress | str,
        instance: InstanceState,
        *,
        provider: str | None = None,
        prevent_destroy: bool | None = None,
    ) -> State:
        """Record ``instance`` at ``addr`` (its key is taken from the address).

        A resource not yet in state is created; it then needs ``provider``.
        ``prevent_destroy``, when given, updates the recorded lifecycle flag.
        """
        address = as_instance_address(addr)
        if instance.index_key != address.key or type(instance.index_key) is not type(address.key):
            instance = replace(instance, index_key=address.key)
        res = self.resource(address.resource)
        if res is None:
            if not provider:
                raise ValueError(f"{address}: a new resource in state needs its provider")
            ra = address.resource
            res = ResourceState(
                ra.mode, ra.type, ra.name, ra.module_text, provider, (instance,), bool(prevent_destroy)
            )
        else:
            res = res.with_instance(instance)
            changes: dict[str, Any] = {}
            if provider and provider != res.provider:
                changes["provider"] = provider
            if prevent_destroy is not None and prevent_destroy != res.prevent_destroy:
                changes["prevent_destroy"] = prevent_destroy
            if changes:
                res = replace(res, **changes)
        return self.with_resource(res)

    def without_instance(self, addr: InstanceAddress | str) -> State:
        """Forget one instance; a resource left without instances is forgotten too."""
        address = as_instance_address(addr)
        res = self.resource(address.resource)
        if res is None:
            return self
        return self.with_resource(res.without_instance(address.key))

    def with_output(self, name: str, value: Any, *, sensitive: bool = False, type: Any = None) -> State:
        output = OutputState(value, sensitive, type)
        if self.outputs.get(name) == output:
            return self
        return self._derive(outputs={**self.outputs, name: output})

    def without_output(self, name: str) -> State:
        if name not in self.outputs:
            return self
        return self._derive(outputs={k: v for k, v in self.outputs.items() if k != name})

    def with_outputs(self, outputs: Mapping[str, OutputState]) -> State:
        outputs = dict(outputs)
        return self if outputs == self.outputs else self._derive(outputs=outputs)

    def _derive(self, *, index: _ResourceIndex | None = None, **changes: Any) -> State:
        """A copy with ``changes``; resources are already sorted, so skip re-sorting."""
        new = object.__new__(State)
        for name in ("lineage", "serial", "vaultform_version", "resources", "outputs", "check_results"):
            object.__setattr__(new, name, changes.get(name, getattr(self, name)))
        if index is None and "resources" not in changes:
            index = self._index  # same resources
        object.__setattr__(new, "_index", index)
        object.__setattr__(new, "_instances", None if "resources" in changes else self._instances)
        return new
