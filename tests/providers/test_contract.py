"""The azurerm provider's contract, one suite over every resource type and data source.

Each case is a fixture directory ``tests/fixtures/contract/<case>/case.json``: the type,
the planned values, an optional in-place update, the cases it needs first (``needs``:
alias -> case, or ``@<data source>``) and ``${alias.attr}`` references to their values.

For every managed case, with the engine's own planner deciding (reconciler.plan.diff):
plan -> create -> the result holds every configured value -> a read equals it -> the next
plan is a no-op -> in-place update (when the case has one; the planner must call it an
update, not a replacement) -> read equals -> the next plan is a no-op -> import(id) gives
what was recorded -> delete -> read says gone. Data-source cases read and compare.

Worlds (the ``world`` fixture's parameters):
* ``local``: the embedded local Azure on a temporary database;
* ``local-faults`` (marked ``slow``): the same with throttling, transient 503s, grant
  propagation delay and principal replication delay switched on. Pauses go through the
  provider's clock, which advances the emulator's clock, so nothing really waits;
* ``azure``: real Azure, only with VAULTFORM_TEST_AZURE=1 and credentials; skipped
  otherwise, saying so.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from providers.azurerm.catalog import SCHEMA
from providers.azurerm.clients import ClientFactory, CloudKind, CloudTarget
from providers.azurerm.provider import TIMEOUTS, AzurermProvider
from providers.azurerm.resources import HANDLERS
from providers.base import (
    Clock,
    CreateRequest,
    DataRequest,
    DeleteRequest,
    ImportRequest,
    NotFoundError,
    ReadRequest,
    RetryableError,
    UpdateRequest,
)
from providers.schema import ChangeKind
from reconciler.plan.diff import InstanceRequest, decide
from reconciler.plan.model import Action
from state.model import KEPT_FACTS

CASES_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "contract"
CASES = {
    p.name: json.loads((p / "case.json").read_text())
    for p in sorted(CASES_DIR.iterdir())
    if (p / "case.json").is_file()
}
MANAGED = sorted(n for n, c in CASES.items() if c.get("mode", "managed") == "managed")
DATA = sorted(n for n, c in CASES.items() if c.get("mode") == "data")

REF = re.compile(r"\$\{([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)\}")
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")

FAULTS = dict(
    throttle_rate=0.15,
    transient_error_rate=0.05,
    retry_after_seconds=2,
    grant_propagation_jitter_seconds=45,
    principal_propagation_seconds=20,
    seed=7,
)


# --------------------------------------------------------------------------- worlds


class World:
    """A provider on one cloud, plus what the cases created in it."""

    def __init__(
        self, provider: AzurermProvider, env_values: dict[str, str], *, suffix: str = "", emulator: Any = None
    ) -> None:
        self.provider = provider
        self.env_values = env_values
        self.suffix = suffix
        self.emulator = emulator
        self.states: dict[str, dict[str, Any]] = {}
        self.created: list[tuple[str, dict[str, Any]]] = []

    def resolve(self, value: Any, scope: dict[str, dict[str, Any]]) -> Any:
        if isinstance(value, dict):
            return {k: self.resolve(v, scope) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, scope) for v in value]
        if not isinstance(value, str):
            return value
        whole = REF.fullmatch(value)
        if whole:
            return self.lookup(scope, whole.group(1), whole.group(2))
        return REF.sub(lambda m: str(self.lookup(scope, m.group(1), m.group(2))), value)

    @staticmethod
    def lookup(scope: dict[str, dict[str, Any]], alias: str, attr: str) -> Any:
        values = scope[alias]
        if alias == "env" and values.get(attr) is None:
            pytest.skip(
                f"this case needs {attr}: on real Azure set VAULTFORM_TEST_AZURE_VM_ID to a VM "
                f"the suite may protect"
            )
        return values[attr]

    def scope_for(self, case: dict[str, Any]) -> dict[str, dict[str, Any]]:
        scope: dict[str, dict[str, Any]] = {"env": self.env_values}
        for alias, target in (case.get("needs") or {}).items():
            if target.startswith("@"):
                scope[alias] = self.provider.read_data(DataRequest(target[1:], {})).state
            else:
                scope[alias] = self.ensure(target)
        return scope

    def planned(self, name: str) -> dict[str, Any]:
        case = CASES[name]
        planned = self.resolve(case["planned"], self.scope_for(case))
        if self.suffix and isinstance(planned.get("name"), str) and "-contract" in planned["name"]:
            planned["name"] = f"{planned['name']}{self.suffix}"[:24]
        return planned

    def ensure(self, name: str) -> dict[str, Any]:
        """The state of case ``name``, creating it (and what it needs) once."""
        if name not in self.states:
            case = CASES[name]
            planned = self.planned(name)
            state = as_executor(
                self.provider, lambda: self.provider.create(CreateRequest(case["type"], planned))
            )
            state = state.state
            self.states[name] = state
            self.created.append((case["type"], state))
        return self.states[name]

    def cleanup(self) -> None:
        for type_name, state in reversed(self.created):
            try:
                self.provider.delete(DeleteRequest(type_name, state))
            except Exception as exc:  # best effort on real Azure; report, don't mask the test
                print(f"cleanup of {type_name} {state.get('id')} failed: {exc}")


def as_executor(provider, action, attempts: int = 8):
    """Run ``action`` as the executor does: a RetryableError is retried after its delay hint (or a
    growing backoff), on the provider's clock."""
    for attempt in range(attempts):
        try:
            return action()
        except RetryableError as exc:
            if attempt == attempts - 1:
                raise
            provider.clock.sleep(exc.retry_after if exc.retry_after is not None else 2.0**attempt)
    raise AssertionError("unreachable")


def emulator_clock(env) -> Clock:
    """A provider clock that moves the emulator's clock instead of sleeping."""
    return Clock(
        now=lambda: env.clock.now().timestamp(),
        monotonic=lambda: env.clock.now().timestamp(),
        sleep=lambda seconds: env.clock.advance(seconds),
        new_id=lambda: str(uuid.uuid4()),
    )


def local_world(tmp_path: Path, *, faults: bool) -> World:
    from providers.azurelocal.app import Emulator

    env = Emulator(tmp_path / "local-azure.db")
    if faults:
        env.configure_faults(**FAULTS)
    clients = ClientFactory(
        CloudTarget(CloudKind.LOCAL, local_path=tmp_path / "local-azure.db"), emulator=env
    )
    provider = AzurermProvider(clients=clients, clock=emulator_clock(env), report=lambda _m: None)
    values = {
        "subscription_id": env.subscription_id,
        "tenant_id": env.tenant_id,
        "deployer_object_id": env.deployer_object_id,
        **vm_values(
            f"/subscriptions/{env.subscription_id}/resourceGroups/rg-workloads/providers/"
            f"Microsoft.Compute/virtualMachines/vm-app-01",
            "westeurope",
        ),
    }
    return World(provider, values, emulator=env)


def vm_values(vm_id: str | None, location: str | None) -> dict[str, Any]:
    """The VM the protected-VM and VM data-source cases use (seeded in the local Azure)."""
    if not vm_id:
        return {}
    parts = vm_id.split("/")
    return {"vm_id": vm_id, "vm_name": parts[-1], "vm_resource_group": parts[4], "vm_location": location}


@pytest.mark.slow
def test_a_grant_is_usable_when_create_returns(tmp_path):
    """With propagation delays on, the provider waits (visibly, on the emulator clock) until the
    new identity is known to role assignments and its access policy reads back: the identity can
    wrap with the key at once (only Azure Backup's view of a grant lags; the key assignment
    retries that)."""
    from azure.keyvault.keys.crypto import CryptographyClient, KeyWrapAlgorithm

    from providers.azurelocal.credential import LocalCredential
    from providers.azurelocal.transport import local_transport

    world = local_world(tmp_path, faults=True)
    env = world.emulator
    env.configure_faults(throttle_rate=0.0, transient_error_rate=0.0)
    start = env.clock.now()
    key = world.ensure("key_vault_key")
    uai = world.ensure("user_assigned_identity")
    world.ensure("role_assignment")
    world.ensure("key_vault_access_policy_cmk")
    events = world.provider.events
    assert any("PrincipalNotFound" in e for e in events)
    assert (env.clock.now() - start).total_seconds() >= FAULTS["principal_propagation_seconds"]
    crypto = CryptographyClient(
        key["id"], LocalCredential(uai["principal_id"]), transport=local_transport(env)
    )
    wrapped = crypto.wrap_key(KeyWrapAlgorithm.rsa_oaep_256, b"k" * 32)
    assert crypto.unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, wrapped.encrypted_key).key == b"k" * 32
    env.store.close()


def azure_world() -> World:
    if os.environ.get("VAULTFORM_TEST_AZURE") != "1":
        pytest.skip(
            "real Azure contract run skipped: set VAULTFORM_TEST_AZURE=1 (with ARM_SUBSCRIPTION_ID "
            "and credentials DefaultAzureCredential can use) to run it"
        )
    if not (os.environ.get("ARM_SUBSCRIPTION_ID") or os.environ.get("AZURE_SUBSCRIPTION_ID")):
        pytest.skip("real Azure contract run skipped: VAULTFORM_TEST_AZURE=1 but no ARM_SUBSCRIPTION_ID")
    provider = AzurermProvider(environ={**os.environ, "VAULTFORM_CLOUD": "azure"})
    who = provider.clients.caller()
    values = {
        "subscription_id": who.subscription_id,
        "tenant_id": who.tenant_id,
        "deployer_object_id": who.object_id,
        **vm_values(
            os.environ.get("VAULTFORM_TEST_AZURE_VM_ID"),
            os.environ.get("VAULTFORM_TEST_AZURE_LOCATION", "westeurope"),
        ),
    }
    return World(provider, values, suffix="-" + uuid.uuid4().hex[:6])


@pytest.fixture(params=["local", pytest.param("local-faults", marks=pytest.mark.slow), "azure"])
def world(request, tmp_path):
    if request.param == "azure":
        w = azure_world()
        yield w
        w.cleanup()
        return
    w = local_world(tmp_path, faults=request.param == "local-faults")
    yield w
    w.emulator.store.close()


# --------------------------------------------------------------------------- comparisons


def _norm_location(v: Any) -> Any:
    return v.replace(" ", "").lower() if isinstance(v, str) else v


def assert_holds(planned: Any, actual: Any, path: str) -> None:
    """Every planned value is in ``actual`` (lists of scalars compare as multisets)."""
    if isinstance(planned, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        for k, v in planned.items():
            assert_holds(v, actual.get(k), f"{path}.{k}")
    elif isinstance(planned, list) and planned and all(isinstance(x, dict) for x in planned):
        assert isinstance(actual, list) and len(actual) == len(planned), f"{path}: {actual!r} != {planned!r}"
        for i, (p, a) in enumerate(zip(planned, actual)):
            assert_holds(p, a, f"{path}[{i}]")
    elif isinstance(planned, list):
        assert isinstance(actual, list) and sorted(map(repr, planned)) == sorted(map(repr, actual)), (
            f"{path}: {actual!r} != {planned!r}"
        )
    else:
        assert actual == planned, f"{path}: {actual!r} != planned {planned!r}"


def public(state: dict[str, Any] | None) -> dict[str, Any] | None:
    """Without the provider-private facts a refresh adds for the domain rules."""
    if state is None:
        return None
    private = {k for h in HANDLERS.values() for k in h.private} | {KEPT_FACTS}  # and which of them stay
    return {k: v for k, v in state.items() if k not in private}


def _instant(v: Any) -> Any:
    if isinstance(v, str) and RFC3339.fullmatch(v):
        return datetime.fromisoformat(v.replace("Z", "+00:00"))
    return v


def spelled_as(config: dict[str, Any], imported: dict[str, Any]) -> dict[str, Any]:
    """The configuration with the imported spelling wherever both mean the same region or instant."""
    out = dict(config)
    for k, v in config.items():
        got = imported.get(k)
        if (
            k == "location"
            and _norm_location(v) == _norm_location(got)
            or isinstance(v, str)
            and _instant(v) == _instant(got)
            and v != got
        ):
            out[k] = got
    return out


def _nothing_as_none(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _nothing_as_none(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_nothing_as_none(x) for x in v] or None
    return None if v == "" else v


def comparable(state: dict[str, Any], ignore: tuple[str, ...] = ()) -> dict[str, Any]:
    """For the import round trip: locations in Azure's short form, instants as instants, and
    'nothing' (null, empty list, empty string) alike - an import can't know which form the
    configuration used."""
    return {
        k: _nothing_as_none(_instant(_norm_location(v) if k == "location" else v))
        for k, v in state.items()
        if k not in ignore
    }


def skip_if_not_served(world: World, exc: Exception, type_name: str) -> None:
    if (
        world.emulator is not None
        and isinstance(exc, NotFoundError)
        and exc.code == "NoRegisteredProviderFound"
    ):
        pytest.skip(f"the local Azure doesn't serve {type_name} yet ({exc.message})")


# --------------------------------------------------------------------------- the suite


def plan(type_name: str, config: dict[str, Any], prior: dict[str, Any] | None):
    """The engine's own decision for one instance (reconciler.plan.diff)."""
    return decide(InstanceRequest(SCHEMA.resources[type_name], f"{type_name}.contract", config, prior))


@pytest.mark.parametrize("name", MANAGED)
def test_lifecycle(world: World, name: str) -> None:
    case = CASES[name]
    type_name = case["type"]
    provider = world.provider
    try:
        config = world.planned(name)
        planned = plan(type_name, config, None)
        assert planned.action is Action.CREATE
        created = as_executor(
            provider, lambda: provider.create(CreateRequest(type_name, planned.after))
        ).state
    except NotFoundError as exc:
        skip_if_not_served(world, exc, type_name)
        raise
    assert_holds(config, created, type_name)
    assert set(created) == set(SCHEMA.resources[type_name].block.names()), "state keys follow the catalog"
    refreshed = public(provider.read(ReadRequest(type_name, created)).state)
    assert refreshed == created
    again = plan(type_name, config, refreshed)
    assert again.action is Action.NO_OP, f"the next plan isn't empty: {again.changed}"

    current = created
    if case.get("update"):
        config = {**config, **world.resolve(case["update"], world.scope_for(case))}
        step = plan(type_name, config, current)
        assert step.action is Action.UPDATE, f"{step.action}: {step.replace_paths or step.changed}"
        changed = tuple(sorted({p[0] for p in step.changed}))
        before = current
        current = as_executor(
            provider, lambda: provider.update(UpdateRequest(type_name, before, step.after, changed))
        ).state
        assert_holds(config, current, f"{type_name} (updated)")
        assert current["id"] == created["id"] or type_name == "azurerm_key_vault_key"
        refreshed = public(provider.read(ReadRequest(type_name, current)).state)
        assert refreshed == current
        again = plan(type_name, config, refreshed)
        assert again.action is Action.NO_OP, f"the plan after the update isn't empty: {again.changed}"

    imported = provider.import_(ImportRequest(type_name, current["id"])).state
    ignore = tuple(case.get("import_ignore", ()))
    assert comparable(imported, ignore) == comparable(current, ignore)
    # (the configuration's spelling of a region or an instant can't be known to an import)
    assert plan(type_name, spelled_as(config, imported), imported).action is Action.NO_OP, (
        "the first plan after an import changes nothing"
    )

    provider.delete(DeleteRequest(type_name, current))
    assert provider.read(ReadRequest(type_name, current)).state is None


@pytest.mark.parametrize("name", DATA)
def test_data_source(world: World, name: str) -> None:
    case = CASES[name]
    scope = world.scope_for(case)
    config = world.resolve(case.get("config", {}), scope)
    got = world.provider.read_data(DataRequest(case["type"], config)).state
    assert got is not None
    assert set(public(got)) == set(SCHEMA.data_sources[case["type"]].block.names())
    assert_holds(world.resolve(case["expect"], scope), comparable(got), case["type"])


@pytest.mark.parametrize("type_name", sorted(SCHEMA.resources))
def test_every_force_new_attribute_is_in_the_schema(type_name: str) -> None:
    """What the handler can't change in place must be force_new in the catalog (so the plan
    says 'replace', never an apply-time surprise), and what it changes in place must not be."""
    handler = HANDLERS[type_name]
    schema = SCHEMA.resources[type_name]
    settable = {a.name: a.force_new for a in schema.block.attributes if a.required or a.optional}
    settable.update({b.name: b.force_new for b in schema.block.blocks if b.reconciled})
    for name, force_new in settable.items():
        if name in handler.updatable or name == TIMEOUTS:  # the provider itself updates timeouts
            assert not force_new, f"{type_name}.{name} is updated in place but marked force_new"
        elif not force_new:
            attr = schema.block.attribute_map.get(name)
            unreconciled = attr is not None and not attr.reconciled
            refused = (
                attr is not None
                and attr.change_rule is not None
                and attr.change_rule.kind is ChangeKind.FIXED_ONCE_SET
            )
            assert unreconciled or refused, (
                f"{type_name}.{name} can't change in place, yet the schema neither forces new nor refuses it"
            )


def test_every_type_has_a_case() -> None:
    covered = {CASES[n]["type"] for n in MANAGED}
    assert covered == set(SCHEMA.resources)
    assert {CASES[n]["type"] for n in DATA} == set(SCHEMA.data_sources)
