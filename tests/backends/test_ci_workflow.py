"""The GitHub Actions workflow in examples/ci runs as written: each job on an empty "runner" (a fresh
checkout of the repository, a fresh HOME), its `run:` steps executed by bash as Actions runs them,
the state in a real Azurite and encrypted with a key in the local Azure's Key Vault.

What differs from a real run is only the sign-in and where the services are: the local Azure stands
for Azure (``VAULTFORM_CLOUD`` unset), and the state blob is reached with Azurite's account key
(``ARM_ACCESS_KEY``, ``ARM_BLOB_ENDPOINT``) instead of Entra ID. The repository variables of the
workflow (``${{ vars.X }}``) are filled from ``REPOSITORY_VARIABLES``; a new one fails the test until
it is given a value here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from azure.keyvault.keys import KeyClient
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

from providers.azurelocal.app import Emulator
from providers.azurelocal.credential import LocalCredential
from providers.azurelocal.services.providers import register_everything
from providers.azurelocal.store import Kind, Store
from providers.azurelocal.transport import local_transport
from tests.azurelocal.kvhelpers import make_key_vault
from tests.backends.conftest import AZURITE_KEY

ROOT = Path(__file__).parents[2]
WORKFLOW = ROOT / "examples" / "ci" / "github" / "vaultform.yml"
STATE_TF = ROOT / "examples" / "ci" / "infra" / "state.tf"
CONFIGURATION = ROOT / "examples" / "quickstart"
STATE_VAULT = "kv-pipeline-state"
CONTAINER = "tfstate"
EXPRESSION = re.compile(r"\$\{\{\s*(vars|secrets)\.(\w+)\s*\}\}")


@dataclass(frozen=True)
class Step:
    name: str
    code: int
    output: str


@pytest.fixture
def cloud(tmp_path, azurite):
    """The local Azure with the state key vault and its key, and an empty state container."""
    db = tmp_path / "local-azure.db"
    env = Emulator(db)
    env.calm_faults()
    register_everything(env)
    kw = {"transport": local_transport(env), "polling_interval": 0}
    mgmt = KeyVaultManagementClient(LocalCredential(), env.subscription_id, **kw)
    groups = ResourceManagementClient(LocalCredential(), env.subscription_id, **kw)
    make_key_vault(env, mgmt, groups, STATE_VAULT)
    keys = KeyClient(
        f"https://{STATE_VAULT}.vault.azure.net/", LocalCredential(), transport=local_transport(env)
    )
    keys.create_rsa_key("vaultform-state", size=2048)
    subscription, tenant = env.subscription_id, env.tenant_id
    env.store.close()
    container = azurite.container(CONTAINER)
    return {
        "db": db,
        "subscription": subscription,
        "tenant": tenant,
        "container": container,
        "endpoint": azurite.endpoint,
    }


def repository(tmp_path: Path, name: str) -> Path:
    """A fresh checkout: the quick start's configuration with the pipeline's state.tf beside it."""
    checkout = tmp_path / name
    infra = checkout / "infra"
    shutil.copytree(CONFIGURATION, infra, ignore=shutil.ignore_patterns("*.tfstate*", ".vaultform", "*.md"))
    shutil.copy(STATE_TF, infra / "state.tf")
    return checkout


def runner_environment(doc: dict, cloud: dict, runner: Path) -> dict[str, str]:
    variables = {
        "ARM_CLIENT_ID": "00000000-0000-0000-0000-0000000000c1",
        "ARM_TENANT_ID": cloud["tenant"],
        "ARM_SUBSCRIPTION_ID": cloud["subscription"],
        "TFSTATE_RESOURCE_GROUP": "rg-tfstate",
        "TFSTATE_STORAGE_ACCOUNT": "devstoreaccount1",
        "TFSTATE_CONTAINER": CONTAINER,
        "STATE_KEY_VAULT_URI": f"https://{STATE_VAULT}.vault.azure.net/",
        "VAULTFORM_PLAN_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARM_", "TF_", "VAULTFORM_"))}
    for key, value in doc["env"].items():
        env[key] = EXPRESSION.sub(lambda m: variables[m.group(2)], str(value))
    env.pop("VAULTFORM_CLOUD")  # the local Azure stands for Azure
    runner.mkdir(parents=True)
    env.update(
        HOME=str(runner / "home"),
        PATH=os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""),
        VAULTFORM_LOCAL_AZURE=str(cloud["db"]),
        ARM_ACCESS_KEY=AZURITE_KEY,
        ARM_BLOB_ENDPOINT=cloud["endpoint"],
        GITHUB_OUTPUT=str(runner / "output"),
        GITHUB_STEP_SUMMARY=str(runner / "summary.md"),
    )
    return env


def run_job(doc: dict, job: str, checkout: Path, env: dict[str, str]) -> list[Step]:
    """The job's `run:` steps in order, as Actions runs them (bash -eo pipefail, in the workflow's
    default working directory); stops at the first failing step unless a later one runs `if: always()`."""
    workdir = checkout / doc.get("defaults", {}).get("run", {}).get("working-directory", ".")
    steps: list[Step] = []
    failed = False
    for step in doc["jobs"][job]["steps"]:
        script = step.get("run")
        if script is None or script.strip().startswith("pip install"):
            continue  # actions (checkout, python, comments, artifacts) and installing vaultform itself
        if failed and step.get("if") != "always()":
            continue
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        output = done.stdout + done.stderr
        assert "Traceback" not in output, output
        assert "backend_not_supported" not in output, output
        steps.append(Step(step.get("name", script.split()[1]), done.returncode, output))
        failed = failed or done.returncode != 0
    return steps


def succeeded(steps: list[Step]) -> None:
    for step in steps:
        assert step.code == 0, f"step {step.name!r} exited {step.code}:\n{step.output}"


def test_the_workflow_applies_plans_and_watches_drift_from_empty_runners(tmp_path, cloud):
    doc = yaml.safe_load(WORKFLOW.read_text())

    # push to main: plan -out and apply that saved plan, on a runner that has never seen the state
    first = repository(tmp_path, "push")
    succeeded(run_job(doc, "apply", first, runner_environment(doc, cloud, tmp_path / "runner-push")))
    assert "changes to apply" in (tmp_path / "runner-push" / "summary.md").read_text()  # plan in the summary
    assert not list((first / "infra").glob("*.tfstate*")), (
        "the state must live in the backend, not the runner"
    )
    blob = cloud["container"].get_blob_client("backup-cmk.tfstate").download_blob().readall()
    stored = json.loads(blob)
    assert "encrypted_data" in stored and "resources" not in stored
    assert b"rg-vfqs-backup" not in blob and b"vfqs" not in blob  # no attribute value in clear

    # nightly, on another empty runner: no drift, the audit passes, the reports are kept
    nightly = repository(tmp_path, "nightly")
    steps = run_job(doc, "drift", nightly, runner_environment(doc, cloud, tmp_path / "runner-nightly"))
    succeeded(steps)
    assert (nightly / "infra" / "drift.json").is_file() and (nightly / "infra" / "audit.json").is_file()
    assert json.loads((nightly / "infra" / "audit.json").read_text())

    # a pull request that changes a tag: the plan job reports the change (exit code 2) and succeeds
    pull = repository(tmp_path, "pull")
    variables = pull / "infra" / "variables.tf"
    text = variables.read_text()
    assert "tags = {" in text
    variables.write_text(text.replace("tags = {", 'tags = {\n    reviewed = "yes"', 1))
    runner = tmp_path / "runner-pull"
    succeeded(run_job(doc, "plan", pull, runner_environment(doc, cloud, runner)))
    assert "exitcode=2" in (runner / "output").read_text()
    assert "reviewed" in (pull / "infra" / "plan.md").read_text()

    # someone changes the vault outside the pipeline: the nightly job fails on drift's exit code 2
    store = Store(cloud["db"])
    try:
        for body in store.list(Kind.RS_VAULT):
            body.setdefault("tags", {})["changed"] = "outside"
            store.put(Kind.RS_VAULT, body["id"], body)
    finally:
        store.close()
    later = repository(tmp_path, "later")
    steps = run_job(doc, "drift", later, runner_environment(doc, cloud, tmp_path / "runner-later"))
    drift = next(s for s in steps if s.name.startswith("Drift"))
    assert drift.code == 2, drift.output
    assert "changed" in (later / "infra" / "drift.md").read_text()
