"""What the plan says about soft-deleted names: an object that will be recovered, not created.

A destroyed key vault (and a deleted key) keeps its name for its retention period; Azure refuses
to create another under that name (409 ConflictError "A vault with the same name already exists
in deleted state"). azurerm recovers it instead when ``features { key_vault {
recover_soft_deleted_key_vaults / recover_soft_deleted_keys } }`` allow (both default true), and
refuses otherwise (internal/services/keyvault/key_vault_resource.go,
optedOutOfRecoveringSoftDeletedKeyVaultErrorFmt). The plan looks the names up so it can say which
happens before anything is applied.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from providers.azurerm.grant_arrival import caller_granted
from providers.azurerm.ids import InvalidIdError, parse_resource_id
from providers.azurerm.planned_text import text_of
from providers.azurerm.resources.base import Context, normalize_location, not_found_is_none, wire
from providers.base import PlannedInstance, ProviderError
from reconciler.diagnostics import Diagnostic, error, info, warning


def _deleted_vault(ctx: Context, name: str, location: str) -> dict[str, Any] | None:
    vaults = ctx.clients.keyvault_mgmt().vaults
    got = not_found_is_none(lambda: vaults.get_deleted(name, normalize_location(location)))
    return None if got is None else wire(got)


def _replaced_under_its_name(ctx: Context, inst: PlannedInstance) -> Diagnostic | None:
    """A key vault replaced under the same name: the deleted one keeps the name while it is
    soft-deleted, so the new one can't be made (or the old one comes back in its place).

    Replacing happens for a new location or resource group (ForceNew in azurerm). The destroy
    half soft-deletes the key vault; azurerm then purges it unless purge protection forbids it or
    features.key_vault.purge_soft_delete_on_destroy is false. Left soft-deleted, it holds the name:
    the create that follows either meets 409 ConflictError "A vault with the same name already
    exists in deleted state" (another location: azurerm looks for a deleted vault in the new
    location only, key_vault_resource.go) or recovers the old vault - in its old resource group,
    with its old settings - instead of creating one. Either way the apply stops half-way with the
    key vault gone, so the plan says so first."""
    before, after = inst.before or {}, inst.after or {}
    name = after.get("name")
    if not isinstance(name, str) or str(before.get("name", "")).lower() != name.lower():
        return None
    protected = before.get("purge_protection_enabled") is True
    if not protected and ctx.feature("key_vault", "purge_soft_delete_on_destroy", True):
        return None  # destroy purges it, and the name is free again
    why = (
        "its purge protection keeps it soft-deleted"
        if protected
        else "features.key_vault.purge_soft_delete_on_destroy is false, so it stays soft-deleted"
    )
    days = before.get("soft_delete_retention_days") or 90
    moved = [a for a in ("location", "resource_group_name") if before.get(a) != after.get(a)]
    forced = f" (its {' and '.join(moved)} {'change' if len(moved) > 1 else 'changes'})" if moved else ""
    return error(
        "key_vault_replaced_under_its_name",
        f"{inst.address} can't be replaced under the same name",
        f"This plan replaces key vault {name!r}{forced}: the old one is deleted first, and {why} for "
        f"{days} days. A soft-deleted key vault keeps its name, so Azure refuses the new {name!r} (409 "
        f"ConflictError), or azurerm recovers the old one - in its old place, with its old settings - "
        f"instead of creating it; the apply would stop with the key vault gone. Give the new key vault "
        f"another name (and move the keys the vaults use to it first), or keep this one where it is.",
        address=str(inst.address),
    )


def _group_of(resource_id: Any) -> str | None:
    try:
        return parse_resource_id(resource_id).resource_group or None
    except InvalidIdError:
        return None


def _vault_note(ctx: Context, inst: PlannedInstance, plan: list[PlannedInstance]) -> Diagnostic | None:
    if inst.action == "replace":
        return _replaced_under_its_name(ctx, inst)
    after = inst.after or {}
    name, location = after.get("name"), after.get("location")
    if not (isinstance(name, str) and isinstance(location, str)):  # both known
        return None
    deleted = _deleted_vault(ctx, name, location)
    if deleted is None:
        return None
    purge_date = (deleted.get("properties") or {}).get("scheduledPurgeDate") or "the end of its retention"
    if ctx.feature("key_vault", "recover_soft_deleted_key_vaults", True):
        old_group = _group_of((deleted.get("properties") or {}).get("vaultId"))
        group = after.get("resource_group_name")
        if old_group and isinstance(group, str) and old_group.lower() != group.lower():
            # a deleted key vault is recovered only where it was deleted from: its resource group is
            # in properties.vaultId (Deleted Vaults - Get), and recovery needs the same subscription,
            # resource group, location and name (Azure/bicep issue 7529)
            return error(
                "soft_deleted_key_vault_elsewhere",
                f"{inst.address} would be recovered into another resource group",
                f"A soft-deleted key vault named {name!r} exists in {location} (to be purged on {purge_date}), "
                f"and apply recovers it (features.key_vault.recover_soft_deleted_key_vaults) instead of "
                f"creating one - but a key vault is recovered only into the resource group it was "
                f"deleted from, {old_group!r}, not {group!r}. Give the key vault another name, or write "
                f"it in {old_group!r}.",
                address=str(inst.address),
            )
        return info(
            "soft_deleted_key_vault_recovered",
            f"{inst.address} will be recovered, not created",
            f"A soft-deleted key vault named {name!r} exists in {location} (to be purged on {purge_date}); "
            f"apply recovers it (features.key_vault.recover_soft_deleted_key_vaults) and sets it to "
            f"this configuration. The keys it held when it was deleted come back with it; a key deleted "
            f"before it stays soft-deleted, and writing that key again recovers it, which needs the "
            f"Recover key permission.",
            address=str(inst.address),
        )
    return error(
        "soft_deleted_key_vault_exists",
        f"{inst.address}: the name {name!r} is held by a soft-deleted key vault",
        f"A soft-deleted key vault named {name!r} exists in {location} (to be purged on {purge_date}), and "
        f"features.key_vault.recover_soft_deleted_key_vaults is false, so Azure would refuse the create "
        f"(409 ConflictError). Recover it (set the feature to true, or `az keyvault recover`) and import "
        f"it, purge it if purge protection allows, or choose another name.",
        address=str(inst.address),
    )


def _key_replaced_under_its_name(ctx: Context, inst: PlannedInstance) -> Diagnostic | None:
    """A key replaced under the same name in a key vault that keeps it soft-deleted.

    The destroy half deletes the key; azurerm purges it only when
    features.key_vault.purge_soft_deleted_keys_on_destroy allows and the key vault has no purge
    protection (which CMK requires, R5). Left soft-deleted, the name is taken: the create that
    follows recovers the old key - its old type, size and material - instead of making the new one
    (features.key_vault.recover_soft_deleted_keys), and the apply ends with the old key where the
    new one should be (an inconsistent result), or meets 409 Conflict when recovery is off."""
    from providers.azurerm.resources.key_vault_key import KeyVaultKey

    before, after = inst.before or {}, inst.after or {}
    name, vault_id = after.get("name"), before.get("key_vault_id")
    if not isinstance(name, str) or str(before.get("name", "")).lower() != name.lower():
        return None
    if not isinstance(vault_id, str) or after.get("key_vault_id") != vault_id:
        return None  # a key in another key vault: the old name there doesn't matter
    purging = ctx.feature("key_vault", "purge_soft_deleted_keys_on_destroy", True)
    if purging and not KeyVaultKey._purge_protected(ctx, vault_id):
        return None  # destroy purges it, and the name is free again
    why = "its key vault's purge protection" if purging else "purge_soft_deleted_keys_on_destroy = false"
    changed = [
        a
        for a in ("key_type", "key_size", "curve")
        if isinstance(after.get(a), (str, int)) and before.get(a) != after.get(a)  # known, and new
    ]
    forced = (
        f" (its {' and '.join(changed)} {'change' if len(changed) > 1 else 'changes'})" if changed else ""
    )
    return error(
        "key_replaced_under_its_name",
        f"{inst.address} can't be replaced under the same name",
        f"This plan replaces key {name!r}{forced}: the old key is deleted first and stays soft-deleted "
        f"({why}), holding its name. Creating {name!r} again then recovers the old key, with its old "
        f"type, size and material, instead of making the new one. Give the new key another name; the "
        f"old one can be removed from the configuration once nothing uses it.",
        address=str(inst.address),
    )


def _key_note(ctx: Context, inst: PlannedInstance, plan: list[PlannedInstance]) -> Diagnostic | None:
    if inst.action == "replace":
        return _key_replaced_under_its_name(ctx, inst)
    after = inst.after or {}
    name, vault_id = after.get("name"), after.get("key_vault_id")
    if not (isinstance(name, str) and isinstance(vault_id, str)):  # both known
        return None
    from providers.azurerm.resources.key_vault_key import KEYS_RECOVER, KeyVaultKey

    try:
        client = KeyVaultKey._client(ctx, vault_id)
        deleted = not_found_is_none(lambda: client.get_deleted_key(name))
    except ProviderError:
        return None  # the vault itself is not there yet, or its deleted keys can't be listed
    if deleted is None:
        return None
    if ctx.feature("key_vault", "recover_soft_deleted_keys", True):
        unlike = _recovered_key_differs(deleted, after)
        if unlike:
            return error(
                "soft_deleted_key_differs",
                f"{inst.address} would be recovered as a different key",
                f"A soft-deleted key named {name!r} exists in this key vault, and apply recovers it "
                f"(features.key_vault.recover_soft_deleted_keys) instead of creating one - but it has "
                f"{unlike}. A recovered key keeps its type, size and material, so the result would not "
                f"be the key this configuration describes. Give the key another name, or purge the "
                f"deleted one first if its key vault's purge protection allows.",
                address=str(inst.address),
            )
        if not caller_granted(ctx.clients, vault_id, KEYS_RECOVER, "recover") and not _may_grant_recover(
            plan, vault_id
        ):
            return warning(
                "soft_deleted_key_not_recoverable",
                f"{inst.address} can't be recovered by the identity running vaultform",
                f"A soft-deleted key named {name!r} exists in this key vault, and apply recovers it "
                f"(features.key_vault.recover_soft_deleted_keys) instead of creating one - which needs "
                f"the Recover key permission, not Create. Neither the key vault's access policies nor "
                f"this plan give it to the identity running vaultform, so Key Vault would refuse the "
                f'recovery (403 ForbiddenByPolicy). Add "Recover" to its key_permissions (on an RBAC '
                f'key vault, a role such as "Key Vault Crypto Officer"), or give the key another name.',
                address=str(inst.address),
            )
        return info(
            "soft_deleted_key_recovered",
            f"{inst.address} will be recovered, not created",
            f"A soft-deleted key named {name!r} exists in this key vault; apply recovers it with its "
            f"versions (features.key_vault.recover_soft_deleted_keys) and updates it to this configuration.",
            address=str(inst.address),
        )
    return error(
        "soft_deleted_key_exists",
        f"{inst.address}: the name {name!r} is held by a soft-deleted key",
        f"A soft-deleted key named {name!r} exists in this key vault and "
        f"features.key_vault.recover_soft_deleted_keys is false, so Key Vault would refuse the create "
        f"(409 Conflict). Recover it, purge it, or choose another name.",
        address=str(inst.address),
    )


def _recovered_key_differs(deleted: Any, planned: dict[str, Any]) -> str:
    """How the soft-deleted key differs from the planned one ('' when it doesn't, or can't tell)."""
    jwk = getattr(deleted, "key", None)
    kty_value = getattr(jwk, "kty", None)
    kty = str(getattr(kty_value, "value", kty_value) or "")  # the SDK's KeyType enum, or text
    n = getattr(jwk, "n", None)
    size = len(n) * 8 if isinstance(n, (bytes, bytearray)) and n else None
    want_type, want_size = planned.get("key_type"), planned.get("key_size")
    found = []
    if kty and isinstance(want_type, str) and kty.upper() != want_type.upper():
        found.append(f"key_type {kty}, not {want_type}")
    if size and isinstance(want_size, int) and not isinstance(want_size, bool) and size != want_size:
        found.append(f"key_size {size}, not {want_size}")
    return " and ".join(found)


_GRANTS = frozenset({"azurerm_key_vault_access_policy", "azurerm_key_vault", "azurerm_role_assignment"})


def _may_grant_recover(plan: list[PlannedInstance], vault_id: str) -> bool:
    """Whether a grant this plan makes or changes may let someone recover keys in the key vault:
    the plan can't tell whose it is before apply, so any that may counts (a role assignment at
    the key vault or above it, or one whose scope isn't known yet)."""
    wanted = vault_id.rstrip("/").lower()
    for inst in plan:
        if inst.type_name not in _GRANTS or inst.action not in ("create", "update", "replace"):
            continue
        after = inst.after or {}
        if inst.type_name == "azurerm_role_assignment":
            scope = text_of(after, "scope")
            if not scope or wanted == scope or wanted.startswith(scope + "/"):
                return True
            continue
        here = text_of(after, "key_vault_id" if inst.type_name != "azurerm_key_vault" else "id")
        if here and here != wanted:
            continue
        entries = after.get("access_policy") if inst.type_name == "azurerm_key_vault" else [after]
        for entry in entries if isinstance(entries, list) else [entries]:
            keys = entry.get("key_permissions") if isinstance(entry, dict) else None
            if not isinstance(keys, list) or any(
                not isinstance(k, str) or k.lower() in ("recover", "all") for k in keys
            ):
                return True
    return False


NOTES = {"azurerm_key_vault": _vault_note, "azurerm_key_vault_key": _key_note}


def plan_notes(ctx: Context, instances: Iterable[PlannedInstance]) -> list[Diagnostic]:
    out = []
    plan = list(instances)
    for inst in plan:
        note = NOTES.get(inst.type_name)
        if note is None or inst.action not in ("create", "replace"):
            continue
        try:
            found = note(ctx, inst, plan)
        except ProviderError:
            continue  # can't look: the apply still meets Azure's own answer
        if found is not None:
            out.append(found)
    return out
