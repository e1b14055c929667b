"""Every argument azurerm documents for the managed types is in the catalog and reconciled.

The list (tests/fixtures/azurerm_docs/arguments.txt) was taken from azurerm's own documentation;
its header names the files and commit. An argument missing from the catalog, accepted only with
the "not reconciled" warning, or computed-only (so a user can't set it) fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from providers.azurerm.catalog import SCHEMA
from providers.schema import Attribute, BlockSchema, NestedBlock

LIST = Path(__file__).resolve().parents[1] / "fixtures" / "azurerm_docs" / "arguments.txt"


def _documented() -> list[tuple[str, str]]:
    rows = []
    for line in LIST.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            type_name, path = line.split()
            rows.append((type_name, path))
    return rows


def _find(block: BlockSchema, path: str) -> Attribute | NestedBlock | str:
    """The schema element at ``path`` (a.b.c), or a text saying what is wrong with it."""
    *parents, last = path.split(".")
    for name in parents:
        nested = block.block_map.get(name)
        if nested is None:
            return f"no block {name!r}"
        if not nested.reconciled:
            return f"block {name!r} is not reconciled"
        block = nested.block
    found = block.attribute_map.get(last) or block.block_map.get(last)
    return found if found is not None else "missing from the catalog"


def test_the_list_covers_every_managed_type():
    assert {t for t, _ in _documented()} == set(SCHEMA.resources)


@pytest.mark.parametrize(("type_name", "path"), _documented(), ids=lambda v: v)
def test_a_documented_argument_is_managed(type_name, path):
    found = _find(SCHEMA.resources[type_name].block, path)
    assert not isinstance(found, str), f"{type_name}.{path}: {found}"
    assert found.reconciled, f"{type_name}.{path} is accepted but not reconciled"
    if isinstance(found, Attribute):
        assert found.required or found.optional, f"{type_name}.{path} can't be set (computed only)"
