"""Reading a grant (access policy or role assignment) back after writing it.

Azure accepts a grant on the management plane before every reader sees it, so the
provider polls the grant through ARM until it is there with what was asked (bounded
backoff through the injected clock, every pause announced).

When the grant reaches Key Vault's and Azure Backup's data path gives no signal at
all: the key assignment that needs it fails with UserErrorCMKKeyVaultAuthFailure
until it does, and succeeds when retried (azurerm issue 27817, Bicep issue 16601).
That wait belongs to the key assignment (``recovery_services_vault``), which asks
the executor to retry it; nothing here peeks at how long Azure will take.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from providers.azurerm.consistency import READ_BACK
from providers.azurerm.resources.base import Context

Reader = Callable[[Context, dict[str, Any]], "dict[str, Any] | None"]


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
    """After an access-policy write: read it back until it shows what was asked."""
    return ctx.waiter.until(
        f"the access policy for {entry['objectId']} shows on {vault_id}",
        lambda: _confirmed(reader(ctx, state), entry),
        READ_BACK,
    )


def _confirmed(got: dict[str, Any] | None, entry: dict[str, Any]) -> dict[str, Any] | None:
    return got if got is not None and _has(entry, got) else None


def wait_for_role_assignment(
    ctx: Context, read: Callable[[], dict[str, Any] | None], what: str
) -> dict[str, Any]:
    return ctx.waiter.until(f"{what} shows", read, READ_BACK)
