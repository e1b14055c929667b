"""Refresh by listing: read a run's objects the way Azure returns them in bulk.

A per-object refresh costs one GET (or more) per object. Most of the objects a CMK estate holds
live in a few containers Azure lists whole, a page at a time (``nextLink``, followed by the SDK's
pager), with the same body a GET returns:

* resource groups of the subscription, when a run reads two or more of them (ResourceGroups_List
  answers ``ResourceGroupListResult``, a list of the ``ResourceGroup`` model ResourceGroups_Get
  answers - location, managedBy, tags: azure-rest-api-specs resources resource-manager
  Microsoft.Resources resources.json; one group is cheaper read on its own);
* key vaults per resource group, their access policies inside each vault (spec example keyvault
  2023-07-01 listVaultByResourceGroup.json shows full properties, ``accessPolicies`` included);
* user-assigned identities per resource group (msi UserAssignedIdentities_ListByResourceGroup);
* role assignments of the whole subscription in one list (RoleAssignments_ListForSubscription
  returns the assignments at and below the subscription);
* backup policies and protected items per Recovery Services vault (BackupPolicies_List,
  BackupProtectedItems_List with ``backupManagementType eq 'AzureIaasVM'``, the filter the
  vault's history reads with).

Not listed, because the list leaves out what the plan needs: Recovery Services vaults (spec
example recoveryservices 2024-04-01 ListResources.json: a listed vault carries only its
provisioningState, no identity or encryption; Azure/azure-rest-api-specs issue 33948 reports the
real list leaving out securitySettings the GET has) and key vault keys (a listed key carries neither
its current version, its key material nor its rotation policy: Key Vault REST Get Keys, and
keyvault 2023-07-01 listKeys.json). Those are read one by one, as before.

``Listing.prefetch`` lists every container the given objects live in, in parallel, once per run;
``read_body`` answers a handler's read from it: the listed body, None when the container was
listed and the object is not in it (gone), or a GET when nothing listed its container (another
subscription, a list that failed - the GET then reports the error as a per-object read would).

A listed key vault also says which tenant its data plane authenticates in (``properties.tenantId``):
the SDK's challenge for it is cached from that (``providers.azurerm.kv_challenge``), so its keys'
first read carries a token instead of drawing Key Vault's 401 first.

Not listed either: Recovery Services vaults (see above); but each one the refresh reads is kept
(``remember_vault``), and so is the subscription's vault list the audit makes, so drift's audit and its
search for unmanaged vaults read neither again.

``drift`` reads from the same listings after its refresh: its search for unmanaged objects takes a key
vault (access policies included) from its resource group's list and the assignments at its scope from
the subscription's, and its CMK audit takes the key version the refresh has just read
(``remember_key``) instead of a second GET.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from azure.core.exceptions import AzureError

from providers.azurerm.ids import InvalidIdError, ResourceId, parse_resource_id
from providers.base import ProviderError

if TYPE_CHECKING:  # the handlers import this module: it imports theirs only where it runs
    from providers.azurerm.resources.base import Context

IAAS_FILTER = "backupManagementType eq 'AzureIaasVM'"

# a container is (kind, subscription, scope) in lower case; ``Scoped`` adds the scope as spelled
Container = tuple[str, str, str]
Scoped = tuple[Container, str]

RESOURCE_GROUPS = "resource_groups"  # scope: "" (the whole subscription)
KEY_VAULTS = "key_vaults"  # scope: resource group
IDENTITIES = "identities"  # scope: resource group
ROLE_ASSIGNMENTS = "role_assignments"  # scope: "" (the whole subscription)
BACKUP_POLICIES = "backup_policies"  # scope: the Recovery Services vault's id
PROTECTED_ITEMS = "protected_items"  # scope: the Recovery Services vault's id


# a container listed only when it answers at least this many of a run's reads (default 1): the
# subscription's resource groups may be many more than the run reads
MIN_READERS = {RESOURCE_GROUPS: 2}


class _Miss:
    def __repr__(self) -> str:
        return "MISS"


MISS: Any = _Miss()  # nothing listed the object's container: read it on its own


def _rid(id_: str) -> ResourceId | None:
    try:
        return parse_resource_id(id_)
    except (InvalidIdError, ValueError):
        return None


_NO_ID = ResourceId("")


def _scoped(kind: str, subscription: str, scope: str) -> Scoped:
    return (kind, subscription.lower(), scope.lower()), scope


def _group_scope(kind: str, id_: str) -> Scoped | None:
    rid = _rid(id_)
    return (
        None if rid is None or not rid.resource_group else _scoped(kind, rid.subscription, rid.resource_group)
    )


def key_vaults_of(vault_id: str) -> Scoped | None:
    return _group_scope(KEY_VAULTS, vault_id)


def key_vaults_in(subscription: str, resource_group: str) -> Scoped:
    """The key vaults of one resource group (the group by name)."""
    return _scoped(KEY_VAULTS, subscription, resource_group)


def identities_of(identity_id: str) -> Scoped | None:
    return _group_scope(IDENTITIES, identity_id)


def resource_groups_of(group_id: str) -> Scoped | None:
    rid = _rid(group_id)
    if rid is None or not rid.resource_group or rid.provider:
        return None
    return _scoped(RESOURCE_GROUPS, rid.subscription, "")


def role_assignments_of(assignment_id: str) -> Scoped | None:
    low = assignment_id.lower()
    if not low.startswith("/subscriptions/"):
        return None  # a management group's (or the tenant's) assignment: not in a subscription's list
    return _scoped(ROLE_ASSIGNMENTS, assignment_id.split("/")[2], "")


def _vault_scope(kind: str, vault_id: str) -> Scoped | None:
    rid = _rid(vault_id)
    if rid is None or not rid.names:
        return None
    vault = ResourceId(rid.subscription, rid.resource_group, rid.provider, rid.types[:1], rid.names[:1])
    return _scoped(kind, rid.subscription, str(vault))


def backup_policies_of(policy_id: str) -> Scoped | None:
    return _vault_scope(BACKUP_POLICIES, policy_id)


def protected_items_of(vault_or_item_id: str) -> Scoped | None:
    return _vault_scope(PROTECTED_ITEMS, vault_or_item_id)


def _policy_vault(policy_id: str) -> str:
    low = policy_id.lower()
    idx = low.find("/objectid/")
    return policy_id[:idx] if idx >= 0 else policy_id


# type -> the containers a read of one object of it would be answered from
CONTAINERS: dict[str, Callable[[dict[str, Any]], tuple[Scoped | None, ...]]] = {
    "azurerm_resource_group": lambda prior: (resource_groups_of(str(prior.get("id") or "")),),
    "azurerm_key_vault": lambda prior: (key_vaults_of(str(prior.get("id") or "")),),
    "azurerm_key_vault_access_policy": lambda prior: (
        key_vaults_of(_policy_vault(str(prior.get("id") or ""))),
    ),
    "azurerm_user_assigned_identity": lambda prior: (identities_of(str(prior.get("id") or "")),),
    "azurerm_role_assignment": lambda prior: (role_assignments_of(str(prior.get("id") or "")),),
    "azurerm_backup_policy_vm": lambda prior: (backup_policies_of(str(prior.get("id") or "")),),
    "azurerm_backup_protected_vm": lambda prior: (protected_items_of(str(prior.get("id") or "")),),
    # the vault's history reads its protected items (providers.azurerm.resources.vault_history)
    "azurerm_recovery_services_vault": lambda prior: (protected_items_of(str(prior.get("id") or "")),),
}


def _list(ctx: Context, kind: str, scope: str) -> list[Any]:
    """One container's objects, every page of them (the SDK's pager follows ``nextLink``);
    ``scope`` as the objects' ids spell it."""
    clients = ctx.clients
    if kind == RESOURCE_GROUPS:
        return list(clients.resources().resource_groups.list())
    if kind == KEY_VAULTS:
        return list(clients.keyvault_mgmt().vaults.list_by_resource_group(scope))
    if kind == IDENTITIES:
        return list(clients.msi().user_assigned_identities.list_by_resource_group(scope))
    if kind == ROLE_ASSIGNMENTS:
        return list(clients.authorization().role_assignments.list_for_subscription())
    rid = parse_resource_id(scope)
    backup = clients.backup()
    if kind == BACKUP_POLICIES:
        return list(backup.backup_policies.list(rid.name, rid.resource_group))
    if kind == PROTECTED_ITEMS:
        return list(backup.backup_protected_items.list(rid.name, rid.resource_group, filter=IAAS_FILTER))
    raise ValueError(f"unknown container kind {kind!r}")


_SUBSCRIPTION_OF = re.compile(r"/subscriptions/([^/]+)(?:/|$)", re.IGNORECASE)


def home_subscription(values: Mapping[str, Any]) -> str | None:
    """The subscription an object lives in, as its values name it: its own ARM id, else the key
    vault or the scope it lives inside (a key's id is a Key Vault URL; a create has no id yet).
    None: nothing names one, so the provider's subscription it is."""
    for name in ("id", "key_vault_id", "scope"):
        text = values.get(name)
        if isinstance(text, str):
            found = _SUBSCRIPTION_OF.match(text)
            if found is not None:
                return found.group(1)
    return None


def for_subscription(clients: Any, subscription_id: str) -> Any:
    """Clients like ``clients`` (same cloud, credential and transport) for another subscription."""
    from providers.azurerm.clients import ClientFactory

    if subscription_id.lower() == (clients.subscription_id or "").lower():
        return clients
    return ClientFactory(
        replace(clients.target, subscription_id=subscription_id),
        emulator=clients.emulator,
        credential=clients.credential,
        transport_factory=clients.transport_factory,
        clock=clients.clock,
        report=clients.report,
    )


@dataclass
class Listing:
    """One run's listings: container -> {lower-case id: wire body}, or None when listing it failed."""

    parallelism: int = 10
    _found: dict[Container, dict[str, dict[str, Any]] | None] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # keys this run read from Key Vault (the SDK's KeyVaultKey), by lower-case versioned id and by
    # lower-case versionless id (the version that was current when read): what a later look at the
    # same key (the CMK audit of drift) is answered from instead of a second GET
    _keys: dict[str, Any] = field(default_factory=dict)
    # Recovery Services vaults this run read whole (GET), by lower-case id; Azure's vault lists leave out
    # their identity and encryption, so what the audit and the search for unmanaged vaults need of a
    # listed vault comes from here before a second GET; and the subscription's vault list once made
    # (subscription -> bodies, each whole), which answers a resource group's vaults too
    _vaults: dict[str, dict[str, Any]] = field(default_factory=dict)
    _vault_lists: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def prefetch(self, ctx: Context, objects: Iterable[tuple[str, dict[str, Any]]]) -> int:
        """List every container the (type, recorded attributes) objects live in that this run has
        not listed yet; returns how many containers were listed."""
        from providers.azurerm.resources.base import wire

        # the configured subscription's containers only: a handler's GET reads there too, so an object
        # another subscription holds is read the same way with or without listings
        subscription = (ctx.clients.subscription_id or "").lower()
        wanted: dict[Container, str] = {}
        readers: dict[Container, int] = {}  # how many reads each container would answer
        for type_name, prior in objects:
            of = CONTAINERS.get(type_name)
            if of is None:
                continue
            for scoped in of(prior):
                if scoped is None:
                    continue
                container, spelled = scoped
                if container[1] == subscription and container not in self._found:
                    wanted.setdefault(container, spelled)
                    readers[container] = readers.get(container, 0) + 1
        wanted = {c: s for c, s in wanted.items() if readers[c] >= MIN_READERS.get(c[0], 1)}
        if not wanted:
            return 0

        def one(container: Container) -> tuple[Container, dict[str, dict[str, Any]] | None]:
            try:
                bodies = [wire(x) for x in _list(ctx, container[0], wanted[container])]
            except (AzureError, ProviderError, ValueError):
                return container, None  # read each of its objects on its own; a GET says what is wrong
            return container, {str(b.get("id") or "").lower(): b for b in bodies if b.get("id")}

        with ThreadPoolExecutor(max_workers=max(1, self.parallelism)) as pool:
            results = list(pool.map(one, sorted(wanted)))
        with self._lock:
            self._found.update(results)
        for container, found in results:
            if container[0] == KEY_VAULTS and found:
                expect_challenges(ctx.clients, found.values())
        return len(wanted)

    def lookup(self, scoped: Scoped | None, id_: str) -> Any:
        """The listed body of ``id_``; None when its container was listed without it; ``MISS`` when
        nothing listed its container."""
        if scoped is None:
            return MISS
        with self._lock:
            found = self._found.get(scoped[0])
        if found is None:
            return MISS
        return found.get(id_.lower())

    def remember_key(self, key: Any) -> None:
        """A key just read (``KeyClient.get_key`` of its current version)."""
        from providers.azurerm.ids import parse_key_id

        try:
            kid = parse_key_id(str(key.id))
        except (InvalidIdError, ValueError):
            return
        with self._lock:
            self._keys[kid.versioned_id.lower()] = key
            self._keys[kid.versionless_id.lower()] = key

    def known_key(self, key_id: str) -> Any:
        """The key this run read with that id (versioned: that version; versionless: the version
        current when it was read), or None."""
        with self._lock:
            return self._keys.get(key_id.rstrip("/").lower())

    def remember_vault(self, body: dict[str, Any]) -> None:
        """A Recovery Services vault just read whole (its GET body)."""
        if body.get("id"):
            with self._lock:
                self._vaults[str(body["id"]).lower()] = body

    def known_vault(self, vault_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._vaults.get(vault_id.lower())

    def remember_vault_list(self, subscription: str, bodies: list[dict[str, Any]]) -> None:
        """Every Recovery Services vault of a subscription, each whole."""
        with self._lock:
            self._vault_lists[subscription.lower()] = list(bodies)

    def vaults_in(self, subscription: str, resource_group: str) -> list[dict[str, Any]] | None:
        """The vaults of one resource group, from the subscription's list; None when not listed."""
        with self._lock:
            listed = self._vault_lists.get(subscription.lower())
        if listed is None:
            return None
        group = resource_group.lower()
        return [
            b for b in listed if ((_rid(str(b.get("id") or "")) or _NO_ID).resource_group.lower() == group)
        ]

    def bodies(self, scoped: Scoped | None) -> list[dict[str, Any]] | None:
        """Every listed body of a container, or None when it was not listed."""
        if scoped is None:
            return None
        with self._lock:
            found = self._found.get(scoped[0])
        return None if found is None else list(found.values())


def expect_challenges(clients: Any, key_vaults: Iterable[dict[str, Any]]) -> None:
    """Each listed key vault's data-plane challenge, from the tenant its body names
    (``providers.azurerm.kv_challenge``): the keys read next then cost no unauthenticated call."""
    props = [b.get("properties") or {} for b in key_vaults]
    clients.expect_key_vault_challenges(
        (str(p.get("vaultUri") or ""), str(p.get("tenantId") or "")) for p in props
    )


def read_body(ctx: Context, container: Scoped | None, id_: str, get: Callable[[], Any]) -> Any:
    """An object's wire body: from the run's listing when one listed its container, else by ``get``
    (a 404 gives None)."""
    from providers.azurerm.resources.base import not_found_is_none, wire

    listing = ctx.listing
    if listing is not None:
        got = listing.lookup(container, id_)
        if got is not MISS:
            return got
    found = not_found_is_none(get)
    return None if found is None else wire(found)


def listed_bodies(ctx: Context, container: Scoped | None) -> list[dict[str, Any]] | None:
    listing = ctx.listing
    return None if listing is None else listing.bodies(container)
