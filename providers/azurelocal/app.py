"""The emulator core: clock, ids, principals, faults, authentication, routing and the activity log.

``Emulator`` is the ``env`` every service module receives. Services live in
``providers/azurelocal/services/``; each module with a ``register(router, env)`` function is
discovered and registered at start, so the ARM and the Key Vault services land independently.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib
import os
import pkgutil
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from providers.azurelocal import faults, ratelimits, seed
from providers.azurelocal.credential import object_id_from_token
from providers.azurelocal.faults import FaultSettings
from providers.azurelocal.http import AzureError, Request, Response
from providers.azurelocal.router import ARM, VAULT, Router
from providers.azurelocal.store import Kind, Store
from providers.azurelocal.times import parse_time as parse_time  # re-exported for the services

ARM_HOST = "management.azure.com"
VAULT_HOST_SUFFIX = ".vault.azure.net"
LOGIN_AUTHORITY = "https://login.microsoftonline.com"
VAULT_RESOURCE = "https://vault.azure.net"
CLOCK_OFFSET_KEY = "clock_offset_seconds"
GUID_COUNTER_KEY = "guid_counter"
WRITE_METHODS = frozenset({"PUT", "PATCH", "DELETE", "POST"})

_ACTIVITY_DDL = """
CREATE TABLE IF NOT EXISTS activity_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    principal_id TEXT,
    operation TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL
);
"""


def _discover_services() -> list:
    import providers.azurelocal.services as package

    modules = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        if callable(getattr(module, "register", None)):
            modules.append(module)
    return modules


class EmulatorClock:
    """UTC wall time plus a persisted offset, so tests and the CLI can move time forward."""

    def __init__(self, store: Store, base: Callable[[], datetime] | None = None) -> None:
        self.store = store
        self._base = base or (lambda: datetime.now(UTC))

    def offset(self) -> float:
        return float(self.store.meta(CLOCK_OFFSET_KEY, 0.0))

    def now(self) -> datetime:
        base = self._base()
        if base.tzinfo is None:
            base = base.replace(tzinfo=UTC)
        return base.astimezone(UTC) + timedelta(seconds=self.offset())

    def advance(self, seconds: float) -> datetime:
        with self.store.transaction():
            self.store.set_meta(CLOCK_OFFSET_KEY, self.offset() + float(seconds))
        return self.now()


class Emulator:
    """The local Azure. ``path`` is the SQLite file (default: ``store.default_path()``)."""

    def __init__(self, path=None, *, clock: EmulatorClock | Callable[[], datetime] | None = None) -> None:
        self.store = Store(path)
        self.store.ensure_table(_ACTIVITY_DDL)
        if isinstance(clock, EmulatorClock):
            self.clock = clock
        else:
            self.clock = EmulatorClock(self.store, clock)
        self.tenant_id = seed.TENANT_ID
        self.subscription_id = seed.SUBSCRIPTION_ID
        self.deployer_object_id = seed.DEPLOYER_OBJECT_ID
        self.location_default = seed.LOCATION_DEFAULT
        seed.ensure_seeded(self)
        # (request) -> context manager a write runs inside, before its store transaction; services
        # add one to model a write that takes time (a key vault write conflicts with an overlapping one)
        self.write_guards: list[Callable[[Request], contextlib.AbstractContextManager]] = []
        # (request) -> None or raise: checks every ARM request passes once routed (services add
        # them; e.g. a namespace the subscription is not registered for)
        self.request_checks: list[Callable[[Request], None]] = []
        # ARM's and Key Vault's request budgets, shared by every Emulator on this database in this process
        self.rate_limiter = ratelimits.limiter_for(self.store.path)
        self.router = Router()
        for service in SERVICES:
            service.register(self.router, self)

    # ------------------------------------------------------------------ ids and time

    def new_guid(self) -> str:
        """A fresh GUID, deterministic for a given database history."""
        with self.store.transaction():
            n = int(self.store.meta(GUID_COUNTER_KEY, 0)) + 1
            self.store.set_meta(GUID_COUNTER_KEY, n)
        return str(uuid.UUID(bytes=hashlib.sha256(f"vaultform-guid:{n}".encode()).digest()[:16], version=4))

    def now_iso(self) -> str:
        return self.clock.now().isoformat().replace("+00:00", "Z")

    # ------------------------------------------------------------------ principals

    def principal(self, object_id: str | None) -> dict | None:
        if not object_id:
            return None
        return self.store.get(Kind.PRINCIPAL, object_id)

    def register_principal(self, record: dict) -> dict:
        body = {"enabled": True, "resource_id": None, "tenant_id": self.tenant_id, **record}
        body.setdefault("created", self.clock.now().isoformat())
        self.store.put(Kind.PRINCIPAL, body["object_id"], body)
        return body

    def remove_principal(self, object_id: str) -> None:
        self.store.delete(Kind.PRINCIPAL, object_id)

    def set_principal_enabled(self, object_id: str, enabled: bool) -> dict | None:
        with self.store.transaction():
            record = self.principal(object_id)
            if record is None:
                return None
            record["enabled"] = enabled
            self.store.put(Kind.PRINCIPAL, object_id, record)
            return record

    # ------------------------------------------------------------------ faults

    @property
    def faults(self) -> FaultSettings:
        return faults.load(self.store)

    def configure_faults(self, **settings) -> FaultSettings:
        """Change fault settings (unknown names raise ValueError); persisted for every process."""
        return faults.save(self.store, self.faults, **settings)

    def reset_faults(self) -> FaultSettings:
        return faults.save(self.store, faults.FaultSettings())

    def calm_faults(self, **overrides) -> FaultSettings:
        """Switch off the propagation delays and write conflicts that are on by default."""
        return faults.save(self.store, faults.FaultSettings.calm(**overrides))

    # ------------------------------------------------------------------ activity log

    def log(
        self,
        principal_id: str | None,
        operation: str,
        resource_id: str,
        status: str = "Succeeded",
        detail: str = "",
    ) -> None:
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO activity_log(at, principal_id, operation, resource_id, status, detail)"
                " VALUES (?,?,?,?,?,?)",
                (self.now_iso(), principal_id, operation, resource_id, status, detail),
            )

    def activity(self, resource_prefix: str = "") -> list[dict]:
        """Activity log entries, oldest first, for resources under ``resource_prefix``."""
        p = resource_prefix.lower()
        rows = (
            self.store._conn()
            .execute(
                "SELECT seq, at, principal_id, operation, resource_id, status, detail FROM activity_log "
                "WHERE substr(lower(resource_id), 1, ?)=? ORDER BY seq",
                (len(p), p),
            )
            .fetchall()
        )
        names = ("seq", "at", "principal_id", "operation", "resource_id", "status", "detail")
        return [dict(zip(names, row)) for row in rows]

    # ------------------------------------------------------------------ authentication

    def _bearer(self, request: Request) -> str | None:
        value = request.header("authorization") or ""
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return token.strip()

    def authenticate(self, request: Request) -> dict | None:
        """Fill ``request.principal`` from the bearer token; None when the request carries none."""
        token = self._bearer(request)
        if token is None:
            return None
        object_id = object_id_from_token(token) or self.deployer_object_id
        record = self.principal(object_id)
        if record is None:
            raise AzureError(
                401,
                "InvalidAuthenticationToken",
                f"The access token names principal '{object_id}', which does not exist "
                f"in tenant '{self.tenant_id}'.",
            )
        if not record.get("enabled", True):
            raise AzureError(
                401,
                "InvalidAuthenticationToken",
                f"The principal '{object_id}' is disabled and can't obtain tokens.",
            )
        request.principal = record
        return record

    def require_token(self, request: Request) -> dict:
        """The calling principal, or the Key Vault 401 challenge when the request has no token."""
        if request.principal is not None:
            return request.principal
        record = self.authenticate(request)
        if record is None:
            challenge = (
                f'Bearer authorization="{LOGIN_AUTHORITY}/{self.tenant_id}", resource="{VAULT_RESOURCE}"'
            )
            raise AzureError(
                401,
                "Unauthorized",
                "AKV10000: Request is missing a Bearer or PoP token.",
                {"WWW-Authenticate": challenge},
            )
        return record

    # ------------------------------------------------------------------ dispatch

    @staticmethod
    def surface_of(host: str) -> tuple[str, dict[str, str]]:
        host = host.lower().split(":")[0]
        if host == ARM_HOST:
            return ARM, {}
        if host.endswith(VAULT_HOST_SUFFIX) and host.count(".") == 3:
            return VAULT, {"vault": host[: -len(VAULT_HOST_SUFFIX)]}
        raise AzureError(404, "HostNotFound", f"The local Azure does not serve host '{host}'.")

    def handle(self, request: Request) -> Response:
        budget: dict[str, str] = {}  # ARM's remaining-requests headers for this request
        try:
            response = self._dispatch(request, budget)
        except AzureError as exc:
            response = exc.response()
            self._log_write(request, response)
            if response.status == 429 and exc.code in ratelimits.REFUSAL_CODES:
                ratelimits.count_refusal(self.store)
        except Exception as exc:  # a bug in a service must not kill the caller's process
            if os.environ.get("VAULTFORM_DEBUG"):
                traceback.print_exc(file=sys.stderr)
            response = AzureError(
                500,
                "InternalServerError",
                f"The local Azure failed to process the request: {type(exc).__name__}: {exc}",
            ).response()
        for name, value in budget.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("x-ms-request-id", str(uuid.uuid4()))
        if response.body is not None and not isinstance(response.body, bytes):
            response.headers.setdefault("content-type", "application/json; charset=utf-8")
        return response

    def _dispatch(self, request: Request, budget: dict[str, str]) -> Response:
        settings = self.faults
        if settings.latency_ms:
            time.sleep(settings.latency_ms / 1000.0)
        injected = faults.error_for(faults.draw(self.store, settings), settings)
        if injected is not None:
            raise injected
        surface, host_params = self.surface_of(request.host)
        record = self.authenticate(request)
        if surface == ARM and record is None:
            raise AzureError(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
                {
                    "WWW-Authenticate": f'Bearer authorization_uri="{LOGIN_AUTHORITY}/{self.tenant_id}", '
                    f'error="invalid_token"'
                },
            )
        if settings.rate_limits and record is not None:
            self._charge(surface, host_params, request, settings, budget)
        if request.method == "HEAD" and not self._has_route(surface, request):
            return self._head_via_get(surface, host_params, request)
        route, params = self.router.match(surface, request)
        request.params = {**host_params, **params}
        if surface == ARM:
            for check in self.request_checks:
                check(request)
        if request.method not in WRITE_METHODS:
            return self._call(route.handler, request)
        # A write runs in one store transaction, so concurrent writers never interleave. A refusal
        # (AzureError) keeps what the handler recorded on purpose before refusing - a failed job, a
        # registration attempt - while an unexpected failure rolls everything back.
        refusal: AzureError | None = None
        with contextlib.ExitStack() as guards:
            for guard in self.write_guards:
                guards.enter_context(guard(request))
            with self.store.transaction():
                try:
                    response = self._call(route.handler, request)
                except AzureError as exc:
                    refusal = exc
        if refusal is not None:
            raise refusal
        self._log_write(request, response)
        return response

    def _charge(
        self, surface: str, host_params: dict, request: Request, settings: FaultSettings, budget: dict
    ) -> None:
        """Take this request from ARM's or the key vault's budget (before routing, as ARM throttles
        before it forwards to a resource provider); a 429 when the budget is spent."""
        now = self.clock.now().timestamp()
        if surface == ARM:
            self.rate_limiter.admit_arm(request, settings, now, tenant_id=self.tenant_id, headers=budget)
        else:
            self.rate_limiter.admit_vault(request, settings, now, vault=host_params.get("vault", ""))

    def _has_route(self, surface: str, request: Request) -> bool:
        try:
            self.router.match(surface, request)
        except AzureError:
            return False
        return True

    def _head_via_get(self, surface: str, host_params: dict, request: Request) -> Response:
        """ARM answers HEAD on any resource: 204 when a GET would find it, the GET's error otherwise."""
        probe = dataclasses.replace(request, method="GET")
        route, params = self.router.match(surface, probe)
        probe.params = {**host_params, **params}
        answer = self._call(route.handler, probe)
        return Response(204 if answer.status == 200 else answer.status)

    @staticmethod
    def _call(handler, request: Request) -> Response:
        """Run a handler; a body of the wrong shape (a list where an object belongs, text where a
        number belongs) surfaces as Azure's 400 InvalidRequestContent instead of a 500."""
        try:
            return handler(request)
        except (TypeError, AttributeError, KeyError, ValueError) as exc:
            if not request.body:
                raise
            raise AzureError(
                400,
                "InvalidRequestContent",
                f"The request content was invalid and could not be deserialized: {type(exc).__name__}: {exc}",
            ) from exc

    def _log_write(self, request: Request, response: Response) -> None:
        if request.method not in WRITE_METHODS or request.host.lower() != ARM_HOST:
            return
        if request.principal is None:
            return
        status = "Succeeded" if response.status < 400 else "Failed"
        detail = ""
        if response.status >= 400 and isinstance(response.body, dict):
            detail = str(response.body.get("error", {}).get("code", ""))
        self.log(
            request.principal.get("object_id"),
            operation_name(request.method, request.path),
            request.path,
            status,
            detail,
        )


_CANONICAL_SEGMENTS = {
    s.lower(): s
    for s in (
        "subscriptions",
        "resourceGroups",
        "vaults",
        "accessPolicies",
        "userAssignedIdentities",
        "roleAssignments",
        "backupPolicies",
        "backupFabrics",
        "protectionContainers",
        "protectedItems",
        "recoveryPoints",
        "backupJobs",
        "backupstorageconfig",
        "backupconfig",
        "backupEncryptionConfigs",
        "deletedVaults",
        "locations",
        "moveResources",
        "validateMoveResources",
        "refreshContainers",
        "restore",
        "backup",
        "purge",
        "inquire",
    )
}


def operation_name(method: str, path: str) -> str:
    """'PUT /subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv'
    -> 'Microsoft.KeyVault/vaults/write' (Azure's activity log naming)."""
    parts = [p for p in path.split("/") if p]
    lower = [p.lower() for p in parts]
    if "providers" in lower:
        i = len(lower) - 1 - lower[::-1].index("providers")
        rest = parts[i + 1 :]
        namespace, segments = (rest[0], rest[1:]) if rest else ("Microsoft.Resources", [])
    else:
        namespace, segments = "Microsoft.Resources", parts
    types = [_CANONICAL_SEGMENTS.get(t.lower(), t) for t in segments[0::2]]
    if method == "POST" and len(segments) % 2 == 1:
        return "/".join([namespace, *types[:-1], types[-1], "action"])
    verb = {"PUT": "write", "PATCH": "write", "DELETE": "delete", "POST": "action"}.get(method, "read")
    return "/".join([namespace, *types, verb])


# Discovered last: service modules import helpers (parse_time, ...) from this module.
SERVICES = _discover_services()
