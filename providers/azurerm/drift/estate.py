"""What an estate's azurerm objects say about each other, for drift.

``facts_of`` gathers the facts the consequence table's conditions need (which key vaults
hold a Recovery Services vault's key, which identities wrap data keys). ``own`` limits a
key vault's access policies to those that are its own: not managed by separate
``azurerm_key_vault_access_policy`` objects and, when the configuration is known, set
inline (the rest of the list mirrors grants made elsewhere; those are reported on their
own objects or as unmanaged). ``scope`` names the resource groups and key vaults the
estate lives in, where unmanaged objects are looked for.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from providers.azurerm.drift.classify import Facts
from providers.azurerm.drift.types import KV, POLICY, RESOURCE_GROUP, RSV, UAI
from providers.azurerm.listing import home_subscription
from providers.drift_protocol import DriftEstate, EstateObject


def _vault_uri_of_key(key_id: Any) -> str:
    text = str(key_id or "")
    if "://" not in text:
        return ""
    scheme, rest = text.split("://", 1)
    return f"{scheme}://{rest.split('/', 1)[0]}".lower()


def _first(blocks: Any) -> dict:
    return blocks[0] if isinstance(blocks, list) and blocks and isinstance(blocks[0], dict) else {}


def _attribute_sets(estate: DriftEstate) -> list[tuple[str, dict]]:
    """(type, attributes) of every recorded and refreshed object."""
    return [(o.type, o.recorded) for o in estate.objects] + [
        (o.type, o.refreshed) for o in estate.objects if o.refreshed
    ]


def facts_of(estate: DriftEstate) -> Facts:
    objects = _attribute_sets(estate)
    facts = Facts(now=estate.now or datetime.now(UTC))
    identities = {str(a.get("id") or "").lower(): a for t, a in objects if t == UAI}
    for type_name, attrs in objects:
        if type_name != RSV:
            continue
        enc = _first(attrs.get("encryption"))
        uri = _vault_uri_of_key(enc.get("key_id"))
        if not uri:
            continue
        facts.cmk_key_vault_uris.add(uri)
        user = str(enc.get("user_assigned_identity_id") or "").lower()
        if user:
            facts.user_identity_key_vault_uris.add(uri)
            principal = (identities.get(user) or {}).get("principal_id")
            if principal:
                facts.cmk_principals.add(str(principal).lower())
        else:
            principal = _first(attrs.get("identity")).get("principal_id")
            if principal:
                facts.cmk_principals.add(str(principal).lower())
    return facts


def separately_managed_policies(estate: DriftEstate) -> dict[str, set]:
    """key vault id (lower) -> object ids whose grant an access-policy object manages."""
    out: dict[str, set] = {}
    for o in estate.objects:
        if o.type != POLICY:
            continue
        for attrs in (o.recorded, o.refreshed or {}):
            if attrs.get("key_vault_id") and attrs.get("object_id"):
                out.setdefault(str(attrs["key_vault_id"]).lower(), set()).add(str(attrs["object_id"]).lower())
    return out


def inline_policy_ids(config: dict | None) -> set[str] | None:
    """Object ids of the access policies a key vault's configuration sets inline (None: unknown)."""
    if config is None:
        return None
    return {
        str(p.get("object_id") or "").lower()
        for p in config.get("access_policy") or []
        if isinstance(p, dict)
    }


def policies_kept(attrs: dict | None, skip: set, only: set | None) -> dict | None:
    if attrs is None or not isinstance(attrs.get("access_policy"), list):
        return attrs
    kept = [
        p
        for p in attrs["access_policy"]
        if str(p.get("object_id") or "").lower() not in skip
        and (only is None or str(p.get("object_id") or "").lower() in only)
    ]
    return {**attrs, "access_policy": kept}


def own(estate: DriftEstate):
    """``(address, attributes) -> attributes`` without the access policies that aren't the object's own."""
    managed = separately_managed_policies(estate)
    by_address = {o.address: o for o in estate.objects}

    def kept(address: str, attrs: dict | None) -> dict | None:
        o = by_address.get(address)
        if o is None:
            return attrs
        skip = managed.get(str(o.recorded.get("id") or "").lower(), set())
        return policies_kept(attrs, skip, inline_policy_ids(o.config))

    return kept


def scope(estate: DriftEstate) -> tuple[list[tuple[str, str]], list[str]]:
    """The resource groups, each as (its subscription, its name), and the key vault ids (of key vaults
    that could be read) the estate lives in. A group's subscription is the one its object's id names
    ("" when none does yet: the provider's); a group of the same name elsewhere is another group."""
    groups: set[tuple[str, str]] = set()
    key_vaults: set[str] = set()
    for o in estate.objects:
        attrs = o.current
        home = (home_subscription(attrs) or "").lower()
        if o.type == RESOURCE_GROUP and attrs.get("name"):
            groups.add((home, str(attrs["name"])))
        elif attrs.get("resource_group_name"):
            groups.add((home, str(attrs["resource_group_name"])))
        if o.type == KV and attrs.get("id") and o.refreshed is not None:
            key_vaults.add(str(attrs["id"]))
    return sorted(groups, key=lambda g: (g[0], g[1].lower())), sorted(key_vaults, key=str.lower)


def known_objects(estate: DriftEstate) -> list[tuple[str, dict]]:
    """(type, attributes) of the estate's objects as state records them, a key vault's access
    policies limited to those set inline: what the unmanaged listing must not report."""
    out = []
    for o in estate.objects:
        attrs = o.recorded
        if o.type == KV:
            attrs = policies_kept(attrs, set(), inline_policy_ids(o.config)) or attrs
        out.append((o.type, attrs))
    return out


def by_type(estate: DriftEstate, type_name: str) -> list[EstateObject]:
    return [o for o in estate.objects if o.type == type_name]
