"""Refusals judged on the key, the key vault and the grants: R4, R5, R7, R9, R11, R12, R13.

R11 guards what something depends on now: the key or key vault a vault encrypts with
before this plan (one that this plan assigns to it for the first time has no dependents
yet; another vault that already uses it reports it as its own), and the previous key of
a vault whose refreshed history holds recovery points, which stay wrapped with it after
the vault moves to another key.

Objects outside the plan can't be judged: a key id that names a key vault the plan
doesn't hold yields no R4/R5/R7 diagnostic. Unknown values never yield one either.
"""

from __future__ import annotations

from collections.abc import Iterable

from providers.azurerm.ids import InvalidIdError, parse_key_id, same_key
from reconciler.diagnostics import Diagnostic
from reconciler.values import UNKNOWN

from .context import RoleQuestion, RuleContext
from .estate import Encryption, VaultCase, encryption_identity, key_vaults_of, keys_of
from .grants import (
    CMK_PERMISSIONS,
    LEAST_PRIVILEGE_ROLE,
    applies_to,
    authorization_model,
    grant_key_vaults,
    names_identity,
    role_grants_cmk,
    role_is_least_privilege,
)
from .model import HISTORY_KEY, PREVIOUS_KEYS, Action, Node, TypeName, recovery_points
from .refs import blocks, known_str, normalize_location, same_text
from .refusals import Check
from .replacements import same_object, why_same
from .table import diagnose, join_words

RSA_TYPES = ("RSA", "RSA-HSM")
RSA_SIZES = (2048, 3072, 4096)
KEY_OPS_NEEDED = ("wrapKey", "unwrapKey")


def _diag(message_id: str, case: VaultCase, node: Node | None = None, **facts) -> Diagnostic:
    at = node or case.vault
    return diagnose(message_id, address=at.address, location=at.location, vault=case.address, **facts)


def _live(case: VaultCase) -> Encryption | None:
    """The planned encryption of a vault that exists after the plan, else None."""
    return case.after if case.vault.action.exists_after else None


def _key_change(case: VaultCase) -> tuple[Encryption, Encryption] | None:
    """The encryption before and after, for a live vault whose key changes; else None."""
    after = _live(case)
    if after is None or case.before is None or not case.key_changed:
        return None
    return case.before, after


# --------------------------------------------------------------------------- R4


def _key_problems(ctx: RuleContext, case: VaultCase, key: Node) -> Iterable[Diagnostic]:
    """What makes ``key`` unfit; its state (enabled, expiry) only when the key is being assigned.

    A key already assigned that this plan disables or expires is R11's to report.
    """
    key_type = known_str(key.value("key_type"))
    if key_type and key_type.upper() not in RSA_TYPES:
        yield _diag("R4/type", case, key, key=key.address, value=key_type)
    size = key.value("key_size")
    if (
        isinstance(size, int)
        and not isinstance(size, bool)
        and size not in RSA_SIZES
        and (key_type is None or key_type.upper() in RSA_TYPES)
    ):
        yield _diag("R4/size", case, key, key=key.address, value=size)
    ops = key.value("key_opts")
    if isinstance(ops, (list, tuple)) and UNKNOWN not in ops:
        have = {o.lower() for o in ops if isinstance(o, str)}
        missing = [o for o in KEY_OPS_NEEDED if o.lower() not in have]
        if missing:
            yield _diag("R4/ops", case, key, key=key.address, missing=" and ".join(missing))
    if not case.encryption_touched:
        return
    if key.value("enabled") is False:
        yield _diag("R4/disabled", case, key, key=key.address)
    expiry = key.value("expiration_date")
    if ctx.is_past(expiry):
        yield _diag("R4/expired", case, key, key=key.address, value=expiry)


def r4_key_fit(ctx: RuleContext) -> Iterable[Diagnostic]:
    for case in ctx.cases:
        if not _live(case):
            continue
        keys = [k for k in keys_of(ctx.index, case.vault, case.after, planned=True) if k.action.exists_after]
        if not (case.encryption_touched or any(k.action.changes for k in keys)):
            continue
        for key in keys:
            yield from _key_problems(ctx, case, key)
        vault_loc = normalize_location(case.vault.value("location"))
        for kv in key_vaults_of(ctx.index, case.vault, case.after, planned=True):
            kv_loc = normalize_location(kv.value("location"))
            if vault_loc and kv_loc and vault_loc != kv_loc:
                yield _diag(
                    "R4/region",
                    case,
                    key=kv.address,
                    key_vault=kv.address,
                    kv_location=kv.value("location"),
                    vault_location=case.vault.value("location"),
                )


# --------------------------------------------------------------------------- R5


def r5_key_vault_protections(ctx: RuleContext) -> Iterable[Diagnostic]:
    for case in ctx.cases:
        if not _live(case):
            continue
        for kv in key_vaults_of(ctx.index, case.vault, case.after, planned=True):
            if not (case.encryption_touched or kv.action.changes) or not kv.action.exists_after:
                continue
            missing = []
            if kv.value("soft_delete_enabled") is False:
                missing.append("soft delete")
            purge = kv.value("purge_protection_enabled")
            if purge is False or purge is None:
                missing.append("purge protection")
            if missing:
                yield _diag("R5", case, kv, key_vault=kv.address, missing=" and ".join(missing))


# --------------------------------------------------------------------------- R7


def _grants_changed_on(ctx: RuleContext, kv: Node) -> bool:
    for t in (TypeName.ACCESS_POLICY, TypeName.ROLE_ASSIGNMENT):
        for node in ctx.index.of_type(t, data=False):
            if node.action.changes and kv in grant_key_vaults(ctx.index, node):
                return True
    return False


def r7_identity_can_use_key(ctx: RuleContext) -> Iterable[Diagnostic]:
    for case in ctx.cases:
        after = _live(case)
        if after is None:
            continue
        ident = encryption_identity(ctx.index, case.vault, after)
        if ident is None or (ident.user_assigned and not ident.identities and not ident.principal_id):
            continue
        for kv in key_vaults_of(ctx.index, case.vault, case.after, planned=True):
            if not kv.action.exists_after:
                continue
            if not (case.encryption_touched or kv.action.changes or _grants_changed_on(ctx, kv)):
                continue
            yield from _judge_access(ctx, case, ident, kv)
            yield from _grant_gaps(ctx, case, ident, kv)


def _grant_gaps(ctx: RuleContext, case: VaultCase, ident, kv: Node) -> Iterable[Diagnostic]:
    """A grant the vault's encryption identity reaches its key by now, replaced delete-first: a
    gap in which the vault can't unwrap (a new grant takes minutes to reach Key Vault). When the
    replacement is a new object in Azure (a role assignment for another role has another name),
    create_before_destroy closes the gap; when it is the same object made again (an access policy
    for the same principal, a role assignment replaced as it is), it can't be made first, and the
    warning says when to apply instead (R18/created_first refuses making it first)."""
    if case.before is None:  # no encryption yet: nothing reaches the key now
        return
    for g in ctx.grants:
        holder = g.holder
        if (
            holder.action is Action.REPLACE
            and not holder.inst.create_before_destroy
            and kv.address in g.key_vaults
            and applies_to(g, kv)
            and names_identity(ctx.index, g, ident)
        ):
            same = same_object(holder)
            if same is True:
                yield _diag(
                    "R7/replaced_same",
                    case,
                    holder,
                    grant=holder.address,
                    identity=ident.label,
                    why=why_same(holder),
                )
            elif same is False or holder.type_name == TypeName.ROLE_ASSIGNMENT.value:
                yield _diag("R7/replaced", case, holder, grant=holder.address, identity=ident.label)


def _judge_access(ctx: RuleContext, case: VaultCase, ident, kv: Node) -> Iterable[Diagnostic]:
    naming = [g for g in ctx.grants if kv.address in g.key_vaults and names_identity(ctx.index, g, ident)]
    counted = [g for g in naming if applies_to(g, kv)]
    policies = [g for g in counted if g.kind.is_policy]
    roles = [g for g in counted if not g.kind.is_policy]
    if any(g.permissions is UNKNOWN for g in policies) or any(g.role is UNKNOWN for g in roles):
        return
    granted = frozenset().union(*(g.permissions for g in policies)) if policies else frozenset()
    if all(p.lower() in granted for p in CMK_PERMISSIONS):
        return
    if any(role_is_least_privilege(g.role) for g in roles):
        return
    broad = [(g, g.role) for g in roles if g.role is not None and role_grants_cmk(g.role)]
    if broad:
        grant, role = broad[0]
        yield _diag(
            "R7/broad",
            case,
            identity=ident.label,
            grant=grant.holder.address,
            role=role.name,
            least=LEAST_PRIVILEGE_ROLE,
        )
        return
    rbac = authorization_model(kv)
    how = (
        f'Assign it the role "{LEAST_PRIVILEGE_ROLE}" with the key vault as scope.'
        if rbac
        else "Add an access policy for it with key_permissions Get, List, WrapKey and UnwrapKey."
    )
    ignored = [g for g in naming if g not in counted]
    if policies:
        lacking = [p for p in CMK_PERMISSIONS if p.lower() not in granted]
        problem = "its access policy lacks " + join_words(lacking)
    elif roles:
        problem = "its role ({}) has no key access".format(
            ", ".join(sorted({g.role.name if g.role else "a role without key access" for g in roles}))
        )
    elif ignored:
        model = "Azure RBAC" if rbac else "access policies"
        problem = (
            f"the key vault authorizes with {model}, so {ignored[0].kind.value} "
            f"{ignored[0].holder.address} doesn't count"
        )
    elif rbac and ident.principal_id:
        # an identity that exists already may hold a role assigned outside this configuration, which
        # neither state nor the key vault's body shows: the provider asks Azure (role_facts) and the
        # rules judge again with its answer
        yield from _judge_roles_in_azure(ctx, case, ident, kv)
        return
    else:
        problem = "nothing in this plan or the key vault's current policies grants it access"
    yield _diag("R7/missing", case, identity=ident.label, key_vault=kv.address, problem=problem, how=how)


def _role_question(case: VaultCase, ident, kv: Node) -> RoleQuestion | None:
    kv_id = known_str(kv.value("id"))
    if not kv_id or not ident.principal_id:
        return None
    key_name = ""
    key_id = known_str(case.after.key_id) if case.after is not None else None
    if key_id:
        try:
            key_name = parse_key_id(key_id).name
        except InvalidIdError:
            key_name = ""
    return (ident.principal_id.lower(), kv_id.rstrip("/").lower(), key_name.lower())


def _assignments_removed(ctx: RuleContext) -> frozenset[str]:
    """The ids of the role assignments this plan deletes or replaces."""
    return frozenset(
        known.rstrip("/").lower()
        for n in ctx.index.of_type(TypeName.ROLE_ASSIGNMENT, data=False)
        if n.action.removes_object and (known := known_str(n.previous("id")))
    )


def _judge_roles_in_azure(ctx: RuleContext, case: VaultCase, ident, kv: Node) -> Iterable[Diagnostic]:
    question = _role_question(case, ident, kv)
    held = ctx.roles_in_azure.get(question) if question is not None else None
    if held is None:
        if question is not None:
            ctx.unanswered.add(question)
        yield _diag(
            "R7/unseen_role", case, identity=ident.label, key_vault=kv.address, least=LEAST_PRIVILEGE_ROLE
        )
        return
    gone = _assignments_removed(ctx)  # what Azure shows now but this plan deletes doesn't count
    held = tuple(r for r in held if not (r.assignment_id and r.assignment_id.rstrip("/").lower() in gone))
    if any(r.least_privilege for r in held):
        return
    broad = [r for r in held if r.grants_cmk]
    if broad:
        yield _diag(
            "R7/broad",
            case,
            identity=ident.label,
            grant="a role assignment made outside this configuration",
            role=broad[0].name,
            least=LEAST_PRIVILEGE_ROLE,
        )
        return
    unread = [r for r in held if r.grants_cmk is None]
    if unread:
        yield _diag(
            "R7/unread_role",
            case,
            identity=ident.label,
            key_vault=kv.address,
            roles=", ".join(sorted(r.name for r in unread)),
            least=LEAST_PRIVILEGE_ROLE,
        )
        return
    names = sorted({r.name for r in held})
    problem = (
        f"the roles Azure shows it holding there ({', '.join(names)}) have no key access"
        if names
        else "no role assignment, in this configuration or in Azure, gives it access"
    )
    how = f'Assign it the role "{LEAST_PRIVILEGE_ROLE}" with the key vault as scope.'
    yield _diag("R7/missing", case, identity=ident.label, key_vault=kv.address, problem=problem, how=how)


# --------------------------------------------------------------------------- R9


def _backup_private_endpoints(ctx: RuleContext, vault: Node) -> list[Node]:
    out = []
    vault_id = known_str(vault.value("id"))
    for pe in ctx.index.of_type(TypeName.PRIVATE_ENDPOINT, data=False):
        if not pe.action.exists_after:
            continue
        for conn in blocks(pe.after, "private_service_connection"):
            if conn is UNKNOWN:
                continue
            names = conn.get("subresource_names")
            if not isinstance(names, (list, tuple)) or not any(
                isinstance(n, str) and n.lower() == "azurebackup" for n in names
            ):
                continue
            by_ref = any(
                t.address == vault.address
                for t, _ in ctx.index.targets(pe, ("private_service_connection",), TypeName.VAULT)
            )
            if by_ref or same_text(conn.get("private_connection_resource_id"), vault_id):
                out.append(pe)
    return out


def r9_user_identity_network(ctx: RuleContext) -> Iterable[Diagnostic]:
    for case in ctx.cases:
        after = _live(case)
        if after is None or after.uses_user_identity is not True:
            continue
        for kv in key_vaults_of(ctx.index, case.vault, case.after, planned=True):
            if not kv.action.exists_after or not (case.encryption_touched or kv.action.changes):
                continue
            action = known_str(kv.value("network_acls", 0, "default_action"))
            if action and action.lower() == "deny":
                yield _diag("R9/network", case, key_vault=kv.address)
        for pe in _backup_private_endpoints(ctx, case.vault):
            if case.encryption_touched or pe.action.changes:
                yield _diag("R9/private_endpoint", case, endpoint=pe.address)


def r7_firewall_shuts_out_backup(ctx: RuleContext) -> Iterable[Diagnostic]:
    """A key vault that denies by default admits Azure Backup only as a trusted service (Microsoft
    Learn, "Virtual network service endpoints for Azure Key Vault", Trusted services: "Azure Backup |
    Allow backup and restore of relevant keys ..."; network_acls bypass "AzureServices"). With bypass
    "None" the firewall refuses it whatever ip_rules and subnets allow: a key vault update that
    Azure accepts, and the next backup job fails (UserErrorCMKKeyVaultAuthFailure). The user-assigned
    identity, which deny-by-default shuts out anyway, is R9's."""
    for case in ctx.cases:
        after = _live(case)
        if after is None or after.uses_user_identity is not False:
            continue
        for kv in key_vaults_of(ctx.index, case.vault, case.after, planned=True):
            if not kv.action.exists_after or not (case.encryption_touched or kv.action.changes):
                continue
            action = known_str(kv.value("network_acls", 0, "default_action"))
            bypass = known_str(kv.value("network_acls", 0, "bypass"))
            if action and action.lower() == "deny" and bypass and bypass.lower() == "none":
                yield _diag("R7/firewall", case, kv, key_vault=kv.address)


# --------------------------------------------------------------------------- R11, R12


def _disabling(ctx: RuleContext, key: Node) -> str | None:
    """What an in-place update does to a key's usability, or None."""
    if key.action is not Action.UPDATE:
        return None
    if key.planned("enabled") is False and key.previous("enabled") is not False:
        return f"disables {key.address}"
    expiry = key.planned("expiration_date")
    if ctx.is_past(expiry) and not ctx.is_past(key.previous("expiration_date")):
        return f"sets the expiration_date of {key.address} to {expiry}, which has passed"
    return None


def _in_use(ctx: RuleContext, case: VaultCase) -> list[Node]:
    """Keys and key vaults the vault's current encryption needs (the new one when it changes)."""
    nodes = keys_of(ctx.index, case.vault, case.after, planned=True)
    nodes += key_vaults_of(ctx.index, case.vault, case.after, planned=True)
    if case.after is not None and not case.key_changed:
        nodes += keys_of(ctx.index, case.vault, case.before, planned=False)
        nodes += key_vaults_of(ctx.index, case.vault, case.before, planned=False)
    return [n for n in dict((n.address, n) for n in nodes).values() if not n.is_data]


def _used_now(ctx: RuleContext, case: VaultCase) -> set[str]:
    """Keys and key vaults this vault encrypts with before the plan (state, or what refresh saw).

    A key that another managed vault uses is that vault's to report (its own case finds it).
    """
    if case.before is None:
        return set()
    return {n.address for n in _previous_nodes(ctx, case)}


def _retirement(ctx: RuleContext, n: Node) -> str | None:
    """What this plan does to a previous key or key vault that would make it unusable, or None."""
    if n.action.removes_object:
        return f"{n.removal} {n.address}"
    if n.type_name == TypeName.KEY.value:
        return _disabling(ctx, n)
    return None


def _recovery_point_losses(ctx: RuleContext, case: VaultCase) -> list[tuple[Node, str]]:
    """Previous keys (and key vaults) still wrapping recovery points that this plan retires."""
    if not _live(case) or not case.key_changed or recovery_points(case.vault) == 0:
        return []
    current = {n.address for n in _in_use(ctx, case)}
    out = []
    for n in _previous_nodes(ctx, case):
        change = None if n.address in current else _retirement(ctx, n)
        if change:
            out.append((n, change))
    return out


def _earlier_key_losses(ctx: RuleContext, case: VaultCase) -> list[tuple[Node, dict, str]]:
    """Keys (and their key vaults) the vault moved away from in an earlier apply (its
    ``_previous_keys``, kept in state) that this plan retires while recovery points taken with
    them remain: the oldest point is no newer than the newest one taken with the key."""
    entries = case.vault.value(PREVIOUS_KEYS)
    history = case.vault.value(HISTORY_KEY)
    if not _live(case) or not isinstance(entries, list):
        return []
    # without a refresh (-refresh=false) the vault's points are not known: they count as kept
    oldest = history.get("oldest_recovery_point") if isinstance(history, dict) else ""
    if oldest is None:
        return []  # the vault holds no recovery point
    oldest = known_str(oldest) or ""  # not known: counted as the oldest there is
    out = []
    for entry in entries:
        key_id = known_str(entry.get("key_id")) if isinstance(entry, dict) else None
        if not key_id or str(oldest) > (known_str(entry.get("points_until")) or ""):
            continue  # every point taken with that key has gone
        for n in ctx.index.of_type(TypeName.KEY, data=False):
            if same_key(known_str(n.previous("versionless_id")) or known_str(n.previous("id")), key_id):
                change = _retirement(ctx, n)
                if change:
                    out.append((n, entry, change))
        for n in ctx.index.of_type(TypeName.KEY_VAULT, data=False):
            uri = (known_str(n.previous("vault_uri")) or "").rstrip("/").lower()
            if uri and key_id.lower().startswith(uri + "/") and n.action.removes_object:
                out.append((n, entry, f"{n.removal} {n.address}"))
    return out


def _named(n: Node) -> dict[str, str]:
    """How R11's messages name the key - or the key vault that holds it - they are about."""
    if n.type_name == TypeName.KEY.value:
        return {"target": n.address, "held": n.address, "keep": f"{n.address} enabled"}
    return {"target": n.address, "held": f"a key in {n.address}", "keep": n.address}


def r11_key_in_use(ctx: RuleContext) -> Iterable[Diagnostic]:
    for case in ctx.cases:
        for n, entry, change in _earlier_key_losses(ctx, case):
            yield _diag(
                "R11/previous_key",
                case,
                n,
                **_named(n),
                verb=change,
                old=str(entry.get("key_id")),
                until=str(entry.get("points_until")),
            )
        v = case.vault
        if v.action in (Action.DELETE, Action.REPLACE) and case.before is not None:
            # the vault that used the key goes (a replacement is a new vault: the key this plan
            # assigns to it is needed by nothing yet), so its key may go with it; said only of a
            # vault that may hold backups wrapped with it
            for n in _previous_nodes(ctx, case) if _may_hold_backups(v) and not _leaves_nothing(v) else ():
                if n.action.removes_object:
                    yield _diag("R11/vault_gone", case, n, **_named(n))
            continue
        if not _live(case):
            continue
        keys = _key_change(case)  # no change of key loses no recovery points
        old, new = keys if keys else (None, None)
        for n, change in _recovery_point_losses(ctx, case):
            assert old is not None and new is not None  # losses come only with a change of key
            yield _diag(
                "R11/recovery_points",
                case,
                n,
                **_named(n),
                verb=change,
                count=recovery_points(v),
                old=known_str(old.key_id),
                new=known_str(new.key_id) or "a key known after apply",
            )
        used = _used_now(ctx, case)
        for n in _in_use(ctx, case):
            if case.encryption_touched and n.address not in used:
                continue  # this plan assigns it to the vault: nothing of the vault depends on it yet
            if n.action.removes_object:
                yield _diag("R11/remove", case, n, **_named(n), verb=n.removal)
            elif n.type_name == TypeName.KEY.value and not case.encryption_touched:
                verb = _disabling(ctx, n)
                if verb:
                    yield _diag("R11/disable", case, n, **_named(n), verb=verb)


def _may_hold_backups(vault: Node) -> bool:
    """Whether the vault may hold backup data its key wraps: not when its refresh found no recovery
    point and no item, active or soft-deleted (a vault that never protected anything); unknown
    (no refresh, -refresh=false) counts as holding some."""
    history = (vault.inst.refreshed or {}).get(HISTORY_KEY)
    if not isinstance(history, dict):
        return True
    listed = [history.get("active_items"), history.get("soft_deleted_items")]
    if any(not isinstance(items, list) or items for items in listed):
        return True
    return history.get("recovery_points") != 0


def _leaves_nothing(vault: Node) -> bool:
    """Whether deleting the vault leaves no backup data behind: its soft delete is off and it holds
    no soft-deleted item. Azure deletes a vault only once it holds no item (R15), and with soft
    delete off a stopped protection's data is deleted at once, not kept 14 days (Microsoft Learn,
    "Soft delete for Azure Backup": disabling soft delete makes deletions permanent)."""
    history = (vault.inst.refreshed or {}).get(HISTORY_KEY)
    soft_deleted = history.get("soft_deleted_items") if isinstance(history, dict) else None
    return vault.previous("soft_delete_enabled") is False and soft_deleted == []


def _previous_nodes(ctx: RuleContext, case: VaultCase) -> list[Node]:
    nodes = keys_of(ctx.index, case.vault, case.before, planned=False)
    nodes += key_vaults_of(ctx.index, case.vault, case.before, planned=False)
    return [n for n in dict((n.address, n) for n in nodes).values() if not n.is_data]


def _rotation_added(key: Node) -> bool:
    if key.action is not Action.UPDATE:
        return False
    new, old = key.planned("rotation_policy"), key.previous("rotation_policy")
    return isinstance(new, (list, dict)) and bool(new) and new != old


def r12_previous_key(ctx: RuleContext) -> Iterable[Diagnostic]:
    for case in ctx.cases:
        if _live(case) and not case.key_changed:
            for key in _in_use(ctx, case):
                if key.type_name == TypeName.KEY.value and _rotation_added(key):
                    yield _diag("R12/rotation", case, key, key=key.address)
        keys = _key_change(case)
        if keys is None or _same_version_followed(ctx, case):
            continue
        current = {n.address for n in _in_use(ctx, case)}
        old_key = known_str(keys[0].key_id)
        new_key = known_str(keys[1].key_id) or "a key known after apply"
        removed = False
        kept_for_points = {n.address for n, _ in _recovery_point_losses(ctx, case)}  # R11 refuses those
        for n in _previous_nodes(ctx, case):
            if n.address in current:
                continue
            change = _retirement(ctx, n)
            if change:
                removed = True
                if n.address not in kept_for_points:
                    yield _diag("R12/removed", case, n, old=old_key, change=change)
        if not removed:
            yield _diag("R12/keep", case, old=old_key, new=new_key)


def _same_version_followed(ctx: RuleContext, case: VaultCase) -> bool:
    """The vault moves from a version of a key to the key's versionless id while that version is
    the key's newest and this plan makes no other: the version that wraps its data stays the same
    (a versionless id follows the newest enabled version), so nothing needs keeping for it."""
    old = known_str(case.before.key_id) if case.before is not None else None
    new = known_str(case.after.key_id) if case.after is not None else None
    if old is None or new is None or old.rstrip("/").rsplit("/", 1)[0].lower() != new.rstrip("/").lower():
        return False
    return any(
        n.action is Action.NOOP and (known_str(n.previous("id")) or "").lower() == old.lower()
        for n in keys_of(ctx.index, case.vault, case.after, planned=True)
    )


# --------------------------------------------------------------------------- R13


def r13_tenant(ctx: RuleContext) -> Iterable[Diagnostic]:
    for case in ctx.cases:
        after = _live(case)
        if after is None:
            continue
        ident = encryption_identity(ctx.index, case.vault, after)
        if ident is None or not ident.tenant_id:
            continue
        for kv in key_vaults_of(ctx.index, case.vault, case.after, planned=True):
            kv_tenant = known_str(kv.value("tenant_id"))
            if kv_tenant and same_text(kv_tenant, ident.tenant_id) is False:
                yield _diag(
                    "R13",
                    case,
                    identity=ident.label,
                    identity_tenant=ident.tenant_id,
                    key_vault=kv.address,
                    kv_tenant=kv_tenant,
                )


KEY_CHECKS: tuple[Check, ...] = (
    r4_key_fit,
    r5_key_vault_protections,
    r7_identity_can_use_key,
    r7_firewall_shuts_out_backup,
    r9_user_identity_network,
    r11_key_in_use,
    r12_previous_key,
    r13_tenant,
)

__all__ = ["KEY_CHECKS"]
