"""The CMK compliance audit of a subscription, and the objects in scope that state doesn't track.

``audit_subscription(clients)`` reads every Recovery Services vault through the official
SDK clients (real Azure or the local one alike) and says, per vault: customer-managed
key on or off, the key pinned to a version or rotating, which identity unwraps the data
key, the key vault's soft delete and purge protection, whether that identity's grant is
least-privilege, broader or missing (``providers.roles``), and whether the key version is
enabled and unexpired. A vault is compliant when none of its findings is an error.

``list_unmanaged(clients, resource_groups, key_vault_ids, known)`` lists key vaults and
Recovery Services vaults in the resource groups, and keys, access policies and role
assignments in the key vaults, that none of the ``known`` (type, attributes) objects is.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from azure.core.exceptions import AzureError

from providers.azurerm.consistency import GRANT_PROPAGATION, READ_BACK, Waiter
from providers.azurerm.errors import classify
from providers.azurerm.grant_arrival import caller_granted, refused_for_want_of_grant, waiting_message
from providers.azurerm.ids import InvalidIdError, parse_key_id, parse_resource_id, same_id
from providers.azurerm.listing import (
    MISS,
    expect_challenges,
    for_subscription,
    home_subscription,
    key_vaults_in,
    key_vaults_of,
    role_assignments_of,
)
from providers.azurerm.resources.base import call, dig, not_found_is_none, wire
from providers.azurerm.role_facts import roles_on_key_vault
from providers.azurerm.wrapping_versions import Version, last_backup_end, still_wrapping, unusable
from providers.base import PermanentError, ProviderError, RetryableError, TenantAudit
from providers.roles import CMK_KEY_PERMISSIONS, KEYS_READ, find_role

ERROR, WARNING, INFO = "error", "warning", "info"


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str  # error (non-compliant) | warning | info
    message: str


@dataclass
class VaultAudit:
    id: str
    name: str
    resource_group: str
    location: str
    cmk: bool = False
    key_id: str = ""
    key_mode: str = ""  # pinned | rotating
    identity: str = ""  # system-assigned | user-assigned
    identity_id: str = ""  # the user-assigned identity's resource id
    principal_id: str = ""
    key_vault: str = ""  # key vault name
    key_vault_id: str = ""
    soft_delete: bool | None = None
    purge_protection: bool | None = None
    authorization: str = ""  # access policies | rbac
    grant: str = ""  # least-privilege | broader | missing | unknown
    grant_detail: str = ""
    key_enabled: bool | None = None
    key_expires: str | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def compliant(self) -> bool:
        return not any(f.severity == ERROR for f in self.findings)

    def add(self, code: str, severity: str, message: str) -> None:
        self.findings.append(Finding(code, severity, message))

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["compliant"] = self.compliant
        return out


def _listed(sdk_list: Callable[..., Iterable[Any]], *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """An SDK listing, each object in its REST wire shape."""
    return [wire(x) for x in sdk_list(*args, **kwargs)]


def _read(sdk_get: Callable[..., Any], *args: Any) -> dict[str, Any]:
    """An SDK read, in its REST wire shape."""
    return wire(sdk_get(*args))


def local_now(clients) -> datetime:
    """The time where the objects live: the local Azure's clock there, the wall clock in Azure."""
    if clients.is_local and getattr(clients.emulator, "clock", None) is not None:
        return clients.emulator.clock.now()
    return datetime.now(UTC)


def _iso(t: datetime | None) -> str | None:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if t else None


def _key_vaults(clients) -> list[dict[str, Any]]:
    """The subscription's key vaults; each one's data-plane challenge is expected from the tenant it
    names, so reading its keys draws no 401 first (``providers.azurerm.kv_challenge``)."""
    bodies = [wire(v) for v in call(lambda: list(clients.keyvault_mgmt().vaults.list_by_subscription()))]
    expect_challenges(clients, bodies)
    return bodies


def _key_vault_for(vaults: list[dict[str, Any]], vault_uri: str) -> dict[str, Any] | None:
    def host_of(uri: str) -> str:
        return uri.lower().split("//", 1)[-1].split("/", 1)[0].split(":", 1)[0]

    host = host_of(vault_uri)
    for body in vaults:  # the same host, not one that ends with it (xkv-a is not kv-a)
        if host and host_of(dig(body, "properties.vaultUri") or "") == host:
            return body
    name = host.split(".", 1)[0]
    return next((b for b in vaults if (b.get("name") or "").lower() == name), None)


def _identity(audit: VaultAudit, body: dict[str, Any]) -> None:
    identity = body.get("identity") or {}
    kinds = {p.strip().lower() for p in str(identity.get("type") or "None").split(",")}
    kek = dig(body, "properties.encryption.kekIdentity") or {}
    user = kek.get("userAssignedIdentity")
    if user:
        audit.identity, audit.identity_id = "user-assigned", user
        attached = identity.get("userAssignedIdentities") or {}
        match = next((v for k, v in attached.items() if same_id(k, user)), None)
        if match is None or "userassigned" not in kinds:
            audit.add(
                "IDENTITY_MISSING",
                ERROR,
                f"the user-assigned identity {user} that encryption uses is not "
                f"attached to the vault: backups can't unwrap the data key",
            )
            return
        audit.principal_id = (match or {}).get("principalId") or ""
    else:
        audit.identity = "system-assigned"
        audit.principal_id = identity.get("principalId") or ""
        if "systemassigned" not in kinds or not audit.principal_id:
            audit.add(
                "IDENTITY_MISSING",
                ERROR,
                "encryption uses the system-assigned identity, which is off: "
                "backups can't unwrap the data key",
            )


def _grant_by_policy(audit: VaultAudit, kv: dict[str, Any]) -> None:
    for entry in dig(kv, "properties.accessPolicies") or []:
        if not same_id(entry.get("objectId"), audit.principal_id):
            continue
        perms = [str(p) for p in dig(entry, "permissions.keys") or []]
        have = {p.lower() for p in perms}
        missing = [p for p in CMK_KEY_PERMISSIONS if p.lower() not in have]
        audit.grant_detail = "access policy: " + ", ".join(perms)
        if missing:
            audit.grant = "missing"
            audit.add("GRANT_MISSING", ERROR, f"the identity's access policy lacks {', '.join(missing)}")
        elif have - {p.lower() for p in CMK_KEY_PERMISSIONS}:
            audit.grant = "broader"
            audit.add(
                "GRANT_BROADER",
                WARNING,
                "the access policy grants more than Get, List, WrapKey and UnwrapKey (least privilege)",
            )
        else:
            audit.grant = "least-privilege"
        return
    audit.grant = "missing"
    audit.add(
        "GRANT_MISSING",
        ERROR,
        f"no access policy on key vault {audit.key_vault} for principal {audit.principal_id}",
    )


def _grant_by_role(audit: VaultAudit, clients, kv: dict[str, Any]) -> None:
    try:  # a role assigned on the key itself serves it as well as one on the key vault
        key_name: str | None = parse_key_id(audit.key_id).name
    except InvalidIdError:
        key_name = None
    roles = [
        r
        for r in call(lambda: roles_on_key_vault(clients, kv["id"], audit.principal_id, key_name))
        if r.grants_cmk
    ]
    if not roles:
        audit.grant = "missing"
        audit.add(
            "GRANT_MISSING",
            ERROR,
            f"no role assignment on key vault {audit.key_vault} or its key lets principal "
            f"{audit.principal_id} read, wrap and unwrap with the key",
        )
        return
    audit.grant_detail = "role: " + ", ".join(sorted({r.name for r in roles}))
    if all(r.least_privilege for r in roles):
        audit.grant = "least-privilege"
    else:
        audit.grant = "broader"
        audit.add(
            "GRANT_BROADER",
            WARNING,
            'the identity holds a broader role than "Key Vault Crypto Service '
            'Encryption User" (least privilege)',
        )


def _key_vault_facts(audit: VaultAudit, clients, kv: dict[str, Any]) -> None:
    props = kv.get("properties") or {}
    audit.key_vault, audit.key_vault_id = kv.get("name") or "", kv.get("id") or ""
    audit.soft_delete = props.get("enableSoftDelete") is not False
    audit.purge_protection = bool(props.get("enablePurgeProtection"))
    if not audit.soft_delete:
        audit.add("NO_SOFT_DELETE", ERROR, f"key vault {audit.key_vault} has soft delete off")
    if not audit.purge_protection:
        audit.add(
            "NO_PURGE_PROTECTION",
            ERROR,
            f"key vault {audit.key_vault} has no purge protection: a purge "
            f"would make every recovery point unrecoverable",
        )
    acls = props.get("networkAcls") or {}
    if str(acls.get("defaultAction", "Allow")).lower() == "deny":
        if audit.identity == "user-assigned":
            audit.add(
                "FIREWALL_BLOCKS_IDENTITY",
                ERROR,
                "the key vault denies by default and a user-assigned identity is not a trusted service (R9)",
            )
        elif str(acls.get("bypass", "AzureServices")).lower() == "none":
            audit.add(
                "FIREWALL_BLOCKS_IDENTITY",
                ERROR,
                "the key vault denies by default and admits no trusted services",
            )
    if not audit.principal_id:
        audit.grant = "unknown"
        return
    if props.get("enableRbacAuthorization"):
        audit.authorization = "rbac"
        _grant_by_role(audit, clients, kv)
    else:
        audit.authorization = "access policies"
        _grant_by_policy(audit, kv)


def _key_facts(audit: VaultAudit, clients, now: datetime, listing: Any = None) -> None:
    try:
        kid = parse_key_id(audit.key_id)
    except InvalidIdError as exc:
        audit.add("KEY_ID_INVALID", ERROR, exc.message)
        return
    audit.key_mode = "pinned" if kid.version else "rotating"
    audit.add(
        "KEY_MODE",
        INFO,
        "pinned to one key version: no automatic rotation (A1)"
        if kid.version
        else "versionless key id: the vault follows new key versions within about an hour (A2)",
    )
    client = clients.keys(kid.vault_uri)
    try:
        # a key this run's refresh has just read answers for itself (``Listing.remember_key``)
        known = listing.known_key(kid.versioned_id) if listing is not None else None
        key = known or not_found_is_none(lambda: client.get_key(kid.name, kid.version or None))
    except RetryableError:
        raise  # refused for now (throttled): the audit is read again, not reported unreadable
    except ProviderError as exc:
        audit.add("KEY_UNREADABLE", ERROR, f"the key could not be read to verify it: {exc.message}")
        return
    if key is None:
        audit.add("KEY_NOT_FOUND", ERROR, f"key {kid.versioned_id} does not exist (deleted?)")
        return
    props = key.properties
    audit.key_enabled = props.enabled is not False
    audit.key_expires = _iso(props.expires_on)
    if not audit.key_enabled:
        audit.add(
            "KEY_DISABLED", ERROR, f"key version {props.version} is disabled: backups and restores fail"
        )
    if props.expires_on is not None and props.expires_on <= now:
        audit.add("KEY_EXPIRED", ERROR, f"the key expired on {audit.key_expires}")
    if props.not_before is not None and props.not_before > now:
        audit.add("KEY_NOT_YET_VALID", ERROR, f"the key is valid only from {_iso(props.not_before)}")
    kty = str(getattr(key.key_type, "value", key.key_type) or "")
    if not kty.upper().startswith("RSA"):
        audit.add("KEY_NOT_RSA", ERROR, f"the key is {kty}; Azure Backup needs an RSA key (R4)")
    _older_versions(audit, clients, client, kid.name, props, now, versionless=not kid.version)


def _older_versions(
    audit: VaultAudit, clients, client, name: str, current: Any, now: datetime, *, versionless: bool
) -> None:
    """R12: an older version of the key that may still wrap the vault's data key and can't unwrap
    (disabled, expired) fails every backup and restore (``wrapping_versions``). The vault's jobs
    are read only when some older version is unusable."""
    listed = call(lambda: list(client.list_properties_of_key_versions(name)))
    versions = [
        Version(str(v.version), v.created_on, v.enabled is not False, v.expires_on)
        for v in listed
        if v.version and v.created_on is not None
    ]
    if not any(unusable(v, now) for v in versions if v.version != current.version):
        return
    backup = clients.backup()
    jobs = call(
        lambda: [
            wire(j)
            for j in backup.backup_jobs.list(audit.name, audit.resource_group, filter="operation eq 'Backup'")
        ]
    )
    for version in still_wrapping(
        versions, str(current.version), last_backup_end(jobs), versionless=versionless
    ):
        why = unusable(version, now)
        if why:
            audit.add(
                "KEY_VERSION_STILL_WRAPS",
                ERROR,
                f"key version {version.version} is {why}, but no backup has completed with version "
                f"{current.version} since it took effect: the vault's data key is still wrapped with "
                f"{version.version}, so backups and restores fail until it is usable again (R12)",
            )


def _refusal_line(exc: ProviderError) -> str:
    """A refusal's first line, for a report of what could not be read."""
    return (exc.message.strip().splitlines() or [exc.code or "refused"])[0]


class KeyVaultsElsewhere:
    """The key vaults of the subscriptions a run hasn't listed, read once, on the first vault whose
    key vault is not among those it has: a platform team's key vault often lives in a subscription of
    its own. ``complete`` is False when one of them could not be read (no Reader there, or the list
    of subscriptions itself refused): a key vault not found may then be there."""

    def __init__(self, clients, listed: Iterable[str], *, unread: bool = False) -> None:
        self._clients = clients
        self._listed = {s.lower() for s in listed}
        self._unread = unread  # a subscription of the run could not be read already
        self._lock = threading.Lock()
        self._found: tuple[list[dict[str, Any]], bool] | None = None
        # what this search could not read, as the audit reports unreadable subscriptions
        self.unread: list[dict[str, str]] = []

    def read(self) -> tuple[list[dict[str, Any]], bool]:
        with self._lock:
            if self._found is None:
                self._found = self._read()
            return self._found

    def _read(self) -> tuple[list[dict[str, Any]], bool]:
        try:
            subs = visible_subscriptions(self._clients)
        except RetryableError:
            raise
        except ProviderError as exc:
            self.unread.append({"subscription": "(the list of subscriptions)", "error": _refusal_line(exc)})
            return [], False
        found, complete = [], not self._unread
        for sub in dict.fromkeys(s.lower() for s in subs):
            if sub in self._listed:
                continue
            sub_clients = for_subscription(self._clients, sub)
            try:
                found += _key_vaults(sub_clients)
            except RetryableError:
                raise
            except ProviderError as exc:
                complete = False
                self.unread.append({"subscription": sub, "error": _refusal_line(exc)})
            finally:
                if sub_clients is not self._clients:
                    sub_clients.close()
        return found, complete


def audit_vault(
    clients,
    body: dict[str, Any],
    key_vaults: list[dict[str, Any]],
    now: datetime,
    listing: Any = None,
    elsewhere: KeyVaultsElsewhere | None = None,
) -> VaultAudit:
    rid = body["id"]
    parts = rid.split("/")
    rg = parts[parts.index("resourceGroups") + 1] if "resourceGroups" in parts else ""
    audit = VaultAudit(rid, body.get("name") or parts[-1], rg, body.get("location") or "")
    key_uri = dig(body, "properties.encryption.keyVaultProperties.keyUri")
    if not key_uri:
        audit.add(
            "NO_CMK", ERROR, "backups are encrypted with platform-managed keys, not a customer-managed key"
        )
        return audit
    audit.cmk, audit.key_id = True, key_uri
    _identity(audit, body)
    try:
        vault_uri = parse_key_id(key_uri).vault_uri
    except InvalidIdError:
        vault_uri = ""
    kv = _key_vault_for(key_vaults, vault_uri) if vault_uri else None
    complete = True
    if kv is None and vault_uri and elsewhere is not None:
        more, complete = elsewhere.read()
        kv = _key_vault_for(more, vault_uri)
    if kv is None and complete:
        audit.add(
            "KEY_VAULT_NOT_FOUND",
            ERROR,
            f"no key vault of the subscriptions the credential can see serves {key_uri} (deleted, or "
            "out of its sight): its purge protection and the grant can't be verified",
        )
    elif kv is None:
        audit.add(
            "KEY_VAULT_NOT_READ",
            WARNING,
            f"the key vault serving {key_uri} is in none of the subscriptions read (one could not be "
            "read): its purge protection and the grant were not verified",
        )
    else:
        _key_vault_facts(audit, clients, kv)
    _key_facts(audit, clients, now, listing)
    return audit


def _whole(clients, listed: dict[str, Any], listing: Any = None) -> dict[str, Any] | None:
    """A listed Recovery Services vault with its properties. A listed vault carries no more than its
    provisioningState (spec examples recoveryservices 2024-04-01 / 2025-02-01 ListResources.json,
    ListBySubscriptionIds.json): it is taken from this run's refresh when that read it
    (``Listing.remember_vault``), else read on its own for its identity and encryption (None: gone)."""
    props = listed.get("properties") or {}
    if "encryption" in props or "redundancySettings" in props:
        return listed
    known = listing.known_vault(str(listed.get("id") or "")) if listing is not None else None
    if known is not None:
        return dict(known)
    parts = str(listed.get("id") or "").split("/")
    rg = parts[parts.index("resourceGroups") + 1] if "resourceGroups" in parts else ""
    name = str(listed.get("name") or parts[-1])
    got = not_found_is_none(functools.partial(clients.recovery_services().vaults.get, rg, name))
    return None if got is None else wire(got)


PARALLEL_READS = 10  # reads of one listing's objects in flight at once, as the refresh's parallelism


def _each(work: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
    """``work`` of every item, ``PARALLEL_READS`` at a time, in the items' order: what each costs is a
    round trip or two, so one after the other an estate's hundreds of them add up to many seconds."""
    items = list(items)
    if len(items) < 2:
        return [work(i) for i in items]
    with ThreadPoolExecutor(max_workers=PARALLEL_READS) as pool:
        return list(pool.map(work, items))


def _recovery_vaults(clients, listing: Any = None) -> list[dict[str, Any]]:
    """The subscription's Recovery Services vaults, each with its properties (``_whole``); the list is
    kept in ``listing`` for the search for unmanaged vaults."""
    vaults = clients.recovery_services().vaults
    listed = [wire(v) for v in call(lambda: list(vaults.list_by_subscription_id()))]
    out = [b for b in _each(lambda v: _whole(clients, v, listing), listed) if b is not None]
    if listing is not None:
        listing.remember_vault_list(clients.subscription_id or "", out)
    return out


def key_findings(clients, vault_id: str, key_id: str) -> list[Finding]:
    """What ``audit`` finds about the key a vault encrypts with (``key_id`` as the vault names it):
    disabled, expired, not yet valid, and older versions that still wrap its data (R12)."""
    rid = parse_resource_id(vault_id)
    audit = VaultAudit(vault_id, rid.name, rid.resource_group, "")
    audit.cmk, audit.key_id = True, key_id
    _key_facts(audit, clients, local_now(clients))
    return [f for f in audit.findings if f.severity == ERROR]


T = TypeVar("T")


def waited_out(waiter: Waiter, description: str, read: Callable[[], T]) -> T:
    """``read``, tried again while Azure refuses it for now (throttled past the SDK's own retries),
    waiting as long as it asks (Retry-After) and at least the backoff's next delay, within
    ``READ_BACK``'s budget; then the refusal is raised."""
    start = waiter.clock.monotonic()
    for delay in READ_BACK.delays():
        try:
            return read()
        except RetryableError as exc:
            pause = max(delay, exc.retry_after or 0.0)
            if waiter.clock.monotonic() - start + pause > READ_BACK.budget:
                raise
            waiter.pause(pause, f"{description} ({exc.code or 'throttled'})")
    raise AssertionError("unreachable: delays() is endless")


@dataclass
class VaultsEverywhere:
    """The Recovery Services vaults of every subscription a plan's checks could read, and what
    could not be read (a subscription, or the list of them, with why): a vault there is unseen."""

    vaults: list[dict[str, Any]] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)


def recovery_vaults_everywhere(clients, waiter: Waiter | None = None) -> VaultsEverywhere:
    """The Recovery Services vaults of every subscription the credential can see, each with its
    identity and encryption: a key vault's keys serve vaults of any subscription of its tenant (a
    platform team's key vaults often live in a subscription of their own). A throttled read is
    waited out (``waited_out``); one that still can't be read - no Reader on a subscription, a
    refusal that lasts - is named in ``unread``, so the check that asked can say it is incomplete
    rather than pass as if it had seen everything."""
    waiter = waiter or Waiter()
    found = VaultsEverywhere()
    own = (clients.subscription_id or "").lower()
    try:
        subs = waited_out(waiter, "listing the subscriptions", lambda: visible_subscriptions(clients))
    except ProviderError as exc:
        subs = []
        found.unread.append(f"the list of subscriptions ({_refusal_line(exc)})")
    for sub in [own, *dict.fromkeys(s.lower() for s in subs if s.lower() != own)]:
        sub_clients = for_subscription(clients, sub)
        try:
            found.vaults += waited_out(
                waiter, f"listing the vaults of subscription {sub}", partial(_recovery_vaults, sub_clients)
            )
        except ProviderError as exc:
            found.unread.append(f"subscription {sub} ({_refusal_line(exc)})")
        finally:
            if sub_clients is not clients:
                sub_clients.close()
    return found


def encryption_principal(body: dict[str, Any]) -> str:
    """The principal a vault's encryption unwraps its data key with ("" when that identity is off)."""
    seen = VaultAudit(
        id=str(body.get("id") or ""), name=str(body.get("name") or ""), resource_group="", location=""
    )
    _identity(seen, body)
    return seen.principal_id


def _sorted(audits: list[VaultAudit]) -> list[VaultAudit]:
    return sorted(audits, key=lambda a: (a.resource_group.lower(), a.name.lower()))


def _audit_one(
    clients,
    key_vaults: list[dict[str, Any]],
    now: datetime,
    elsewhere: KeyVaultsElsewhere | None,
    body: dict[str, Any],
) -> VaultAudit:
    return audit_vault(clients, body, key_vaults, now, elsewhere=elsewhere)


def audit_subscription(clients, listing: Any = None) -> list[dict[str, Any]]:
    """Every Recovery Services vault of the subscription with its CMK facts and findings; ``listing``
    (``providers.azurerm.listing.Listing``): the run's listings and key reads, which answer what
    they hold (drift audits right after its refresh)."""
    vaults = _recovery_vaults(clients, listing)
    key_vaults = _key_vaults(clients)
    now = local_now(clients)
    elsewhere = KeyVaultsElsewhere(clients, [clients.subscription_id or ""])
    return [
        a.to_dict()
        for a in _sorted(
            _each(lambda body: audit_vault(clients, body, key_vaults, now, listing, elsewhere), vaults)
        )
    ]


# --------------------------------------------------------------------------- a tenant


SUBSCRIPTIONS_API_VERSION = "2022-12-01"


def visible_subscriptions(clients) -> list[str]:
    """The ids of every subscription the credential can see: ARM's Subscriptions - List
    (``GET /subscriptions``), every page of it (nextLink), through the resource client's pipeline
    (the SDK that wraps this list is a separate package vaultform doesn't install)."""
    from azure.core.rest import HttpRequest  # lazy: start-up

    client = clients.resources()
    url: str | None = f"/subscriptions?api-version={SUBSCRIPTIONS_API_VERSION}"
    out: list[str] = []
    while url:
        request = HttpRequest("GET", url)

        def send(request=request):
            response = client.send_request(request)
            response.raise_for_status()
            return response.json()

        page = call(send)
        out += [str(s.get("subscriptionId")) for s in page.get("value") or [] if s.get("subscriptionId")]
        url = page.get("nextLink")
    return out


def _subscription_listed(clients) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One subscription's Recovery Services vaults and key vaults."""
    return _recovery_vaults(clients), _key_vaults(clients)


def _judged(judge: Callable[[dict[str, Any]], Any], vaults: list[dict[str, Any]]) -> list[Any]:
    return _sorted(_each(judge, vaults))


def audit_tenant(
    clients,
    subscriptions: list[str] | None = None,
    progress: Callable[[str], None] = lambda _m: None,
    patiently: Callable[[Callable[[], Any]], Any] = lambda read: read(),
) -> TenantAudit:
    """Every Recovery Services vault of each subscription (all the credential can see, or the given
    ones), with ``subscription`` added to each. One pass of listings: each subscription's vaults and
    key vaults are listed once, and a vault's key vault is found in any of the subscriptions. A
    subscription that can't be listed (not found, no Reader on it) is reported as unreadable and
    the others are still audited. ``patiently`` runs each step's reads (one subscription's listing,
    one subscription's vaults), waiting out refusals for now (throttling), so a throttled read
    repeats that step, not the subscriptions already read."""
    subs = list(subscriptions) if subscriptions else patiently(lambda: visible_subscriptions(clients))
    per = [(sub, for_subscription(clients, sub)) for sub in subs]
    listed: list[tuple[str, Any, list[dict[str, Any]]]] = []
    key_vaults: list[dict[str, Any]] = []
    result = TenantAudit()
    try:
        for n, (sub, sub_clients) in enumerate(per, 1):
            progress(f"listing subscription {sub} ({n} of {len(per)})")
            try:
                vaults, kvs = patiently(partial(_subscription_listed, sub_clients))
                key_vaults += kvs
            except RetryableError:
                raise
            except ProviderError as exc:
                why = _refusal_line(exc)
                progress(f"could not read subscription {sub}: {why}")
                result.unreadable.append({"subscription": sub, "error": why})
                continue
            listed.append((sub, sub_clients, vaults))
        now = local_now(clients)
        # a key vault in none of the subscriptions listed: looked for in the others the credential
        # sees (outside -subscription); one that could not be read leaves it unverified, not missing
        elsewhere = KeyVaultsElsewhere(clients, [s for s, _c in per], unread=bool(result.unreadable))
        for n, (sub, sub_clients, vaults) in enumerate(listed, 1):
            judge = partial(_audit_one, sub_clients, key_vaults, now, elsewhere)
            audits = patiently(partial(_judged, judge, vaults))
            bad = sum(1 for a in audits if not a.compliant)
            progress(
                f"audited subscription {sub} ({n} of {len(listed)}): {len(audits)} vault(s), {bad} not compliant"
            )
            result.objects += [{"subscription": sub, **a.to_dict()} for a in audits]
            result.accounts.append(sub)
        # a subscription the search for a vault's key vault could not read leaves that vault's
        # key vault unverified: reported unreadable, so the run says it could not read everything
        known = {u["subscription"].lower() for u in result.unreadable}
        result.unreadable += [u for u in elsewhere.unread if u["subscription"].lower() not in known]
    finally:
        for _sub, sub_clients in per:
            if sub_clients is not clients:
                sub_clients.close()
    return result


# --------------------------------------------------------------------------- unmanaged objects


def _norm(value: Any) -> str:
    return str(value or "").rstrip("/").lower()  # as ``same_id`` compares


class _Known:
    """The (type, attributes) objects state records, indexed by the values the search for unmanaged
    objects matches on: an estate holds thousands, and each listed object is looked up in them."""

    def __init__(self, known: Iterable[tuple[str, dict]]) -> None:
        self._objects = list(known)
        self._index: dict[tuple[str, tuple[str, ...]], set[tuple[str, ...]]] = {}
        self._lock = threading.Lock()
        self._inline: dict[str, set[str]] | None = None

    def tracked(self, type_name: str, **match: str) -> bool:
        """Some object of ``type_name`` has every ``attribute=value`` of ``match`` (ids compared as
        ``same_id`` does)."""
        keys = tuple(sorted(match))
        with self._lock:
            index = self._index.get((type_name, keys))
            if index is None:
                index = {
                    tuple(_norm(attrs.get(k)) for k in keys) for t, attrs in self._objects if t == type_name
                }
                self._index[(type_name, keys)] = index
        return tuple(_norm(match[k]) for k in keys) in index

    def inline_policy(self, kv_id: str, object_id: str) -> bool:
        """A key vault object of state sets this object id's access policy inline."""
        with self._lock:
            if self._inline is None:
                inline: dict[str, set[str]] = {}
                for t, attrs in self._objects:
                    if t == "azurerm_key_vault":
                        inline.setdefault(_norm(attrs.get("id")), set()).update(
                            _norm(p.get("object_id")) for p in attrs.get("access_policy") or []
                        )
                self._inline = inline
        return _norm(object_id) in self._inline.get(_norm(kv_id), set())


def list_unmanaged(
    clients,
    resource_groups: Iterable[tuple[str, str]],
    key_vault_ids: Iterable[str],
    known: Iterable[tuple[str, dict]],
    listing: Any = None,
    waiter: Waiter | None = None,
) -> list[dict[str, Any]]:
    """``resource_groups``: (subscription, name) pairs, "" for the provider's subscription; each group
    and key vault is read in its own subscription. ``listing`` (``providers.azurerm.listing.Listing``):
    the run's listings; what they cover (key vaults per resource group, with their access policies;
    the subscription's role assignments) is not listed or read again. ``waiter``: waits out a grant to
    list keys that ARM shows but Key Vault doesn't honour yet (right after the apply that made it);
    without one it is a problem."""
    index = _Known(known)
    own = (clients.subscription_id or "").lower()
    elsewhere: dict[str, Any] = {}
    elsewhere_lock = threading.Lock()

    def clients_in(subscription: str) -> Any:
        sub = subscription.lower() or own
        if sub == own:
            return clients
        with elsewhere_lock:
            if sub not in elsewhere:
                elsewhere[sub] = for_subscription(clients, sub)
            return elsewhere[sub]

    def key_vaults_of_group(sub: str, rg: str) -> list[dict[str, Any]] | None:
        listed = listing.bodies(key_vaults_in(sub, rg)) if listing is not None else None
        if listed is not None:
            return listed
        return not_found_is_none(
            partial(_listed, clients_in(sub).keyvault_mgmt().vaults.list_by_resource_group, rg)
        )

    def key_vault(kv_id: str, rg: str, name: str) -> dict[str, Any] | None:
        # a listed key vault carries its accessPolicies (spec example keyvault 2023-07-01
        # listVaultByResourceGroup.json), as the GET does
        got = listing.lookup(key_vaults_of(kv_id), kv_id) if listing is not None else MISS
        if got is not MISS:
            return got
        kv_clients = clients_in(home_subscription({"id": kv_id}) or "")
        return not_found_is_none(partial(_read, kv_clients.keyvault_mgmt().vaults.get, rg, name))

    def assignments_at(kv_id: str) -> list[dict[str, Any]]:
        # the subscription's list holds the assignments at and below it (RoleAssignments_ListForSubscription),
        # so those at the key vault's own scope are among them; ``atScope()`` would add the ones above,
        # which the caller drops
        listed = listing.bodies(role_assignments_of(kv_id)) if listing is not None else None
        if listed is not None:
            return listed
        return call(
            partial(
                _listed, clients.authorization().role_assignments.list_for_scope, kv_id, filter="atScope()"
            )
        )

    out: list[dict[str, Any]] = []

    def add(type_name: str, id_: str, name: str, scope: str, detail: str = "") -> None:
        out.append({"type": type_name, "id": id_, "name": name, "scope": scope, "detail": detail})

    def keys_of(kv_id: str, name: str, uri: str) -> list[Any]:
        """The key vault's keys; a refusal for a grant ARM already shows is waited out (``waiter``)."""

        def listed() -> list[Any]:
            return call(lambda: list(clients.keys(uri).list_properties_of_keys()))

        try:
            return listed()
        except PermanentError as exc:
            if waiter is None or not (
                refused_for_want_of_grant(exc) and caller_granted(clients, kv_id, KEYS_READ, "list")
            ):
                raise
            waiter.report(waiting_message(name, "listing", "the listing", exc.code))

        def once_granted() -> list[Any] | None:
            try:
                return listed()
            except PermanentError as exc:
                if refused_for_want_of_grant(exc):
                    return None
                raise

        return waiter.until(f"key vault {name} lets vaultform list its keys", once_granted, GRANT_PROPAGATION)

    def in_key_vault(kv_id: str) -> list[dict[str, Any]]:
        """The unmanaged grants and keys of one key vault (its keys' list is a round trip of its own)."""
        rows: list[dict[str, Any]] = []

        def add_here(type_name: str, id_: str, name: str, scope: str, detail: str = "") -> None:
            rows.append({"type": type_name, "id": id_, "name": name, "scope": scope, "detail": detail})

        parts = kv_id.split("/")
        rg, name = parts[parts.index("resourceGroups") + 1] if "resourceGroups" in parts else "", parts[-1]
        kv = key_vault(kv_id, rg, name)
        if kv is None:
            return rows
        for entry in dig(kv, "properties.accessPolicies") or []:
            oid = entry.get("objectId") or ""
            if index.tracked(
                "azurerm_key_vault_access_policy", key_vault_id=kv_id, object_id=oid
            ) or index.inline_policy(kv_id, oid):
                continue
            perms = ", ".join(dig(entry, "permissions.keys") or []) or "no key permissions"
            add_here(
                "azurerm_key_vault_access_policy", f"{kv['id']}/objectId/{oid}", oid, name, f"keys: {perms}"
            )
        for a in assignments_at(kv["id"]):
            if not same_id(str(dig(a, "properties.scope") or ""), kv["id"]):
                continue
            if index.tracked("azurerm_role_assignment", id=a["id"]):
                continue
            role = find_role(dig(a, "properties.roleDefinitionId"))
            add_here(
                "azurerm_role_assignment",
                a["id"],
                a.get("name", ""),
                name,
                f"{role.name if role else dig(a, 'properties.roleDefinitionId')} for "
                f"{dig(a, 'properties.principalId')}",
            )
        uri = dig(kv, "properties.vaultUri")
        try:
            keys = keys_of(kv_id, name, uri) if uri else []
        except (AzureError, ProviderError) as exc:  # the caller may not list keys (firewall, grants)
            refusal = exc if isinstance(exc, ProviderError) else classify(exc)
            if isinstance(refusal, RetryableError):
                raise refusal from exc  # refused for now (throttled): listed again, not reported
            rows.append(
                {
                    "problem": f"the keys of key vault {name} could not be listed: "
                    f"{(getattr(exc, 'message', None) or str(exc)).splitlines()[0]}",
                    "scope": name,
                }
            )
            keys = []
        for k in keys:
            versionless = f"{uri.rstrip('/')}/keys/{k.name}"
            if not index.tracked("azurerm_key_vault_key", versionless_id=versionless):
                add_here("azurerm_key_vault_key", versionless, k.name, name)
        return rows

    try:
        for group_sub, rg in resource_groups:
            sub = group_sub.lower() or own
            here = clients_in(sub)
            kvs = key_vaults_of_group(sub, rg)
            for listed_kv in kvs or []:
                if not index.tracked("azurerm_key_vault", id=listed_kv["id"]):
                    add("azurerm_key_vault", listed_kv["id"], listed_kv.get("name", ""), rg)
            rsvs = listing.vaults_in(sub, rg) if listing is not None else None
            if rsvs is None:
                rsvs = not_found_is_none(
                    partial(_listed, here.recovery_services().vaults.list_by_resource_group, rg)
                )
            for v in rsvs or []:
                if not index.tracked("azurerm_recovery_services_vault", id=v["id"]):
                    whole = _whole(here, v, listing) or v  # a listed vault doesn't say how it encrypts
                    cmk = (
                        "customer-managed key"
                        if dig(whole, "properties.encryption.keyVaultProperties.keyUri")
                        else "platform-managed key"
                    )
                    add("azurerm_recovery_services_vault", v["id"], v.get("name", ""), rg, cmk)

        for rows in _each(in_key_vault, key_vault_ids):
            out += rows
    finally:
        for other in elsewhere.values():
            other.close()
    return out
