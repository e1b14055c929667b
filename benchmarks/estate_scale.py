"""Refresh by listing against per-object reads, on a generated CMK estate of 10,000 objects.

The estate: ``--vaults`` units (250), each a key vault with the deployer's access policy and the
vault identity's grant, an RSA key, a role assignment, a Recovery Services vault encrypting with
the key, a VM backup policy and ``--vms`` protected VMs (33): 40 objects a unit, 10,000 in all,
plus a resource group per ``--per-group`` units (10).

Applying 10,000 objects one by one would take long, so one unit is applied for real and the local
Azure's documents (ARM objects, keys in the key store) and the state's instances are then copied
for the other units, each renamed (``est0000`` -> ``est0001``...; ``grp000`` -> its group). The
configuration is written for all units, so a plan of the copied estate has nothing to change.

Then, with ``--latency`` (50 ms) added to every call of the local Azure, it runs in this process and
prints the calls the local Azure answered and the wall time of:

* ``plan`` with nothing to change and ``drift``, each with the per-object refresh
  (``VAULTFORM_AZURERM_REFRESH=per-object``) and with refresh by listing (the default);
* ``audit`` of the same estate.

The local Azure's ARM request budget (a per-subscription bucket that refills, as ARM's) stays on, so
the figures include the pacing it forces; ``--no-arm-limits`` switches it off to measure calls and
latency alone. ``--by-url`` prints each command's calls grouped by URL pattern (the estate's names
folded), which shows what is still read once per unit.

Usage: python benchmarks/estate_scale.py [--vaults 250] [--vms 33] [--latency 50ms] [--per-group 10]
       [--skip-per-object] [--no-arm-limits] [--by-url]
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TOKEN, GROUP = "est0000", "grp000"

HEADER = """
provider "azurerm" {
  features {}
}

data "azurerm_client_config" "current" {}
"""

GROUP_BLOCK = """
resource "azurerm_resource_group" "{g}" {{
  name     = "rg-{g}"
  location = "westeurope"
}}
"""

UNIT = """
resource "azurerm_key_vault" "kv_{u}" {{
  name                       = "kv-{u}"
  location                   = azurerm_resource_group.{g}.location
  resource_group_name        = azurerm_resource_group.{g}.name
  tenant_id                  = data.azurerm_client_config.current.tenant_id
  sku_name                   = "standard"
  purge_protection_enabled   = true
  soft_delete_retention_days = 7
}}

resource "azurerm_key_vault_access_policy" "deployer_{u}" {{
  key_vault_id    = azurerm_key_vault.kv_{u}.id
  tenant_id       = data.azurerm_client_config.current.tenant_id
  object_id       = data.azurerm_client_config.current.object_id
  key_permissions = ["Get", "List", "Create", "Delete", "Update", "Recover", "Purge", "GetRotationPolicy"]
}}

resource "azurerm_key_vault_key" "key_{u}" {{
  name         = "cmk"
  key_vault_id = azurerm_key_vault.kv_{u}.id
  key_type     = "RSA"
  key_size     = 2048
  key_opts     = ["wrapKey", "unwrapKey"]
  depends_on   = [azurerm_key_vault_access_policy.deployer_{u}]
}}

resource "azurerm_recovery_services_vault" "rsv_{u}" {{
  name                = "rsv-{u}"
  location            = azurerm_resource_group.{g}.location
  resource_group_name = azurerm_resource_group.{g}.name
  sku                 = "Standard"
  soft_delete_enabled = false

  identity {{
    type = "SystemAssigned"
  }}

  encryption {{
    key_id                            = azurerm_key_vault_key.key_{u}.id
    infrastructure_encryption_enabled = false
    use_system_assigned_identity      = true
  }}
}}

resource "azurerm_key_vault_access_policy" "grant_{u}" {{
  key_vault_id    = azurerm_key_vault.kv_{u}.id
  tenant_id       = azurerm_recovery_services_vault.rsv_{u}.identity[0].tenant_id
  object_id       = azurerm_recovery_services_vault.rsv_{u}.identity[0].principal_id
  key_permissions = ["Get", "List", "WrapKey", "UnwrapKey"]
}}

resource "azurerm_role_assignment" "reader_{u}" {{
  scope                = azurerm_key_vault.kv_{u}.id
  role_definition_name = "Reader"
  principal_id         = azurerm_recovery_services_vault.rsv_{u}.identity[0].principal_id
}}

resource "azurerm_backup_policy_vm" "policy_{u}" {{
  name                = "daily"
  resource_group_name = azurerm_resource_group.{g}.name
  recovery_vault_name = azurerm_recovery_services_vault.rsv_{u}.name

  backup {{
    frequency = "Daily"
    time      = "23:00"
  }}

  retention_daily {{
    count = 7
  }}
}}

resource "azurerm_backup_protected_vm" "vm_{u}" {{
  for_each            = toset({vms})
  resource_group_name = azurerm_resource_group.{g}.name
  recovery_vault_name = azurerm_recovery_services_vault.rsv_{u}.name
  source_vm_id        = "{vm_prefix}${{each.key}}"
  backup_policy_id    = azurerm_backup_policy_vm.policy_{u}.id
}}
"""


def unit_name(n: int) -> str:
    return f"est{n:04d}"


def group_name(n: int, per_group: int) -> str:
    return f"grp{n // per_group:03d}"


def vm_names(unit: str, vms: int) -> list[str]:
    return [f"vm-{unit}-{i:02d}" for i in range(vms)]


def unit_config(unit: str, group: str, vms: int) -> str:
    from providers.azurelocal.seed import vm_id

    prefix = vm_id("X")[:-1]
    return UNIT.format(u=unit, g=group, vms=json.dumps(vm_names(unit, vms)), vm_prefix=prefix)


def write_config(directory: Path, units: int, vms: int, per_group: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    groups = sorted({group_name(n, per_group) for n in range(units)})
    (directory / "main.tf").write_text(HEADER + "".join(GROUP_BLOCK.format(g=g) for g in groups))
    for n in range(units):
        (directory / f"unit_{n:04d}.tf").write_text(unit_config(unit_name(n), group_name(n, per_group), vms))


def add_template_vms(db: Path, vms: int) -> None:
    from providers.azurelocal import seed
    from providers.azurelocal.app import Emulator

    env = Emulator(db)
    with env.store.transaction():
        for name in vm_names(TOKEN, vms):
            shape = seed.SeedVm(name, "Standard_B2s", "Linux", 30)
            env.store.put("vm", seed.vm_id(name), seed._vm_body(shape))
            env.store.put("disk", seed.disk_id(f"{name}_OsDisk_1"), seed._disk_body(shape))
    env.store.close()


def cli(directory: Path, *argv: str) -> tuple[int, str]:
    from reconciler.cli.main import main
    from reconciler.cli.output import Output

    out = io.StringIO()
    code = main(
        [argv[0], str(directory), "-no-color", *argv[1:]], output=Output(out=out, err=out, no_color=True)
    )
    return code, out.getvalue()


# --------------------------------------------------------------------------- copying the unit


def copy_cloud(db: Path, units: int, per_group: int) -> int:
    """Copy every local Azure document and key of unit 0 for the other units; returns documents written."""
    from providers.azurelocal.app import Emulator

    env = Emulator(db)
    conn = env.store._conn()
    written = 0
    with env.store.transaction():
        rows = conn.execute("SELECT kind, id, body FROM objects").fetchall()
        unit_rows = [r for r in rows if TOKEN in r[2] or TOKEN in r[1]]
        group_rows = [r for r in rows if GROUP in r[1] and TOKEN not in r[1] and TOKEN not in r[2]]
        key_names = conn.execute("SELECT * FROM kv_key_names WHERE vault LIKE ?", (f"%{TOKEN}%",)).fetchall()
        key_versions = conn.execute(
            "SELECT * FROM kv_key_versions WHERE vault LIKE ?", (f"%{TOKEN}%",)
        ).fetchall()
        done_groups = {GROUP}
        for n in range(1, units):
            unit, group = unit_name(n), group_name(n, per_group)

            def rename(text, unit=unit, group=group):
                return text.replace(TOKEN, unit).replace(GROUP, group) if isinstance(text, str) else text

            batch = [(kind, rename(id_).lower(), rename(id_), rename(body)) for kind, id_, body in unit_rows]
            if group not in done_groups:
                done_groups.add(group)
                batch += [
                    (kind, rename(id_).lower(), rename(id_), rename(body)) for kind, id_, body in group_rows
                ]
            conn.executemany(
                "INSERT OR REPLACE INTO objects (kind, id_key, id, body) VALUES (?, ?, ?, ?)", batch
            )
            written += len(batch)
            names = [tuple(rename(v) for v in row) for row in key_names]
            conn.executemany(
                f"INSERT OR REPLACE INTO kv_key_names VALUES ({','.join('?' * len(key_names[0]))})", names
            )
            versions = [tuple(rename(v) for v in row) for row in key_versions]
            conn.executemany(
                f"INSERT OR REPLACE INTO kv_key_versions VALUES ({','.join('?' * len(key_versions[0]))})",
                versions,
            )
    env.store.close()
    return written


def copy_state(path: Path, units: int, per_group: int) -> int:
    """Copy unit 0's instances in the state for the other units; returns the managed instances."""
    state = json.loads(path.read_text())
    resources = state["resources"]
    unit_res = [r for r in resources if TOKEN in r["name"]]
    group_res = [r for r in resources if r["name"] == GROUP]
    out = list(resources)
    done_groups = {GROUP}
    for n in range(1, units):
        unit, group = unit_name(n), group_name(n, per_group)
        text = json.dumps(unit_res).replace(TOKEN, unit).replace(GROUP, group)
        out += json.loads(text)
        if group not in done_groups:
            done_groups.add(group)
            out += json.loads(json.dumps(group_res).replace(GROUP, group))
    state["resources"] = out
    state["serial"] = int(state.get("serial") or 0) + 1
    path.write_text(json.dumps(state, indent=2))
    return sum(len(r.get("instances") or []) for r in out if r.get("mode", "managed") == "managed")


# --------------------------------------------------------------------------- measuring


def url_pattern(request) -> str:
    """A call's method and path with the estate's names folded (``est0012`` -> ``*``), so calls
    group by what they read rather than by which unit."""
    host = "kv" if request.host.endswith(".vault.azure.net") else request.host.split(".")[0]
    parts = []
    for part in request.path.lower().split("/"):
        if re.search(r"est\d{4}|grp\d{3}|^[0-9a-f-]{32,36}$|^[0-9a-f]{32}$", part):
            part = "*"
        parts.append(part)
    return f"{request.method} {host}{'/'.join(parts)}"


class CallCounter:
    def __init__(self, by_url: bool = False) -> None:
        from providers.azurelocal.app import Emulator

        self.by_url = by_url  # print each command's calls by URL pattern
        self.count = 0
        self.by_pattern: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        original = Emulator.handle
        counter = self

        def handle(emulator, request):
            with counter._lock:
                counter.count += 1
                counter.by_pattern[url_pattern(request)] += 1
            return original(emulator, request)

        Emulator.handle = handle  # type: ignore[method-assign]


def measure(counter: CallCounter, label: str, directory: Path, *argv: str, mode: str | None = None):
    if mode is None:
        os.environ.pop("VAULTFORM_AZURERM_REFRESH", None)
    else:
        os.environ["VAULTFORM_AZURERM_REFRESH"] = mode
    before = counter.count
    counter.by_pattern.clear()
    started = time.monotonic()
    code, out = cli(directory, *argv)
    took = time.monotonic() - started
    calls = counter.count - before
    print(f"  {label:<34} exit {code}  calls {calls:>6}  wall {took:7.1f} s", flush=True)
    if code not in (0, 2):
        print("    " + "\n    ".join(out.strip().splitlines()[-8:]), flush=True)
    if counter.by_url:
        for pattern, n in counter.by_pattern.most_common(25):
            print(f"      {n:>7}  {pattern}", flush=True)
    return code, out, calls, took


def run(
    units: int,
    vms: int,
    latency_ms: int,
    per_group: int,
    skip_per_object: bool,
    arm_limits: bool = True,
    by_url: bool = False,
) -> None:
    base = Path(tempfile.mkdtemp(prefix="vf-estate-"))
    db = base / "local-azure.db"
    os.environ["VAULTFORM_LOCAL_AZURE"] = str(db)
    cfg = base / "cfg"
    started = time.monotonic()
    add_template_vms(db, vms)
    write_config(cfg, 1, vms, per_group)
    code, out = cli(cfg, "apply", "-auto-approve")
    if code != 0:
        raise SystemExit(f"applying the template unit failed:\n{out[-3000:]}")
    applied = time.monotonic() - started
    documents = copy_cloud(db, units, per_group)
    objects = copy_state(cfg / "vaultform.tfstate", units, per_group)
    write_config(cfg, units, vms, per_group)
    print(
        f"estate: {units} units x {vms + 7} objects = {objects} managed objects "
        f"(template applied in {applied:.1f} s, {documents} documents copied, "
        f"ready after {time.monotonic() - started:.1f} s); latency {latency_ms} ms per call"
    )
    from providers.azurelocal.app import Emulator

    env = Emulator(db)
    env.configure_faults(latency_ms=latency_ms, rate_limits=arm_limits)
    env.store.close()
    print(f"ARM request budget {'on' if arm_limits else 'off'}", flush=True)

    counter = CallCounter(by_url)
    results = {}
    for mode in (() if skip_per_object else ("per-object",)) + ("listing",):
        code, out, calls, took = measure(
            counter, f"plan (no change), {mode}", cfg, "plan", "-detailed-exitcode", mode=mode
        )
        if code != 0:
            print(out[-3000:])
        results[("plan", mode)] = (calls, took)
        code, out, calls, took = measure(counter, f"drift, {mode}", cfg, "drift", mode=mode)
        results[("drift", mode)] = (calls, took)
    measure(counter, "audit", cfg, "audit")
    if not skip_per_object:
        for what in ("plan", "drift"):
            (c0, t0), (c1, t1) = results[(what, "per-object")], results[(what, "listing")]
            print(f"  {what}: listing makes {c1 / c0:.3f} of the calls, in {t1 / t0:.3f} of the time")


def main() -> int:
    from state.lock import parse_duration

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vaults", type=int, default=250)
    parser.add_argument("--vms", type=int, default=33)
    parser.add_argument("--latency", default="50ms")
    parser.add_argument("--per-group", type=int, default=10)
    parser.add_argument("--skip-per-object", action="store_true")
    parser.add_argument("--no-arm-limits", action="store_true", help="switch ARM's request budget off")
    parser.add_argument(
        "--by-url", action="store_true", help="print each command's calls by URL pattern, most first"
    )
    args = parser.parse_args()
    run(
        args.vaults,
        args.vms,
        int(round(parse_duration(args.latency) * 1000)),
        args.per_group,
        args.skip_per_object,
        not args.no_arm_limits,
        args.by_url,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
