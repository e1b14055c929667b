"""Tokens for the local Azure: a TokenCredential that names the calling principal.

``LocalCredential()`` speaks for the seeded deployer; ``LocalCredential(object_id)`` speaks for
any registered principal (a managed identity, say). The token is ``vflocal.<object_id>``; the
emulator reads the object id back from it. Nothing here is secret: it is for the in-process transport,
where caller and emulator share a process. ``cloud serve`` refuses these tokens and accepts only the
signed ones of ``providers.azurelocal.tokens``.
"""

from __future__ import annotations

import time
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo

from providers.azurelocal.seed import DEPLOYER_OBJECT_ID

TOKEN_PREFIX = "vflocal."
TOKEN_LIFETIME_SECONDS = 3600


def object_id_from_token(token: str) -> str | None:
    """The principal a ``vflocal.`` token names, or None for any other token."""
    if token.startswith(TOKEN_PREFIX) and len(token) > len(TOKEN_PREFIX):
        return token[len(TOKEN_PREFIX) :]
    return None


class LocalCredential:
    """An azure-core TokenCredential (and SupportsTokenInfo) for the emulator."""

    def __init__(self, object_id: str | None = None) -> None:
        self.object_id = object_id or DEPLOYER_OBJECT_ID

    @property
    def token(self) -> str:
        return f"{TOKEN_PREFIX}{self.object_id}"

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        return AccessToken(self.token, int(time.time()) + TOKEN_LIFETIME_SECONDS)

    def get_token_info(self, *scopes: str, options: dict | None = None) -> AccessTokenInfo:
        return AccessTokenInfo(self.token, int(time.time()) + TOKEN_LIFETIME_SECONDS)

    def close(self) -> None:
        """Nothing to release; present so clients can close their credential."""

    def __enter__(self) -> LocalCredential:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
