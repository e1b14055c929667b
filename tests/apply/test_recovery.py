"""Resolving pending operations before planning: every row of the table in
reconciler/apply/recovery.py, against a fake cloud."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from providers.base import NotFoundError, PermanentError, ReadResponse
from reconciler.apply.recovery import Outcome, locate_left_over, resolve_pending
from reconciler.diagnostics import DiagnosticsError
from state.model import InstanceState, PendingAction, PendingOperation, State

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"


class FakeCloud:
    """Objects by id; ``import_`` and ``read`` answer from them, and count calls."""

    name = "azurerm"
    objects_outside_state = True

    def __init__(self, *objects: dict, fail: bool = False):
        self.objects = {o["id"]: o for o in objects}
        self.fail = fail
        self.calls: list[tuple[str, str]] = []

    def _get(self, id_: str) -> dict | None:
        if self.fail:
            raise PermanentError("the cloud is unreachable", code="Unreachable")
        return self.objects.get(id_)

    def import_(self, req):
        self.calls.append(("import", req.id))
        got = self._get(req.id)
        if got is None:
            raise NotFoundError("no such object")
        return ReadResponse(dict(got))

    def read(self, req):
        self.calls.append(("read", req.prior["id"]))
        return ReadResponse(self._get(req.prior["id"]))

    def locate(self, type_name, planned):
        self.calls.append(("locate", planned["name"]))
        return self.objects.get(ID + planned["name"])

    def planned_id(self, type_name, planned):  # the rest of the Locating protocol
        return None

    def create(self, req):  # pragma: no cover - recovery never creates
        raise AssertionError("recovery must not create")


class StateOnly:
    name = "terraform"
    objects_outside_state = False


def _op(action: PendingAction, planned_id: str | None = None) -> PendingOperation:
    return PendingOperation(action, T0, planned_id, "digest")


def _state(address: str, inst: InstanceState, provider: str = "azurerm") -> State:
    return State.new(lineage="l").with_instance(address, inst, provider=provider)


ADDR = "azurerm_user_assigned_identity.a"
OBJ = {"id": ID + "a", "name": "a", "principal_id": "p-1"}
NEWER = {**OBJ, "principal_id": "p-2"}
REPLACEMENT = {"id": ID + "a2", "name": "a2", "principal_id": "p-3"}

CASES = [
    # (name, instance, cloud objects, outcome, attributes after (None: forgotten))
    (
        "create happened",
        InstanceState(pending=_op(PendingAction.CREATE, ID + "a")),
        [OBJ],
        Outcome.ADOPTED,
        OBJ,
    ),
    (
        "create never happened",
        InstanceState(pending=_op(PendingAction.CREATE, ID + "a")),
        [],
        Outcome.NOT_CREATED,
        None,
    ),
    (
        "create without a known id",
        InstanceState(pending=_op(PendingAction.CREATE)),
        [OBJ],
        Outcome.LEFT_FOR_APPLY,
        {},
    ),
    (
        "update: take the current values",
        InstanceState(attributes=OBJ, pending=_op(PendingAction.UPDATE, OBJ["id"])),
        [NEWER],
        Outcome.UPDATED,
        NEWER,
    ),
    (
        "update: object deleted meanwhile",
        InstanceState(attributes=OBJ, pending=_op(PendingAction.UPDATE)),
        [],
        Outcome.GONE,
        None,
    ),
    (
        "delete happened",
        InstanceState(attributes=OBJ, pending=_op(PendingAction.DELETE, OBJ["id"])),
        [],
        Outcome.GONE,
        None,
    ),
    (
        "delete never happened",
        InstanceState(attributes=OBJ, pending=_op(PendingAction.DELETE, OBJ["id"])),
        [OBJ],
        Outcome.KEPT,
        OBJ,
    ),
    # a create-first replacement's old object (the intent names it; the state holds the new one)
    (
        "old object's delete happened",
        InstanceState(attributes=REPLACEMENT, pending=_op(PendingAction.DELETE, OBJ["id"])),
        [REPLACEMENT],
        Outcome.DEPOSED_GONE,
        REPLACEMENT,
    ),
    (
        "old object's delete never happened",
        InstanceState(attributes=REPLACEMENT, pending=_op(PendingAction.DELETE, OBJ["id"])),
        [OBJ, REPLACEMENT],
        Outcome.DEPOSED_KEPT,
        REPLACEMENT,
    ),
]


@pytest.mark.parametrize("name,inst,objects,outcome,after", CASES, ids=[c[0] for c in CASES])
def test_each_pending_operation_is_resolved_by_reading_the_cloud(name, inst, objects, outcome, after):
    cloud = FakeCloud(*objects)
    got = resolve_pending(_state(ADDR, inst), {"azurerm": cloud})
    assert [r.outcome for r in got.resolutions] == [outcome]
    resolved = got.state.instance(ADDR)
    if after is None:
        assert resolved is None
    else:
        assert dict(resolved.attributes) == after
        assert (resolved.pending is None) == (outcome is not Outcome.LEFT_FOR_APPLY)
    assert got.changed == (outcome is not Outcome.LEFT_FOR_APPLY)


def test_nothing_pending_reads_nothing():
    cloud = FakeCloud(OBJ)
    got = resolve_pending(_state(ADDR, InstanceState(attributes=OBJ)), {"azurerm": cloud})
    assert got.resolutions == [] and cloud.calls == [] and not got.changed


def test_a_pending_create_of_an_object_that_lives_only_in_state_is_dropped():
    inst = InstanceState(pending=_op(PendingAction.CREATE))
    got = resolve_pending(_state("terraform_data.t", inst, "terraform"), {"terraform": StateOnly()})
    assert got.state.instance("terraform_data.t") is None
    assert [r.outcome for r in got.resolutions] == [Outcome.NOT_CREATED]


def test_a_failed_read_stops_the_run_with_a_diagnostic_instead_of_guessing():
    inst = InstanceState(pending=_op(PendingAction.CREATE, ID + "a"))
    with pytest.raises(DiagnosticsError) as caught:
        resolve_pending(_state(ADDR, inst), {"azurerm": FakeCloud(fail=True)})
    diag = caught.value.diagnostics[0]
    assert diag.address == ADDR and "interrupted create" in diag.summary
    assert "never creates it twice" in diag.detail


def test_a_provider_missing_from_the_run_leaves_the_intent_with_a_warning():
    inst = InstanceState(pending=_op(PendingAction.CREATE, ID + "a"))
    got = resolve_pending(_state(ADDR, inst), {})
    assert got.state.instance(ADDR).pending is not None
    assert [d.code for d in got.diagnostics] == ["pending_unresolved"]
    assert not got.diagnostics[0].is_error


def test_apply_locates_a_left_over_create_only_when_an_intent_is_recorded():
    cloud = FakeCloud(OBJ)
    with_intent = _state(ADDR, InstanceState(pending=_op(PendingAction.CREATE)))
    assert locate_left_over(cloud, with_intent, ADDR, "azurerm_user_assigned_identity", {"name": "a"}) == OBJ
    assert locate_left_over(cloud, with_intent, ADDR, "azurerm_user_assigned_identity", {"name": "b"}) is None
    without = State.new(lineage="l")
    assert locate_left_over(cloud, without, ADDR, "azurerm_user_assigned_identity", {"name": "a"}) is None
    assert cloud.calls == [("locate", "a"), ("locate", "b")]


def test_a_resolved_update_keeps_a_reads_private_facts_out_of_the_attributes():
    # a provider's read carries private facts beside the attributes ("_history", refreshed each
    # time, and "_previous_keys", kept in state); terraform's attributes must hold neither, and
    # what the state keeps stays kept
    read = {**NEWER, "_history": {"recovery_points": 2}, "_previous_keys": [{"key_id": "k"}]}
    inst = InstanceState(attributes=OBJ, pending=_op(PendingAction.UPDATE), private={"_previous_keys": []})
    out = resolve_pending(_state(ADDR, inst), {"azurerm": FakeCloud(read)})
    kept = out.state.instance(ADDR)
    assert dict(kept.attributes) == NEWER and kept.pending is None
    assert dict(kept.private) == {"_previous_keys": [{"key_id": "k"}]}


def test_a_resolved_update_keeps_a_private_fact_the_read_learned_first():
    # the read names the facts state keeps ("_kept"): one the state didn't hold yet (a vault's key
    # changed by the interrupted run) is kept from now on; the read's own facts are not
    read = {**NEWER, "_history": {"recovery_points": 2}, "_previous_keys": [{"key_id": "k"}]}
    inst = InstanceState(attributes=OBJ, pending=_op(PendingAction.UPDATE))
    out = resolve_pending(_state(ADDR, inst), {"azurerm": FakeCloud({**read, "_kept": ["_previous_keys"]})})
    assert dict(out.state.instance(ADDR).private) == {"_previous_keys": [{"key_id": "k"}]}
    assert dict(out.state.instance(ADDR).attributes) == NEWER
    unnamed = resolve_pending(_state(ADDR, inst), {"azurerm": FakeCloud(read)})
    assert dict(unnamed.state.instance(ADDR).private) == {}


def test_an_old_object_left_in_the_cloud_is_named_with_its_id():
    # the recovery read the new object, called the interrupted delete "kept" and never said that
    # the old one was still there, out of the state
    inst = InstanceState(attributes=REPLACEMENT, pending=_op(PendingAction.DELETE, OBJ["id"]))
    got = resolve_pending(_state(ADDR, inst), {"azurerm": FakeCloud(OBJ, REPLACEMENT)})
    assert [d.code for d in got.diagnostics] == ["deposed_left"]
    assert OBJ["id"] in got.diagnostics[0].detail and "import it" in got.diagnostics[0].detail
