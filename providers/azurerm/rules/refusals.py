"""Refusals judged on the Recovery Services vault and its identity: R1, R2, R3, R6, R8, R10, R14.

Each check takes the ``RuleContext`` and yields diagnostics; ``VAULT_CHECKS`` lists
them in rule order. Key and key vault refusals live in ``refusals_keys``.

R10 here covers only what a catalog ``ChangeRule`` can't express: the sku of a vault
that uses a customer-managed key. Purge protection (one way), soft-delete retention
and infrastructure encryption (fixed once set) and immutability (Locked is final)
are single-attribute rules the catalog declares and the generic planner checks, so
they are not reported twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from reconciler.diagnostics import Diagnostic
from reconciler.values import UNKNOWN

from .context import RuleContext
from .estate import VaultCase, identity_ids, identity_types, items_of, user_identities_of
from .model import SYSTEM, USER, Action, TypeName, history_says_used
from .refs import known_str, lookup, same_text
from .table import diagnose

Check = Callable[[RuleContext], Iterable[Diagnostic]]


def _diag(message_id: str, case: VaultCase, **facts) -> Diagnostic:
    return diagnose(
        message_id, address=case.address, location=case.vault.location, vault=case.address, **facts
    )


def r1_encryption_removed(ctx: RuleContext) -> Iterable[Diagnostic]:
    for case in ctx.cases:
        if (
            case.before is not None
            and case.after is None
            and case.vault.action in (Action.UPDATE, Action.REPLACE)
        ):
            yield _diag("R1", case)


def _subscription(arm_id: object) -> str | None:
    text = known_str(arm_id)
    parts = text.split("/") if text else []
    return parts[2].lower() if len(parts) > 2 and parts[1].lower() == "subscriptions" else None


def r2_moved(ctx: RuleContext) -> Iterable[Diagnostic]:
    for case in ctx.cases:
        v = case.vault
        if case.before is None or v.action not in (Action.UPDATE, Action.REPLACE):
            continue
        old, new = v.previous("resource_group_name"), v.planned("resource_group_name")
        if same_text(old, new) is False:
            yield _diag("R2", case, what="resource group", attr="resource_group_name", old=old, new=new)
        old_sub, new_sub = _subscription(v.previous("id")), _subscription(v.planned("id"))
        if old_sub and new_sub and old_sub != new_sub:
            yield _diag("R2", case, what="subscription", attr="the subscription", old=old_sub, new=new_sub)


def r3_vault_had_items(ctx: RuleContext) -> Iterable[Diagnostic]:
    for case in ctx.cases:
        v = case.vault
        if not case.newly_encrypted or v.action is not Action.UPDATE:
            continue
        if history_says_used(v):
            yield _diag(
                "R3",
                case,
                why="has, or once had, protected or registered items (Azure keeps "
                "that record even for failed attempts)",
            )
            continue
        existing = [
            i.address for i in items_of(ctx.index, v, TypeName.PROTECTED_VM) if i.action.existed_before
        ]
        if existing:
            yield _diag("R3", case, why="already protects " + ", ".join(existing))


def _types_text(source: dict | None) -> str:
    value = lookup(source, ("identity", 0, "type")) if source else None
    return known_str(value) or "none"


def r6_identity_narrowed(ctx: RuleContext) -> Iterable[Diagnostic]:
    for case in ctx.cases:
        v = case.vault
        if v.action is not Action.UPDATE:
            continue
        old, new = identity_types(v.prior), identity_types(v.after)
        if isinstance(old, frozenset) and isinstance(new, frozenset) and old - new:
            yield _diag(
                "R6/type",
                case,
                old=_types_text(v.prior),
                new=_types_text(v.after),
                lost=" and ".join(sorted(old - new)) + " identity",
            )
            continue
        old_ids, new_ids = identity_ids(v.prior), identity_ids(v.after)
        if isinstance(old_ids, frozenset) and not isinstance(new_ids, frozenset):
            new_ids = _attached_after(ctx, case)
        if not (isinstance(old_ids, frozenset) and isinstance(new_ids, frozenset)):
            continue
        used = {known_str(e.user_identity_id) for e in (case.before, case.after) if e is not None}
        for ident in sorted(u for u in used if u):
            if ident.rstrip("/").lower() in old_ids - new_ids:
                yield _diag("R6/ids", case, identity=ident)


def _attached_after(ctx: RuleContext, case: VaultCase) -> frozenset[str] | None:
    """The ids identity.identity_ids may hold after the plan when some are known only after apply:
    the known ones, when every unknown one is the id of an identity this plan creates (a new
    identity's id is never one the vault has now); None when that can't be told."""
    value = lookup(case.vault.after, ("identity", 0, "identity_ids"))
    if not isinstance(value, (list, tuple)):
        return None
    unknown = sum(1 for v in value if v is UNKNOWN)
    created = [
        n
        for n, _ in ctx.index.targets(case.vault, ("identity",), TypeName.USER_IDENTITY)
        if n.action in (Action.CREATE, Action.REPLACE) and not n.is_data
    ]
    if unknown > len({n.address for n in created}):
        return None
    return frozenset(v.rstrip("/").lower() for v in value if isinstance(v, str))


def r6_identity_destroyed(ctx: RuleContext) -> Iterable[Diagnostic]:
    """The user-assigned identity resource that encryption uses is deleted or replaced."""
    for case in ctx.cases:
        if (
            case.after is None
            or not case.vault.action.exists_after
            or case.after.uses_user_identity is not True
        ):
            continue
        for ident in user_identities_of(ctx.index, case.vault, case.after):
            if ident.action.removes_object and not ident.is_data:
                yield _diag("R6/deleted", case, identity=ident.address, verb=ident.removal)


def _ref_targets(ctx: RuleContext, case: VaultCase, attr: str) -> set[str]:
    return {n.address for n, _ in ctx.index.targets(case.vault, (attr,), TypeName.USER_IDENTITY)}


def _attached(ctx: RuleContext, case: VaultCase) -> bool | None:
    """The encryption's user-assigned identity is in identity.identity_ids (None: can't tell)."""
    enc = case.after
    if enc is None:
        return None
    types = identity_types(case.vault.after)
    if isinstance(types, frozenset) and USER not in types:
        return False
    ids = identity_ids(case.vault.after)
    enc_targets = _ref_targets(ctx, case, "encryption")
    if enc_targets & _ref_targets(ctx, case, "identity"):
        return True
    wanted = known_str(enc.user_identity_id)
    if not isinstance(ids, frozenset):
        return None
    if wanted:
        return wanted.rstrip("/").lower() in ids
    node_ids = {i for a in enc_targets if (i := known_str(ctx.index.by_address[a].value("id")))}
    if node_ids:
        return bool({i.rstrip("/").lower() for i in node_ids} & ids)
    return None


def r8_identity_consistency(ctx: RuleContext) -> Iterable[Diagnostic]:
    for case in ctx.cases:
        enc = case.after
        if enc is None or not (case.encryption_touched or case.vault.action.changes):
            continue
        has_user = enc.user_identity_id is not None
        if has_user and enc.use_system is True:
            yield _diag("R8/both", case)
        elif not has_user and enc.use_system is False:
            yield _diag("R8/none", case)
        elif has_user and enc.use_system is False:
            if _attached(ctx, case) is False:
                ident = known_str(enc.user_identity_id) or next(
                    iter(sorted(_ref_targets(ctx, case, "encryption"))), "the user-assigned identity"
                )
                yield _diag("R8/not_attached", case, identity=ident)
        elif enc.use_system is True:
            types = identity_types(case.vault.after)
            if isinstance(types, frozenset) and SYSTEM not in types:
                yield _diag("R8/no_system", case, types=_types_text(case.vault.after))


def r10_sku_fixed(ctx: RuleContext) -> Iterable[Diagnostic]:
    for case in ctx.cases:
        v = case.vault
        if case.before is None or case.after is None or v.action is not Action.UPDATE:
            continue
        old, new = v.previous("sku"), v.planned("sku")
        if same_text(old, new) is False:
            yield _diag("R10", case, old=old, new=new)


CLASSIC_MARKER = "/providers/microsoft.classiccompute/"


def r14_classic_vm(ctx: RuleContext) -> Iterable[Diagnostic]:
    for case in ctx.cases:
        if case.after is None or not case.vault.action.exists_after:
            continue
        for item in items_of(ctx.index, case.vault, TypeName.PROTECTED_VM):
            if not item.action.exists_after or item.action is Action.NOOP:
                continue
            vm = known_str(item.planned("source_vm_id"))
            if vm and CLASSIC_MARKER in vm.lower():
                yield diagnose(
                    "R14/classic",
                    address=item.address,
                    location=item.location,
                    item=item.address,
                    vm=vm,
                    vault=case.address,
                )


VAULT_CHECKS: tuple[Check, ...] = (
    r1_encryption_removed,
    r2_moved,
    r3_vault_had_items,
    r6_identity_narrowed,
    r6_identity_destroyed,
    r8_identity_consistency,
    r10_sku_fixed,
    r14_classic_vm,
)
