"""What a targeted plan reads (``reconciler.refresh_scope``): the targets and what they depend on as
state records it; for a destroy, what depends on them too; everything when a target is new."""

from __future__ import annotations

from reconciler.refresh_scope import targeted_scope
from state.addresses import parse_address
from state.model import InstanceState, State


def _state() -> State:
    """rg <- kv <- key <- vault (recorded dependencies), and an unrelated identity."""
    state = State.new()
    for address, deps in (
        ("azurerm_resource_group.rg", ()),
        ("azurerm_key_vault.kv", ("azurerm_resource_group.rg",)),
        ("azurerm_key_vault_key.k", ("azurerm_key_vault.kv",)),
        ("azurerm_recovery_services_vault.v", ("azurerm_key_vault_key.k", "azurerm_resource_group.rg")),
        ("azurerm_user_assigned_identity.other", ("azurerm_resource_group.rg",)),
    ):
        inst = InstanceState(attributes={"id": address}, dependencies=tuple(parse_address(d) for d in deps))
        state = state.with_instance(address, inst, provider="registry.terraform.io/hashicorp/azurerm")
    return state


def test_a_target_is_read_with_what_it_depends_on_and_nothing_else():
    assert targeted_scope(_state(), ("azurerm_key_vault.kv",), destroy=False) == {
        "azurerm_key_vault.kv",
        "azurerm_resource_group.rg",
    }


def test_a_destroy_reads_what_depends_on_the_target_too():
    assert targeted_scope(_state(), ("azurerm_key_vault_key.k",), destroy=True) == {
        "azurerm_key_vault_key.k",
        "azurerm_key_vault.kv",
        "azurerm_resource_group.rg",
        "azurerm_recovery_services_vault.v",
    }


def test_a_target_not_in_state_yet_reads_everything():
    """What a new object depends on is known only from the configuration."""
    assert targeted_scope(_state(), ("azurerm_key_vault_key.new",), destroy=False) is None
    assert (
        targeted_scope(_state(), ("azurerm_key_vault.kv", "azurerm_key_vault_key.new"), destroy=False) is None
    )
