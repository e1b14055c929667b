"""Refresh by listing: a plan read from Azure's lists is the plan per-object reads give, the lists are
followed page by page, and the calls a refresh makes grow with the containers, not the objects.

Every test runs the CLI in-process against a private local Azure (``tests.e2e.harness``); the calls
are counted at the local Azure's request handler. ``VAULTFORM_AZURERM_REFRESH=per-object`` is the
per-object refresh the listing is compared with.
"""

from __future__ import annotations

import copy

import pytest

from providers.azurelocal.app import Emulator
from providers.azurelocal.services import _arm
from providers.azurelocal.store import Kind, Store
from tests.e2e.harness import EXAMPLES, Workspace

EXAMPLES_APPLIED = ("quickstart", "user-assigned-identity", "key-rotation")


class Calls:
    """(method, path, query) of every call the local Azure answers."""

    def __init__(self, monkeypatch) -> None:
        self.seen: list[tuple[str, str, dict]] = []
        original = Emulator.handle

        def handle(emulator, request):
            self.seen.append((request.method, request.path, dict(request.query)))
            return original(emulator, request)

        monkeypatch.setattr(Emulator, "handle", handle)

    def clear(self) -> None:
        self.seen.clear()

    def ending(self, suffix: str) -> list[tuple[str, str, dict]]:
        return [c for c in self.seen if c[1].lower().endswith(suffix.lower())]


def _reads_in_order(text: str) -> str:
    """``text`` with its "Refreshing state..." lines sorted where they stand: reads run in parallel
    and each says so as it starts, so their order varies from run to run (as terraform's does)."""
    lines = text.splitlines(keepends=True)
    at = [i for i, line in enumerate(lines) if ": Refreshing state... " in line]
    for i, line in zip(at, sorted(lines[i] for i in at)):
        lines[i] = line
    return "".join(lines)


def plan_both_ways(ws: Workspace, monkeypatch, *args: str) -> tuple[str, str]:
    monkeypatch.setenv("VAULTFORM_AZURERM_REFRESH", "per-object")
    per_object = ws.vf("plan", *args)
    monkeypatch.setenv("VAULTFORM_AZURERM_REFRESH", "listing")
    listed = ws.vf("plan", *args)
    assert "Traceback" not in per_object.text + listed.text
    assert per_object.code == listed.code, per_object.explain() + "\n" + listed.explain()
    return _reads_in_order(per_object.text), _reads_in_order(listed.text)


def _change_out_of_band(db) -> None:
    """Tags on the key vaults, identities and Recovery Services vaults, and the backup policies'
    instant restore retention, changed behind vaultform's back."""
    store = Store(db)
    try:
        for kind in (Kind.KEY_VAULT, Kind.IDENTITY, Kind.RS_VAULT):
            for body in store.list(kind):
                body.setdefault("tags", {})["changed"] = "outside"
                store.put(kind, body["id"], body)
        for policy in store.list(Kind.BACKUP_POLICY):
            props = policy["properties"]
            props["instantRpRetentionRangeInDays"] = int(props.get("instantRpRetentionRangeInDays") or 2) + 1
            store.put(Kind.BACKUP_POLICY, policy["id"], policy)
    finally:
        store.close()


@pytest.mark.parametrize("example", EXAMPLES_APPLIED)
def test_listing_plans_exactly_what_per_object_reads_plan(example, tmp_path, monkeypatch):
    ws = Workspace(tmp_path, EXAMPLES / example)
    ws.ok("apply", "-auto-approve")
    per_object, listed = plan_both_ways(ws, monkeypatch, "-detailed-exitcode")
    assert "No changes." in listed
    assert listed == per_object
    _change_out_of_band(ws.db)
    per_object, listed = plan_both_ways(ws, monkeypatch, "-detailed-exitcode")
    assert "No changes." not in listed and "changed" in listed
    assert listed == per_object


def test_a_listed_container_answers_its_objects_reads(tmp_path, monkeypatch):
    """The quickstart's key vault and its two access policies come from one list, not three GETs;
    the protected item and the vault's history share the vault's protected-items list."""
    ws = Workspace(tmp_path, EXAMPLES / "quickstart")
    ws.ok("apply", "-auto-approve")
    calls = Calls(monkeypatch)
    monkeypatch.setenv("VAULTFORM_AZURERM_REFRESH", "per-object")
    ws.ok("plan", "-detailed-exitcode")
    per_object = list(calls.seen)
    calls.clear()
    monkeypatch.setenv("VAULTFORM_AZURERM_REFRESH", "listing")
    ws.ok("plan", "-detailed-exitcode")
    assert len(calls.ending("/vaults/kv-vfqs-cmk")) == 0
    assert len(calls.ending("/resourceGroups/rg-vfqs-backup/providers/Microsoft.KeyVault/vaults")) == 1
    assert len(calls.ending("/backupProtectedItems")) == 1
    assert not [c for c in calls.seen if "/protectedItems/" in c[1]]
    assert len(calls.seen) < len(per_object)


def _clone(store: Store, kind: str, template: dict, count: int, old: str) -> None:
    for n in range(count):
        body = copy.deepcopy(template)
        new = f"{old[:14]}x{n:04d}"
        body["id"] = body["id"].replace(old, new)
        body["name"] = new
        store.put(kind, body["id"], body)


def test_lists_longer_than_a_page_are_followed_to_the_end(tmp_path, monkeypatch):
    """450 more key vaults in the resource group than state knows: the list comes in pages of
    ``ARM_PAGE_SIZE`` linked by nextLink ($skiptoken), and the managed vault, last by name, is found."""
    ws = Workspace(tmp_path, EXAMPLES / "quickstart")
    ws.ok("apply", "-auto-approve")
    store = Store(ws.db)
    try:
        template = next(v for v in store.list(Kind.KEY_VAULT) if v["name"] == "kv-vfqs-cmk")
        _clone(store, Kind.KEY_VAULT, template, 450, "kv-vfqs-cmk")  # "kv-vfqs-cmk" < "kv-vfqs-cmkx..."
        names = sorted(v["name"].lower() for v in store.list(Kind.KEY_VAULT))
    finally:
        store.close()
    assert names[0] == "kv-vfqs-cmk" or names.index("kv-vfqs-cmk") < _arm.ARM_PAGE_SIZE
    calls = Calls(monkeypatch)
    monkeypatch.setenv("VAULTFORM_AZURERM_REFRESH", "listing")
    ws.ok("plan", "-detailed-exitcode")
    pages = calls.ending("/resourceGroups/rg-vfqs-backup/providers/Microsoft.KeyVault/vaults")
    assert len(pages) == 3, pages  # 451 vaults, 200 a page
    assert "$skiptoken" not in pages[0][2] and all("$skiptoken" in p[2] for p in pages[1:])
    assert len(calls.ending("/vaults/kv-vfqs-cmk")) == 0


def test_a_key_vault_missing_from_its_list_is_gone_without_a_get(tmp_path, monkeypatch):
    ws = Workspace(tmp_path, EXAMPLES / "quickstart")
    ws.ok("apply", "-auto-approve")
    store = Store(ws.db)
    try:
        vault = next(v for v in store.list(Kind.KEY_VAULT) if v["name"] == "kv-vfqs-cmk")
        store.delete(Kind.KEY_VAULT, vault["id"])
    finally:
        store.close()
    per_object, listed = plan_both_ways(ws, monkeypatch, "-detailed-exitcode")
    assert listed == per_object
    assert "azurerm_key_vault.cmk will be created" in listed


def test_a_refresh_by_listing_costs_calls_per_container_not_per_object(tmp_path, monkeypatch):
    """A generated estate (``benchmarks/estate_scale.py``): 4 units of a key vault, its key and
    grants, a Recovery Services vault with its policy and 12 protected VMs, two units per resource
    group. Listing reads each unit in a fixed number of calls however many VMs it protects; the
    per-object refresh pays one or more for every VM."""
    from benchmarks import estate_scale as estate

    units, vms, per_group = 4, 12, 2
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(tmp_path / "local-azure.db"))
    cfg = tmp_path / "cfg"
    estate.add_template_vms(tmp_path / "local-azure.db", vms)
    estate.write_config(cfg, 1, vms, per_group)
    code, out = estate.cli(cfg, "apply", "-auto-approve")
    assert code == 0, out
    estate.copy_cloud(tmp_path / "local-azure.db", units, per_group)
    objects = estate.copy_state(cfg / "vaultform.tfstate", units, per_group)
    estate.write_config(cfg, units, vms, per_group)
    assert objects == units * (vms + 7) + units // per_group

    calls = Calls(monkeypatch)
    counts = {}
    for mode in ("per-object", "listing"):
        monkeypatch.setenv("VAULTFORM_AZURERM_REFRESH", mode)
        calls.clear()
        code, out = estate.cli(cfg, "plan", "-detailed-exitcode")
        assert code == 0 and "No changes." in out, out
        counts[mode] = len(calls.seen)
    groups = units // per_group
    # per unit: the vault's GET, its replication setting, jobs, protected items (a vault that protects
    # items lists no containers), policies, the key and its rotation policy; per group: its GET and
    # its key vaults; one role assignment list
    assert counts["listing"] <= 7 * units + 2 * groups + 4, counts
    assert not [c for c in calls.seen if c[1].lower().endswith("/backupprotectioncontainers")]

    # drift reads from the same listings: the role assignments at each key vault's scope come from the
    # subscription's list, and the report is the per-object one
    reports = {}
    for mode in ("per-object", "listing"):
        monkeypatch.setenv("VAULTFORM_AZURERM_REFRESH", mode)
        calls.clear()
        code, reports[mode] = estate.cli(cfg, "drift")
        assert code == 0, reports[mode]
    assert reports["listing"] == reports["per-object"]
    assert not [
        c
        for c in calls.seen
        if "/microsoft.keyvault/vaults/" in c[1].lower() and "roleassignments" in c[1].lower()
    ]
    assert counts["per-object"] >= units * vms + counts["listing"], counts


def drift_both_ways(ws: Workspace, monkeypatch) -> tuple[str, str]:
    monkeypatch.setenv("VAULTFORM_AZURERM_REFRESH", "per-object")
    per_object = ws.vf("drift")
    monkeypatch.setenv("VAULTFORM_AZURERM_REFRESH", "listing")
    listed = ws.vf("drift")
    assert "Traceback" not in per_object.text + listed.text
    assert per_object.code == listed.code, per_object.explain() + "\n" + listed.explain()
    return per_object.text, listed.text


def test_drift_reads_from_the_same_listings_as_its_refresh(tmp_path, monkeypatch):
    """drift's search for unmanaged objects takes the key vault (access policies included) from its
    resource group's list, and its CMK audit takes the key its refresh has just read: no GET of the
    key vault, no second GET of the key. The report is the per-object one, also with an access policy
    added behind vaultform's back."""
    ws = Workspace(tmp_path, EXAMPLES / "quickstart")
    ws.ok("apply", "-auto-approve")
    per_object, listed = drift_both_ways(ws, monkeypatch)
    assert listed == per_object

    store = Store(ws.db)
    try:
        vault = next(v for v in store.list(Kind.KEY_VAULT) if v["name"] == "kv-vfqs-cmk")
        vault["properties"]["accessPolicies"].append(
            {
                "tenantId": vault["properties"]["tenantId"],
                "objectId": "00000000-0000-0000-0000-0000000000aa",
                "permissions": {"keys": ["Get"]},
            }
        )
        store.put(Kind.KEY_VAULT, vault["id"], vault)
    finally:
        store.close()
    per_object, listed = drift_both_ways(ws, monkeypatch)
    assert "00000000-0000-0000-0000-0000000000aa" in listed
    assert listed == per_object

    calls = Calls(monkeypatch)
    monkeypatch.setenv("VAULTFORM_AZURERM_REFRESH", "listing")
    ws.vf("drift")
    paths = [c[1].lower() for c in calls.seen if c[0] == "GET"]
    assert not [p for p in paths if p.endswith("/vaults/kv-vfqs-cmk")], paths
    key_gets = [p for p in paths if "/keys/" in p and not p.endswith(("/rotationpolicy", "/versions"))]
    assert len(key_gets) == len({p.rstrip("/") for p in key_gets}) == 1, key_gets
    # the audit lists the key's versions once (R12: an older version may still wrap the data key)
    assert len([p for p in paths if p.endswith("/keys/backup-cmk/versions")]) == 1, paths
