"""Azure SDK exceptions -> the provider protocol's three error kinds.

The executor owns retries, so classification is all a provider does: a
``RetryableError`` carries Azure's delay hint (``Retry-After`` in seconds or as an
HTTP date, or ``x-ms-retry-after-ms``), a ``PermanentError`` carries Azure's error
code and message (with the inner code Key Vault adds, e.g. ForbiddenByPolicy), and
a 404 becomes ``NotFoundError``.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass

from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)

from providers.base import NotFoundError, PermanentError, ProviderError, RetryableError

# Status codes Azure documents as transient.
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})

# Error codes that mean "try again shortly" whatever the status says. Sources: ARM
# throttling and conflict guidance; azurerm retries PrincipalNotFound on role
# assignments for identities that are minutes old (replication delay in Entra ID).
RETRYABLE_CODES = frozenset(
    c.lower()
    for c in (
        "PrincipalNotFound",
        "AnotherOperationInProgress",
        "RetryableError",
        "TooManyRequests",
        "Throttled",
        "ServiceUnavailable",
        "InternalServerError",
        "OperationNotAllowed_Retry",
        "UserErrorAnotherOperationInProgress",
    )
)

# The key assignment of a Recovery Services vault fails with this code while a new grant has
# not reached Azure Backup (azurerm issue 27817; Bicep issue 16601: "succeeds when retried"); the
# vault handler retries it, bounded by the executor.
GRANT_NOT_EFFECTIVE_CODES = frozenset(c.lower() for c in ("UserErrorCMKKeyVaultAuthFailure",))

NOT_FOUND_CODES = frozenset(
    c.lower()
    for c in (
        "ResourceNotFound",
        "ResourceGroupNotFound",
        "NotFound",
        "KeyNotFound",
        "VaultNotFound",
        "BMSUserErrorNotFound",
        "RoleAssignmentNotFound",
    )
)


@dataclass(frozen=True)
class AzureErrorInfo:
    status: int | None
    code: str
    message: str
    inner_code: str = ""
    retry_after: float | None = None


def retry_after_seconds(headers, *, now: float | None = None) -> float | None:
    """Azure's delay hint from response headers, in seconds (None when absent)."""
    if not headers:
        return None
    get = headers.get
    ms = get("x-ms-retry-after-ms") or get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    raw = get("Retry-After") or get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def error_info(exc: AzureError) -> AzureErrorInfo:
    status = getattr(exc, "status_code", None)
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    odata = getattr(exc, "error", None)
    code = (
        getattr(odata, "code", None)
        or getattr(exc, "error_code", None)
        or (headers.get("x-ms-error-code") if headers else None)
        or ""
    )
    message = getattr(odata, "message", None) or _first_line(exc)
    inner = ""
    innererror = getattr(odata, "innererror", None)
    if isinstance(innererror, dict):
        inner = str(innererror.get("code") or "")
    return AzureErrorInfo(status, str(code), str(message), inner, retry_after_seconds(headers))


def _first_line(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return str(text).strip().splitlines()[0] if str(text).strip() else type(exc).__name__


def classify(exc: BaseException) -> ProviderError:
    """The provider error an SDK exception stands for."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, (ServiceRequestError, ServiceResponseError)):
        return RetryableError(f"Azure could not be reached: {_first_line(exc)}", code="ConnectionError")
    if not isinstance(exc, AzureError):
        return PermanentError(f"{type(exc).__name__}: {exc}", code="UnexpectedError")
    info = error_info(exc)
    # Key Vault's 403s differ only by their inner code ("Forbidden/ForbiddenByPolicy").
    code = f"{info.code}/{info.inner_code}" if info.inner_code else info.code
    text = f"{info.code or 'Error'}: {info.message}"
    if info.inner_code:
        text += f" (inner error: {info.inner_code})"
    if (
        isinstance(exc, ResourceNotFoundError)
        or info.status == 404
        or (info.code.lower() in NOT_FOUND_CODES and info.status in (None, 400, 404))
    ):
        return NotFoundError(text, code=info.code or "NotFound", status=info.status or 404)
    if (
        info.status in RETRYABLE_STATUS
        or info.code.lower() in RETRYABLE_CODES
        or info.inner_code.lower() in RETRYABLE_CODES
    ):
        return RetryableError(text, code=info.code, status=info.status, retry_after=info.retry_after)
    if not isinstance(exc, HttpResponseError) and info.status is None:
        return RetryableError(text, code=info.code or "AzureError")
    advice = ADVICE.get(info.code.lower()) or ADVICE.get(info.inner_code.lower())
    if advice:
        text += "\n" + advice
    return PermanentError(text, code=code, status=info.status)


# What to do about a refusal, said after Azure's own words (error codes, lower case).
ADVICE = {
    "missingsubscriptionregistration": (
        "Register the namespace (az provider register --namespace <namespace>), or let vaultform "
        'register it: resource_provider_registrations = "legacy" (or "extended", "all") or '
        "resource_providers_to_register in the provider block."
    ),
    # Key Vault's firewall (network_acls default_action = "Deny") refusing the caller's address
    # (Microsoft Learn, "Troubleshoot Azure Key Vault firewall": 403 ForbiddenByFirewall)
    "forbiddenbyfirewall": (
        "The key vault's firewall refuses the address vaultform calls from: add it to the key "
        "vault's network_acls ip_rules (it is the client address above), or run vaultform from "
        "a network the key vault allows."
    ),
}
