"""The state file format: canonical round trips, clear errors for damaged files."""

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.values import UNKNOWN
from state.backends.local import LocalBackend
from state.errors import StateError
from state.format import StateEncoder, decode_state, encode_state, to_document
from state.model import VAULTFORM_VERSION, InstanceState, InstanceStatus, State, format_key

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "state"
CORRUPT = sorted(p.name for p in (FIXTURES / "corrupt").iterdir())


def test_full_fixture_round_trips_byte_for_byte():
    text = (FIXTURES / "valid" / "full" / "terraform.tfstate").read_text()
    state = decode_state(text, source="terraform.tfstate")
    assert encode_state(state) == text
    assert json.loads(text)["version"] == 4 and json.loads(text)["terraform_version"] == "1.11.0"
    assert state.serial == 12 and state.lineage == "5f0c1c9e-2a41-4b5e-9d1e-7a3c2b9f8e10"
    assert state.resource("azurerm_key_vault.kv").prevent_destroy is True
    assert state.instance("azurerm_key_vault_key.k[1]").status is InstanceStatus.TAINTED
    assert state.instance('terraform_data.marker["a \\"quoted\\" key"]').sensitive_paths == (
        ("input", "password"),
    )
    pending = state.instance('module.vaults["west"].azurerm_recovery_services_vault_encryption.e').pending
    assert pending.planned_id.endswith("/encryption") and pending.started_at.tzinfo is not None
    assert state.outputs["marker_secret"].sensitive is True


def test_a_format_version_1_state_is_upgraded_to_terraform_s_format_on_write():
    old = (FIXTURES / "valid" / "full" / "state.json").read_text()
    state = decode_state(old, source="state.json")
    assert json.loads(old) == to_document(state)
    upgraded = (FIXTURES / "valid" / "full" / "terraform.tfstate").read_text()
    assert encode_state(state) == upgraded
    again = decode_state(upgraded)
    assert [(str(a), i) for a, _, i in again.instances()] == [(str(a), i) for a, _, i in state.instances()]
    assert again.outputs == state.outputs and again.lineage == state.lineage
    assert {r.provider for r in again.resources} == {"azurerm", "terraform"}


@pytest.mark.parametrize("case", CORRUPT)
def test_damaged_state_files_give_a_clear_error(case):
    path = FIXTURES / "corrupt" / case / "state.json"
    expected = (FIXTURES / "corrupt" / case / "error.txt").read_text().strip()
    with pytest.raises(StateError) as err:
        LocalBackend(path).read()
    assert err.value.summary == f"{path}: {expected.format(version=VAULTFORM_VERSION)}"
    assert "Traceback" not in str(err.value)


def test_newer_format_is_refused_with_advice():
    text = (FIXTURES / "corrupt" / "newer_format_version" / "state.json").read_text()
    with pytest.raises(StateError) as err:
        decode_state(text, source="vaultform.tfstate")
    assert "Upgrade vaultform" in err.value.hint


def test_encoding_is_deterministic_whatever_the_insertion_order():
    a = (
        State.new(lineage="l")
        .with_instance("x.a", InstanceState(attributes={"b": 1, "a": {"d": 2, "c": 3}}), provider="p")
        .with_instance("x.b", InstanceState(), provider="p")
    )
    b = (
        State.new(lineage="l")
        .with_instance("x.b", InstanceState(), provider="p")
        .with_instance("x.a", InstanceState(attributes={"a": {"c": 3, "d": 2}, "b": 1}), provider="p")
    )
    assert encode_state(a) == encode_state(b)


@pytest.mark.parametrize(
    "value, problem",
    [
        (UNKNOWN, "cannot store a value known only after apply"),
        (float("nan"), "cannot store the number nan"),
        ({1: "x"}, "object key 1 is not a string"),
        (object(), "cannot store object"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIE...", "refusing to store private key material"),
    ],
)
def test_unstorable_values_are_refused(value, problem):
    s = State.new().with_instance("x.a", InstanceState(attributes={"nested": [{"v": value}]}), provider="p")
    with pytest.raises(StateError) as err:
        encode_state(s)
    assert err.value.problem == problem
    assert err.value.where == "resources[0].instances[0].attributes.nested[0].v"


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a.x", "a.y", "data.d.z", "module.m.a.x"]),
            st.one_of(st.none(), st.integers(0, 3), st.text(max_size=4)),
            st.dictionaries(st.text(max_size=6), _json, max_size=4),
        ),
        max_size=8,
    ),
    st.dictionaries(st.text(min_size=1, max_size=5), _json, max_size=3),
)
def test_any_state_round_trips(entries, outputs):
    state = State.new(lineage="l")
    for address, key, attrs in entries:
        resource = state.resource(address)
        if resource is not None and (resource.instances[0].index_key is None) != (key is None):
            continue
        state = state.with_instance(address + format_key(key), InstanceState(attributes=attrs), provider="p")
    for name, value in outputs.items():
        state = state.with_output(name, value)
    text = encode_state(state)
    again = decode_state(text)
    assert again.same_content(state)
    assert encode_state(again) == text


def test_encoder_reuse_matches_a_fresh_encoding():
    encoder = StateEncoder()
    state = State.new(lineage="l")
    for i in range(30):
        state = state.with_instance(f"a.r{i % 7}[{i}]", InstanceState(attributes={"v": i}), provider="p")
        assert encoder.encode(state) == encode_state(state)
    for i in range(0, 30, 4):
        address = f"a.r{i % 7}[{i}]"
        state = state.with_instance(address, state.instance(address).with_attributes({"v": -i}))
        assert encoder.encode(state) == encode_state(state)
        state = state.without_instance(f"a.r{(i + 1) % 7}[{i + 1}]")
        assert encoder.encode(state) == encode_state(state)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_damaged_documents_never_raise_anything_but_state_error(data):
    doc = json.loads((FIXTURES / "valid" / "full" / "state.json").read_text())
    # replace one value somewhere in the document with something else
    paths = []

    def walk(node, path):
        paths.append(path)
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, path + [k])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, path + [i])

    walk(doc, [])
    path = data.draw(st.sampled_from(paths[1:]))
    replacement = data.draw(_json)
    node = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = replacement
    try:
        decode_state(json.dumps(doc))
    except StateError as err:
        assert err.problem


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["put", "drop", "touch"]), st.integers(0, 9), st.integers(0, 2)),
        min_size=1,
        max_size=25,
    )
)
def test_encoder_reuse_matches_fresh_encoding_for_any_edit_sequence(ops):
    encoder = StateEncoder()
    state = State.new(lineage="l")
    for op, r, i in ops:
        address = f"a.r{r}[{i}]"
        if op == "put":
            state = state.with_instance(address, InstanceState(attributes={"r": r, "i": i}), provider="p")
        elif op == "drop":
            state = state.without_resource(f"a.r{r}")
        elif state.instance(address) is not None:
            state = state.with_instance(address, state.instance(address).with_attributes({"t": len(ops)}))
        assert encoder.encode(state) == encode_state(state)


def test_absurdly_nested_input_is_a_state_error():
    with pytest.raises(StateError, match="nested too deeply"):
        decode_state("[" * 100000 + "]" * 100000)


def test_a_deposed_object_is_refused_with_the_way_out():
    # terraform 1.11 plans "terraform_data.a (deposed object abcd1234) will be destroyed" for it
    text = (FIXTURES / "corrupt" / "terraform_deposed" / "state.json").read_text()
    with pytest.raises(StateError) as err:
        decode_state(text, source="terraform.tfstate")
    assert "`terraform apply`" in err.value.hint
    assert "terraform_data.a (deposed object abcd1234) will be destroyed" in err.value.hint
