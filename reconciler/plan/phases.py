"""Phases: a resource whose schema marks a nested block as a later step (a vault's key
assignment) is evaluated without that block first and applied in two steps."""

from __future__ import annotations

from typing import Any

from providers.schema import ResourceSchema
from reconciler.config import ast
from reconciler.config.model import Resource
from reconciler.plan.diff import InstanceDecision
from reconciler.plan.model import Action
from reconciler.values import UNKNOWN


def block_name(block: ast.Block) -> str:
    return block.labels[0] if block.type == "dynamic" and block.labels else block.type


def phases_in(res: Resource, rs: ResourceSchema) -> set[str]:
    return {nb.name for nb in rs.block.blocks if nb.phase} & {block_name(b) for b in res.body.blocks}


def without_blocks(body: ast.Body, names: set[str]) -> ast.Body:
    return ast.Body(body.attributes, tuple(b for b in body.blocks if block_name(b) not in names), body.pos)


def with_prior_phases(
    value: dict[str, Any], prior: dict[str, Any] | None, phases: set[str]
) -> dict[str, Any]:
    out = dict(value)
    for name in phases:
        out[name] = prior.get(name) if prior else UNKNOWN
    return out


def apply_phases(
    res: Resource, rs: ResourceSchema, decision: InstanceDecision, before: dict[str, Any] | None
) -> tuple[str, ...]:
    phases = sorted(phases_in(res, rs))
    if not phases or decision.action in (Action.NO_OP, Action.DELETE):
        return ("",)
    if decision.action is Action.UPDATE:
        changed_tops = {p[0] for p in decision.changed}
        if not changed_tops & set(phases):
            return ("",)
        if not changed_tops - set(phases):
            return tuple(phases)  # only the key assignment changes
    return ("",) + tuple(phases)
