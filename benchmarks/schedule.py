"""How close apply's scheduling comes to the best any schedule could do.

Applies a generated CMK estate on the local Azure (with injected latency): per estate
a user-assigned identity, a key vault, an access policy for the deployer and one for
the identity (the grant), an RSA key, a Recovery Services vault that uses the
identity and, in its second phase, the key (key assignment), a VM backup policy and
a protected VM - 50 estates by default, 401 objects with the shared resource group.

The apply runs in this process so every step's start and end are recorded. The
lower bound of any schedule with the same step times is

    max(critical path, total work / parallelism)

where the critical path is the longest chain of dependent steps, each weighted with
its measured time. Printed: achieved wall time, both bounds, and achieved / bound
(1.00 is perfect; the aim is within 1.10).

The local Azure's ARM request budget is switched off unless ``--arm-limits`` is given.

Usage: python benchmarks/schedule.py [--estates 50] [--latency 20ms] [--parallelism 10] [--arm-limits]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ESTATE = """
resource "azurerm_user_assigned_identity" "id_{n}" {{
  name                = "id-sched-{n}"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
}}

resource "azurerm_key_vault" "kv_{n}" {{
  name                       = "kv-sched-{n}"
  location                   = azurerm_resource_group.rg.location
  resource_group_name        = azurerm_resource_group.rg.name
  tenant_id                  = data.azurerm_client_config.current.tenant_id
  sku_name                   = "standard"
  purge_protection_enabled   = true
  soft_delete_retention_days = 7
}}

resource "azurerm_key_vault_access_policy" "deployer_{n}" {{
  key_vault_id    = azurerm_key_vault.kv_{n}.id
  tenant_id       = data.azurerm_client_config.current.tenant_id
  object_id       = data.azurerm_client_config.current.object_id
  key_permissions = ["Get", "List", "Create", "Delete", "Update", "Recover", "Purge", "GetRotationPolicy"]
}}

resource "azurerm_key_vault_key" "key_{n}" {{
  name         = "cmk"
  key_vault_id = azurerm_key_vault.kv_{n}.id
  key_type     = "RSA"
  key_size     = 2048
  key_opts     = ["wrapKey", "unwrapKey"]
  depends_on   = [azurerm_key_vault_access_policy.deployer_{n}]
}}

resource "azurerm_key_vault_access_policy" "grant_{n}" {{
  key_vault_id    = azurerm_key_vault.kv_{n}.id
  tenant_id       = azurerm_user_assigned_identity.id_{n}.tenant_id
  object_id       = azurerm_user_assigned_identity.id_{n}.principal_id
  key_permissions = ["Get", "List", "WrapKey", "UnwrapKey"]
}}

resource "azurerm_recovery_services_vault" "rsv_{n}" {{
  name                = "rsv-sched-{n}"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  sku                 = "Standard"

  identity {{
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.id_{n}.id]
  }}

  encryption {{
    key_id                            = azurerm_key_vault_key.key_{n}.id
    infrastructure_encryption_enabled = false
    use_system_assigned_identity      = false
    user_assigned_identity_id         = azurerm_user_assigned_identity.id_{n}.id
  }}
}}

resource "azurerm_backup_policy_vm" "policy_{n}" {{
  name                = "daily"
  resource_group_name = azurerm_resource_group.rg.name
  recovery_vault_name = azurerm_recovery_services_vault.rsv_{n}.name

  backup {{
    frequency = "Daily"
    time      = "23:00"
  }}

  retention_daily {{
    count = 7
  }}
}}

resource "azurerm_backup_protected_vm" "vm_{n}" {{
  resource_group_name = azurerm_resource_group.rg.name
  recovery_vault_name = azurerm_recovery_services_vault.rsv_{n}.name
  source_vm_id        = "{vm_id}"
  backup_policy_id    = azurerm_backup_policy_vm.policy_{n}.id
}}
"""

HEADER = """
provider "azurerm" {
  features {}
}

data "azurerm_client_config" "current" {}

resource "azurerm_resource_group" "rg" {
  name     = "rg-sched"
  location = "westeurope"
}
"""


def write_config(directory: Path, estates: int) -> None:
    from providers.azurelocal.seed import vm_id

    directory.mkdir(parents=True, exist_ok=True)
    (directory / "main.tf").write_text(HEADER)
    for n in range(estates):
        (directory / f"estate_{n:03d}.tf").write_text(ESTATE.format(n=n, vm_id=vm_id(f"vm-sched-{n:03d}")))


def add_vms(db: Path, estates: int, latency_ms: int, arm_limits: bool = False) -> None:
    """One workload VM per estate (a VM is protected by one vault only). ARM's request budget is off
    unless asked for: with it, a large estate measures the pacing of requests, not the scheduler."""
    from providers.azurelocal import seed
    from providers.azurelocal.app import Emulator

    env = Emulator(db)
    with env.store.transaction():
        for n in range(estates):
            shape = seed.SeedVm(f"vm-sched-{n:03d}", "Standard_B2s", "Linux", 30)
            env.store.put("vm", seed.vm_id(shape.name), seed._vm_body(shape))
            env.store.put("disk", seed.disk_id(f"{shape.name}_OsDisk_1"), seed._disk_body(shape))
    env.configure_faults(latency_ms=latency_ms, rate_limits=arm_limits)
    env.store.close()


class Timeline:
    """A Progress that also keeps when each step started and finished."""

    def __init__(self, progress):
        self.progress = progress
        self.started_at: dict[tuple[str, str], float] = {}
        self.spans: dict[tuple[str, str], tuple[float, float]] = {}

    def __getattr__(self, name):
        return getattr(self.progress, name)

    def started(self, address, action, *args, **kwargs):
        self.started_at[(address, str(action))] = time.monotonic()
        return self.progress.started(address, action, *args, **kwargs)

    def finished(self, address, action, *args, **kwargs):
        key = (address, str(action))
        self.spans[key] = (self.started_at.get(key, time.monotonic()), time.monotonic())
        return self.progress.finished(address, action, *args, **kwargs)


def critical_path(graph, durations: dict[str, float]) -> float:
    longest: dict[str, float] = {}
    for node in graph.order():
        before = max((longest[p] for p in graph.graph.g.predecessors(node)), default=0.0)
        longest[node] = before + durations.get(node, 0.0)
    return max(longest.values(), default=0.0)


def run(estates: int, latency_ms: int, parallelism: int, arm_limits: bool = False) -> None:
    base = Path(tempfile.mkdtemp(prefix="vf-schedule-"))
    db = base / "local-azure.db"
    os.environ["VAULTFORM_LOCAL_AZURE"] = str(db)
    write_config(base / "cfg", estates)
    add_vms(db, estates, latency_ms, arm_limits)

    from reconciler import session as steps
    from reconciler.apply.evaluator import ApplyEvaluator
    from reconciler.apply.executor import ApplyOptions, Executor
    from reconciler.apply.graph import build_apply_graph
    from reconciler.apply.progress import Progress
    from reconciler.apply.recorder import StateRecorder
    from reconciler.plan.walk import PlanOptions

    session = steps.open_session(base / "cfg")
    options = PlanOptions()
    plan = steps.plan(session, options, steps.refresh(session, parallelism))
    errors = [d for d in plan.diagnostics if d.is_error]
    if errors:
        raise SystemExit(
            "the estate's plan has errors:\n" + "\n".join(f"{d.address}: {d.summary}" for d in errors)
        )
    graph = build_apply_graph(plan)
    evaluator = ApplyEvaluator(steps.plan_request(session, None, options), plan)
    evaluator.publish_all()
    recorder = StateRecorder(session.backend, session.state, providers=session.providers, write_behind=True)
    timeline = Timeline(Progress(io.StringIO(), color=False))
    started = time.monotonic()
    result = Executor(
        graph, evaluator, session.providers, recorder, timeline, ApplyOptions(parallelism=parallelism)
    ).run()
    achieved = time.monotonic() - started
    recorder.close()
    session.close()
    if not result.ok:
        raise SystemExit(f"apply failed: {[(n, d.summary) for n, d in result.failed][:5]}")

    durations: dict[str, float] = {}
    for node, step in graph.steps.items():
        label = step.phase or {"create": "create", "phase": "update"}.get(step.op.value, step.op.value)
        for (address, action), (t0, t1) in timeline.spans.items():
            if address == step.change.address and (action == label or action.endswith(label)):
                durations[node] = t1 - t0
    work = sum(durations.values())
    path = critical_path(graph, durations)
    bound = max(path, work / parallelism)
    print(
        f"estates {estates}, changes {len(plan.changes)}, steps {len(graph.steps)}, "
        f"latency {latency_ms} ms, parallelism {parallelism}"
    )
    print(f"  steps timed          {len(durations)} of {len(graph.steps)}")
    print(f"  total work           {work:8.2f} s  (sum of step times)")
    print(f"  work / parallelism   {work / parallelism:8.2f} s")
    print(f"  critical path        {path:8.2f} s")
    print(f"  lower bound          {bound:8.2f} s")
    print(f"  achieved             {achieved:8.2f} s")
    print(f"  achieved / bound     {achieved / bound:8.2f}   (aim: <= 1.10)")
    print(f"  state writes         {recorder.writes}")


def main() -> int:
    from state.lock import parse_duration

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--estates", type=int, default=50)
    parser.add_argument("--latency", default="20ms")
    parser.add_argument("--parallelism", type=int, default=10)
    parser.add_argument("--arm-limits", action="store_true", help="keep ARM's request budget on")
    args = parser.parse_args()
    run(args.estates, int(round(parse_duration(args.latency) * 1000)), args.parallelism, args.arm_limits)
    return 0


if __name__ == "__main__":
    sys.exit(main())
