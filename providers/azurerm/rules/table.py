"""The CMK rule table: every code, its severity, what it says and how to fix it — as data.

A rule code (``R7``) may have several messages (``R7/missing``, ``R7/broad``): the
same rule seen from different angles. Templates use ``str.format`` fields that the
checks fill with the facts they found (addresses, values). ``diagnose`` turns a
message id and facts into a ``Diagnostic``; nothing else in the rule engine writes
user-facing text for diagnostics.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from reconciler.diagnostics import Diagnostic, Severity, SourceRange


class RuleKind(enum.Enum):
    ORDERING = "ordering"
    REFUSAL = "refusal"
    ADVISORY = "advisory"


@dataclass(frozen=True)
class Rule:
    code: str
    kind: RuleKind
    title: str


RULES: tuple[Rule, ...] = (
    Rule("O1", RuleKind.ORDERING, "the managed identity exists before anything grants it access"),
    Rule(
        "O2", RuleKind.ORDERING, "grants before the key is assigned (and before data-plane work they allow)"
    ),
    Rule("O3", RuleKind.ORDERING, "key vault soft delete and purge protection before the key is assigned"),
    Rule(
        "O4", RuleKind.ORDERING, "the key is assigned before backup policies and protected items of the vault"
    ),
    Rule(
        "O5",
        RuleKind.ORDERING,
        "a CMK vault is planned in two phases: vault with identity, then key assignment",
    ),
    Rule("R1", RuleKind.REFUSAL, "encryption can't be removed from a vault"),
    Rule("R2", RuleKind.REFUSAL, "a CMK vault can't move to another resource group or subscription"),
    Rule("R3", RuleKind.REFUSAL, "CMK only on vaults that never had items"),
    Rule("R4", RuleKind.REFUSAL, "the key is an enabled, unexpired RSA key in the vault's region"),
    Rule("R5", RuleKind.REFUSAL, "the key vault has soft delete and purge protection"),
    Rule("R6", RuleKind.REFUSAL, "a managed identity, once on, is never disabled"),
    Rule("R7", RuleKind.REFUSAL, "the encryption identity has Get, List, WrapKey and UnwrapKey on the key"),
    Rule("R8", RuleKind.REFUSAL, "the encryption block names its identity consistently"),
    Rule(
        "R9",
        RuleKind.REFUSAL,
        "user-assigned CMK identity: no Backup private endpoints, no deny-by-default key vault",
    ),
    Rule("R10", RuleKind.REFUSAL, "the sku of a CMK vault is fixed"),
    Rule("R11", RuleKind.REFUSAL, "a key or key vault in use is never destroyed or disabled"),
    Rule("R12", RuleKind.REFUSAL, "the previous key stays enabled until a backup ran with the new one"),
    Rule("R13", RuleKind.REFUSAL, "identity and key vault are in the same tenant"),
    Rule("R14", RuleKind.REFUSAL, "MARS agent backups and classic VMs are not supported with CMK"),
    Rule("R15", RuleKind.REFUSAL, "a vault that keeps soft-deleted backup items can't be deleted"),
    Rule("R16", RuleKind.REFUSAL, "a VM is protected by a vault in its own region"),
    Rule("R17", RuleKind.REFUSAL, "a key vault's access policies are managed in one place"),
    Rule(
        "R18",
        RuleKind.REFUSAL,
        "an object is created only where Azure has none of its id yet (an access policy's principal "
        "has no entry; a replacement made first is a new object)",
    ),
    Rule("A1", RuleKind.ADVISORY, "a versioned key id pins the key"),
    Rule("A2", RuleKind.ADVISORY, "a versionless key id rotates automatically"),
    Rule("A3", RuleKind.ADVISORY, "CMK adds no Backup cost"),
    Rule("A4", RuleKind.ADVISORY, "the deployer may create the keys the plan creates in a new key vault"),
    Rule("A5", RuleKind.ADVISORY, "the key's key vault is in the plan, so its checks can run"),
    Rule(
        "A6", RuleKind.ADVISORY, "removing a protected VM from a vault without soft delete loses its backups"
    ),
)
RULES_BY_CODE = {r.code: r for r in RULES}


@dataclass(frozen=True)
class Message:
    id: str  # "R7/missing"
    severity: Severity
    summary: str
    fix: str

    @property
    def code(self) -> str:
        return self.id.split("/", 1)[0]


_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

MESSAGES: tuple[Message, ...] = (
    Message(
        "R1",
        _E,
        "Customer-managed key encryption can't be removed from a vault",
        "{vault} encrypts its backups with a customer-managed key. Azure Backup can't go back to "
        "platform-managed keys once a vault uses its own key. Keep the encryption block; to use "
        "another key or key version, change encryption.key_id instead.",
    ),
    Message(
        "R2",
        _E,
        "A vault encrypted with a customer-managed key can't move to another {what}",
        "{vault} uses a customer-managed key, and Azure doesn't support moving such a vault across "
        "resource groups or subscriptions. Changing {attr} from {old!r} to {new!r} would destroy the "
        "vault and its recovery points. Keep {attr} as {old!r}; create a new vault in the target "
        "{what} if you need one there.",
    ),
    Message(
        "R3",
        _E,
        "Customer-managed key encryption can only be enabled on a vault that never had items",
        "{vault} {why}. Azure Backup accepts a customer-managed key only on a vault that has never "
        "had an item protected or registered, not even a failed attempt. Create a new vault, set its "
        "encryption before protecting anything, and protect the items there.",
    ),
    Message(
        "R4/type",
        _E,
        "The encryption key must be an RSA key",
        "{key} has key_type {value!r}. Azure Backup encrypts with RSA keys only: set key_type to "
        '"RSA" or "RSA-HSM".',
    ),
    Message(
        "R4/size",
        _E,
        "The encryption key must be 2048, 3072 or 4096 bits",
        "{key} has key_size {value!r}. Use key_size 2048, 3072 or 4096.",
    ),
    Message(
        "R4/ops",
        _E,
        "The encryption key must allow wrapKey and unwrapKey",
        '{key} lacks {missing} in key_opts. Add "wrapKey" and "unwrapKey" to key_opts; Azure '
        "Backup wraps its data encryption key with them.",
    ),
    Message(
        "R4/disabled",
        _E,
        "The encryption key is disabled",
        "{key} is not enabled in Key Vault. Enable the key (or pick an enabled one) before assigning "
        "it to {vault}.",
    ),
    Message(
        "R4/expired",
        _E,
        "The encryption key has expired",
        "{key} expired at {value}. Set a later expiration_date on the key, or pick a key that hasn't "
        "expired, before assigning it to {vault}.",
    ),
    Message(
        "R4/region",
        _E,
        "The key vault must be in the vault's region",
        "{key_vault} is in {kv_location} but {vault} is in {vault_location}. Azure Backup only uses "
        "keys from a key vault in the same region: create the key vault and key in {vault_location}.",
    ),
    Message(
        "R5",
        _E,
        "The key vault must have {missing} enabled",
        "{key_vault} holds the encryption key of {vault} but doesn't have {missing} enabled. Set "
        "purge_protection_enabled = true on the key vault (soft delete is always on for new key "
        "vaults); without it a deleted key could be purged and every backup lost.",
    ),
    Message(
        "R6/type",
        _E,
        "A managed identity can't be disabled once it is on",
        "{vault} changes its identity type from {old!r} to {new!r}, which turns off {lost}. Azure "
        "Backup requires an enabled identity to stay enabled, even temporarily. Keep {lost} in "
        "identity.type (adding identities is allowed).",
    ),
    Message(
        "R6/ids",
        _E,
        "The user-assigned identity used for encryption can't be detached",
        "{vault} removes {identity} from identity.identity_ids while its encryption uses it. Keep it "
        "in identity_ids; to switch identities, first attach the new one and point "
        "encryption.user_assigned_identity_id at it.",
    ),
    Message(
        "R6/deleted",
        _E,
        "The user-assigned identity used for encryption would be destroyed",
        "{vault} encrypts with {identity}, and this plan {verb} it. The vault loses access to its key "
        "and backups fail. Keep the identity; to switch, attach a new identity, grant it access and "
        "point encryption.user_assigned_identity_id at it first.",
    ),
    Message(
        "R7/missing",
        _E,
        "The encryption identity can't use the key",
        "{identity} needs Get, List, WrapKey and UnwrapKey on keys in {key_vault}; {problem}. {how}",
    ),
    Message(
        "R7/firewall",
        _E,
        "The key vault's firewall would shut Azure Backup out",
        "{vault} encrypts with its system-assigned identity, and {key_vault} would deny by default "
        '(network_acls default_action = "Deny") with bypass = "None". Azure Backup reaches the key as '
        "a trusted Azure service, never from an address in ip_rules or a subnet, so Key Vault "
        "refuses it (ForbiddenByFirewall): the key assignment fails, and backups and restores of a "
        'vault already encrypted fail from the next job. Set bypass = "AzureServices" (trusted '
        'services through the firewall), or default_action = "Allow".',
    ),
    Message(
        "R7/unseen_role",
        _W,
        "No role in this configuration lets the encryption identity use the key",
        '{identity} needs the role "{least}" (or Get, List, WrapKey and UnwrapKey) on {key_vault}, '
        "which authorizes with Azure RBAC. No role assignment in this configuration grants it, and the "
        "roles Azure holds for it there could not be read (the key vault is not created yet, or listing "
        "role assignments was refused). If there is none, add an azurerm_role_assignment "
        'with the key vault as scope and the role "{least}"; without it the key assignment fails at '
        "apply (UserErrorCMKKeyVaultAuthFailure) and the vault keeps its current encryption.",
    ),
    Message(
        "R7/unread_role",
        _W,
        "The encryption identity's roles on the key vault could not be judged",
        "{identity} holds {roles} on {key_vault}, and vaultform could not read what those roles "
        'allow. It needs Get, List, WrapKey and UnwrapKey on the key (the role "{least}" holds '
        "exactly that); without them the key assignment fails at apply "
        "(UserErrorCMKKeyVaultAuthFailure) and the vault keeps its current encryption.",
    ),
    Message(
        "R7/replaced",
        _W,
        "The grant the encryption identity uses is deleted before its replacement is made",
        "This plan replaces {grant}, which gives {identity} its access to the key, by deleting it "
        "first. Until the new grant is made and has reached Key Vault (minutes), {vault} can't "
        "reach its key and its backups fail. Add lifecycle {{ create_before_destroy = true }} to "
        "{grant} so the new grant comes first.",
    ),
    Message(
        "R7/replaced_same",
        _W,
        "The grant the encryption identity uses can only be made again after it is deleted",
        "This plan replaces {grant}, which gives {identity} its access to the key. The replacement is "
        "the same object in Azure ({why}), so it can only be made after the old one is deleted: until "
        "it is made and has reached Key Vault (minutes), {vault} can't reach its key and its backups "
        "fail. If nothing about it needs to change (a -replace or a taint), leave the replacement "
        "out; otherwise apply when no backup of {vault} is due.",
    ),
    Message(
        "R7/broad",
        _W,
        "The encryption identity has more key permissions than it needs",
        '{identity} reaches the key through {grant} ({role}). Assign the role "{least}" on the '
        "key vault instead: it holds exactly what encryption needs.",
    ),
    Message(
        "R8/both",
        _E,
        "use_system_assigned_identity must be false when a user-assigned identity is set",
        "{vault} sets encryption.user_assigned_identity_id and leaves use_system_assigned_identity "
        "true (its default). Set use_system_assigned_identity = false, or remove "
        "user_assigned_identity_id to encrypt with the system-assigned identity.",
    ),
    Message(
        "R8/none",
        _E,
        "The encryption block names no identity",
        "{vault} sets use_system_assigned_identity = false without user_assigned_identity_id. Set "
        "user_assigned_identity_id to an identity in identity.identity_ids, or set "
        "use_system_assigned_identity = true.",
    ),
    Message(
        "R8/not_attached",
        _E,
        "The encryption identity is not attached to the vault",
        "{vault} encrypts with {identity}, which is not in identity.identity_ids. Add it to "
        'identity_ids and include "UserAssigned" in identity.type.',
    ),
    Message(
        "R8/no_system",
        _E,
        "Encryption uses the system-assigned identity, but the vault has none",
        "{vault} encrypts with its system-assigned identity, but identity.type is {types!r}. Add "
        '"SystemAssigned" to identity.type, or encrypt with a user-assigned identity.',
    ),
    Message(
        "R9/network",
        _E,
        "A user-assigned encryption identity can't reach a key vault that denies by default",
        "{vault} encrypts with a user-assigned identity, and {key_vault} has network_acls "
        'default_action = "Deny". Azure Backup doesn\'t support that combination yet. Use the '
        'vault\'s system-assigned identity, or set default_action = "Allow".',
    ),
    Message(
        "R9/private_endpoint",
        _E,
        "A user-assigned encryption identity can't be used with Backup private endpoints",
        "{vault} encrypts with a user-assigned identity and {endpoint} is a private endpoint for "
        "its Backup service. Azure Backup doesn't support both; encrypt with the system-assigned "
        "identity or remove the private endpoint.",
    ),
    Message(
        "R10",
        _E,
        "The sku of a vault encrypted with a customer-managed key can't change",
        "{vault} uses a customer-managed key; changing sku from {old!r} to {new!r} is refused. Keep "
        "sku = {old!r}.",
    ),
    Message(
        "R11/remove",
        _E,
        "The key in use would be destroyed",
        "{vault} encrypts with {held}, and this plan {verb} it. Backups and restores need the key: "
        "without it they become unrecoverable. Keep {target}; to change keys, point the vault at the "
        "new key first and remove the old one only after a backup job has completed with the new one.",
    ),
    Message(
        "R11/disable",
        _E,
        "The key in use would be disabled",
        "{vault} encrypts with {held}, and this plan {verb}. Backups and restores need the key "
        "enabled and unexpired. Keep it enabled; change the vault's key first if you mean to retire it.",
    ),
    Message(
        "R11/recovery_points",
        _E,
        "Recovery points still need the key this plan retires",
        "{vault} holds {count} recovery point(s); those taken while it encrypted with {old} stay "
        "wrapped with that key, and this plan {verb}. Without the key they can't be restored, even "
        "after the vault moves to {new}. Keep {keep} for as long as those recovery points "
        "are retained; retire it only when none of them is left.",
    ),
    Message(
        "R11/previous_key",
        _E,
        "Recovery points still need a key the vault used before",
        "{vault} encrypted with {old} until an earlier apply, and recovery points taken then (up to "
        "{until}) are still in the vault, wrapped with that key; this plan {verb}. Without the key "
        "they can't be restored. Keep {keep} for as long as those recovery points are "
        "retained; retire it only when none of them is left.",
    ),
    Message(
        "R11/vault_gone",
        _W,
        "The key of a vault being destroyed is destroyed with it",
        "{vault} and {target} are both destroyed (or replaced) by this plan. Soft-deleted backup items "
        "of the old vault keep needing "
        "the key during the vault's soft-delete retention; keep the key if you may need to recover them.",
    ),
    Message(
        "R12/keep",
        _W,
        "Keep the previous key version enabled until a backup completes",
        "{vault} changes its key from {old} to {new}. Data is re-wrapped with the new key at the next "
        "backup job; until that job completes the previous key version must stay enabled.",
    ),
    Message(
        "R12/rotation",
        _W,
        "Key rotation: keep previous versions enabled until a backup completes",
        "{key} gets a rotation policy while {vault} uses it. Each new version is picked up within "
        "about an hour (versionless key id) or when you change key_id (versioned); either way the "
        "previous version must stay enabled until a backup job has completed with the new one, so "
        "don't let expire_after disable versions sooner.",
    ),
    Message(
        "R12/removed",
        _E,
        "The previous key is removed before a backup could use the new one",
        "{vault} changes its key away from {old}, and this plan also {change}. The previous "
        "key must stay enabled until at least one backup job has completed with the new key: change "
        "the key now and retire the old one in a later plan.",
    ),
    Message(
        "R13",
        _E,
        "The vault's identity and the key vault are in different tenants",
        "{identity} is in tenant {identity_tenant}, but {key_vault} is in tenant {kv_tenant}. After a "
        "tenant move the vault's managed identity and its key must be re-created in the new tenant, "
        "with their permissions: re-create the identity, grant it access to a key vault in the same "
        "tenant, and point encryption.key_id at a key there.",
    ),
    Message(
        "R14/classic",
        _E,
        "Classic virtual machines can't be protected in a CMK-encrypted vault",
        "{item} protects {vm}, a classic (Microsoft.ClassicCompute) VM, in {vault}, which uses a "
        "customer-managed key. Backup with CMK doesn't support classic VMs: migrate the VM to Azure "
        "Resource Manager, or protect it in a vault without CMK.",
    ),
    Message(
        "R15/soft_deleted",
        _E,
        "The vault keeps soft-deleted backup items, so Azure won't delete it",
        "{vault} keeps the backups of {items} soft-deleted until {until} ({days} days from now), and "
        "Azure refuses to delete a vault that holds any (ServiceResourceNotEmptyWithBackendMessage). "
        "Ways out: wait until {until} and run this again; or undelete the items (az backup protection "
        "undelete), set soft_delete_enabled = false on the vault (where Azure allows it: its "
        "secure-by-default vaults keep soft delete on) and apply, delete the items again "
        "(they then go at once), and destroy; or keep the vault out of this run (vaultform state rm "
        "{vault}, or -target the rest).",
    ),
    Message(
        "R15/unmanaged_items",
        _E,
        "The vault protects items this configuration doesn't manage, so Azure won't delete it",
        "{vault} still protects {items}, which this configuration doesn't manage, and Azure refuses to "
        "delete a vault that holds backup items (ServiceResourceNotEmptyWithBackendMessage). Ways out: "
        "stop their protection and delete their backup data where they were set up (with the vault's "
        "soft delete on, Azure keeps them 14 days more); or import them (vaultform import "
        "azurerm_backup_protected_vm.NAME ID) and let vaultform remove them; or keep the vault out of "
        "this run (vaultform state rm {vault}, or -target the rest).",
    ),
    Message(
        "R15/kept_items",
        _E,
        "The vault still protects VMs this plan keeps, so Azure won't delete it",
        "{vault} protects {items}, which this plan keeps, and Azure refuses to delete a vault that "
        "holds backup items (ServiceResourceNotEmptyWithBackendMessage) - after the rest of the plan "
        "has been applied. If the vault is only renamed in the configuration, add a moved block so "
        "it isn't deleted (moved {{ from = {vault} to = ... }}); to retire it, remove {items} first "
        "(their backups then follow the vault's soft delete).",
    ),
    Message(
        "R15/will_soft_delete",
        _E,
        "Deleting the vault's protected VMs leaves their backups soft-deleted, so the vault can't go too",
        "{vault} has soft delete on: deleting {items} keeps their backups soft-deleted for {days} days, "
        "and Azure then refuses to delete the vault (ServiceResourceNotEmptyWithBackendMessage). Ways "
        "out: delete the protected VMs now (-target) and the vault after {days} days; or set "
        "soft_delete_enabled = false on the vault and apply first, where Azure allows it (its "
        "secure-by-default vaults keep soft delete on: deleted backups then go at once); or keep the "
        "vault (vaultform state rm {vault}).",
    ),
    Message(
        "R16/region",
        _E,
        "The VM and its vault are in different regions",
        "{item} would protect {vm}, which is in {vm_location}, in {vault}, which is in "
        "{vault_location}. Azure Backup only backs a VM up to a vault in the VM's own region and "
        "refuses the protection at apply. Protect the VM with a vault in {vm_location} (one vault per "
        "region that has VMs to back up).",
    ),
    Message(
        "R17/both",
        _E,
        "The key vault's access policies are managed in two places",
        "{key_vault} lists its access policies in access_policy blocks, which set the key vault's "
        "whole list, and {policy} adds an entry to the same list. {effect}. Manage them in one place: "
        "move the access_policy blocks into azurerm_key_vault_access_policy resources and leave "
        "access_policy out of the key vault (an access_policy block can't name a vault's own identity: "
        "the vault needs the key vault's key before its identity can be granted).",
    ),
    Message(
        "R18/exists",
        _E,
        "The access policy already exists in the key vault",
        "{key_vault} already holds an access policy for object {object_id} (written inline before, "
        "or granted by another configuration), so creating {policy} fails at apply with "
        "ResourceAlreadyExists, after the rest of the plan has been applied. Take the existing entry "
        'over instead: add an import block with to = {policy} and id = "{import_id}" to the '
        "configuration (or run `vaultform import` with that address and id), then plan again.",
    ),
    Message(
        "R18/created_first",
        _E,
        "The replacement can't be created before the object it replaces",
        "{resource} is replaced with create_before_destroy, but its replacement would be the same "
        "object in Azure ({why}): its create finds the old one still there and fails at apply with "
        "ResourceAlreadyExists. Remove create_before_destroy from {resource}'s lifecycle block so the "
        "old one is deleted first{otherwise}.",
    ),
    Message(
        "R18/renamed",
        _E,
        "The new object is one this plan deletes under another address",
        "{resource} would be the same object in Azure as {old} ({why}), which this plan deletes. "
        "Nothing orders the two: the create fails because the object is still there, or comes after "
        "the delete and makes the object anew - what it held or gave in between is gone. If "
        "{resource} is {old} renamed, say so with a moved block - moved {{ from = {old} to = "
        "{resource} }} - and the object stays as it is; if it is to be made again, delete {old} in "
        "one apply and create {resource} in the next.",
    ),
    Message(
        "R18/kept",
        _E,
        "The new object is one that exists under another address",
        "{resource} would be the same object in Azure as {old} ({why}), which stays: this "
        "configuration keeps it as {old}, or a removed block lets go of it with destroy = false. "
        "Creating {resource} fails at apply with ResourceAlreadyExists, after the rest of the plan "
        "has been applied. If {resource} is {old} under a new address, say so with moved {{ from = "
        "{old} to = {resource} }} (in place of a removed block); if they are two blocks for one "
        "object, keep one.",
    ),
    Message(
        "A1",
        _W,
        "The key is pinned to one version: no automatic rotation",
        "{vault} uses the versioned key id {key}. Backups keep using that version until you change "
        "key_id; remove the version part of the id to rotate automatically. {mars}",
    ),
    Message(
        "A2",
        _I,
        "The key rotates automatically",
        "{vault} uses the versionless key id {key}: a new enabled key version is picked up within "
        "about an hour. Keep the previous version enabled until a backup job has completed with the "
        "new one. {mars}",
    ),
    Message(
        "A3",
        _I,
        "Customer-managed keys add no Azure Backup cost",
        "Encrypting backups with your own key is free in Azure Backup; Key Vault bills its key "
        "operations as usual.",
    ),
    Message(
        "A4",
        _W,
        "Nothing lets the deployer create {key} in the new key vault",
        "{key_vault} is created by this plan with access policies, and a new key vault holds only the "
        "policies written for it: none of them gives the identity that runs vaultform the Create key "
        "permission, so Key Vault will refuse {key} (403 ForbiddenByPolicy) after creating the key vault. "
        "Add an access policy for data.azurerm_client_config.current.object_id with key_permissions "
        'including "Create" and "Get" (an access_policy block of the key vault, or an '
        "azurerm_key_vault_access_policy).",
    ),
    Message(
        "A5",
        _W,
        "The plan can't check the key vault of the key",
        "{vault} is given the key {key}, whose key vault ({name}) is neither in this configuration nor "
        "read by a data source, so the plan can't check its soft delete and purge protection, its region, "
        "or the grant that lets the vault's identity use the key (R4, R5, R7); Azure checks them at apply. "
        'To have them checked now, read it: data "azurerm_key_vault" with name = "{name}" and its '
        'resource_group_name, and take the key id from a data "azurerm_key_vault_key" in it.',
    ),
    Message(
        "A6",
        _W,
        "The backups of the protected VMs this plan removes are deleted for good",
        "This plan removes {items} from {vault}, which holds {points} recovery point(s) and has soft "
        "delete off: stopping protection this way deletes the backup data at once, with nothing to "
        "undelete. If the VMs only move (a renamed vault or policy replaces the item), their old "
        "backups still go. To keep them: set soft_delete_enabled = true on the vault and apply first "
        "(deleted backups are then kept 14 days), or keep the items (vaultform state rm, and stop "
        "protection with retain data in the portal or az backup protection disable).",
    ),
)
MESSAGES_BY_ID = {m.id: m for m in MESSAGES}

MARS_NOTE = (
    "The MARS agent can't back up to a vault that uses a customer-managed key (it uses its own "
    "passphrase encryption)."
)

# Ordering edges: the reason each edge carries, by rule.
ORDERING_REASONS = {
    "O1": "{grant} grants access to the identity that {source} brings",
    "O2": "{grant} gives {identity} access to the key that {node} assigns",
    "O2/deployer": "{grant} lets the deployer create {key} in the key vault",
    "O2/deployer-delete": "{key} is deleted while {grant}, which manages keys in its key vault, still lets it be",
    "O3": "{key_vault} holds the key that {node} assigns (soft delete and purge protection first)",
    "O4": "{item} targets {vault}, whose key is assigned in {node}",
    "O5": "{vault} is created with its identity before its key is assigned in {node}",
}

_LOCATION = re.compile(r"^(?P<file>.+?):(?P<line>\d+)(?::(?P<col>\d+))?$")


def source_range(location: str) -> SourceRange | None:
    """``"main.tf:12"`` (or ``"main.tf:12:3"``) as a SourceRange; None when empty or unreadable."""
    m = _LOCATION.match(location or "")
    if not m:
        return None
    return SourceRange(m.group("file"), int(m.group("line")), int(m.group("col") or 1))


def diagnose(message_id: str, *, address: str | None, location: str = "", **facts) -> Diagnostic:
    msg = MESSAGES_BY_ID[message_id]
    detail = msg.fix.format(**facts).strip()
    first = detail.split(" ", 1)[0]
    if "." not in first and "_" not in first:  # an address or attribute name keeps its spelling
        detail = detail[:1].upper() + detail[1:]
    return Diagnostic(
        msg.severity, msg.code, msg.summary.format(**facts), detail, address, source_range(location)
    )


def join_words(items) -> str:
    """ "a", "a and b", "a, b and c"."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def reason(rule: str, **facts) -> str:
    return ORDERING_REASONS[rule].format(**facts)
