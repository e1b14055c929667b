"""A key version a vault can't do without, found unusable while planning (rules R12, A1/A2).

Disabling a key version out of band is quiet until the vault's next backup: a vault pinned to that
version, or one whose data key that version still wraps (the re-wrap with a newer version happens
at the first backup after the vault moves to it - Microsoft Learn, "Encryption of backup data
using customer-managed keys"), fails every backup and restore with UserErrorCMKKeyNotEnabled.
``drift`` and ``audit`` say so; a plan said nothing, or only the general advice to keep the
previous version enabled - already too late. So a plan looks, for each vault whose key has
changed since the last run (a new version made out of band, or a new key_id in this plan), at the
key as ``audit`` does (``audit.key_findings``) and warns of a version that can't unwrap. A vault
whose key is as recorded costs no read: the nightly drift and audit watch that case.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from providers.azurerm.audit import key_findings
from providers.azurerm.ids import InvalidIdError, parse_key_id
from providers.base import PlannedInstance, ProviderError
from reconciler.diagnostics import Diagnostic, warning

RSV = "azurerm_recovery_services_vault"
KEY = "azurerm_key_vault_key"
CODES = frozenset({"KEY_DISABLED", "KEY_EXPIRED", "KEY_NOT_YET_VALID", "KEY_VERSION_STILL_WRAPS"})


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _key_id(values: dict[str, Any] | None) -> str:
    enc = (values or {}).get("encryption")
    first = enc[0] if isinstance(enc, list) and enc and isinstance(enc[0], dict) else {}
    return _text(first.get("key_id"))


def _versionless(key_id: str) -> str:
    """``https://kv.vault.azure.net/keys/name[/version]`` -> ``https://kv.vault.azure.net/keys/name``."""
    try:
        return parse_key_id(key_id).versionless_id.lower()
    except InvalidIdError:
        return key_id.lower()


def _rotated(instances: list[PlannedInstance]) -> set[str]:
    """Keys whose current version is not the one recorded: a version made since the last run (the
    refresh notes the recorded one as ``_rotated_from``)."""
    return {
        _versionless(_text(inst.refreshed.get("id")))
        for inst in instances
        if inst.type_name == KEY and inst.refreshed and _text(inst.refreshed.get("_rotated_from"))
    }


def unusable_key_versions(ctx, instances: Iterable[PlannedInstance]) -> list[Diagnostic]:
    instances = list(instances)
    rotated = _rotated(instances)
    out = []
    for inst in instances:
        if inst.type_name != RSV or inst.action == "delete":
            continue
        current = inst.refreshed if inst.refreshed is not None else inst.before
        in_use, vault_id = _key_id(current), _text((current or {}).get("id"))
        if not in_use or not vault_id:
            continue
        planned = _key_id(inst.after) if inst.after is not None else in_use
        if _versionless(in_use) not in rotated and planned.lower() == in_use.lower():
            continue
        try:
            found = key_findings(ctx.clients, vault_id, in_use)
        except ProviderError:
            continue  # can't look: drift and audit report it
        for f in found:
            if f.code in CODES:
                out.append(_unusable(str(inst.address), vault_id.rsplit("/", 1)[-1], f.message))
    return out


def _unusable(address: str, vault: str, problem: str) -> Diagnostic:
    return warning(
        "R12/unusable",
        f"Backups and restores of {vault} fail now: its key can't unwrap",
        f"In Key Vault, {problem}. Applying this plan doesn't change that: enable the version again (Key "
        "Vault: set its attributes, enabled = true; the local Azure: `vaultform cloud enable-key`) and "
        "keep it enabled until a backup job has completed with the key the vault uses now.",
        address=address,
    )
