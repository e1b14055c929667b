"""Waiting until a grant (access policy or role assignment) is effective.

Azure accepts a grant on the management plane before Key Vault honours it on the
data plane. The provider can't act as the grantee, so it waits in two steps:

1. read-back: poll the grant through ARM until it is there with what was asked
   (bounded backoff through the injected clock; on real Azure this is all a
   provider can observe);
2. on the local Azure, the emulator states its propagation delay
   (``faults.grant_propagation_seconds``) and keeps its own clock, so the grant is
   effective at (emulator time when the write returned) + delay: the provider
   waits until the emulator clock passes that point.

Every pause is announced through the waiter's report callback.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from providers.azurerm.consistency import GRANT_PROPAGATION, READ_BACK
from providers.azurerm.resources.base import Context

Reader = Callable[[Context, dict[str, Any]], "dict[str, Any] | None"]


def local_effective_at(ctx: Context):
    """Emulator time at which a grant written just now is honoured (None off-emulator)."""
    env = ctx.clients.emulator if ctx.clients.is_local else None
    if env is None:
        return None
    delay = float(getattr(env.faults, "grant_propagation_seconds", 0.0) or 0.0)
    return env.clock.now() + timedelta(seconds=delay)


def wait_until_effective(ctx: Context, effective_at, what: str) -> None:
    if effective_at is None:
        return
    env = ctx.clients.emulator

    def live():
        return env.clock.now() >= effective_at

    if not live():
        ctx.waiter.until(f"{what} is effective", live, GRANT_PROPAGATION)


def _has(entry: dict[str, Any], state: dict[str, Any]) -> bool:
    perms = entry.get("permissions") or {}
    for azure, attr in (
        ("keys", "key_permissions"),
        ("secrets", "secret_permissions"),
        ("certificates", "certificate_permissions"),
        ("storage", "storage_permissions"),
    ):
        want = {p.lower() for p in perms.get(azure) or []}
        have = {p.lower() for p in state.get(attr) or []}
        if want != have:
            return False
    return True


def wait_for_key_grant(
    ctx: Context, state: dict[str, Any], reader: Reader, entry: dict[str, Any], vault_id: str
) -> dict[str, Any]:
    """After an access-policy write: read it back, then wait until it is effective."""
    effective_at = local_effective_at(ctx)
    got = ctx.waiter.until(
        f"the access policy for {entry['objectId']} shows on {vault_id}",
        lambda: _confirmed(reader(ctx, state), entry),
        READ_BACK,
    )
    wait_until_effective(ctx, effective_at, f"the access policy for {entry['objectId']}")
    return got


def _confirmed(got: dict[str, Any] | None, entry: dict[str, Any]) -> dict[str, Any] | None:
    return got if got is not None and _has(entry, got) else None


def wait_for_role_assignment(
    ctx: Context, read: Callable[[], dict[str, Any] | None], what: str
) -> dict[str, Any]:
    effective_at = local_effective_at(ctx)
    got = ctx.waiter.until(f"{what} shows", read, READ_BACK)
    wait_until_effective(ctx, effective_at, what)
    return got
