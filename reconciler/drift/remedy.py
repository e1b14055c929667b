"""How to undo drift, as data: who can fix each kind of change and what to run.

``fix_for`` prefers the plan: when `vaultform plan` already proposes to change the
attribute (or re-create the object) the fix is a normal apply. What vaultform doesn't
reconcile (a key version's enabled flag, settings the configuration leaves unset) has a
hint from ``OUT_OF_BAND`` - one text for the embedded local Azure, one for Azure - and
anything else the configuration doesn't care about can be accepted into state.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from reconciler.drift.model import ChangeKind, Fix, FixKind

K = ChangeKind


@dataclass(frozen=True)
class Remedy:
    type: str
    path: str  # fnmatch over the path without selectors; "" whole object
    kinds: frozenset[ChangeKind] | None
    local: str  # on the local Azure; {id} {name} {key_vault} are filled in
    azure: str  # on Azure


OUT_OF_BAND: tuple[Remedy, ...] = (
    Remedy(
        "azurerm_key_vault_key",
        "enabled",
        frozenset({K.DISABLED}),
        "vaultform doesn't reconcile a key's enabled flag: enable the version again with "
        "`vaultform cloud enable-key {id}`",
        "vaultform doesn't reconcile a key's enabled flag: enable the version again with "
        "`az keyvault key set-attributes --enabled true --id {id}` or in the portal",
    ),
    Remedy(
        "azurerm_key_vault_key",
        "expiration_date",
        None,
        "set expiration_date in the configuration so vaultform updates it, or rotate to a new version",
        "set expiration_date in the configuration so vaultform updates it, or `az keyvault key "
        "set-attributes --expires <time> --id {id}`",
    ),
    Remedy(
        "azurerm_key_vault_key",
        "",
        frozenset({K.REMOVED}),
        "recover the deleted key (Key Vault keeps it for the soft delete retention); vaultform never purges "
        "a key",
        "recover the deleted key with `az keyvault key recover --id {id}`; vaultform never purges a key",
    ),
    Remedy(
        "azurerm_key_vault",
        "network_acls*",
        None,
        "declare network_acls in the configuration so vaultform enforces it, or restore the rules with "
        "`vaultform cloud set-network-rules {name} -default-action Allow`",
        "declare network_acls in the configuration so vaultform enforces it, or restore the rules with "
        "`az keyvault update --name {name} --default-action Allow` (or add the right bypass and IP rules)",
    ),
    Remedy(
        "azurerm_key_vault",
        "access_policy",
        frozenset({K.REMOVED}),
        "manage the grant with an azurerm_key_vault_access_policy so vaultform restores it",
        "manage the grant with an azurerm_key_vault_access_policy so vaultform restores it, or "
        "`az keyvault set-policy --name {name} --object-id <id> --key-permissions get list wrapKey unwrapKey`",
    ),
)

FAILED_READ = (
    "the object could not be read; fix access (network rules, grants for the caller) and run drift again"
)


def _out_of_band(type_name: str, path: str, kind: ChangeKind) -> Remedy | None:
    for r in OUT_OF_BAND:
        if r.type != type_name:
            continue
        if (r.path == "") != (path == "") or (r.path and not fnmatchcase(path, r.path)):
            continue
        if r.kinds is not None and kind not in r.kinds:
            continue
        return r
    return None


def _fill(text: str, obj: dict) -> str:
    values = {"id": obj.get("id") or "<id>", "name": obj.get("name") or "<name>"}
    return text.format(**values)


def fix_for(
    type_name: str,
    path: str,
    kind: ChangeKind,
    *,
    plan_action: str,
    plan_changes_it: bool,
    obj: dict[str, Any],
    local: bool,
) -> Fix:
    """``path`` without selectors; ``plan_changes_it``: the plan changes this attribute or object."""
    if plan_changes_it:
        verb = {
            "create": "re-creates the object",
            "update": "restores it in place",
            "delete-then-create": "replaces the object",
            "create-then-delete": "replaces the object",
            "delete": "deletes the object (the configuration no longer has it)",
        }.get(plan_action, "restores it")
        return Fix(FixKind.PLAN, f"`vaultform apply` {verb}; review it with `vaultform plan` first")
    remedy = _out_of_band(type_name, path, kind)
    if remedy is not None:
        return Fix(FixKind.OUT_OF_BAND, _fill(remedy.local if local else remedy.azure, obj))
    if kind is ChangeKind.DELETED:
        return Fix(
            FixKind.ACCEPT, "the configuration no longer has it: `vaultform apply -refresh-only` forgets it"
        )
    return Fix(
        FixKind.ACCEPT,
        "the configuration doesn't set it: `vaultform apply -refresh-only` records the "
        "new value, or set it in the configuration to have vaultform enforce it",
    )
