"""Keys and key vaults another configuration's vault encrypts with, deleted by this plan (rule R11
across configurations).

R11 refuses to destroy the key, or the key vault, that a vault of this configuration encrypts
with. Key management is often split off: a platform team's configuration holds the key vault and
its keys, each workload's configuration its Recovery Services vault. There, removing a key block
that looks unused - or a ``-destroy -target`` of it - deleted the key a live vault wraps its data
encryption key with, and that vault's backups and every restore failed (UserErrorKeyVaultKeyWasNotFound)
until someone recovered the key from soft delete. So a plan that deletes or replaces a key or a key
vault reads the Recovery Services vaults of every subscription the credential can see (as a
tenant ``audit`` does, and as ``grants_in_use`` does for grants) and refuses to take away one a vault it doesn't manage encrypts
with. An update that leaves the key's current version out of date - an expiration_date already
passed, a not_before_date still to come - disables it for that vault just as surely, and is refused
the same way (R11 does so within one configuration). Vaults this plan manages are left to R11
itself. A plan that takes no key away reads nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from providers.azurerm.audit import VaultsEverywhere, local_now
from providers.azurerm.grants_in_use import unseen_warning
from providers.azurerm.ids import InvalidIdError, parse_key_id
from providers.azurerm.key_in_use import moment
from providers.azurerm.resources.base import Context, dig
from providers.base import PlannedInstance
from reconciler.diagnostics import Diagnostic, error

KEY = "azurerm_key_vault_key"
KEY_VAULT = "azurerm_key_vault"
RSV = "azurerm_recovery_services_vault"
GONE = frozenset({"delete", "replace"})


@dataclass(frozen=True)
class Leaving:
    """A key (``key`` set) or a whole key vault (``key`` empty) this plan deletes or replaces."""

    address: str
    key_vault: str  # the key vault's name, lower case
    key: str  # the key's name, lower case
    action: str  # "delete", "replace", or "out of date" (an update that expires it)
    version: str = ""  # out of date: the version whose dates change (the key's current one)


def _out_of_date(after: dict[str, Any], before: dict[str, Any], now: datetime) -> bool:
    """Whether the update sets a date that leaves the key's version unusable at once."""
    expires, starts = moment(after.get("expiration_date")), moment(after.get("not_before_date"))
    changed = any(after.get(n) != before.get(n) for n in ("expiration_date", "not_before_date"))
    return changed and ((expires is not None and expires <= now) or (starts is not None and starts > now))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def leaving(instances: Iterable[PlannedInstance], now: Callable[[], datetime]) -> list[Leaving]:
    out = []
    for inst in instances:
        if inst.type_name == KEY and inst.action == "update" and inst.before and inst.after:
            if _out_of_date(inst.after, inst.before, now()):
                try:
                    kid = parse_key_id(_text(inst.before.get("id")))
                except InvalidIdError:
                    continue
                out.append(
                    Leaving(
                        str(inst.address),
                        kid.vault_name.lower(),
                        kid.name.lower(),
                        "out of date",
                        kid.version.lower(),
                    )
                )
            continue
        if inst.action not in GONE or not inst.before:
            continue
        if inst.type_name == KEY:
            try:
                kid = parse_key_id(_text(inst.before.get("id")))
            except InvalidIdError:
                continue
            out.append(Leaving(str(inst.address), kid.vault_name.lower(), kid.name.lower(), inst.action))
        elif inst.type_name == KEY_VAULT and _text(inst.before.get("name")):
            out.append(Leaving(str(inst.address), inst.before["name"].lower(), "", inst.action))
    return out


def keys_other_vaults_use(
    ctx: Context,
    instances: Iterable[PlannedInstance],
    everywhere: Callable[[], VaultsEverywhere],
) -> list[Diagnostic]:
    """``everywhere``: the vaults of every subscription (``recovery_vaults_everywhere``), read once for
    the plan's checks."""
    instances = list(instances)
    gone = leaving(instances, lambda: local_now(ctx.clients))
    if not gone:
        return []
    managed = {
        _text((i.before or {}).get("id")).lower() for i in instances if i.type_name == RSV and i.before
    }
    seen = everywhere()
    vaults = seen.vaults
    out = []
    for body in vaults:
        key_uri = _text(dig(body, "properties.encryption.keyVaultProperties.keyUri"))
        if not key_uri or _text(body.get("id")).lower() in managed:
            continue
        try:
            used = parse_key_id(key_uri)
        except InvalidIdError:
            continue
        for item in gone:
            if item.key_vault != used.vault_name.lower() or item.key not in ("", used.name.lower()):
                continue
            if item.version and used.version and used.version.lower() != item.version:
                continue  # the vault is pinned to another version, whose dates stay as they are
            out.append(_refusal(item, body, key_uri))
    if seen.unread:
        out.append(unseen_warning("R11", gone[0].address, "takes a key away", seen.unread))
    return out


def _refusal(item: Leaving, body: dict[str, Any], key_uri: str) -> Diagnostic:
    name, vault_id = _text(body.get("name")), _text(body.get("id"))
    what = "the key" if item.key else f"key vault {item.key_vault}, and with it the key"
    if item.action == "out of date":
        return error(
            "R11",
            f"{item.address} disables the key Recovery Services vault {name} encrypts with",
            f"Recovery Services vault {name} ({vault_id}), which this configuration doesn't manage, "
            f"encrypts its backups with {key_uri}. This plan sets a date that leaves the key's version "
            "unusable now (its expiration_date passed, or its not_before_date still to come): Key "
            "Vault refuses wrapping with it, so that vault's next backup would fail "
            "(UserErrorCMKKeyExpired); restores still unwrap. Keep dates that leave the version valid, "
            f"or point vault {name} at another key first (in the configuration that manages it).",
            address=item.address,
        )
    verb = "deletes" if item.action == "delete" else "replaces"
    fix = (
        f"Point vault {name} at another key first (in the configuration that manages it), and "
        "remove this one only after a backup job has completed with the new key. To stop managing "
        "it here without deleting it, use a removed block with lifecycle { destroy = false }."
    )
    return error(
        "R11",
        f"{item.address} {verb} the key Recovery Services vault {name} encrypts with",
        f"Recovery Services vault {name} ({vault_id}), which this configuration doesn't manage, "
        f"encrypts its backups with {key_uri}. This plan {verb} {what}: that vault's next backup and "
        f"every restore of its recovery points would fail (UserErrorKeyVaultKeyWasNotFound). {fix}",
        address=item.address,
    )
