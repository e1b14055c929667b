"""terraform_data through the built-in provider: no cloud, ids from the injected clock."""

from __future__ import annotations

import pytest

from providers.base import (
    Clock,
    CreateRequest,
    DataRequest,
    DeleteRequest,
    ImportRequest,
    PermanentError,
    Provider,
    ReadRequest,
    UpdateRequest,
)
from providers.builtin.provider import BuiltinProvider
from reconciler.values import UNKNOWN


@pytest.fixture
def provider():
    ids = iter(f"id-{n}" for n in range(100))
    return BuiltinProvider(clock=Clock(new_id=lambda: next(ids)))


def test_is_a_provider(provider):
    assert isinstance(provider, Provider)
    assert set(provider.schema().resources) == {"terraform_data"}
    assert provider.schema().resources["terraform_data"].attribute_map["triggers_replace"].force_new


def test_create_echoes_input_as_output(provider):
    value = {"keys": ["a", "b"], "n": 3}
    state = provider.create(
        CreateRequest(
            "terraform_data", {"input": value, "triggers_replace": "v1", "output": UNKNOWN, "id": UNKNOWN}
        )
    ).state
    assert state == {"id": "id-0", "input": value, "output": value, "triggers_replace": "v1"}
    value["keys"].append("c")  # the state holds its own copy
    assert state["output"] == {"keys": ["a", "b"], "n": 3}


def test_read_returns_the_recorded_object(provider):
    state = provider.create(CreateRequest("terraform_data", {"input": "x"})).state
    assert provider.read(ReadRequest("terraform_data", state)).state == state


def test_update_keeps_the_id_and_follows_input(provider):
    prior = provider.create(CreateRequest("terraform_data", {"input": 1})).state
    after = provider.update(
        UpdateRequest("terraform_data", prior, {**prior, "input": 2, "output": UNKNOWN}, ("input",))
    ).state
    assert after == {"id": prior["id"], "input": 2, "output": 2, "triggers_replace": None}


def test_unknown_input_is_refused_at_apply(provider):
    with pytest.raises(PermanentError) as err:
        provider.create(CreateRequest("terraform_data", {"input": ["a", UNKNOWN]}))
    assert err.value.code == "UnknownValue"


def test_import_and_delete(provider):
    got = provider.import_(ImportRequest("terraform_data", "some-id")).state
    assert got == {"id": "some-id", "input": None, "output": None, "triggers_replace": None}
    assert provider.delete(DeleteRequest("terraform_data", got)) is None
    with pytest.raises(PermanentError):
        provider.import_(ImportRequest("terraform_data", ""))


def test_other_types_and_data_sources_are_refused(provider):
    with pytest.raises(PermanentError) as err:
        provider.create(CreateRequest("null_resource", {}))
    assert "terraform_data" in err.value.message
    with pytest.raises(PermanentError):
        provider.read_data(DataRequest("terraform_remote_state", {}))
