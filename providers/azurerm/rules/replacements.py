"""Whether a replacement is a new object in Azure or the same one made again.

An ARM id is made of what the object is called (its resource group and name, the key vault and
principal of an access policy, the grant a role assignment's derived name comes from), so a
replacement that keeps those is the very object it replaces: Azure can't hold both at once.
Made first (create_before_destroy), its create meets the object it replaces and fails at apply
(azurerm's and vaultform's creates look the id up first and return "already exists - to be
managed ... needs to be imported"); made after the delete, there is a time in which neither
exists.

R18/created_first refuses the first at plan; R7 (refusals_keys) uses ``same_object`` to say
which of the two ways a grant in use can be replaced. R18/renamed refuses a create of the object
another address of the same plan deletes (a resource renamed without a ``moved`` block): nothing
orders the two, so the create fails, or follows the delete and makes the object again, empty.
R18/kept refuses a create of an object that stays under another address (a second block for it,
or a removed block that lets the old address go with destroy = false): the create fails.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from reconciler.diagnostics import Diagnostic
from reconciler.values import UNKNOWN

from .context import RuleContext
from .model import Action, Node, TypeName
from .table import diagnose


@dataclass(frozen=True)
class Identity:
    """What makes one type's id, and how a plan reader is told so."""

    attributes: tuple[str, ...]  # equal before and after: the same object
    why: str  # "{why}", completing "... would be the same object in Azure: "
    how: str  # what would make the replacement a new object ("" when nothing can)


_ROLE = "role"  # a role assignment's role: its name, or the GUID of its definition id

_NAMED_IN_GROUP = Identity(
    ("resource_group_name", "name"), "names are unique in a resource group", "give it another name"
)

IDENTITIES: dict[str, Identity] = {
    TypeName.RESOURCE_GROUP.value: Identity(
        ("name",), "resource group names are unique in a subscription", "give it another name"
    ),
    TypeName.USER_IDENTITY.value: _NAMED_IN_GROUP,
    TypeName.VAULT.value: _NAMED_IN_GROUP,
    "azurerm_disk_encryption_set": _NAMED_IN_GROUP,
    # the name is the key vault's DNS name: unique across Azure, whatever the resource group
    TypeName.KEY_VAULT.value: Identity(
        ("name",), "key vault names are unique across Azure", "give it another name"
    ),
    TypeName.KEY.value: Identity(
        ("key_vault_id", "name"), "a key's name is unique in its key vault", "give it another name"
    ),
    TypeName.ACCESS_POLICY.value: Identity(
        ("key_vault_id", "object_id", "application_id"),
        "Key Vault keeps one access policy per principal and application in a key vault",
        "",
    ),
    TypeName.BACKUP_POLICY_VM.value: Identity(
        ("resource_group_name", "recovery_vault_name", "name"),
        "a backup policy's name is unique in its vault",
        "give it another name",
    ),
    TypeName.PROTECTED_VM.value: Identity(
        ("resource_group_name", "recovery_vault_name", "source_vm_id"),
        "a vault protects a VM once",
        "",
    ),
    TypeName.ROLE_ASSIGNMENT.value: Identity(
        ("scope", "principal_id", _ROLE),
        "Azure keeps one assignment of a role to a principal at a scope, whatever it is named",
        "",
    ),
}


def _text(value: Any) -> str | None:
    """A value as the id compares it (names and ids are case-insensitive); None when unknown.
    Left out and empty are the same (an access policy without an application)."""
    if value is UNKNOWN:
        return None
    if value is None:
        return ""
    return str(value).lower() if isinstance(value, str) else None


def _role(before: dict[str, Any], after: dict[str, Any]) -> tuple[str | None, str | None]:
    """The two roles in the same terms: by name when the configuration names it, else by the
    GUID of its definition id (state holds both; the plan only what is configured)."""
    for key, text in (("role_definition_name", _text), ("role_definition_id", _guid)):
        new = after.get(key)
        if isinstance(new, str) and new:
            return text(before.get(key)) or None, text(new)
    return None, None


def _guid(value: Any) -> str | None:
    text = _text(value)
    return text.rstrip("/").rsplit("/", 1)[-1] if text else text


def same_object(node: Node) -> bool | None:
    """For a replacement: True when the new object would be the old one in Azure, False when it
    would be another, None when that is not known before apply (or the type is not listed)."""
    return same_identity(node.type_name, node.inst.before, node.inst.after)


def same_identity(type_name: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> bool | None:
    """Whether an object of ``type_name`` planned as ``after`` is the one that exists as ``before``."""
    identity = IDENTITIES.get(type_name)
    if identity is None or before is None or after is None:
        return None
    for name in identity.attributes:
        if name == _ROLE:
            old, new = _role(before, after)
        else:
            old, new = _text(before.get(name)), _text(after.get(name))
        if old is None or new is None:
            return None
        if old.rstrip("/") != new.rstrip("/"):
            return False
    return True


def why_same(node: Node) -> str:
    identity = IDENTITIES.get(node.type_name)
    return identity.why if identity is not None else "its id would not change"


def r18_created_first_over_itself(ctx: RuleContext) -> Iterable[Diagnostic]:
    """A replacement made before the delete of the object it is."""
    for node in ctx.index.nodes:
        if node.action is not Action.REPLACE or not node.inst.create_before_destroy or node.is_data:
            continue
        if same_object(node) is not True:
            continue
        how = IDENTITIES[node.type_name].how
        yield diagnose(
            "R18/created_first",
            address=node.address,
            location=node.location,
            resource=node.address,
            why=why_same(node),
            otherwise=f", or {how} so the replacement is a new object" if how else "",
        )


def r18_created_where_one_is_deleted(ctx: RuleContext) -> Iterable[Diagnostic]:
    """A new object that is, in Azure, one the plan deletes or keeps under another address: a
    resource renamed without a moved block (deleted under the old address: nothing orders the
    delete and the create, so the create fails - the object is still there - or makes it again,
    empty), or one that stays (a removed block that lets go of it with destroy = false - the rules
    see such an object as kept, as it is in Azure - or a second block for an object this
    configuration manages already: the create fails)."""
    existing: dict[str, list[Node]] = {}
    for node in ctx.index.nodes:
        if node.action in THERE_NOW and not node.is_data and node.type_name in IDENTITIES:
            existing.setdefault(node.type_name, []).append(node)
    if not existing:
        return
    for node in ctx.index.nodes:
        # a replacement creates too: count = 3 -> 2 with the middle name dropped replaces [1] by
        # what [2] is, and deletes [2]
        if node.action not in (Action.CREATE, Action.REPLACE) or node.is_data:
            continue
        for old in existing.get(node.type_name, ()):
            if old is node or same_identity(node.type_name, old.prior, node.inst.after) is not True:
                continue
            yield diagnose(
                "R18/renamed" if old.action is Action.DELETE else "R18/kept",
                address=node.address,
                location=node.location,
                resource=node.address,
                old=old.address,
                why=why_same(node),
            )
            break


# objects the plan finds in Azure and doesn't replace: deleted, or there after it too
THERE_NOW = (Action.DELETE, Action.NOOP, Action.UPDATE)
