"""Unit tests of the CMK rule engine's parts: references, lookups, roles, the rule table,
and properties that must hold for any plan (unknown values anywhere never break a rule)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from providers.azurerm.rules import MESSAGES, RULES, RULES_BY_CODE, plan_rules
from providers.azurerm.rules.grants import role_grants_cmk, role_is_least_privilege, role_named
from providers.azurerm.rules.model import identity_kinds
from providers.azurerm.rules.refs import lookup, module_prefix_of, parse_reference, resource_of
from providers.azurerm.rules.table import ORDERING_REASONS, RuleKind, source_range
from providers.base import PlannedInstance, PlanRulesRequest
from reconciler.values import UNKNOWN

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rules"
NOW = datetime(2026, 1, 1, tzinfo=UTC)  # the moment plans are judged at (rules never read the clock)


# --------------------------------------------------------------------------- references


@pytest.mark.parametrize(
    "text, resource, key, attr",
    [
        (
            "azurerm_recovery_services_vault.vault.identity[0].principal_id",
            "azurerm_recovery_services_vault.vault",
            "",
            ("identity", 0, "principal_id"),
        ),
        (
            'azurerm_key_vault_key.k["eu.west"].versionless_id',
            "azurerm_key_vault_key.k",
            '["eu.west"]',
            ("versionless_id",),
        ),
        ("azurerm_key_vault_key.k[2].id", "azurerm_key_vault_key.k", "[2]", ("id",)),
        ("azurerm_key_vault_key.k[count.index].id", "azurerm_key_vault_key.k", None, ("id",)),
        (
            "data.azurerm_client_config.current.object_id",
            "data.azurerm_client_config.current",
            "",
            ("object_id",),
        ),
        ('module.net["eu"].azurerm_key_vault.kv.id', 'module.net["eu"].azurerm_key_vault.kv', "", ("id",)),
    ],
)
def test_parse_reference(text, resource, key, attr):
    ref = parse_reference(text)
    assert (ref.resource, ref.key, ref.attr) == (resource, key, attr)


@pytest.mark.parametrize("text", ["var.key_id", "local.kv", "each.value", "count.index", "path.module", ""])
def test_parse_reference_ignores_non_resources(text):
    assert parse_reference(text) is None


def test_reference_inside_module_gets_the_module_prefix():
    prefix = module_prefix_of('module.backup["eu"].azurerm_key_vault_access_policy.vault')
    assert prefix == 'module.backup["eu"].'
    ref = parse_reference(
        "azurerm_recovery_services_vault.vault.identity[0].principal_id", module_prefix=prefix
    )
    assert ref.resource == 'module.backup["eu"].azurerm_recovery_services_vault.vault'
    assert resource_of('azurerm_key_vault_key.k["a"]') == "azurerm_key_vault_key.k"
    already = parse_reference('module.backup["eu"].azurerm_key_vault.kv.id', module_prefix=prefix)
    assert already.resource == 'module.backup["eu"].azurerm_key_vault.kv'


def test_lookup_forgives_single_blocks_and_passes_unknown():
    assert lookup({"identity": [{"type": "SystemAssigned"}]}, ("identity", 0, "type")) == "SystemAssigned"
    assert lookup({"identity": {"type": "SystemAssigned"}}, ("identity", 0, "type")) == "SystemAssigned"
    assert lookup({"identity": [{"type": "X"}]}, ("identity", "type")) == "X"
    assert lookup({"identity": UNKNOWN}, ("identity", 0, "type")) is UNKNOWN
    assert lookup({"identity": [UNKNOWN]}, ("identity", 0, "type")) is UNKNOWN
    assert lookup({"identity": []}, ("identity", 0, "type")) is None


def test_identity_kinds_reads_azurerm_spellings():
    assert identity_kinds("SystemAssigned, UserAssigned") == {"SystemAssigned", "UserAssigned"}
    assert identity_kinds("systemassigned") == {"SystemAssigned"}
    assert identity_kinds(None) == frozenset()
    assert identity_kinds(UNKNOWN) is UNKNOWN


# --------------------------------------------------------------------------- roles and table


def test_roles_by_name_or_definition_id():
    by_id = role_named(
        None,
        "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/"
        "e147488a-f6f5-4113-8e2d-b22465e65bf6",
    )
    assert role_is_least_privilege(by_id)
    officer = role_named("key vault crypto officer", None)
    assert role_grants_cmk(officer) and not role_is_least_privilege(officer)
    assert role_named("Reader", None) is None
    assert role_named(UNKNOWN, None) is UNKNOWN


def test_rule_table_is_complete():
    codes = {r.code for r in RULES}
    assert codes == {f"O{i}" for i in range(1, 6)} | {f"R{i}" for i in range(1, 19)} | {
        "A1",
        "A2",
        "A3",
        "A4",
        "A5",
        "A6",
    }
    for msg in MESSAGES:
        assert msg.code in RULES_BY_CODE and RULES_BY_CODE[msg.code].kind is not RuleKind.ORDERING
        assert msg.summary and msg.fix
    for rule in RULES:
        if rule.kind is RuleKind.ORDERING:
            assert rule.code in ORDERING_REASONS
        else:
            assert any(m.code == rule.code for m in MESSAGES), rule.code


def test_source_range_parses_locations():
    r = source_range("configs/main.tf:12")
    assert (r.file, r.line) == ("configs/main.tf", 12)
    assert source_range("") is None


# --------------------------------------------------------------------------- small plans


def _vault(address="azurerm_recovery_services_vault.vault", refs=None, **after):
    base = {
        "name": "rsv",
        "resource_group_name": "rg",
        "location": "westeurope",
        "sku": "Standard",
        "identity": [{"type": "SystemAssigned", "principal_id": UNKNOWN}],
        "encryption": [{"key_id": UNKNOWN, "use_system_assigned_identity": True}],
    }
    base.update(after)
    return PlannedInstance(
        address,
        "azurerm_recovery_services_vault",
        "create",
        None,
        base,
        references=refs or {},
        location="main.tf:1",
    )


def test_count_index_references_pick_the_same_instance():
    kvs = [
        PlannedInstance(
            f"azurerm_key_vault.kv[{i}]",
            "azurerm_key_vault",
            "create",
            None,
            {"location": "westeurope", "purge_protection_enabled": True, "id": UNKNOWN},
        )
        for i in range(2)
    ]
    keys = [
        PlannedInstance(
            f"azurerm_key_vault_key.k[{i}]",
            "azurerm_key_vault_key",
            "create",
            None,
            {"key_type": "RSA", "key_size": 2048, "id": UNKNOWN},
            references={"key_vault_id": ("azurerm_key_vault.kv[count.index].id",)},
        )
        for i in range(2)
    ]
    vault = _vault(
        "azurerm_recovery_services_vault.vault[1]",
        refs={"encryption": ("azurerm_key_vault_key.k[count.index].versionless_id",)},
    )
    resp = plan_rules(PlanRulesRequest(tuple(kvs + keys + [vault]), now=NOW))
    o3 = [(str(e.before), str(e.after)) for e in resp.edges if e.rule == "O3"]
    assert o3 == [("azurerm_key_vault.kv[1]", "azurerm_recovery_services_vault.vault[1]#encryption")]


def test_now_defaults_to_the_current_time():
    kv = PlannedInstance(
        "azurerm_key_vault.kv",
        "azurerm_key_vault",
        "create",
        None,
        {"location": "westeurope", "purge_protection_enabled": True, "id": UNKNOWN},
    )
    key = PlannedInstance(
        "azurerm_key_vault_key.k",
        "azurerm_key_vault_key",
        "create",
        None,
        {"key_type": "RSA", "key_size": 2048, "expiration_date": "2001-01-01T00:00:00Z"},
        references={"key_vault_id": ("azurerm_key_vault.kv.id",)},
    )
    vault = _vault(refs={"encryption": ("azurerm_key_vault_key.k.id",)})
    resp = plan_rules(PlanRulesRequest((kv, key, vault), now=NOW))
    assert any(d.code == "R4" and "expired" in d.summary for d in resp.diagnostics)
    later = plan_rules(PlanRulesRequest((kv, key, vault), now=datetime(2000, 1, 1, tzinfo=UTC)))
    assert not any(d.code == "R4" and "expired" in d.summary for d in later.diagnostics)


def test_unknown_action_and_empty_plan_are_quiet():
    assert plan_rules(PlanRulesRequest((), now=NOW)).diagnostics == []
    odd = PlannedInstance(
        "azurerm_recovery_services_vault.v", "azurerm_recovery_services_vault", "bogus", None, None
    )
    assert plan_rules(PlanRulesRequest((odd,), now=NOW)).diagnostics == []


# --------------------------------------------------------------------------- properties


def _fixture_requests():
    import test_rules_fixtures as tf  # the loader beside this file

    return [(p.name, tf.load_request(p)) for p in tf.case_dirs()]


_REQUESTS = _fixture_requests()


def _leaves(value, path=()):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, path + (i,))
    yield path


def _set(value, path, new):
    if not path:
        return new
    out = copy.copy(value)
    out[path[0]] = _set(value[path[0]], path[1:], new)
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_unknown_or_odd_values_anywhere_never_break_the_rules(data):
    """Any value may be unknown (or of an unexpected shape, e.g. from a refresh): rules never raise."""
    name, req = data.draw(st.sampled_from(_REQUESTS), label="fixture")
    instances = list(req.instances)
    for _ in range(data.draw(st.integers(1, 6), label="how many")):
        n = data.draw(st.integers(0, len(instances) - 1))
        inst = instances[n]
        side = data.draw(st.sampled_from(["before", "after", "refreshed"]))
        value = getattr(inst, side)
        if value is None:
            continue
        paths = [p for p in _leaves(value) if p]
        path = data.draw(st.sampled_from(paths))
        odd = data.draw(
            st.sampled_from([UNKNOWN, UNKNOWN, None, "", 0, 7, True, False, [], {}, "x", [UNKNOWN]])
        )
        new = _set(value, path, odd)
        instances[n] = PlannedInstance(**{**inst.__dict__, side: new})
    resp = plan_rules(PlanRulesRequest(tuple(instances), now=req.now))
    vaults = {i.address for i in instances if i.type_name == "azurerm_recovery_services_vault"}
    assert all(d.code in RULES_BY_CODE and d.detail for d in resp.diagnostics)
    assert not [e for e in resp.edges if e.after.address in vaults and not e.after.phase]
    json.dumps([d.to_json() for d in resp.diagnostics])


def _in_module(inst: PlannedInstance, module: str, prefixed_refs: bool) -> PlannedInstance:
    def rename(v):
        if isinstance(v, dict):
            return {k: rename(x) for k, x in v.items()}
        if isinstance(v, list):
            return [rename(x) for x in v]
        return v.replace("rsv-backup", f"rsv-{module}") if isinstance(v, str) else v

    refs = inst.references
    if prefixed_refs:  # the planner sends references with their module path
        refs = {k: tuple(f"module.{module}.{r}" for r in v) for k, v in refs.items()}
    return PlannedInstance(
        **{
            **inst.__dict__,
            "address": f"module.{module}.{inst.address}",
            "after": rename(inst.after),
            "references": refs,
        }
    )


@pytest.mark.parametrize("prefixed_refs", [False, True])
def test_module_instances_only_order_within_their_module(prefixed_refs):
    import test_rules_fixtures as tf

    req = tf.load_request(FIXTURES / "O5_two_phase_vault")
    single = plan_rules(req)
    both = plan_rules(
        PlanRulesRequest(
            tuple(_in_module(i, m, prefixed_refs) for m in ("eu", "us") for i in req.instances), now=req.now
        )
    )
    assert len(both.edges) == 2 * len(single.edges)
    for e in both.edges:
        assert e.before.address.module == e.after.address.module, e


def test_for_each_key_rendered_as_an_attribute_step_still_finds_the_instance():
    vaults = [_vault(f'azurerm_recovery_services_vault.v["{k}"]') for k in ("eu", "us")]
    policy = PlannedInstance(
        "azurerm_key_vault_access_policy.p",
        "azurerm_key_vault_access_policy",
        "create",
        None,
        {"object_id": UNKNOWN, "key_permissions": ["Get"]},
        references={"object_id": ("azurerm_recovery_services_vault.v.us.identity[0].principal_id",)},
    )
    resp = plan_rules(PlanRulesRequest(tuple(vaults) + (policy,), now=NOW))
    o1 = [(str(e.before), str(e.after)) for e in resp.edges if e.rule == "O1"]
    assert o1 == [('azurerm_recovery_services_vault.v["us"]', "azurerm_key_vault_access_policy.p")]


# --------------------------------------------------------------------------- lookups by id value


def test_a_vaults_key_id_finds_its_key_and_key_vault_by_any_spelling():
    """The per-plan id tables answer as a scan would: a versioned or versionless key id, in any case,
    with or without a trailing slash, finds the key and the key vault (by vault_uri or by name)."""
    from providers.azurerm.rules.estate import key_vaults_of, keys_of
    from providers.azurerm.rules.model import Encryption, PlanIndex, TypeName

    kv_id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-a"
    base = "https://kv-a.vault.azure.net/keys/cmk"
    instances = [
        PlannedInstance(
            "azurerm_key_vault.a",
            "azurerm_key_vault",
            "no-op",
            None,
            {"id": kv_id, "name": "kv-a", "vault_uri": "https://kv-a.vault.azure.net/"},
        ),
        PlannedInstance(
            "azurerm_key_vault.b",
            "azurerm_key_vault",
            "no-op",
            None,
            {
                "id": kv_id.replace("kv-a", "kv-b"),
                "name": "kv-b",
                "vault_uri": "https://kv-b.vault.azure.net/",
            },
        ),
        PlannedInstance(
            "azurerm_key_vault_key.k",
            "azurerm_key_vault_key",
            "no-op",
            None,
            {"id": f"{base}/v1", "versionless_id": base, "key_vault_id": kv_id},
        ),
        PlannedInstance(
            "azurerm_key_vault_key.other",
            "azurerm_key_vault_key",
            "no-op",
            None,
            {"id": f"{base}2/v1", "versionless_id": f"{base}2", "key_vault_id": kv_id},
        ),
        _vault(encryption=[{"key_id": f"{base}/v1"}]),
    ]
    index = PlanIndex.build(instances)
    vault = index.of_type(TypeName.VAULT)[0]
    for key_id in (f"{base}/v1", f"{base}/v2", base, base.upper() + "/", f"{base}/V1/"):
        enc = Encryption.of({"encryption": [{"key_id": key_id}]})
        assert [k.address for k in keys_of(index, vault, enc, planned=False)] == ["azurerm_key_vault_key.k"]
        assert [kv.address for kv in key_vaults_of(index, vault, enc, planned=False)] == [
            "azurerm_key_vault.a"
        ]
    # another key vault's host names no key, and finds that key vault by its name alone
    enc = Encryption.of({"encryption": [{"key_id": "https://KV-B.vault.azure.net/keys/x"}]})
    assert keys_of(index, vault, enc, planned=False) == []
    assert [kv.address for kv in key_vaults_of(index, vault, enc, planned=False)] == ["azurerm_key_vault.b"]
    assert [n.address for n in index.by_id_value(kv_id.upper() + "/", TypeName.KEY_VAULT)] == [
        "azurerm_key_vault.a"
    ]


@pytest.mark.parametrize(
    ("oldest_point", "refused"), [("2026-01-01T00:00:00Z", True), ("2026-03-01T00:00:00Z", False)]
)
def test_a_key_vault_holding_a_key_the_vault_used_before_is_kept_while_its_points_are(oldest_point, refused):
    """R11 across applies, through the key vault: the vault moved to a key in another key vault in
    an earlier apply; destroying the old key vault is refused while a point taken with its key is
    left (points up to February), and allowed once the oldest point is newer."""
    sub = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults"
    new_key = "https://kv-new.vault.azure.net/keys/cmk"
    vault_body = {
        "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/rsv",
        "name": "rsv",
        "resource_group_name": "rg",
        "location": "westeurope",
        "sku": "Standard",
        "identity": [{"type": "SystemAssigned", "principal_id": "p"}],
        "encryption": [{"key_id": new_key, "use_system_assigned_identity": True}],
    }
    private = {
        "_previous_keys": [
            {"key_id": "https://kv-old.vault.azure.net/keys/cmk", "points_until": "2026-02-01T00:00:00Z"}
        ],
        "_history": {"recovery_points": 3, "oldest_recovery_point": oldest_point},
    }
    instances = (
        PlannedInstance(
            "azurerm_recovery_services_vault.vault",
            "azurerm_recovery_services_vault",
            "no-op",
            vault_body,
            vault_body,
            {**vault_body, **private},
        ),
        PlannedInstance(
            "azurerm_key_vault.old",
            "azurerm_key_vault",
            "delete",
            {"id": f"{sub}/kv-old", "name": "kv-old", "vault_uri": "https://kv-old.vault.azure.net/"},
            None,
        ),
        PlannedInstance(
            "azurerm_key_vault_key.new",
            "azurerm_key_vault_key",
            "no-op",
            {"id": f"{new_key}/v1", "versionless_id": new_key, "key_vault_id": f"{sub}/kv-new"},
            {"id": f"{new_key}/v1", "versionless_id": new_key, "key_vault_id": f"{sub}/kv-new"},
        ),
    )
    found = [d for d in plan_rules(PlanRulesRequest(instances, now=NOW)).diagnostics if d.is_error]
    kept = [d for d in found if "used before" in d.summary]
    assert bool(kept) is refused
    if refused:
        assert (
            kept[0].address == "azurerm_key_vault.old" and "destroys azurerm_key_vault.old" in kept[0].detail
        )
