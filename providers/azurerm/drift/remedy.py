"""How to undo drift of azurerm objects that the plan doesn't, as data.

The engine prefers the plan: when `vaultform plan` already proposes to change the
attribute (or re-create the object) the fix is a normal apply. What vaultform doesn't
reconcile (a key version's enabled flag, settings the configuration leaves unset) has a
hint from ``OUT_OF_BAND`` - one text for the embedded local Azure, one for Azure; anything
else the engine offers to accept into state.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from providers.azurerm.drift.types import KEY, KV
from providers.drift_protocol import ChangeKind

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
        KEY,
        "enabled",
        frozenset({K.DISABLED}),
        "vaultform doesn't reconcile a key's enabled flag: enable the version again with "
        "`vaultform cloud enable-key {id}`",
        "vaultform doesn't reconcile a key's enabled flag: enable the version again with "
        "`az keyvault key set-attributes --enabled true --id {id}` or in the portal",
    ),
    Remedy(
        KEY,
        "expiration_date",
        None,
        "an expiry the key's rotation policy set needs nothing (`vaultform apply -refresh-only` records "
        "it); otherwise set expiration_date in the configuration so vaultform updates it, or rotate to a "
        "new version",
        "an expiry the key's rotation policy set needs nothing (`vaultform apply -refresh-only` records "
        "it); otherwise set expiration_date in the configuration so vaultform updates it, or `az "
        "keyvault key set-attributes --expires <time> --id {id}`",
    ),
    Remedy(
        KEY,
        "",
        frozenset({K.REMOVED}),
        "recover the deleted key (Key Vault keeps it for the soft delete retention); vaultform never purges "
        "a key",
        "recover the deleted key with `az keyvault key recover --id {id}`; vaultform never purges a key",
    ),
    Remedy(
        KV,
        "network_acls*",
        None,
        "declare network_acls in the configuration so vaultform enforces it - while the firewall shuts "
        "vaultform out too, apply that with -target on the key vault, which reads only the key vault - "
        "or restore the rules with `vaultform cloud set-network-rules {name} -default-action Allow`",
        "declare network_acls in the configuration so vaultform enforces it - while the firewall shuts "
        "vaultform out too, apply that with -target on the key vault, which reads only the key vault - "
        "or restore the rules with `az keyvault update --name {name} --default-action Allow` (or add the "
        "right bypass and IP rules)",
    ),
    Remedy(
        KV,
        "access_policy",
        frozenset({K.REMOVED}),
        "manage the grant with an azurerm_key_vault_access_policy so vaultform restores it",
        "manage the grant with an azurerm_key_vault_access_policy so vaultform restores it, or "
        "`az keyvault set-policy --name {name} --object-id <id> --key-permissions get list wrapKey unwrapKey`",
    ),
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


def remedy_for(
    type_name: str, path: str, kind: ChangeKind, obj: dict[str, Any], *, local: bool
) -> str | None:
    """``path`` without selectors; ``obj``: the object's attributes for ``{id}`` and ``{name}``."""
    remedy = _out_of_band(type_name, path, kind)
    if remedy is None:
        return None
    return _fill(remedy.local if local else remedy.azure, obj)
