"""Vault update rules as data: each directory under tests/fixtures/azurelocal/vault_rules holds the
stored vault (old.json), the requested result (new.json) and the expected outcome (expected.txt:
Azure's error code, or ``ok``; a ``#`` line says why)."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest

from providers.azurelocal import rules
from providers.azurelocal.http import AzureError

CASES = Path(__file__).parent.parent / "fixtures" / "azurelocal" / "vault_rules"


def _cases():
    return sorted(p for p in CASES.iterdir() if p.is_dir())


@pytest.mark.parametrize("case", _cases(), ids=lambda p: p.name)
def test_vault_update_rule(case: Path):
    old = json.loads((case / "old.json").read_text())
    new = json.loads((case / "new.json").read_text())
    expected = (case / "expected.txt").read_text().splitlines()[0].strip()
    if expected == "ok":
        rules.check_vault_update(old, new)
        return
    with pytest.raises(AzureError) as err:
        rules.check_vault_update(old, new)
    assert err.value.code == expected


def test_every_refusal_has_a_message_that_formats():
    for refusal in rules.Refusal:
        names = {field for _, field, _, _ in string.Formatter().parse(refusal.value.template) if field}
        error = refusal.error(**{name: "x" for name in names})
        assert error.code == refusal.value.code and error.status in (400, 409)
