"""A key vault's certificate contacts through the unmodified azure-keyvault-certificates SDK.

The wire (Get/Set/Delete Certificate Contacts, api-version as the SDK sends it) is the REST spec's;
GET and DELETE on a vault without contacts answer 404, as azurerm relies on; every operation needs
the certificate permission ManageContacts (or the certificatecontacts/write data action under RBAC).
"""

from __future__ import annotations

import json

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.certificates import CertificateClient, CertificateContact

from providers.azurelocal.credential import LocalCredential
from providers.azurelocal.http import request_from_url
from providers.azurelocal.services.certificate_contacts import stored_contacts
from providers.azurelocal.transport import local_transport
from tests.azurelocal.conftest import FAST_RETRY
from tests.azurelocal.kvhelpers import make_key_vault, new_principal

VAULT = "kv-contacts-test"
GROUP = "rg-keys"


def deployer_policy(env, certificates: list[str]) -> dict:
    return {
        "tenantId": env.tenant_id,
        "objectId": env.deployer_object_id,
        "permissions": {"keys": ["get"], "certificates": certificates},
    }


def contacts_client(env, object_id: str | None = None) -> CertificateClient:
    return CertificateClient(
        f"https://{VAULT}.vault.azure.net/",
        LocalCredential(object_id),
        transport=local_transport(env),
        **FAST_RETRY,
    )


@pytest.fixture
def vault(env, keyvault_mgmt, resource_client):
    return make_key_vault(
        env, keyvault_mgmt, resource_client, VAULT, policies=[deployer_policy(env, ["ManageContacts"])]
    )


TWO = [
    CertificateContact(email="admin@contoso.com", name="John Doe", phone="1111111111"),
    CertificateContact(email="ops@contoso.com"),
]


def test_set_get_and_delete_contacts(env, vault):
    client = contacts_client(env)
    with pytest.raises(ResourceNotFoundError):
        client.get_contacts()  # none yet: 404
    written = client.set_contacts(TWO)
    assert [(c.email, c.name, c.phone) for c in written] == [
        ("admin@contoso.com", "John Doe", "1111111111"),
        ("ops@contoso.com", None, None),
    ]
    got = client.get_contacts()
    assert [c.email for c in got] == ["admin@contoso.com", "ops@contoso.com"]
    assert stored_contacts(env, VAULT)[0] == {
        "email": "admin@contoso.com",
        "name": "John Doe",
        "phone": "1111111111",
    }
    # a set replaces the whole list
    client.set_contacts([CertificateContact(email="new@contoso.com", name="New")])
    assert [(c.email, c.name) for c in client.get_contacts()] == [("new@contoso.com", "New")]
    removed = client.delete_contacts()
    assert [c.email for c in removed] == ["new@contoso.com"]
    with pytest.raises(ResourceNotFoundError):
        client.get_contacts()
    with pytest.raises(ResourceNotFoundError):
        client.delete_contacts()  # nothing left to delete: 404


def test_the_wire_is_the_specs(env, vault):
    """The body of the spec's SetCertificateContacts example comes back with the contacts' id."""
    contacts_client(env).set_contacts(TWO)  # passes the challenge once; the raw requests below reuse none
    token = LocalCredential().get_token("https://vault.azure.net/.default").token
    url = f"https://{VAULT}.vault.azure.net/certificates/contacts?api-version=7.5"
    answer = env.handle(request_from_url("GET", url, headers={"Authorization": f"Bearer {token}"}))
    assert answer.status == 200
    assert answer.body == {
        "id": f"https://{VAULT}.vault.azure.net/certificates/contacts",
        "contacts": [
            {"email": "admin@contoso.com", "name": "John Doe", "phone": "1111111111"},
            {"email": "ops@contoso.com"},
        ],
    }
    bad = env.handle(
        request_from_url(
            "PUT",
            url,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            body=json.dumps({"contacts": [{"name": "no address"}]}).encode(),
        )
    )
    assert bad.status == 400 and bad.body["error"]["code"] == "BadParameter"


def test_contacts_need_manage_contacts(env, keyvault_mgmt, resource_client):
    make_key_vault(
        env, keyvault_mgmt, resource_client, VAULT, policies=[deployer_policy(env, ["Get", "List"])]
    )
    client = contacts_client(env)
    for call in (client.get_contacts, lambda: client.set_contacts(TWO), client.delete_contacts):
        with pytest.raises(HttpResponseError) as refused:
            call()
        assert refused.value.status_code == 403
        assert "certificates managecontacts permission" in refused.value.message
    assert stored_contacts(env, VAULT) == []


def test_rbac_vaults_need_the_contacts_data_action(env, keyvault_mgmt, resource_client, auth_client):
    body = make_key_vault(env, keyvault_mgmt, resource_client, VAULT, rbac=True)
    officer = new_principal(env, "certificates-officer")
    crypto = new_principal(env, "crypto-officer")
    for principal, role in (
        (officer, "a4417e6f-fecd-4de8-b567-7b0420556985"),
        (crypto, "14b46e9e-c2b7-41b4-b07b-48a6ebf60603"),
    ):
        auth_client.role_assignments.create(
            body["id"],
            env.new_guid(),
            {
                "properties": {
                    "roleDefinitionId": f"/subscriptions/{env.subscription_id}/providers/"
                    f"Microsoft.Authorization/roleDefinitions/{role}",
                    "principalId": principal,
                }
            },
        )
    contacts_client(env, officer).set_contacts(TWO)
    with pytest.raises(HttpResponseError) as refused:
        contacts_client(env, crypto).get_contacts()
    assert refused.value.status_code == 403
    assert "certificatecontacts/write" in refused.value.message


def test_a_recovered_vault_keeps_its_contacts_and_a_purged_one_forgets_them(
    env, keyvault_mgmt, resource_client
):
    policies = [deployer_policy(env, ["ManageContacts"])]
    make_key_vault(env, keyvault_mgmt, resource_client, VAULT, purge_protection=False, policies=policies)
    contacts_client(env).set_contacts(TWO)
    keyvault_mgmt.vaults.delete(GROUP, VAULT)
    with pytest.raises(ResourceNotFoundError):
        contacts_client(env).get_contacts()  # a deleted vault has no data plane
    vault = keyvault_mgmt.vaults.begin_create_or_update(
        GROUP,
        VAULT,
        {
            "location": env.location_default,
            "properties": {
                "tenantId": env.tenant_id,
                "sku": {"family": "A", "name": "standard"},
                "createMode": "recover",
            },
        },
    ).result()
    assert [c.email for c in contacts_client(env).get_contacts()] == ["admin@contoso.com", "ops@contoso.com"]
    keyvault_mgmt.vaults.delete(GROUP, VAULT)
    keyvault_mgmt.vaults.begin_purge_deleted(VAULT, vault.location).result()
    make_key_vault(env, keyvault_mgmt, resource_client, VAULT, purge_protection=False, policies=policies)
    with pytest.raises(ResourceNotFoundError):
        contacts_client(env).get_contacts()
