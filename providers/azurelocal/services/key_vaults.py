"""Key vaults (management plane): create/update/patch, access policies, soft delete and purge.

Azure's rules kept here: soft delete is always on for new vaults; soft-delete retention is 7..90
days (default 90) and fixed once set; purge protection is one-way; vault names are unique across
live and soft-deleted vaults; a soft-deleted vault with purge protection can't be purged before
its scheduled purge date. Access-policy grant times are kept so ``access`` can honour the grant
propagation delay.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from datetime import timedelta

from providers.azurelocal.app import parse_time
from providers.azurelocal.http import AzureError, Request, Response
from providers.azurelocal.router import ARM
from providers.azurelocal.services import _arm, certificate_contacts, operations
from providers.azurelocal.store import Kind

TYPE = "Microsoft.KeyVault/vaults"
RETENTION_DEFAULT, RETENTION_MIN, RETENTION_MAX = 90, 7, 90
SKUS = ("standard", "premium")
POLICY_OPS = ("add", "replace", "remove")
PERMISSION_KINDS = ("keys", "secrets", "certificates", "storage")


def bad_request(message: str) -> AzureError:
    return AzureError(400, "BadRequest", message)


def vault_uri(name: str) -> str:
    return f"https://{name.lower()}.vault.azure.net/"


def by_name(env, name: str) -> dict | None:
    """The live key vault with this (globally unique) name."""
    for body in env.store.list(Kind.KEY_VAULT):
        if body["name"].lower() == name.lower():
            return body
    return None


def deleted_by_name(env, name: str) -> dict | None:
    for body in env.store.list(Kind.DELETED_KEY_VAULT):
        if body["name"].lower() == name.lower():
            return body
    return None


def deleted_id(subscription: str, location: str, name: str) -> str:
    """A soft-deleted key vault's id: in the subscription the vault was in, which also lists it
    (Vaults - List Deleted, GET /subscriptions/{subscriptionId}/providers/Microsoft.KeyVault/
    deletedVaults; azure-rest-api-specs keyvault 2023-07-01 example listDeletedVaults.json, whose
    ids read /subscriptions/{id}/providers/Microsoft.KeyVault/locations/{location}/deletedVaults/
    {name})."""
    return f"/subscriptions/{subscription}/providers/Microsoft.KeyVault/locations/{location}/deletedVaults/{name}"


def _normalize_policy(policy: dict, tenant_id: str) -> dict:
    if not policy.get("objectId"):
        raise bad_request("Each access policy needs an objectId.")
    perms = policy.get("permissions") or {}
    out = {
        "tenantId": policy.get("tenantId") or tenant_id,
        "objectId": policy["objectId"],
        "permissions": {k: list(perms.get(k) or []) for k in PERMISSION_KINDS if perms.get(k) is not None},
    }
    if policy.get("applicationId"):
        out["applicationId"] = policy["applicationId"]
    return out


def _stamp_grants(env, body: dict, before: list[dict]) -> None:
    """Remember when each principal's key permissions last grew (for the propagation delay)."""
    internal = body.setdefault(_arm.INTERNAL, {})
    times = internal.setdefault("policy_granted_at", {})
    old = {
        p["objectId"].lower(): {x.lower() for x in p.get("permissions", {}).get("keys", [])} for p in before
    }
    for policy in body["properties"].get("accessPolicies", []):
        oid = policy["objectId"].lower()
        now_keys = {x.lower() for x in policy.get("permissions", {}).get("keys", [])}
        if now_keys - old.get(oid, set()):
            times[oid] = env.clock.now().isoformat()


def _check_settings(old_props: dict | None, props: dict) -> None:
    retention = props.get("softDeleteRetentionInDays")
    if retention is not None and not RETENTION_MIN <= int(retention) <= RETENTION_MAX:
        raise bad_request(
            f'The property "softDeleteRetentionInDays" must be between {RETENTION_MIN} and '
            f"{RETENTION_MAX}, got {retention}."
        )
    if props.get("enableSoftDelete") is False:
        raise bad_request(
            'The property "enableSoftDelete" cannot be set to false. Soft delete is always on '
            "for key vaults and can't be turned off."
        )
    if props.get("enablePurgeProtection") is False:
        raise bad_request(
            'The property "enablePurgeProtection" cannot be set to false. Enabling the purge '
            "protection for a vault is an irreversible action."
        )
    if old_props and retention is not None and int(retention) != old_props.get("softDeleteRetentionInDays"):
        raise bad_request(
            f'The property "softDeleteRetentionInDays" has been set already and it can\'t be '
            f"modified (it is {old_props.get('softDeleteRetentionInDays')})."
        )
    sku = (props.get("sku") or {}).get("name")
    if sku is not None and sku.lower() not in SKUS:
        raise bad_request(f"The sku name '{sku}' is not valid; use 'standard' or 'premium'.")


def _properties(env, data_props: dict, old_props: dict | None, name: str) -> dict:
    _check_settings(old_props, data_props)
    base = dict(old_props or {})
    if not old_props:
        if not data_props.get("tenantId"):
            raise bad_request('The property "tenantId" is required.')
        if not data_props.get("sku"):
            raise bad_request('The property "sku" is required.')
    for key, value in data_props.items():
        if value is not None and key not in ("vaultUri", "provisioningState", "hsmPoolResourceId"):
            base[key] = value
    tenant = base.get("tenantId") or env.tenant_id
    base["tenantId"] = tenant
    base["sku"] = {"family": "A", "name": (base.get("sku") or {}).get("name", "standard").lower()}
    base["accessPolicies"] = [_normalize_policy(p, tenant) for p in base.get("accessPolicies") or []]
    base["enableSoftDelete"] = True
    base.setdefault("softDeleteRetentionInDays", RETENTION_DEFAULT)
    base.setdefault("enableRbacAuthorization", False)
    for flag in ("enabledForDeployment", "enabledForDiskEncryption", "enabledForTemplateDeployment"):
        base.setdefault(flag, False)
    acls = base.get("networkAcls") or {}
    base["networkAcls"] = {
        "bypass": acls.get("bypass") or "AzureServices",
        "defaultAction": acls.get("defaultAction") or "Allow",
        "ipRules": acls.get("ipRules") or [],
        "virtualNetworkRules": acls.get("virtualNetworkRules") or [],
    }
    base.setdefault("publicNetworkAccess", "Enabled")
    base["vaultUri"] = vault_uri(name)
    base["provisioningState"] = "Succeeded"
    base.pop("createMode", None)
    return base


def soft_delete_vault(env, body: dict) -> dict:
    """Move a live vault to the soft-deleted list (its keys stay with the data plane)."""
    props = body["properties"]
    now = env.clock.now()
    purge_at = now + timedelta(days=int(props.get("softDeleteRetentionInDays") or RETENTION_DEFAULT))
    deleted = {
        "id": deleted_id(body["id"].split("/")[2], body["location"], body["name"]),
        "name": body["name"],
        "type": "Microsoft.KeyVault/deletedVaults",
        "properties": {
            "vaultId": body["id"],
            "location": body["location"],
            "deletionDate": now.isoformat(),
            "scheduledPurgeDate": purge_at.isoformat(),
            "tags": body.get("tags") or {},
            "purgeProtectionEnabled": bool(props.get("enablePurgeProtection")),
        },
        _arm.INTERNAL: {"vault": body},
    }
    env.store.put(Kind.DELETED_KEY_VAULT, deleted["id"], deleted)
    env.store.delete(Kind.KEY_VAULT, body["id"])
    return deleted


def _purge(env, deleted: dict) -> None:
    props = deleted["properties"]
    if props.get("purgeProtectionEnabled") and env.clock.now() < parse_time(props["scheduledPurgeDate"]):
        raise AzureError(
            405,
            "MethodNotAllowed",
            f"Operation 'DeletedVaultPurge' is not allowed: vault '{deleted['name']}' has purge "
            f"protection and is purged automatically on {props['scheduledPurgeDate']}.",
        )
    from providers.azurelocal import keystore

    purge_keys = getattr(keystore, "purge_vault", None)
    if callable(purge_keys):
        purge_keys(env, deleted["name"])
    certificate_contacts.purge_vault_contacts(env, deleted["name"])
    env.store.delete(Kind.DELETED_KEY_VAULT, deleted["id"])


def _access_policy_update(env, body: dict, op: str, policies: list[dict]) -> None:
    tenant = body["properties"]["tenantId"]
    current = body["properties"]["accessPolicies"]
    before = [dict(p) for p in current]
    for incoming in (_normalize_policy(p, tenant) for p in policies):
        match = next(
            (
                p
                for p in current
                if p["objectId"].lower() == incoming["objectId"].lower()
                and p.get("applicationId") == incoming.get("applicationId")
            ),
            None,
        )
        if op == "replace" or (op == "add" and match is None):
            if match is not None:
                current.remove(match)
            current.append(incoming)
        elif op == "add":
            assert match is not None  # an "add" without a match appended above
            for kind, perms in incoming["permissions"].items():
                have = match["permissions"].setdefault(kind, [])
                have.extend(p for p in perms if p.lower() not in {h.lower() for h in have})
        elif match is not None:  # remove
            for kind, perms in incoming["permissions"].items():
                drop = {p.lower() for p in perms}
                match["permissions"][kind] = [
                    p for p in match["permissions"].get(kind, []) if p.lower() not in drop
                ]
            if not any(match["permissions"].values()) or not incoming["permissions"]:
                current.remove(match)
    _stamp_grants(env, body, before)


_VAULT_WRITE = re.compile(
    r"^/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\.keyvault/vaults/([^/]+)"
    r"(?:/accesspolicies/[^/]+)?/?$",
    re.IGNORECASE,
)


def write_guard(env):
    """A write to a key vault (the vault or its access policies) takes time; one that overlaps
    another write to the same vault answers 409 ConflictError, as real Key Vault does ("The
    operation failed because the ... 'Key Vault' changed from the point the operation began ...
    serialize the operations": Azure/AzureKeyVault issue 6; azurerm issue 15127, and azurerm
    takes a lock per key vault name for that reason: internal/services/keyvault/
    key_vault_access_policy_resource.go). The hold is kept in the store so every process sees it,
    in wall time, and expires on its own if a writer dies."""

    @contextlib.contextmanager
    def guard(request: Request):
        m = _VAULT_WRITE.match(request.path) if request.method in ("PUT", "PATCH", "DELETE") else None
        window = env.faults.keyvault_write_seconds if m else 0.0
        if m is None or not window:
            yield
            return
        key = f"keyvault_write:{m.group(1).lower()}"
        with env.store.transaction():
            if _held(env.store.meta(key)):
                raise AzureError(
                    409,
                    "ConflictError",
                    f"A conflict occurred that prevented the operation from completing. The operation "
                    f"failed because the key vault '{m.group(1)}' changed from the point the operation "
                    f"began. This can happen if parallel operations are being performed on the key "
                    f"vault. To prevent this error, serialize the operations so that only one operation "
                    f"is performed on the key vault at a time.",
                )
            env.store.set_meta(key, {"until": time.time() + window + 2.0, "pid": os.getpid()})
        try:
            time.sleep(window)
            yield
        finally:
            env.store.set_meta(key, None)

    return guard


def _held(hold) -> bool:
    """A hold counts until it expires, or until its writer (a process on this host) is gone."""
    if not isinstance(hold, dict) or float(hold.get("until") or 0.0) <= time.time():
        return False
    try:
        os.kill(int(hold.get("pid") or 0), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError, OverflowError):
        return True
    return True


def register(router, env) -> None:
    one = _arm.RG + "/providers/" + TYPE + "/{name}"
    env.write_guards.append(write_guard(env))

    load = _arm.loader(env, Kind.KEY_VAULT, TYPE)

    @router.route(ARM, "PUT", one)
    def put_vault(request: Request) -> Response:
        p = request.params
        group = _arm.require_group(env, p["sub"], p["rg"])
        _arm.check_name("keyvault", p["name"])
        data = _arm.body_of(request)
        props_in = data.get("properties") or {}
        rid = _arm.resource_id(p["sub"], group["name"], TYPE, p["name"])
        existing = env.store.get(Kind.KEY_VAULT, rid)
        if existing is None:
            other = by_name(env, p["name"])
            if other is not None:
                # code and wording: azurerm users' reports (Azure/ARO-Landing-Zone-Accelerator issue 28)
                raise AzureError(
                    409,
                    "VaultAlreadyExists",
                    f"The vault name '{p['name']}' is already in use. Vault names are globally "
                    f"unique; choose another name.",
                )
            deleted = deleted_by_name(env, p["name"])
            if deleted is not None:
                if (props_in.get("createMode") or "").lower() != "recover":
                    # 409 ConflictError with this message: alan-turing-institute/data-safe-haven
                    # issue 2523, Azure/azure-dev issue 1431
                    raise AzureError(
                        409,
                        "ConflictError",
                        "A vault with the same name already exists in deleted state. You need to "
                        "either recover (createMode 'recover') or purge the existing key vault.",
                    )
                # recovery brings the vault back under its own id, whatever group the PUT names:
                # Azure/bicep issue 7529 says recovery needs the same resource group; what Azure
                # answers a PUT in another group is not documented (invented: it restores in place)
                restored = deleted[_arm.INTERNAL]["vault"]
                env.store.delete(Kind.DELETED_KEY_VAULT, deleted["id"])
                env.store.put(Kind.KEY_VAULT, restored["id"], restored)
                return _arm.ok(restored, 200)
            if (props_in.get("createMode") or "").lower() == "recover":
                raise AzureError(
                    404, "ResourceNotFound", f"There is no deleted vault named '{p['name']}' to recover."
                )
        location = _arm.location_of(data, existing["location"] if existing else None)
        if existing and location != existing["location"]:
            raise AzureError(
                400,
                "InvalidResourceLocation",
                f"The key vault '{p['name']}' already exists in location '{existing['location']}'.",
            )
        old_props = existing["properties"] if existing else None
        if old_props is not None and props_in.get("accessPolicies") is None:
            props_in = {**props_in, "accessPolicies": old_props.get("accessPolicies", [])}
        properties = (
            _properties(env, props_in, None, p["name"])
            if old_props is None
            else _properties(env, props_in, {**old_props, "accessPolicies": []}, existing["name"])
        )
        if (
            old_props is not None
            and old_props.get("enablePurgeProtection")
            and not properties.get("enablePurgeProtection")
        ):
            properties["enablePurgeProtection"] = True
        body = {
            "id": rid if not existing else existing["id"],
            "name": p["name"] if not existing else existing["name"],
            "type": TYPE,
            "location": location,
            "tags": data.get("tags") or {},
            "properties": properties,
            _arm.INTERNAL: (existing or {}).get(_arm.INTERNAL) or {"created": env.now_iso()},
        }
        _stamp_grants(env, body, old_props.get("accessPolicies", []) if old_props else [])
        env.store.put(Kind.KEY_VAULT, body["id"], body)
        return _arm.ok(body, 200 if existing else 201)

    @router.route(ARM, "PATCH", one)
    def patch_vault(request: Request) -> Response:
        body = load(request.params)
        data = _arm.body_of(request)
        props_in = data.get("properties") or {}
        old_props = body["properties"]
        before = old_props.get("accessPolicies", [])
        merged_in = {k: v for k, v in props_in.items() if v is not None}
        body["properties"] = _properties(env, merged_in, old_props, body["name"])
        if "tags" in data:
            body["tags"] = data["tags"] or {}
        _stamp_grants(env, body, before)
        env.store.put(Kind.KEY_VAULT, body["id"], body)
        return _arm.ok(body)

    @router.route(ARM, "GET", one)
    def get_vault(request: Request) -> Response:
        return _arm.ok(load(request.params))

    @router.route(ARM, "DELETE", one)
    def delete_vault(request: Request) -> Response:
        p = request.params
        _arm.require_group(env, p["sub"], p["rg"])
        body = env.store.get(Kind.KEY_VAULT, _arm.resource_id(p["sub"], p["rg"], TYPE, p["name"]))
        if body is None:
            return Response(204)
        soft_delete_vault(env, body)
        return Response(200)

    @router.route(ARM, "PUT", one + "/accessPolicies/{op}")
    def update_access_policies(request: Request) -> Response:
        p = request.params
        op = p["op"].lower()
        if op not in POLICY_OPS:
            raise bad_request(
                f"The access policy operation '{p['op']}' is not valid; use add, replace or remove."
            )
        body = load(p)
        policies = ((_arm.body_of(request).get("properties") or {}).get("accessPolicies")) or []
        _access_policy_update(env, body, op, policies)
        env.store.put(Kind.KEY_VAULT, body["id"], body)
        return Response(
            200,
            {
                "id": f"{body['id']}/accessPolicies/{op}",
                "name": op,
                "type": "Microsoft.KeyVault/vaults/accessPolicies",
                "location": body["location"],
                "properties": {"accessPolicies": body["properties"]["accessPolicies"]},
            },
        )

    @router.route(ARM, "GET", _arm.RG + "/providers/" + TYPE)
    def list_in_group(request: Request) -> Response:
        p = request.params
        group = _arm.require_group(env, p["sub"], p["rg"])
        return _arm.listing(env.store.list(Kind.KEY_VAULT, group["id"] + "/"), request)

    @router.route(ARM, "GET", "/subscriptions/{sub}/providers/" + TYPE)
    def list_in_subscription(request: Request) -> Response:
        _arm.check_subscription(env, request.params["sub"])
        return _arm.listing(
            env.store.list(Kind.KEY_VAULT, f"/subscriptions/{request.params['sub']}/"), request
        )

    @router.route(ARM, "GET", "/subscriptions/{sub}/providers/Microsoft.KeyVault/deletedVaults")
    def list_deleted(request: Request) -> Response:
        sub = request.params["sub"]
        _arm.check_subscription(env, sub)
        mine = f"/subscriptions/{sub}/".lower()  # the subscription's own, as ARM lists them
        return _arm.listing(
            [b for b in env.store.list(Kind.DELETED_KEY_VAULT) if b["id"].lower().startswith(mine)], request
        )

    deleted_one = "/subscriptions/{sub}/providers/Microsoft.KeyVault/locations/{loc}/deletedVaults/{name}"

    def load_deleted(p: dict) -> dict:
        _arm.check_subscription(env, p["sub"])
        body = env.store.get(
            Kind.DELETED_KEY_VAULT, deleted_id(p["sub"], _arm.normalize_location(p["loc"]), p["name"])
        )
        if body is None:
            raise AzureError(
                404, "ResourceNotFound", f"Deleted vault '{p['name']}' was not found in '{p['loc']}'."
            )
        return body

    @router.route(ARM, "GET", deleted_one)
    def get_deleted(request: Request) -> Response:
        return _arm.ok(load_deleted(request.params))

    @router.route(ARM, "POST", deleted_one + "/purge")
    def purge(request: Request) -> Response:
        deleted = load_deleted(request.params)
        _purge(env, deleted)
        return operations.accepted(env, operations.record_operation(env, deleted["id"], "DeletedVaultPurge"))

    @router.route(ARM, "POST", "/subscriptions/{sub}/providers/Microsoft.KeyVault/checkNameAvailability")
    def check_name(request: Request) -> Response:
        _arm.check_subscription(env, request.params["sub"])
        name = _arm.body_of(request).get("name") or ""
        if by_name(env, name) or deleted_by_name(env, name):
            return Response(
                200,
                {
                    "nameAvailable": False,
                    "reason": "AlreadyExists",
                    "message": f"The vault name '{name}' is already in use.",
                },
            )
        try:
            _arm.check_name("keyvault", name)
        except AzureError as exc:
            return Response(
                200, {"nameAvailable": False, "reason": "AccountNameInvalid", "message": exc.message}
            )
        return Response(200, {"nameAvailable": True})
