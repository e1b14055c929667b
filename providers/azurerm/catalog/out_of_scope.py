"""azurerm type names vaultform knows about but doesn't serve.

So that "unknown resource type" can tell a typo from a real azurerm type outside
vaultform's scope ("azurerm knows it; vaultform doesn't manage it"), and say what to
do instead where there is something better to say.
"""

from __future__ import annotations

from dataclasses import dataclass

from providers.schema import Mode

_M = frozenset({Mode.MANAGED})
_D = frozenset({Mode.DATA})
_MD = frozenset({Mode.MANAGED, Mode.DATA})


@dataclass(frozen=True, slots=True)
class OutOfScope:
    type_name: str
    modes: frozenset[Mode]  # as a resource, as a data source, or both in azurerm
    note: str = ""  # what to use instead, when there is something to say


_GENERAL = "Manage it with Terraform alongside vaultform; vaultform reads only what CMK needs."
_VM = (
    "vaultform protects existing virtual machines; read one with "
    'data "azurerm_virtual_machine" and create it with Terraform.'
)
_OTHER_BACKUP = (
    "vaultform covers Azure VM backup in Recovery Services vaults "
    "(azurerm_backup_policy_vm, azurerm_backup_protected_vm)."
)
_KEY_VAULT_OTHER = "vaultform manages keys only (azurerm_key_vault_key), the objects a CMK needs."

_ENTRIES: tuple[tuple[str, frozenset[Mode], str], ...] = (
    # Key Vault objects other than keys
    ("azurerm_key_vault_secret", _MD, _KEY_VAULT_OTHER),
    ("azurerm_key_vault_secrets", _D, _KEY_VAULT_OTHER),
    ("azurerm_key_vault_certificate", _MD, _KEY_VAULT_OTHER),
    ("azurerm_key_vault_certificate_issuer", _MD, _KEY_VAULT_OTHER),
    ("azurerm_key_vault_certificate_contacts", _M, _KEY_VAULT_OTHER),
    ("azurerm_key_vault_managed_storage_account", _M, _KEY_VAULT_OTHER),
    (
        "azurerm_key_vault_managed_hardware_security_module",
        _MD,
        "Managed HSM keys can protect a vault, but vaultform manages Key Vault keys only.",
    ),
    (
        "azurerm_key_vault_managed_hardware_security_module_key",
        _M,
        "Managed HSM keys can protect a vault, but vaultform manages Key Vault keys only.",
    ),
    (
        "azurerm_key_vault_access_policy",
        _D,
        'Read the vault instead: data "azurerm_key_vault" exposes its access_policy list.',
    ),
    ("azurerm_key_vault_encrypted_value", _D, _GENERAL),
    # identity and authorization
    (
        "azurerm_role_definition",
        _MD,
        "Use a built-in role by name in azurerm_role_assignment.role_definition_name.",
    ),
    ("azurerm_federated_identity_credential", _M, _GENERAL),
    ("azurerm_subscription", _D, 'data "azurerm_client_config" gives the subscription id.'),
    # compute and storage
    ("azurerm_virtual_machine", _M, _VM),
    ("azurerm_linux_virtual_machine", _M, _VM),
    ("azurerm_windows_virtual_machine", _M, _VM),
    ("azurerm_managed_disk", _MD, _GENERAL),
    ("azurerm_disk_encryption_set", _D, "Declare it as a resource: azurerm_disk_encryption_set."),
    ("azurerm_storage_account", _MD, _GENERAL),
    (
        "azurerm_storage_account_customer_managed_key",
        _M,
        "That is CMK for Storage; vaultform handles CMK for Azure Backup.",
    ),
    # other backup kinds
    (
        "azurerm_recovery_services_vault",
        _D,
        "Declare the vault as a resource so vaultform can order and guard its encryption.",
    ),
    ("azurerm_backup_policy_vm", _D, "Declare the policy as a resource: azurerm_backup_policy_vm."),
    ("azurerm_backup_policy_file_share", _MD, _OTHER_BACKUP),
    ("azurerm_backup_protected_file_share", _M, _OTHER_BACKUP),
    ("azurerm_backup_container_storage_account", _M, _OTHER_BACKUP),
    ("azurerm_backup_policy_vm_workload", _M, _OTHER_BACKUP),
    ("azurerm_recovery_services_vault_resource_guard_association", _M, _GENERAL),
    (
        "azurerm_data_protection_backup_vault",
        _MD,
        "Backup vaults (Data Protection) are a different service from Recovery Services vaults.",
    ),
    ("azurerm_data_protection_backup_policy_disk", _M, _OTHER_BACKUP),
    ("azurerm_data_protection_backup_instance_disk", _M, _OTHER_BACKUP),
    ("azurerm_data_protection_backup_policy_blob_storage", _M, _OTHER_BACKUP),
    ("azurerm_site_recovery_fabric", _MD, "Site Recovery is outside vaultform's scope."),
    ("azurerm_site_recovery_replicated_vm", _M, "Site Recovery is outside vaultform's scope."),
    # networking and monitoring
    (
        "azurerm_private_endpoint",
        _M,
        "Note: Backup private endpoints don't combine with a user-assigned CMK identity (R9).",
    ),
    ("azurerm_virtual_network", _MD, _GENERAL),
    ("azurerm_subnet", _MD, _GENERAL),
    ("azurerm_network_interface", _MD, _GENERAL),
    ("azurerm_log_analytics_workspace", _MD, _GENERAL),
    ("azurerm_monitor_diagnostic_setting", _M, _GENERAL),
    ("azurerm_management_lock", _M, _GENERAL),
)

DATA: dict[str, OutOfScope] = {name: OutOfScope(name, modes, note) for name, modes, note in _ENTRIES}


def out_of_scope(mode: Mode, type_name: str) -> OutOfScope | None:
    """The entry when azurerm has ``type_name`` in ``mode`` but vaultform doesn't serve it."""
    entry = DATA.get(type_name)
    return entry if entry is not None and mode in entry.modes else None
