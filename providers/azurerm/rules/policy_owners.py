"""R17: a key vault's access policies are managed in one place; R18: a standalone access policy
is created only where the key vault has no entry for its principal yet.

Key Vault keeps one list of access policies per key vault. ``access_policy`` blocks on an
``azurerm_key_vault`` state that whole list; an ``azurerm_key_vault_access_policy`` adds one entry
to it. Used together on one key vault, each apply of the key vault takes away the entries the
standalone resources added, and the next plan adds them back (azurerm's documentation of both
resources: "it's not possible to use both methods to manage Access Policies within a KeyVault,
since there'll be conflicts"). When the entry taken away is a vault's encryption identity, its
backups fail from that apply until the next.

The plan shows it two ways: a key vault created with ``access_policy`` blocks (its planned list is
known and not empty: nothing else could have filled it yet) that a standalone policy names, and a
key vault whose update drops an entry a standalone policy of the plan still owns (refresh read the
entry, the planned list doesn't have it).

R18: Key Vault keeps one entry per principal (and application), and the create of an
``azurerm_key_vault_access_policy`` for a principal the list already holds fails at apply with
"A resource with the ID ... already exists - to be managed via Terraform this resource needs to be
imported" (azurerm's access policy create looks the tenant, object and application up in the key
vault's list and returns its import-as-exists error when one matches), after the
plan's other changes are made. It happens when policies written inline move to standalone
resources, or when another configuration granted the principal. The key vault's list as refresh
read it shows the entry, so the plan says so first, with the import block that takes it over.
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.diagnostics import Diagnostic
from reconciler.values import UNKNOWN

from .context import RuleContext
from .estate import encryption_identity
from .grants import grant_key_vaults
from .model import Action, Node, TypeName
from .refs import blocks, known_str
from .replacements import THERE_NOW, same_identity
from .table import diagnose


def _object_ids(entries) -> set[str] | None:
    """The object ids of a known list of access policy entries; None when any is unknown."""
    ids = set()
    for entry in entries:
        if entry is UNKNOWN or not known_str(entry.get("object_id")):
            return None
        ids.add(str(entry["object_id"]).lower())
    return ids


def _dropped(kv: Node, policy: Node) -> str | None:
    """The object id of ``policy`` when the key vault's update drops its entry from the list."""
    object_id = known_str(policy.planned("object_id"))
    if kv.action is not Action.UPDATE or not object_id or not policy.action.existed_before:
        return None
    planned = blocks(kv.after, "access_policy")
    planned_ids = _object_ids(planned)
    live_ids = _object_ids(blocks(kv.inst.refreshed, "access_policy"))
    if planned_ids is None or live_ids is None:
        return None
    wanted = object_id.lower()
    return object_id if wanted in live_ids and wanted not in planned_ids else None


def _created_with_blocks(kv: Node) -> bool:
    if kv.action is not Action.CREATE:
        return False
    planned = blocks(kv.after, "access_policy")
    return bool(planned) and _object_ids(planned) is not None


def _users_of(ctx: RuleContext, object_id: str) -> list[str]:
    """The vaults whose encryption identity has ``object_id``."""
    out = []
    for case in ctx.cases:
        if case.after is None or not case.vault.action.exists_after:
            continue
        ident = encryption_identity(ctx.index, case.vault, case.after)
        if ident is not None and (ident.principal_id or "").lower() == object_id.lower():
            out.append(case.address)
    return out


def r17_policies_managed_twice(ctx: RuleContext) -> Iterable[Diagnostic]:
    for policy in ctx.index.of_type(TypeName.ACCESS_POLICY, data=False):
        if not policy.action.exists_after:
            continue
        for kv in grant_key_vaults(ctx.index, policy):
            if kv.is_data or not kv.action.exists_after:
                continue
            dropped = _dropped(kv, policy)
            if dropped is not None:
                users = _users_of(ctx, dropped)
                effect = f"Applying it removes the entry of {policy.address} (object {dropped})" + (
                    f", which {' and '.join(users)} encrypt{'s' if len(users) == 1 else ''} with: "
                    "backups fail until a later apply adds it back"
                    if users
                    else ", and the next plan adds it back"
                )
            elif _created_with_blocks(kv):
                effect = (
                    "This apply works, but the next plan updates the key vault to remove the entry of "
                    f"{policy.address}, and the plan after that adds it back"
                )
            else:
                continue
            yield diagnose(  # one for each resource that adds to the list (each its own fix)
                "R17/both",
                address=policy.address,
                location=kv.location,
                key_vault=kv.address,
                policy=policy.address,
                effect=effect,
            )


def _entry_for(entries, tenant_id: str | None, object_id: str, application_id: str) -> bool:
    for entry in entries:
        if entry is UNKNOWN or not isinstance(entry, dict):
            continue
        if str(entry.get("object_id") or "").lower() != object_id.lower():
            continue
        tenant = known_str(entry.get("tenant_id"))
        if tenant_id and tenant and tenant.lower() != tenant_id.lower():
            continue
        if str(entry.get("application_id") or "").lower() == application_id.lower():
            return True
    return False


def r18_policy_already_there(ctx: RuleContext) -> Iterable[Diagnostic]:
    policies = ctx.index.of_type(TypeName.ACCESS_POLICY, data=False)
    there = [p for p in policies if p.action in THERE_NOW]
    for policy in policies:
        object_id = known_str(policy.planned("object_id"))
        if policy.action is not Action.CREATE or not object_id:
            continue
        if any(same_identity(policy.type_name, p.prior, policy.after) for p in there):
            continue  # the entry is one this plan deletes or keeps under another address: R18/renamed or kept
        application_id = known_str(policy.planned("application_id")) or ""
        tenant_id = known_str(policy.planned("tenant_id"))
        for kv in grant_key_vaults(ctx.index, policy):
            kv_id = known_str(kv.value("id"))
            if not kv_id or kv.action in (Action.CREATE, Action.REPLACE, Action.DELETE):
                continue
            live = blocks(kv.inst.refreshed if not kv.is_data else kv.after, "access_policy")
            if not _entry_for(live, tenant_id, object_id, application_id):
                continue
            if kv.action is Action.UPDATE and not _entry_for(
                blocks(kv.after, "access_policy"), tenant_id, object_id, application_id
            ):
                continue  # the key vault's own update takes the entry away first (R17 says more)
            import_id = f"{kv_id}/objectId/{object_id}" + (
                f"/applicationId/{application_id}" if application_id else ""
            )
            yield diagnose(
                "R18/exists",
                address=policy.address,
                location=policy.location,
                policy=policy.address,
                key_vault=kv.address,
                object_id=object_id,
                import_id=import_id,
            )
