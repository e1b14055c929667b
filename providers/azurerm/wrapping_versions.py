"""Which older versions of a vault's key still wrap its data (rule R12), for ``audit``.

Azure Backup wraps a vault's data encryption key with the key version in effect at a backup,
and re-wraps it with a newer version at the next backup after the vault has moved to it. Microsoft
Learn, "Encryption of backup data using customer-managed keys" (automatic rotation): "The update
to the key version can take up to an hour to take effect. After a key update takes effect, the old
version should also be available (in an enabled state) for at least one subsequent backup job"
(rule R12). So for a vault that follows a versionless key id, a backup counts only once that hour
has passed since the new version was made; a vault pinned to a version is taken to have moved when
that version was made (the update itself leaves no trace a reader can see).

Nothing in Azure names the version that wraps the data key now: it is inferred from the key's
versions (Key Vault's list of versions) and the end of the vault's last completed backup job.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

VERSIONLESS_LAG = timedelta(hours=1)
DONE = frozenset({"completed", "completedwithwarnings"})


@dataclass(frozen=True)
class Version:
    version: str
    created: datetime
    enabled: bool
    expires: datetime | None


def last_backup_end(jobs: Iterable[dict[str, Any]]) -> datetime | None:
    """The end of the vault's last backup job that completed (None: none has)."""
    ends = []
    for job in jobs:
        props = job.get("properties") or {}
        if str(props.get("operation") or "").lower() != "backup":
            continue
        if str(props.get("status") or "").lower() not in DONE or not props.get("endTime"):
            continue
        ends.append(datetime.fromisoformat(str(props["endTime"]).replace("Z", "+00:00")))
    return max(ends) if ends else None


def still_wrapping(
    versions: list[Version], current: str, backed_up: datetime | None, *, versionless: bool
) -> list[Version]:
    """The versions older than ``current`` that may still wrap the data key: from the one in
    effect at the last completed backup (``backed_up``) up to, not including, ``current``.
    With no completed backup there is no wrapped data to lose."""
    if backed_up is None:
        return []
    ordered = sorted(versions, key=lambda v: v.created)
    index = next((i for i, v in enumerate(ordered) if v.version.lower() == current.lower()), None)
    if index is None:
        return []
    lag = VERSIONLESS_LAG if versionless else timedelta(0)
    in_effect = [i for i, v in enumerate(ordered[: index + 1]) if v.created + lag <= backed_up]
    start = in_effect[-1] if in_effect else 0
    return ordered[start:index]


def unusable(version: Version, now: datetime) -> str:
    """Why ``version`` can't unwrap ("" when it can). Only a disabled version can't: Key Vault
    refuses wrapping new keys with an expired (or not yet valid) key, but still unwraps and decrypts
    with it, so data wrapped before stays readable (Microsoft Learn, "About keys": key attributes
    exp and nbf). An older version only ever unwraps; the version in use wraps too, and its dates
    are the audit's KEY_EXPIRED and KEY_NOT_YET_VALID."""
    del now  # the dates don't stop an unwrap
    return "" if version.enabled else "disabled"
