"""azurerm_key_vault_access_policy: one entry of a key vault's accessPolicies.

Written through ``.../vaults/{name}/accessPolicies/{add|replace|remove}`` so other
entries are never touched; the id follows azurerm:
``<key vault id>/objectId/<object id>[/applicationId/<application id>]``.
After a grant the provider reads it back until it shows (see ``grants.py``).
"""

from __future__ import annotations

from typing import Any

from providers.azurerm.ids import InvalidIdError, parse_resource_id, same_id
from providers.azurerm.listing import key_vaults_of, read_body
from providers.azurerm.resources.base import Context, Handler, call, dig, not_found_is_none, value
from providers.azurerm.resources.grants import wait_for_key_grant
from providers.azurerm.resources.key_vault import PERMISSION_FIELDS, policy_from_wire, policy_to_wire
from providers.azurerm.resources.vault_locks import key_vault_writer

VAULT_TYPE = "Microsoft.KeyVault/vaults"


def policy_id(key_vault_id: str, object_id: str, application_id: str = "") -> str:
    out = f"{parse_resource_id(key_vault_id, expect=VAULT_TYPE)}/objectId/{object_id}"
    return out + (f"/applicationId/{application_id}" if application_id else "")


def parse_policy_id(id_: str) -> tuple[str, str, str]:
    """-> (key vault id, object id, application id)."""
    low = id_.lower()
    idx = low.find("/objectid/")
    if idx < 0:
        raise InvalidIdError(
            f"{id_!r} is not a key vault access policy id (like <key vault id>/objectId/<object id>).",
            code="InvalidResourceId",
        )
    vault_id = str(parse_resource_id(id_[:idx], expect=VAULT_TYPE))
    rest = id_[idx + len("/objectId/") :].split("/")
    object_id = rest[0]
    application_id = rest[2] if len(rest) >= 3 and rest[1].lower() == "applicationid" else ""
    return vault_id, object_id, application_id


def _matches(entry: dict[str, Any], object_id: str, application_id: str) -> bool:
    return same_id(entry.get("objectId"), object_id) and same_id(
        entry.get("applicationId") or "", application_id or ""
    )


class KeyVaultAccessPolicy(Handler):
    type_name = "azurerm_key_vault_access_policy"
    refreshed = tuple(PERMISSION_FIELDS)
    updatable = tuple(PERMISSION_FIELDS)

    def _send(self, ctx: Context, kind: str, vault_id: str, entry: dict[str, Any]) -> None:
        rid = parse_resource_id(vault_id, expect=VAULT_TYPE)
        body = {"properties": {"accessPolicies": [entry]}}
        with key_vault_writer(rid.name, ctx.waiter.report):
            call(
                lambda: ctx.clients.keyvault_mgmt().vaults.update_access_policy(
                    rid.resource_group, rid.name, kind, body
                )
            )

    def _apply(self, ctx: Context, planned: dict[str, Any], kind: str) -> dict[str, Any]:
        vault_id = planned["key_vault_id"]
        entry = policy_to_wire(planned, planned["tenant_id"])
        self._send(ctx, kind, vault_id, entry)
        state = {"id": policy_id(vault_id, planned["object_id"], value(planned, "application_id", ""))}
        got = wait_for_key_grant(ctx, state, self._read_entry, entry, vault_id)
        return got

    def _read_entry(self, ctx: Context, prior: dict[str, Any]) -> dict[str, Any] | None:
        vault_id, object_id, application_id = parse_policy_id(prior["id"])
        rid = parse_resource_id(vault_id, expect=VAULT_TYPE)
        vault = read_body(
            ctx,
            key_vaults_of(str(rid)),
            str(rid),
            lambda: ctx.clients.keyvault_mgmt().vaults.get(rid.resource_group, rid.name),
        )
        if vault is None:
            return None
        for entry in dig(vault, "properties.accessPolicies") or []:
            if _matches(entry, object_id, application_id):
                state = policy_from_wire(entry)
                state["id"] = prior["id"]
                state["key_vault_id"] = (
                    prior.get("key_vault_id") if same_id(prior.get("key_vault_id"), vault_id) else vault_id
                )
                return state
        return None

    def create(self, ctx: Context, planned: dict[str, Any]) -> dict[str, Any]:
        return self._apply(ctx, planned, "add")

    def read(self, ctx: Context, prior: dict[str, Any]) -> dict[str, Any] | None:
        return self._read_entry(ctx, prior)

    def update(self, ctx, prior, planned, changed):
        return self._apply(ctx, {**planned, "id": prior["id"]}, "replace")

    def delete(self, ctx: Context, prior: dict[str, Any]) -> None:
        vault_id, object_id, application_id = parse_policy_id(prior["id"])
        current = self._read_entry(ctx, prior)
        if current is None:
            return
        entry = policy_to_wire(current, current["tenant_id"])
        not_found_is_none(lambda: self._send(ctx, "remove", vault_id, entry))
