"""azurerm_recovery_services_vault <-> ``Microsoft.RecoveryServices/vaults``.

The vault is created without encryption (identity, storage, security settings);
a key is then assigned with a PATCH that carries only ``properties.encryption``.
That second request is also what the engine's two-phase plan sends on its own
(DOMAIN.md O5): create the vault with its identity, grant, then assign the key.
Storage redundancy and cross-region restore travel in
``properties.redundancySettings``, immutability and soft delete in
``properties.securitySettings``.
"""

from __future__ import annotations

from typing import Any

from providers.azurerm.errors import GRANT_NOT_EFFECTIVE_CODES
from providers.azurerm.ids import canonical, parse_resource_id, same_id, same_key
from providers.azurerm.resources.base import (
    Context,
    Handler,
    block,
    call,
    dig,
    enabled_flag,
    flag_enabled,
    keep_location,
    keep_spelling,
    known,
    not_found_is_none,
    tags_of,
    value,
    wait_lro,
    wire,
)
from providers.azurerm.resources.vault_history import previous_keys, vault_history
from providers.base import IncompleteError, NotFoundError, PermanentError, ProviderError, RetryableError

TYPE = "Microsoft.RecoveryServices/vaults"
SKUS = ("RS0", "Standard")
STORAGE_MODES = ("GeoRedundant", "LocallyRedundant", "ZoneRedundant")
IMMUTABILITY = ("Disabled", "Unlocked", "Locked")
IDENTITY_TYPES = ("SystemAssigned", "UserAssigned", "SystemAssigned, UserAssigned")


# --------------------------------------------------------------------------- identity


def identity_to_wire(identity: dict[str, Any] | None, prior: dict[str, Any] | None = None) -> dict[str, Any]:
    """The identity body; on a PATCH, user-assigned identities no longer wanted are
    sent as null (ARM merges the map otherwise)."""
    if not identity:
        return {"type": "None"}
    kind = identity["type"]
    out: dict[str, Any] = {"type": kind}
    ids = value(identity, "identity_ids", []) or []
    if "UserAssigned" in kind:
        out["userAssignedIdentities"] = {canonical(i): {} for i in ids}
    dropped = [i for i in value(prior or {}, "identity_ids", []) or [] if not any(same_id(i, j) for j in ids)]
    if dropped and "UserAssigned" in kind:
        out["userAssignedIdentities"].update({canonical(i): None for i in dropped})
    return out


def identity_from_wire(body: dict[str, Any] | None, ref: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not body or str(body.get("type") or "None").lower() == "none":
        return []
    kind = _canon_identity_type(body.get("type"))
    wanted = (ref or {}).get("identity_ids") or []
    ids = [
        keep_spelling(next((w for w in wanted if same_id(w, i)), None), i)
        for i in (body.get("userAssignedIdentities") or {})
    ]
    return [
        {
            "type": kind,
            "identity_ids": ids,
            "principal_id": body.get("principalId"),
            "tenant_id": body.get("tenantId"),
        }
    ]


def _canon_identity_type(text: Any) -> str:
    parts = sorted(p.strip().lower() for p in str(text or "").split(","))
    for t in IDENTITY_TYPES:
        if sorted(p.strip().lower() for p in t.split(",")) == parts:
            return t
    return str(text)


# --------------------------------------------------------------------------- encryption


def encryption_to_wire(enc: dict[str, Any]) -> dict[str, Any]:
    user = value(enc, "user_assigned_identity_id")
    # Both fields, always: the key assignment is a PATCH that Azure merges into the
    # vault, so a field left out keeps its old value (a switch from the system-assigned
    # identity to a user-assigned one would keep useSystemAssignedIdentity = true).
    if user:
        kek = {"useSystemAssignedIdentity": False, "userAssignedIdentity": canonical(user)}
    else:
        kek = {"useSystemAssignedIdentity": True, "userAssignedIdentity": None}
    return {
        "keyVaultProperties": {"keyUri": enc["key_id"]},
        "kekIdentity": kek,
        "infrastructureEncryption": enabled_flag(value(enc, "infrastructure_encryption_enabled", False)),
    }


def encryption_from_wire(body: dict[str, Any] | None, ref: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not body or not dig(body, "keyVaultProperties.keyUri"):
        return []
    ref = ref or {}
    kek = body.get("kekIdentity") or {}
    user = kek.get("userAssignedIdentity")
    return [
        {
            "key_id": keep_spelling(ref.get("key_id"), dig(body, "keyVaultProperties.keyUri")),
            "infrastructure_encryption_enabled": flag_enabled(body.get("infrastructureEncryption")),
            "use_system_assigned_identity": bool(kek.get("useSystemAssignedIdentity", not user)),
            "user_assigned_identity_id": keep_spelling(ref.get("user_assigned_identity_id"), user)
            if user
            else None,
        }
    ]


# --------------------------------------------------------------------------- monitoring

# monitoring block attribute -> (monitoringSettings section, Azure property)
MONITORING = {
    "alerts_for_all_job_failures_enabled": ("azureMonitorAlertSettings", "alertsForAllJobFailures"),
    "alerts_for_all_replication_issues_enabled": (
        "azureMonitorAlertSettings",
        "alertsForAllReplicationIssues",
    ),
    "alerts_for_all_failover_issues_enabled": ("azureMonitorAlertSettings", "alertsForAllFailoverIssues"),
    "alerts_for_critical_operation_failures_enabled": ("classicAlertSettings", "alertsForCriticalOperations"),
    "email_notifications_for_site_recovery_enabled": (
        "classicAlertSettings",
        "emailNotificationsForSiteRecovery",
    ),
}


def monitoring_to_wire(mon: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, dict[str, str]] = {}
    for attr, (section, prop) in MONITORING.items():
        v = value(mon or {}, attr)
        if v is not None:
            out.setdefault(section, {})[prop] = enabled_flag(v)
    return out


def monitoring_from_wire(body: dict[str, Any] | None, ref: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not body or not ref:
        return []  # only what the configuration manages
    return [
        {
            attr: flag_enabled(dig(body, f"{section}.{prop}"))
            if dig(body, f"{section}.{prop}") is not None
            else None
            for attr, (section, prop) in MONITORING.items()
        }
    ]


# --------------------------------------------------------------------------- whole vault


def to_state(body: dict[str, Any], ref: dict[str, Any] | None = None) -> dict[str, Any]:
    ref = ref or {}
    rid = parse_resource_id(body["id"], expect=TYPE)
    props = body.get("properties") or {}
    redundancy = props.get("redundancySettings") or {}
    security = props.get("securitySettings") or {}
    soft = dig(security, "softDeleteSettings.softDeleteState")
    sku = dig(body, "sku.name")
    return {
        "id": str(rid),
        "name": rid.name,
        "resource_group_name": rid.resource_group,
        "location": keep_location(ref.get("location"), body.get("location")),
        "sku": keep_spelling(ref.get("sku"), sku) if str(sku).lower() in ("rs0", "standard") else sku,
        "identity": identity_from_wire(body.get("identity"), block(ref, "identity")),
        "encryption": encryption_from_wire(props.get("encryption"), block(ref, "encryption")),
        "storage_mode_type": redundancy.get("standardTierStorageRedundancy") or "GeoRedundant",
        "cross_region_restore_enabled": flag_enabled(redundancy.get("crossRegionRestore")),
        "immutability": dig(security, "immutabilitySettings.state") or "Disabled",
        "public_network_access_enabled": flag_enabled(props.get("publicNetworkAccess"), default=True),
        "soft_delete_enabled": soft is None or str(soft).lower() in ("enabled", "alwayson"),
        # Site Recovery's setting, read by ``read``; otherwise what was asked for
        "classic_vmware_replication_enabled": bool(
            ref.get("_classic_vmware", value(ref, "classic_vmware_replication_enabled", False))
        ),
        "tags": dict(body.get("tags") or {}),
        "monitoring": monitoring_from_wire(props.get("monitoringSettings"), block(ref, "monitoring")),
    }


def _security(planned: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "softDeleteSettings": {"softDeleteState": enabled_flag(value(planned, "soft_delete_enabled", True))}
    }
    if known(planned.get("immutability")):
        out["immutabilitySettings"] = {"state": planned["immutability"]}
    return out


def _redundancy(planned: dict[str, Any]) -> dict[str, Any]:
    return {
        "standardTierStorageRedundancy": value(planned, "storage_mode_type", "GeoRedundant"),
        "crossRegionRestore": enabled_flag(value(planned, "cross_region_restore_enabled", False)),
    }


def vault_body(planned: dict[str, Any]) -> dict[str, Any]:
    """The PUT body of a new vault: everything but encryption."""
    return {
        "location": planned["location"],
        "tags": tags_of(planned),
        "sku": {"name": planned["sku"], "tier": "Standard"},
        "identity": identity_to_wire(block(planned, "identity")),
        "properties": {
            "publicNetworkAccess": enabled_flag(value(planned, "public_network_access_enabled", True)),
            "redundancySettings": _redundancy(planned),
            "securitySettings": _security(planned),
            **(
                {"monitoringSettings": monitoring_to_wire(block(planned, "monitoring"))}
                if block(planned, "monitoring")
                else {}
            ),
        },
    }


# what each part of the PATCH that completes a create sets, for the message when it fails
_FOLLOW_UP_PARTS = {"identity": "identity", "properties": "immutability (Locked)"}


def create_then_patch(planned: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The create's PUT body and the PATCH that must follow it, as azurerm splits them:

    * immutability Locked can't be set at creation: create Unlocked, then PATCH Locked;
    * a user-assigned identity at creation makes the create's async operation answer 404
      (azure-rest-api-specs issue 27869), and "SystemAssigned, UserAssigned" comes back as
      None (issue 27851): create without an identity, then PATCH the identity on.
    """
    body = vault_body(planned)
    follow: dict[str, Any] = {}
    if planned.get("immutability") == "Locked":
        body["properties"]["securitySettings"] = _security({**planned, "immutability": "Unlocked"})
        follow["properties"] = {"securitySettings": _security(planned)}
    if "UserAssigned" in str(body["identity"].get("type")):
        follow["identity"] = body["identity"]
        body["identity"] = {"type": "None"}
    return body, follow


# what a PATCH carries for each changed attribute
def _patch_for(prior: dict[str, Any], planned: dict[str, Any], changed: tuple[str, ...]) -> dict[str, Any]:
    patch: dict[str, Any] = {}
    props: dict[str, Any] = {}
    if "identity" in changed:
        patch["identity"] = identity_to_wire(block(planned, "identity"), block(prior, "identity"))
    if "tags" in changed:
        patch["tags"] = tags_of(planned)
    if "sku" in changed:
        patch["sku"] = {"name": planned["sku"], "tier": "Standard"}
    if "public_network_access_enabled" in changed:
        props["publicNetworkAccess"] = enabled_flag(value(planned, "public_network_access_enabled", True))
    if {"storage_mode_type", "cross_region_restore_enabled"} & set(changed):
        props["redundancySettings"] = _redundancy(planned)
    if {"immutability", "soft_delete_enabled"} & set(changed):
        props["securitySettings"] = _security(planned)
        if planned.get("immutability") == "Locked" and value(prior, "immutability", "Disabled") == "Disabled":
            # Disabled can't go straight to Locked: Unlocked first, Locked in a second PATCH
            # (azurerm recovery_services_vault_resource.go does the same).
            props["securitySettings"] = _security({**planned, "immutability": "Unlocked"})
    if "monitoring" in changed and block(planned, "monitoring"):
        props["monitoringSettings"] = monitoring_to_wire(block(planned, "monitoring"))
    if props:
        patch["properties"] = props
    return patch


SETTINGS_API_VERSION = "2024-04-01"  # Microsoft.RecoveryServices replicationVaultSettings, as azurerm


def _settings_id(vault_id: str) -> str:
    return f"{vault_id}/replicationVaultSettings/default"


def classic_vmware(ctx: Context, vault_id: str) -> bool:
    """Whether Site Recovery's vault setting names the classic VMware provider (azurerm reads
    ``vmwareToAzureProviderType`` of setting "default")."""
    got = not_found_is_none(
        lambda: ctx.clients.resources().resources.get_by_id(
            _settings_id(vault_id), api_version=SETTINGS_API_VERSION
        )
    )
    kind = dig(wire(got), "properties.vmwareToAzureProviderType") if got is not None else None
    return str(kind or "").lower() == "vmware"


def enable_classic_vmware(ctx: Context, vault_id: str) -> None:
    body = {"properties": {"vmwareToAzureProviderType": "Vmware"}}
    poller = call(
        lambda: ctx.clients.resources().resources.begin_create_or_update_by_id(
            _settings_id(vault_id), body, api_version=SETTINGS_API_VERSION
        )
    )
    wait_lro(poller)


class RecoveryServicesVault(Handler):
    type_name = "azurerm_recovery_services_vault"
    refreshed = (
        "sku",
        "identity",
        "encryption",
        "storage_mode_type",
        "cross_region_restore_enabled",
        "immutability",
        "public_network_access_enabled",
        "soft_delete_enabled",
        "tags",
        "classic_vmware_replication_enabled",
        "monitoring",
    )
    updatable = (
        "sku",
        "identity",
        "encryption",
        "storage_mode_type",
        "cross_region_restore_enabled",
        "immutability",
        "public_network_access_enabled",
        "soft_delete_enabled",
        "tags",
        "monitoring",
    )
    private = ("_history",)
    kept = ("_previous_keys",)  # Azure keeps no record of the keys a vault used before (R11)

    def _vaults(self, ctx: Context):
        return ctx.clients.recovery_services().vaults

    def _patch(self, ctx: Context, rg: str, name: str, patch: dict[str, Any]) -> dict[str, Any]:
        return wire(wait_lro(call(lambda: self._vaults(ctx).begin_update(rg, name, patch))))

    def _assign_key(self, ctx: Context, rg: str, name: str, enc: dict[str, Any]) -> dict[str, Any]:
        """The key assignment; a grant that has not reached Azure Backup yet is waited out by the
        executor's retries (Azure gives no signal when it arrives: azurerm issue 27817, Bicep
        issue 16601 - "succeeds when retried")."""
        try:
            return self._patch(ctx, rg, name, {"properties": {"encryption": encryption_to_wire(enc)}})
        except PermanentError as exc:
            if exc.code.split("/")[0].lower() not in GRANT_NOT_EFFECTIVE_CODES:
                raise
            inner = next((c for c in ("ForbiddenByRbac", "ForbiddenByPolicy") if c in exc.message), "")
            raise RetryableError(
                f"waiting for the key vault grant of vault {name}'s identity to reach Azure Backup: it can't "
                f"use key {enc['key_id']} yet ({exc.code.split('/')[0]}{', ' + inner if inner else ''}). New "
                f"access policies and role assignments take seconds to minutes to arrive.",
                code=exc.code,
                status=exc.status,
            ) from exc

    def _put(self, ctx: Context, rg: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """PUT the vault; an operation that answers 404 though the vault was made (azure-rest-api-
        specs issue 27869) is followed by a GET, so a created vault is never lost."""
        poller = call(lambda: self._vaults(ctx).begin_create_or_update(rg, name, body))
        try:
            return wire(wait_lro(poller))
        except (NotFoundError, PermanentError) as exc:
            if exc.status != 404:
                raise
            got = not_found_is_none(lambda: self._vaults(ctx).get(rg, name))
            if got is None:
                raise
            return wire(got)

    def create(self, ctx: Context, planned: dict[str, Any]) -> dict[str, Any]:
        rg, name = planned["resource_group_name"], planned["name"]
        body, follow_up = create_then_patch(planned)
        out = self._put(ctx, rg, name, body)
        if follow_up:
            # The vault exists from here on: a failed follow-up carries it (as Azure has it), so it
            # is recorded, the user reads Azure's reason, and the next plan shows what is left to do.
            try:
                out = self._patch(ctx, rg, name, follow_up)
            except ProviderError as exc:
                what = " and ".join(_FOLLOW_UP_PARTS[k] for k in follow_up)
                raise IncompleteError(
                    f"vault {name} was created, but setting its {what} failed: {exc.message}",
                    to_state(out, planned),
                    code=exc.code,
                    status=exc.status,
                ) from exc
        if value(planned, "classic_vmware_replication_enabled", False):
            enable_classic_vmware(ctx, out["id"])
        enc = block(planned, "encryption")
        if enc:
            out = self._assign_key(ctx, rg, name, enc)
        return to_state(out, planned)

    def read(self, ctx: Context, prior: dict[str, Any]) -> dict[str, Any] | None:
        rid = parse_resource_id(prior["id"], expect=TYPE)
        got = not_found_is_none(lambda: self._vaults(ctx).get(rid.resource_group, rid.name))
        if got is None:
            return None
        body = wire(got)
        if ctx.listing is not None:
            ctx.listing.remember_vault(body)
        state = to_state(body, {**prior, "_classic_vmware": classic_vmware(ctx, body["id"])})
        key = str(dig(body, "properties.encryption.keyVaultProperties.keyUri") or "")
        out = {**state, "_history": vault_history(ctx, rid, encrypted=bool(key))}
        recorded = _recorded_key(prior)
        if key and recorded and not same_key(recorded, key):
            # the vault encrypts with another key than the one recorded: a key change cut short (the
            # run stopped before recording it) or made outside vaultform. Its old key is remembered
            # as an update remembers it (R11); the newest point now bounds the ones taken with it
            out["_previous_keys"] = previous_keys(ctx, rid, prior, key)
        return out

    def update(self, ctx, prior, planned, changed):
        rid = parse_resource_id(prior["id"], expect=TYPE)
        out = None
        patch = _patch_for(prior, planned, tuple(changed))
        if patch:
            out = self._patch(ctx, rid.resource_group, rid.name, patch)
        if (
            "immutability" in changed
            and planned.get("immutability") == "Locked"
            and dig(out or {}, "properties.securitySettings.immutabilitySettings.state") != "Locked"
        ):
            out = self._patch(
                ctx, rid.resource_group, rid.name, {"properties": {"securitySettings": _security(planned)}}
            )
        enc = block(planned, "encryption")
        previous = None
        if "encryption" in changed and enc:
            # The key assignment goes alone, after any identity change it relies on.
            out = self._assign_key(ctx, rid.resource_group, rid.name, enc)
            previous = previous_keys(ctx, rid, prior, str(enc.get("key_id") or ""))
        if out is None:
            out = wire(call(lambda: self._vaults(ctx).get(rid.resource_group, rid.name)))
        state = to_state(out, planned)
        return state if previous is None else {**state, "_previous_keys": previous}

    def delete(self, ctx: Context, prior: dict[str, Any]) -> None:
        rid = parse_resource_id(prior["id"], expect=TYPE)
        poller = not_found_is_none(lambda: self._vaults(ctx).begin_delete(rid.resource_group, rid.name))
        if poller is not None:
            not_found_is_none(lambda: wait_lro(poller))


def _recorded_key(prior: dict[str, Any]) -> str | None:
    enc = prior.get("encryption")
    first = enc[0] if isinstance(enc, list) and enc and isinstance(enc[0], dict) else {}
    return first.get("key_id") or None
