"""Key Vault data plane: a vault's certificate contacts (Get/Set/Delete Certificate Contacts).

Wire, from the REST spec (Azure/azure-rest-api-specs, specification/keyvault/data-plane/
Microsoft.KeyVault/stable/7.5/certificates.json, operations GetCertificateContacts,
SetCertificateContacts, DeleteCertificateContacts, and their examples
examples/{Get,Set,Delete}CertificateContacts-example.json):

* ``PUT {vaultBaseUrl}/certificates/contacts`` with ``{"contacts": [{"email", "name", "phone"}]}``
  replaces the whole list and answers 200 with ``{"id": "{vaultBaseUrl}/certificates/contacts",
  "contacts": [...]}``;
* ``GET`` answers 200 with the same body;
* ``DELETE`` removes every contact and answers 200 with the list it removed.

Every one needs the certificate permission ``managecontacts`` (the REST reference's words for all
three), behind the usual challenge handshake and the vault's firewall.

Not in the spec: a vault without contacts answers 404 to GET and to DELETE. azurerm relies on it
(key_vault_resource.go reads ignore a 404; hashicorp/terraform-provider-azurerm PR 30461 shows a
GET after removing every contact marking the contacts gone and a second DELETE failing with
StatusCode=404). The error code ``ContactsNotFound`` and its message are invented, as are the 400s
for a malformed body below.

Contacts are kept in their own table of the local Azure's SQLite store, one row per vault name, so
they survive restarts like keys do; a soft-deleted vault keeps them (it is recovered with them),
and purging the vault forgets them (``purge_vault_contacts``).
"""

from __future__ import annotations

import json

from providers.azurelocal import access
from providers.azurelocal.http import AzureError, Request, Response
from providers.azurelocal.kvrules import (
    LOCAL_CLIENT_ADDRESS,
    KeyVaultError,
    check_network,
    requested_vault,
)
from providers.azurelocal.router import VAULT, Router

CLIENT_ADDRESS_HEADER = "x-vaultform-client-address"
CONTACT_FIELDS = ("email", "name", "phone")

_DDL = """
CREATE TABLE IF NOT EXISTS kv_certificate_contacts (
    vault TEXT PRIMARY KEY,
    contacts TEXT NOT NULL
);
"""


def ensure_table(env) -> None:
    if not getattr(env, "_kv_contacts_ready", False):
        env.store.ensure_table(_DDL)
        env._kv_contacts_ready = True


# --------------------------------------------------------------------------- storage


def stored_contacts(env, vault_name: str) -> list[dict]:
    """The contacts stored for the vault called ``vault_name`` (empty when it has none)."""
    ensure_table(env)
    row = (
        env.store._conn()
        .execute("SELECT contacts FROM kv_certificate_contacts WHERE vault=?", (vault_name.lower(),))
        .fetchone()
    )
    return json.loads(row[0]) if row else []


def store_contacts(env, vault_name: str, contacts: list[dict]) -> None:
    ensure_table(env)
    with env.store.transaction() as db:
        if contacts:
            db.execute(
                "INSERT INTO kv_certificate_contacts (vault, contacts) VALUES (?, ?) "
                "ON CONFLICT(vault) DO UPDATE SET contacts=excluded.contacts",
                (vault_name.lower(), json.dumps(contacts)),
            )
        else:
            db.execute("DELETE FROM kv_certificate_contacts WHERE vault=?", (vault_name.lower(),))


def purge_vault_contacts(env, vault_name: str) -> None:
    """Forget a purged vault's contacts, so a new vault of the same name starts without any."""
    store_contacts(env, vault_name, [])


# --------------------------------------------------------------------------- wire


def _contacts_body(vault_name: str, contacts: list[dict]) -> dict:
    return {"id": f"https://{vault_name.lower()}.vault.azure.net/certificates/contacts", "contacts": contacts}


def _parse_contacts(request: Request) -> list[dict]:
    data = request.json()
    if not isinstance(data, dict) or not isinstance(data.get("contacts", []), list):
        raise KeyVaultError(400, "BadParameter", 'The request body must be {"contacts": [...]}.')
    contacts = []
    for i, item in enumerate(data.get("contacts") or []):
        if not isinstance(item, dict):
            raise KeyVaultError(400, "BadParameter", f"contacts[{i}] must be an object.")
        entry = {f: item[f] for f in CONTACT_FIELDS if item.get(f) is not None}
        if any(not isinstance(v, str) for v in entry.values()):
            raise KeyVaultError(400, "BadParameter", f"contacts[{i}]: email, name and phone are strings.")
        if not entry.get("email"):
            raise KeyVaultError(400, "BadParameter", f"contacts[{i}] needs an email address.")
        contacts.append(entry)
    return contacts


def _not_found(vault_name: str) -> KeyVaultError:
    return KeyVaultError(
        404, "ContactsNotFound", f"The key vault '{vault_name}' has no certificate contacts."
    )


def _ok(body: dict) -> Response:
    return Response(200, body, {"content-type": "application/json; charset=utf-8"})


# --------------------------------------------------------------------------- the service


class ContactsService:
    def __init__(self, env) -> None:
        self.env = env

    def _vault(self, request: Request) -> dict:
        return requested_vault(self.env, request)

    def _caller(self, request: Request, vault: dict, operation: str) -> str:
        record = self.env.require_token(request)
        address = request.header(CLIENT_ADDRESS_HEADER) or LOCAL_CLIENT_ADDRESS
        try:
            check_network(self.env, vault, client_address=address, trusted_service=False)
            access.check_contacts_permission(self.env, record["object_id"], vault["id"])
        except AzureError as exc:
            if request.method != "GET":
                self.env.log(record["object_id"], operation, self._url(vault), "Failed", exc.code)
            raise
        return record["object_id"]

    @staticmethod
    def _url(vault: dict) -> str:
        return _contacts_body(vault["name"], [])["id"]

    def get(self, request: Request) -> Response:
        vault = self._vault(request)
        self._caller(request, vault, "CertificateContactsGet")
        contacts = stored_contacts(self.env, vault["name"])
        if not contacts:
            raise _not_found(vault["name"])
        return _ok(_contacts_body(vault["name"], contacts))

    def set(self, request: Request) -> Response:
        vault = self._vault(request)
        who = self._caller(request, vault, "CertificateContactsSet")
        contacts = _parse_contacts(request)
        # Invented: an empty list clears the contacts, as DELETE does (azurerm sends DELETE instead).
        store_contacts(self.env, vault["name"], contacts)
        self.env.log(who, "CertificateContactsSet", self._url(vault))
        return _ok(_contacts_body(vault["name"], contacts))

    def delete(self, request: Request) -> Response:
        vault = self._vault(request)
        who = self._caller(request, vault, "CertificateContactsDelete")
        contacts = stored_contacts(self.env, vault["name"])
        if not contacts:
            raise _not_found(vault["name"])
        store_contacts(self.env, vault["name"], [])
        self.env.log(who, "CertificateContactsDelete", self._url(vault))
        return _ok(_contacts_body(vault["name"], contacts))


def register(router: Router, env) -> None:
    ensure_table(env)
    svc = ContactsService(env)
    router.add(VAULT, "GET", "/certificates/contacts", svc.get)
    router.add(VAULT, "PUT", "/certificates/contacts", svc.set)
    router.add(VAULT, "DELETE", "/certificates/contacts", svc.delete)
