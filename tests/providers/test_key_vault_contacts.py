"""azurerm_key_vault's contact blocks are the vault's certificate contacts, managed end to end: apply
sets them on the vault's data plane, a refresh reads them (so an out-of-band change is drift the next
apply undoes), removing the blocks deletes them, and import reads them. What the local Azure holds is
looked at through the official azure-keyvault-certificates SDK, never through vaultform.

Fixture: tests/fixtures/key_vault_contacts (a vault whose inline access policy gives the deployer
ManageContacts; variables for the contacts, the certificate permissions and public access).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.keyvault.certificates import CertificateClient, CertificateContact
from azure.keyvault.keys import KeyClient

from providers.azurelocal.app import Emulator
from providers.azurelocal.credential import LocalCredential
from providers.azurelocal.transport import local_transport
from providers.azurerm.clients import KEY_VAULT_API_VERSION
from tests.e2e.harness import Workspace

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "key_vault_contacts"
VAULT = "kv-contacts-01"
ADDRESS = "azurerm_key_vault.kv"
APPLIED = [
    ("admin@contoso.com", "John Doe", "1111111111"),
    ("ops@contoso.com", None, None),
]


class LocalKeyVault:
    """The workspace's local Azure, seen through the certificates SDK as the deployer."""

    def __init__(self, db: Path) -> None:
        self.emulator = Emulator(db)
        self.client = CertificateClient(
            f"https://{VAULT}.vault.azure.net/",
            LocalCredential(),
            transport=local_transport(self.emulator),
            retry_total=0,
        )

    def contacts(self) -> list[tuple[str, str | None, str | None]]:
        try:
            found = self.client.get_contacts()
        except ResourceNotFoundError:
            return []
        return [(c.email, c.name, c.phone) for c in found]

    def close(self) -> None:
        self.client.close()
        self.emulator.store.close()


@pytest.fixture
def applied(tmp_path):
    ws = Workspace(tmp_path, FIXTURE)
    result = ws.vf("apply", "-auto-approve")
    assert result.code == 0, result.explain()
    assert "not reconciled" not in result.text and "unreconciled" not in result.text
    cloud = LocalKeyVault(ws.db)
    yield ws, cloud
    cloud.close()


def state_contacts(ws: Workspace) -> list[dict]:
    state = json.loads((ws.dir / "vaultform.tfstate").read_text())
    kv = next(r for r in state["resources"] if r["type"] == "azurerm_key_vault")
    return kv["instances"][0]["attributes"]["contact"]


def test_apply_sets_the_contacts_and_a_replan_is_clean(applied):
    ws, cloud = applied
    assert cloud.contacts() == APPLIED
    assert sorted(c["email"] for c in state_contacts(ws)) == ["admin@contoso.com", "ops@contoso.com"]
    again = ws.vf("plan", "-detailed-exitcode")
    assert again.code == 0, again.explain()
    assert "No changes." in again.out


def test_a_contact_changed_out_of_band_is_drift_that_apply_restores(applied):
    ws, cloud = applied
    cloud.client.set_contacts(
        [
            CertificateContact(email="admin@contoso.com", name="John Doe", phone="9999999999"),
            CertificateContact(email="ops@contoso.com"),
        ]
    )
    drift = ws.vf("plan", "-detailed-exitcode")
    assert drift.code == 2, drift.explain()
    assert f"{ADDRESS} will be updated in-place" in drift.out
    assert '"9999999999"' in drift.out and '"1111111111"' in drift.out
    restored = ws.vf("apply", "-auto-approve")
    assert restored.code == 0, restored.explain()
    assert "1 changed" in restored.out
    assert cloud.contacts() == APPLIED
    assert ws.vf("plan", "-detailed-exitcode").code == 0


def test_a_contact_deleted_out_of_band_is_drift_too(applied):
    ws, cloud = applied
    cloud.client.delete_contacts()
    drift = ws.vf("plan", "-detailed-exitcode")
    assert drift.code == 2, drift.explain()
    assert "- contact {" in drift.out or "+ contact {" in drift.out
    assert ws.vf("apply", "-auto-approve").code == 0
    assert cloud.contacts() == APPLIED


def test_changing_and_removing_the_blocks_changes_and_deletes_the_contacts(applied):
    ws, cloud = applied
    one = '[{email = "security@contoso.com", phone = "2222222222"}]'
    changed = ws.vf("apply", "-auto-approve", "-var", f"contacts={one}")
    assert changed.code == 0, changed.explain()
    assert cloud.contacts() == [("security@contoso.com", None, "2222222222")]
    removed = ws.vf("apply", "-auto-approve", "-var", "contacts=[]")
    assert removed.code == 0, removed.explain()
    with pytest.raises(ResourceNotFoundError):
        cloud.client.get_contacts()  # Key Vault's answer for a vault without contacts
    assert state_contacts(ws) in ([], None)
    assert ws.vf("plan", "-detailed-exitcode", "-var", "contacts=[]").code == 0


def test_import_reads_the_contacts(applied, tmp_path):
    ws, _ = applied
    kv_id = next(
        r["instances"][0]["attributes"]["id"]
        for r in json.loads((ws.dir / "vaultform.tfstate").read_text())["resources"]
        if r["type"] == "azurerm_key_vault"
    )
    other = Workspace(tmp_path, FIXTURE, name="imported")  # same root: the same local Azure
    imported = other.run("import", str(other.dir), ADDRESS, kv_id)
    assert imported.code == 0, imported.explain()
    assert sorted((c["email"], c["phone"] or None) for c in state_contacts(other)) == [
        ("admin@contoso.com", "1111111111"),
        ("ops@contoso.com", None),
    ]


def test_without_manage_contacts_the_apply_fails_clearly_and_keeps_the_vault(tmp_path):
    ws = Workspace(tmp_path, FIXTURE)
    result = ws.vf("apply", "-auto-approve", "-var", 'certificate_permissions=["Get"]')
    assert result.code == 1, result.explain()
    assert "key vault kv-contacts-01 was created, but" in result.text
    assert "ManageContacts" in result.text and "Traceback" not in result.text
    # the vault was created: it is in state (not left behind in Azure), with the contacts it has
    assert ADDRESS in ws.state_addresses()
    assert state_contacts(ws) in ([], None)
    # granting the permission lets the next apply set them
    fixed = ws.vf("apply", "-auto-approve")
    assert fixed.code == 0, fixed.explain()
    cloud = LocalKeyVault(ws.db)
    try:
        assert cloud.contacts() == APPLIED
    finally:
        cloud.close()


def test_contacts_on_a_vault_without_public_access_are_refused_before_anything_is_created(tmp_path):
    ws = Workspace(tmp_path, FIXTURE)
    result = ws.vf("apply", "-auto-approve", "-var", "public_network_access_enabled=false")
    assert result.code == 1, result.explain()
    assert (
        "`contact` cannot be specified when `public_network_access_enabled` is set to `false`" in result.text
    )
    assert VAULT not in ws.names("keyvault")
    assert ADDRESS not in ws.state_addresses()


def test_contacts_travel_with_the_api_version_of_the_other_key_vault_calls(tmp_path, monkeypatch):
    seen: list[tuple[str, str]] = []
    original = Emulator.handle

    def handle(emulator, request):
        if request.path.lower().endswith("/certificates/contacts"):
            seen.append((request.method, request.query.get("api-version", "")))
        return original(emulator, request)

    monkeypatch.setattr(Emulator, "handle", handle)
    ws = Workspace(tmp_path, FIXTURE)
    assert ws.vf("apply", "-auto-approve").code == 0
    assert {m for m, _ in seen} >= {"PUT", "GET"}
    # the keys client (azurerm_key_vault_key, the CMK's wrap and unwrap) speaks the same one
    keys = KeyClient(f"https://{VAULT}.vault.azure.net/", LocalCredential())
    assert {v for _, v in seen} == {KEY_VAULT_API_VERSION} == {keys.api_version}


def test_a_vault_without_contacts_refreshes_without_asking_for_them(tmp_path, monkeypatch):
    """Vaults with no contact blocks (the CMK vaults) cost no data-plane call per refresh."""
    seen: list[str] = []
    original = Emulator.handle

    def handle(emulator, request):
        seen.append(request.path.lower())
        return original(emulator, request)

    ws = Workspace(tmp_path, FIXTURE)
    assert ws.vf("apply", "-auto-approve", "-var", "contacts=[]").code == 0
    monkeypatch.setattr(Emulator, "handle", handle)
    plan = ws.vf("plan", "-detailed-exitcode", "-var", "contacts=[]")
    assert plan.code == 0, plan.explain()
    assert seen and not [p for p in seen if p.endswith("/certificates/contacts")]
    # adding blocks later sets them
    assert ws.vf("apply", "-auto-approve").code == 0
    cloud = LocalKeyVault(ws.db)
    try:
        assert cloud.contacts() == APPLIED
    finally:
        cloud.close()
