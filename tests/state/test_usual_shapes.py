"""The quick reader of usual state shapes never lets through what the full reader refuses,
and reads what it takes exactly as the full reader does."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from state import format as state_format
from state.errors import StateError

ODD_VALUES: list[Any] = [
    None, "", "x", "tainted", 0, -1, 3, 1.5, True, False, [], [1], ["terraform_data.a"], [""],
    ["terraform_data.a", "terraform_data.a"], [["id"]], {}, {"a": 1},
]  # fmt: skip

INSTANCE = {
    "index_key": None,
    "schema_version": 0,
    "status": "",
    "create_before_destroy": False,
    "attributes": {"id": "x"},
    "sensitive_paths": [],
    "dependencies": ["terraform_data.a"],
    "pending": None,
    "private": {},
}
RESOURCE = {
    "module": "",
    "mode": "managed",
    "type": "terraform_data",
    "name": "t",
    "provider": "terraform",
    "prevent_destroy": False,
    "instances": [INSTANCE],
}


def _variants(base: dict[str, Any], extra_key: str) -> list[dict[str, Any]]:
    found = [base, {k: v for k, v in base.items() if k != extra_key}, {**base, "surprise": 1}]
    for key, value in itertools.product(list(base), ODD_VALUES):
        found.append({**base, key: value})
        found.append({k: v for k, v in base.items() if k != key})
    return found


def _full(read, doc: dict[str, Any]) -> Any:
    try:
        return read(state_format._Reader("test"), doc, "where")
    except (StateError, TypeError, ValueError) as exc:
        return exc


@pytest.mark.parametrize(
    ("quick", "full", "base"),
    [
        (state_format._instance_as_usual, state_format._read_instance, INSTANCE),
        (state_format._resource_as_usual, state_format._read_resource, RESOURCE),
    ],
    ids=["instance", "resource"],
)
def test_quick_reader_agrees_with_the_full_one(quick, full, base):
    variants = _variants(base, "dependencies")
    if base is RESOURCE:  # instances of their own odd shapes, and two under one key
        variants += [{**RESOURCE, "instances": [v]} for v in _variants(INSTANCE, "dependencies")]
        variants += [
            {**RESOURCE, "instances": [{**INSTANCE, "index_key": 0}, {**INSTANCE, "index_key": 0}]},
            {**RESOURCE, "instances": [{**INSTANCE, "index_key": 0}, {**INSTANCE, "index_key": "0"}]},
            {**RESOURCE, "module": 'module.m["a"]'},
            {**RESOURCE, "module": "module."},
        ]
    taken = 0
    for doc in variants:
        expected = _full(full, doc)
        got = quick(doc)
        if got is None:
            continue
        taken += 1
        assert not isinstance(expected, Exception), f"{doc!r}: the full reader refuses it: {expected}"
        assert got == expected, doc
    assert taken > 10  # the quick reader does take the usual shapes
