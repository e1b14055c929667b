"""Grants another configuration's vault decrypts with, taken away by this plan (rule R7 across
configurations).

R7 judges the grants of the vaults this configuration manages. A key vault is often shared: a
platform team's configuration manages its access while each workload's configuration manages its
own Recovery Services vault. Narrowing or deleting there the access policy (or role assignment)
of a vault's encryption identity makes that vault's next backup, and every restore, fail with
UserErrorCMKMissingMangedIdentityPermissionOnKeyVault - and nothing in this configuration names
the vault. So when a plan takes CMK permissions away from a principal on a key vault, it reads the
Recovery Services vaults of every subscription the credential can see (as a tenant ``audit`` does:
each list, then each vault for its identity and encryption; the vault may well live in another
subscription than the key vault) and refuses to cut off one whose encryption uses a key in that key vault
through that principal. Vaults this plan manages are left to R7 itself, and one it creates where
a vault stands already to ``taken_names``. A plan that takes nothing away reads nothing.

Key Vault honours one authorization model at a time (Microsoft Learn, "Azure role-based access
control (Azure RBAC) vs. access policies": with ``enableRbacAuthorization`` true the data plane
ignores access policies; false, it ignores role assignments). So a grant counts only under the model
the key vault has after this plan: an access policy removed from a key vault that has moved to RBAC
takes nothing away (the usual last step of that migration), nor does a role assignment deleted on
one that authorizes with access policies. And switching the model is itself a loss for every
identity the new model doesn't grant: a key vault moved to RBAC before the vault's identity holds a
role there cuts the vault off as surely as deleting its access policy. A role assigned in the same
plan only narrows the gap, so that is warned about: a new role assignment takes effect minutes
later, an access policy at once (Microsoft Learn, "Migrate from vault access policy to an Azure
role-based access control permission model").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import AzureError

from providers.azurerm.audit import VaultsEverywhere, encryption_principal
from providers.azurerm.ids import InvalidIdError, parse_key_id, parse_resource_id, same_id
from providers.azurerm.listing import for_subscription
from providers.azurerm.planned_ids import planned_id
from providers.azurerm.resources.base import Context, dig, wire
from providers.azurerm.rules.grants import rbac_setting
from providers.base import PlannedInstance, ProviderError
from providers.roles import grants_cmk, missing_cmk_key_permissions
from reconciler.diagnostics import Diagnostic, error, warning

ACCESS_POLICY = "azurerm_key_vault_access_policy"
KEY_VAULT = "azurerm_key_vault"
ROLE_ASSIGNMENT = "azurerm_role_assignment"
RSV = "azurerm_recovery_services_vault"
GONE = frozenset({"delete", "replace"})


@dataclass(frozen=True)
class Loss:
    """CMK permissions ``principal`` loses on ``key_vault_id`` through ``address``."""

    address: str
    key_vault_id: str
    principal: str
    how: str  # "loses WrapKey, UnwrapKey" / "is deleted"
    # deleted and made again by this plan (a delete-first replacement): lost for the gap only
    transient: bool = False
    assignment_id: str = ""  # a role assignment's id: other roles the principal holds may cover it
    by_role: bool = False  # a role assignment (Azure RBAC) rather than an access policy


POLICIES, RBAC = "access policies", "Azure RBAC"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _perms(values: dict[str, Any] | None) -> list[str]:
    got = (values or {}).get("key_permissions")
    return [str(p) for p in got] if isinstance(got, list) else []


def _policy_loss(inst: PlannedInstance) -> Loss | None:
    before = inst.before or {}
    principal, kv = _text(before.get("object_id")), _text(before.get("key_vault_id"))
    if not principal or not kv or missing_cmk_key_permissions(_perms(before)):
        return None  # it granted no CMK use before
    after = inst.after or {}
    if inst.action == "replace":
        if inst.create_before_destroy:
            return None  # the new grant is made first
        again = same_id(_text(after.get("object_id")), principal) and not missing_cmk_key_permissions(
            _perms(after)
        )
        how = "is replaced, deleted first" if again else "is replaced by one that doesn't grant it"
        return Loss(str(inst.address), kv, principal, how, transient=again)
    if inst.action in GONE:
        return Loss(str(inst.address), kv, principal, "is deleted")
    if inst.action == "update" and same_id(_text(after.get("object_id")), principal):
        missing = missing_cmk_key_permissions(_perms(after))
        if missing and isinstance(after.get("key_permissions"), list):
            return Loss(str(inst.address), kv, principal, f"loses {', '.join(missing)}")
    return None


def _inline_losses(inst: PlannedInstance) -> list[Loss]:
    before = inst.before or {}
    kv = _text(before.get("id"))
    entries = before.get("access_policy")
    if not kv or not isinstance(entries, list):
        return []
    after_entries = (inst.after or {}).get("access_policy") if inst.action == "update" else []
    if not isinstance(after_entries, list):
        return []  # not known until apply: nothing to judge yet
    kept = {_text(e.get("object_id")).lower(): _perms(e) for e in after_entries if isinstance(e, dict)}
    out = []
    for entry in entries:
        if not isinstance(entry, dict) or missing_cmk_key_permissions(_perms(entry)):
            continue
        principal = _text(entry.get("object_id"))
        if inst.action in GONE:
            continue  # a key vault deleted or replaced: R11 and soft delete speak for it
        if principal.lower() not in kept:
            out.append(Loss(str(inst.address), kv, principal, "loses its access_policy entry"))
        elif missing := missing_cmk_key_permissions(kept[principal.lower()]):
            out.append(Loss(str(inst.address), kv, principal, f"loses {', '.join(missing)}"))
    return out


def _role_loss(inst: PlannedInstance) -> Loss | None:
    before = inst.before or {}
    if inst.action not in GONE:
        return None
    role = _text(before.get("role_definition_name")) or _text(before.get("role_definition_id"))
    scope, principal = _text(before.get("scope")), _text(before.get("principal_id"))
    if not scope or not principal or not grants_cmk(role):
        return None
    assignment = _text(before.get("id"))
    if inst.action == "replace":
        if inst.create_before_destroy:
            return None
        after = inst.after or {}
        again_role = _text(after.get("role_definition_name")) or _text(after.get("role_definition_id"))
        again = same_id(_text(after.get("principal_id")), principal) and grants_cmk(again_role)
        how = "is replaced, deleted first" if again else "is replaced by one that doesn't grant it"
        return Loss(
            str(inst.address), scope, principal, how, transient=again, assignment_id=assignment, by_role=True
        )
    return Loss(str(inst.address), scope, principal, "is deleted", assignment_id=assignment, by_role=True)


def losses(instances: Iterable[PlannedInstance]) -> list[Loss]:
    out: list[Loss] = []
    for inst in instances:
        if inst.type_name == ACCESS_POLICY and inst.action in GONE | {"update"}:
            found = _policy_loss(inst)
            out.extend([found] if found else [])
        elif inst.type_name == KEY_VAULT and inst.action == "update":
            out.extend(_inline_losses(inst))
        elif inst.type_name == ROLE_ASSIGNMENT:
            found = _role_loss(inst)
            out.extend([found] if found else [])
    return out


def _key_vault_name_of(key_uri: str) -> str:
    try:
        return parse_key_id(key_uri).vault_name.lower()
    except InvalidIdError:
        return ""


def _named_key_vault(scope: str) -> str:
    """The key vault a grant's scope names (the key vault, or one of its keys); "" for a scope above."""
    try:
        rid = parse_resource_id(scope)
    except (InvalidIdError, ValueError):
        return ""
    vaults = [n for t, n in zip(rid.types, rid.names) if t.lower() == "vaults"]
    return vaults[0].lower() if "microsoft.keyvault" == rid.provider.lower() and vaults else ""


def _key_vault_id(scope: str) -> str:
    """The key vault a grant's scope names, as an id (a key's scope gives its key vault's)."""
    low = scope.lower()
    cut = low.find("/keys/")
    return (scope[:cut] if cut >= 0 else scope).rstrip("/")


@dataclass
class _Models:
    """Each key vault's authorization model once this plan is applied: the plan's own key vault
    objects say it; for another, the key vault is read (once, only when a loss names it)."""

    ctx: Context
    planned: dict[str, PlannedInstance]  # lower-case key vault id -> the plan's key vault object
    read: dict[str, bool | None]

    def after(self, kv_id: str) -> bool | None:
        low = kv_id.lower()
        inst = self.planned.get(low)
        if inst is not None:
            return rbac_setting(inst.after, inst.before)
        if low not in self.read:
            self.read[low] = self._live(kv_id)
        return self.read[low]

    def _live(self, kv_id: str) -> bool | None:
        try:
            rid = parse_resource_id(kv_id)
            clients = for_subscription(self.ctx.clients, rid.subscription_id)  # the key vault's own
            try:
                body = wire(clients.keyvault_mgmt().vaults.get(rid.resource_group, rid.name))
            finally:
                if clients is not self.ctx.clients:
                    clients.close()
        except (InvalidIdError, ValueError, AzureError, ProviderError):
            return None  # unknown: every loss counts, as before
        return bool(dig(body, "properties.enableRbacAuthorization"))

    def counts(self, loss: Loss) -> bool:
        """Whether the lost grant is one the key vault honours after this plan."""
        model = self.after(_key_vault_id(loss.key_vault_id))
        return model is None or model is loss.by_role


def _switches(instances: list[PlannedInstance]) -> dict[str, tuple[PlannedInstance, bool]]:
    """Key vaults this plan moves to the other authorization model: id -> (object, now RBAC)."""
    out = {}
    for inst in instances:
        if inst.type_name != KEY_VAULT or inst.action != "update":
            continue
        was, now = rbac_setting(inst.before), rbac_setting(inst.after, inst.before)
        kv_id = _text((inst.before or {}).get("id"))
        if kv_id and was is not None and now is not None and was is not now:
            out[kv_id.lower()] = (inst, now)
    return out


def grants_other_vaults_use(
    ctx: Context,
    instances: Iterable[PlannedInstance],
    everywhere: Callable[[], VaultsEverywhere],
) -> list[Diagnostic]:
    """``everywhere``: the vaults of every subscription (``recovery_vaults_everywhere``), read once for
    the plan's checks."""
    instances = list(instances)
    lost = losses(instances)
    switched = _switches(instances)
    if not lost and not switched:
        return []
    managed = {
        _text((i.before or {}).get("id")).lower() for i in instances if i.type_name == RSV and i.before
    }
    # a vault this plan creates where one stands already: taken_names refuses that create
    managed |= {
        (planned_id(ctx, RSV, {k: v for k, v in (i.after or {}).items() if isinstance(v, str)}) or "").lower()
        for i in instances
        if i.type_name == RSV and i.action == "create"
    }
    seen = everywhere()
    vaults = seen.vaults
    planned_kvs = {
        _text((i.before or {}).get("id")).lower(): i
        for i in instances
        if i.type_name == KEY_VAULT and i.before and i.action not in GONE
    }
    models = _Models(ctx, planned_kvs, {})
    out = []
    for body in vaults:
        key_uri = _text(dig(body, "properties.encryption.keyVaultProperties.keyUri"))
        if not key_uri or _text(body.get("id")).lower() in managed:
            continue
        principal = encryption_principal(body)
        if not principal:
            continue
        kv_name = _key_vault_name_of(key_uri)
        for loss in lost:
            if (
                not same_id(loss.principal, principal)
                or not kv_name
                or _named_key_vault(loss.key_vault_id) != kv_name
                or not models.counts(loss)
            ):
                continue
            scope = loss.key_vault_id
            if loss.by_role and not _covers(scope, _key_vault_id(scope), _key_name(key_uri)):
                continue  # a role on another key of the key vault
            if loss.assignment_id and _still_granted(ctx, loss, key_uri):
                continue
            out.append(_refusal(loss, body, key_uri))
        for kv_id, (kv, now_rbac) in switched.items():
            if _named_key_vault(kv_id) != kv_name:
                continue
            if now_rbac:
                granted = _role_after(ctx, instances, kv_id, principal, key_uri)
            else:
                granted = HELD if _policy_after(instances, kv, kv_id, principal) else ""
            if granted != HELD:
                out.append(_switch_refusal(kv, now_rbac, principal, body, key_uri, granted == PLANNED))
    if seen.unread:
        first = lost[0].address if lost else str(next(iter(switched.values()))[0].address)
        out.append(unseen_warning("R7", first, "takes key access away", seen.unread))
    return out


def unseen_warning(code: str, address: str, what: str, unread: list[str]) -> Diagnostic:
    """The check across configurations could not read every subscription: a vault there is unseen."""
    return warning(
        code,
        f"{address} {what}, and not every vault that may need it could be checked",
        f"Could not read {'; '.join(unread)}. A Recovery Services vault there that encrypts with a key of "
        "this key vault would not be seen, so this plan may cut it off its key. Check those subscriptions "
        "(or give this credential Reader on them and plan again) before applying.",
        address=address,
    )


def _covers(scope: str, kv_id: str, key_name: str) -> bool:
    """Whether a role assigned at ``scope`` reaches key ``key_name`` of key vault ``kv_id``."""
    scope, target = scope.rstrip("/").lower(), kv_id.rstrip("/").lower()
    return bool(scope) and (
        target == scope or target.startswith(scope + "/") or scope == f"{target}/keys/{key_name.lower()}"
    )


HELD, PLANNED = "held", "planned"


def _role_after(
    ctx: Context, instances: list[PlannedInstance], kv_id: str, principal: str, key_uri: str
) -> str:
    """Whether ``principal`` holds a CMK role on the key vault (or the key) once this plan is applied:
    HELD, one Azure has that the plan doesn't delete; PLANNED, only one the plan assigns (which
    reaches Key Vault after the switch: the assignment names the key vault, so it waits for it, and
    Azure RBAC takes minutes to apply a new role); "" none."""
    from providers.azurerm.role_facts import roles_on_key_vault

    key_name = _key_name(key_uri)
    for inst in instances:
        after = inst.after or {}
        if (
            inst.type_name == ROLE_ASSIGNMENT
            and inst.action in ("create", "replace", "update", "no-op")
            and same_id(_text(after.get("principal_id")), principal)
            and grants_cmk(_text(after.get("role_definition_name")) or _text(after.get("role_definition_id")))
            and _covers(_text(after.get("scope")), kv_id, key_name)
        ):
            planned = True
            break
    else:
        planned = False
    deleted = {
        _text((i.before or {}).get("id")).lower()
        for i in instances
        if i.type_name == ROLE_ASSIGNMENT and i.action in GONE
    }
    try:
        held = roles_on_key_vault(ctx.clients, kv_id, principal, key_name or None)
    except ProviderError:
        return HELD  # can't tell: the owning configuration's audit still sees it
    if any(r.grants_cmk and r.assignment_id.lower() not in deleted for r in held):
        return HELD
    return PLANNED if planned else ""


def _policy_after(instances: list[PlannedInstance], kv: PlannedInstance, kv_id: str, principal: str) -> bool:
    """Whether ``principal`` has Get, List, WrapKey and UnwrapKey in the key vault's access policies
    once this plan is applied: its standalone policy in the plan decides, else the key vault's list."""
    for inst in instances:
        if inst.type_name != ACCESS_POLICY:
            continue
        values = inst.after if inst.action not in ("delete",) else inst.before
        if not values or not same_id(_text(values.get("object_id")), principal):
            continue
        if not same_id(_text(values.get("key_vault_id")), kv_id):
            continue
        return inst.action != "delete" and not missing_cmk_key_permissions(_perms(inst.after))
    for values in (kv.after, kv.before):
        entries = (values or {}).get("access_policy")
        if isinstance(entries, list):
            return any(
                isinstance(e, dict)
                and same_id(_text(e.get("object_id")), principal)
                and not missing_cmk_key_permissions(_perms(e))
                for e in entries
            )
    return False


def _switch_refusal(
    kv: PlannedInstance, now_rbac: bool, principal: str, body: dict[str, Any], key_uri: str, planned: bool
) -> Diagnostic:
    name, vault_id, address = _text(body.get("name")), _text(body.get("id")), str(kv.address)
    kv_name = _text((kv.before or {}).get("name")) or address
    if planned:
        return warning(
            "R7",
            f"{address} leaves Recovery Services vault {name} without key access for a while",
            f"{address} switches key vault {kv_name} to {RBAC}, which then ignores {POLICIES}. Principal "
            f"{principal} is the encryption identity of Recovery Services vault {name} ({vault_id}), which "
            f"this configuration doesn't manage and which encrypts its backups with {key_uri}; its role "
            "there is assigned by this plan, after the switch, and Azure RBAC can take several minutes to "
            "apply it: until then that vault's backups and restores fail. Assign the role in an apply "
            "before this one, then switch.",
            address=address,
        )
    if now_rbac:
        lacks = f"holds no role on key vault {kv_name} that lets it use the key"
        fix = (
            'Assign it "Key Vault Crypto Service Encryption User" on the key vault (an '
            "azurerm_role_assignment) in an apply before this one, then switch"
        )
    else:
        lacks = f"has no access policy on key vault {kv_name} with Get, List, WrapKey and UnwrapKey"
        fix = "Give it an access policy with those permissions in an apply before this one, then switch"
    return error(
        "R7",
        f"{address} takes away the key access of Recovery Services vault {name}",
        f"{address} switches key vault {kv_name} to {RBAC if now_rbac else POLICIES}, which then ignores "
        f"{POLICIES if now_rbac else 'role assignments'}. Principal {principal} is the encryption identity "
        f"of Recovery Services vault {name} ({vault_id}), which this configuration doesn't manage and which "
        f"encrypts its backups with {key_uri}, and it {lacks}: the vault's next backup and every restore "
        "would fail (UserErrorCMKMissingMangedIdentityPermissionOnKeyVault). "
        f"{fix}, or keep {POLICIES if now_rbac else RBAC}.",
        address=address,
    )


def _key_name(key_uri: str) -> str:
    try:
        return parse_key_id(key_uri).name
    except InvalidIdError:
        return ""


def _still_granted(ctx: Context, loss: Loss, key_uri: str) -> bool:
    """Whether the principal keeps a role that grants CMK use on the vault's key besides the
    assignment this plan deletes: one at the resource group, say, or on the key itself."""
    from providers.azurerm.role_facts import roles_on_key_vault

    try:
        held = roles_on_key_vault(
            ctx.clients, _key_vault_id(loss.key_vault_id), loss.principal, _key_name(key_uri) or None
        )
    except ProviderError:
        return False
    return any(r.grants_cmk and not same_id(r.assignment_id, loss.assignment_id) for r in held)


def _refusal(loss: Loss, body: dict[str, Any], key_uri: str) -> Diagnostic:
    name, vault_id = _text(body.get("name")), _text(body.get("id"))
    if loss.transient:
        return warning(
            "R7",
            f"{loss.address} leaves Recovery Services vault {name} without key access for a while",
            f"Principal {loss.principal} is the encryption identity of Recovery Services vault {name} "
            f"({vault_id}), which this configuration doesn't manage and which encrypts its backups with "
            f"{key_uri}. Its grant {loss.how}: until the new one reaches Key Vault (seconds to minutes), "
            "that vault's backups and restores fail. Apply outside the vault's backup window, or give "
            "the identity another grant that covers the key vault first (a role at the resource group) "
            "and remove it once this apply is done.",
            address=loss.address,
        )
    return error(
        "R7",
        f"{loss.address} takes away the key access of Recovery Services vault {name}",
        f"Principal {loss.principal} is the encryption identity of Recovery Services vault {name} "
        f"({vault_id}), which this configuration doesn't manage and which encrypts its backups with "
        f"{key_uri}. Here its grant {loss.how}: the vault's next backup and every restore would fail "
        "(UserErrorCMKMissingMangedIdentityPermissionOnKeyVault) until the grant is back. Keep Get, "
        f"List, WrapKey and UnwrapKey for {loss.principal}, or move vault {name} to another key first "
        "(in the configuration that manages it).",
        address=loss.address,
    )
