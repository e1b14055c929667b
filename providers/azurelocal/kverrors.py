"""Key Vault's errors: an ``AzureError`` whose body carries Key Vault's ``innererror``.

Below both the key rules (``kvrules``) and the access checks (``access``), which raise them.
Error shape as Key Vault returns it: ``{"error": {"code", "message", "innererror": {"code"}}}``.
"""

from __future__ import annotations

from providers.azurelocal.http import AzureError, Response


class KeyVaultError(AzureError):
    """An AzureError whose body carries Key Vault's ``innererror``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        inner: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, code, message, headers)
        self.inner = inner

    def response(self) -> Response:
        response = super().response()
        if self.inner:
            response.body["error"]["innererror"] = {"code": self.inner}
        return response


def inner_code(error: AzureError) -> str | None:
    """The innererror code of any AzureError (ours, or one raised by the access rules)."""
    inner = getattr(error, "inner", None) or getattr(error, "inner_code", None)
    if inner:
        return inner if isinstance(inner, str) else inner.get("code")
    body = error.response().body
    if isinstance(body, dict):
        return ((body.get("error") or {}).get("innererror") or {}).get("code")
    return None


def key_not_found(name: str, version: str | None = None) -> KeyVaultError:
    what = f"{name}/{version}" if version else name
    return KeyVaultError(
        404,
        "KeyNotFound",
        f"A key with (name/id) {what} was not found in this key vault. If you recently deleted "
        f"this key you may be able to recover it using the correct recovery command.",
    )
