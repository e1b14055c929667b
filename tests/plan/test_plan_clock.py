"""A plan is judged at the moment the session's clock gives, never at the wall clock.

The same configuration - a key that expires on 1 January 2030, assigned to a vault - is
refused as expired (R4) when the clock reads 2031 and accepted when it reads 2029, and the
plan's timestamp is the clock's reading.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from providers.base import Clock
from reconciler import session as steps
from reconciler.plan.walk import PlanOptions

BASE = Path(__file__).resolve().parent.parent / "fixtures" / "plan_rules" / "_base"


def plan_at(tmp_path: Path, moment: datetime):
    cfg = tmp_path / "cfg"
    shutil.copytree(BASE, cfg)
    keyvault = cfg / "keyvault.tf"
    keyvault.write_text(
        keyvault.read_text().replace(
            '  key_opts     = ["wrapKey", "unwrapKey"]\n',
            '  key_opts        = ["wrapKey", "unwrapKey"]\n  expiration_date = "2030-01-01T00:00:00Z"\n',
        )
    )
    session = steps.open_session(str(cfg))
    session.clock = Clock(now=moment.timestamp)
    try:
        return steps.plan(session, PlanOptions(), refreshed=None)
    finally:
        session.close()


def expired(plan) -> list:
    return [d for d in plan.diagnostics if d.code == "R4" and "expired" in d.summary]


def test_the_key_expiry_rule_reads_the_injected_clock(tmp_path):
    late = plan_at(tmp_path / "late", datetime(2031, 6, 1, tzinfo=UTC))
    assert expired(late), [d.summary for d in late.diagnostics]
    early = plan_at(tmp_path / "early", datetime(2029, 6, 1, 12, 30, tzinfo=UTC))
    assert not expired(early), [d.summary for d in early.diagnostics]
    assert early.timestamp == "2029-06-01T12:30:00Z"


def test_plantimestamp_is_the_plans_timestamp(tmp_path):
    (tmp_path / "main.tf").write_text(
        'output "at" {\n  value = plantimestamp()\n}\n'
        'output "later" {\n  value = timeadd(plantimestamp(), "24h")\n}\n'
    )
    session = steps.open_session(str(tmp_path))
    session.clock = Clock(now=datetime(2029, 6, 1, 12, 30, tzinfo=UTC).timestamp)
    try:
        plan = steps.plan(session, PlanOptions(), refreshed=None)
    finally:
        session.close()
    values = {o.name: o.after for o in plan.outputs}
    assert values == {"at": "2029-06-01T12:30:00Z", "later": "2029-06-02T12:30:00Z"}
    assert plan.timestamp == "2029-06-01T12:30:00Z"
