"""ARM resource ids and Key Vault object ids: parse and format.

Azure compares resource ids case-insensitively and its APIs often return a
different casing than was sent (``resourcegroups`` vs ``resourceGroups``), so
parsing is case-insensitive and formatting always produces the canonical casing
azurerm records in state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlparse

from providers.base import PermanentError


class InvalidIdError(PermanentError):
    """An id that can't be taken apart (from an import or a bad reference)."""


@dataclass(frozen=True)
class ResourceId:
    """``/subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type}/{name}[/{child}/{name}...]``.

    ``types`` and ``names`` run in parallel: ("vaults",) + ("kv1",), or
    ("vaults", "accessPolicies") for children. A resource group id has no
    provider and empty ``types``.
    """

    subscription: str
    resource_group: str = ""
    provider: str = ""
    types: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.names[-1] if self.names else self.resource_group

    @property
    def type(self) -> str:
        """``Microsoft.KeyVault/vaults`` (the full type, child types joined)."""
        if not self.provider:
            return "Microsoft.Resources/resourceGroups" if self.resource_group else "subscriptions"
        return "/".join((self.provider, *self.types))

    @property
    def subscription_id(self) -> str:
        return f"/subscriptions/{self.subscription}"

    @property
    def resource_group_id(self) -> str:
        return f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"

    def parent(self) -> ResourceId:
        if len(self.types) > 1:
            return ResourceId(
                self.subscription, self.resource_group, self.provider, self.types[:-1], self.names[:-1]
            )
        if self.types:
            return ResourceId(self.subscription, self.resource_group)
        return ResourceId(self.subscription)

    def child(self, type_: str, name: str) -> ResourceId:
        return ResourceId(
            self.subscription, self.resource_group, self.provider, self.types + (type_,), self.names + (name,)
        )

    def __str__(self) -> str:
        out = f"/subscriptions/{self.subscription}"
        if self.resource_group:
            out += f"/resourceGroups/{self.resource_group}"
        if self.provider:
            out += f"/providers/{self.provider}"
            for t, n in zip(self.types, self.names):
                out += f"/{t}/{n}"
        return out


_SEGMENTS = re.compile(r"[^/]+")


def parse_resource_id(value: str, *, expect: str | None = None) -> ResourceId:
    """Parse an ARM id; ``expect`` (e.g. "Microsoft.KeyVault/vaults") checks its type.

    Raises ``InvalidIdError`` with a message saying what a valid id looks like.
    """
    if not isinstance(value, str) or not value.startswith("/"):
        raise InvalidIdError(
            f"{value!r} is not an Azure resource id (it must start with '/subscriptions/').",
            code="InvalidResourceId",
        )
    parts = _SEGMENTS.findall(value)
    if len(parts) < 2 or parts[0].lower() != "subscriptions":
        raise InvalidIdError(
            f"{value!r} is not an Azure resource id: it must start with '/subscriptions/<subscription id>'.",
            code="InvalidResourceId",
        )
    subscription, rest = parts[1], parts[2:]
    rg = ""
    if rest:
        if rest[0].lower() != "resourcegroups" or len(rest) < 2:
            raise InvalidIdError(
                f"{value!r}: expected '/resourceGroups/<name>' after the subscription.",
                code="InvalidResourceId",
            )
        rg, rest = rest[1], rest[2:]
    provider, types, names = "", [], []
    if rest:
        if rest[0].lower() != "providers" or len(rest) < 4 or (len(rest) - 2) % 2:
            raise InvalidIdError(
                f"{value!r}: expected '/providers/<namespace>/<type>/<name>' after the resource group.",
                code="InvalidResourceId",
            )
        provider = rest[1]
        pairs = rest[2:]
        types = pairs[0::2]
        names = pairs[1::2]
    rid = ResourceId(
        subscription,
        rg,
        _canonical_provider(provider),
        tuple(_canonical_type(t) for t in types),
        tuple(names),
    )
    if expect is not None and rid.type.lower() != expect.lower():
        raise InvalidIdError(
            f"{value!r} is a {rid.type} id, but a {expect} id is needed here (like {example_id(expect)}).",
            code="InvalidResourceId",
        )
    return rid


# Canonical casing for the namespaces and types vaultform manages (Azure echoes ids
# back in whatever casing the caller used or it stores).
_PROVIDERS = {
    p.lower(): p
    for p in (
        "Microsoft.KeyVault",
        "Microsoft.ManagedIdentity",
        "Microsoft.RecoveryServices",
        "Microsoft.Authorization",
        "Microsoft.Compute",
        "Microsoft.Resources",
    )
}
_TYPES = {
    t.lower(): t
    for t in (
        "vaults",
        "userAssignedIdentities",
        "roleAssignments",
        "roleDefinitions",
        "virtualMachines",
        "diskEncryptionSets",
        "backupPolicies",
        "backupFabrics",
        "protectionContainers",
        "protectedItems",
        "accessPolicies",
        "keys",
    )
}


def example_id(resource_type: str) -> str:
    """An id of ``resource_type`` with a placeholder for every name: a child type's path names
    its parents too (``.../vaults/<vault>/backupPolicies/<name>``)."""
    provider, *types = resource_type.split("/")
    parts = [f"{t}/<{_singular(t)}>" for t in types[:-1]] + [f"{types[-1]}/<name>"] if types else []
    return f"/subscriptions/<s>/resourceGroups/<rg>/providers/{provider}/" + "/".join(parts)


def _singular(type_name: str) -> str:
    return type_name[:-1] if type_name.endswith("s") else type_name


def _canonical_provider(p: str) -> str:
    return _PROVIDERS.get(p.lower(), p)


def _canonical_type(t: str) -> str:
    return _TYPES.get(t.lower(), t)


def canonical(value: str) -> str:
    """The id with canonical casing of its fixed segments (names kept as given)."""
    return str(parse_resource_id(value))


def same_id(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.rstrip("/").lower() == b.rstrip("/").lower()


def resource_group_id(subscription: str, rg: str) -> str:
    return str(ResourceId(subscription, rg))


def resource_id(subscription: str, rg: str, provider: str, type_: str, name: str) -> str:
    return str(ResourceId(subscription, rg, provider, (type_,), (name,)))


# --------------------------------------------------------------------------- scopes


def split_scoped_id(value: str, marker: str) -> tuple[str, str]:
    """``{scope}/providers/Microsoft.Authorization/roleAssignments/{name}`` -> (scope, name)."""
    low = value.lower()
    idx = low.rfind(marker.lower())
    if idx < 0:
        raise InvalidIdError(f"{value!r} does not contain {marker!r}.", code="InvalidResourceId")
    scope = value[:idx] or "/"
    name = value[idx + len(marker) :].strip("/")
    if not name or "/" in name:
        raise InvalidIdError(f"{value!r}: expected one name after {marker!r}.", code="InvalidResourceId")
    return scope, name


# --------------------------------------------------------------------------- key vault objects

_VERSION = re.compile(r"^[0-9a-fA-F]{32}$")


@dataclass(frozen=True)
class KeyVaultObjectId:
    """``https://{vault}.vault.azure.net/keys/{name}[/{version}]``."""

    vault_uri: str  # "https://kv1.vault.azure.net/" (always with the trailing slash)
    collection: str  # "keys"
    name: str
    version: str = ""

    @property
    def vault_name(self) -> str:
        return (urlparse(self.vault_uri).hostname or "").split(".", 1)[0]

    @property
    def versionless_id(self) -> str:
        return f"{self.vault_uri.rstrip('/')}/{self.collection}/{self.name}"

    @property
    def versioned_id(self) -> str:
        return f"{self.versionless_id}/{self.version}" if self.version else self.versionless_id

    def __str__(self) -> str:
        return self.versioned_id


def parse_key_id(value: str, *, collection: str = "keys") -> KeyVaultObjectId:
    """Parse a Key Vault key id, versioned or versionless."""
    parsed = urlparse(value) if isinstance(value, str) else None
    if not parsed or parsed.scheme != "https" or not parsed.hostname:
        raise InvalidIdError(
            f"{value!r} is not a Key Vault {collection} id (like "
            f"https://<vault>.vault.azure.net/{collection}/<name>/<version>).",
            code="InvalidKeyId",
        )
    parts = [p for p in parsed.path.split("/") if p]
    if len(parts) not in (2, 3) or parts[0].lower() != collection:
        raise InvalidIdError(
            f"{value!r}: expected the path /{collection}/<name>[/<version>].", code="InvalidKeyId"
        )
    version = parts[2] if len(parts) == 3 else ""
    if version and not _VERSION.match(version):
        raise InvalidIdError(f"{value!r}: a key version is 32 hexadecimal characters.", code="InvalidKeyId")
    port = f":{parsed.port}" if parsed.port else ""
    return KeyVaultObjectId(f"https://{parsed.hostname.lower()}{port}/", collection, parts[1], version)


def vault_uri_for(name: str, suffix: str = "vault.azure.net") -> str:
    return f"https://{name}.{suffix}/"


__all__ = [
    "InvalidIdError",
    "ResourceId",
    "parse_resource_id",
    "canonical",
    "same_id",
    "resource_group_id",
    "resource_id",
    "split_scoped_id",
    "KeyVaultObjectId",
    "parse_key_id",
    "vault_uri_for",
]


def same_key(a: object, b: object) -> bool:
    """Whether two key ids name the same key (any version): ``https://kv.vault.azure.net/keys/k``
    and ``.../keys/k/<version>`` do."""
    return bool(a) and bool(b) and _versionless(str(a)) == _versionless(str(b))


def _versionless(key_id: str) -> str:
    head, sep, rest = key_id.rstrip("/").lower().partition("/keys/")
    return head + sep + rest.split("/")[0] if sep else key_id.lower()
