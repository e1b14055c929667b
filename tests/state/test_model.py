"""The state model: lookups by address, changes as new values, exact change detection."""

from datetime import UTC, datetime

import pytest

from state.model import (
    InstanceState,
    InstanceStatus,
    Mode,
    PendingAction,
    PendingOperation,
    ResourceState,
    State,
    parse_address,
)

AZURERM = "registry.terraform.io/hashicorp/azurerm"


def _state() -> State:
    s = State.new(lineage="l-1")
    s = s.with_instance("azurerm_key_vault.kv", InstanceState(attributes={"id": "/kv"}), provider=AZURERM)
    for i in range(3):
        s = s.with_instance(
            f"azurerm_key_vault_key.k[{i}]", InstanceState(attributes={"id": f"k{i}"}), provider=AZURERM
        )
    s = s.with_instance('terraform_data.x["a"]', InstanceState(attributes={"id": "a"}), provider="builtin")
    s = s.with_instance("module.m.azurerm_x.y", InstanceState(attributes={"id": "y"}), provider=AZURERM)
    return s.with_instance(
        "data.azurerm_client_config.c", InstanceState(attributes={"tenant_id": "t"}), provider=AZURERM
    )


@pytest.mark.parametrize(
    "address, attribute_id",
    [
        ("azurerm_key_vault.kv", "/kv"),
        ("azurerm_key_vault_key.k[0]", "k0"),
        ("azurerm_key_vault_key.k[2]", "k2"),
        ('terraform_data.x["a"]', "a"),
        ("module.m.azurerm_x.y", "y"),
    ],
)
def test_lookup_by_address(address, attribute_id):
    assert _state().instance(address).attributes["id"] == attribute_id


def test_lookups_that_find_nothing():
    s = _state()
    assert s.instance("azurerm_key_vault_key.k[3]") is None
    assert s.instance("azurerm_key_vault_key.k") is None  # the resource has keys
    assert s.instance('terraform_data.x["b"]') is None
    assert s.instance("module.other.azurerm_x.y") is None
    assert s.resource("azurerm_key_vault_key.k").instances[1].index_key == 1
    assert s.resource("data.azurerm_client_config.c").mode is Mode.DATA
    assert s.resource("azurerm_client_config.c") is None  # managed, not data


def test_resources_and_instances_are_kept_sorted():
    s = _state()
    assert s.addresses() == [
        "data.azurerm_client_config.c",
        "azurerm_key_vault.kv",
        "azurerm_key_vault_key.k[0]",
        "azurerm_key_vault_key.k[1]",
        "azurerm_key_vault_key.k[2]",
        'terraform_data.x["a"]',
        "module.m.azurerm_x.y",
    ]
    shuffled = State(lineage="l-1", resources=tuple(reversed(s.resources)))
    assert shuffled.addresses() == s.addresses()


def test_changes_return_new_values_and_share_the_rest():
    s = _state()
    kv = s.resource("azurerm_key_vault.kv")
    changed = s.with_instance(
        "azurerm_key_vault_key.k[1]",
        s.instance("azurerm_key_vault_key.k[1]").with_status(InstanceStatus.TAINTED),
    )
    assert changed is not s
    assert s.instance("azurerm_key_vault_key.k[1]").status is InstanceStatus.READY
    assert changed.instance("azurerm_key_vault_key.k[1]").tainted
    assert changed.resource("azurerm_key_vault.kv") is kv
    assert (
        changed.resource("azurerm_key_vault_key.k").instances[0]
        is s.resource("azurerm_key_vault_key.k").instances[0]
    )


def test_same_content_is_exact():
    s = _state()
    assert s.same_content(s.with_serial(9))
    rebuilt = State(
        lineage="l-1",
        resources=tuple(
            ResourceState(
                r.mode,
                r.type,
                r.name,
                r.module,
                r.provider,
                tuple(InstanceState(i.index_key, dict(i.attributes)) for i in r.instances),
            )
            for r in s.resources
        ),
    )
    assert s.same_content(rebuilt)
    inst = s.instance("azurerm_key_vault.kv")
    assert not s.same_content(
        s.with_instance("azurerm_key_vault.kv", inst.with_attributes({"id": "/kv", "x": 1}))
    )
    assert not s.same_content(s.with_output("o", 1))
    assert not s.same_content(State.new(lineage="l-2").with_outputs({}))


def test_no_op_changes_return_the_same_object():
    s = _state().with_output("o", 1)
    inst = s.instance("azurerm_key_vault.kv")
    assert s.with_instance("azurerm_key_vault.kv", inst) is s
    assert s.with_output("o", 1) is s
    assert s.without_output("missing") is s
    assert s.without_instance("azurerm_key_vault_key.k[7]") is s
    assert s.with_serial(s.serial) is s


def test_removing_the_last_instance_forgets_the_resource():
    s = _state()
    s = s.without_instance("azurerm_key_vault.kv")
    assert s.resource("azurerm_key_vault.kv") is None
    s = s.without_instance("azurerm_key_vault_key.k[0]")
    assert [i.index_key for i in s.resource("azurerm_key_vault_key.k").instances] == [1, 2]
    assert s.without_resource("azurerm_key_vault_key.k").resource("azurerm_key_vault_key.k") is None


def test_lifecycle_flags_and_provider_are_recorded():
    s = State.new().with_instance("a.b", InstanceState(), provider="p", prevent_destroy=True)
    assert s.resource("a.b").prevent_destroy is True
    s = s.with_instance("a.b", InstanceState(attributes={"id": 1}), prevent_destroy=False)
    assert s.resource("a.b").prevent_destroy is False
    with pytest.raises(ValueError, match="needs its provider"):
        State.new().with_instance("a.b", InstanceState())


def test_instance_values_are_normalised():
    inst = InstanceState(
        1, {"id": "x"}, sensitive_paths=[["b"], ["a", 0], ["b"]], dependencies=["z.z", "a.a", "z.z"]
    )
    assert inst.sensitive_paths == (("a", 0), ("b",))
    assert inst.dependencies == (parse_address("a.a"), parse_address("z.z"))  # text is read as addresses
    with pytest.raises(TypeError):
        InstanceState(True)
    with pytest.raises(ValueError, match="share an index key"):
        ResourceState(Mode.MANAGED, "a", "b", "", "p", (InstanceState(0), InstanceState(0)))
    with pytest.raises(ValueError, match="time zone"):
        PendingOperation(PendingAction.CREATE, datetime(2026, 1, 1), None, "d")
    pending = PendingOperation("delete", datetime(2026, 1, 1, tzinfo=UTC), "/id", "d")
    assert pending.operation is PendingAction.DELETE
    assert (pending.planned_id, pending.request_digest) == ("/id", "d")
    assert inst.with_pending(pending).with_pending(None) == inst


def test_new_states_get_distinct_lineages():
    assert State.new().lineage != State.new().lineage
    assert State.new().serial == 0


def test_the_engine_and_the_state_share_one_address_family():
    import providers.schema
    import reconciler.addresses
    import state.model

    for name in ("InstanceAddress", "ResourceAddress", "ModuleStep", "Mode", "parse_address"):
        assert getattr(reconciler.addresses, name) is getattr(state.model, name), name
    assert providers.schema.Mode is state.model.Mode
    address = reconciler.addresses.parse_address("azurerm_key_vault_key.k[2]")
    assert _state().instance(address).attributes["id"] == "k2"
    assert _state().resource(address.resource).name == "k"
