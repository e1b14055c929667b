"""What -target leaves to evaluate, and the warnings that go with it, worded as terraform words
them (context_plan.go and context_apply.go of terraform 1.11): a plan made with it, and an apply of
such a plan."""

from __future__ import annotations

from reconciler.addresses import AddressError, Mode, parse_address, parse_module
from reconciler.diagnostics import Diagnostic, warning
from reconciler.graph.dag import Graph
from reconciler.plan.module_instances import static_prefix

_OBJECT_KINDS = ("resource", "phase")


def targeted_nodes(graph: Graph, targets: tuple[str, ...]) -> set[str]:
    """The configuration graph's nodes a plan with ``targets`` evaluates: the resources (and their
    phases) the targets name, in any instance of their module, and everything those depend on.

    terraform 1.11 leaves every other node out of a targeted plan's graph: a resource outside it is
    not expanded, so its count or for_each may still be unknown - the two-step workflow its
    "Invalid count argument" error suggests (apply the dependencies with -target, then the rest)."""
    named: set[str] = set()
    for target in targets:
        named |= _nodes_named(graph, target)
    needed = set(named)
    for node in named:
        needed |= graph.ancestors(node)
    return needed


def _nodes_named(graph: Graph, target: str) -> set[str]:
    """The resource and phase nodes a target selects (none when it parses as neither a resource
    nor a module: the plan warns that it matches nothing)."""
    resource = ""
    module = ""
    try:
        addr = parse_address(target)
        local = f"{addr.resource.type}.{addr.resource.name}"
        resource = static_prefix(addr.resource.module) + (
            "data." + local if addr.resource.mode is Mode.DATA else local
        )
    except AddressError:
        try:
            module = static_prefix(parse_module(target))
        except AddressError:
            return set()
    found = set()
    for node in graph.nodes():
        data = graph.data(node)
        if data.get("kind") not in _OBJECT_KINDS:
            continue
        whole = str(data["prefix"]) + str(data["name"])
        if whole == resource or (module and whole.startswith(module)):
            found.add(node)
    return found


_NOT_ROUTINE = (
    "is not for routine use, and is provided only for exceptional situations such as recovering from "
    "errors or mistakes, or when vaultform specifically suggests to use it as part of an error message."
)


def targeting_warning() -> Diagnostic:
    return warning(
        "targeting",
        "Resource targeting is in effect",
        "You are creating a plan with the -target option, which means that the result of this plan may "
        "not represent all of the changes requested by the current configuration.\n\n"
        f"The -target option {_NOT_ROUTINE}",
    )


def applied_with_targets_warning() -> Diagnostic:
    return warning(
        "targeting_applied",
        "Applied changes may be incomplete",
        "The plan was created with the -target option in effect, so some changes requested in the "
        "configuration may have been ignored and the output values may not be fully updated. Run the "
        "following command to verify that no other changes are pending:\n    vaultform plan\n\n"
        "Note that the -target option "
        + _NOT_ROUTINE.replace("is not for routine use", "is not suitable for routine use"),
    )
