"""Helpers shared by the ARM services: ids, lookups, list and error shapes."""

from __future__ import annotations

import base64
import binascii
import copy
import re
from urllib.parse import quote, urlencode

from providers.azurelocal.http import AzureError, Request, Response
from providers.azurelocal.store import Kind

INTERNAL = "_emulator"
RG = "/subscriptions/{sub}/resourceGroups/{rg}"

_NAME_RULES = {
    # kind label -> (regex, human rule)
    "keyvault": (
        re.compile(r"^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$"),
        "3-24 characters: letters, digits and hyphens, starting with a letter, ending with a letter or digit",
    ),
    "rsvault": (
        re.compile(r"^[a-zA-Z][a-zA-Z0-9-]{1,49}$"),
        "2-50 characters: letters, digits and hyphens, starting with a letter",
    ),
    "resourcegroup": (
        re.compile(r"^[-\w._()]{0,89}[-\w_()]$"),
        "1-90 characters: letters, digits, underscores, periods, hyphens and parentheses, "
        "not ending in a period",
    ),
    "identity": (
        re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$"),
        "3-128 characters: letters, digits, hyphens and underscores, starting with a letter or digit",
    ),
}


def check_name(kind: str, name: str) -> None:
    pattern, rule = _NAME_RULES[kind]
    if not pattern.match(name):
        code = {"keyvault": "VaultNameNotValid", "resourcegroup": "InvalidResourceGroupName"}.get(
            kind, "InvalidResourceName"
        )
        raise AzureError(400, code, f"The name '{name}' is not valid: use {rule}.")


def check_subscription(env, sub: str) -> None:
    """The seeded subscription, or another one added to this local Azure (``subscriptions.add``)."""
    if sub.lower() == env.subscription_id.lower():
        return
    if env.store.get(Kind.SUBSCRIPTION, f"/subscriptions/{sub}") is None:
        raise AzureError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")


def group_id(sub: str, rg: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}"


def require_group(env, sub: str, rg: str) -> dict:
    check_subscription(env, sub)
    group = env.store.get(Kind.RESOURCE_GROUP, group_id(sub, rg))
    if group is None:
        raise AzureError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
    return group


def resource_id(sub: str, rg: str, provider_type: str, name: str) -> str:
    return f"{group_id(sub, rg)}/providers/{provider_type}/{name}"


def loader(env, kind: str, provider_type: str):
    """``load(params)``: the stored document a route's {sub}/{rg}/{name} names, or Azure's 404."""

    def load(p: dict) -> dict:
        require_group(env, p["sub"], p["rg"])
        body = env.store.get(kind, resource_id(p["sub"], p["rg"], provider_type, p["name"]))
        if body is None:
            raise not_found(provider_type, p["name"], p["rg"])
        return body

    return load


def public(body: dict) -> dict:
    """The document as Azure returns it (internal bookkeeping removed)."""
    out = copy.deepcopy(body)
    out.pop(INTERNAL, None)
    return out


def ok(body, status: int = 200, headers: dict | None = None) -> Response:
    if isinstance(body, dict):
        body = public(body)
    return Response(status, body, dict(headers or {}))


# Items per page of an ARM list. Azure pages every list with ``nextLink`` (a URL carrying an opaque
# ``$skiptoken``: spec example keyvault 2023-07-01 listVaultByResourceGroup.json); the page size of
# these lists is not documented, so this one is invented. Lists that take ``$top`` (key vaults, same
# example) answer at most that many per page.
ARM_PAGE_SIZE = 200


def listing(
    items: list[dict], request: Request | None = None, page_size: int | None = None, token: str = "$skiptoken"
) -> Response:
    """A list answer; with ``request``, one page of it and the ``nextLink`` to the next."""
    values = [public(i) for i in items]
    if request is None:
        return Response(200, {"value": values})
    size = page_size or ARM_PAGE_SIZE
    top = request.query.get("$top")
    if top and top.isdigit() and int(top) > 0:
        size = min(size, int(top))
    page, next_link = paged(values, request, size, token)
    body: dict = {"value": page}
    if next_link:
        body["nextLink"] = next_link
    return Response(200, body)


def skip_of(request: Request) -> int:
    """The offset a ``$skiptoken`` this emulator made stands for (0 without one)."""
    token = request.query.get("$skiptoken") or request.query.get("$skipToken") or ""
    if not token:
        return 0
    try:
        offset = int(base64.urlsafe_b64decode(token.encode() + b"==").decode().removeprefix("offset:"))
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise AzureError(400, "InvalidSkipToken", f"The $skiptoken '{token}' is not valid.") from None
    return max(0, offset)


def paged(
    values: list, request: Request, size: int, token_name: str = "$skiptoken"
) -> tuple[list, str | None]:
    """The page of ``values`` the request's ``$skiptoken`` asks for, and the next page's link (the
    same URL and query with the token of the next offset), or None on the last page."""
    start = skip_of(request)
    page = values[start : start + size]
    if start + size >= len(values):
        return page, None
    token = base64.urlsafe_b64encode(f"offset:{start + size}".encode()).decode().rstrip("=")
    query = {k: v for k, v in request.query.items() if k.lower() != "$skiptoken"}
    query[token_name] = token
    return page, f"https://{request.host}{quote(request.path)}?{urlencode(query, safe='$')}"


def not_found(provider_type: str, name: str, rg: str | None = None) -> AzureError:
    where = f" under resource group '{rg}'" if rg else ""
    return AzureError(404, "ResourceNotFound", f"The Resource '{provider_type}/{name}'{where} was not found.")


def body_of(request: Request) -> dict:
    data = request.json()
    if not isinstance(data, dict):
        raise AzureError(400, "InvalidRequestContent", "The request content must be a JSON object.")
    return data


def location_of(data: dict, default: str | None = None) -> str:
    location = data.get("location") or default
    if not location:
        raise AzureError(400, "LocationRequired", "The location property is required for this definition.")
    return normalize_location(location)


def normalize_location(location: str) -> str:
    return location.replace(" ", "").lower()


def caller_id(request: Request) -> str | None:
    return request.principal.get("object_id") if request.principal else None


def merge(base: dict, patch: dict) -> dict:
    """JSON merge-patch (RFC 7386) as ARM PATCH applies it."""
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
