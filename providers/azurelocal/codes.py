"""Where each error code the key vault, identity, authorization, resource group, subscription and
Recovery Services vault services answer comes from: a public source showing Azure answer it, or
"invented" when none was found (the code then only describes; no caller may depend on it).

``tests/azurelocal/test_error_codes.py`` checks that every code those services raise is listed
here. The CMK refusals of Recovery Services vaults carry their own sources in ``rules.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

INVENTED = "invented"

ARM_ERRORS = "learn.microsoft.com/azure/azure-resource-manager/troubleshooting/common-deployment-errors"
RBAC_ERRORS = "learn.microsoft.com/azure/role-based-access-control/troubleshooting"
KV_ERRORS = "learn.microsoft.com/azure/key-vault/general/common-error-codes"
KV_REST = "learn.microsoft.com/rest/api/keyvault (data plane error bodies: KeyVaultError code/innererror)"


@dataclass(frozen=True)
class CodeSource:
    code: str
    source: str

    @property
    def invented(self) -> bool:
        return self.source == INVENTED


SOURCES = {
    s.code: s
    for s in (
        # ARM, any resource
        CodeSource("ResourceNotFound", ARM_ERRORS),
        CodeSource("ResourceGroupNotFound", ARM_ERRORS),
        CodeSource("SubscriptionNotFound", ARM_ERRORS),
        CodeSource("InvalidRequestContent", ARM_ERRORS),
        CodeSource("LocationRequired", ARM_ERRORS),
        CodeSource("InvalidResourceLocation", ARM_ERRORS),
        CodeSource("InvalidResourceGroupLocation", ARM_ERRORS),
        CodeSource("InvalidResourceGroupName", ARM_ERRORS),
        CodeSource("InvalidResourceName", ARM_ERRORS),
        CodeSource(
            "MissingSubscriptionRegistration",
            ARM_ERRORS + "; azurerm vendored go-azure-sdk retry_policies.go",
        ),
        CodeSource(
            "InvalidResourceNamespace", "Azure PowerShell Register-AzResourceProvider output in azure-docs"
        ),
        CodeSource("NoRegisteredProviderFound", ARM_ERRORS),
        CodeSource(
            "MethodNotAllowed", "HTTP 405 as ARM names it (Key Vault: purge of a purge-protected vault)"
        ),
        CodeSource("BadRequest", ARM_ERRORS),
        CodeSource("ResourceNotInSourceGroup", INVENTED),
        CodeSource("OperationNotFound", INVENTED),
        CodeSource("InvalidSkipToken", INVENTED),  # a $skiptoken this emulator did not make
        CodeSource("InvalidIsolationScope", INVENTED),
        # role assignments
        CodeSource("AuthorizationFailed", RBAC_ERRORS + " (no authorization to perform action over scope)"),
        CodeSource("PrincipalNotFound", RBAC_ERRORS + "; azurerm role_assignment_resource.go retries it"),
        CodeSource("UnmatchedPrincipalType", RBAC_ERRORS),
        CodeSource("RoleDefinitionDoesNotExist", RBAC_ERRORS),
        CodeSource("InvalidRoleAssignmentId", RBAC_ERRORS),
        CodeSource("RoleAssignmentUpdateNotPermitted", RBAC_ERRORS),
        CodeSource("RoleAssignmentExists", RBAC_ERRORS),
        CodeSource("RoleAssignmentNotFound", "azure-cli `az role assignment delete` output"),
        # key vaults (management plane)
        CodeSource("VaultAlreadyExists", "Azure/ARO-Landing-Zone-Accelerator issue 28 (azurerm output)"),
        CodeSource("ConflictError", KV_ERRORS + "; Azure/AzureKeyVault issue 6; data-safe-haven issue 2523"),
        CodeSource("VaultNameNotValid", "ARM deployment error details shown in public templates' issues"),
        # key vaults (data plane)
        CodeSource("Unauthorized", KV_ERRORS),
        CodeSource(
            "Forbidden", KV_ERRORS + " (inner ForbiddenByPolicy / ForbiddenByRbac / ForbiddenByFirewall)"
        ),
        CodeSource("BadParameter", KV_ERRORS),
        CodeSource("KeyNotFound", KV_REST),
        CodeSource("VaultNotFound", KV_REST),
    )
}


def source_of(code: str) -> CodeSource | None:
    return SOURCES.get(code)
