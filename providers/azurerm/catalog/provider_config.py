"""The ``provider "azurerm" { ... }`` block.

azurerm's authentication and ``features`` arguments, plus one vaultform argument,
``cloud``, that picks the embedded local Azure (the default) or real Azure.
Secrets are marked sensitive so they never reach output or state.
"""

from __future__ import annotations

import dataclasses

from providers.schema import BOOL, STRING, Attribute, BlockSchema, NestedBlock, Nesting, list_of

CLOUDS = ("local", "azure")
ENVIRONMENTS = ("public", "usgovernment", "china")
REGISTRATION_SETS = ("none", "legacy", "core", "extended", "all")


def _flag(name: str, description: str) -> Attribute:
    return Attribute(name, BOOL, optional=True, description=description)


# Which features flags vaultform acts on (the rest of azurerm's are accepted, and warned about as
# not reconciled: they concern objects vaultform doesn't manage). purge_protected_items_from_vault_
# on_destroy is left out on purpose: azurerm deletes, before a vault, every backup item Azure lists
# in it (recovery_services_vault_resource.go); vaultform deletes only the protected VMs the
# configuration declares, and refuses at plan to delete a vault that still holds others (R15).
ACTED_ON = frozenset(
    {
        ("key_vault", "purge_soft_delete_on_destroy"),
        ("key_vault", "recover_soft_deleted_key_vaults"),
        ("key_vault", "purge_soft_deleted_keys_on_destroy"),
        ("key_vault", "recover_soft_deleted_keys"),
        ("recovery_service", "vm_backup_stop_protection_and_retain_data_on_destroy"),
        ("recovery_service", "vm_backup_suspend_protection_and_retain_data_on_destroy"),
        ("recovery_services_vaults", "recover_soft_deleted_backup_protected_vm"),
        ("resource_group", "prevent_deletion_if_contains_resources"),
    }
)

# azurerm's features blocks and their flags (internal/provider/features.go, v4): a name outside
# them is an error, as terraform makes it, so a misspelt switch can't be silently ignored.
FEATURES: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    (
        "key_vault",
        "Soft-delete and purge behaviour of Key Vault objects on destroy. vaultform never purges what "
        "a vault's encryption depends on (R11).",
        (
            ("purge_soft_delete_on_destroy", "Purge a deleted key vault."),
            ("recover_soft_deleted_key_vaults", "Recover a soft-deleted vault of the same name."),
            ("purge_soft_deleted_keys_on_destroy", "Purge deleted keys."),
            ("recover_soft_deleted_keys", "Recover soft-deleted keys of the same name."),
            ("purge_soft_deleted_secrets_on_destroy", "Purge deleted secrets."),
            ("recover_soft_deleted_secrets", "Recover soft-deleted secrets."),
            ("purge_soft_deleted_certificates_on_destroy", "Purge deleted certificates."),
            ("recover_soft_deleted_certificates", "Recover soft-deleted certificates."),
            ("purge_soft_deleted_hardware_security_modules_on_destroy", "Purge deleted managed HSMs."),
            (
                "purge_soft_deleted_hardware_security_module_keys_on_destroy",
                "Purge deleted managed HSM keys.",
            ),
            ("recover_soft_deleted_hardware_security_module_keys", "Recover soft-deleted managed HSM keys."),
        ),
    ),
    (
        "recovery_service",
        "What destroying a protected VM does to its recovery points.",
        (
            ("vm_backup_stop_protection_and_retain_data_on_destroy", "Stop protection, keep data."),
            ("vm_backup_suspend_protection_and_retain_data_on_destroy", "Suspend protection, keep data."),
            ("purge_protected_items_from_vault_on_destroy", "Remove protected items with the vault."),
        ),
    ),
    (
        "recovery_services_vaults",
        "Whether creating a protected VM whose backup is soft-deleted recovers it.",
        (
            (
                "recover_soft_deleted_backup_protected_vm",
                "Undelete a soft-deleted backup item of the same VM (default true).",
            ),
        ),
    ),
    (
        "resource_group",
        "Resource group deletion safety.",
        (("prevent_deletion_if_contains_resources", "Refuse to delete a group that isn't empty."),),
    ),
    (
        "api_management",
        "API Management.",
        (("purge_soft_delete_on_destroy", ""), ("recover_soft_deleted", "")),
    ),
    (
        "app_configuration",
        "App Configuration.",
        (("purge_soft_delete_on_destroy", ""), ("recover_soft_deleted", "")),
    ),
    ("application_insights", "Application Insights.", (("disable_generated_rule", ""),)),
    ("cognitive_account", "Cognitive Services accounts.", (("purge_soft_delete_on_destroy", ""),)),
    ("log_analytics_workspace", "Log Analytics workspaces.", (("permanently_delete_on_destroy", ""),)),
    ("template_deployment", "Template deployments.", (("delete_nested_items_during_deletion", ""),)),
    (
        "virtual_machine",
        "Virtual machines.",
        (
            ("detach_implicit_data_disk_on_deletion", ""),
            ("delete_os_disk_on_deletion", ""),
            ("skip_shutdown_and_force_delete", ""),
            ("graceful_shutdown", ""),
        ),
    ),
    (
        "virtual_machine_scale_set",
        "Virtual machine scale sets.",
        (
            ("force_delete", ""),
            ("reimage_on_manual_upgrade", ""),
            ("roll_instances_when_required", ""),
            ("scale_to_zero_before_deletion", ""),
        ),
    ),
    ("managed_disk", "Managed disks.", (("expand_without_downtime", ""),)),
    ("storage", "Storage accounts.", (("data_plane_available", ""),)),
    ("subscription", "Subscriptions.", (("prevent_cancellation_on_destroy", ""),)),
    (
        "postgresql_flexible_server",
        "PostgreSQL flexible servers.",
        (("restart_server_on_configuration_value_change", ""),),
    ),
    ("machine_learning", "Machine learning workspaces.", (("purge_soft_deleted_workspace_on_destroy", ""),)),
    (
        "netapp",
        "NetApp.",
        (("delete_backups_on_backup_vault_destroy", ""), ("prevent_volume_destruction", "")),
    ),
    ("databricks_workspace", "Databricks workspaces.", (("force_delete", ""),)),
)


def _feature(name: str, description: str, flags: tuple[tuple[str, str], ...]) -> NestedBlock:
    return NestedBlock(
        name,
        BlockSchema(
            attributes=tuple(
                dataclasses.replace(
                    _flag(flag, text or "A switch for objects vaultform doesn't manage."),
                    reconciled=(name, flag) in ACTED_ON,
                )
                for flag, text in flags
            )
        ),
        nesting=Nesting.LIST,
        max_items=1,
        description=description,
    )


FEATURES_BLOCK = NestedBlock(
    "features",
    BlockSchema(blocks=tuple(_feature(*f) for f in FEATURES)),
    nesting=Nesting.LIST,
    min_items=1,
    max_items=1,
    description="Provider behaviour switches; azurerm requires the block, even empty: features {}.",
)

PROVIDER_CONFIG = BlockSchema(
    attributes=(
        Attribute(
            "cloud",
            STRING,
            optional=True,
            enum=CLOUDS,
            description="vaultform only: 'local' (the embedded local Azure, the default) or "
            "'azure'. VAULTFORM_CLOUD sets it too.",
        ),
        Attribute("subscription_id", STRING, optional=True, description="The subscription to manage."),
        Attribute("tenant_id", STRING, optional=True, description="The Entra ID tenant to sign in to."),
        Attribute("client_id", STRING, optional=True, description="The service principal's client id."),
        Attribute(
            "client_secret",
            STRING,
            optional=True,
            sensitive=True,
            description="The service principal's secret.",
        ),
        Attribute(
            "client_secret_file_path",
            STRING,
            optional=True,
            description="A file holding the service principal's secret (ARM_CLIENT_SECRET_FILE_PATH).",
        ),
        Attribute(
            "client_certificate",
            STRING,
            optional=True,
            sensitive=True,
            description="A base64-encoded PFX certificate for the service principal (ARM_CLIENT_CERTIFICATE).",
        ),
        Attribute(
            "client_certificate_path",
            STRING,
            optional=True,
            description="Path to a PFX (or PEM) certificate for the service principal.",
        ),
        Attribute(
            "client_certificate_password",
            STRING,
            optional=True,
            sensitive=True,
            description="Password of that certificate.",
        ),
        Attribute(
            "oidc_token",
            STRING,
            optional=True,
            sensitive=True,
            description="An OIDC token for workload identity federation.",
        ),
        Attribute(
            "oidc_token_file_path",
            STRING,
            optional=True,
            description="A file holding an OIDC token (ARM_OIDC_TOKEN_FILE_PATH, AZURE_FEDERATED_TOKEN_FILE).",
        ),
        Attribute(
            "oidc_request_url",
            STRING,
            optional=True,
            description="Where to request an OIDC token (ARM_OIDC_REQUEST_URL, ACTIONS_ID_TOKEN_REQUEST_URL, "
            "SYSTEM_OIDCREQUESTURI).",
        ),
        Attribute(
            "oidc_request_token",
            STRING,
            optional=True,
            sensitive=True,
            description="The bearer token for that request (ARM_OIDC_REQUEST_TOKEN, ACTIONS_ID_TOKEN_REQUEST_TOKEN, "
            "SYSTEM_ACCESSTOKEN).",
        ),
        Attribute(
            "ado_pipeline_service_connection_id",
            STRING,
            optional=True,
            description="The Azure DevOps service connection whose OIDC token signs in "
            "(ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID, ARM_OIDC_AZURE_SERVICE_CONNECTION_ID).",
        ),
        Attribute(
            "environment",
            STRING,
            optional=True,
            enum=ENVIRONMENTS,
            description="The Azure cloud environment.",
        ),
        Attribute(
            "metadata_host",
            STRING,
            optional=True,
            description="Host serving cloud environment metadata (Azure Stack, or `vaultform cloud serve`); "
            "ARM_METADATA_HOSTNAME sets it too.",
        ),
        _flag("use_cli", "Sign in with the Azure CLI's account."),
        _flag("use_msi", "Sign in with the managed identity of the machine."),
        _flag("use_oidc", "Sign in with workload identity federation."),
        _flag("use_aks_workload_identity", "Sign in with AKS workload identity (an OIDC token file)."),
        Attribute("msi_endpoint", STRING, optional=True, description="A custom managed identity endpoint."),
        Attribute(
            "auxiliary_tenant_ids",
            list_of(STRING),
            optional=True,
            max_length=3,
            description="Other tenants to get tokens for (cross-tenant keys).",
        ),
        Attribute(
            "resource_provider_registrations",
            STRING,
            optional=True,
            enum=REGISTRATION_SETS,
            description="Which resource providers to register automatically (default legacy, as in "
            "azurerm 4; ARM_RESOURCE_PROVIDER_REGISTRATIONS sets it too).",
        ),
        Attribute(
            "resource_providers_to_register",
            list_of(STRING),
            optional=True,
            description="More resource providers to register, besides the set above.",
        ),
        Attribute(
            "skip_provider_registration",
            BOOL,
            optional=True,
            deprecated='skip_provider_registration is replaced by resource_provider_registrations = "none".',
            description="Former switch for resource provider registration.",
        ),
        Attribute(
            "storage_use_azuread",
            BOOL,
            optional=True,
            reconciled=False,
            description="Use Entra ID rather than keys for storage data planes.",
        ),
        # azurerm's other arguments, accepted and not acted on (a warning says so)
        Attribute(
            "client_id_file_path",
            STRING,
            optional=True,
            reconciled=False,
            description="A file holding the client id.",
        ),
        Attribute(
            "msi_api_version", STRING, optional=True, reconciled=False, description="The IMDS API version."
        ),
        Attribute(
            "partner_id", STRING, optional=True, reconciled=False, description="A partner attribution GUID."
        ),
        Attribute(
            "disable_correlation_request_id",
            BOOL,
            optional=True,
            reconciled=False,
            description="Send no correlation request id.",
        ),
        Attribute(
            "disable_terraform_partner_id",
            BOOL,
            optional=True,
            reconciled=False,
            description="Send no partner id.",
        ),
    ),
    blocks=(FEATURES_BLOCK,),
)
