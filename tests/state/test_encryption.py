"""State encryption with OpenTofu's ``encryption`` block: pbkdf2 + aes_gcm on the local backend,
OpenTofu's envelope, migration from unencrypted state, a changed passphrase through fallback,
enforced, and every configuration error at its file and line (fixtures: tests/fixtures/encryption)."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output

FIXTURES = Path(__file__).parents[1] / "fixtures" / "encryption"
SECRET = b"hunter2-attribute-value"
PASSPHRASE = "correct horse battery staple"


def run(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue() + err.getvalue()


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.delenv("TF_ENCRYPTION", raising=False)
    monkeypatch.setenv("TF_VAR_passphrase", PASSPHRASE)
    return tmp_path / "cfg"


def copy(name: str, into: Path) -> Path:
    shutil.copytree(FIXTURES / name, into, dirs_exist_ok=True)
    return into


def apply(directory: Path) -> str:
    code, text = run("apply", "-auto-approve", "-no-color", str(directory))
    assert code == 0, text
    return text


def test_state_file_holds_no_attribute_value_and_is_opentofus_envelope(work):
    copy("pbkdf2", work)
    apply(work)
    raw = (work / "vaultform.tfstate").read_bytes()
    assert SECRET not in raw
    doc = json.loads(raw)
    assert list(doc) == ["serial", "lineage", "meta", "encrypted_data", "encryption_version"]
    assert doc["encryption_version"] == "v0" and doc["serial"] == 1
    meta = json.loads(base64.b64decode(doc["meta"]["key_provider.pbkdf2.mine"]))
    assert meta["iterations"] == 200000 and meta["hash_function"] == "sha512" and meta["key_length"] == 32
    assert len(base64.b64decode(meta["salt"])) == 32
    code, text = run("plan", "-detailed-exitcode", "-no-color", str(work))
    assert code == 0, text
    code, text = run("-chdir=" + str(work), "state", "show", "terraform_data.secret")
    assert code == 0 and "hunter2-attribute-value" in text, text


def test_wrong_passphrase_fails_naming_the_block_and_leaves_the_state(work, monkeypatch):
    copy("pbkdf2", work)
    apply(work)
    before = (work / "vaultform.tfstate").read_bytes()
    monkeypatch.setenv("TF_VAR_passphrase", "not the passphrase it was written with")
    for command in (["plan"], ["apply", "-auto-approve"], ["destroy", "-auto-approve"]):
        code, text = run(*command, "-no-color", str(work))
        assert code == 1, text
        assert "cannot decrypt the state: key_provider" not in text  # the method leads, not the provider
        assert "cannot decrypt the state: method.aes_gcm.mine" in text, text
        assert re.search(r"key_provider\.pbkdf2\.mine \(.*main\.tf:9\) does not open it", text), text
        assert re.search(r"the state block at .*main\.tf:16", text), text
        assert "Traceback" not in text
    assert (work / "vaultform.tfstate").read_bytes() == before


def test_missing_encryption_says_the_state_is_encrypted(work):
    copy("pbkdf2", work)
    apply(work)
    (work / "main.tf").write_text((FIXTURES / "plain" / "main.tf").read_text())
    before = (work / "vaultform.tfstate").read_bytes()
    code, text = run("plan", "-no-color", str(work))
    assert code == 1 and "the state is encrypted, and this configuration sets up no state encryption" in text
    assert (work / "vaultform.tfstate").read_bytes() == before


def test_migrate_unencrypted_state_with_an_unencrypted_fallback(work):
    copy("plain", work)
    apply(work)
    assert SECRET in (work / "vaultform.tfstate").read_bytes()
    copy("migrate", work)
    text = apply(work)  # nothing to change: the state is stored again, encrypted
    assert "Unencrypted method configured" in text
    raw = (work / "vaultform.tfstate").read_bytes()
    assert SECRET not in raw and json.loads(raw)["encryption_version"] == "v0"
    code, text = run("plan", "-detailed-exitcode", "-no-color", str(work))
    assert code == 0, text


def test_enforced_refuses_an_unencrypted_state(work):
    copy("plain", work)
    apply(work)
    before = (work / "vaultform.tfstate").read_bytes()
    copy("enforced", work)
    code, text = run("apply", "-auto-approve", "-no-color", str(work))
    assert code == 1
    assert "the state is not encrypted" in text and "enforced = true" in text, text
    assert (work / "vaultform.tfstate").read_bytes() == before


def test_unencrypted_state_without_fallback_explains_the_migration(work):
    copy("plain", work)
    apply(work)
    (work / "encryption.tf").write_text(
        (FIXTURES / "enforced" / "encryption.tf").read_text().replace("enforced = true", "")
    )
    code, text = run("plan", "-no-color", str(work))
    assert code == 1 and "fallback { method = method.unencrypted.migrate }" in text, text


def test_new_passphrase_reads_through_the_fallback_and_rewrites(work):
    copy("plain", work)
    apply(work)
    copy("migrate", work)
    apply(work)
    (work / "encryption.tf").unlink()
    copy("rotate", work)
    apply(work)  # read with the old passphrase (fallback), stored with the new one
    doc = json.loads((work / "vaultform.tfstate").read_bytes())
    assert list(doc["meta"]) == ["key_provider.pbkdf2.new"]
    text = (work / "main.tf").read_text()
    without_fallback = re.sub(r"\n      fallback \{.*?\n      \}", "", text, flags=re.S)
    assert without_fallback != text
    (work / "main.tf").write_text(without_fallback)
    code, text = run("plan", "-detailed-exitcode", "-no-color", str(work))
    assert code == 0, text


def test_tf_encryption_overrides_the_passphrase(work, monkeypatch):
    copy("pbkdf2", work)
    monkeypatch.setenv(
        "TF_ENCRYPTION", 'key_provider "pbkdf2" "mine" {\n  passphrase = "from the environment, long"\n}\n'
    )
    apply(work)
    monkeypatch.delenv("TF_ENCRYPTION")
    code, text = run("plan", "-no-color", str(work))
    assert code == 1 and "cannot decrypt the state" in text, text
    monkeypatch.setenv(
        "TF_ENCRYPTION", 'key_provider "pbkdf2" "mine" { passphrase = "from the environment, long" }'
    )
    code, text = run("plan", "-detailed-exitcode", "-no-color", str(work))
    assert code == 0, text


def _error_cases() -> list[Path]:
    return sorted((FIXTURES / "errors").iterdir())


@pytest.mark.parametrize("case", _error_cases(), ids=lambda p: p.name)
def test_configuration_errors_are_diagnostics_at_their_line(case, tmp_path):
    work = copy(f"errors/{case.name}", tmp_path / "cfg")
    expected = []
    for number, line in enumerate((work / "main.tf").read_text().splitlines(), start=1):
        if "# ERROR:" in line:
            expected.append((number, line.split("# ERROR:", 1)[1].strip()))
    assert expected
    code, text = run("plan", "-no-color", str(work))
    assert code == 1, text
    assert "Traceback" not in text
    for number, summary in expected:
        assert f"Error: {summary}" in text, text
        assert f"main.tf line {number}:" in text, text
    assert not (work / "vaultform.tfstate").exists()


def test_saved_plan_is_encrypted_and_applies(work, monkeypatch):
    copy("pbkdf2", work)
    planfile = work / "changes.plan"
    code, text = run("-chdir=" + str(work), "plan", "-out=changes.plan", "-no-color")
    assert code == 0, text
    raw = planfile.read_bytes()
    assert SECRET not in raw and b"terraform_data" not in raw
    doc = json.loads(raw)
    assert list(doc) == ["meta", "encrypted_data", "encryption_version"]
    code, text = run("-chdir=" + str(work), "show", "-no-color", "changes.plan")
    assert code == 0 and "hunter2-attribute-value" in text, text
    monkeypatch.setenv("TF_VAR_passphrase", "not the passphrase it was saved with")
    code, text = run("-chdir=" + str(work), "apply", "-no-color", "changes.plan")
    assert code == 1 and "cannot decrypt the plan: method.aes_gcm.mine" in text, text
    assert "Traceback" not in text and not (work / "vaultform.tfstate").exists()
    monkeypatch.setenv("TF_VAR_passphrase", PASSPHRASE)
    code, text = run("-chdir=" + str(work), "apply", "-no-color", "changes.plan")
    assert code == 0, text
    assert SECRET not in (work / "vaultform.tfstate").read_bytes()
    code, text = run("plan", "-detailed-exitcode", "-no-color", str(work))
    assert code == 0, text
