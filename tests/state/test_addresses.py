"""Resource addresses: parse and format are inverse, errors point at the problem."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from state.errors import AddressError
from state.model import (
    InstanceAddress,
    Mode,
    ModuleStep,
    ResourceAddress,
    parse_address,
    parse_module,
    parse_resource_address,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("azurerm_key_vault.kv", InstanceAddress(ResourceAddress(Mode.MANAGED, "azurerm_key_vault", "kv"))),
        (
            "azurerm_key_vault_key.k[0]",
            InstanceAddress(ResourceAddress(Mode.MANAGED, "azurerm_key_vault_key", "k"), 0),
        ),
        ('terraform_data.x["a"]', InstanceAddress(ResourceAddress(Mode.MANAGED, "terraform_data", "x"), "a")),
        (
            "module.m.azurerm_x.y",
            InstanceAddress(ResourceAddress(Mode.MANAGED, "azurerm_x", "y", (ModuleStep("m"),))),
        ),
        (
            "data.azurerm_client_config.c",
            InstanceAddress(ResourceAddress(Mode.DATA, "azurerm_client_config", "c")),
        ),
        (
            'module.a[2].module.b["k"].data.t.n[3]',
            InstanceAddress(
                ResourceAddress(Mode.DATA, "t", "n", (ModuleStep("a", 2), ModuleStep("b", "k"))), 3
            ),
        ),
        (
            'terraform_data.x["say \\"hi\\"\\n"]',
            InstanceAddress(ResourceAddress(Mode.MANAGED, "terraform_data", "x"), 'say "hi"\n'),
        ),
    ],
)
def test_parse_and_format(text, expected):
    assert parse_address(text) == expected
    assert str(expected) == text


@pytest.mark.parametrize(
    "text, problem",
    [
        ("", "an address is not empty"),
        ("azurerm_key_vault", "expected '.' after the type 'azurerm_key_vault'"),
        ("azurerm_key_vault.", "expected a resource name"),
        ("azurerm_key_vault.kv[", "an instance key is a number"),
        ('azurerm_key_vault.kv["a]', "unterminated or badly escaped string key"),
        ("azurerm_key_vault.kv[0", "expected ']' to close the instance key"),
        ("azurerm_key_vault.kv.extra", "unexpected text after the address"),
        ("module.m", "expected '.' after module.m"),
        ("1abc.x", "expected a resource type"),
    ],
)
def test_bad_addresses_name_the_problem(text, problem):
    with pytest.raises(AddressError) as err:
        parse_address(text)
    assert problem in err.value.problem
    assert repr(text) in str(err.value)


def test_resource_address_refuses_a_key():
    assert str(parse_resource_address("module.m.a.b")) == "module.m.a.b"
    with pytest.raises(AddressError):
        parse_resource_address("a.b[0]")


def test_module_paths():
    assert parse_module("") == ()
    assert parse_module('module.a[0].module.b["x"]') == (ModuleStep("a", 0), ModuleStep("b", "x"))
    with pytest.raises(AddressError):
        parse_module("module.a.data")


_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,8}", fullmatch=True)
_keys = st.one_of(st.none(), st.integers(min_value=0, max_value=10**6), st.text(max_size=12))


@given(
    module=st.lists(st.tuples(_names, _keys), max_size=3),
    mode=st.sampled_from(Mode),
    type_=_names.filter(lambda n: n not in ("module", "data")),
    name=_names,
    key=_keys,
)
def test_round_trip_any_address(module, mode, type_, name, key):
    addr = InstanceAddress(ResourceAddress(mode, type_, name, tuple(ModuleStep(*m) for m in module)), key)
    assert parse_address(str(addr)) == addr


@pytest.mark.parametrize(
    "key, written",
    [
        # as terraform writes them (addrs.toHCLQuotedString): templates doubled, HCL escapes
        ("${x}", '["$${x}"]'),
        ("%{if a}", '["%%{if a}"]'),
        ("$5 and 100%", '["$5 and 100%"]'),
        ('say "hi"\n\t\\', '["say \\"hi\\"\\n\\t\\\\"]'),
        ("zero\u200bwidth", '["zero\\u200bwidth"]'),
        ("bell\x07", '["bell\\u0007"]'),
        ("café 😀", '["café 😀"]'),
    ],
)
def test_string_keys_are_written_as_terraform_writes_them_and_read_back(key, written):
    addr = parse_address("terraform_data.k").resource.instance(key)
    assert str(addr) == "terraform_data.k" + written
    assert parse_address(str(addr)).key == key


def test_a_template_sequence_in_an_address_is_refused_with_the_escape():
    with pytest.raises(AddressError) as err:
        parse_address('terraform_data.k["${x}"]')
    assert "$${" in str(err.value)
