"""A vault's backup configuration resources, views over the vault document:
``backupstorageconfig/vaultstorageconfig`` (storage redundancy, cross region restore),
``backupconfig/vaultconfig`` (soft delete) and ``backupEncryptionConfigs/backupResourceEncryptionConfig``
(the key, set through the same checks as the vault's ``properties.encryption``)."""

from __future__ import annotations

import copy
from typing import Any

from providers.azurelocal import rules
from providers.azurelocal.http import AzureError, Request, Response
from providers.azurelocal.router import ARM
from providers.azurelocal.services import _arm, recovery_vaults
from providers.azurelocal.store import Kind

VAULT = _arm.RG + "/providers/Microsoft.RecoveryServices/vaults/{vault}"
STORAGE = VAULT + "/backupstorageconfig/vaultstorageconfig"
CONFIG = VAULT + "/backupconfig/vaultconfig"
ENCRYPTION = VAULT + "/backupEncryptionConfigs/backupResourceEncryptionConfig"


def storage_view(vault: dict) -> dict:
    red = vault["properties"]["redundancySettings"]
    locked = bool(recovery_vaults.history(copy.deepcopy(vault)).get("ever_had_items"))
    return {
        "id": vault["id"] + "/backupstorageconfig/vaultstorageconfig",
        "name": "vaultstorageconfig",
        "type": "Microsoft.RecoveryServices/vaults/backupstorageconfig",
        "location": vault["location"],
        "properties": {
            "storageModelType": red["standardTierStorageRedundancy"],
            "storageType": red["standardTierStorageRedundancy"],
            "storageTypeState": "Locked" if locked else "Unlocked",
            "crossRegionRestoreFlag": red["crossRegionRestore"] == "Enabled",
            "dedupState": "Disabled",
            "xcoolState": "Disabled",
        },
    }


def config_view(vault: dict) -> dict:
    soft = vault["properties"]["securitySettings"]["softDeleteSettings"]
    red = vault["properties"]["redundancySettings"]
    return {
        "id": vault["id"] + "/backupconfig/vaultconfig",
        "name": "vaultconfig",
        "type": "Microsoft.RecoveryServices/vaults/backupconfig",
        "location": vault["location"],
        "properties": {
            "storageModelType": red["standardTierStorageRedundancy"],
            "storageType": red["standardTierStorageRedundancy"],
            "softDeleteFeatureState": soft["softDeleteState"],
            "softDeleteRetentionPeriodInDays": soft["softDeleteRetentionPeriodInDays"],
            "enhancedSecurityState": soft.get("enhancedSecurityState", "Enabled"),
            "isSoftDeleteFeatureStateEditable": soft["softDeleteState"] != "AlwaysON",
        },
    }


def encryption_view(env, vault: dict) -> dict:
    enc = rules.encryption_of(vault)
    cmk = recovery_vaults.history(copy.deepcopy(vault)).get("cmk") or {}
    props = {
        "encryptionAtRestType": "CustomerManaged" if enc else "MicrosoftManaged",
        "lastUpdateStatus": "Succeeded" if enc else "NotEnabled",
        "infrastructureEncryptionState": (enc or {}).get("infrastructureEncryption", "Disabled"),
    }
    if enc:
        props.update(
            {
                "keyUri": enc["keyVaultProperties"]["keyUri"],
                "subscriptionId": env.subscription_id,
                "identityType": "UserAssigned" if cmk.get("user_assigned") else "SystemAssigned",
            }
        )
        if (enc.get("kekIdentity") or {}).get("userAssignedIdentity"):
            props["userAssignedIdentity"] = enc["kekIdentity"]["userAssignedIdentity"]
    return {
        "id": vault["id"] + "/backupEncryptionConfigs/backupResourceEncryptionConfig",
        "name": "backupResourceEncryptionConfig",
        "type": "Microsoft.RecoveryServices/vaults/backupEncryptionConfigs",
        "location": vault["location"],
        "properties": props,
    }


def _vault(env, p: dict) -> dict:
    _arm.require_group(env, p["sub"], p["rg"])
    vault = env.store.get(
        Kind.RS_VAULT, _arm.resource_id(p["sub"], p["rg"], "Microsoft.RecoveryServices/vaults", p["vault"])
    )
    if vault is None:
        raise _arm.not_found("Microsoft.RecoveryServices/vaults", p["vault"], p["rg"])
    return vault


def _apply(env, request: Request, old: dict, change) -> dict:
    data = copy.deepcopy(_arm.public(old))
    change(data)
    new, new_principal = recovery_vaults.build(env, old["id"], old["name"], data, old)
    recovery_vaults.save(env, old, new, _arm.caller_id(request), new_principal)
    return env.store.get(Kind.RS_VAULT, old["id"])


def register(router, env) -> None:
    @router.route(ARM, "GET", STORAGE)
    def get_storage(request: Request) -> Response:
        return Response(200, storage_view(_vault(env, request.params)))

    def put_storage(request: Request) -> Response:
        old = _vault(env, request.params)
        props = _arm.body_of(request).get("properties") or {}

        def change(data: dict) -> None:
            red = data["properties"]["redundancySettings"]
            storage = props.get("storageModelType") or props.get("storageType")
            if storage:
                red["standardTierStorageRedundancy"] = storage
            if props.get("crossRegionRestoreFlag") is not None:
                red["crossRegionRestore"] = "Enabled" if props["crossRegionRestoreFlag"] else "Disabled"

        return Response(200, storage_view(_apply(env, request, old, change)))

    router.add(ARM, "PUT", STORAGE, put_storage)
    router.add(ARM, "PATCH", STORAGE, put_storage)

    @router.route(ARM, "GET", CONFIG)
    def get_config(request: Request) -> Response:
        return Response(200, config_view(_vault(env, request.params)))

    def put_config(request: Request) -> Response:
        old = _vault(env, request.params)
        props = _arm.body_of(request).get("properties") or {}

        def change(data: dict) -> None:
            soft = data["properties"]["securitySettings"]["softDeleteSettings"]
            if props.get("softDeleteFeatureState"):
                if soft["softDeleteState"] == "AlwaysON" and props["softDeleteFeatureState"] != "AlwaysON":
                    raise AzureError(
                        400,
                        # invented code (none found publicly)
                        "BMSUserErrorSoftDeleteStateAlwaysOn",
                        "Soft delete is always on for this vault and can't be turned off.",
                    )
                soft["softDeleteState"] = props["softDeleteFeatureState"]
            if props.get("softDeleteRetentionPeriodInDays"):
                soft["softDeleteRetentionPeriodInDays"] = int(props["softDeleteRetentionPeriodInDays"])
            if props.get("enhancedSecurityState"):
                soft["enhancedSecurityState"] = props["enhancedSecurityState"]

        return Response(200, config_view(_apply(env, request, old, change)))

    router.add(ARM, "PUT", CONFIG, put_config)
    router.add(ARM, "PATCH", CONFIG, put_config)

    @router.route(ARM, "GET", ENCRYPTION)
    def get_encryption(request: Request) -> Response:
        return Response(200, encryption_view(env, _vault(env, request.params)))

    @router.route(ARM, "PUT", ENCRYPTION)
    def put_encryption(request: Request) -> Response:
        old = _vault(env, request.params)
        props = _arm.body_of(request).get("properties") or {}
        if (props.get("encryptionAtRestType") or "CustomerManaged") != "CustomerManaged":
            raise (
                rules.Refusal.CMK_REMOVAL.error(vault=old["name"])
                if rules.encryption_of(old)
                else AzureError(
                    # real code: az backup troubleshooting notes quote 'BMSUserErrorInvalidInput: Input provided for the call is invalid.' (400)
                    400,
                    "BMSUserErrorInvalidInput",
                    "Only CustomerManaged encryption can be configured here.",
                )
            )
        if not props.get("keyUri"):
            # real code: az backup troubleshooting notes quote 'BMSUserErrorInvalidInput: Input provided for the call is invalid.' (400)
            raise AzureError(400, "BMSUserErrorInvalidInput", "keyUri is required.")

        def change(data: dict) -> None:
            enc: dict[str, Any] = {"keyVaultProperties": {"keyUri": props["keyUri"]}}
            if props.get("userAssignedIdentity"):
                enc["kekIdentity"] = {
                    "userAssignedIdentity": props["userAssignedIdentity"],
                    "useSystemAssignedIdentity": False,
                }
            else:
                enc["kekIdentity"] = {"useSystemAssignedIdentity": True}
            infra = props.get("infrastructureEncryptionState")
            previous = (data["properties"].get("encryption") or {}).get("infrastructureEncryption")
            enc["infrastructureEncryption"] = infra or previous or "Disabled"
            data["properties"]["encryption"] = enc

        _apply(env, request, old, change)
        return Response(200)
