"""A provider that implements none of the optional protocols (the built-in one): drift still
compares its objects generically, and audit says plainly that there is no audit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from providers.base import (
    Locating,
    SupportsAudit,
    SupportsDescribe,
    SupportsDriftRules,
    SupportsUnmanagedListing,
)
from providers.builtin.provider import BuiltinProvider

FIXTURE = Path(__file__).parent.parent / "fixtures" / "drift" / "generic"


@pytest.fixture
def estate(tmp_path, cli):
    root = tmp_path / "generic"
    shutil.copytree(FIXTURE, root)
    code, out, err = cli(["apply", str(root), "-auto-approve"])
    assert code == 0, f"{out}\n{err}"
    return root


def test_the_builtin_provider_has_no_optional_protocol():
    provider = BuiltinProvider()
    for protocol in (SupportsAudit, SupportsDescribe, SupportsDriftRules, SupportsUnmanagedListing, Locating):
        assert not isinstance(provider, protocol), protocol.__name__


def test_drift_without_provider_rules_reports_no_drift(estate, cli):
    code, out, err = cli(["drift", str(estate), "-json"])
    assert code == 0, f"{out}\n{err}"
    report = json.loads(out)
    assert report["cloud"] == "no cloud (built-in resources only)"
    assert report["summary"]["objects_checked"] == 1 and report["drift"] == [] and report["unmanaged"] == []


def test_drift_without_provider_rules_compares_with_the_configuration(estate, cli):
    code, out, err = cli(["drift", str(estate), "-json", "-var", "label=second"])
    assert code == 2, f"{out}\n{err}"
    records = json.loads(out)["drift"]
    assert [
        (r["address"], r["attribute"], r["baseline"], r["severity"], r["fix"]["kind"]) for r in records
    ] == [("terraform_data.label", "input", "desired", "info", "plan")]
    assert records[0]["why"] == "the configuration wants another value than the one recorded"


def test_audit_says_no_provider_has_one(estate, cli):
    code, out, err = cli(["audit", str(estate)])
    assert code == 1
    assert "No provider in this configuration has an audit" in err
    assert "(terraform)" in err and "Traceback" not in err
