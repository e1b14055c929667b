"""Advisories A1-A5: how each encrypted vault follows its key, what CMK costs, whether
the deployer can create the keys the plan creates, and whether the plan can see the key's
key vault at all.

A1-A3 speak only when this plan (re)assigns a key, so a plan without encryption
changes stays quiet. A versioned key id pins the key (A1, warning: nothing rotates
until key_id changes); a versionless id rotates (A2, info). When the id is not
known yet, the reference decides: ``….versionless_id`` rotates, ``….id`` pins.

A4 (warning) speaks when a key is created in a key vault this plan also creates, under
access policies, and no access policy in the configuration can be the deployer's with
the Create key permission: a new key vault holds only the policies written for it, so
Key Vault would refuse the key (403 ForbiddenByPolicy) half-way through the apply.
Under Azure RBAC the deployer's role may come from a scope above the key vault, which
the plan doesn't see, so A4 stays quiet there.

A5 (warning) speaks when a key is (re)assigned by an id written out (a variable, a literal)
whose key vault is neither managed here nor read by a data source: R4, R5, R7, R9 and R13
judge the key vault and its grants, and have nothing to judge. A data source for the key
vault (and the key) brings them back; Azure's own checks still run at apply.

A6, about backup data lost with removed protected VMs, lives with the backup items' rules
(``backup_items``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from reconciler.diagnostics import Diagnostic

from .context import RuleContext
from .estate import VaultCase, host_of, key_ref_of, key_vaults_of, key_vaults_of_key
from .grants import CREATE_KEY_PERMISSIONS, RBAC_NAMES, Grant, applies_to, authorization_model, names_deployer
from .model import Action, Node, PlanIndex, TypeName
from .refs import known_str
from .table import MARS_NOTE, diagnose

_VERSIONED = re.compile(r"(?i)^https://[^/]+/keys/[^/]+/[0-9a-f]{32}/?$")
_VERSIONLESS = re.compile(r"(?i)^https://[^/]+/keys/[^/]+/?$")


def key_mode(case: VaultCase) -> tuple[bool | None, str]:
    """(pinned?, how the key is named): True pinned, False rotating, None undecidable."""
    key_id = known_str(case.after.key_id) if case.after else None
    if key_id:
        if _VERSIONED.match(key_id):
            return True, key_id
        if _VERSIONLESS.match(key_id):
            return False, key_id
        return None, key_id
    ref = key_ref_of(case.vault)
    if ref is None:
        return None, ""
    text = f"{ref.instance}.{ref.last}"
    if ref.last == "versionless_id":
        return False, text
    if ref.last == "id":
        return True, text
    return None, text


def a1_a2_rotation(ctx: RuleContext) -> Iterable[Diagnostic]:
    for case in ctx.cases:
        if case.after is None or not case.vault.action.exists_after or not case.encryption_touched:
            continue
        pinned, key = key_mode(case)
        if pinned is None:
            continue
        mars = MARS_NOTE if case.newly_encrypted else ""
        yield diagnose(
            "A1" if pinned else "A2",
            address=case.address,
            location=case.vault.location,
            vault=case.address,
            key=key,
            mars=mars,
        )


def a3_cost(ctx: RuleContext) -> Iterable[Diagnostic]:
    if any(c.after is not None and c.vault.action.exists_after and c.encryption_touched for c in ctx.cases):
        yield diagnose("A3", address=None)


def a4_deployer_creates_keys(ctx: RuleContext) -> Iterable[Diagnostic]:
    for key in ctx.index.of_type(TypeName.KEY, data=False):
        if key.action not in (Action.CREATE, Action.REPLACE):
            continue
        for kv in key_vaults_of_key(ctx.index, key):
            if kv.action is not Action.CREATE or _new_vault_uses_rbac(kv) is not False:
                continue
            grants = [g for g in ctx.grants if applies_to(g, kv)]
            if any(_may_let_deployer_create(ctx.index, g) for g in grants):
                continue
            yield diagnose(
                "A4", address=key.address, location=key.location, key=key.address, key_vault=kv.address
            )


def _new_vault_uses_rbac(kv: Node) -> bool | None:
    """A new key vault's authorization model: set, or unset and so access policies (the provider
    creates it with enableRbacAuthorization false); None when it comes from another object."""
    model = authorization_model(kv)
    if model is None and not kv.refs_for(*RBAC_NAMES):
        return False
    return model


# Attributes that name an identity the plan creates for a vault, never the deployer's.
_IDENTITY_PRINCIPALS = {TypeName.VAULT.value, TypeName.USER_IDENTITY.value}


def _may_let_deployer_create(index: PlanIndex, grant: Grant) -> bool:
    """The grant gives, or may give, the deployer the Create key permission."""
    if names_deployer(index, grant):
        return grant.has_all(CREATE_KEY_PERMISSIONS) is not False
    if grant.has_all(CREATE_KEY_PERMISSIONS) is False:
        return False
    if known_str(grant.principal_value):
        # another principal, unless the plan can't tell who the deployer is
        return not index.of_type(TypeName.CLIENT_CONFIG)
    refs = grant.holder.refs_for(grant.principal_attr)
    return not refs or not all(r.type_name in _IDENTITY_PRINCIPALS for r in refs)


def a5_key_vault_unseen(ctx: RuleContext) -> Iterable[Diagnostic]:
    for case in ctx.cases:
        if case.after is None or not case.vault.action.exists_after or not case.encryption_touched:
            continue
        key_id, host = known_str(case.after.key_id), host_of(case.after.key_id)
        if not key_id or not host or key_vaults_of(ctx.index, case.vault, case.after, planned=True):
            continue
        yield diagnose(
            "A5",
            address=case.address,
            location=case.vault.location,
            vault=case.address,
            key=key_id,
            name=host.split(".", 1)[0],
        )


ADVISORY_CHECKS = (a1_a2_rotation, a3_cost, a4_deployer_creates_keys, a5_key_vault_unseen)
