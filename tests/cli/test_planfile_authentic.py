"""A saved plan is authenticated whole with the plan key: any change to the file is refused.

Sealing protected only the secrets; a principal or a tag edited in the clear JSON was applied
as approved. Now one byte changed anywhere - in the header, the authentication code, a value,
the last newline - or a value edited in the JSON is refused with exit 1, and nothing is applied.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output
from reconciler.diagnostics import DiagnosticsError
from reconciler.plan.model import Action, Plan, ResourceChange
from reconciler.plan.planfile import load_plan, save_plan
from reconciler.plan.planfile_crypto import KEY_ENV

CONFIG = """
variable "principal" { type = string }

resource "terraform_data" "grant" {
  input = { principal_id = var.principal, role = "Key Vault Crypto Service Encryption User" }
}
"""

OURS = "11111111-1111-1111-1111-111111111111"
THEIRS = "22222222-2222-2222-2222-222222222222"


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv(KEY_ENV, raising=False)
    return home


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue(), err.getvalue()


def grant_plan() -> Plan:
    change = ResourceChange(
        address="terraform_data.grant",
        mode="managed",
        type="terraform_data",
        name="grant",
        index=None,
        module="",
        provider="terraform",
        action=Action.CREATE,
        before=None,
        after={"input": {"principal_id": OURS}},
    )
    return Plan(changes=[change], variables={"principal": OURS}, state_lineage="lineage-1")


@pytest.fixture
def saved(tmp_path) -> Path:
    path = tmp_path / "grant.plan"
    save_plan(grant_plan(), path, config_dir=tmp_path, sensitive_variables=frozenset())
    assert load_plan(path)[0] == grant_plan()
    return path


@pytest.mark.parametrize("where", ["first", "header", "mac", "key_id", "principal", "middle", "end", "last"])
def test_one_flipped_byte_anywhere_is_refused(saved, where):
    data = bytearray(saved.read_bytes())
    offsets = {
        "first": 0,
        "header": data.index(b'"format_version"') + 3,
        "mac": data.index(b'"mac": "') + 20,
        "key_id": data.index(b'"key_id": "') + 12,
        "principal": data.index(OURS.encode()) + 7,
        "middle": len(data) // 2,
        "end": len(data) - 10,
        "last": len(data) - 1,
    }
    for bit in (0x01, 0x20, 0x80):
        changed = bytearray(data)
        changed[offsets[where]] ^= bit
        saved.write_bytes(bytes(changed))
        with pytest.raises(DiagnosticsError) as exc:
            load_plan(saved)
        d = exc.value.diagnostics[0]
        assert "changed after it was saved" in d.summary, (where, bit, d.summary, d.detail)


def test_a_byte_added_or_removed_is_refused(saved):
    data = saved.read_bytes()
    for changed in (data + b" ", data[:-1], b" " + data, data.replace(b"\n", b"\n ", 1)):
        saved.write_bytes(changed)
        with pytest.raises(DiagnosticsError) as exc:
            load_plan(saved)
        assert "changed after it was saved" in exc.value.diagnostics[0].summary


def test_an_edited_principal_in_the_json_is_refused(saved):
    doc = json.loads(saved.read_text())
    after = doc["plan"]["fields"]["changes"][0]["fields"]["after"]
    after["input"]["principal_id"] = THEIRS
    saved.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
    with pytest.raises(DiagnosticsError) as exc:
        load_plan(saved)
    assert "changed after it was saved" in exc.value.diagnostics[0].summary
    assert "Nothing was applied" in exc.value.diagnostics[0].detail


def test_apply_of_an_edited_plan_exits_1_and_applies_nothing(tmp_path):
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "main.tf").write_text(CONFIG)
    planfile = tmp_path / "grant.plan"
    code, _out, err = run("plan", "-no-color", "-var", f"principal={OURS}", "-out", str(planfile), str(cfg))
    assert code == 0, err
    text = planfile.read_text()
    assert text.count(OURS) >= 1
    planfile.write_text(text.replace(OURS, THEIRS))

    code, out, err = run("apply", "-no-color", str(planfile))
    assert code == 1, out + err
    assert "was changed after it was saved" in err
    assert "Traceback" not in err
    assert not (cfg / "vaultform.tfstate").exists(), "an edited plan was applied"

    planfile.write_text(text)  # the plan as saved still applies
    code, out, err = run("apply", "-no-color", str(planfile))
    assert code == 0, out + err
    assert "1 added" in out


def test_a_killed_plan_outs_temporary_file_is_removed_by_the_next(tmp_path):
    import subprocess
    import sys

    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    left = tmp_path / f".vaultform-plan.{ended.pid}.12345.k1ll3d.tmp"
    left.write_bytes(b"")
    save_plan(grant_plan(), tmp_path / "grant.plan", config_dir=tmp_path, sensitive_variables=frozenset())
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []
