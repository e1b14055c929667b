"""Key Vault's authentication challenge, answered before it is asked when the tenant is known.

The Key Vault SDK (azure-keyvault-keys' ``ChallengeAuthPolicy``) sends its first request to a vault
without a token and waits for the 401 whose ``WWW-Authenticate`` header names the tenant to sign in to
and the resource (``Bearer authorization="https://login.microsoftonline.com/{tenant}",
resource="https://vault.azure.net"``: the challenge recorded in azure-sdk-for-js keyvault-keys'
recordings, e.g. ``recording_can_update_key.js``); it caches that challenge per host for the process
(``_shared/http_challenge_cache.py``). A refresh of a large estate therefore paid one extra call per key
vault in every command.

The key vault's ARM body already says which tenant that is: ``properties.tenantId`` is "the Azure
Active Directory tenant ID that should be used for authenticating requests to the key vault"
(azure-rest-api-specs, keyvault resource-manager ``VaultProperties.tenantId``), and the refresh has it
from its resource group's listing. ``expect`` puts that challenge in the SDK's cache, so the first
request carries a token. It only does so when:

* the vault's host is ``{name}.{the cloud's Key Vault suffix}``, so the resource is the one Key Vault
  would name (the SDK still checks it against the host, as for a challenge it received);
* the tenant is the one the provider signs in to: a token for it is what the credential gives anyway
  (a token for another tenant may not be allowed to the credential at all, and is left to Key Vault's
  own challenge);
* nothing is cached for the host yet (a challenge Key Vault sent wins).

Should Key Vault still want another tenant, it answers the request with a 401 and its challenge, and
the SDK's policy signs in again and retries (``handle_challenge_flow``), as it does when a cached
challenge goes stale. The cache lives in a private module of the SDK: if that module is not where
this version of the SDK keeps it, nothing is seeded and the SDK asks Key Vault as before.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)


def _cache() -> tuple[Any, Any] | None:
    try:
        from azure.keyvault.keys._shared import http_challenge_cache
        from azure.keyvault.keys._shared.http_challenge import HttpChallenge
    except ImportError:
        return None
    needed = ("get_challenge_for_url", "set_challenge_for_url")
    if not all(callable(getattr(http_challenge_cache, n, None)) for n in needed):
        return None
    return http_challenge_cache, HttpChallenge


def expect(
    vault_uri: str, tenant_id: str, *, signed_in_tenant: str, vault_suffix: str, authority: str
) -> bool:
    """Cache Key Vault's challenge for ``vault_uri`` naming ``tenant_id``; True when it was cached now."""
    if not vault_uri or not tenant_id or tenant_id.lower() != (signed_in_tenant or "").lower():
        return False
    parts = urlsplit(vault_uri if "://" in vault_uri else f"https://{vault_uri}")
    host = (parts.hostname or "").lower()
    suffix = vault_suffix.lower().strip(".")
    if parts.scheme != "https" or not suffix or host.count(".") != suffix.count(".") + 1:
        return False
    if not host.endswith("." + suffix):
        return False
    found = _cache()
    if found is None:
        return False
    cache, challenge_type = found
    url = f"https://{host}/"
    try:
        if cache.get_challenge_for_url(url) is not None:
            return False
        login = authority if "://" in authority else f"https://{authority}"
        challenge = challenge_type(
            url, f'Bearer authorization="{login.rstrip("/")}/{tenant_id}", resource="https://{suffix}"'
        )
        cache.set_challenge_for_url(url, challenge)
    except (ValueError, TypeError, AttributeError) as exc:  # a changed SDK: let Key Vault challenge
        log.debug("not caching Key Vault's challenge for %s: %s", host, exc)
        return False
    return True
