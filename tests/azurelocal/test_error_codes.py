"""Every error code the key vault, identity, authorization, resource group, subscription and vault
services answer is listed with its public source (or marked invented), and the provider's retry,
not-found and refusal handling names only codes that are not invented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from providers.azurelocal import codes
from providers.azurerm import errors

ROOT = Path(__file__).resolve().parents[2] / "providers" / "azurelocal"
SERVICES = [
    ROOT / "services" / f"{name}.py"
    for name in (
        "key_vaults",
        "keys",
        "role_assignments",
        "identities",
        "recovery_vaults",
        "resource_groups",
        "subscriptions",
        "providers",
        "_arm",
        "operations",
    )
] + [ROOT / "access.py", ROOT / "kvrules.py", ROOT / "router.py"]
RAISED = re.compile(r'(?:AzureError|KeyVaultError)\(\s*\d{3},\s*"([A-Za-z_]+)"')
NAME_CODES = re.compile(
    r'"(VaultNameNotValid|InvalidResourceGroupName|InvalidResourceName|NoRegisteredProviderFound)"'
)


def raised_codes() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in SERVICES:
        text = path.read_text()
        for code in RAISED.findall(text) + NAME_CODES.findall(text):
            found.setdefault(code, []).append(path.name)
    return found


@pytest.mark.parametrize("code", sorted(raised_codes()))
def test_every_code_answered_has_a_source_or_says_invented(code):
    assert codes.source_of(code) is not None, (
        f"{code} (raised in {raised_codes()[code]}) is missing from providers/azurelocal/codes.py"
    )


def test_the_provider_decides_only_on_real_codes():
    decided = errors.RETRYABLE_CODES | errors.NOT_FOUND_CODES | errors.GRANT_NOT_EFFECTIVE_CODES
    invented = {c.lower() for c, s in codes.SOURCES.items() if s.invented}
    assert not decided & invented, sorted(decided & invented)
    assert "missingsubscriptionregistration" not in errors.RETRYABLE_CODES  # explained, not retried
