"""azurerm_disk_encryption_set <-> ``Microsoft.Compute/diskEncryptionSets``.

vaultform carries no compute SDK: the set is written and read through the generic
resources client (``resources.*_by_id`` with the Compute API version), the same
pipeline, credential and transport as every other client.
"""

from __future__ import annotations

from typing import Any

from providers.azurerm.ids import ResourceId, parse_key_id, parse_resource_id
from providers.azurerm.resources.base import (
    Context,
    Handler,
    block,
    call,
    dig,
    keep_location,
    keep_spelling,
    not_found_is_none,
    tags_of,
    value,
    wait_lro,
    wire,
)
from providers.azurerm.resources.key_vault import find_vault_by_uri
from providers.azurerm.resources.recovery_services_vault import identity_from_wire, identity_to_wire

TYPE = "Microsoft.Compute/diskEncryptionSets"
API_VERSION = "2023-04-02"


def set_id(ctx: Context, rg: str, name: str) -> str:
    return str(ResourceId(ctx.subscription_id, rg, "Microsoft.Compute", ("diskEncryptionSets",), (name,)))


def is_managed_hsm(key_url: Any) -> bool:
    """A Managed HSM key (https://{hsm}.managedhsm.azure.net/keys/...) rather than a Key Vault key."""
    host = str(key_url or "").split("://", 1)[-1].split("/", 1)[0].lower()
    return ".managedhsm." in host


def to_state(body: dict[str, Any], ref: dict[str, Any] | None = None) -> dict[str, Any]:
    ref = ref or {}
    rid = parse_resource_id(body["id"], expect=TYPE)
    props = body.get("properties") or {}
    key_url = dig(props, "activeKey.keyUrl")
    hsm = is_managed_hsm(key_url)
    return {
        "id": str(rid),
        "name": rid.name,
        "resource_group_name": rid.resource_group,
        "location": keep_location(ref.get("location"), body.get("location")),
        "key_vault_key_id": None if hsm else keep_spelling(ref.get("key_vault_key_id"), key_url),
        "managed_hsm_key_id": keep_spelling(ref.get("managed_hsm_key_id"), key_url) if hsm else None,
        "auto_key_rotation_enabled": bool(props.get("rotationToLatestKeyVersionEnabled", False)),
        "encryption_type": props.get("encryptionType") or "EncryptionAtRestWithCustomerKey",
        "federated_client_id": props.get("federatedClientId"),
        "key_vault_key_url": key_url,
        "identity": identity_from_wire(body.get("identity"), block(ref, "identity")),
        "tags": dict(body.get("tags") or {}),
    }


class DiskEncryptionSet(Handler):
    type_name = "azurerm_disk_encryption_set"
    refreshed = (
        "key_vault_key_id",
        "managed_hsm_key_id",
        "auto_key_rotation_enabled",
        "identity",
        "key_vault_key_url",
        "federated_client_id",
        "tags",
    )
    updatable = (
        "key_vault_key_id",
        "managed_hsm_key_id",
        "auto_key_rotation_enabled",
        "identity",
        "tags",
        "federated_client_id",
    )

    def _body(self, ctx: Context, planned: dict[str, Any]) -> dict[str, Any]:
        key_id = value(planned, "key_vault_key_id") or planned["managed_hsm_key_id"]
        active: dict[str, Any] = {"keyUrl": key_id}
        if not is_managed_hsm(key_id):  # a Managed HSM key names no key vault resource
            vault = find_vault_by_uri(ctx, parse_key_id(key_id).vault_uri)
            if vault is not None:
                active["sourceVault"] = {"id": str(parse_resource_id(vault["id"]))}
        props: dict[str, Any] = {
            "activeKey": active,
            "encryptionType": value(planned, "encryption_type", "EncryptionAtRestWithCustomerKey"),
            "rotationToLatestKeyVersionEnabled": bool(value(planned, "auto_key_rotation_enabled", False)),
        }
        if value(planned, "federated_client_id"):
            props["federatedClientId"] = planned["federated_client_id"]
        return {
            "location": planned["location"],
            "tags": tags_of(planned),
            "identity": identity_to_wire(block(planned, "identity")),
            "properties": props,
        }

    def _put(self, ctx: Context, id_: str, planned: dict[str, Any]) -> dict[str, Any]:
        body = self._body(ctx, planned)
        res = ctx.clients.resources().resources
        poller = call(lambda: res.begin_create_or_update_by_id(id_, body, api_version=API_VERSION))
        out = wait_lro(poller)
        if out is None:
            out = call(lambda: res.get_by_id(id_, api_version=API_VERSION))
        return to_state(wire(out), planned)

    def create(self, ctx: Context, planned: dict[str, Any]) -> dict[str, Any]:
        return self._put(ctx, set_id(ctx, planned["resource_group_name"], planned["name"]), planned)

    def read(self, ctx: Context, prior: dict[str, Any]) -> dict[str, Any] | None:
        id_ = str(parse_resource_id(prior["id"], expect=TYPE))
        got = not_found_is_none(
            lambda: ctx.clients.resources().resources.get_by_id(id_, api_version=API_VERSION)
        )
        return None if got is None else to_state(wire(got), prior)

    def update(self, ctx, prior, planned, changed):
        return self._put(ctx, str(parse_resource_id(prior["id"], expect=TYPE)), planned)

    def delete(self, ctx: Context, prior: dict[str, Any]) -> None:
        id_ = str(parse_resource_id(prior["id"], expect=TYPE))
        res = ctx.clients.resources().resources
        poller = not_found_is_none(lambda: res.begin_delete_by_id(id_, api_version=API_VERSION))
        if poller is not None:
            not_found_is_none(lambda: wait_lro(poller))
