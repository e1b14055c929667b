"""azurerm_key_vault's ``contact`` blocks <-> the vault's certificate contacts (Key Vault data plane).

As azurerm did while ``contact`` was an argument of ``azurerm_key_vault``
(hashicorp/terraform-provider-azurerm, internal/services/keyvault/key_vault_resource.go, v3.x):

* create sets the contacts once the vault exists (SetCertificateContacts), and refuses ``contact``
  on a vault whose public network access is disabled before creating anything: the data plane
  would not be reachable;
* update replaces them when the blocks changed, and deletes them (DeleteCertificateContacts) when
  no block is left; azurerm's error names the public-access setting when it is off;
* read gets them (GetCertificateContacts) and reads "none" when Key Vault answers 404 (a vault
  without contacts) or 403 (the caller lacks the certificate permission ManageContacts), and, for a
  vault with public network access disabled, whatever the failure (the data plane may be behind a
  private endpoint). Every other failure is an error.

An unset ``name`` or ``phone`` reads back as "" (azurerm's flatten), which the plan takes as unset.
Before azurerm made ``contact`` Optional+Computed (PR 25552), leaving the blocks out deleted the
vault's contacts (issue 22301); vaultform keeps that: the blocks are what the vault holds.
"""

from __future__ import annotations

from typing import Any

from azure.core.exceptions import AzureError

from providers.azurerm.errors import classify
from providers.azurerm.resources.base import Context, blocks, value
from providers.base import NotFoundError, PermanentError, ProviderError

FIELDS = ("email", "name", "phone")
GRANT_HINT = (
    "The caller needs the certificate permission ManageContacts on the vault (certificate_permissions "
    "of an access policy) or, on a vault with RBAC authorization, a role with the data action "
    '"Microsoft.KeyVault/vaults/certificatecontacts/write" such as Key Vault Certificates Officer.'
)
PRIVATE_WARNING = (
    " Public network access to this key vault is disabled: its data plane is reachable only through "
    "private endpoints."
)


def planned_contacts(planned: dict[str, Any]) -> list[dict[str, str]]:
    """The configuration's contacts, each with its three fields ("" when unset)."""
    return [{f: str(value(c, f, "") or "") for f in FIELDS} for c in blocks(planned, "contact")]


def same_contacts(a: list[dict[str, str]], b: list[dict[str, str]]) -> bool:
    """Whether two contact lists hold the same contacts (a set: order doesn't matter)."""

    def key(contacts: list[dict[str, str]]) -> list[tuple[str, ...]]:
        return sorted(tuple(c.get(f) or "" for f in FIELDS) for c in contacts)

    return key(a) == key(b)


def public_access(planned: dict[str, Any]) -> bool:
    return bool(value(planned, "public_network_access_enabled", True))


def refuse_on_private_vault(planned: dict[str, Any], name: str) -> None:
    """azurerm v3's check before creating a vault with contacts it could not reach."""
    if planned_contacts(planned) and not public_access(planned):
        raise PermanentError(
            f"key vault {name}: `contact` cannot be specified when `public_network_access_enabled` is set "
            f"to `false`: certificate contacts are set through the vault's data plane. Create the vault "
            f"without `contact` blocks, or with public network access enabled.",
            code="ContactsNeedPublicAccess",
        )


def _reworded(err: ProviderError, doing: str) -> ProviderError:
    """``err`` saying what was being done; a 404 while writing is a permanent failure, not "gone"."""
    message = f"{doing}: {err.message}"
    if isinstance(err, NotFoundError):
        return PermanentError(message, code=err.code, status=err.status)
    err.message = message
    err.args = (message,)
    return err


def read_contacts(ctx: Context, vault_uri: str, *, public: bool) -> list[dict[str, str]]:
    """The vault's contacts as state holds them; [] when Key Vault has none or won't say."""
    try:
        found = ctx.clients.certificates(vault_uri).get_contacts()
    except AzureError as exc:
        err = classify(exc)
        if isinstance(err, NotFoundError) or err.status == 403 or not public:
            return []
        raise _reworded(
            err, f"retrieving the certificate contacts (`contact`) of key vault {vault_uri}"
        ) from exc
    return [{"email": c.email or "", "name": c.name or "", "phone": c.phone or ""} for c in found]


def write_contacts(ctx: Context, vault_uri: str, contacts: list[dict[str, str]], *, public: bool) -> None:
    """Make the vault's contacts ``contacts``: set them, or delete them all when there are none."""
    from azure.keyvault.certificates import CertificateContact  # loaded only by a vault with contacts

    client = ctx.clients.certificates(vault_uri)
    try:
        if contacts:
            client.set_contacts(
                [
                    CertificateContact(email=c["email"], name=c["name"] or None, phone=c["phone"] or None)
                    for c in contacts
                ]
            )
        else:
            client.delete_contacts()
    except AzureError as exc:
        err = classify(exc)
        if not contacts and isinstance(err, NotFoundError):
            return  # no contacts to delete: already as wanted
        doing = f"updating the certificate contacts (`contact`) of key vault {vault_uri}"
        reworded = _reworded(err, doing)
        if err.status == 403:
            reworded.message += f". {GRANT_HINT}"
        if not public:
            reworded.message += PRIVATE_WARNING
        reworded.args = (reworded.message,)
        raise reworded from exc
