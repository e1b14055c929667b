"""Every out-of-band change `vaultform cloud` offers, from tests/fixtures/drift/scenarios/<case>/case.yaml:
drift names the object and attribute with the right severity, fix and exit code; where a fix is
allowed, drift -> apply (or the out-of-band fix the report names) -> drift again reports none."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

SCENARIOS = Path(__file__).parent.parent / "fixtures" / "drift" / "scenarios"
CASES = sorted(p.name for p in SCENARIOS.iterdir() if (p / "case.yaml").exists())


def _case(name: str) -> dict:
    return yaml.safe_load((SCENARIOS / name / "case.yaml").read_text())


def _find(report: dict, address: str, attribute: str) -> dict:
    for record in report["drift"]:
        if record["address"] == address and record["attribute"] == attribute:
            return record
    shown = [(r["address"], r["attribute"]) for r in report["drift"]]
    raise AssertionError(f"no drift record for {address} {attribute!r}; records: {shown}")


def _drifted(world, case: dict) -> None:
    for command in case["change"]:
        world.ok(command, case["estate"])


@pytest.mark.parametrize("name", CASES)
def test_drift_names_object_attribute_and_severity(world, name):
    case = _case(name)
    estate = case["estate"]
    code, report = world.drift(estate)
    assert (code, report["drift"]) == (0, []), "the estate must start without drift"
    _drifted(world, case)

    code, report = world.drift(estate)
    assert code == case["exit"]
    assert report["summary"]["exit_code"] == case["exit"]
    for want in case["expect"]:
        got = _find(report, want["address"], want["attribute"])
        assert got["severity"] == want["severity"], got
        if "change" in want:
            assert got["change"] == want["change"], got
        if "fix" in want:
            assert got["fix"]["kind"] == want["fix"], got

    text_code, text, _ = world.run("drift {dir}", estate)
    assert text_code == case["exit"]
    for want in case["expect"]:
        assert want["address"] in text and want["attribute"] in text


FIXABLE = [n for n in CASES if _case(n).get("fix_by_plan") or _case(n).get("fix_out_of_band")]


@pytest.mark.parametrize("name", FIXABLE)
def test_fix_then_drift_reports_none(world, name):
    case = _case(name)
    estate = case["estate"]
    _drifted(world, case)
    fixes = case.get("fix_out_of_band") or ["apply {dir} -auto-approve"]
    for command in fixes:
        world.ok(command, estate)
    code, report = world.drift(estate)
    assert (code, report["drift"], report["unmanaged"]) == (0, [], []), report
