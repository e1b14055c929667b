"""Recovery Services vaults: create/update/patch/delete/list, identities, and CMK key assignment.

The vault document is Azure's JSON plus ``_emulator`` bookkeeping: ``ever_had_items`` and
``registration_attempts`` (the history that decides whether CMK may be enabled), ``cmk`` (the
assigned key, the identity that used it and when), and the data path's ``dek`` records.
Every refusal comes from ``rules`` with Azure's code.
"""

from __future__ import annotations

import copy

from providers.azurelocal import access, kvrules, rules
from providers.azurelocal.http import AzureError, Request, Response
from providers.azurelocal.router import ARM
from providers.azurelocal.services import _arm, jobs, operations
from providers.azurelocal.store import Kind

TYPE = "Microsoft.RecoveryServices/vaults"
SKUS = {"rs0": "RS0", "standard": "Standard"}
REDUNDANCY = {
    "georedundant": "GeoRedundant",
    "locallyredundant": "LocallyRedundant",
    "zoneredundant": "ZoneRedundant",
}
IMMUTABILITY = {"disabled": "Disabled", "unlocked": "Unlocked", "locked": "Locked"}
IDENTITY_TYPES = {
    "none": "None",
    "systemassigned": "SystemAssigned",
    "userassigned": "UserAssigned",
    "systemassigned,userassigned": "SystemAssigned, UserAssigned",
}
ENCRYPTION_JOB_OPERATION = "ConfigureEncryption"


def bad_request(message: str, code: str = "BadRequest") -> AzureError:
    return AzureError(400, code, message)


def history(vault: dict) -> dict:
    return vault.setdefault(_arm.INTERNAL, {})


LISTED_FIELDS = ("location", "name", "etag", "tags", "id", "type", "sku")


def listed(vault: dict) -> dict:
    """A vault as Azure's vault lists show it: its name, place, tags, sku and etag, and of its
    properties only ``provisioningState`` - no identity, encryption, redundancy or security settings
    (spec examples recoveryservices 2024-04-01 and 2025-02-01 ListResources.json (Vaults_ListByResourceGroup)
    and ListBySubscriptionIds.json (Vaults_ListBySubscriptionId)); a GET of the vault gives the rest.
    Real Azure's lists leave out what its GET gives too (Azure/azure-rest-api-specs issue 33948: the
    2025-02-01 list by resource group has no securitySettings where the vault's GET has them)."""
    out = {k: vault[k] for k in LISTED_FIELDS if k in vault}
    out["properties"] = {
        "provisioningState": (vault.get("properties") or {}).get("provisioningState", "Succeeded")
    }
    return out


def mark_history(env, vault_id: str, *, items: bool = False, attempt: bool = False) -> None:
    """Remember that the vault had items or a registration attempt (failed ones count)."""
    with env.store.transaction():
        vault = env.store.get(Kind.RS_VAULT, vault_id)
        if vault is None:
            return
        h = history(vault)
        if items:
            h["ever_had_items"] = True
        if attempt:
            h["registration_attempts"] = int(h.get("registration_attempts") or 0) + 1
        env.store.put(Kind.RS_VAULT, vault["id"], vault)


def ensure_deletable(env, vault: dict) -> None:
    from providers.azurelocal.services import protected_items  # it imports this module

    protected_items.purge_expired(env, vault["id"])
    items = env.store.list(Kind.PROTECTED_ITEM, vault["id"] + "/")
    containers = env.store.list(Kind.PROTECTION_CONTAINER, vault["id"] + "/")
    # backup data holds the vault as its items do: recovery points of a VM backed up on its own
    # (``cloud backup -vm``) belong to no item record, and Azure refuses to delete a vault that
    # holds backup data all the same (ServiceResourceNotEmptyWithBackendMessage; sources at
    # ``rules.Refusal.VAULT_NOT_EMPTY``: Azure CLI issue 14776, azurerm issue 8351)
    itemless = sorted(
        {
            rp["id"].split("/protectedItems/", 1)[1].split("/", 1)[0].removeprefix("vm;")
            for rp in env.store.list(Kind.RECOVERY_POINT, vault["id"] + "/")
            if not any(rp["id"].lower().startswith(i["id"].lower() + "/") for i in items)
        }
    )
    if items or containers or itemless:
        soft = {
            i["properties"].get("friendlyName", i["name"]): i["properties"]["deferredDeleteTimeInUTC"]
            for i in items
            if protected_items.soft_deleted(i)
        }
        names = sorted(
            {c["properties"].get("friendlyName", c["name"]) for c in containers}
            | {i["properties"].get("friendlyName", i["name"]) for i in items}
            | {f"{name} (recovery points)" for name in itemless}
        )
        names = [f"{n} (soft-deleted until {soft[n]})" if n in soft else n for n in names]
        raise rules.Refusal.VAULT_NOT_EMPTY.error(items=", ".join(names))


def forget(env, vault: dict) -> None:
    """The vault is gone: so is its system-assigned principal and its dependent records."""
    principal = (vault.get("identity") or {}).get("principalId")
    if principal:
        env.remove_principal(principal)
    for kind in (Kind.JOB, Kind.BACKUP_POLICY, Kind.RECOVERY_POINT, Kind.OPERATION):
        for body in env.store.list(kind, vault["id"] + "/"):
            env.store.delete(kind, body["id"])


# ---------------------------------------------------------------------- document building


def _normalize_identity(env, data: dict | None, old: dict | None) -> tuple[dict | None, str | None]:
    """The vault's identity block and the new system principal id (if one must be registered)."""
    if data is None:
        return None, None
    raw = (data.get("type") or "None").replace(" ", "").lower()
    kind = IDENTITY_TYPES.get(raw)
    if kind is None:
        raise bad_request(
            f"The identity type '{data.get('type')}' is not valid; use SystemAssigned, UserAssigned, "
            f"'SystemAssigned, UserAssigned' or None.",
            "InvalidIdentityType",
        )
    out: dict = {"type": kind}
    new_principal = None
    types = rules.identity_types(out)
    if "SystemAssigned" in types:
        old_principal = (
            (old or {}).get("principalId") if "SystemAssigned" in rules.identity_types(old) else None
        )
        out["principalId"] = old_principal or env.new_guid()
        out["tenantId"] = env.tenant_id
        new_principal = None if old_principal else out["principalId"]
    if "UserAssigned" in types:
        wanted = data.get("userAssignedIdentities") or {}
        if not wanted:
            raise bad_request(
                "Identity type UserAssigned needs at least one entry in userAssignedIdentities.",
                "InvalidIdentity",
            )
        attached = {}
        for identity_id in wanted:
            doc = env.store.get(Kind.IDENTITY, identity_id)
            if doc is None:
                raise bad_request(
                    f"The user-assigned identity '{identity_id}' was not found.", "InvalidIdentity"
                )
            attached[doc["id"]] = {
                "principalId": doc["properties"]["principalId"],
                "clientId": doc["properties"]["clientId"],
            }
        out["userAssignedIdentities"] = attached
    elif data.get("userAssignedIdentities"):
        raise bad_request(
            "userAssignedIdentities is set but the identity type has no UserAssigned.", "InvalidIdentity"
        )
    return out, new_principal


def _normalize_properties(props: dict) -> dict:
    out = copy.deepcopy(props)
    for readonly in (
        "provisioningState",
        "privateEndpointConnections",
        "upgradeDetails",
        "moveDetails",
        "moveState",
        "backupStorageVersion",
        "bcdrSecurityLevel",
        "secureScore",
    ):
        out.pop(readonly, None)
    red = out.get("redundancySettings") or {}
    storage = REDUNDANCY.get(str(red.get("standardTierStorageRedundancy") or "GeoRedundant").lower())
    if storage is None:
        raise bad_request(
            f"standardTierStorageRedundancy '{red.get('standardTierStorageRedundancy')}' is not valid; "
            f"use GeoRedundant, LocallyRedundant or ZoneRedundant."
        )
    crr = "Enabled" if str(red.get("crossRegionRestore") or "Disabled").lower() == "enabled" else "Disabled"
    out["redundancySettings"] = {"standardTierStorageRedundancy": storage, "crossRegionRestore": crr}
    security = out.get("securitySettings") or {}
    imm = (security.get("immutabilitySettings") or {}).get("state")
    if imm is not None:
        if IMMUTABILITY.get(str(imm).lower()) is None:
            raise bad_request(f"Immutability state '{imm}' is not valid; use Disabled, Unlocked or Locked.")
        security["immutabilitySettings"] = {"state": IMMUTABILITY[str(imm).lower()]}
    soft = security.get("softDeleteSettings") or {}
    security["softDeleteSettings"] = {
        "softDeleteState": soft.get("softDeleteState") or "Enabled",
        "softDeleteRetentionPeriodInDays": int(soft.get("softDeleteRetentionPeriodInDays") or 14),
        "enhancedSecurityState": soft.get("enhancedSecurityState") or "Enabled",
    }
    out["securitySettings"] = security
    pna = str(out.get("publicNetworkAccess") or "Enabled")
    out["publicNetworkAccess"] = "Disabled" if pna.lower() == "disabled" else "Enabled"
    enc = out.get("encryption")
    if enc:
        infra = enc.get("infrastructureEncryption")
        if infra is not None and str(infra).lower() not in ("enabled", "disabled"):
            raise bad_request(f"infrastructureEncryption '{infra}' is not valid; use Enabled or Disabled.")
        enc["infrastructureEncryption"] = (
            "Enabled" if str(infra or "Disabled").lower() == "enabled" else "Disabled"
        )
        kek = enc.get("kekIdentity") or {}
        if not kek.get("userAssignedIdentity") and kek.get("useSystemAssignedIdentity") is None:
            kek["useSystemAssignedIdentity"] = True
        enc["kekIdentity"] = kek
    else:
        out.pop("encryption", None)
    out["provisioningState"] = "Succeeded"
    out.setdefault("privateEndpointStateForBackup", "None")
    out.setdefault("privateEndpointStateForSiteRecovery", "None")
    out["backupStorageVersion"] = "V2"
    return out


def _check_storage(vault: dict, old: dict | None) -> None:
    red = vault["properties"]["redundancySettings"]
    if red["crossRegionRestore"] == "Enabled" and red["standardTierStorageRedundancy"] != "GeoRedundant":
        raise rules.Refusal.CRR_NEEDS_GRS.error(
            vault=vault["name"], storage=red["standardTierStorageRedundancy"]
        )
    if old is None:
        return
    if old["properties"]["redundancySettings"].get("crossRegionRestore") == "Enabled" and (
        red["crossRegionRestore"] != "Enabled"
    ):
        raise rules.Refusal.CRR_FINAL.error(vault=vault["name"])
    old_storage = old["properties"]["redundancySettings"]["standardTierStorageRedundancy"]
    if old_storage != red["standardTierStorageRedundancy"] and history(old).get("ever_had_items"):
        raise rules.Refusal.STORAGE_TYPE_LOCKED.error(vault=vault["name"])


def assign_key(env, vault: dict, caller: str | None) -> dict:
    """Check and record a CMK assignment (raises Azure's error); returns the ``cmk`` record."""
    from providers.azurelocal import keystore

    key_uri = rules.cmk_key_uri(vault)
    principal, user_assigned = rules.cmk_identity_principal(vault)
    key = keystore.get_key(env, key_uri)
    if key is None:
        raise rules.Refusal.CMK_KEY_NOT_FOUND.error(key=key_uri)
    rules.check_key_shape(key, key_uri, vault["location"], env.clock.now())
    key_vault = env.store.get(Kind.KEY_VAULT, key.vault_id)
    rules.check_key_vault_protection(key_vault, key.vault_name)
    if user_assigned:
        rules.check_user_identity_network(vault, key_vault)
    record = env.principal(principal)
    if record is None or not record.get("enabled", True):
        raise rules.Refusal.CMK_KEY_VAULT_AUTH.error(
            principal=principal,
            permission="get a token",
            key=key_uri,
            reason="the identity is disabled or no longer exists",
        )
    try:
        kvrules.check_network(env, key_vault, client_address=None, trusted_service=True)
    except AzureError as exc:
        raise rules.Refusal.CMK_KEY_VAULT_AUTH.error(
            principal=principal,
            permission="reach the key vault",
            key=key_uri,
            reason=exc.message.replace("\r\n", " "),
        ) from exc
    for permission in rules.CMK_PERMISSIONS:
        try:
            access.check_key_permission(
                env, principal, key.vault_id, permission, key_name=key.name, for_backup=True
            )
        except AzureError as exc:
            inner = getattr(exc, "inner", None)
            raise rules.Refusal.CMK_KEY_VAULT_AUTH.error(
                principal=principal,
                permission=permission,
                key=key_uri,
                reason=f"{exc.code}{f' ({inner})' if inner else ''}: {exc.message}",
            ) from exc
    return {
        "key_uri": key_uri,
        "key_version": key.version,
        "versionless": key_uri.rstrip("/").count("/") == 4,
        "principal_id": principal,
        "user_assigned": user_assigned,
        "assigned_at": env.now_iso(),
        "assigned_by": caller,
    }


def _record_assignment(env, vault: dict, caller: str | None) -> None:
    job = jobs.create_job(
        env, vault["id"], ENCRYPTION_JOB_OPERATION, vault["name"], "InProgress", management_type="Vault"
    )
    try:
        record = assign_key(env, vault, caller)
    except AzureError as exc:
        jobs.finish_job(env, job["id"], "Failed", {"code": exc.code, "message": exc.message})
        raise
    history(vault)["cmk"] = record
    jobs.finish_job(env, job["id"], "Completed")
    env.log(
        caller,
        "Microsoft.RecoveryServices/vaults/encryption/write",
        vault["id"],
        "Succeeded",
        f"key {record['key_uri']} via principal {record['principal_id']}",
    )


def save(env, old: dict | None, new: dict, caller: str | None, new_principal: str | None) -> None:
    """Validate ``new`` against ``old`` and Azure's rules, assign the key when it changed, persist."""
    _check_storage(new, old)
    if old is not None:
        rules.check_vault_update(old, new)
    else:
        rules.check_immutability(new["name"], None, rules.immutability_state(new))
    if rules.key_changed(old, new):
        if not (old and rules.encryption_of(old)):
            rules.check_cmk_history(new, history(new))
        _record_assignment(env, new, caller)
    with env.store.transaction():
        if new_principal:
            env.register_principal(
                {
                    "object_id": new_principal,
                    "tenant_id": env.tenant_id,
                    "type": "ServicePrincipal",
                    "display_name": new["name"],
                    "enabled": True,
                    "kind": "system_assigned",
                    "resource_id": new["id"],
                }
            )
        old_principal = ((old or {}).get("identity") or {}).get("principalId")
        if old_principal and old_principal != (new.get("identity") or {}).get("principalId"):
            env.remove_principal(old_principal)
        env.store.put(Kind.RS_VAULT, new["id"], new)


def build(env, rid: str, name: str, data: dict, old: dict | None) -> tuple[dict, str | None]:
    location = _arm.location_of(data, old["location"] if old else None)
    if old and location != old["location"]:
        raise bad_request(
            f"The vault '{name}' already exists in location '{old['location']}'.", "InvalidResourceLocation"
        )
    sku_name = SKUS.get(str((data.get("sku") or {}).get("name") or "Standard").lower())
    if sku_name is None:
        raise bad_request(
            f"The sku '{(data.get('sku') or {}).get('name')}' is not valid; use RS0 or Standard.",
            "InvalidSku",
        )
    identity, new_principal = _normalize_identity(env, data.get("identity"), (old or {}).get("identity"))
    body = {
        "id": old["id"] if old else rid,
        "name": old["name"] if old else name,
        "type": TYPE,
        "location": location,
        "tags": data.get("tags") or {},
        "etag": f"W/\"datetime'{env.now_iso()}'\"",
        "sku": {"name": sku_name, "tier": "Standard"},
        "properties": _normalize_properties(data.get("properties") or {}),
        _arm.INTERNAL: copy.deepcopy(
            (old or {}).get(_arm.INTERNAL)
            or {"created": env.now_iso(), "ever_had_items": False, "registration_attempts": 0}
        ),
    }
    if identity is not None:
        body["identity"] = identity
    return body, new_principal


def vault_operation_headers(vault_id: str, op: str) -> dict[str, str]:
    """A vault operation's status endpoints, where the 2025-02-01 examples put them
    (PATCHVault_WithCMK.json 202: Azure-AsyncOperation .../vaults/{name}/operationStatus/{id},
    Location .../operationResults/{id}, Retry-After); Retry-After 0 so pollers don't wait."""
    base = f"{operations.ARM_BASE}{vault_id}"
    version = f"api-version={operations.API_VERSION}"
    return {
        "Azure-AsyncOperation": f"{base}/operationStatus/{op}?{version}",
        "Location": f"{base}/operationResults/{op}?{version}",
        "Retry-After": "0",
    }


def register(router, env) -> None:
    one = _arm.RG + "/providers/" + TYPE + "/{name}"

    load = _arm.loader(env, Kind.RS_VAULT, TYPE)

    @router.route(ARM, "PUT", one)
    def put_vault(request: Request) -> Response:
        p = request.params
        group = _arm.require_group(env, p["sub"], p["rg"])
        _arm.check_name("rsvault", p["name"])
        rid = _arm.resource_id(p["sub"], group["name"], TYPE, p["name"])
        old = env.store.get(Kind.RS_VAULT, rid)
        data = _arm.body_of(request)
        kinds = rules.identity_types(data.get("identity")) if old is None else frozenset()
        if kinds == {"SystemAssigned", "UserAssigned"}:
            # azure-rest-api-specs issue 27851: a vault created with "SystemAssigned, UserAssigned"
            # comes back (and stays) with identity type None; a later PATCH attaches both.
            data = {**data, "identity": {"type": "None"}}
        new, new_principal = build(env, rid, p["name"], data, old)
        save(env, old, new, _arm.caller_id(request), new_principal)
        body = env.store.get(Kind.RS_VAULT, new["id"])
        if kinds == {"UserAssigned"}:
            # azure-rest-api-specs issue 27869: creating a vault with a user-assigned identity
            # answers 201 with an Azure-AsyncOperation whose GET is 404, though the vault exists.
            lost = operations.unknown_operation(env)
            return _arm.ok(body, 201, vault_operation_headers(body["id"], lost))
        return _arm.ok(body, 200 if old else 201)

    @router.route(ARM, "PATCH", one)
    def patch_vault(request: Request) -> Response:
        old = load(request.params)
        patch = _arm.body_of(request)
        merged = _arm.merge(
            _arm.public(old),
            {k: v for k, v in patch.items() if k in ("tags", "sku", "identity", "properties", "etag")},
        )
        identity = merged.get("identity")
        if identity and "UserAssigned" not in rules.identity_types(identity):
            identity.pop("userAssignedIdentities", None)
        new, new_principal = build(env, old["id"], old["name"], merged, old)
        try:
            save(env, old, new, _arm.caller_id(request), new_principal)
        except AzureError as exc:
            if exc.code != rules.Refusal.CMK_KEY_VAULT_AUTH.value.code:
                raise
            # Azure accepts the key assignment and fails it in the long-running operation: the
            # PATCH answers 202, and polling the operation gives status Failed with
            # UserErrorCMKKeyVaultAuthFailure wrapping Key Vault's 403 (ForbiddenByRbac /
            # ForbiddenByPolicy) - azurerm issue 27817 shows it from ".../operationStatus/...".
            failed = operations.record_operation(
                env,
                old["id"],
                "UpdateVault",
                status="Failed",
                error={"code": exc.code, "message": exc.message},
            )
            return Response(202, None, vault_operation_headers(old["id"], failed["name"]))
        return _arm.ok(env.store.get(Kind.RS_VAULT, new["id"]))

    @router.route(ARM, "GET", one)
    def get_vault(request: Request) -> Response:
        return _arm.ok(load(request.params))

    @router.route(ARM, "DELETE", one)
    def delete_vault(request: Request) -> Response:
        p = request.params
        _arm.require_group(env, p["sub"], p["rg"])
        vault = env.store.get(Kind.RS_VAULT, _arm.resource_id(p["sub"], p["rg"], TYPE, p["name"]))
        if vault is None:
            return Response(204)
        ensure_deletable(env, vault)
        with env.store.transaction():
            forget(env, vault)
            env.store.delete(Kind.RS_VAULT, vault["id"])
        return operations.accepted(env, operations.record_operation(env, vault["id"], "DeleteVault"))

    def vault_operation(request: Request) -> dict:
        vault_id = _arm.resource_id(request.params["sub"], request.params["rg"], TYPE, request.params["name"])
        op = env.store.get(Kind.OPERATION, request.params["op"])
        if op is None or op.get("resourceId", "").lower() != vault_id.lower():
            # invented code (see operations.py); azure-rest-api-specs issue 27869 shows the 404
            raise AzureError(
                404, "OperationNotFound", f"The operation '{request.params['op']}' was not found."
            )
        return op

    @router.route(ARM, "GET", one + "/operationStatus/{op}")
    def operation_status(request: Request) -> Response:
        # GetOperationStatus.json (2025-02-01): id, name, status, startTime, endTime (+ error)
        op = vault_operation(request)
        body = {
            "id": f"{op['resourceId']}/operationStatus/{op['name']}",
            "name": op["name"],
            "status": op["status"],
            "startTime": op["startTime"],
            "endTime": op["endTime"],
        }
        if op.get("error"):
            body["error"] = op["error"]
        return Response(200, body)

    @router.route(ARM, "GET", one + "/operationResults/{op}")
    def operation_result(request: Request) -> Response:
        # GetOperationResult.json (2025-02-01): the vault when done
        op = vault_operation(request)
        if op["status"] == "Failed":
            err = op.get("error") or {}
            raise AzureError(
                400, err.get("code", "OperationFailed"), err.get("message", "The operation failed.")
            )
        return _arm.ok(load(request.params))

    # Site Recovery's vault settings (api-version 2024-04-01, recoveryservicessiterecovery
    # replicationVaultSettings): azurerm writes setting "default" with vmwareToAzureProviderType
    # "Vmware" for classic_vmware_replication_enabled and reads it back on every refresh.
    def setting_body(vault: dict, name: str) -> dict:
        props = (history(vault).get("replication_vault_settings") or {}).get(name.lower()) or {}
        return {
            "id": f"{vault['id']}/replicationVaultSettings/{name}",
            "name": name,
            "type": "Microsoft.RecoveryServices/vaults/replicationVaultSettings",
            "properties": dict(props),
        }

    @router.route(ARM, "GET", one + "/replicationVaultSettings/{setting}")
    def get_setting(request: Request) -> Response:
        return Response(200, setting_body(load(request.params), request.params["setting"]))

    @router.route(ARM, "PUT", one + "/replicationVaultSettings/{setting}")
    def put_setting(request: Request) -> Response:
        vault = load(request.params)
        name = request.params["setting"]
        props_in = _arm.body_of(request).get("properties") or {}
        kept = {
            k: props_in[k]
            for k in ("vmwareToAzureProviderType", "hyperVToAzureProviderType", "migrationSolutionId")
            if props_in.get(k) is not None
        }
        history(vault).setdefault("replication_vault_settings", {})[name.lower()] = kept
        env.store.put(Kind.RS_VAULT, vault["id"], vault)
        return Response(200, setting_body(vault, name))

    @router.route(ARM, "GET", _arm.RG + "/providers/" + TYPE)
    def list_in_group(request: Request) -> Response:
        p = request.params
        group = _arm.require_group(env, p["sub"], p["rg"])
        return _arm.listing(
            [listed(v) for v in env.store.list(Kind.RS_VAULT, group["id"] + "/") if v["id"].count("/") == 8],
            request,
        )

    @router.route(ARM, "GET", "/subscriptions/{sub}/providers/" + TYPE)
    def list_in_subscription(request: Request) -> Response:
        _arm.check_subscription(env, request.params["sub"])
        return _arm.listing(
            [listed(v) for v in env.store.list(Kind.RS_VAULT, f"/subscriptions/{request.params['sub']}/")],
            request,
        )
