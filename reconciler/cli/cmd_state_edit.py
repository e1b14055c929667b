"""What `vaultform state` changes, as pure functions of a State (no files, no locks).

Addresses are Terraform's: ``module.a`` (a module and everything in it; a module step
without a key also matches every instance of that module), ``TYPE.NAME`` (a resource with all
its instances), ``TYPE.NAME[KEY]`` (one instance). Every refusal is a ``DiagnosticsError``
that says what to do instead.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from reconciler.diagnostics import DiagnosticsError, error
from state.addresses import IndexKey, format_module
from state.errors import AddressError
from state.model import (
    InstanceAddress,
    InstanceState,
    ModulePath,
    ResourceAddress,
    ResourceState,
    State,
    parse_address,
    parse_module,
)


@dataclass(frozen=True)
class Target:
    """A parsed address: a module alone (``resource`` None), a resource, or an instance."""

    text: str
    module: ModulePath
    resource: ResourceAddress | None = None
    key: IndexKey = None

    @property
    def res(self) -> ResourceAddress:
        """The resource of a resource or instance target (callers check ``is_module`` first)."""
        if self.resource is None:
            raise _refuse(f"{self.text} is a module", "Name a resource or one of its instances here.")
        return self.resource

    @property
    def is_module(self) -> bool:
        return self.resource is None

    @property
    def is_instance(self) -> bool:
        return self.resource is not None and self.key is not None

    def __str__(self) -> str:
        """The address as terraform writes it back (``module.e["dr"]``, ``terraform_data.c[1]``)."""
        if self.resource is None:
            return format_module(self.module)
        return str(InstanceAddress(self.resource, self.key)) if self.key is not None else str(self.resource)


def parse_target(text: str) -> Target:
    try:
        if text.startswith("module.") and not _has_resource(text):
            return Target(text, parse_module(text))
        addr = parse_address(text)
    except AddressError as exc:
        raise DiagnosticsError(
            error(
                "address",
                f"Invalid address {text!r}",
                f"{exc.problem}. Write it as Terraform does: "
                'terraform_data.x, terraform_data.x[0], terraform_data.x["a"] or module.name.',
            )
        ) from None
    return Target(text, addr.resource.module, addr.resource, addr.key)


def _has_resource(text: str) -> bool:
    try:
        parse_module(text)
        return False
    except AddressError:
        return True


def _module_matches(pattern: ModulePath, actual: ModulePath, *, exact: bool) -> bool:
    if len(actual) < len(pattern) or (exact and len(actual) != len(pattern)):
        return False
    return all(p.name == a.name and (p.key is None or p.key == a.key) for p, a in zip(pattern, actual))


def matches(target: Target, addr: InstanceAddress) -> bool:
    if target.is_module:
        return _module_matches(target.module, addr.resource.module, exact=False)
    ra, ta = addr.resource, target.res
    if (ra.mode, ra.type, ra.name) != (ta.mode, ta.type, ta.name):
        return False
    if not _module_matches(ta.module, ra.module, exact=True):
        return False
    return target.key is None or (addr.key == target.key and type(addr.key) is type(target.key))


def select(state: State, targets: list[Target]) -> list[InstanceAddress]:
    """Instances matching any target (all when there are none), in state order."""
    return [addr for addr, _, _ in state.instances() if not targets or any(matches(t, addr) for t in targets)]


def _no_match(target: Target) -> DiagnosticsError:
    return DiagnosticsError(
        error(
            "state_no_match",
            f"No object in state matches {target.text}",
            "Run `vaultform state list` to see the addresses the state holds, and check the spelling, "
            "module path and instance key.",
        )
    )


# --------------------------------------------------------------------------- rm


def remove(state: State, targets: list[Target]) -> tuple[State, list[str]]:
    """Forget the instances any target matches (the objects stay in the cloud), each once, in the
    order the targets name them. A target that matches nothing is passed over, as terraform 1.11
    does; the caller refuses when nothing matched at all. prevent_destroy does not stop this:
    nothing is destroyed."""
    found = list(dict.fromkeys(a for t in targets for a in select(state, [t])))
    for addr in found:
        state = state.without_instance(addr)
    return state, [str(a) for a in found]


def nothing_removed() -> DiagnosticsError:
    """terraform 1.11's refusal of a state rm whose addresses match no object."""
    return DiagnosticsError(
        error(
            "state_no_match",
            "Invalid target address",
            'No matching objects found. To view the available instances, use "vaultform state list". '
            "Please modify the address to reference a specific instance.",
        )
    )


# --------------------------------------------------------------------------- mv


def _refuse(summary: str, detail: str) -> DiagnosticsError:
    return DiagnosticsError(error("state_mv", summary, detail))


def go_quoted(text: str) -> str:
    """``text`` as Go's %q writes an address (terraform's state mv and rm messages)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def canonical(text: str) -> str:
    """An address given on the command line as terraform writes it back."""
    return str(parse_target(text))


def move(state: State, src_text: str, dst_text: str) -> tuple[State, list[tuple[str, str]]]:
    """Move SRC to DST; returns the new state and (old, new) address pairs."""
    src, dst = parse_target(src_text), parse_target(dst_text)
    if src.is_module != dst.is_module:
        raise _refuse(
            f"Cannot move {src.text} to {dst.text}",
            "Move a module to a module address (module.new) and a resource or instance to a "
            "resource or instance address.",
        )
    if src.is_module:
        pairs = _module_pairs(state, src, dst)
    else:
        pairs = _resource_pairs(state, src, dst)
    return _apply_moves(state, pairs), [(str(a), str(b)) for a, b in pairs]


def _within_instance(module: ModulePath, actual: ModulePath) -> bool:
    """Whether ``actual`` is the module instance ``module`` or lies in it: keys match exactly, so
    ``module.e`` is the call without count or for_each, not every instance of it."""
    return len(actual) >= len(module) and all(
        m.name == a.name and m.key == a.key and type(m.key) is type(a.key) for m, a in zip(module, actual)
    )


def _module_pairs(state: State, src: Target, dst: Target) -> list[tuple[InstanceAddress, InstanceAddress]]:
    # as terraform's: a module address moves one module instance (moving every instance of a call
    # under one unkeyed address would put several objects at the same address)
    moved = [a for a, _, _ in state.instances() if _within_instance(src.module, a.resource.module)]
    if not moved:
        keyed = sorted(
            {
                format_module(a.resource.module[: len(src.module)])
                for a in select(state, [src])
                if len(a.resource.module) >= len(src.module)
            }
        )
        if keyed:
            raise _refuse(
                f"Cannot move {src}: it names no one module instance",
                f"The state holds {', '.join(keyed)}. Move them one at a time, e.g. vaultform state mv "
                f"'{keyed[0]}' '{format_module(dst.module)}{keyed[0][len(format_module(src.module)) :]}', "
                "or write a moved block.",
            )
        raise _no_match(src)
    if any(_module_matches(dst.module, a.resource.module, exact=False) for a, _, _ in state.instances()):
        raise _refuse(
            f"{dst.text} already exists in state",
            f"Objects are already recorded under {dst.text}. Choose another module address, or "
            "remove those first (`vaultform state rm`).",
        )
    out = []
    for a in moved:
        rest = a.resource.module[len(src.module) :]
        module = tuple(dst.module) + tuple(rest)
        out.append((a, InstanceAddress(replace(a.resource, module=module), a.key)))
    return out


def _resource_pairs(state: State, src: Target, dst: Target) -> list[tuple[InstanceAddress, InstanceAddress]]:
    sres = state.resource(src.res)
    if sres is None or (src.is_instance and sres.instance(src.key) is None):
        raise _no_match(src)
    if src.res.type != dst.res.type or src.res.mode != dst.res.mode:
        raise _refuse(
            f"Cannot move {src.text} to {dst.text}: the types differ",
            f"{src.text} is a {src.res.type} and {dst.text} a {dst.res.type}; an object "
            "keeps its type. Import the object under the new type instead.",
        )
    dres = state.resource(dst.res)
    if not src.is_instance and not dst.is_instance:
        if dres is not None:
            raise _refuse(
                f"{dst.text} already exists in state",
                "Choose an address the state does not hold, or remove that resource first "
                "(`vaultform state rm`).",
            )
        return [
            (InstanceAddress(src.res, i.index_key), InstanceAddress(dst.res, i.index_key))
            for i in sres.instances
        ]
    if not src.is_instance and (len(sres.instances) != 1 or sres.instances[0].index_key is not None):
        raise _refuse(
            f"Cannot move all of {src.text} to the one instance {dst.text}",
            f"{src.text} has instances {', '.join(str(InstanceAddress(src.res, i.index_key)) for i in sres.instances)}; "
            "move them one by one.",
        )
    target = InstanceAddress(dst.res, dst.key)
    if dres is not None and dres.instance(dst.key) is not None:
        raise _refuse(
            f"{target} already exists in state",
            "Choose an address the state does not hold, or remove that object first (`vaultform state rm`).",
        )
    return [(InstanceAddress(src.res, src.key), target)]


def _apply_moves(state: State, pairs: list[tuple[InstanceAddress, InstanceAddress]]) -> State:
    destinations = [str(b) for _a, b in pairs]
    if len(set(destinations)) != len(destinations):  # never two objects at one address: one would be lost
        twice = sorted({d for d in destinations if destinations.count(d) > 1})
        raise _refuse(
            f"Cannot move several objects to {twice[0]}",
            "The move would put more than one object at one address, and state would lose all but one. "
            "Move them one at a time to addresses of their own.",
        )
    renamed = {str(a): str(b) for a, b in pairs}
    renamed_resources = {str(a.resource): str(b.resource) for a, b in pairs}
    taken: list[tuple[InstanceAddress, InstanceState, ResourceState]] = []
    for old, _new in pairs:
        res = state.resource(old.resource)
        inst = res.instance(old.key) if res is not None else None
        if res is None or inst is None:  # the pairs were made from what state holds
            raise _refuse(f"{old} is not in the state", "Run `vaultform state list` to see what it holds.")
        taken.append((old, inst, res))
        state = state.without_instance(old)
    for (_old, inst, res), (_o, new) in zip(taken, pairs):
        joining = state.resource(new.resource) is not None  # an existing resource keeps its lifecycle
        state = state.with_instance(
            new, inst, provider=res.provider, prevent_destroy=None if joining else res.prevent_destroy
        )
    # what other objects recorded as their dependencies follows the move
    for addr, _res, inst in list(state.instances()):
        deps = tuple(parse_address(_rename(str(d), renamed, renamed_resources)) for d in inst.dependencies)
        if deps != inst.dependencies:
            state = state.with_instance(addr, inst.with_dependencies(deps))
    return state


def _rename(dep: str, instances: dict[str, str], resources: dict[str, str]) -> str:
    if dep in instances:
        return instances[dep]
    if dep in resources:
        return resources[dep]
    base, bracket, rest = dep.partition("[")
    if bracket and base in resources:
        return f"{resources[base]}[{rest}"
    return dep
