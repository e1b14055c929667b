"""Properties of the renderers over generated plans: any values, any action, with or without
a schema - rendering never fails, colour is only decoration, unknowns and secrets are
handled the same way everywhere."""

from __future__ import annotations

import json
import re
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from providers.schema import STRING, Attribute, BlockSchema, Mode, ResourceSchema
from reconciler.plan.model import Action, OutputChange, Plan, Reason, ResourceChange
from reconciler.plan.render_json import plan_to_json
from reconciler.plan.render_markdown import render_markdown
from reconciler.plan.render_text import render_plan
from reconciler.values import UNKNOWN

ANSI = re.compile(r"\x1b\[[0-9;]*m")
SECRET = "s3cr3t-marker"

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.text(max_size=30),
    st.just("line one\nline two\n"),
    st.just(UNKNOWN),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
objects = st.dictionaries(
    st.sampled_from(["id", "name", "tags", "key_opts", "input", "x-y", "n"]), values, max_size=6
)

SECRET_SCHEMA = ResourceSchema(
    "vaultform_test_secret",
    Mode.MANAGED,
    BlockSchema(
        (Attribute("value", STRING, optional=True, sensitive=True), Attribute("name", STRING, optional=True))
    ),
)


def schema_of(mode: Mode, type_name: str):
    return SECRET_SCHEMA if type_name == "vaultform_test_secret" else None


@st.composite
def changes(draw, index: int) -> ResourceChange:
    action = draw(st.sampled_from(list(Action)))
    before = None if action in (Action.CREATE, Action.READ) else draw(objects)
    after = None if action is Action.DELETE else draw(objects)
    if before is not None:
        before = {k: v for k, v in before.items()}
    paths = tuple((k,) for k in (after or before or {}) if draw(st.booleans()))
    return ResourceChange(
        address=f"example_thing.t{index}",
        mode="data" if action is Action.READ else "managed",
        type="example_thing",
        name=f"t{index}",
        index=None,
        module="",
        provider="example",
        action=action,
        before=before,
        after=after,
        replace_paths=paths if action.is_replace else (),
        reason=draw(st.sampled_from(list(Reason))),
        sensitive_paths=(),
    )


@st.composite
def plans(draw) -> Plan:
    n = draw(st.integers(0, 4))
    found = [draw(changes(i)) for i in range(n)]
    secret = ResourceChange(
        "vaultform_test_secret.s",
        "managed",
        "vaultform_test_secret",
        "s",
        None,
        "",
        "vaultform_test",
        draw(st.sampled_from([Action.CREATE, Action.UPDATE, Action.DELETE])),
        {"value": SECRET + "-old", "name": "a"},
        {"value": SECRET + "-new", "name": "b"},
    )
    if secret.action is Action.CREATE:
        secret = ResourceChange(**{**secret.__dict__, "before": None})
    outputs = [
        OutputChange(
            f"o{i}",
            draw(st.sampled_from([Action.CREATE, Action.UPDATE, Action.DELETE])),
            draw(values),
            draw(values),
            draw(st.booleans()),
        )
        for i in range(draw(st.integers(0, 2)))
    ]
    return Plan(found + [secret], outputs=outputs, cloud="local Azure")


def _unknown_paths(value, path=()):
    if value is UNKNOWN:
        yield path
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _unknown_paths(v, path + (str(k),))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _unknown_paths(v, path + (i,))


def _at(shape, path):
    for step in path:
        shape = shape[step]
    return shape


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans())
def test_renderers_never_fail_and_agree(plan):
    plain = render_plan(plan, color=False, schema_of=schema_of)
    assert plain.endswith("\n")
    assert ANSI.sub("", render_plan(plan, color=True, schema_of=schema_of)) == plain
    markdown = render_markdown(plan, schema_of=schema_of)
    doc = plan_to_json(plan, schema_of=schema_of)
    text = json.dumps(doc)
    for rendered in (plain, markdown, text):
        assert SECRET not in rendered
    for change, rc in zip(sorted(plan.changes, key=lambda c: c.address), doc["resource_changes"]):
        after = change.after if change.action is not Action.DELETE else None
        for path in _unknown_paths(after):
            assert _at(rc["change"]["after_unknown"], path) is True
            if path:  # left out of an object (as terraform does), null in a list
                parent = _at(rc["change"]["after"], path[:-1])
                assert (path[-1] not in parent) if isinstance(parent, dict) else parent[path[-1]] is None


@given(st.decimals(allow_nan=False, allow_infinity=False, places=2))
def test_decimal_numbers_stay_numbers_in_json(number):
    change = ResourceChange(
        "example_thing.t",
        "managed",
        "example_thing",
        "t",
        None,
        "",
        "example",
        Action.CREATE,
        None,
        {"n": number},
    )
    after = plan_to_json(Plan([change]))["resource_changes"][0]["change"]["after"]["n"]
    assert isinstance(after, (int, float)) and not isinstance(after, bool)
    assert abs(Decimal(repr(after)) - number) <= Decimal("1e-9") * max(1, abs(number))
