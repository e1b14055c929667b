"""`vaultform validate` checks the encryption block as plan and apply do when they set it up, with
TF_ENCRYPTION merged in; values from variables are unknown to validate and checked at plan."""

from __future__ import annotations

import io
from pathlib import Path

from reconciler.cli.main import main
from reconciler.cli.output import Output

FIXTURES = Path(__file__).parent.parent / "fixtures"


def _run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), output=Output(out=out, err=out, no_color=True))
    return code, out.getvalue()


def _config(tmp_path: Path, encryption: str) -> Path:
    (tmp_path / "main.tf").write_text(
        'variable "passphrase" {\n  type = string\n}\n\n'
        f"terraform {{\n  encryption {{\n{encryption}  }}\n}}\n\n"
        'resource "terraform_data" "x" {\n  input = "x"\n}\n'
    )
    return tmp_path


def test_the_environments_blocks_are_checked_where_they_are_written(tmp_path, monkeypatch):
    work = _config(
        tmp_path,
        '    method "aes_gcm" "mine" {\n      keys = key_provider.pbkdf2.mine\n    }\n'
        "    state {\n      method = method.aes_gcm.mine\n    }\n",
    )
    monkeypatch.setenv("TF_ENCRYPTION", 'key_provider "pbkdf2" "mine" {\n  passphrase = "short"\n}\n')
    code, out = _run("validate", "-no-color", str(work))
    assert code == 1, out
    assert 'key_provider "pbkdf2" "mine": passphrase is too short' in out
    assert "on TF_ENCRYPTION line 2" in out and "Traceback" not in out
    monkeypatch.setenv("TF_ENCRYPTION", 'key_provider "pbkdf2" "mine" {\n  passphrase = var.passphrase\n}\n')
    code, out = _run("validate", "-no-color", str(work))
    assert code == 0, out


def test_a_passphrase_from_a_variable_is_checked_when_plan_knows_it(tmp_path, monkeypatch):
    monkeypatch.delenv("TF_ENCRYPTION", raising=False)
    monkeypatch.chdir(tmp_path)
    work = _config(
        tmp_path,
        '    key_provider "pbkdf2" "mine" {\n      passphrase = var.passphrase\n    }\n'
        '    method "aes_gcm" "mine" {\n      keys = key_provider.pbkdf2.mine\n    }\n'
        "    state {\n      method = method.aes_gcm.mine\n    }\n",
    )
    code, out = _run("validate", "-no-color", str(work))
    assert code == 0, out
    code, out = _run("plan", "-no-color", "-var", "passphrase=short")
    assert code == 1 and 'key_provider "pbkdf2" "mine": passphrase is too short' in out, out
    assert "on main.tf line 8" in out


def test_plan_stops_at_the_errors_validate_reports(tmp_path, monkeypatch):
    monkeypatch.delenv("TF_ENCRYPTION", raising=False)
    case = FIXTURES / "validate" / "encryption-methods"
    code, validated = _run("validate", "-no-color", str(case))
    assert code == 1
    monkeypatch.chdir(case)
    code, planned = _run("plan", "-no-color", "-lock=false", f"-state={tmp_path / 'x.tfstate'}")
    assert code == 1
    for summary in ("Reference to undeclared key provider", 'Unknown encryption method type "rot13"'):
        assert summary in validated and summary in planned, planned
