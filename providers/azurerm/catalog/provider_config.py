"""The ``provider "azurerm" { ... }`` block.

azurerm's authentication and ``features`` arguments, plus one vaultform argument,
``cloud``, that picks the embedded local Azure (the default) or real Azure.
Secrets are marked sensitive so they never reach output or state.
"""

from __future__ import annotations

from providers.schema import BOOL, STRING, Attribute, BlockSchema, NestedBlock, Nesting, list_of

CLOUDS = ("local", "azure")
ENVIRONMENTS = ("public", "usgovernment", "china")
REGISTRATION_SETS = ("none", "legacy", "core", "extended", "all")


def _flag(name: str, description: str) -> Attribute:
    return Attribute(name, BOOL, optional=True, description=description)


def _feature(name: str, description: str, *flags: tuple[str, str], reconciled: bool = False) -> NestedBlock:
    return NestedBlock(
        name,
        BlockSchema(attributes=tuple(_flag(n, d) for n, d in flags)),
        nesting=Nesting.LIST,
        max_items=1,
        reconciled=reconciled,
        description=description,
    )


FEATURES_BLOCK = NestedBlock(
    "features",
    BlockSchema(
        blocks=(
            _feature(
                "key_vault",
                "Soft-delete and purge behaviour of Key Vault objects on destroy. vaultform "
                "never purges what a vault's encryption depends on (R11).",
                ("purge_soft_delete_on_destroy", "Purge a deleted key vault."),
                ("recover_soft_deleted_key_vaults", "Recover a soft-deleted vault of the same name."),
                ("purge_soft_deleted_keys_on_destroy", "Purge deleted keys."),
                ("recover_soft_deleted_keys", "Recover soft-deleted keys of the same name."),
                ("purge_soft_deleted_secrets_on_destroy", "Purge deleted secrets."),
                ("recover_soft_deleted_secrets", "Recover soft-deleted secrets."),
                ("purge_soft_deleted_certificates_on_destroy", "Purge deleted certificates."),
                ("recover_soft_deleted_certificates", "Recover soft-deleted certificates."),
            ),
            _feature(
                "recovery_service",
                "What destroying a protected VM does to its recovery points.",
                ("vm_backup_stop_protection_and_retain_data_on_destroy", "Stop protection, keep data."),
                ("vm_backup_suspend_protection_and_retain_data_on_destroy", "Suspend protection, keep data."),
                ("purge_protected_items_from_vault_on_destroy", "Remove protected items with the vault."),
            ),
            _feature(
                "recovery_services_vaults",
                "Whether creating a protected VM whose backup is soft-deleted recovers it.",
                (
                    "recover_soft_deleted_backup_protected_vm",
                    "Undelete a soft-deleted backup item of the same VM (default true).",
                ),
                reconciled=True,
            ),
            _feature(
                "resource_group",
                "Resource group deletion safety.",
                ("prevent_deletion_if_contains_resources", "Refuse to delete a group that isn't empty."),
            ),
        )
    ),
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
    ),
    blocks=(FEATURES_BLOCK,),
)
