"""Official Azure SDK clients, made lazily and cached: one code path for both clouds.

Local Azure (the default) and real Azure differ only in the credential and the
transport handed to the very same SDK clients:

* local: the local Azure (through its seam, ``providers.azurelocal.seam``) on the SQLite file named by
  ``VAULTFORM_LOCAL_AZURE`` (default ``~/.vaultform/local-azure.db``), a
  ``LocalCredential`` and the emulator's in-process ``requests`` session (no socket);
* real Azure: an azure-identity credential and the SDK's own HTTP transport.

Real Azure is chosen explicitly, by ``VAULTFORM_CLOUD=azure`` in the environment
or ``cloud = "azure"`` in the ``provider "azurerm"`` block (the block
wins). The subscription comes from the block's ``subscription_id`` or
``ARM_SUBSCRIPTION_ID`` / ``AZURE_SUBSCRIPTION_ID``; the tenant from the block's
``tenant_id`` or ``ARM_TENANT_ID`` / ``AZURE_TENANT_ID``; ``environment`` (public,
usgovernment, china) picks the cloud's endpoints; the sign-in follows the block the
way azurerm does (client secret, certificate, OIDC, managed identity, Azure CLI),
falling back to ``DefaultAzureCredential``.

Every pause the SDK makes (retries after 429/5xx, polling long-running operations)
goes through the provider's clock and is reported; requests are paced by Azure's remaining-requests
headers so they slow down before a 429 (``pacing``).
"""

from __future__ import annotations

import base64
import contextlib
import enum
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azure.core.exceptions import AzureError
from azure.core.pipeline.policies import RetryPolicy
from azure.core.pipeline.transport import RequestsTransport

from providers.azurerm.pacing import BUDGETS, Budgets, PacingPolicy, local_budgets
from providers.base import Clock, PermanentError, ProviderError

log = logging.getLogger(__name__)
http_log = logging.getLogger("providers.azurerm.http")
TRACE = 5  # the level reconciler.log calls TRACE
ARM_SCOPE = "https://management.azure.com/.default"
LOCAL_TOKEN_PREFIX = "vflocal."
# The Key Vault data-plane api-version of azure-keyvault-keys' KeyClient (its default, 4.11), which
# the certificates client is pinned to as well (its own default is newer).
KEY_VAULT_API_VERSION = "2025-07-01"


class CloudKind(enum.Enum):
    LOCAL = "local"
    AZURE = "azure"


@dataclass(frozen=True)
class AzureCloud:
    """Endpoints of one Azure cloud (the provider block's ``environment``, or what ``metadata_host``
    publishes). ``authority`` is the login host; ``custom`` clouds skip Entra's instance discovery."""

    arm: str
    authority: str
    vault_suffix: str
    arm_audience: str = ""
    custom: bool = False

    @property
    def arm_scope(self) -> str:
        return (self.arm_audience or self.arm).rstrip("/") + "/.default"


# Endpoints per environment: hashicorp/go-azure-sdk sdk/environments (azure_public.go, azure_gov.go,
# azure_china.go): login host, Resource Manager and the Key Vault DNS suffix.
CLOUDS = {
    "public": AzureCloud("https://management.azure.com", "login.microsoftonline.com", "vault.azure.net"),
    "usgovernment": AzureCloud(
        "https://management.usgovcloudapi.net", "login.microsoftonline.us", "vault.usgovcloudapi.net"
    ),
    "china": AzureCloud("https://management.chinacloudapi.cn", "login.chinacloudapi.cn", "vault.azure.cn"),
}


def cloud_from_metadata_host(host: str, environment: str | None = None) -> AzureCloud:
    """The cloud a metadata host describes (azurerm's ``metadata_host`` / ``ARM_METADATA_HOSTNAME``):
    ``GET https://{host}/metadata/endpoints`` lists environments; the one named ``environment``, or the
    only one (hashicorp/go-azure-sdk sdk/environments/metadata.go). TLS trusts ``REQUESTS_CA_BUNDLE``."""
    import requests

    url = f"https://{host}/metadata/endpoints?api-version=2022-09-01"
    try:
        answer = requests.get(url, timeout=30)
        answer.raise_for_status()
        listed = answer.json()
    except (requests.RequestException, ValueError) as exc:
        raise PermanentError(
            f"the metadata host {host} (metadata_host / ARM_METADATA_HOSTNAME) could not be read: {exc}",
            code="InvalidProviderConfig",
        ) from None
    chosen = [
        e
        for e in listed
        if (environment and str(e.get("name", "")).lower() == environment.lower())
        or (not environment and len(listed) == 1)
    ]
    if not chosen:
        raise PermanentError(
            f"the metadata host {host} lists no environment named {environment!r}",
            code="InvalidProviderConfig",
        )
    found = chosen[0]
    auth = found.get("authentication") or {}
    arm = (found.get("resourceManager") or f"https://{host}/").rstrip("/")
    return AzureCloud(
        arm,
        str(auth.get("loginEndpoint") or "").rstrip("/"),
        str((found.get("suffixes") or {}).get("keyVaultDns") or "vault.azure.net"),
        arm_audience=str((auth.get("audiences") or [arm])[0]),
        custom=True,
    )


class SignIn(enum.Enum):
    """How the provider signs in, in azurerm's order of preference (hashicorp/go-azure-sdk sdk/auth/auth.go:
    client certificate, client secret, OIDC token, OIDC token requested from a pipeline, managed identity,
    Azure CLI)."""

    CLIENT_CERTIFICATE = "client certificate"
    CLIENT_SECRET = "client secret"
    OIDC_TOKEN = "OIDC token"
    OIDC_TOKEN_FILE = "OIDC token file"
    ADO_PIPELINE_OIDC = "Azure DevOps service connection (OIDC)"
    GITHUB_OIDC = "GitHub Actions (OIDC)"
    MANAGED_IDENTITY = "managed identity"
    AZURE_CLI = "Azure CLI"
    DEFAULT_CHAIN = "DefaultAzureCredential"


@dataclass(frozen=True)
class CloudTarget:
    kind: CloudKind
    subscription_id: str = ""
    tenant_id: str = ""
    local_path: Path | None = None
    client_id: str = ""
    environment: str = "public"
    # how to sign in to real Azure (secrets never shown)
    auth: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    metadata_cloud: AzureCloud | None = None

    @property
    def cloud(self) -> AzureCloud:
        return self.metadata_cloud or CLOUDS[self.environment]


@dataclass(frozen=True)
class CallerIdentity:
    """Who the provider acts as (``azurerm_client_config``)."""

    tenant_id: str
    object_id: str
    subscription_id: str
    client_id: str


def _first(*values: Any) -> str:
    for v in values:
        if isinstance(v, str) and v:
            return v
    return ""


def default_local_path(environ: Mapping[str, str]) -> Path:
    env = environ.get("VAULTFORM_LOCAL_AZURE")
    return Path(env).expanduser() if env else Path.home() / ".vaultform" / "local-azure.db"


def target_from(config: Mapping[str, Any], environ: Mapping[str, str]) -> CloudTarget:
    """Decide which cloud to talk to from the provider block and the environment."""
    chosen = _first(config.get("cloud"), environ.get("VAULTFORM_CLOUD"), "local").lower()
    try:
        kind = CloudKind(chosen)
    except ValueError:
        raise PermanentError(
            f'unknown cloud {chosen!r}: use "local" (the embedded local Azure, '
            f'the default) or "azure" (a real subscription)',
            code="InvalidProviderConfig",
        ) from None
    subscription = _first(
        config.get("subscription_id"),
        environ.get("ARM_SUBSCRIPTION_ID"),
        environ.get("AZURE_SUBSCRIPTION_ID"),
    )
    tenant = _first(config.get("tenant_id"), environ.get("ARM_TENANT_ID"), environ.get("AZURE_TENANT_ID"))
    client = _first(config.get("client_id"), environ.get("ARM_CLIENT_ID"), environ.get("AZURE_CLIENT_ID"))
    if kind is CloudKind.LOCAL:
        return CloudTarget(kind, subscription, tenant, default_local_path(environ), client)
    environment = _first(config.get("environment"), environ.get("ARM_ENVIRONMENT"), "public").lower()
    if environment not in CLOUDS:
        raise PermanentError(
            f"unknown Azure environment {environment!r}: use one of {', '.join(CLOUDS)}",
            code="InvalidProviderConfig",
        )
    if not subscription:
        raise PermanentError(
            "no subscription for real Azure: set subscription_id in the provider "
            '"azurerm" block or ARM_SUBSCRIPTION_ID in the environment',
            code="InvalidProviderConfig",
        )
    metadata_host = _first(config.get("metadata_host"), environ.get("ARM_METADATA_HOSTNAME"))
    metadata_cloud = None
    if metadata_host:
        named = _first(config.get("environment"), environ.get("ARM_ENVIRONMENT")) or None
        metadata_cloud = cloud_from_metadata_host(metadata_host, named)
    return CloudTarget(
        kind,
        subscription,
        tenant,
        None,
        client,
        environment,
        sign_in_settings(config, environ),
        metadata_cloud,
    )


def _flag(config: Mapping[str, Any], name: str, environ: Mapping[str, str], *variables: str) -> bool | None:
    """A boolean argument: the block's value, else the first variable set ("true"/"false"), else None."""
    value = config.get(name)
    if isinstance(value, bool):
        return value
    for variable in variables:
        raw = environ.get(variable, "").strip().lower()
        if raw in ("true", "1"):
            return True
        if raw in ("false", "0"):
            return False
    return None


def sign_in_settings(config: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """azurerm's sign-in arguments, each from the provider block or else its variables, in azurerm's order
    of variables (terraform-provider-azurerm internal/provider/framework/config.go)."""

    def arg(name: str, *variables: str) -> str:
        return _first(config.get(name), *(environ.get(v) for v in variables))

    secret = arg("client_secret", "ARM_CLIENT_SECRET")
    secret_file = arg("client_secret_file_path", "ARM_CLIENT_SECRET_FILE_PATH")
    if not secret and secret_file:
        try:
            secret = Path(secret_file).expanduser().read_text().strip()
        except OSError as exc:
            raise PermanentError(
                f"the client secret file {secret_file} can't be read: {exc.strerror or exc}",
                code="InvalidProviderConfig",
            ) from None
    return {
        "client_secret": secret,
        "client_certificate": arg("client_certificate", "ARM_CLIENT_CERTIFICATE"),
        "client_certificate_path": arg("client_certificate_path", "ARM_CLIENT_CERTIFICATE_PATH"),
        "client_certificate_password": arg("client_certificate_password", "ARM_CLIENT_CERTIFICATE_PASSWORD"),
        "use_oidc": bool(
            _flag(config, "use_oidc", environ, "ARM_USE_OIDC")
            or _flag(config, "use_aks_workload_identity", environ, "ARM_USE_AKS_WORKLOAD_IDENTITY")
        ),
        "oidc_token": arg("oidc_token", "ARM_OIDC_TOKEN"),
        "oidc_token_file_path": arg(
            "oidc_token_file_path", "ARM_OIDC_TOKEN_FILE_PATH", "AZURE_FEDERATED_TOKEN_FILE"
        ),
        "oidc_request_url": arg(
            "oidc_request_url",
            "ARM_OIDC_REQUEST_URL",
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "SYSTEM_OIDCREQUESTURI",
        ),
        "oidc_request_token": arg(
            "oidc_request_token",
            "ARM_OIDC_REQUEST_TOKEN",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "SYSTEM_ACCESSTOKEN",
        ),
        "ado_pipeline_service_connection_id": arg(
            "ado_pipeline_service_connection_id",
            "ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID",
            "ARM_OIDC_AZURE_SERVICE_CONNECTION_ID",
        ),
        "use_msi": bool(_flag(config, "use_msi", environ, "ARM_USE_MSI")),
        "msi_endpoint": arg("msi_endpoint", "ARM_MSI_ENDPOINT"),
        "use_cli": _flag(config, "use_cli", environ, "ARM_USE_CLI"),
    }


def sign_in_method(target: CloudTarget) -> SignIn:
    """Which way of signing in the settings select, azurerm's first that is fully configured."""
    a, ready = target.auth, bool(target.client_id and target.tenant_id)
    oidc = ready and a.get("use_oidc")
    pipeline_request = oidc and a.get("oidc_request_url") and a.get("oidc_request_token")
    chosen = [
        (
            ready and (a.get("client_certificate") or a.get("client_certificate_path")),
            SignIn.CLIENT_CERTIFICATE,
        ),
        (ready and a.get("client_secret"), SignIn.CLIENT_SECRET),
        (oidc and a.get("oidc_token"), SignIn.OIDC_TOKEN),
        (oidc and a.get("oidc_token_file_path"), SignIn.OIDC_TOKEN_FILE),
        # An Azure DevOps request names a service connection; without one the request URL is GitHub's.
        (pipeline_request and a.get("ado_pipeline_service_connection_id"), SignIn.ADO_PIPELINE_OIDC),
        (pipeline_request, SignIn.GITHUB_OIDC),
        (a.get("use_msi"), SignIn.MANAGED_IDENTITY),
        (a.get("use_cli") is True, SignIn.AZURE_CLI),
    ]
    return next((method for ok, method in chosen if ok), SignIn.DEFAULT_CHAIN)


def _request_json(method: str, url: str, token: str, what: str) -> dict:
    import requests

    try:
        answer = requests.request(
            method,
            url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=30,
        )
        answer.raise_for_status()
        return answer.json()
    except (requests.RequestException, ValueError) as exc:
        raise PermanentError(
            f"requesting the {what} OIDC token failed: {exc}", code="AuthenticationFailed"
        ) from None


def github_assertion(url: str, token: str) -> Callable[[], str]:
    """GitHub Actions' ID token: GET the request URL with ``audience=api://AzureADTokenExchange`` and the
    request token as bearer; the answer's ``value`` (hashicorp/go-azure-sdk sdk/auth/github_oidc_authorizer.go)."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.setdefault("audience", "api://AzureADTokenExchange")
    full = urlunsplit(parts._replace(query=urlencode(query)))
    return lambda: str(_request_json("GET", full, token, "GitHub Actions")["value"])


def ado_assertion(url: str, token: str, service_connection_id: str) -> Callable[[], str]:
    """An Azure DevOps service connection's ID token: POST the request URL with ``api-version=7.1`` and
    ``serviceConnectionId``, the system access token as bearer; the answer's ``oidcToken``
    (hashicorp/go-azure-sdk sdk/auth/ado_pipeline_oidc_authorizer.go)."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.setdefault("api-version", "7.1")
    query.setdefault("serviceConnectionId", service_connection_id)
    full = urlunsplit(parts._replace(query=urlencode(query)))
    return lambda: str(_request_json("POST", full, token, "Azure DevOps")["oidcToken"])


def token_file_assertion(path: str) -> Callable[[], str]:
    """A federated token read from a file at each use (it is rotated, as AKS does)."""

    def read() -> str:
        try:
            return Path(path).expanduser().read_text().strip()
        except OSError as exc:
            raise PermanentError(
                f"the OIDC token file {path} can't be read: {exc.strerror or exc}",
                code="AuthenticationFailed",
            ) from None

    return read


class MsiEndpointCredential:
    """Managed identity from a custom endpoint (azurerm's ``msi_endpoint`` / ``ARM_MSI_ENDPOINT``), asked
    as go-azure-sdk asks it (sdk/auth/msi.go): ``GET {endpoint}?api-version=2018-02-01&resource=R
    [&client_id=C]`` with ``Metadata: true``. ``IDENTITY_HEADER``, when set, is sent as ``X-IDENTITY-HEADER``
    (the local Azure's endpoint asks for it; Azure's instance metadata service ignores it)."""

    def __init__(self, endpoint: str, client_id: str | None = None) -> None:
        self.endpoint, self.client_id = endpoint, client_id
        self._cache: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _fetch(self, resource: str):
        import time

        import requests
        from azure.core.credentials import AccessTokenInfo
        from azure.core.exceptions import ClientAuthenticationError

        params = {"api-version": "2018-02-01", "resource": resource}
        if self.client_id:
            params["client_id"] = self.client_id
        headers = {"Metadata": "true"}
        if os.environ.get("IDENTITY_HEADER"):
            headers["X-IDENTITY-HEADER"] = os.environ["IDENTITY_HEADER"]
        try:
            answer = requests.get(self.endpoint, params=params, headers=headers, timeout=30)
            answer.raise_for_status()
            body = answer.json()
        except (requests.RequestException, ValueError) as exc:
            raise ClientAuthenticationError(
                f"the managed identity endpoint {self.endpoint} refused: {exc}"
            ) from None
        expires_on = int(body.get("expires_on") or 0) or int(time.time()) + int(body.get("expires_in") or 300)
        return AccessTokenInfo(body["access_token"], expires_on)

    def get_token_info(self, *scopes: str, options: Mapping[str, Any] | None = None):
        import time

        resource = scopes[0].removesuffix("/.default") if scopes else ""
        with self._lock:
            held = self._cache.get(resource)
            if held is None or held.expires_on - 300 < time.time():
                held = self._cache[resource] = self._fetch(resource)
            return held

    def get_token(self, *scopes: str, **kwargs: Any):
        from azure.core.credentials import AccessToken

        info = self.get_token_info(*scopes)
        return AccessToken(info.token, info.expires_on)

    def close(self) -> None:
        """Nothing to release."""


def _certificate_bytes(a: Mapping[str, Any]) -> bytes:
    if a.get("client_certificate"):
        return base64.b64decode(a["client_certificate"])
    try:
        return Path(a["client_certificate_path"]).expanduser().read_bytes()
    except OSError as exc:
        raise PermanentError(
            f"the client certificate {a['client_certificate_path']} can't be read: {exc.strerror or exc}",
            code="InvalidProviderConfig",
        ) from None


def credential_for(target: CloudTarget) -> Any:
    """The azure-identity credential azurerm's settings select (``sign_in_method``), signing in at the
    cloud's login host; a custom cloud (a metadata host) skips instance discovery."""
    import azure.identity as identity

    a, tenant, client = target.auth, target.tenant_id, target.client_id
    common: dict[str, Any] = {"authority": target.cloud.authority}
    if target.cloud.custom:
        common["disable_instance_discovery"] = True
    method = sign_in_method(target)
    if method is SignIn.CLIENT_CERTIFICATE:
        return identity.CertificateCredential(
            tenant,
            client,
            certificate_data=_certificate_bytes(a),
            password=a.get("client_certificate_password") or None,
            **common,
        )
    if method is SignIn.CLIENT_SECRET:
        return identity.ClientSecretCredential(tenant, client, a["client_secret"], **common)
    held: str = a.get("oidc_token") or ""
    assertions: dict[SignIn, Callable[[], Callable[[], str]]] = {
        SignIn.OIDC_TOKEN: lambda: lambda: held,
        SignIn.OIDC_TOKEN_FILE: lambda: token_file_assertion(a["oidc_token_file_path"]),
        SignIn.ADO_PIPELINE_OIDC: lambda: ado_assertion(
            a["oidc_request_url"], a["oidc_request_token"], a["ado_pipeline_service_connection_id"]
        ),
        SignIn.GITHUB_OIDC: lambda: github_assertion(a["oidc_request_url"], a["oidc_request_token"]),
    }
    if method in assertions:
        return identity.ClientAssertionCredential(tenant, client, assertions[method](), **common)
    if method is SignIn.MANAGED_IDENTITY and a.get("msi_endpoint"):
        return MsiEndpointCredential(a["msi_endpoint"], client or None)
    if method is SignIn.MANAGED_IDENTITY:
        return identity.ManagedIdentityCredential(client_id=client or None)
    if method is SignIn.AZURE_CLI:
        return identity.AzureCliCredential(tenant_id=tenant or "")
    kwargs: dict[str, Any] = {"additionally_allowed_tenants": ["*"], **common}
    if client:
        kwargs["managed_identity_client_id"] = client
    if a.get("use_cli") is False:
        kwargs["exclude_cli_credential"] = True
    return identity.DefaultAzureCredential(**kwargs)


def storage_sign_in(config: Mapping[str, Any], environ: Mapping[str, str]) -> tuple[Any, str, str]:
    """The sign-in of a state backend in Azure (the azurerm backend's use_azuread_auth, or its access key
    looked up through a resource group): the credential azurerm's arguments select, at the cloud
    ``environment`` / ``metadata_host`` name, with Resource Manager's endpoint and token scope. The
    backend needs no subscription to sign in, so none is required here."""
    environment = _first(config.get("environment"), environ.get("ARM_ENVIRONMENT"), "public").lower()
    if environment not in CLOUDS:
        raise PermanentError(
            f"unknown Azure environment {environment!r}: use one of {', '.join(CLOUDS)}",
            code="InvalidProviderConfig",
        )
    metadata_host = _first(config.get("metadata_host"), environ.get("ARM_METADATA_HOSTNAME"))
    # as target_from: the environment named where one is set, else the only one the host lists
    # (the "public" default is not a name a metadata host lists)
    named = _first(config.get("environment"), environ.get("ARM_ENVIRONMENT")) or None
    metadata_cloud = cloud_from_metadata_host(metadata_host, named) if metadata_host else None
    target = CloudTarget(
        CloudKind.AZURE,
        _first(config.get("subscription_id"), environ.get("ARM_SUBSCRIPTION_ID")),
        _first(config.get("tenant_id"), environ.get("ARM_TENANT_ID"), environ.get("AZURE_TENANT_ID")),
        None,
        _first(config.get("client_id"), environ.get("ARM_CLIENT_ID"), environ.get("AZURE_CLIENT_ID")),
        environment,
        sign_in_settings(config, environ),
        metadata_cloud,
    )
    return credential_for(target), target.cloud.arm, target.cloud.arm_scope


def _jwt_claims(token: str) -> dict[str, Any]:
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        return json.loads(base64.urlsafe_b64decode(payload))
    except (IndexError, ValueError):
        return {}


def local_azure_unavailable(path: Path | None, reason: str, resettable: bool = True) -> PermanentError:
    """The local Azure's database can't be used: say which file and how to get going again. A path
    that holds something else (a directory, a state file named by mistake) is never offered to
    ``cloud reset``, which would delete it."""
    shown = str(path) if path is not None else "the local Azure's database"
    if not resettable:
        return PermanentError(
            f"the local Azure's database {shown} can't be used ({reason}). Point VAULTFORM_LOCAL_AZURE "
            "(or -db) at a file of its own: a new name starts a new local Azure. Nothing was changed "
            f"at {shown}.",
            code="LocalAzureUnavailable",
        )
    return PermanentError(
        f"the local Azure's database {shown} can't be used ({reason}). Run `vaultform cloud reset` to "
        f"start a new local Azure there, or point VAULTFORM_LOCAL_AZURE at another file.",
        code="LocalAzureUnavailable",
    )


def open_local_azure(path: Path | None) -> Any:
    """The embedded local Azure on ``path``; a file that is no SQLite database, a
    directory, or a place that can't be written is a ``PermanentError``
    (``LocalAzureUnavailable``) naming the path, never a raw sqlite error."""
    from providers.azurelocal.seam import LocalAzureUnavailable, open_emulator  # lazy: start-up

    try:
        return open_emulator(path)
    except LocalAzureUnavailable as exc:
        raise local_azure_unavailable(path, exc.reason, exc.resettable) from exc


class ReportingRetryPolicy(RetryPolicy):
    """The SDK's retry policy (429/5xx, ``Retry-After``), bounded, whose pauses go
    through the provider's clock and are reported: nothing sleeps silently."""

    def __init__(self, clock: Clock, report: Callable[[str], None], **kwargs: Any) -> None:
        # a request is tried at most 5 times here (azure-core caps retries on a status code at 3 by
        # its own retry_status default); a refusal that outlasts them is the engine's to wait out,
        # within the budgets of reconciler.apply.retry_policy
        kwargs.setdefault("retry_total", 4)
        kwargs.setdefault("retry_backoff_factor", 0.8)
        kwargs.setdefault("retry_backoff_max", 30)
        super().__init__(**kwargs)
        self._clock = clock
        self._report = report

    def sleep(self, settings, transport, response=None) -> None:
        delay = self.get_retry_after(response) if response is not None else None
        source = "Retry-After"
        if delay is None:  # no hint from Azure: bounded exponential backoff
            delay, source = self.get_backoff_time(settings), "backoff"
            delay = min(float(delay), float(settings.get("max_backoff") or self.backoff_max or delay))
        status = getattr(getattr(response, "http_response", None), "status_code", None)
        log.info(
            "retrying an Azure request after %s: waiting %.3gs (%s)",
            f"HTTP {status}" if status else "a connection error",
            delay,
            source,
        )
        if delay > 0:
            self._report(
                f"waiting {delay:g}s before retrying an Azure request"
                f"{f' answered {status}' if status else ''} ({source})"
            )
            self._clock.sleep(delay)


# --------------------------------------------------------------------------- HTTP at TRACE, redacted

REDACTED = "<redacted>"
# Headers that carry credentials (bearer tokens, auxiliary tenant tokens, the managed identity secret).
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "x-ms-authorization-auxiliary",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-identity-header",
    }
)
# JSON members that carry key material or secrets: JWK private and public parts (Key Vault key bodies),
# the value of wrapkey/unwrapkey/encrypt/decrypt and secrets (a string "value"), and tokens.
SECRET_JSON_KEYS = frozenset(
    {
        "n", "e", "d", "dp", "dq", "p", "q", "qi", "k", "t", "x", "y", "key_hsm",
        "access_token", "refresh_token", "id_token", "client_secret", "client_assertion",
        "password", "secret", "oidctoken", "primarykey", "secondarykey", "accesstoken",
    }
)  # fmt: skip
SECRET_FORM_FIELDS = frozenset(
    {"client_secret", "client_assertion", "assertion", "password", "refresh_token", "code"}
)
SECRET_QUERY_FIELDS = frozenset({"sig", "code", "client_secret", "token"})


def redact_json(value: Any, depth: int = 0) -> Any:
    if depth > 64:
        return REDACTED
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            secret = k.lower() in SECRET_JSON_KEYS or (k == "value" and isinstance(v, str))
            out[k] = REDACTED if secret else redact_json(v, depth + 1)
        return out
    if isinstance(value, list):
        return [redact_json(v, depth + 1) for v in value]
    return value


def redact_body(body: Any, content_type: str = "") -> str:
    """A request or response body fit for a log: JSON and forms with their secrets blanked, anything else
    by its length only."""
    if body is None or body == b"" or body == "":
        return ""
    if isinstance(body, (dict, list)):
        return json.dumps(redact_json(body))
    raw = body if isinstance(body, bytes) else str(body).encode("utf-8", "replace")
    try:
        return json.dumps(redact_json(json.loads(raw)))
    except (ValueError, RecursionError):
        pass
    if "x-www-form-urlencoded" in content_type or b"=" in raw[:200]:
        from urllib.parse import parse_qsl, urlencode

        try:
            fields = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (ValueError, UnicodeDecodeError):
            fields = []
        if fields:
            return urlencode([(k, REDACTED if k.lower() in SECRET_FORM_FIELDS else v) for k, v in fields])
    return f"<{len(raw)} bytes>"


def redact_url(url: str) -> str:
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [
        (k, REDACTED if k.lower() in SECRET_QUERY_FIELDS else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: (REDACTED if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}


def trace_request(request: Any) -> None:
    if not http_log.isEnabledFor(TRACE):
        return
    headers = dict(getattr(request, "headers", {}) or {})
    body = getattr(request, "content", None)
    if body is None:
        body = getattr(request, "body", None)
    http_log.log(
        TRACE,
        "HTTP request: %s %s headers=%s body=%s",
        request.method,
        redact_url(request.url),
        json.dumps(redact_headers(headers)),
        redact_body(body, headers.get("Content-Type", "") or headers.get("content-type", "")),
    )


def trace_response(request: Any, response: Any, *, streamed: bool) -> None:
    if not http_log.isEnabledFor(TRACE):
        return
    headers = dict(getattr(response, "headers", {}) or {})
    body = "<streamed>" if streamed else redact_body(response.body(), headers.get("Content-Type", ""))
    http_log.log(
        TRACE,
        "HTTP response: %s %s -> %s headers=%s body=%s",
        request.method,
        redact_url(request.url),
        response.status_code,
        json.dumps(redact_headers(headers)),
        body,
    )


class ClockedTransport(RequestsTransport):
    """The SDK's requests transport whose ``sleep`` (used by long-running-operation
    pollers) goes through the provider's clock and is reported. It is the last hop of every
    client's pipeline, so at TRACE it logs each request and response as sent and received
    (after authentication, after every retry), redacted."""

    def __init__(self, clock: Clock, report: Callable[[str], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._clock = clock
        self._report = report

    def send(self, request, **kwargs):
        trace_request(request)
        response = super().send(request, **kwargs)
        trace_response(request, response, streamed=bool(kwargs.get("stream")))
        return response

    def sleep(self, duration: float) -> None:
        if duration > 0:
            self._report(f"waiting {duration:g}s before polling a long-running Azure operation")
            self._clock.sleep(duration)


def _without_silent_registration(client: Any) -> None:
    """The management SDKs register a resource provider on their own when Azure answers
    MissingSubscriptionRegistration, sleeping 10 s at a time without a word until it is done
    (azure-mgmt-core's ARMAutoResourceProviderRegistrationPolicy). vaultform registers what the
    provider block's ``resource_provider_registrations`` says, visibly (``registrations.py``), and
    explains the rest; so that policy is told never to register."""
    from azure.mgmt.core.policies import ARMAutoResourceProviderRegistrationPolicy

    pipeline = getattr(getattr(client, "_client", None), "_pipeline", None)
    for policy in getattr(pipeline, "_impl_policies", None) or ():
        if isinstance(policy, ARMAutoResourceProviderRegistrationPolicy):
            # the SDK has no switch to stop registering resource providers; its hook is replaced
            policy._register_rp = lambda *_args, **_kwargs: False  # type: ignore[method-assign]


@dataclass
class ClientFactory:
    """Creates each SDK client on first use and keeps it.

    ``emulator``/``credential``/``transport_factory`` may be injected (tests wrap
    the transport to record requests); otherwise they follow ``target``.
    """

    target: CloudTarget
    emulator: Any = None
    credential: Any = None
    transport_factory: Callable[[], Any] | None = None
    clock: Clock = field(default_factory=Clock)
    report: Callable[[str], None] = lambda _message: None
    budgets: Budgets = field(default_factory=lambda: BUDGETS)  # Azure's request budgets, one per process
    _clients: dict[tuple, Any] = field(default_factory=dict, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _owns_emulator: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        if self.target.kind is CloudKind.LOCAL:
            if self.emulator is None:
                self.emulator = open_local_azure(self.target.local_path)
                self._owns_emulator = True
            if self.budgets is BUDGETS:
                self.budgets = local_budgets(str(getattr(getattr(self.emulator, "store", None), "path", "")))
            if self.credential is None:
                from providers.azurelocal.seam import LocalCredential  # lazy: start-up

                self.credential = LocalCredential()
            if self.transport_factory is None:
                from providers.azurelocal.seam import local_session  # lazy: start-up

                env = self.emulator
                self.transport_factory = lambda: ClockedTransport(
                    self.clock, self.report, session=local_session(env), session_owner=False
                )
        else:
            if self.credential is None:
                self.credential = credential_for(self.target)
            if self.transport_factory is None:
                self.transport_factory = lambda: ClockedTransport(self.clock, self.report)

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], environ: Mapping[str, str] | None = None, **inject: Any
    ) -> ClientFactory:
        return cls(target_from(config, os.environ if environ is None else environ), **inject)

    # ------------------------------------------------------------------ facts

    @property
    def is_local(self) -> bool:
        return self.target.kind is CloudKind.LOCAL

    @property
    def subscription_id(self) -> str:
        if self.target.subscription_id:
            return self.target.subscription_id
        return self.emulator.subscription_id if self.is_local else ""

    @property
    def tenant_id(self) -> str:
        if self.target.tenant_id:
            return self.target.tenant_id
        return self.emulator.tenant_id if self.is_local else self.caller().tenant_id

    def describe(self) -> str:
        if self.is_local:
            path = self.target.local_path or Path(getattr(getattr(self.emulator, "store", None), "path", ""))
            home = str(Path.home())
            shown = str(path)
            if shown.startswith(home + os.sep):
                shown = "~" + shown[len(home) :]
            return f"local Azure ({shown})"
        return f"Azure subscription {self.subscription_id}"

    def caller(self) -> CallerIdentity:
        """Tenant, object id and client id of the credential, from its token."""
        scope = ARM_SCOPE if self.is_local else self.target.cloud.arm_scope
        token = self.credential.get_token(scope).token
        if token.startswith(LOCAL_TOKEN_PREFIX):
            object_id = token[len(LOCAL_TOKEN_PREFIX) :] or self.emulator.deployer_object_id
            return CallerIdentity(
                self.target.tenant_id or self.emulator.tenant_id,
                object_id,
                self.subscription_id,
                self.target.client_id or object_id,
            )
        claims = _jwt_claims(token)
        return CallerIdentity(
            _first(self.target.tenant_id, claims.get("tid")),
            _first(claims.get("oid")),
            self.subscription_id,
            _first(self.target.client_id, claims.get("appid"), claims.get("azp")),
        )

    # ------------------------------------------------------------------ clients

    def _kwargs(self, *, arm: bool = True) -> dict[str, Any]:
        assert self.transport_factory is not None  # __post_init__ always sets one
        kwargs: dict[str, Any] = {
            "retry_policy": ReportingRetryPolicy(self.clock, self.report),
            # after the retry policy, so every attempt waits for its budget (providers/azurerm/pacing.py)
            "per_retry_policies": [PacingPolicy(self.clock, self.report, self.budgets)],
            "transport": self.transport_factory(),
        }
        if self.is_local:
            kwargs["polling_interval"] = 0
        elif arm and (self.target.environment != "public" or self.target.cloud.custom):
            kwargs["base_url"] = self.target.cloud.arm
            kwargs["credential_scopes"] = [self.target.cloud.arm_scope]
        return kwargs

    def _cached(self, key: tuple, make: Callable[[], Any]) -> Any:
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = make()
                _without_silent_registration(client)
                self._clients[key] = client
            return client

    def resources(self):
        from azure.mgmt.resource.resources import ResourceManagementClient

        return self._cached(
            ("resources",),
            lambda: ResourceManagementClient(self.credential, self.subscription_id, **self._kwargs()),
        )

    def msi(self):
        from azure.mgmt.msi import ManagedServiceIdentityClient

        return self._cached(
            ("msi",),
            lambda: ManagedServiceIdentityClient(self.credential, self.subscription_id, **self._kwargs()),
        )

    def keyvault_mgmt(self):
        from azure.mgmt.keyvault import KeyVaultManagementClient

        return self._cached(
            ("keyvault",),
            lambda: KeyVaultManagementClient(self.credential, self.subscription_id, **self._kwargs()),
        )

    def authorization(self):
        from azure.mgmt.authorization import AuthorizationManagementClient

        return self._cached(
            ("authorization",),
            lambda: AuthorizationManagementClient(self.credential, self.subscription_id, **self._kwargs()),
        )

    def recovery_services(self):
        from azure.mgmt.recoveryservices import RecoveryServicesClient

        return self._cached(
            ("recoveryservices",),
            lambda: RecoveryServicesClient(self.credential, self.subscription_id, **self._kwargs()),
        )

    def backup(self):
        from azure.mgmt.recoveryservicesbackup import RecoveryServicesBackupClient

        return self._cached(
            ("backup",),
            lambda: RecoveryServicesBackupClient(self.credential, self.subscription_id, **self._kwargs()),
        )

    def keys(self, vault_uri: str):
        from azure.keyvault.keys import KeyClient

        uri = vault_uri.rstrip("/") + "/"
        return self._cached(
            ("keys", uri.lower()), lambda: KeyClient(uri, self.credential, **self._kwargs(arm=False))
        )

    def expect_key_vault_challenges(self, vaults: Iterable[tuple[str, str]]) -> int:
        """Key Vault's challenge cached before the first request to each (vault URI, tenant id) whose
        key vault authenticates in the tenant this provider signs in to (``providers.azurerm.
        kv_challenge``); returns how many were cached."""
        from providers.azurerm.kv_challenge import expect

        wanted = [(uri, tenant) for uri, tenant in vaults if uri and tenant]
        if not wanted:
            return 0
        try:
            signed_in = self.tenant_id
        except (AzureError, ProviderError):  # no tenant known: Key Vault's own challenge says it
            return 0
        cloud = self.target.cloud
        return sum(
            expect(
                uri,
                tenant,
                signed_in_tenant=signed_in,
                vault_suffix=cloud.vault_suffix,
                authority=cloud.authority,
            )
            for uri, tenant in wanted
        )

    def certificates(self, vault_uri: str):
        """The vault's certificates client, for its certificate contacts. It speaks the api-version the
        keys client speaks (azure-keyvault-keys' default), so every data-plane call of a run uses one."""
        from azure.keyvault.certificates import CertificateClient

        uri = vault_uri.rstrip("/") + "/"
        return self._cached(
            ("certificates", uri.lower()),
            lambda: CertificateClient(
                uri, self.credential, api_version=KEY_VAULT_API_VERSION, **self._kwargs(arm=False)
            ),
        )

    def crypto(self, key_id: str):
        from azure.keyvault.keys.crypto import CryptographyClient

        return self._cached(
            ("crypto", key_id.lower()),
            lambda: CryptographyClient(key_id, self.credential, **self._kwargs(arm=False)),
        )

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                close = getattr(client, "close", None)
                if close:
                    with contextlib.suppress(Exception):  # closing is best effort; nothing to report
                        close()
            self._clients.clear()
            if self._owns_emulator:
                self.emulator.store.close()
                self._owns_emulator = False
