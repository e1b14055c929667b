"""`moved` blocks: rename objects in state before planning, as Terraform does.

A ``moved { from = a.b  to = a.c }`` block says the object recorded as ``a.b`` is now
configured as ``a.c``: the state entry is renamed (all instances for a resource address,
one for an instance address) instead of planning a destroy and a create. Moves are
applied in the order written; one whose source is gone is already done and is skipped.
"""

from __future__ import annotations

from reconciler.addresses import format_key
from reconciler.diagnostics import Diagnostic, info, warning
from state.model import State


def apply_moves(state: State, tree) -> tuple[State, list[tuple[str, str]], list[Diagnostic]]:
    """The renamed state, the (from, to) moves done, and what to tell the user."""
    diags: list[Diagnostic] = []
    done: list[tuple[str, str]] = []
    for prefix, moved in _moved_blocks(tree):
        source, target = prefix + moved.from_address, prefix + moved.to_address
        state, diag = _move(state, source, target, moved)
        if diag is not None:
            diags.append(diag)
            if diag.code == "moved":
                done.append((source, target))
    return state, done, diags


def _moved_blocks(tree, prefix: str = ""):
    for moved in tree.module.moved:
        yield prefix, moved
    for name, child in tree.children.items():
        yield from _moved_blocks(child, f"{prefix}module.{name}.")


def _instances(state: State, address: str) -> list:
    whole = state.resource(address) if "[" not in address else None
    if whole is not None:
        return [(f"{address}{_key(i.index_key)}", i) for i in whole.instances]
    inst = state.instance(address)
    return [(address, inst)] if inst is not None else []


def _key(key) -> str:
    return format_key(key)


def _move(state: State, source: str, target: str, moved) -> tuple[State, Diagnostic | None]:
    found = _instances(state, source)
    if not found:
        return state, None
    if _instances(state, target):
        return state, warning(
            "moved_target_exists",
            f"Cannot move {source} to {target}: {target} already exists",
            "Both addresses have objects in state, so the moved block is ignored. Remove the moved block, "
            "or remove one of the objects from state with `vaultform state rm`.",
            range=moved.pos.range(),
        )
    resource = state.resource(source) or state.resource(found[0][0])
    if resource is None:  # found instances always belong to a resource in state
        return state, None
    whole = "[" not in source
    for address, inst in found:
        new_address = target + address[len(source) :] if whole else target
        state = state.without_instance(address)
        state = state.with_instance(
            new_address, inst, provider=resource.provider, prevent_destroy=resource.prevent_destroy
        )
    return state, info(
        "moved",
        f"{source} has moved to {target}",
        "The object keeps its identity in the cloud; only its address in state changes.",
        range=moved.pos.range(),
    )
