"""`output` and `show -json` side by side with terraform 1.11, byte for byte: the same text, the same
JSON (compact where terraform's json.Marshal writes it, Go's escapes), and no null output."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output

FIXTURE = Path(__file__).parents[1] / "fixtures" / "output_parity"

pytestmark = pytest.mark.skipif(
    shutil.which("terraform") is None, reason="install terraform to compare with it"
)

READS = [
    ("output", "-no-color"),
    ("output", "-json"),
    ("output", "-json", "str"),
    ("output", "-json", "obj"),
    ("output", "-json", "big"),
    ("output", "-raw", "str"),
    ("output", "-raw", "fraction"),
    ("output", "str"),
    ("output", "secret"),
    ("show", "-json"),
]
_VERSION = re.compile(r'"terraform_version":"[^"]*"')
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _comparable(text: str) -> str:
    """Without the version and terraform_data's random ids; and where terraform's show -json prints a
    sensitive output's value, vaultform's prints null (it never writes a secret to a terminal)."""
    text = _ID.sub("<id>", _VERSION.sub("", text))
    return text.replace('"sensitive":true,"value":"s3cr3t"', '"sensitive":true,"value":null')


@pytest.fixture(scope="module")
def applied(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("outputs")
    theirs, ours = base / "tf", base / "vf"
    shutil.copytree(FIXTURE, theirs)
    shutil.copytree(FIXTURE, ours)
    assert _terraform(theirs, "init").returncode == 0
    assert _terraform(theirs, "apply", "-auto-approve").returncode == 0
    code, out, err = _vaultform(
        ours, "apply", "-auto-approve", env={"VAULTFORM_LOCAL_AZURE": str(base / "az.db")}
    )
    assert code == 0, out + err
    return theirs, ours


def _terraform(directory: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    return subprocess.run(["terraform", *argv], cwd=directory, env=env, capture_output=True, text=True)


def _vaultform(directory: Path, *argv: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    saved = {k: os.environ.get(k) for k in env or {}}
    os.environ.update(env or {})
    try:
        code = main(["-chdir=" + str(directory), *argv], output=Output(out=out, err=err, no_color=True))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("argv", READS, ids=[" ".join(a) for a in READS])
def test_outputs_read_as_terraforms(applied, argv):
    theirs, ours = applied
    read_t = _terraform(theirs, *argv)
    code, out, err = _vaultform(ours, *argv)
    assert (code, read_t.returncode) == (0, 0), err + read_t.stderr
    assert _comparable(out) == _comparable(read_t.stdout)


def test_a_null_output_is_not_kept(applied):
    theirs, ours = applied
    assert _terraform(theirs, "output", "nothing").returncode == 1
    code, _, err = _vaultform(ours, "output", "nothing")
    assert code == 1 and 'Output "nothing"' in err
