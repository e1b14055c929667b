"""azurerm_key_vault <-> ``Microsoft.KeyVault/vaults`` (management plane).

Soft delete is always on for new vaults; ``soft_delete_retention_days`` is fixed once
set and purge protection is one-way. A soft-deleted vault of the same name is
recovered (``createMode: recover``) unless ``features.key_vault.
recover_soft_deleted_key_vaults`` is false, as azurerm does (the engine's change rules refuse the rest, and
Azure refuses them too). Inline ``access_policy`` blocks are sent only when the
configuration has them, so grants made with ``azurerm_key_vault_access_policy``
are left alone. The ``contact`` blocks are the vault's certificate contacts, kept on its data plane
(``key_vault_contacts``).
"""

from __future__ import annotations

from typing import Any

from providers.azurerm.catalog.access_policy import (
    CERTIFICATE_PERMISSIONS,
    KEY_PERMISSIONS,
    SECRET_PERMISSIONS,
    STORAGE_PERMISSIONS,
)
from providers.azurerm.ids import parse_resource_id
from providers.azurerm.listing import key_vaults_of, read_body
from providers.azurerm.resources.base import (
    Context,
    DataSource,
    Handler,
    block,
    blocks,
    call,
    canon,
    canon_list,
    dig,
    keep_location,
    known,
    normalize_location,
    not_found_is_none,
    tags_of,
    value,
    wait_lro,
    wire,
)
from providers.azurerm.resources.key_vault_contacts import (
    planned_contacts,
    public_access,
    read_contacts,
    refuse_on_private_vault,
    same_contacts,
    write_contacts,
)
from providers.azurerm.resources.vault_locks import key_vault_writer
from providers.base import IncompleteError, ProviderError

TYPE = "Microsoft.KeyVault/vaults"

SKUS = ("standard", "premium")
DEFAULT_ACTIONS = ("Allow", "Deny")
BYPASSES = ("None", "AzureServices")

PERMISSION_FIELDS = {
    "key_permissions": ("keys", KEY_PERMISSIONS),
    "secret_permissions": ("secrets", SECRET_PERMISSIONS),
    "certificate_permissions": ("certificates", CERTIFICATE_PERMISSIONS),
    "storage_permissions": ("storage", STORAGE_PERMISSIONS),
}

# catalog attribute -> Azure property, for the plain scalar properties
SCALARS = {
    "enabled_for_deployment": "enabledForDeployment",
    "enabled_for_disk_encryption": "enabledForDiskEncryption",
    "enabled_for_template_deployment": "enabledForTemplateDeployment",
    "rbac_authorization_enabled": "enableRbacAuthorization",
    "purge_protection_enabled": "enablePurgeProtection",
    "soft_delete_retention_days": "softDeleteRetentionInDays",
}
SCALAR_DEFAULTS = {
    "enabled_for_deployment": False,
    "enabled_for_disk_encryption": False,
    "enabled_for_template_deployment": False,
    "rbac_authorization_enabled": False,
    "purge_protection_enabled": False,
    "soft_delete_retention_days": 90,
}


# --------------------------------------------------------------------------- policies


def policy_to_wire(policy: dict[str, Any], tenant_default: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "tenantId": value(policy, "tenant_id", tenant_default),
        "objectId": policy["object_id"],
        "permissions": {
            azure: list(value(policy, attr, []) or []) for attr, (azure, _) in PERMISSION_FIELDS.items()
        },
    }
    if value(policy, "application_id"):
        out["applicationId"] = policy["application_id"]
    return out


def policy_from_wire(entry: dict[str, Any]) -> dict[str, Any]:
    perms = entry.get("permissions") or {}
    out: dict[str, Any] = {
        "tenant_id": entry.get("tenantId"),
        "object_id": entry.get("objectId"),
        "application_id": entry.get("applicationId") or "",
    }
    for attr, (azure, spelling) in PERMISSION_FIELDS.items():
        out[attr] = canon_list(dig(perms, azure) or [], spelling)
    return out


# --------------------------------------------------------------------------- network rules


def acls_to_wire(acls: dict[str, Any] | None) -> dict[str, Any] | None:
    if not acls:
        return None
    return {
        "defaultAction": acls.get("default_action") or "Allow",
        "bypass": acls.get("bypass") or "AzureServices",
        "ipRules": [{"value": ip} for ip in value(acls, "ip_rules", []) or []],
        "virtualNetworkRules": [{"id": sid} for sid in value(acls, "virtual_network_subnet_ids", []) or []],
    }


def acls_from_wire(body: dict[str, Any] | None) -> dict[str, Any]:
    body = body or {}
    return {
        "default_action": canon(body.get("defaultAction") or "Allow", DEFAULT_ACTIONS),
        "bypass": canon(body.get("bypass") or "AzureServices", BYPASSES),
        "ip_rules": sorted(r.get("value") for r in body.get("ipRules") or []),
        "virtual_network_subnet_ids": sorted(r.get("id") for r in body.get("virtualNetworkRules") or []),
    }


def _public_access(props: dict[str, Any], prior: dict[str, Any]) -> bool | None:
    """Azure says "Enabled" for a vault nobody restricted (azurerm's default, true): that is what
    leaving the argument unset means, so it reads back unset unless the configuration set it."""
    enabled = (props.get("publicNetworkAccess") or "Enabled").lower() != "disabled"
    if enabled and not known(prior.get("public_network_access_enabled")):
        return None
    return enabled


def _shape_block(planned: dict[str, Any], name: str, item: dict[str, Any]) -> Any:
    """The block in the same nesting the plan used (a dict or a list of one)."""
    return item if isinstance(planned.get(name), dict) else [item]


# --------------------------------------------------------------------------- state


def to_state(body: dict, prior: dict | None = None) -> dict[str, Any]:
    prior = prior or {}
    rid = parse_resource_id(body["id"], expect=TYPE)
    props = body.get("properties") or {}
    out: dict[str, Any] = {
        "id": str(rid),
        "name": rid.name,
        "resource_group_name": rid.resource_group,
        "location": keep_location(prior.get("location"), body.get("location")),
        "tenant_id": props.get("tenantId"),
        "sku_name": canon(dig(props, "sku.name"), SKUS),
        "vault_uri": props.get("vaultUri"),
        "public_network_access_enabled": _public_access(props, prior),
        "access_policy": [policy_from_wire(p) for p in props.get("accessPolicies") or []],
        "network_acls": _shape_block(prior, "network_acls", acls_from_wire(props.get("networkAcls"))),
        "tags": dict(body.get("tags") or {}),
    }
    for attr, prop in SCALARS.items():
        got = props.get(prop)
        out[attr] = SCALAR_DEFAULTS[attr] if got is None else got
    out["enable_rbac_authorization"] = out["rbac_authorization_enabled"]  # azurerm's former name
    return out


def properties_from(planned: dict[str, Any], tenant_default: str, *, creating: bool) -> dict[str, Any]:
    if not known(planned.get("rbac_authorization_enabled")) and known(
        planned.get("enable_rbac_authorization")
    ):
        planned = {**planned, "rbac_authorization_enabled": planned["enable_rbac_authorization"]}
    tenant = value(planned, "tenant_id", tenant_default)
    props: dict[str, Any] = {
        "tenantId": tenant,
        "sku": {"family": "A", "name": value(planned, "sku_name", "standard").lower()},
        "publicNetworkAccess": "Enabled"
        if value(planned, "public_network_access_enabled", True)
        else "Disabled",
    }
    for attr, prop in SCALARS.items():
        v = planned.get(attr)
        if known(v):
            props[prop] = v
        elif creating:
            props[prop] = SCALAR_DEFAULTS[attr]
    if props.get("enablePurgeProtection") is False:
        # Azure rejects an explicit false (it can only be switched on); leave it out.
        props.pop("enablePurgeProtection")
    if creating:
        props["enableSoftDelete"] = True
    acls = acls_to_wire(block(planned, "network_acls"))
    if acls is not None:
        props["networkAcls"] = acls
    if known(planned.get("access_policy")):
        props["accessPolicies"] = [policy_to_wire(p, tenant) for p in blocks(planned, "access_policy")]
    elif creating:
        props["accessPolicies"] = []
    return props


class KeyVault(Handler):
    type_name = "azurerm_key_vault"
    refreshed = (
        "tenant_id",
        "sku_name",
        "access_policy",
        "network_acls",
        "purge_protection_enabled",
        "soft_delete_retention_days",
        "rbac_authorization_enabled",
        "public_network_access_enabled",
        "enabled_for_deployment",
        "enabled_for_disk_encryption",
        "enabled_for_template_deployment",
        "vault_uri",
        "tags",
        "contact",
    )
    implicit = {"public_network_access_enabled": True}
    updatable = (
        "sku_name",
        "access_policy",
        "network_acls",
        "purge_protection_enabled",
        "rbac_authorization_enabled",
        "enable_rbac_authorization",
        "public_network_access_enabled",
        "enabled_for_deployment",
        "enabled_for_disk_encryption",
        "enabled_for_template_deployment",
        "tags",
        "tenant_id",
        "contact",
    )

    def create(self, ctx: Context, planned: dict[str, Any]) -> dict[str, Any]:
        refuse_on_private_vault(planned, planned["name"])
        with key_vault_writer(planned["name"], ctx.waiter.report):
            state = self._create(ctx, planned)
        if not planned_contacts(planned):
            return {**state, "contact": []}  # a new vault has none
        uri, public = _data_plane(state), public_access(planned)
        _contacts_step(ctx, state, uri, planned, public=public, done="created")
        return {**state, "contact": read_contacts(ctx, uri, public=public)}

    def _create(self, ctx: Context, planned: dict[str, Any]) -> dict[str, Any]:
        rg, name = planned["resource_group_name"], planned["name"]
        vaults = ctx.clients.keyvault_mgmt().vaults
        props = properties_from(planned, ctx.clients.tenant_id, creating=True)
        recovering = (
            ctx.feature("key_vault", "recover_soft_deleted_key_vaults", True)
            and not_found_is_none(lambda: vaults.get_deleted(name, normalize_location(planned["location"])))
            is not None
        )
        body = {
            "location": planned["location"],
            "tags": tags_of(planned),
            "properties": {**props, "createMode": "recover"} if recovering else props,
        }
        if recovering:
            ctx.waiter.report(
                f"recovering the soft-deleted key vault {name} (features.key_vault."
                f"recover_soft_deleted_key_vaults)"
            )
        out = wait_lro(call(lambda: vaults.begin_create_or_update(rg, name, body)))
        if recovering:
            # a recovered vault comes back as it was; make it what the configuration says
            settable = {
                k: v for k, v in props.items() if k not in ("enableSoftDelete", "softDeleteRetentionInDays")
            }
            out = call(lambda: vaults.update(rg, name, {"tags": tags_of(planned), "properties": settable}))
            ctx.recovered_key_vaults.add(str(wire(out).get("id") or "").lower())
        return to_state(wire(out), planned)

    def read(self, ctx: Context, prior: dict[str, Any]) -> dict[str, Any] | None:
        # The contacts are read when the state says the vault has some: a vault that has none (the
        # CMK vaults vaultform is for) costs no data-plane call on each refresh, and no refused one
        # when the caller lacks ManageContacts. An update compares them with Key Vault anyway, and
        # an import reads them. (Contacts added out of band to such a vault go unseen, as they do
        # in azurerm 4, where the block is computed.)
        return self._read(ctx, prior, contacts=bool(value(prior, "contact")))

    def import_(self, ctx: Context, id_: str) -> dict[str, Any] | None:
        return self._read(ctx, {"id": id_}, contacts=True)

    def _read(self, ctx: Context, prior: dict[str, Any], *, contacts: bool) -> dict[str, Any] | None:
        rid = parse_resource_id(prior["id"], expect=TYPE)
        got = read_body(
            ctx,
            key_vaults_of(str(rid)),
            str(rid),
            lambda: ctx.clients.keyvault_mgmt().vaults.get(rid.resource_group, rid.name),
        )
        if got is None:
            return None
        state = to_state(got, prior)
        if not contacts:
            return {**state, "contact": []}
        public = state.get("public_network_access_enabled") is not False
        return {**state, "contact": read_contacts(ctx, _data_plane(state), public=public)}

    def update(self, ctx, prior, planned, changed):
        rid = parse_resource_id(prior["id"], expect=TYPE)
        full = properties_from(planned, ctx.clients.tenant_id, creating=False)
        changed = tuple(changed) + (
            ("rbac_authorization_enabled",) if "enable_rbac_authorization" in changed else ()
        )
        wanted = {SCALARS.get(a) for a in changed} | {
            {
                "sku_name": "sku",
                "tenant_id": "tenantId",
                "network_acls": "networkAcls",
                "access_policy": "accessPolicies",
                "public_network_access_enabled": "publicNetworkAccess",
            }.get(a)
            for a in changed
        }
        patch: dict[str, Any] = {"properties": {k: v for k, v in full.items() if k in wanted}}
        if "tags" in changed:
            patch["tags"] = tags_of(planned)
        vaults = ctx.clients.keyvault_mgmt().vaults
        with key_vault_writer(rid.name, ctx.waiter.report):
            if patch["properties"] or "tags" in patch:
                out = call(lambda: vaults.update(rid.resource_group, rid.name, patch))
            else:  # only the contacts change: nothing to send to Resource Manager
                out = call(lambda: vaults.get(rid.resource_group, rid.name))
            state = to_state(wire(out), planned)
            uri, public = _data_plane(state), public_access(planned)
            contacts = planned_contacts(planned)
            if not contacts and not value(prior, "contact") and "contact" not in changed:
                return {**state, "contact": []}  # none before, none wanted: as ``read`` leaves them
            # Compared with what the vault holds now, not only with the prior state: contacts
            # changed out of band differ from the refresh, not from the stored state.
            if "contact" in changed or not same_contacts(read_contacts(ctx, uri, public=public), contacts):
                _contacts_step(ctx, state, uri, planned, public=public, done="updated")
        return {**state, "contact": read_contacts(ctx, uri, public=public)}

    def delete(self, ctx: Context, prior: dict[str, Any]) -> None:
        # A delete is a soft delete: Azure keeps the vault (and its name) for its retention
        # period. As azurerm does (key_vault_resource.go), the deleted vault is then purged when
        # features.key_vault.purge_soft_delete_on_destroy says so (default true) - unless purge
        # protection forbids it, when Azure purges it at the end of its retention. The plan's
        # rules refuse to destroy a key vault a vault's encryption still depends on (R11).
        rid = parse_resource_id(prior["id"], expect=TYPE)
        vaults = ctx.clients.keyvault_mgmt().vaults
        with key_vault_writer(rid.name, ctx.waiter.report):
            current = not_found_is_none(lambda: vaults.get(rid.resource_group, rid.name))
            not_found_is_none(lambda: vaults.delete(rid.resource_group, rid.name))
        if not ctx.feature("key_vault", "purge_soft_delete_on_destroy", True):
            return
        body = wire(current) if current is not None else {}
        protected = dig(body, "properties.enablePurgeProtection", prior.get("purge_protection_enabled"))
        if protected:
            ctx.waiter.report(
                f"key vault {rid.name} has purge protection: Azure keeps it soft-deleted for its retention "
                f"period and purges it then"
            )
            return
        location = normalize_location(body.get("location") or prior.get("location"))
        ctx.waiter.report(
            f"purging the deleted key vault {rid.name} (features.key_vault.purge_soft_delete_on_destroy)"
        )
        poller = not_found_is_none(lambda: vaults.begin_purge_deleted(rid.name, location))
        if poller is not None:
            not_found_is_none(lambda: wait_lro(poller))


def _contacts_step(
    ctx: Context, state: dict[str, Any], uri: str, planned: dict[str, Any], *, public: bool, done: str
) -> None:
    """Write the planned contacts after the vault itself was ``done``. A refusal leaves the vault as
    it now is: the error carries it (with the contacts it really has) so it stays in state, and the
    next plan offers the contacts again."""
    try:
        write_contacts(ctx, uri, planned_contacts(planned), public=public)
    except ProviderError as exc:
        now = {**state, "contact": read_contacts(ctx, uri, public=public)}
        raise IncompleteError(
            f"key vault {state['name']} was {done}, but {exc.message}", now, code=exc.code, status=exc.status
        ) from exc


def _data_plane(state: dict[str, Any]) -> str:
    return state.get("vault_uri") or f"https://{state['name']}.vault.azure.net/"


class KeyVaultData(DataSource):
    type_name = "azurerm_key_vault"

    def read(self, ctx: Context, config: dict[str, Any]) -> dict[str, Any] | None:
        rg, name = config["resource_group_name"], config["name"]
        got = not_found_is_none(lambda: ctx.clients.keyvault_mgmt().vaults.get(rg, name))
        return None if got is None else to_state(wire(got))


def find_vault_by_uri(ctx: Context, vault_uri: str) -> dict[str, Any] | None:
    """The key vault whose data-plane URI is ``vault_uri`` (for ids that only carry it)."""
    host = vault_uri.lower().split("//", 1)[-1].split("/", 1)[0]
    name = host.split(".", 1)[0]
    for v in call(lambda: list(ctx.clients.keyvault_mgmt().vaults.list_by_subscription())):
        body = wire(v)
        uri = (dig(body, "properties.vaultUri") or "").lower()
        if host in uri or (body.get("name") or "").lower() == name:
            return body
    return None
