"""Resource provider registration: a subscription uses a namespace only once it is registered.

A fresh subscription answers every write to Microsoft.KeyVault, Microsoft.ManagedIdentity or
Microsoft.RecoveryServices with 409 MissingSubscriptionRegistration until the namespace is
registered (``POST /subscriptions/{s}/providers/{namespace}/register``). Sources: the code and its
status in azurerm's vendored SDK (hashicorp/go-azure-sdk sdk/client/resourcemanager/retry_policies.go
turns it into "The Resource Provider was not registered"), and Microsoft's "Resolve errors for
resource provider registration" page (aka.ms/rps-not-found). Which namespaces azurerm registers is
``internal/resourceproviders/required.go``.

The registration finishes at once here (real Azure says "Registering" for a while); reads are not
gated here (nothing can exist in an unregistered namespace, so they answer 404); a database made
before registrations were modelled has every namespace registered.
"""

from __future__ import annotations

import re

from providers.azurelocal.http import AzureError, Request, Response
from providers.azurelocal.router import ARM
from providers.azurelocal.services import _arm
from providers.azurelocal.store import Kind

# namespace -> the resource types it serves here (what ``GET .../providers/{ns}`` lists)
NAMESPACES = {
    "Microsoft.Resources": ("resourceGroups", "subscriptions", "resources"),
    "Microsoft.Authorization": ("roleAssignments", "roleDefinitions"),
    "Microsoft.Compute": ("virtualMachines", "disks", "diskEncryptionSets"),
    "Microsoft.KeyVault": ("vaults", "deletedVaults", "checkNameAvailability"),
    "Microsoft.ManagedIdentity": ("userAssignedIdentities",),
    "Microsoft.RecoveryServices": ("vaults", "locations"),
}
# the namespaces a request is refused for until registered
GATED = frozenset({"microsoft.keyvault", "microsoft.managedidentity", "microsoft.recoveryservices"})
_REGISTRATION_PATH = re.compile(r"^/subscriptions/[^/]+/providers/[^/]+(?:/register|/unregister)?/?$", re.I)
_NAMESPACE_IN_PATH = re.compile(r"/providers/(Microsoft\.[A-Za-z]+)(?:/|$)", re.IGNORECASE)


def canonical(namespace: str) -> str:
    return next((n for n in NAMESPACES if n.lower() == namespace.lower()), namespace)


def _subscription(env) -> dict:
    return env.store.get(Kind.SUBSCRIPTION, f"/subscriptions/{env.subscription_id}")


def registered(env) -> set[str] | None:
    """Registered namespaces (lowercase); None: an old database, where all are."""
    names = ((_subscription(env) or {}).get(_arm.INTERNAL) or {}).get("registered")
    return None if names is None else {n.lower() for n in names}


def set_registered(env, namespace: str, on: bool) -> None:
    with env.store.transaction():
        sub = _subscription(env)
        internal = sub.setdefault(_arm.INTERNAL, {})
        names = {n for n in internal.get("registered") or NAMESPACES}
        names = {n for n in names if n.lower() != namespace.lower()} | (
            {canonical(namespace)} if on else set()
        )
        internal["registered"] = sorted(names)
        env.store.put(Kind.SUBSCRIPTION, sub["id"], sub)


def register_everything(env) -> None:
    """Register every namespace (tests of other behaviours start from a used subscription)."""
    for ns in NAMESPACES:
        set_registered(env, ns, True)


def is_registered(env, namespace: str) -> bool:
    names = registered(env)
    return names is None or namespace.lower() in names


def body(env, namespace: str) -> dict:
    ns = canonical(namespace)
    return {
        "id": f"/subscriptions/{env.subscription_id}/providers/{ns}",
        "namespace": ns,
        "registrationState": "Registered" if is_registered(env, ns) else "NotRegistered",
        "registrationPolicy": "RegistrationRequired",
        "resourceTypes": [
            {"resourceType": t, "locations": ["West Europe", "North Europe", "East US"]}
            for t in NAMESPACES.get(ns, ())
        ],
    }


def check_registered(env):
    def check(request: Request) -> None:
        if request.method in ("GET", "HEAD") or _REGISTRATION_PATH.match(request.path):
            return  # reads, and the registration endpoints themselves
        # the last namespace in the path is the one the request is for (a role assignment on a
        # key vault is Microsoft.Authorization's)
        found = _NAMESPACE_IN_PATH.findall(request.path)
        if not found or found[-1].lower() not in GATED or is_registered(env, found[-1]):
            return
        ns = canonical(found[-1])
        raise AzureError(
            409,
            "MissingSubscriptionRegistration",
            f"The subscription is not registered to use namespace '{ns}'. See https://aka.ms/rps-not-found "
            f"for how to register subscriptions.",
        )

    return check


def register(router, env) -> None:
    env.request_checks.append(check_registered(env))

    @router.route(ARM, "GET", "/subscriptions/{sub}/providers")
    def list_providers(request: Request) -> Response:
        _arm.check_subscription(env, request.params["sub"])
        return Response(200, {"value": [body(env, ns) for ns in NAMESPACES]})

    @router.route(ARM, "GET", "/subscriptions/{sub}/providers/{ns}")
    def get_provider(request: Request) -> Response:
        _arm.check_subscription(env, request.params["sub"])
        return Response(200, body(env, request.params["ns"]))

    def toggle(on: bool):
        def handler(request: Request) -> Response:
            _arm.check_subscription(env, request.params["sub"])
            ns = request.params["ns"]
            if canonical(ns) not in NAMESPACES:
                # invented: ARM's answer to an unknown namespace was not found in a public source
                raise AzureError(
                    404, "InvalidResourceNamespace", f"The resource namespace '{ns}' is invalid."
                )
            set_registered(env, ns, on)
            return Response(200, body(env, ns))

        return handler

    router.add(ARM, "POST", "/subscriptions/{sub}/providers/{ns}/register", toggle(True))
    router.add(ARM, "POST", "/subscriptions/{sub}/providers/{ns}/unregister", toggle(False))
