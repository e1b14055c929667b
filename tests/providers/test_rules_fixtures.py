"""Rule fixtures: loading them, rendering rule output, and the parametrized test.

A fixture directory ``tests/fixtures/rules/<case>/`` holds ``instances.json``::

    {"description": "...",
     "base": "cmk_new",                 # optional: start from _base/<name>.json
     "now": "2026-06-01T00:00:00Z",     # optional: the moment the plan is judged at
     "remove": ["address", ...],        # optional: drop instances of the base
     "instances": [{"address": ..., ...}, ...],
     "roles_in_azure": [...]}           # optional: what the provider read of roles held in Azure

``roles_in_azure`` answers the rules' questions about roles on RBAC key vaults, as the provider
does from Azure: ``{"principal_id", "key_vault_id", "key_name", "roles": [{"name", "grants_cmk",
"least_privilege"}]}`` each (ids in lower case; ``grants_cmk`` null: a role that couldn't be read).

Instances of the case are deep-merged into the base instance with the same address
(objects merge key by key, anything else replaces; ``null`` sets null) or added.
``{"$unknown": true}`` stands for a value known only after apply. An instance with
action "no-op" and no "before" gets ``before = after``.

``expected.txt`` lists the edges and diagnostics exactly, in the order ``plan_rules``
returns them, and the questions about roles in Azure left unanswered. ``VAULTFORM_UPDATE_FIXTURES=1`` rewrites every ``expected.txt`` from the
current output (review the diff before committing).
"""

from __future__ import annotations

import copy
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from providers.azurerm.role_facts import HeldRole
from providers.azurerm.rules import judge, plan_rules
from providers.base import PlannedInstance, PlanRulesRequest, PlanRulesResponse
from reconciler.values import UNKNOWN

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rules"
BASES = FIXTURES / "_base"


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if value == {"$unknown": True}:
            return UNKNOWN
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict) and over != {"$unknown": True}:
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base.get(k), v) if k in base else copy.deepcopy(v)
        return out
    return copy.deepcopy(over)


def _fill(raw: dict) -> dict:
    raw = dict(raw)
    if raw.get("action") == "no-op" and "before" not in raw:
        raw["before"] = copy.deepcopy(raw.get("after"))
    return raw


def load_raw(case_dir: Path) -> dict:
    doc = json.loads((case_dir / "instances.json").read_text())
    instances: list[dict] = []
    if doc.get("base"):
        base = json.loads((BASES / f"{doc['base']}.json").read_text())
        instances = [_fill(i) for i in base["instances"]]
    removed = set(doc.get("remove", ()))
    instances = [i for i in instances if i["address"] not in removed]
    by_addr = {i["address"]: n for n, i in enumerate(instances)}
    for inst in doc.get("instances", ()):
        if inst["address"] in by_addr:
            n = by_addr[inst["address"]]
            instances[n] = _merge(instances[n], inst)
        else:
            by_addr[inst["address"]] = len(instances)
            instances.append(_fill(inst))
    doc["instances"] = instances
    return doc


def to_instance(raw: dict) -> PlannedInstance:
    return PlannedInstance(
        address=raw["address"],
        type_name=raw["type_name"],
        action=raw["action"],
        before=_decode(raw.get("before")),
        after=_decode(raw.get("after")),
        refreshed=_decode(raw.get("refreshed")),
        depends_on=tuple(raw.get("depends_on", ())),
        references={k: tuple(v) for k, v in raw.get("references", {}).items()},
        location=raw.get("location", ""),
        create_before_destroy=raw.get("create_before_destroy", False),
    )


def load_request(case_dir: Path) -> PlanRulesRequest:
    doc = load_raw(case_dir)
    now = doc.get("now") or "2026-06-01T00:00:00Z"
    return PlanRulesRequest(
        instances=tuple(to_instance(i) for i in doc["instances"]),
        now=datetime.fromisoformat(now.replace("Z", "+00:00")),
    )


def load_roles(case_dir: Path) -> dict | None:
    doc = json.loads((case_dir / "instances.json").read_text())
    if "roles_in_azure" not in doc:
        return None
    return {
        (a["principal_id"], a["key_vault_id"], a.get("key_name", "")): tuple(
            HeldRole(r["name"], r["grants_cmk"], r.get("least_privilege", False), r.get("assignment_id", ""))
            for r in a["roles"]
        )
        for a in doc["roles_in_azure"]
    }


def render(resp: PlanRulesResponse, unanswered: set | None = None) -> str:
    lines = ["edges:"]
    lines += [f"  {e.rule} {e.before} -> {e.after}" for e in resp.edges] or ["  (none)"]
    lines.append("diagnostics:")
    for d in resp.diagnostics:
        where = f" ({d.range.file}:{d.range.line})" if d.range else ""
        lines.append(f"  {d.severity.value} {d.code} {d.address or '-'}{where}: {d.summary}")
    if not resp.diagnostics:
        lines.append("  (none)")
    if unanswered:
        lines.append("questions about roles in Azure:")
        lines += [
            f"  {principal} on {kv_id} (key {key or '-'})" for principal, kv_id, key in sorted(unanswered)
        ]
    return "\n".join(lines) + "\n"


def case_dirs() -> list[Path]:
    return sorted(p for p in FIXTURES.iterdir() if p.is_dir() and not p.name.startswith("_"))


# --------------------------------------------------------------------------- the fixture test

UPDATE = os.environ.get("VAULTFORM_UPDATE_FIXTURES") == "1"


@pytest.mark.parametrize("case_dir", case_dirs(), ids=lambda p: p.name)
def test_rule_fixture(case_dir: Path):
    req = load_request(case_dir)
    resp, unanswered = judge(req, load_roles(case_dir))
    got = render(resp, unanswered)
    if load_roles(case_dir) is None:
        assert render(plan_rules(req)) == render(resp)  # the pure entry point is judge without answers
    expected_file = case_dir / "expected.txt"
    if UPDATE:
        expected_file.write_text(got)
    assert expected_file.exists(), f"{case_dir.name}: write expected.txt"
    assert got == expected_file.read_text()
    for d in resp.diagnostics:
        assert d.detail and d.range is not None or d.code == "A3", d
    # O5: nothing ever waits in front of a vault's own node for a grant or a key
    vaults = {
        i.address
        for i in load_request(case_dir).instances
        if i.type_name == "azurerm_recovery_services_vault"
    }
    assert not [e for e in resp.edges if e.after.address in vaults and not e.after.phase]


def test_every_rule_has_a_fixture():
    from providers.azurerm.rules import RULES

    names = [p.name for p in case_dirs()]
    for rule in RULES:
        assert any(n.startswith(rule.code + "_") for n in names), f"no fixture for {rule.code}"
