"""The saved plan format: every field round-trips, secrets are sealed, keys are handled safely."""

from __future__ import annotations

import base64
import json
import os
import stat
from decimal import Decimal
from pathlib import Path

import pytest

from reconciler.diagnostics import DiagnosticsError, SourceRange, error, warning
from reconciler.plan.model import Action, OutputChange, Plan, Reason, ResourceChange
from reconciler.plan.planfile import is_plan_file, load_plan, read_saved_plan, save_plan
from reconciler.plan.planfile_crypto import KEY_ENV
from reconciler.plan.walk import PlanOptions
from reconciler.values import UNKNOWN

SECRET_ATTR = "attr-secret-4f9a1c"
SECRET_VAR = "var-secret-77b2e0"
SECRET_OUT = "output-secret-0d13aa"


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv(KEY_ENV, raising=False)
    return home


def rich_plan() -> Plan:
    vault = ResourceChange(
        address='module.m.azurerm_recovery_services_vault.v["a"]',
        mode="managed",
        type="azurerm_recovery_services_vault",
        name="v",
        index="a",
        module="module.m",
        provider="azurerm",
        action=Action.CREATE,
        before=None,
        after={
            "name": "rsv",
            "identity": [{"type": "SystemAssigned", "principal_id": UNKNOWN}],
            "encryption": [{"key_id": UNKNOWN, "infrastructure_encryption_enabled": True}],
            "tags": {"$weird": "key", "x": [1, 2.5, None, UNKNOWN, Decimal("0.1")]},
            "token": SECRET_ATTR,
            "pin": 1234,
        },
        replace_paths=(("location",), ("identity", 0, "type")),
        reason=Reason.REPLACE_BY_REQUEST,
        sensitive_paths=(("token",), ("pin",)),
        depends_on=("azurerm_resource_group.rg", "azurerm_key_vault_key.k#"),
        phase_depends_on={"encryption": ("azurerm_key_vault_access_policy.p",)},
        phases=("", "encryption"),
        prevent_destroy=True,
        create_before_destroy=True,
        changed_attributes=("name", "tags"),
        config={"name": "rsv", "token": SECRET_ATTR, "with_secret_inside": f"prefix-{SECRET_VAR}-suffix"},
        references={"encryption": ("azurerm_key_vault_key.k.id",)},
        importing="/subscriptions/x/rsv",
        private={"_vault_state": {"soft_delete": True}},
    )
    gone = ResourceChange(
        address="azurerm_key_vault.old[2]",
        mode="managed",
        type="azurerm_key_vault",
        name="old",
        index=2,
        module="",
        provider="azurerm",
        action=Action.DELETE,
        before={"id": "/kv/old", "n": {1: "int key"}},
        after=None,
        reason=Reason.DELETE_BECAUSE_COUNT_INDEX,
    )
    return Plan(
        changes=[vault, gone],
        outputs=[
            OutputChange("pw", Action.CREATE, None, SECRET_OUT, sensitive=True),
            OutputChange("name", Action.UPDATE, "a", UNKNOWN),
        ],
        diagnostics=[
            warning(
                "A1",
                "advice",
                "do this",
                address="azurerm_key_vault.old[2]",
                range=SourceRange("main.tf", 3, 1, 3, 9),
            ),
            error("R3", "refused", "because"),
        ],
        edges=[
            ("azurerm_key_vault_key.k", 'module.m.azurerm_recovery_services_vault.v["a"]#encryption', "O2: x")
        ],
        destroy=False,
        refresh_only=True,
        cloud="local Azure (/tmp/x.db)",
        state_lineage="lin-1",
        state_serial=7,
        config_digest="abc123",
        variables={"password": SECRET_VAR, "count": 3, "nested": {"a": [True]}},
        sensitive_variables=frozenset({"password"}),
        moved=[("terraform_data.a", "terraform_data.b")],
        timestamp="2026-11-28T12:00:00Z",
        refreshed={"azurerm_key_vault.old[2]": {"id": "/kv/old"}, "azurerm_key_vault.gone": None},
        data_values={"data.azurerm_client_config.c": {"tenant_id": "t"}},
    )


def test_every_field_round_trips(tmp_path):
    plan = rich_plan()
    path = tmp_path / "p.plan"
    save_plan(
        plan,
        path,
        config_dir=tmp_path,
        sensitive_variables=frozenset({"password"}),
        options=PlanOptions(targets=("a.b",), replace=("c.d",)),
    )
    loaded, config_dir = load_plan(path)
    assert loaded == plan
    assert loaded.changes[0].after["identity"][0]["principal_id"] is UNKNOWN
    assert isinstance(loaded.changes[0].replace_paths[1], tuple)
    assert loaded.changes[1].before["n"] == {1: "int key"}
    assert not config_dir.is_absolute()  # relative to the working directory: apply finds it from its own
    assert config_dir.resolve() == tmp_path.resolve()
    saved = read_saved_plan(path)
    assert saved.options.targets == ("a.b",) and saved.options.replace == ("c.d",)
    assert saved.options.refresh_only is True
    assert is_plan_file(path) and not is_plan_file(tmp_path)


def test_no_secret_in_the_clear(tmp_path, home):
    path = tmp_path / "p.plan"
    save_plan(rich_plan(), path, config_dir=tmp_path)  # the plan itself names its sensitive variables
    data = path.read_bytes()
    for secret in (SECRET_ATTR, SECRET_VAR, SECRET_OUT, "1234"):
        assert secret.encode() not in data, secret
    for secret in (SECRET_ATTR, SECRET_VAR, SECRET_OUT):
        assert base64.b64encode(secret.encode()) not in data
    assert b'"rsv"' in data  # what is not secret stays readable
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = home / ".vaultform" / "plan.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    assert json.loads(data)["key_id"]
    assert load_plan(path)[0] == rich_plan()


def test_unknown_sensitivity_seals_every_variable(tmp_path):
    path = tmp_path / "p.plan"
    plan = Plan(changes=[], variables={"region": "plain-region-value"})
    save_plan(plan, path, config_dir=tmp_path)
    assert b"plain-region-value" not in path.read_bytes()
    assert load_plan(path)[0].variables == {"region": "plain-region-value"}


def test_a_plan_without_secrets_still_needs_the_key_that_authenticates_it(tmp_path, home, monkeypatch):
    path = tmp_path / "p.plan"
    plan = Plan(changes=[], variables={"region": "westeurope"}, state_lineage="l")
    save_plan(plan, path, config_dir=tmp_path, sensitive_variables=frozenset())
    assert (home / ".vaultform" / "plan.key").exists()
    assert load_plan(path)[0] == plan
    monkeypatch.setenv("HOME", str(tmp_path / "elsewhere"))
    with pytest.raises(DiagnosticsError) as exc:
        load_plan(path)
    assert "No key" in exc.value.diagnostics[0].summary


def test_key_from_the_environment(tmp_path, home, monkeypatch):
    monkeypatch.setenv(KEY_ENV, base64.b64encode(b"k" * 32).decode())
    path = tmp_path / "p.plan"
    save_plan(rich_plan(), path, config_dir=tmp_path)
    assert not (home / ".vaultform").exists()
    assert load_plan(path)[0] == rich_plan()
    monkeypatch.setenv(KEY_ENV, (b"z" * 32).hex())
    with pytest.raises(DiagnosticsError) as exc:
        load_plan(path)
    assert "made with another key" in exc.value.diagnostics[0].summary
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(DiagnosticsError) as exc:
        load_plan(path)
    assert "No key" in exc.value.diagnostics[0].summary


def test_a_bad_key_is_a_diagnostic(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "too-short")
    with pytest.raises(DiagnosticsError) as exc:
        save_plan(rich_plan(), tmp_path / "p.plan", config_dir=tmp_path)
    assert "openssl rand -base64 32" in exc.value.diagnostics[0].detail
    assert not (tmp_path / "p.plan").exists()


def test_a_key_file_others_can_read_is_refused(tmp_path, home):
    key = home / ".vaultform" / "plan.key"
    key.parent.mkdir()
    key.write_text(base64.b64encode(os.urandom(32)).decode())
    key.chmod(0o644)
    with pytest.raises(DiagnosticsError) as exc:
        save_plan(rich_plan(), tmp_path / "p.plan", config_dir=tmp_path)
    assert "chmod 600" in exc.value.diagnostics[0].detail


def test_tampering_with_a_sealed_value_is_detected(tmp_path):
    path = tmp_path / "p.plan"
    save_plan(rich_plan(), path, config_dir=tmp_path)
    doc = json.loads(path.read_text())
    token = doc["plan"]["fields"]["changes"][0]["fields"]["after"]["token"]
    raw = bytearray(base64.b64decode(token["$sealed"]))
    raw[-1] ^= 1
    token["$sealed"] = base64.b64encode(bytes(raw)).decode()
    path.write_text(json.dumps(doc, indent=1))
    with pytest.raises(DiagnosticsError) as exc:
        load_plan(path)
    assert "changed after it was saved" in exc.value.diagnostics[0].summary


def _authentic(text: str) -> bytes:
    """``text`` (a plan document with a zero ``mac``) as vaultform would have authenticated it."""
    from reconciler.plan.planfile import _authenticated
    from reconciler.plan.planfile_crypto import load_key

    return _authenticated(text.encode(), load_key(create=True))


ZERO_MAC = '"mac": "' + "0" * 64 + '"'


@pytest.mark.parametrize(
    "text, message",
    [
        ("not json", "is not a saved plan"),
        ('{"format": "something-else"}', "is not a saved plan"),
        ('{"format": "vaultform-plan", "format_version": 99}', "format 99"),
        ('{"format": "vaultform-plan", "format_version": 1, "plan": {}}', "format 1"),
        ('{"format": "vaultform-plan", "format_version": 2, "plan": {}}', "changed after it was saved"),
        (
            '{"format": "vaultform-plan", "format_version": 2, ' + ZERO_MAC + ', "plan": {"$record": "Plan", '
            '"fields": {"changes": [{"$record": "Evil", "fields": {}}]}}}',
            "unexpected record",
        ),
        (
            '{"format": "vaultform-plan", "format_version": 2, ' + ZERO_MAC + ', "plan": {"$record": "Plan", '
            '"fields": {"changes": [], "bogus": 1}}}',
            "no field",
        ),
    ],
)
def test_broken_files_are_diagnostics(tmp_path, text, message):
    path = tmp_path / "p.plan"
    path.write_bytes(_authentic(text) if ZERO_MAC in text else text.encode())
    with pytest.raises(DiagnosticsError) as exc:
        load_plan(path)
    d = exc.value.diagnostics[0]
    assert message in d.summary + d.detail


def test_missing_file(tmp_path):
    with pytest.raises(DiagnosticsError) as exc:
        load_plan(tmp_path / "none.plan")
    assert "plan -out" in exc.value.diagnostics[0].detail


def test_a_short_secret_is_sealed_only_where_it_is_the_whole_value(tmp_path):
    change = ResourceChange(
        address="terraform_data.d",
        mode="managed",
        type="terraform_data",
        name="d",
        index=None,
        module="",
        provider="terraform",
        action=Action.CREATE,
        before=None,
        after={"input": "ab", "other": "tab"},
        config={"input": "ab"},
    )
    plan = Plan(changes=[change], variables={"pin": "ab"}, sensitive_variables=frozenset({"pin"}))
    path = tmp_path / "p.plan"
    save_plan(plan, path, config_dir=tmp_path)
    doc = json.loads(path.read_text())
    fields = doc["plan"]["fields"]["changes"][0]["fields"]
    assert "$sealed" in fields["after"]["input"] and fields["after"]["other"] == "tab"
    assert fields["type"] == "terraform_data"
    assert load_plan(path)[0] == plan


@pytest.mark.parametrize(
    "plan_lineage, plan_serial, state_lineage, state_serial, exists, fingerprint, expect",
    [
        ("L", 3, "L", 3, True, "F", []),
        ("L", 3, "other", 3, True, "F", ["another one"]),
        ("L", 3, "L", 4, True, "F", ["serial 4, the plan's 3"]),
        ("L", 3, "L", 3, True, "edited", ["configuration's files changed"]),
        ("L", 0, "fresh", 0, False, "F", []),  # no state then, none now
        (
            "L",
            0,
            "created-since",
            1,
            True,
            "F",
            ["created by another apply"],
        ),  # another apply created it meanwhile
    ],
)
def test_stale_reasons(plan_lineage, plan_serial, state_lineage, state_serial, exists, fingerprint, expect):
    from reconciler.plan.planfile import SavedPlan, stale_reasons
    from state.model import State

    saved = SavedPlan(
        Plan(changes=[], state_lineage=plan_lineage, state_serial=plan_serial),
        Path("."),
        config_fingerprint="F",
    )
    state = State.new(lineage=state_lineage).with_serial(state_serial)
    reasons = stale_reasons(saved, state=state, state_exists=exists, fingerprint=fingerprint)
    assert (
        stale_reasons(saved, state=state, state_exists=exists, fingerprint=fingerprint, cloud="") == reasons
    )
    assert len(reasons) == len(expect)
    for reason, words in zip(reasons, expect):
        assert words in reason


def test_a_plan_for_another_cloud_is_stale():
    from reconciler.plan.planfile import SavedPlan, stale_reasons
    from state.model import State

    saved = SavedPlan(
        Plan(changes=[], state_lineage="L", cloud="local Azure (/a.db)"), Path("."), config_fingerprint="F"
    )
    state = State.new(lineage="L")
    assert (
        stale_reasons(saved, state=state, state_exists=False, fingerprint="F", cloud="local Azure (/a.db)")
        == []
    )
    [reason] = stale_reasons(saved, state=state, state_exists=False, fingerprint="F", cloud="Azure (sub 1)")
    assert "made for local Azure (/a.db)" in reason


def _values():
    from hypothesis import strategies as st

    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=8),
        st.just(UNKNOWN),
    )
    keys = st.one_of(
        st.text(max_size=6), st.sampled_from(["$unknown", "$tuple", "$sealed", "$x"]), st.integers(-3, 3)
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.tuples(inner, inner), st.dictionaries(keys, inner, max_size=4)
        ),
        max_leaves=12,
    )


def test_any_value_round_trips_and_sealed_ones_open():
    from hypothesis import given, settings

    from reconciler.plan.planfile_codec import Decoder, Encoder
    from reconciler.plan.planfile_crypto import PlanKey

    key = PlanKey(b"\x01" * 32, "test")

    @settings(max_examples=150, deadline=None)
    @given(_values(), _values())
    def check(plain, secret):
        enc = Encoder(key.seal)
        doc = {"plain": enc.value(plain), "secret": enc.seal(secret)}
        text = json.dumps(doc)
        dec = Decoder(lambda: key.open, "test")
        back = json.loads(text)
        assert dec.value(back["plain"]) == plain
        assert dec.value(back["secret"]) == secret

    check()
