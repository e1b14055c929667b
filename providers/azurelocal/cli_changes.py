"""Out-of-band changes for `vaultform cloud`: what a person could do in the portal behind vaultform's back.

Each acts on the stored Azure objects in one transaction, writes the activity log, and returns a
line saying what changed. Errors are ``ValueError`` with a message the CLI prints as is.
"""

from __future__ import annotations

from providers.azurelocal import rules
from providers.azurelocal.store import Kind


def _one(env, kind: str, ref: str, what: str) -> dict:
    if ref.startswith("/"):
        doc = env.store.get(kind, ref)
    else:
        found = [d for d in env.store.list(kind) if d.get("name", "").lower() == ref.lower()]
        if len(found) > 1:
            raise ValueError(f"several {what}s are named '{ref}'; give the full id")
        doc = found[0] if found else None
    if doc is None:
        raise ValueError(f"no {what} '{ref}' (see `vaultform cloud show inventory`)")
    return doc


def remove_access_policy(env, key_vault: str, object_id: str) -> str:
    with env.store.transaction():
        vault = _one(env, Kind.KEY_VAULT, key_vault, "key vault")
        policies = vault["properties"].get("accessPolicies") or []
        kept = [p for p in policies if p["objectId"].lower() != object_id.lower()]
        if len(kept) == len(policies):
            raise ValueError(f"key vault '{vault['name']}' has no access policy for object id {object_id}")
        vault["properties"]["accessPolicies"] = kept
        env.store.put(Kind.KEY_VAULT, vault["id"], vault)
    env.log(
        env.deployer_object_id,
        "Microsoft.KeyVault/vaults/accessPolicies/remove/action (out of band)",
        vault["id"],
        detail=object_id,
    )
    return f"removed the access policy of {object_id} from key vault {vault['name']}"


def remove_role_assignment(env, ref: str) -> str:
    with env.store.transaction():
        if ref.startswith("/"):
            doc = env.store.get(Kind.ROLE_ASSIGNMENT, ref)
        else:
            doc = next(
                (d for d in env.store.list(Kind.ROLE_ASSIGNMENT) if d["name"].lower() == ref.lower()), None
            )
        if doc is None:
            raise ValueError(f"no role assignment '{ref}'")
        env.store.delete(Kind.ROLE_ASSIGNMENT, doc["id"])
    env.log(env.deployer_object_id, "Microsoft.Authorization/roleAssignments/delete (out of band)", doc["id"])
    return f"deleted role assignment {doc['id']}"


def disable_identity(env, vault_ref: str) -> str:
    """Turn off the identity encryption uses: the system-assigned identity is switched off (its principal
    disabled), a user-assigned one is detached. Azure lets a person do this; later backups then fail."""
    with env.store.transaction():
        vault = _one(env, Kind.RS_VAULT, vault_ref, "Recovery Services vault")
        identity = vault.get("identity") or {}
        types = set(rules.identity_types(identity))
        kek = (rules.encryption_of(vault) or {}).get("kekIdentity") or {}
        user_id = kek.get("userAssignedIdentity")
        if user_id:
            attached = identity.get("userAssignedIdentities") or {}
            match = next((k for k in attached if k.lower() == user_id.lower()), None)
            if match is None:
                raise ValueError(f"identity {user_id} is not attached to vault '{vault['name']}'")
            del attached[match]
            if not attached:
                types.discard("UserAssigned")
                identity.pop("userAssignedIdentities", None)
            what = f"detached user-assigned identity {user_id}"
        else:
            principal = identity.get("principalId")
            if "SystemAssigned" not in types or not principal:
                raise ValueError(f"vault '{vault['name']}' has no system-assigned identity to disable")
            types.discard("SystemAssigned")
            identity.pop("principalId", None)
            identity.pop("tenantId", None)
            env.set_principal_enabled(principal, False)
            what = f"disabled the system-assigned identity (principal {principal})"
        order = [t for t in ("SystemAssigned", "UserAssigned") if t in types]
        identity["type"] = ", ".join(order) or "None"
        vault["identity"] = identity
        env.store.put(Kind.RS_VAULT, vault["id"], vault)
    env.log(
        env.deployer_object_id,
        "Microsoft.RecoveryServices/vaults/write (out of band)",
        vault["id"],
        detail=what,
    )
    return f"vault {vault['name']}: {what}; its next backup will fail"


def set_network_rules(
    env, key_vault: str, default_action: str, bypass: str | None, ip_rules: list[str] | None
) -> str:
    with env.store.transaction():
        vault = _one(env, Kind.KEY_VAULT, key_vault, "key vault")
        acls = dict(
            vault["properties"].get("networkAcls")
            or {"bypass": "AzureServices", "ipRules": [], "virtualNetworkRules": []}
        )
        acls["defaultAction"] = default_action
        if bypass is not None:
            acls["bypass"] = bypass
        if ip_rules is not None:
            acls["ipRules"] = [{"value": r} for r in ip_rules]
        vault["properties"]["networkAcls"] = acls
        env.store.put(Kind.KEY_VAULT, vault["id"], vault)
    env.log(
        env.deployer_object_id,
        "Microsoft.KeyVault/vaults/write (out of band)",
        vault["id"],
        detail=f"networkAcls {acls}",
    )
    return (
        f"key vault {vault['name']}: default action {acls['defaultAction']}, bypass {acls.get('bypass')}, "
        f"ip rules {[r['value'] for r in acls.get('ipRules') or []] or 'none'}"
    )
