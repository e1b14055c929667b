"""A backend block added to a configuration whose state is encrypted: plan asks for init instead of
starting from an empty state beside the real one, and `init -migrate-state` reads and writes the
state through the configuration's encryption, into a directory the local backend creates."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

from reconciler.cli.main import main
from reconciler.cli.output import Output

FIXTURE = Path(__file__).parents[1] / "fixtures" / "migrate_encrypted"
BLOCK = '  backend "local" {\n    path = "states/main.tfstate"\n  }\n'


def _run(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), output=Output(out=out, err=err, no_color=True))
    return code, " ".join((out.getvalue() + err.getvalue()).split())


def test_a_new_local_block_moves_the_encrypted_state_only_through_init(tmp_path, monkeypatch):
    monkeypatch.delenv("TF_WORKSPACE", raising=False)
    monkeypatch.delenv("TF_ENCRYPTION", raising=False)
    work = tmp_path / "cfg"
    shutil.copytree(FIXTURE, work)
    code, text = _run("apply", "-auto-approve", str(work))
    assert code == 0, text
    implied = work / "vaultform.tfstate"
    lineage = json.loads(implied.read_bytes())["lineage"]

    main_tf = work / "main.tf"
    main_tf.write_text(main_tf.read_text().replace("terraform {\n", "terraform {\n" + BLOCK, 1))
    code, text = _run("plan", str(work))
    assert code == 1 and "Backend initialization required" in text, text
    assert 'Initial configuration of the requested backend "local"' in text
    assert not (work / "states").exists()

    code, text = _run("init", "-migrate-state", "-force-copy", str(work))
    assert code == 0, text
    moved = work / "states" / "main.tfstate"
    raw = moved.read_bytes()
    assert b"in-clear-nowhere" not in raw and json.loads(raw)["lineage"] == lineage
    code, text = _run("plan", "-detailed-exitcode", str(work))
    assert code == 0 and "No changes." in text, text
