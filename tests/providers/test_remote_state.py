"""terraform_remote_state over local state files: vaultform's and the terraform binary's, a
workspace, defaults for what the state lacks, and a clear error for a backend vaultform lacks."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output

FIXTURES = Path(__file__).parents[1] / "fixtures" / "remote_state"


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue(), err.getvalue()


def _outputs(consumer: Path) -> dict:
    code, out, err = _run("output", "-json", f"-state={consumer / 'vaultform.tfstate'}")
    assert code == 0, err
    return {name: doc["value"] for name, doc in json.loads(out).items()}


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    monkeypatch.delenv("TF_WORKSPACE", raising=False)
    shutil.copytree(FIXTURES, tmp_path / "w")
    monkeypatch.chdir(tmp_path / "w")
    return tmp_path / "w"


def _consume(dirs: Path, *variables: str) -> tuple[int, str, str]:
    flags = [f"-var={v}" for v in variables]
    return _run("apply", "-auto-approve", "-no-color", *flags, str(dirs / "consumer"))


def test_reads_outputs_of_a_local_state_with_defaults(dirs):
    # nothing stored yet: an error, as terraform's (the defaults don't stand in for a state)
    code, out, err = _consume(dirs, "backend=local", 'config={path="producer/vaultform.tfstate"}')
    assert code == 1
    assert "Unable to find remote state: No stored state was found for the given workspace" in out + err
    assert _run("apply", "-auto-approve", "-no-color", str(dirs / "producer"))[0] == 0
    code, out, err = _consume(dirs, "backend=local", 'config={path="producer/vaultform.tfstate"}')
    assert code == 0, err
    assert _outputs(dirs / "consumer") == {"vault_name": "vault-default", "tier": "standard"}


def test_reads_a_workspace_of_a_local_state(dirs, monkeypatch):
    monkeypatch.chdir(dirs / "producer")
    assert _run("workspace", "new", "staging")[0] == 0
    assert _run("apply", "-auto-approve", "-no-color")[0] == 0
    monkeypatch.chdir(dirs)
    config = 'config={workspace_dir="producer/vaultform.tfstate.d"}'
    code, out, err = _consume(dirs, "backend=local", config, "workspace=staging")
    assert code == 0, err
    assert _outputs(dirs / "consumer")["vault_name"] == "vault-staging"


@pytest.mark.skipif(shutil.which("terraform") is None, reason="install terraform (1.11) to read its state")
def test_reads_a_state_the_terraform_binary_wrote(dirs):
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    for args in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        done = subprocess.run(
            ["terraform", *args], cwd=dirs / "producer", env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
    code, out, err = _consume(dirs, "backend=local", 'config={path="producer/terraform.tfstate"}')
    assert code == 0, err
    assert _outputs(dirs / "consumer") == {"vault_name": "vault-default", "tier": "standard"}


def test_a_backend_vaultform_lacks_is_a_clear_error(dirs):
    code, out, err = _consume(dirs, "backend=s3", 'config={bucket="b"}')
    assert code == 1
    assert 'Invalid backend configuration: There is no backend type named "s3".' in out + err
    assert "Traceback" not in out + err
