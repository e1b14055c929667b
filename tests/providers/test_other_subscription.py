"""An object whose id names another subscription than the provider's is read and written in that
subscription, as azurerm does (it calls Azure with the ids it parsed) - never the object of the
same group and name in the provider's own subscription."""

from __future__ import annotations

import json
from pathlib import Path

from providers.azurelocal.app import Emulator
from providers.azurelocal.seed import SUBSCRIPTION_ID
from providers.azurelocal.services import subscriptions
from providers.azurerm.clients import ClientFactory
from providers.azurerm.listing import for_subscription
from tests.e2e.harness import Workspace

SECOND = "9d1c5a77-3e2b-4c1d-8f60-2b7e4a9c0d11"
FIXTURE = Path(__file__).parents[1] / "fixtures" / "other_subscription"


def _identities(ws: Workspace):
    """The identity clients of both subscriptions, and the objects each starts with."""
    env = Emulator(ws.db)
    try:
        subscriptions.add(env, SECOND, "vaultform second")
    finally:
        env.store.close()
    with ws._cloud_env():
        mine = ClientFactory.from_config({}, None)
        theirs = for_subscription(mine, SECOND)
        for clients, groups in ((mine, ("rg-plat",)), (theirs, ("rg-plat", "rg-sec"))):
            clients.resources().providers.register("Microsoft.ManagedIdentity")
            for rg in groups:
                clients.resources().resource_groups.create_or_update(rg, {"location": "westeurope"})
        mine.msi().user_assigned_identities.create_or_update(
            "rg-plat", "id-app", {"location": "westeurope", "tags": {"team": "a"}}
        )
        theirs.msi().user_assigned_identities.create_or_update(
            "rg-plat", "id-app", {"location": "westeurope"}
        )
        theirs.msi().user_assigned_identities.create_or_update("rg-sec", "id-sec", {"location": "westeurope"})
    return mine, theirs


def test_an_object_of_another_subscription_is_read_and_written_there(tmp_path):
    ws = Workspace(tmp_path, FIXTURE)
    mine, theirs = _identities(ws)
    plan = ws.vf("plan")
    assert plan.code == 0, plan.explain()
    assert f"/subscriptions/{SECOND}/resourceGroups/rg-plat/" in plan.out
    assert f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-plat/" not in plan.out
    assert "does not exist" not in plan.out + plan.err
    assert "2 to import, 0 to add, 1 to change, 0 to destroy" in plan.out

    ws.ok("apply", "-auto-approve")
    with ws._cloud_env():
        assert mine.msi().user_assigned_identities.get("rg-plat", "id-app").tags == {"team": "a"}
        assert theirs.msi().user_assigned_identities.get("rg-plat", "id-app").tags == {"team": "b"}
    ids = {r["name"]: r["instances"][0]["attributes"]["id"] for r in ws.state()["resources"]}
    assert all(i.startswith(f"/subscriptions/{SECOND}/") for i in ids.values()), ids
    again = ws.vf("plan", "-detailed-exitcode")
    assert again.code == 0, again.explain()


def test_a_data_source_reads_a_key_vault_of_another_subscription(tmp_path):
    from providers.azurelocal.seed import DEPLOYER_OBJECT_ID, TENANT_ID

    ws = Workspace(tmp_path)
    _identities(ws)
    with ws._cloud_env():
        theirs = for_subscription(ClientFactory.from_config({}, None), SECOND)
        theirs.resources().providers.register("Microsoft.KeyVault")
        policy = {
            "tenantId": TENANT_ID,
            "objectId": DEPLOYER_OBJECT_ID,
            "permissions": {"keys": ["get", "create"]},
        }
        kv = (
            theirs.keyvault_mgmt()
            .vaults.begin_create_or_update(
                "rg-sec",
                "kv-sec-b",
                {
                    "location": "westeurope",
                    "properties": {
                        "tenantId": TENANT_ID,
                        "sku": {"family": "A", "name": "standard"},
                        "accessPolicies": [policy],
                    },
                },
            )
            .result()
        )
        theirs.keys(kv.properties.vault_uri).create_rsa_key("cmk", size=2048)
    (ws.dir / "main.tf").write_text(
        'provider "azurerm" {\n  features {}\n}\n\n'
        'data "azurerm_key_vault_key" "cmk" {\n'
        '  name         = "cmk"\n'
        f'  key_vault_id = "{kv.id}"\n'
        "}\n\n"
        'output "key" {\n  value = data.azurerm_key_vault_key.cmk.versionless_id\n}\n'
    )
    run = ws.vf("plan")
    assert run.code == 0, run.explain()
    assert 'key = "https://kv-sec-b.vault.azure.net/keys/cmk"' in run.out


BASE = Path(__file__).parents[1] / "fixtures" / "plan_rules" / "_base"

WORKLOAD = """provider "azurerm" {{
  features {{}}
  subscription_id = "{sub}"
}}

resource "azurerm_resource_group" "work" {{
  name     = "rg-work"
  location = "westeurope"
}}

resource "azurerm_recovery_services_vault" "work" {{
  name                = "rsv-work"
  location            = azurerm_resource_group.work.location
  resource_group_name = azurerm_resource_group.work.name
  sku                 = "Standard"

  identity {{
    type = "SystemAssigned"
  }}
{encryption}}}
"""

ENCRYPTION = """
  encryption {{
    key_id                            = "{key}"
    infrastructure_encryption_enabled = false
    use_system_assigned_identity      = true
  }}
"""

GRANT = """
resource "azurerm_key_vault_access_policy" "work" {{
  key_vault_id    = azurerm_key_vault.cmk.id
  tenant_id       = data.azurerm_client_config.current.tenant_id
  object_id       = "{principal}"
  key_permissions = ["Get", "List", "WrapKey", "UnwrapKey"]
}}
"""


def _platform_and_workload(tmp_path):
    """The usual platform layout: the key vault, its key and the grants in the platform team's
    subscription (the provider's), a workload's vault in its own (``SECOND``), encrypting with the
    key through its system-assigned identity. The two workspaces and the vault's state values."""
    platform = Workspace(tmp_path, name="platform")
    for name in ("common.tf", "keyvault.tf"):
        (platform.dir / name).write_text((BASE / name).read_text())
    env = Emulator(platform.db)
    try:
        subscriptions.add(env, SECOND, "vaultform workload")
    finally:
        env.store.close()
    platform.ok("apply", "-auto-approve")
    key_id = next(
        r["instances"][0]["attributes"]["id"] for r in platform.state()["resources"] if r["name"] == "backup"
    )

    workload = Workspace(tmp_path, name="workload")
    (workload.dir / "main.tf").write_text(WORKLOAD.format(sub=SECOND, encryption=""))
    workload.ok("apply", "-auto-approve")
    vault = next(r for r in workload.state()["resources"] if r["name"] == "work")["instances"][0][
        "attributes"
    ]
    assert vault["id"].startswith(f"/subscriptions/{SECOND}/"), vault["id"]
    (platform.dir / "grant.tf").write_text(GRANT.format(principal=vault["identity"][0]["principal_id"]))
    platform.ok("apply", "-auto-approve")
    (workload.dir / "main.tf").write_text(
        WORKLOAD.format(sub=SECOND, encryption=ENCRYPTION.format(key=key_id))
    )
    workload.ok("apply", "-auto-approve")
    return platform, workload, vault


def test_a_vault_of_another_subscription_keeps_the_key_and_grant_it_uses(tmp_path):
    """Deleting the grant or the key a workload's vault encrypts with is refused although the vault
    lives in another subscription than the key vault."""
    platform, _workload, vault = _platform_and_workload(tmp_path)
    (platform.dir / "grant.tf").unlink()
    cut = platform.vf("plan")
    assert cut.code == 1, cut.explain()
    assert (
        "azurerm_key_vault_access_policy.work takes away the key access of Recovery Services vault rsv-work"
        in (cut.out)
    ), cut.explain()
    assert f"/subscriptions/{SECOND}/resourceGroups/rg-work/" in cut.out

    (platform.dir / "grant.tf").write_text(GRANT.format(principal=vault["identity"][0]["principal_id"]))
    keyvault = (BASE / "keyvault.tf").read_text()
    (platform.dir / "keyvault.tf").write_text(keyvault.replace("key_size     = 2048", "key_size     = 3072"))
    replaced = platform.vf("plan")
    assert replaced.code == 1, replaced.explain()
    assert "replaces the key Recovery Services vault rsv-work encrypts with [R11]" in replaced.out, (
        replaced.explain()
    )


def test_a_key_vault_of_another_subscription_is_found_by_audit_and_drift(tmp_path):
    """A vault whose key vault is in another subscription than those audited is judged against that
    key vault (looked for in the other subscriptions the credential sees), not called non-compliant
    for a key vault "not found"."""
    platform, workload, _vault = _platform_and_workload(tmp_path)
    audit = workload.run("audit", "-json", "-subscription", SECOND)
    assert audit.code == 0, audit.explain()
    (found,) = json.loads(audit.out)["vaults"]
    assert found["name"] == "rsv-work" and found["compliant"] is True, found
    assert found["key_vault"] == "kv-vfrule-cmk", found
    assert not [f for f in found["findings"] if f["code"].startswith("KEY_VAULT_NOT")], found

    drift = workload.vf("drift", "-json")
    assert drift.code == 0, drift.explain()
    assert "KEY_VAULT_NOT_FOUND" not in drift.out, drift.out


def test_drift_looks_for_unmanaged_objects_in_the_estate_s_own_subscription(tmp_path):
    """The workload's resource group is in its own subscription: a vault made there outside the
    configuration is reported; a key vault in a group of the same name in the provider's
    subscription - another group - is not."""
    from providers.azurelocal.seed import TENANT_ID

    platform, workload, _vault = _platform_and_workload(tmp_path)
    with workload._cloud_env():
        mine = ClientFactory.from_config({}, None)
        theirs = for_subscription(mine, SECOND)
        theirs.recovery_services().vaults.begin_create_or_update(
            "rg-work", "rsv-rogue", {"location": "westeurope", "sku": {"name": "Standard"}, "properties": {}}
        ).result()
        mine.resources().resource_groups.create_or_update("rg-work", {"location": "westeurope"})
        mine.keyvault_mgmt().vaults.begin_create_or_update(
            "rg-work",
            "kv-decoy",
            {
                "location": "westeurope",
                "properties": {
                    "tenantId": TENANT_ID,
                    "sku": {"family": "A", "name": "standard"},
                    "accessPolicies": [],
                },
            },
        ).result()
    # the workload's objects, imported by a configuration whose provider is in the platform's
    # subscription: they stay in theirs
    viewer = Workspace(tmp_path, name="viewer")
    work = (workload.dir / "main.tf").read_text().replace(f'  subscription_id = "{SECOND}"\n', "")
    group_id = f"/subscriptions/{SECOND}/resourceGroups/rg-work"
    imports = (
        f'import {{\n  to = azurerm_resource_group.work\n  id = "{group_id}"\n}}\n\n'
        "import {\n  to = azurerm_recovery_services_vault.work\n"
        f'  id = "{group_id}/providers/Microsoft.RecoveryServices/vaults/rsv-work"\n}}\n'
    )
    (viewer.dir / "main.tf").write_text(work + "\n" + imports)
    viewer.ok("apply", "-auto-approve")
    drift = viewer.vf("drift", "-json")
    found = {u["name"] for u in json.loads(drift.out)["unmanaged"]}
    assert "rsv-rogue" in found, drift.explain()
    assert "kv-decoy" not in found, drift.explain()


def test_a_throttled_read_of_another_subscription_still_refuses(tmp_path):
    """Azure refusing reads for now (429) makes the check wait them out, not pass as if it had seen
    every vault: each plan that deletes the workload vault's grant is refused."""
    platform, _workload, _vault = _platform_and_workload(tmp_path)
    (platform.dir / "grant.tf").unlink()
    platform.cloud_ok("configure", "-throttle-rate", "0.6", "-retry-after", "0s", "-seed", "5")
    try:
        for _ in range(4):
            cut = platform.vf("plan", "-refresh=false")
            assert cut.code == 1, cut.explain()
            assert "takes away the key access of Recovery Services vault rsv-work" in cut.out, cut.explain()
    finally:
        platform.cloud_ok("configure", "-reset")


def _unreadable(ws: Workspace, subscription: str) -> None:
    """The credential sees ``subscription`` but may not read in it (a role inside it only)."""
    env = Emulator(ws.db)
    try:
        env.configure_faults(unreadable_subscriptions=subscription)
    finally:
        env.store.close()


def test_a_subscription_that_can_not_be_read_is_said_so(tmp_path):
    """Where the workload's subscription can't be read, the plan that deletes the grant warns that
    it could not check every vault; where the platform's can't, the workload's audit says its key
    vault is unverified and exits 1 (a subscription it could not read), not "compliant", 0."""
    platform, workload, _vault = _platform_and_workload(tmp_path)
    _unreadable(platform, SECOND)
    (platform.dir / "grant.tf").unlink()
    cut = platform.vf("plan", "-refresh=false")
    assert cut.code == 0, cut.explain()
    assert "not every vault that may need it could be checked [R7]" in cut.out, cut.explain()
    assert f"subscription {SECOND} (" in cut.out and "AuthorizationFailed" not in cut.out.split("[R7]")[0]

    _unreadable(platform, SUBSCRIPTION_ID)
    audit = workload.run("audit", "-json", "-subscription", SECOND)
    assert audit.code == 1, audit.explain()
    report = json.loads(audit.out)
    (found,) = report["vaults"]
    assert [f["code"] for f in found["findings"] if f["code"].startswith("KEY_VAULT")] == [
        "KEY_VAULT_NOT_READ"
    ]
    assert [u["subscription"] for u in report["unreadable"]] == [SUBSCRIPTION_ID.lower()], report[
        "unreadable"
    ]
