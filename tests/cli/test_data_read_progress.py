"""Data source reads say what they do, in the lines terraform prints for them.

Text (internal/command/views/hook_ui.go, PreApply/PostApply with plans.Read)::

    data.azurerm_client_config.current: Reading...
    data.azurerm_client_config.current: Read complete after 0s [id=...]

``-json`` (internal/command/views/json/hook.go): ``apply_start`` "ADDR: Refreshing..." and
``apply_complete`` "ADDR: Refresh complete after 0s [id=...]", hook action "read". terraform 1.11
prints exactly these for ``data "terraform_remote_state"`` (checked side by side; vaultform doesn't
serve that data source, so these tests read azurerm ones on the local Azure).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.e2e.harness import Workspace

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "data_reads" / "client_config"
NOW = "data.azurerm_client_config.current"
LATER = "data.azurerm_resource_group.later"


def _lines(text: str, address: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(address + ":")]


def test_plan_prints_reading_and_read_complete_for_each_data_source_it_reads(tmp_path):
    ws = Workspace(tmp_path, FIXTURE)
    got = ws.vf("plan")
    assert got.code == 0, got.explain()
    now = _lines(got.out, NOW)
    assert now[0] == f"{NOW}: Reading..."
    assert re.fullmatch(rf"{re.escape(NOW)}: Read complete after \d+s \[id=\S+\]", now[1]), now
    assert len(now) == 2
    # both come before the plan itself
    assert got.out.index(now[1]) < got.out.index("azurerm_resource_group.rg will be created")
    # a read that waits for this plan's changes isn't read while planning
    assert _lines(got.out, LATER) == []


def test_apply_reads_a_deferred_data_source_with_the_same_lines(tmp_path):
    ws = Workspace(tmp_path, FIXTURE)
    got = ws.vf("apply", "-auto-approve")
    assert got.code == 0, got.explain()
    later = _lines(got.out, LATER)
    assert later[0] == f"{LATER}: Reading..."
    assert re.fullmatch(rf"{re.escape(LATER)}: Read complete after \d+s \[id=/subscriptions/\S+\]", later[-1])


def test_plan_json_streams_a_read_as_terraform_does(tmp_path):
    ws = Workspace(tmp_path, FIXTURE)
    got = ws.vf("plan", "-json")
    assert got.code == 0, got.explain()
    messages = [json.loads(line) for line in got.out.splitlines() if line.strip()]
    reads = [m for m in messages if (m.get("hook") or {}).get("resource", {}).get("addr") == NOW]
    assert [m["type"] for m in reads] == ["apply_start", "apply_complete"]
    start, done = reads
    assert start["@message"] == f"{NOW}: Refreshing..."
    assert start["hook"]["action"] == "read" and start["hook"]["resource"]["resource_type"] == (
        "azurerm_client_config"
    )
    assert re.fullmatch(rf"{re.escape(NOW)}: Refresh complete after \d+s \[id=\S+\]", done["@message"])
    assert done["hook"]["action"] == "read" and done["hook"]["id_key"] == "id"
    assert isinstance(done["hook"]["elapsed_seconds"], int)
    # before the planned changes, as terraform streams them
    types = [m["type"] for m in messages]
    assert messages.index(done) < types.index("planned_change")


def test_apply_json_words_a_deferred_read_as_terraform_does(tmp_path):
    ws = Workspace(tmp_path, FIXTURE)
    got = ws.vf("apply", "-auto-approve", "-json")
    assert got.code == 0, got.explain()
    messages = [json.loads(line) for line in got.out.splitlines() if line.strip()]
    later = [
        m["@message"] for m in messages if (m.get("hook") or {}).get("resource", {}).get("addr") == LATER
    ]
    assert later[0] == f"{LATER}: Refreshing..."
    assert later[-1].startswith(f"{LATER}: Refresh complete after ")
