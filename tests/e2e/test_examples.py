"""Every runnable example applies on the local Azure and then plans no changes; the quick start's
README flow (apply, back the VM up, plan) works as written; and a plan against an unchanged estate
makes no write call to the cloud.
"""

from __future__ import annotations

import pytest

from providers.azurelocal.app import Emulator
from tests.e2e.harness import EXAMPLES, Workspace

APPLIED_EXAMPLES = (
    "quickstart",
    "user-assigned-identity",
    "key-rotation",
    "restore-with-des",
    "multi-estate",
)
WRITE_METHODS = frozenset({"PUT", "PATCH", "DELETE", "POST"})


def test_every_example_has_a_readme_that_says_what_it_shows():
    for example in sorted(p for p in EXAMPLES.iterdir() if p.is_dir()):
        readme = example / "README.md"
        assert readme.is_file(), f"{example.name} has no README.md"
        lines = readme.read_text().splitlines()
        first = lines[0].strip() if lines else ""
        assert len(first.split()) >= 5 and not first.startswith("#"), (
            f"{example.name}/README.md must open with a sentence saying what it shows, not {first!r}"
        )


@pytest.mark.parametrize("example", APPLIED_EXAMPLES)
def test_example_applies_and_then_plans_no_changes(example, tmp_path):
    ws = Workspace(tmp_path, EXAMPLES / example)
    applied = ws.ok("apply", "-auto-approve")
    assert "Apply complete!" in applied.out
    assert ws.state_addresses(), "apply recorded nothing in state"
    again = ws.ok("plan", "-detailed-exitcode")
    assert "No changes." in again.out


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory) -> Workspace:
    ws = Workspace(tmp_path_factory.mktemp("quickstart"), EXAMPLES / "quickstart")
    ws.ok("apply", "-auto-approve")
    return ws


def test_quickstart_readme_flow(quickstart):
    """apply (the fixture), `vaultform cloud backup rsv-vfqs -vm vm-app-01`, then a no-change plan."""
    job = quickstart.cloud_ok("backup", "rsv-vfqs", "-vm", "vm-app-01")
    assert "Completed (vm-app-01)" in job.out
    assert "data key wrapped by: https://kv-vfqs-cmk.vault.azure.net/keys/backup-cmk/" in job.out
    quickstart.ok("plan", "-detailed-exitcode")


class _Recorder:
    """Wraps the local Azure's request handler and keeps (method, host, path) of every call."""

    def __init__(self, monkeypatch) -> None:
        self.calls: list[tuple[str, str, str]] = []
        original = Emulator.handle

        def handle(emulator, request):
            self.calls.append((request.method, request.host, request.path))
            return original(emulator, request)

        monkeypatch.setattr(Emulator, "handle", handle)

    def writes(self) -> list[tuple[str, str, str]]:
        return [c for c in self.calls if c[0] in WRITE_METHODS]


def test_plan_against_an_unchanged_estate_makes_no_write_call(quickstart, monkeypatch):
    before = quickstart.snapshot()
    recorder = _Recorder(monkeypatch)
    plan = quickstart.ok("plan", "-detailed-exitcode")
    assert "No changes." in plan.out
    assert recorder.calls, "the plan did not read the cloud at all (the recorder saw nothing)"
    assert recorder.writes() == [], f"plan wrote to the cloud: {recorder.writes()}"
    after = quickstart.snapshot()
    assert after.activity == before.activity
    assert after.state == before.state


def test_quickstart_destroy_after_a_backup_warns_and_removes_everything(tmp_path):
    ws = Workspace(tmp_path, EXAMPLES / "quickstart")
    ws.ok("apply", "-auto-approve")
    ws.cloud_ok("backup", "rsv-vfqs", "-vm", "vm-app-01")
    # with the vault's soft delete on, the VM's backup would stay soft-deleted and keep the vault:
    # the plan says so, with the ways out, before anything is deleted
    refused = ws.ok("destroy", "-auto-approve", code=1)
    assert "[R15]" in refused.text and "soft_delete_enabled = false" in refused.text
    assert "rsv-vfqs" in ws.names("rsvault")
    main_tf = ws.dir / "main.tf"
    main_tf.write_text(
        main_tf.read_text().replace("soft_delete_enabled = true", "soft_delete_enabled = false")
    )
    ws.ok("apply", "-auto-approve")
    gone = ws.ok("destroy", "-auto-approve")
    # soft delete off: the vault's backups go with it, so nothing is left that needs its key
    assert "[R11]" not in gone.text
    assert "Destroy complete! Resources: 8 destroyed." in gone.out
    assert gone.position("azurerm_recovery_services_vault.vault") < gone.position(
        "azurerm_key_vault_key.backup"
    ), "the key went before the vault that encrypts with it"
    assert ws.state_addresses() == set()
    assert "rsv-vfqs" not in ws.names("rsvault") and "kv-vfqs-cmk" not in ws.names("keyvault")
    ws.ok("plan", "-destroy", "-detailed-exitcode")
