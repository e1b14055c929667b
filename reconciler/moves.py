"""`moved` blocks: rename objects in state before planning, as Terraform does.

A ``moved { from = a.b  to = a.c }`` block says the object recorded as ``a.b`` is now
configured as ``a.c``: the state entry is renamed instead of planning a destroy and a
create. The ends are typed addresses (``Endpoint``), never text taken apart:

* a resource (``a.b``: every instance, keys kept) or one instance (``a.b[0]``);
* a module call (``module.a`` to ``module.b``: every instance of it, keys kept, with all
  that is inside) or one module instance (``module.a`` to ``module.a["x"]``: enabling
  for_each on a call; ``module.a[0]`` to ``module.b``).

A block inside a module applies in every instance of that module. Moves are applied in
the order written; one whose source is gone is already done and is skipped. What terraform's
plan refuses in the blocks themselves is checked by ``reconciler.moves_check``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from reconciler.addresses import (
    AddressError,
    IndexKey,
    InstanceAddress,
    ModulePath,
    ModuleStep,
    ResourceAddress,
    parse_address,
    parse_module,
)
from reconciler.config.model import Moved
from reconciler.diagnostics import Diagnostic, error, info, warning
from reconciler.moves_implied import ResourceNames, apply_implied_moves, implied_moves
from state.model import State


@dataclass(frozen=True)
class Endpoint:
    """One end of a moved block, relative to the module that declares it."""

    module: ModulePath
    resource: ResourceAddress | None = None  # None: the end is a module (call or instance)
    key: IndexKey = None
    whole: bool = True  # no key written on the last step: a resource or a module call as a whole

    @classmethod
    def parse(cls, text: str) -> Endpoint:
        try:
            address = parse_address(text)
        except AddressError:
            path = parse_module(text)
            return cls(path, None, path[-1].key, path[-1].key is None)
        return cls(address.module, address.resource, address.key, address.key is None)


def apply_moves(state: State, tree) -> tuple[State, list[tuple[str, str]], list[Diagnostic]]:
    """The renamed state, the (from, to) instance addresses moved, and what to tell the user:
    the ``moved`` blocks' moves, then those ``count`` implies (``reconciler.moves_implied``)."""
    diags: list[Diagnostic] = []
    done: list[tuple[str, str]] = []
    blocks = []
    for names, moved in _moved_blocks(tree):
        try:
            blocks.append(
                (names, moved, Endpoint.parse(moved.from_address), Endpoint.parse(moved.to_address))
            )
        except AddressError:
            continue  # the decoder reported it
    implied = implied_moves(state, tree, _named_resources(blocks))
    for names, moved, source, target in blocks:
        for here in _module_instances(state, names):
            state, found, pairs = _move(state, here, source, target, moved)
            done.extend(pairs)
            diags.extend(found)
    state, pairs, found = apply_implied_moves(state, implied)
    return state, done + pairs, diags + found


def _named_resources(blocks: list[tuple[tuple[str, ...], Moved, Endpoint, Endpoint]]) -> set[ResourceNames]:
    """The resources the blocks name at either end, in every instance of the modules on the way."""
    named: set[ResourceNames] = set()
    for names, _, *ends in blocks:
        for end in ends:
            if end.resource is not None:
                r = end.resource
                named.add((names + tuple(step.name for step in end.module), r.mode, r.type, r.name))
    return named


def _moved_blocks(tree, names: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Moved]]:
    for moved in tree.module.moved:
        yield names, moved
    for name, child in tree.children.items():
        yield from _moved_blocks(child, names + (name,))


def _module_instances(state: State, names: tuple[str, ...]) -> list[ModulePath]:
    """The instances of the module (call names from the root) that state has objects in."""
    found: dict[ModulePath, None] = {}
    for address, _, _ in state.instances():
        path = address.module[: len(names)]
        if tuple(step.name for step in path) == names:
            found[path] = None
    return list(found)


def _shown(here: ModulePath, text: str) -> str:
    return ".".join([*(str(step) for step in here), text])


def _renamed(
    address: InstanceAddress, here: ModulePath, source: Endpoint, target: Endpoint
) -> InstanceAddress | None:
    """Where ``address`` goes under this move, or None when the move does not touch it."""
    if address.module[: len(here)] != here:
        return None
    inner = address.module[len(here) :]
    if source.resource is not None:
        if inner != source.module or address.resource.mode is not source.resource.mode:
            return None
        if (address.type, address.name) != (source.resource.type, source.resource.name):
            return None
        assert target.resource is not None  # the decoder pairs a resource with a resource
        if source.whole and target.whole:  # a resource renamed: every instance, keys kept
            key = address.key
        else:  # one object: the resource's only one (no key) or the instance named, to the other end
            if _key_of(address.key) != _key_of(None if source.whole else source.key):
                return None
            key = None if target.whole else target.key
        moved_to = ResourceAddress(
            target.resource.mode, target.resource.type, target.resource.name, here + target.module
        )
        return InstanceAddress(moved_to, key)
    depth = len(source.module)
    if len(inner) < depth or inner[: depth - 1] != source.module[:-1]:
        return None
    step = inner[depth - 1]
    if step.name != source.module[-1].name:
        return None
    if source.whole and target.whole:  # a call to a call: every instance, keys kept
        new_step = ModuleStep(target.module[-1].name, step.key)
        path = here + target.module[:-1] + (new_step,) + inner[depth:]
    elif step.key != source.key:  # one instance (no key = the call's only instance)
        return None
    else:
        path = here + target.module + inner[depth:]
    resource = address.resource
    return InstanceAddress(ResourceAddress(resource.mode, resource.type, resource.name, path), address.key)


def _key_of(key: IndexKey) -> tuple[str, IndexKey]:
    """An instance key compared as terraform compares them: 0 and "0" differ."""
    return (type(key).__name__, key)


def _move(
    state: State, here: ModulePath, source: Endpoint, target: Endpoint, moved: Moved
) -> tuple[State, list[Diagnostic], list[tuple[str, str]]]:
    if (source.resource is None) != (target.resource is None):
        return state, [], []  # a resource and a module can't be moved into each other: validate says so
    pairs = []
    for address, resource, inst in state.instances():
        new = _renamed(address, here, source, target)
        if new is not None and new != address:
            pairs.append((address, new, resource, inst))
    if not pairs:
        return state, [], []
    if (
        source.resource is not None
        and target.resource is not None
        and source.resource.type != target.resource.type
    ):
        # terraform 1.11 asks the new type's provider to convert the object; none of vaultform's can
        return state, [_not_convertible(target.resource.type, str(new)) for _, new, _, _ in pairs], []
    moving = {a for a, _, _, _ in pairs}
    taken = [str(n) for _, n, _, _ in pairs if n not in moving and state.instance(n) is not None]
    source_text, target_text = _shown(here, moved.from_address), _shown(here, moved.to_address)
    if taken:
        return (
            state,
            [
                warning(
                    "moved_target_exists",
                    f"Cannot move {source_text} to {target_text}: {taken[0]} already exists",
                    "Both addresses have objects in state, so the moved block is ignored. Remove the moved block, "
                    "or remove one of the objects from state with `vaultform state rm`.",
                    range=moved.pos.range(),
                )
            ],
            [],
        )
    for address, _new, _resource, _inst in pairs:
        state = state.without_instance(address)
    for _address, new, resource, inst in pairs:
        state = state.with_instance(
            new, inst, provider=resource.provider, prevent_destroy=resource.prevent_destroy
        )
    return (
        state,
        [
            info(
                "moved",
                f"{source_text} has moved to {target_text}",
                "The object keeps its identity in the cloud; only its address in state changes.",
                range=moved.pos.range(),
            )
        ],
        [(str(old), str(new)) for old, new, _, _ in pairs],
    )


def _not_convertible(new_type: str, address: str) -> Diagnostic:
    """terraform 1.11's words when a move changes an object's resource type and the provider of
    the new type can't convert it: one for each object, at its new address (the object stays
    where it was)."""
    return error(
        "moved_across_types",
        "Move Resource State Not Supported",
        f'The "{new_type}" resource type does not support moving resource state across resource types.',
        address=address,
    )
