"""Compute inventory: the seeded VMs and disks (read-only), and disk encryption sets.

Disk encryption sets can be created, since a restore may encrypt the restored disks with one:
``rotationToLatestKeyVersionEnabled`` true needs a versionless key URL and false a versioned one,
and a system-assigned identity becomes a principal that can be granted access to the key.
"""

from __future__ import annotations

from typing import Any

from providers.azurelocal.http import AzureError, Request, Response
from providers.azurelocal.router import ARM
from providers.azurelocal.services import _arm
from providers.azurelocal.store import Kind

VM_TYPE = "Microsoft.Compute/virtualMachines"
DISK_TYPE = "Microsoft.Compute/disks"
DES_TYPE = "Microsoft.Compute/diskEncryptionSets"


def invalid(message: str) -> AzureError:
    return AzureError(400, "InvalidParameter", message)


def _des_body(env, rid: str, name: str, data: dict, old: dict | None) -> tuple[dict, str | None]:
    from providers.azurelocal import keystore

    props = data.get("properties") or {}
    key_url = (props.get("activeKey") or {}).get("keyUrl")
    if not key_url:
        raise invalid("properties.activeKey.keyUrl is required.")
    ref, key = keystore.parse_key_id(key_url), keystore.get_key(env, key_url)
    if ref is None or key is None:
        raise invalid(f"The key '{key_url}' was not found; use the id of an existing Key Vault key.")
    rotate = bool(props.get("rotationToLatestKeyVersionEnabled"))
    if rotate and ref.version:
        raise invalid(
            "Automatic key rotation needs a versionless key URL; drop the version from activeKey.keyUrl."
        )
    if not rotate and not ref.version:
        raise invalid("Without automatic key rotation the key URL must name a key version.")
    identity = data.get("identity") or {"type": "SystemAssigned"}
    kind = (identity.get("type") or "SystemAssigned").replace(" ", "")
    if kind.lower() not in ("systemassigned", "userassigned", "systemassigned,userassigned"):
        raise invalid(f"The identity type '{identity.get('type')}' is not valid for a disk encryption set.")
    out_identity = {"type": identity.get("type") or "SystemAssigned"}
    new_principal = None
    if "systemassigned" in kind.lower():
        principal = ((old or {}).get("identity") or {}).get("principalId")
        if not principal:
            principal = new_principal = env.new_guid()
        out_identity.update({"principalId": principal, "tenantId": env.tenant_id})
    if "userassigned" in kind.lower():
        attached = {}
        for identity_id in identity.get("userAssignedIdentities") or {}:
            doc = env.store.get(Kind.IDENTITY, identity_id)
            if doc is None:
                raise invalid(f"The user-assigned identity '{identity_id}' was not found.")
            attached[doc["id"]] = {
                "principalId": doc["properties"]["principalId"],
                "clientId": doc["properties"]["clientId"],
            }
        out_identity["userAssignedIdentities"] = attached
    vault = env.store.get(Kind.KEY_VAULT, key.vault_id)
    properties: dict[str, Any] = {
        "activeKey": {"keyUrl": key_url, "sourceVault": {"id": vault["id"] if vault else None}},
        "encryptionType": props.get("encryptionType") or "EncryptionAtRestWithCustomerKey",
        "rotationToLatestKeyVersionEnabled": rotate,
        "provisioningState": "Succeeded",
        "previousKeys": [],
    }
    body = {
        "id": old["id"] if old else rid,
        "name": old["name"] if old else name,
        "type": DES_TYPE,
        "location": _arm.location_of(data, old["location"] if old else None),
        "tags": data.get("tags") or {},
        "identity": out_identity,
        "properties": properties,
    }
    if props.get("federatedClientId"):
        # multi-tenant application for a key in another tenant (Compute spec, EncryptionSetProperties)
        properties["federatedClientId"] = props["federatedClientId"]
    if old and old["properties"]["activeKey"]["keyUrl"] != key_url:
        properties["previousKeys"] = [old["properties"]["activeKey"]]
    return body, new_principal


def register(router, env) -> None:
    def lister(kind: str, provider_type: str, scope: str):
        def handler(request: Request) -> Response:
            p = request.params
            if scope == "group":
                group = _arm.require_group(env, p["sub"], p["rg"])
                prefix = group["id"] + "/providers/" + provider_type + "/"
            else:
                _arm.check_subscription(env, p["sub"])
                prefix = f"/subscriptions/{p['sub']}/"
            return _arm.listing(
                [b for b in env.store.list(kind, prefix) if b["type"] == provider_type], request
            )

        return handler

    def getter(kind: str, provider_type: str):
        def handler(request: Request) -> Response:
            p = request.params
            _arm.require_group(env, p["sub"], p["rg"])
            body = env.store.get(kind, _arm.resource_id(p["sub"], p["rg"], provider_type, p["name"]))
            if body is None:
                raise _arm.not_found(provider_type, p["name"], p["rg"])
            return _arm.ok(body)

        return handler

    for kind, provider_type in (
        (Kind.VM, VM_TYPE),
        (Kind.DISK, DISK_TYPE),
        (Kind.DISK_ENCRYPTION_SET, DES_TYPE),
    ):
        router.add(
            ARM, "GET", _arm.RG + "/providers/" + provider_type + "/{name}", getter(kind, provider_type)
        )
        router.add(ARM, "GET", _arm.RG + "/providers/" + provider_type, lister(kind, provider_type, "group"))
        router.add(
            ARM, "GET", "/subscriptions/{sub}/providers/" + provider_type, lister(kind, provider_type, "sub")
        )

    des_one = _arm.RG + "/providers/" + DES_TYPE + "/{name}"

    @router.route(ARM, "PUT", des_one)
    def put_des(request: Request) -> Response:
        p = request.params
        group = _arm.require_group(env, p["sub"], p["rg"])
        rid = _arm.resource_id(p["sub"], group["name"], DES_TYPE, p["name"])
        old = env.store.get(Kind.DISK_ENCRYPTION_SET, rid)
        body, new_principal = _des_body(env, rid, p["name"], _arm.body_of(request), old)
        with env.store.transaction():
            if new_principal:
                env.register_principal(
                    {
                        "object_id": new_principal,
                        "tenant_id": env.tenant_id,
                        "type": "ServicePrincipal",
                        "display_name": p["name"],
                        "enabled": True,
                        "kind": "system_assigned",
                        "resource_id": body["id"],
                    }
                )
            env.store.put(Kind.DISK_ENCRYPTION_SET, body["id"], body)
        return _arm.ok(body, 200 if old else 201)

    @router.route(ARM, "DELETE", des_one)
    def delete_des(request: Request) -> Response:
        p = request.params
        _arm.require_group(env, p["sub"], p["rg"])
        body = env.store.get(
            Kind.DISK_ENCRYPTION_SET, _arm.resource_id(p["sub"], p["rg"], DES_TYPE, p["name"])
        )
        if body is None:
            return Response(204)
        users = [
            d["name"]
            for d in env.store.list(Kind.DISK)
            if ((d.get("properties") or {}).get("encryption") or {}).get("diskEncryptionSetId", "").lower()
            == body["id"].lower()
        ]
        if users:
            raise AzureError(
                409,
                "DiskEncryptionSetInUse",
                f"Disk encryption set '{p['name']}' still encrypts disk(s) {', '.join(users)}.",
            )
        with env.store.transaction():
            principal = (body.get("identity") or {}).get("principalId")
            if principal:
                env.remove_principal(principal)
            env.store.delete(Kind.DISK_ENCRYPTION_SET, body["id"])
        return Response(200)
