"""The azurerm catalog and the built-in schema: internal consistency and the domain's flags."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from providers.azurerm.catalog import DATA, SCHEMA, supported_types, unknown_type_detail
from providers.azurerm.catalog.access_policy import KEY_PERMISSIONS
from providers.builtin.schema import SCHEMA as BUILTIN
from providers.schema import (
    Attribute,
    BlockSchema,
    ChangeKind,
    Kind,
    Mode,
    NestedBlock,
    ResourceSchema,
)
from providers.validation import coerce

# DOMAIN.md section 1, in its own words; kept here so the test runs without the shared docs.
DOMAIN_MANAGED = {
    "azurerm_resource_group",
    "azurerm_user_assigned_identity",
    "azurerm_key_vault",
    "azurerm_key_vault_access_policy",
    "azurerm_key_vault_key",
    "azurerm_role_assignment",
    "azurerm_recovery_services_vault",
    "azurerm_backup_policy_vm",
    "azurerm_backup_protected_vm",
    "azurerm_disk_encryption_set",
}
DOMAIN_DATA = {
    "azurerm_client_config",
    "azurerm_resource_group",
    "azurerm_key_vault",
    "azurerm_key_vault_key",
    "azurerm_user_assigned_identity",
    "azurerm_virtual_machine",
}
DOMAIN_KEY_PERMISSIONS = (
    "Get, List, Update, Create, Import, Delete, Recover, Backup, Restore, Decrypt, Encrypt, "
    "UnwrapKey, WrapKey, Verify, Sign, Purge, Release, Rotate, GetRotationPolicy, SetRotationPolicy"
)
# shared/ sits beside the repository (developers' machines and CI alike): ../shared from its root.
DOMAIN_DOC = Path(__file__).resolve().parents[2].parent / "shared" / "DOMAIN.md"


def _walk(block: BlockSchema, prefix: str = ""):
    """(dotted path, Attribute | NestedBlock, owning BlockSchema) for everything in a block."""
    for a in block.attributes:
        yield prefix + a.name, a, block
    for b in block.blocks:
        yield prefix + b.name, b, block
        yield from _walk(b.block, prefix + b.name + ".")


def _all_blocks():
    for r in (
        list(SCHEMA.resources.values())
        + list(SCHEMA.data_sources.values())
        + list(BUILTIN.resources.values())
    ):
        yield f"{r.mode.value} {r.type_name}", r.block
    yield "provider azurerm", SCHEMA.provider_config


def _everything():
    for owner, block in _all_blocks():
        for path, item, parent in _walk(block):
            yield owner, path, item, parent


def _find(schema: ResourceSchema, dotted: str):
    block, item = schema.block, None
    for part in dotted.split("."):
        item = block.attribute_map.get(part) or block.block_map.get(part)
        assert item is not None, f"{schema.type_name} has no {dotted}"
        if isinstance(item, NestedBlock):
            block = item.block
    return item


# --------------------------------------------------------------------------- coverage


def test_every_domain_type_is_served():
    assert set(SCHEMA.resources) == DOMAIN_MANAGED
    assert set(SCHEMA.data_sources) == DOMAIN_DATA
    assert set(BUILTIN.resources) == {"terraform_data"}
    assert supported_types(Mode.MANAGED) == sorted(DOMAIN_MANAGED)
    assert supported_types(Mode.DATA) == sorted(DOMAIN_DATA)
    assert supported_types() == sorted(DOMAIN_MANAGED | DOMAIN_DATA)


def test_tables_are_keyed_by_their_own_names_and_modes():
    for table, mode in (
        (SCHEMA.resources, Mode.MANAGED),
        (SCHEMA.data_sources, Mode.DATA),
        (BUILTIN.resources, Mode.MANAGED),
    ):
        for key, r in table.items():
            assert key == r.type_name and r.mode is mode and r.description


def test_managed_resources_have_id_and_import_hint():
    for r in list(SCHEMA.resources.values()) + list(BUILTIN.resources.values()):
        ident = r.attribute_map.get("id")
        assert ident is not None and ident.computed and not ident.optional and not ident.required, r.type_name
        assert r.import_id_hint, r.type_name
    assert "{version}" in SCHEMA.resources["azurerm_key_vault_key"].import_id_hint
    for r in SCHEMA.data_sources.values():
        assert r.attribute_map["id"].computed, r.type_name


def test_out_of_scope_names_are_not_served():
    for name, entry in DATA.items():
        assert name.startswith("azurerm_") and entry.modes
        for mode in entry.modes:
            assert SCHEMA.lookup(mode, name) is None, f"{name} is both served and out of scope"


def test_unknown_type_detail_tells_out_of_scope_from_typo():
    assert "azurerm knows" in unknown_type_detail(Mode.MANAGED, "azurerm_key_vault_secret")
    assert 'Did you mean "azurerm_key_vault_key"?' in unknown_type_detail(
        Mode.MANAGED, "azurerm_keyvault_key"
    )
    assert "data block" in unknown_type_detail(Mode.MANAGED, "azurerm_client_config")
    assert "Supported:" in unknown_type_detail(Mode.DATA, "azurerm_nothing_like_it_at_all")


def test_registry_finds_both_schemas_by_name():
    from reconciler import providers_registry as registry

    assert registry.schema_for("azurerm") is SCHEMA
    assert registry.schema_for("terraform") is BUILTIN


def test_catalog_import_pulls_in_no_sdk():
    code = (
        "import sys, providers.azurerm, providers.azurerm.catalog, providers.builtin.schema, "
        "providers.roles, providers.validation; "
        "print(sorted(m for m in sys.modules if m == 'azure' or m.startswith('azure.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- consistency


def test_attribute_flags_are_coherent():
    for owner, path, item, _parent in _everything():
        if not isinstance(item, Attribute):
            continue
        where = f"{owner}: {path}"
        assert item.required or item.optional or item.computed, where
        assert not (item.required and (item.optional or item.computed)), where
        assert item.description, where
        if item.default is not None:
            assert item.optional and not item.required, f"{where}: a default needs an optional attribute"
        if item.computed and not item.optional:
            assert item.default is None and not item.force_new and item.change_rule is None, where
        if item.case_insensitive:
            assert item.enum, f"{where}: case_insensitive without an enum"
        if item.min_value is not None and item.max_value is not None:
            assert item.min_value <= item.max_value, where
        if item.min_length is not None and item.max_length is not None:
            assert item.min_length <= item.max_length, where


def test_enums_are_non_empty_unique_and_of_the_attribute_type():
    for owner, path, item, _ in _everything():
        if not isinstance(item, Attribute) or item.enum is None:
            continue
        where = f"{owner}: {path}"
        assert len(item.enum) > 0 and len(set(item.enum)) == len(item.enum), where
        scalar = item.type.element if item.type.kind in (Kind.LIST, Kind.SET, Kind.MAP) else item.type
        wanted = {Kind.STRING: str, Kind.NUMBER: (int, float)}[scalar.kind]
        assert all(isinstance(v, wanted) and not isinstance(v, bool) for v in item.enum), where


def test_patterns_compile_and_explain_themselves():
    for owner, path, item, _ in _everything():
        if isinstance(item, Attribute) and item.pattern:
            re.compile(item.pattern)
            assert item.pattern_hint, f"{owner}: {path} has a pattern without a hint"


def test_defaults_satisfy_their_own_attribute():
    for owner, path, item, _ in _everything():
        if not isinstance(item, Attribute) or item.default is None:
            continue
        where = f"{owner}: {path}"
        assert coerce(item.type, item.default) == item.default, where
        if item.enum:
            assert item.default in item.enum, where
        if item.min_value is not None:
            assert item.default >= item.min_value, where
        if item.max_value is not None:
            assert item.default <= item.max_value, where
        if item.pattern:
            assert re.fullmatch(item.pattern, item.default), where


def test_cross_references_name_real_arguments():
    for owner, path, item, parent in _everything():
        if isinstance(item, Attribute):
            for other in item.conflicts_with:
                target = parent.attribute_map.get(other)
                assert target is not None, f"{owner}: {path} conflicts with missing {other}"
                assert item.name in target.conflicts_with, f"{owner}: {path}/{other} not symmetric"
        if isinstance(item, NestedBlock):
            assert item.max_items is None or item.min_items <= item.max_items, f"{owner}: {path}"
    for owner, block in _all_blocks():
        for _, item, _ in [("", None, block)] + list(_walk(block)):
            inner = block if item is None else (item.block if isinstance(item, NestedBlock) else None)
            if inner is None:
                continue
            names = set(inner.names())
            groups = list(inner.exactly_one_of) + list(inner.at_least_one_of)
            groups += [(name, *others) for name, others in inner.required_with]
            for group in groups:
                assert set(group) <= names, f"{owner}: constraint {group} names unknown arguments"


def test_change_rules_have_codes_and_messages():
    found = 0
    for owner, path, item, _ in _everything():
        rule = getattr(item, "change_rule", None)
        if rule is not None:
            found += 1
            assert re.fullmatch(r"R\d+", rule.code) and rule.message, f"{owner}: {path}"
    assert found >= 5


# --------------------------------------------------------------------------- the domain's flags

FORCE_NEW = {
    "azurerm_resource_group": ("name", "location"),
    "azurerm_user_assigned_identity": ("name", "location", "resource_group_name"),
    "azurerm_key_vault": ("name", "location", "resource_group_name"),
    "azurerm_key_vault_access_policy": ("key_vault_id", "tenant_id", "object_id"),
    "azurerm_key_vault_key": ("name", "key_vault_id", "key_type", "key_size"),
    "azurerm_role_assignment": (
        "scope",
        "role_definition_name",
        "role_definition_id",
        "principal_id",
        "principal_type",
    ),
    "azurerm_recovery_services_vault": ("name", "location", "resource_group_name"),
    "azurerm_backup_policy_vm": ("name", "resource_group_name", "recovery_vault_name", "policy_type"),
    "azurerm_backup_protected_vm": ("resource_group_name", "recovery_vault_name", "source_vm_id"),
}


@pytest.mark.parametrize("type_name", sorted(FORCE_NEW))
def test_domain_force_new_flags(type_name):
    for name in FORCE_NEW[type_name]:
        assert _find(SCHEMA.resources[type_name], name).force_new, f"{type_name}.{name}"


def test_builtin_triggers_replace_forces_new():
    data = BUILTIN.resources["terraform_data"]
    assert data.attribute_map["triggers_replace"].force_new
    assert data.attribute_map["input"].type.kind is Kind.ANY
    assert data.attribute_map["output"].computed and not data.attribute_map["output"].optional


CHANGE_RULES = [
    ("azurerm_key_vault", "purge_protection_enabled", ChangeKind.ONE_WAY, "R10", False),
    ("azurerm_key_vault", "soft_delete_retention_days", ChangeKind.FIXED_ONCE_SET, "R10", None),
    (
        "azurerm_recovery_services_vault",
        "encryption.infrastructure_encryption_enabled",
        ChangeKind.FIXED_ONCE_SET,
        "R10",
        None,
    ),
    ("azurerm_recovery_services_vault", "immutability", ChangeKind.FINAL_VALUE, "R10", "Locked"),
    ("azurerm_recovery_services_vault", "encryption", ChangeKind.ONE_WAY, "R1", None),
]


@pytest.mark.parametrize("type_name,path,kind,code,value", CHANGE_RULES)
def test_domain_change_rules(type_name, path, kind, code, value):
    rule = _find(SCHEMA.resources[type_name], path).change_rule
    assert rule is not None and rule.kind is kind and rule.code == code and rule.value == value


def test_domain_values_defaults_and_ranges():
    kv = SCHEMA.resources["azurerm_key_vault"]
    retention = _find(kv, "soft_delete_retention_days")
    assert (retention.min_value, retention.max_value, retention.default) == (7, 90, 90)
    assert _find(kv, "sku_name").enum == ("standard", "premium")
    assert set(_find(kv, "network_acls.default_action").enum) == {"Allow", "Deny"}
    assert set(_find(kv, "network_acls.bypass").enum) == {"None", "AzureServices"}
    assert _find(kv, "vault_uri").computed
    key = SCHEMA.resources["azurerm_key_vault_key"]
    assert set(_find(key, "key_type").enum) == {"RSA", "RSA-HSM", "EC", "EC-HSM"}
    assert set(_find(key, "key_opts").enum) == {
        "decrypt",
        "encrypt",
        "sign",
        "unwrapKey",
        "verify",
        "wrapKey",
    }
    for name in ("id", "version", "versionless_id", "resource_id", "public_key_pem", "n", "e"):
        assert _find(key, name).computed and not _find(key, name).optional, name
    assert _find(key, "rotation_policy.automatic.time_after_creation").optional
    assert _find(key, "rotation_policy.automatic.time_before_expiry").optional
    rsv = SCHEMA.resources["azurerm_recovery_services_vault"]
    assert set(_find(rsv, "sku").enum) == {"RS0", "Standard"}
    assert _find(rsv, "identity.type").enum == (
        "SystemAssigned",
        "UserAssigned",
        "SystemAssigned, UserAssigned",
    )
    assert _find(rsv, "identity.principal_id").computed and _find(rsv, "identity.tenant_id").computed
    assert _find(rsv, "encryption.use_system_assigned_identity").default is True
    assert _find(rsv, "storage_mode_type").default == "GeoRedundant"
    assert set(_find(rsv, "immutability").enum) == {"Disabled", "Unlocked", "Locked"}
    uai = SCHEMA.resources["azurerm_user_assigned_identity"]
    for name in ("principal_id", "client_id", "tenant_id"):
        assert _find(uai, name).computed
    assert _find(SCHEMA.resources["azurerm_backup_policy_vm"], "policy_type").enum == ("V1", "V2")
    assert (
        _find(SCHEMA.resources["azurerm_disk_encryption_set"], "auto_key_rotation_enabled").type.kind
        is Kind.BOOL
    )
    for name in ("tenant_id", "object_id", "subscription_id", "client_id"):
        assert SCHEMA.data_sources["azurerm_client_config"].attribute_map[name].computed


def test_tags_and_the_key_vault_contacts_are_reconciled():
    for r in SCHEMA.resources.values():
        if "tags" in r.attribute_map:
            assert r.attribute_map["tags"].reconciled, r.type_name
    # azurerm 5.0 removed a key vault's contact block (azurerm_key_vault_certificate_contacts took
    # its place); vaultform still manages it, on the vault's data plane
    contact = SCHEMA.resources["azurerm_key_vault"].block_map["contact"]
    assert contact.reconciled and all(a.reconciled for a in contact.block.attributes)
    assert _find(SCHEMA.resources["azurerm_backup_protected_vm"], "exclude_disk_luns").reconciled


# Every argument azurerm documents for these types (website/docs/r/<type>.html.markdown,
# "Arguments Reference", hashicorp/terraform-provider-azurerm main), nested blocks' included.
DOCUMENTED_ARGUMENTS = {
    "azurerm_key_vault": (
        "name location resource_group_name rbac_authorization_enabled sku_name tenant_id access_policy "
        "enabled_for_deployment enabled_for_disk_encryption enabled_for_template_deployment network_acls "
        "purge_protection_enabled public_network_access_enabled soft_delete_retention_days tags "
        "access_policy.tenant_id access_policy.object_id access_policy.application_id "
        "access_policy.certificate_permissions access_policy.key_permissions access_policy.secret_permissions "
        "access_policy.storage_permissions network_acls.bypass network_acls.default_action network_acls.ip_rules "
        "network_acls.virtual_network_subnet_ids"
    ),
    "azurerm_key_vault_access_policy": (
        "key_vault_id tenant_id object_id application_id certificate_permissions key_permissions "
        "secret_permissions storage_permissions"
    ),
    "azurerm_key_vault_key": (
        "name key_vault_id key_opts key_type curve expiration_date key_size not_before_date rotation_policy tags "
        "rotation_policy.expire_after rotation_policy.automatic rotation_policy.notify_before_expiry "
        "rotation_policy.automatic.time_after_creation rotation_policy.automatic.time_before_expiry"
    ),
    "azurerm_role_assignment": (
        "name scope role_definition_id role_definition_name principal_id principal_type condition "
        "condition_version delegated_managed_identity_resource_id description skip_service_principal_aad_check"
    ),
    "azurerm_user_assigned_identity": "location name resource_group_name isolation_scope tags",
    "azurerm_resource_group": "location name managed_by tags",
    "azurerm_recovery_services_vault": (
        "name resource_group_name location tags identity sku public_network_access_enabled immutability "
        "storage_mode_type cross_region_restore_enabled encryption classic_vmware_replication_enabled monitoring "
        "identity.type identity.identity_ids encryption.key_id encryption.infrastructure_encryption_enabled "
        "encryption.user_assigned_identity_id encryption.use_system_assigned_identity "
        "monitoring.alerts_for_all_job_failures_enabled monitoring.alerts_for_all_failover_issues_enabled "
        "monitoring.alerts_for_all_replication_issues_enabled "
        "monitoring.alerts_for_critical_operation_failures_enabled "
        "monitoring.email_notifications_for_site_recovery_enabled"
    ),
}


def _documented(block, path: str):
    head, _, rest = path.partition(".")
    if head in block.block_map:
        nested = block.block_map[head]
        return (nested, nested.reconciled) if not rest else _documented(nested.block, rest)
    attribute = block.attribute_map[head]
    assert not rest, path
    return attribute, attribute.reconciled


@pytest.mark.parametrize("type_name", sorted(DOCUMENTED_ARGUMENTS))
def test_every_argument_azurerm_documents_is_managed(type_name):
    """None of them is accepted with the unreconciled_argument warning: apply gives users what they wrote."""
    schema = SCHEMA.resources[type_name]
    unmanaged = [
        path for path in DOCUMENTED_ARGUMENTS[type_name].split() if not _documented(schema.block, path)[1]
    ]
    assert unmanaged == [], f"{type_name}: accepted but not managed: {unmanaged}"


def test_key_permissions_match_the_domain_list_exactly():
    assert sorted(KEY_PERMISSIONS) == sorted(DOMAIN_KEY_PERMISSIONS.split(", "))
    for r in (SCHEMA.resources["azurerm_key_vault_access_policy"],):
        assert r.attribute_map["key_permissions"].enum == KEY_PERMISSIONS
    inline = SCHEMA.resources["azurerm_key_vault"].block_map["access_policy"].block
    assert inline.attribute_map["key_permissions"].enum == KEY_PERMISSIONS


def test_key_permissions_match_domain_md():
    assert DOMAIN_DOC.is_file(), f"{DOMAIN_DOC} is missing: shared/ belongs beside the repository"
    text = DOMAIN_DOC.read_text()
    listed = re.search(r"key_permissions in PascalCase: ([A-Za-z, ]+?) \(", text)
    assert listed, "DOMAIN.md no longer lists key permissions in the expected form"
    assert sorted(KEY_PERMISSIONS) == sorted(p.strip() for p in listed.group(1).split(","))
    for type_name in re.findall(r"`(azurerm_[a-z_]+)`", text.split("## 2.")[0]):
        assert type_name in SCHEMA.resources or type_name in SCHEMA.data_sources, type_name
