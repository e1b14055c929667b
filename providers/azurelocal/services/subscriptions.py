"""The seeded subscription (and any added with ``add``) of the one tenant, their locations, and
subscription-wide resource listing."""

from __future__ import annotations

import re

from providers.azurelocal.http import AzureError, Request, Response
from providers.azurelocal.router import ARM
from providers.azurelocal.services import _arm
from providers.azurelocal.store import Kind

LOCATIONS = (
    ("westeurope", "West Europe"),
    ("northeurope", "North Europe"),
    ("eastus", "East US"),
    ("eastus2", "East US 2"),
    ("westus2", "West US 2"),
    ("uksouth", "UK South"),
    ("germanywestcentral", "Germany West Central"),
    ("swedencentral", "Sweden Central"),
)
LISTED_KINDS = (Kind.IDENTITY, Kind.KEY_VAULT, Kind.RS_VAULT, Kind.VM, Kind.DISK, Kind.DISK_ENCRYPTION_SET)


def summary(body: dict) -> dict:
    out = {k: body[k] for k in ("id", "name", "type", "location") if k in body}
    out["tags"] = body.get("tags") or {}
    if body.get("identity"):
        out["identity"] = body["identity"]
    if body.get("sku"):
        out["sku"] = body["sku"]
    return out


def resources_under(env, prefix: str, odata_filter: str | None) -> list[dict]:
    """Top-level resources whose id starts with ``prefix``; honours ``resourceType eq '...'``."""
    wanted = None
    m = re.search(r"resourceType\s+eq\s+'([^']+)'", odata_filter or "", re.IGNORECASE)
    if m:
        wanted = m.group(1).lower()
    items = []
    for kind in LISTED_KINDS:
        for body in env.store.list(kind, prefix):
            if wanted and body.get("type", "").lower() != wanted:
                continue
            items.append(summary(body))
    return items


def add(env, subscription_id: str, display_name: str) -> dict:
    """Another subscription of the tenant, so the local Azure can host an estate spread over several
    (a tenant's audit reads them all). It shares the seeded subscription's resource provider
    registrations (services/providers.py reads those)."""
    body = {
        "id": f"/subscriptions/{subscription_id}",
        "subscriptionId": subscription_id,
        "tenantId": env.tenant_id,
        "displayName": display_name,
        "state": "Enabled",
    }
    env.store.put(Kind.SUBSCRIPTION, body["id"], body)
    return body


def check_readable(env):
    """403 AuthorizationFailed for a read in a subscription the caller may not read (faults'
    ``unreadable_subscriptions``); the subscription itself stays listed and readable."""

    def check(request: Request) -> None:
        if request.method not in ("GET", "HEAD"):
            return
        denied = {s.strip().lower() for s in env.faults.unreadable_subscriptions.split(",") if s.strip()}
        if not denied:
            return
        m = re.match(r"/subscriptions/([^/]+)(/.+)", request.path, re.IGNORECASE)
        if m is None or m.group(1).lower() not in denied:
            return
        namespace = re.findall(r"/providers/([^/]+/[^/]+)", m.group(2), re.IGNORECASE)
        action = (
            f"{namespace[-1]}/read" if namespace else "Microsoft.Resources/subscriptions/resourceGroups/read"
        )
        raise AzureError(
            403,
            "AuthorizationFailed",
            f"The client '{env.deployer_object_id}' with object id '{env.deployer_object_id}' does not have "
            f"authorization to perform action '{action}' over scope '/subscriptions/{m.group(1)}' or the scope "
            "is invalid. If access was recently granted, please refresh your credentials.",
        )

    return check


def register(router, env) -> None:
    env.request_checks.append(check_readable(env))

    def subscription_body(sub: str | None = None) -> dict:
        doc = env.store.get(Kind.SUBSCRIPTION, f"/subscriptions/{sub or env.subscription_id}")
        return _arm.public(doc) | {
            "authorizationSource": "RoleBased",
            "subscriptionPolicies": {
                "locationPlacementId": "Public_2014-09-01",
                "quotaId": "PayAsYouGo_2014-09-01",
                "spendingLimit": "Off",
            },
        }

    @router.route(ARM, "GET", "/subscriptions")
    def list_subscriptions(request: Request) -> Response:
        # every subscription of the tenant the caller can see, paged with nextLink (spec example
        # resources/resource-manager/Microsoft.Resources/stable/2022-12-01/examples/GetSubscriptions.json)
        subs = [subscription_body(d["subscriptionId"]) for d in env.store.list(Kind.SUBSCRIPTION)]
        return _arm.listing(subs, request)

    @router.route(ARM, "GET", "/subscriptions/{sub}")
    def get_subscription(request: Request) -> Response:
        _arm.check_subscription(env, request.params["sub"])
        return Response(200, subscription_body(request.params["sub"]))

    @router.route(ARM, "GET", "/subscriptions/{sub}/locations")
    def list_locations(request: Request) -> Response:
        _arm.check_subscription(env, request.params["sub"])
        return Response(
            200,
            {
                "value": [
                    {
                        "id": f"/subscriptions/{env.subscription_id}/locations/{name}",
                        "name": name,
                        "displayName": display,
                        "regionalDisplayName": f"(Europe) {display}" if "europe" in name else display,
                        "type": "Region",
                        "metadata": {"regionType": "Physical"},
                    }
                    for name, display in LOCATIONS
                ]
            },
        )

    @router.route(ARM, "GET", "/tenants")
    def list_tenants(request: Request) -> Response:
        return Response(
            200,
            {
                "value": [
                    {
                        "id": f"/tenants/{env.tenant_id}",
                        "tenantId": env.tenant_id,
                        "tenantCategory": "Home",
                        "displayName": "vaultform local",
                        "defaultDomain": "vaultform.local",
                    }
                ]
            },
        )

    @router.route(ARM, "GET", "/subscriptions/{sub}/resources")
    def list_resources(request: Request) -> Response:
        _arm.check_subscription(env, request.params["sub"])
        return Response(
            200,
            {
                "value": resources_under(
                    env, f"/subscriptions/{request.params['sub']}/", request.query.get("$filter")
                )
            },
        )
