"""Module instances: a ``module`` block with count or for_each is called once per key.

The configuration graph has one node per block of each module as written (``module.a.``
is a static prefix); while planning, every node of a module runs once per instance of
that module, ``module.a["x"]`` and ``module.a["y"]``, each with its own namespace. An
instance is a ``ModulePath`` of typed steps (name and key), never a joined string.

What the caller sees of a module is its outputs: one object without count/for_each, a
list of objects with count, and a map of objects by key with for_each (as Terraform).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconciler.addresses import ModulePath, ModuleStep
from reconciler.config.model import ModuleCall
from reconciler.plan.expansion import Instance
from reconciler.values import UNKNOWN


def static_prefix(path: ModulePath) -> str:
    """The configuration's prefix of a module instance: ``module.a["x"].module.b[0]`` -> ``module.a.module.b.``."""
    return "".join(f"module.{step.name}." for step in path)


def parent_and_name(prefix: str) -> tuple[str, str]:
    """The calling module's static prefix and the call's name: ``module.a.module.b.`` -> (``module.a.``, ``b``)."""
    steps = prefix[:-1].split(".")  # names are identifiers: a static prefix is "module.N." repeated
    return "".join(f"module.{n}." for n in steps[1:-2:2]), steps[-1]


@dataclass
class ModuleInstances:
    """Which instances each module of the tree has, found as the calls are walked."""

    paths: dict[str, list[ModulePath]] = field(default_factory=lambda: {"": [()]})
    bindings: dict[ModulePath, dict[str, Any]] = field(default_factory=dict)  # each/count of a call
    # (caller's instance, call name) -> the call's instances, or None when count/for_each failed
    expanded: dict[tuple[ModulePath, str], list[Instance] | None] = field(default_factory=dict)

    def of(self, prefix: str) -> list[ModulePath]:
        """The instances of the module at a static prefix (none until its call was expanded)."""
        return self.paths.get(prefix, [])

    def add(self, prefix: str, caller: ModulePath, name: str, instances: list[Instance] | None) -> None:
        """Record the instances of call ``name`` made from ``caller``; the module is at ``prefix``."""
        self.expanded[(caller, name)] = instances
        known = self.paths.setdefault(prefix, [])
        for inst in instances or ():
            path = caller + (ModuleStep(name, inst.key),)
            if path not in self.bindings:
                known.append(path)
            self.bindings[path] = inst.bindings

    def exists(self, path: ModulePath) -> bool:
        """True when the module instance is in the configuration (the root always is)."""
        return path == () or path in self.bindings

    def outputs_value(
        self, call: ModuleCall, caller: ModulePath, outputs: dict[ModulePath, dict[str, Any]]
    ) -> Any:
        """What ``module.<name>`` is in the caller: an object, a list (count) or a map (for_each)."""
        instances = self.expanded.get((caller, call.name))
        if instances is None:
            return UNKNOWN  # count/for_each could not be worked out: its error is reported
        values = {
            inst.key: dict(outputs.get(caller + (ModuleStep(call.name, inst.key),), {})) for inst in instances
        }
        if call.count is not None:
            return [values[inst.key] for inst in instances]
        if call.for_each is not None:
            return {inst.key: values[inst.key] for inst in instances}
        return values.get(None, UNKNOWN)
