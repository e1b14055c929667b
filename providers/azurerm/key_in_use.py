"""A key version a vault can't do without, found unusable while planning (rules R12, A1/A2).

Disabling a key version out of band is quiet until the vault's next backup: a vault pinned to that
version, or one whose data key that version still wraps (the re-wrap with a newer version happens
at the first backup after the vault moves to it - Microsoft Learn, "Encryption of backup data
using customer-managed keys"), fails every backup and restore with UserErrorCMKKeyNotEnabled.
``drift`` and ``audit`` say so; a plan said nothing, or only the general advice to keep the
previous version enabled - already too late. So a plan looks, for each vault whose key has
changed since the last run (a new version made out of band, or a new key_id in this plan), at the
key as ``audit`` does (``audit.key_findings``) and warns of a version that can't unwrap. A key
whose recorded expiration_date has passed (or not_before_date not come) is looked at too: nothing
in Azure changed, only the clock, and a plan that said "No changes" there while every backup failed
with UserErrorCMKKeyExpired was green in a pipeline. A vault whose key is as recorded and in date
costs no read: the nightly drift and audit watch that case.

A plan that sets or moves the expiration_date of the key a vault uses is told when that vault's
backups stop, unless a newer version takes over first: a vault pinned to a version never moves by
itself (rule A1), and one that follows the key moves only when a version is made (a rotation
policy that rotates before expiry does that).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from providers.azurerm.audit import key_findings, local_now
from providers.azurerm.ids import InvalidIdError, parse_key_id
from providers.base import PlannedInstance, ProviderError
from reconciler.diagnostics import Diagnostic, warning

OUT_OF_DATE = frozenset({"KEY_EXPIRED", "KEY_NOT_YET_VALID"})

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


def moment(value: Any) -> datetime | None:
    """An RFC 3339 date of a key attribute (expiration_date, not_before_date); None if unset."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _out_of_date(instances: list[PlannedInstance], now: datetime) -> set[str]:
    """Keys whose recorded dates leave their current version unusable now: expired, or not yet valid."""
    out = set()
    for inst in instances:
        if inst.type_name != KEY or not inst.refreshed:
            continue
        expires, starts = (
            moment(inst.refreshed.get("expiration_date")),
            moment(inst.refreshed.get("not_before_date")),
        )
        if (expires is not None and expires <= now) or (starts is not None and starts > now):
            out.add(_versionless(_text(inst.refreshed.get("id"))))
    return out


def unusable_key_versions(ctx, instances: Iterable[PlannedInstance]) -> list[Diagnostic]:
    instances = list(instances)
    rotated = _rotated(instances)
    if any(i.type_name == KEY and i.refreshed for i in instances):
        rotated |= _out_of_date(instances, local_now(ctx.clients))
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
                out.append(
                    _unusable(
                        str(inst.address), vault_id.rsplit("/", 1)[-1], f.message, f.code in OUT_OF_DATE
                    )
                )
    return out


def _unusable(address: str, vault: str, problem: str, out_of_date: bool = False) -> Diagnostic:
    fix = (
        "move the key's expiration_date later (or its not_before_date earlier), or point the vault at a "
        "version that is valid now"
        if out_of_date
        else "enable the version again (Key Vault: set its attributes, enabled = true; the local Azure: "
        "`vaultform cloud enable-key`) and keep it enabled until a backup job has completed with the key "
        "the vault uses now"
    )
    summary = (
        f"Backups of {vault} fail now: its key version can't wrap (restores still unwrap)"
        if out_of_date
        else f"Backups and restores of {vault} fail now: its key can't unwrap"
    )
    return warning(
        "R12/unusable",
        summary,
        f"In Key Vault, {problem}. Applying this plan doesn't change that: {fix}.",
        address=address,
    )


def expiry_of_keys_in_use(instances: Iterable[PlannedInstance]) -> list[Diagnostic]:
    """A plan that sets or moves the expiration_date of a key a vault uses: when its backups stop."""
    instances = list(instances)
    expiring: dict[str, tuple[PlannedInstance, str]] = {}
    for inst in instances:
        if inst.type_name != KEY or inst.action not in ("create", "update") or not inst.after:
            continue
        when = _text(inst.after.get("expiration_date"))
        if when and when != _text((inst.before or {}).get("expiration_date")):
            kid = _text(inst.after.get("versionless_id")) or _text((inst.before or {}).get("versionless_id"))
            if kid:
                expiring[_versionless(kid)] = (inst, when)
    out = []
    for inst in instances:
        if inst.type_name != RSV or inst.action == "delete":
            continue
        key_id = _key_id(inst.after if inst.after is not None else inst.refreshed)
        found = expiring.get(_versionless(key_id)) if key_id else None
        if found is None:
            continue
        key, when = found
        try:
            pinned = bool(parse_key_id(key_id).version)
        except InvalidIdError:
            continue
        if not pinned and (key.after or {}).get("rotation_policy"):
            continue  # a rotation policy makes new versions; it is the policy's to rotate in time
        vault = _text((inst.after or inst.refreshed or {}).get("name")) or str(inst.address)
        how = (
            "it is pinned to one version (rule A1), which stops unwrapping then"
            if pinned
            else "it follows the key, but nothing makes a new version before then (no rotation_policy)"
        )
        out.append(
            warning(
                "A1/expiry",
                f"Backups of {vault} stop on {when}: its key expires then",
                f"{key.address} expires on {when}, and {inst.address} encrypts with it: {how}. From that "
                "date every backup and restore fails with UserErrorCMKKeyExpired until the date moves or "
                "the vault uses a newer version. Give the key a rotation_policy that rotates before expiry "
                "and use its versionless_id, or plan the move to a new version before that date.",
                address=str(inst.address),
            )
        )
    return out
