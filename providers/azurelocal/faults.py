"""Fault injection for the local Azure: latency, throttling, transient errors, propagation delays.

Settings live in the store's meta table (key ``faults``) so every process that opens the same
database sees the same behaviour. Decisions are deterministic: the n-th call draws from
``random.Random(f"{seed}:{n}")``, and ``n`` is a persisted counter.

Latency, throttling and transient errors are off by default. What real Azure always does is on
by default, bounded on the emulator clock so a whole estate still applies in seconds:

* a new access policy or role assignment reaches Azure Backup a random while after ARM accepted
  it (``grant_propagation_jitter_seconds``; azurerm issue 27817, Bicep issue 16601: the key
  assignment fails with UserErrorCMKKeyVaultAuthFailure and succeeds when retried);
* a new principal is unknown to role assignments for a random while
  (``principal_propagation_jitter_seconds``; 400 PrincipalNotFound, which azurerm retries:
  internal/services/authorization/role_assignment_resource.go);
* a key vault write holds the vault for ``keyvault_write_seconds``; an overlapping write to the
  same vault answers 409 ConflictError (Azure/AzureKeyVault issue 6, azurerm issue 15127).

``calm()`` switches these off for tests that look at something else.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, fields
from enum import Enum

from providers.azurelocal.http import AzureError

META_KEY = "faults"
COUNTER_KEY = "fault_calls"


@dataclass(frozen=True)
class FaultSettings:
    latency_ms: int = 0  # added to every call
    throttle_rate: float = 0.0  # share of calls answered 429
    retry_after_seconds: float = 0.01  # Retry-After sent with 429 and 5xx (azure-core treats
    # 0 as absent and falls back to its backoff)
    transient_error_rate: float = 0.0  # share of calls answered 503
    grant_propagation_seconds: float = 0.0  # a key grant becomes effective this long after creation
    grant_propagation_jitter_seconds: float = 1.0  # ... plus a random share of this (per grant)
    principal_propagation_seconds: float = 0.0  # a new principal is unknown to role assignments this long
    principal_propagation_jitter_seconds: float = 1.0  # ... plus a random share of this (per principal)
    keyvault_write_seconds: float = 0.05  # a key vault write holds the vault this long (real time)
    # Azure Backup's asynchronous operations, on by default and bounded on the emulator clock: a
    # container refresh (the VM discovery) and a policy write run this long before they finish
    # (spec examples RefreshContainers*.json and ProtectionPolicies_CreateOrUpdate_Complex.json show
    # 202 + Location; azurerm issues 2143 and 2207 show a protection request for a VM not yet
    # discovered refused with BMSUserErrorInvalidConfigureProtectionRequest).
    backup_operation_seconds: float = 0.4
    backup_discovery_required: bool = True  # protecting a VM needs a finished container refresh first
    # ARM's request budget per subscription, principal and kind of operation: a bucket of tokens that
    # refills (providers.azurelocal.ratelimits; the real numbers of
    # https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling),
    # plus a subscription-wide bucket ``arm_global_multiplier`` times larger. Tests set them lower.
    rate_limits: bool = True
    arm_read_tokens: float = 250
    arm_read_refill_per_second: float = 25.0
    arm_write_tokens: float = 200
    arm_write_refill_per_second: float = 10.0
    arm_delete_tokens: float = 200
    arm_delete_refill_per_second: float = 10.0
    arm_global_multiplier: float = 15.0
    # Key Vault's transactions per vault in 10 seconds, RSA 2048 software keys
    # (https://learn.microsoft.com/azure/key-vault/general/service-limits)
    keyvault_transactions_per_10s: float = 4000
    keyvault_create_per_10s: float = 20
    # Subscriptions (comma-separated ids) the caller sees but may not read: it holds a role only
    # inside them (a resource group), so ARM lists it among its subscriptions and refuses every
    # read at or under the subscription with 403 AuthorizationFailed (learn.microsoft.com/azure/
    # role-based-access-control/troubleshooting: "The client ... does not have authorization to
    # perform action ... over scope"). Invented shape: one switch for all reads, not role scopes.
    unreadable_subscriptions: str = ""
    seed: int = 0

    def active(self) -> bool:
        return bool(self.latency_ms or self.throttle_rate or self.transient_error_rate)

    @classmethod
    def calm(cls, **overrides) -> FaultSettings:
        """No propagation delays and no write conflicts: for tests of other behaviours."""
        return cls(
            **{
                "grant_propagation_jitter_seconds": 0.0,
                "principal_propagation_jitter_seconds": 0.0,
                "keyvault_write_seconds": 0.0,
                "backup_operation_seconds": 0.0,
                "backup_discovery_required": False,
                **overrides,
            }
        )

    def grant_delay(self, label: str) -> float:
        """Seconds a grant identified by ``label`` takes to reach Azure Backup (deterministic)."""
        return (
            self.grant_propagation_seconds
            + self._share(f"grant:{label}") * self.grant_propagation_jitter_seconds
        )

    def principal_delay(self, label: str) -> float:
        """Seconds a new principal stays unknown to role assignments (deterministic)."""
        return self.principal_propagation_seconds + (
            self._share(f"principal:{label}") * self.principal_propagation_jitter_seconds
        )

    def _share(self, label: str) -> float:
        """Between half and all of the jitter, so a grant used at once always finds it missing."""
        return 0.5 + 0.5 * random.Random(f"{self.seed}:{label.lower()}").random()

    @classmethod
    def from_dict(cls, data: dict | None) -> FaultSettings:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})


class FaultKind(Enum):
    NONE = "none"
    THROTTLE = "throttle"
    TRANSIENT = "transient"


def validate(settings: dict) -> FaultSettings:
    """Build settings from keyword values, refusing unknown names and out-of-range rates."""
    known = {f.name for f in fields(FaultSettings)}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ValueError(f"unknown fault setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    result = FaultSettings(**settings)
    for name in ("throttle_rate", "transient_error_rate"):
        value = getattr(result, name)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1, got {value}")
    for name in (
        "latency_ms",
        "retry_after_seconds",
        "grant_propagation_seconds",
        "grant_propagation_jitter_seconds",
        "principal_propagation_seconds",
        "principal_propagation_jitter_seconds",
        "keyvault_write_seconds",
        "backup_operation_seconds",
        "arm_read_refill_per_second",
        "arm_write_refill_per_second",
        "arm_delete_refill_per_second",
    ):
        if getattr(result, name) < 0:
            raise ValueError(f"{name} must not be negative")
    for name in (
        "arm_read_tokens",
        "arm_write_tokens",
        "arm_delete_tokens",
        "arm_global_multiplier",
        "keyvault_transactions_per_10s",
        "keyvault_create_per_10s",
    ):
        if getattr(result, name) < 1:
            raise ValueError(f"{name} must be at least 1 (a bucket holds at least one request)")
    return result


def load(store) -> FaultSettings:
    return FaultSettings.from_dict(store.meta(META_KEY))


def save(store, current: FaultSettings, **changes) -> FaultSettings:
    merged = validate({**asdict(current), **changes})
    store.set_meta(META_KEY, asdict(merged))
    return merged


def draw(store, settings: FaultSettings) -> FaultKind:
    """Decide the fate of one call; advances the persisted call counter."""
    if not (settings.throttle_rate or settings.transient_error_rate):
        return FaultKind.NONE
    with store.transaction():
        n = store.meta(COUNTER_KEY, 0) + 1
        store.set_meta(COUNTER_KEY, n)
    roll = random.Random(f"{settings.seed}:{n}").random()
    if roll < settings.throttle_rate:
        return FaultKind.THROTTLE
    if roll < settings.throttle_rate + settings.transient_error_rate:
        return FaultKind.TRANSIENT
    return FaultKind.NONE


def _retry_after(settings: FaultSettings) -> str:
    value = settings.retry_after_seconds
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def error_for(kind: FaultKind, settings: FaultSettings) -> AzureError | None:
    if kind is FaultKind.THROTTLE:
        return AzureError(
            429,
            "TooManyRequests",
            "The request is being throttled as the limit has been reached for operation type.",
            {"Retry-After": _retry_after(settings)},
        )
    if kind is FaultKind.TRANSIENT:
        return AzureError(
            503,
            "ServiceUnavailable",
            "The service is temporarily unavailable. Please retry the request.",
            {"Retry-After": _retry_after(settings)},
        )
    return None


__all__ = ["FaultSettings", "FaultKind", "validate", "load", "save", "draw", "error_for"]
