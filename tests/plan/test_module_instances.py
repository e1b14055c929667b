"""count and for_each on module blocks (and on resources a -target leaves out), case by case,
side by side with the terraform binary.

Each directory of tests/fixtures/modules_for_each/ is a configuration of terraform_data
objects in local modules and a ``case.json`` of steps. A step may first copy the ``.tf``
files of one of the case's subdirectories (``use``) into the working directory, then plans
with ``-out`` (``plan``), also applies that plan (``apply``), or expects the plan to fail
(``error``). What a step expects is written in the case: the actions planned per instance
address (``"create ADDRESS"``, ``"delete ADDRESS (reason)"``, ``"no-op NEW <- OLD"`` for a
move; no-op changes are listed only when they moved), lines of the human plan (``text``),
outputs, and dependencies recorded.

When terraform is on PATH the same steps run in a second directory with terraform, and
``show -json``'s resource_changes (address, module_address, index, actions, action_reason,
previous_address), ``plan -json``'s planned_change messages (resource and action), the
state's resources (module, type, name, index_key) and the outputs
must be the same.
"""

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

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "modules_for_each"
CASES = sorted(p.name for p in FIXTURES.iterdir() if (p / "case.json").is_file())
TERRAFORM = shutil.which("terraform")
TF_ENV = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}


def vaultform(cwd: Path, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        code = main(list(args), output=Output(out=out, err=out, no_color=True))
    finally:
        os.chdir(previous)
    return code, out.getvalue()


def terraform(cwd: Path, *args: str) -> tuple[int, str]:
    assert TERRAFORM is not None
    done = subprocess.run(
        [TERRAFORM, *args], cwd=cwd, env=TF_ENV, capture_output=True, text=True, timeout=300
    )
    return done.returncode, done.stdout + done.stderr


# --------------------------------------------------------------------------- what is compared


def change_lines(plan_json: dict) -> list[str]:
    """The planned actions as the cases write them; a no-op shows only when it moved."""
    out = []
    for rc in plan_json.get("resource_changes", []):
        actions = "-".join(rc["change"]["actions"])
        if actions == "no-op" and "previous_address" not in rc:
            continue
        line = f"{actions} {rc['address']}"
        if "action_reason" in rc:
            line += f" ({rc['action_reason']})"
        if "previous_address" in rc:
            line += f" <- {rc['previous_address']}"
        out.append(line)
    return sorted(out)


def change_identities(plan_json: dict) -> list[dict]:
    keys = ("address", "module_address", "mode", "type", "name", "index", "previous_address", "action_reason")
    return [
        {**{k: rc.get(k) for k in keys}, "actions": rc["change"]["actions"]}
        for rc in plan_json.get("resource_changes", [])
    ]


def state_identities(state: dict) -> list[tuple]:
    return sorted(
        (
            r.get("module", ""),
            r["mode"],
            r["type"],
            r["name"],
            json.dumps([i.get("index_key") for i in r["instances"]]),
        )
        for r in state["resources"]
    )


def state_addresses(state: dict) -> list[str]:
    out = []
    for r in state["resources"]:
        local = f"{r['type']}.{r['name']}" if r["mode"] == "managed" else f"data.{r['type']}.{r['name']}"
        prefix = f"{r['module']}." if r.get("module") else ""
        for inst in r["instances"]:
            key = inst.get("index_key")
            suffix = "" if key is None else f"[{json.dumps(key)}]"
            out.append(prefix + local + suffix)
    return sorted(out)


def all_dependencies(state: dict) -> dict[str, list[str]]:
    """The ``dependencies`` written for every instance, as they stand in the file (terraform
    writes resources without instance keys)."""
    out = {}
    for r in state["resources"]:
        local = f"{r['type']}.{r['name']}"
        prefix = f"{r['module']}." if r.get("module") else ""
        for inst in r["instances"]:
            key = inst.get("index_key")
            out[prefix + local + ("" if key is None else f"[{json.dumps(key)}]")] = inst.get(
                "dependencies", []
            )
    return out


def dependencies(state: dict, address: str) -> set[str]:
    """The dependencies recorded for one instance."""
    found = all_dependencies(state)
    assert address in found, f"{address} is not in state"
    return set(found[address])


# --------------------------------------------------------------------------- the runner


class Side:
    """One working directory driven by one tool."""

    def __init__(self, tool, directory: Path, state_file: str):
        self.tool, self.directory, self.state_file = tool, directory, state_file
        self.last_state: dict | None = None

    def run(self, *args: str) -> tuple[int, str]:
        return self.tool(self.directory, *args)

    def use(self, case_dir: Path, subdir: str) -> None:
        for old in self.directory.glob("*.tf"):
            old.unlink()
        for tf in (case_dir / subdir).glob("*.tf"):
            shutil.copy(tf, self.directory / tf.name)

    def plan_json(self) -> dict:
        code, text = self.run("show", "-json", "p.plan")
        assert code == 0, text
        return json.loads(text[text.index("{") :])

    def planned_changes(self, *args: str) -> list[str]:
        """The planned_change messages of ``plan -json``: resource (addr, module, resource_key...)
        and action, in a stable order."""
        code, text = self.run("plan", "-json", "-input=false", *args)
        assert code == 0, text
        found = []
        for line in text.splitlines():
            message = json.loads(line) if line.startswith("{") else {}
            if message.get("type") == "planned_change":
                change = message["change"]
                found.append(json.dumps([change["resource"], change["action"]], sort_keys=True))
        return sorted(found)

    def state(self) -> dict:
        return json.loads((self.directory / self.state_file).read_text())


def sides(case: str, tmp_path: Path) -> list[Side]:
    case_dir = FIXTURES / case
    made = [Side(vaultform, tmp_path / "vaultform", "vaultform.tfstate")]
    if TERRAFORM is not None:
        made.append(Side(terraform, tmp_path / "terraform", "terraform.tfstate"))
    for side in made:
        shutil.copytree(case_dir, side.directory, ignore=shutil.ignore_patterns("case.json"))
    return made


@pytest.mark.parametrize("case", CASES)
def test_module_instances(case, tmp_path):
    case_dir = FIXTURES / case
    steps = json.loads((case_dir / "case.json").read_text())["steps"]
    both = sides(case, tmp_path)
    for number, step in enumerate(steps, 1):
        where = f"{case} step {number}"
        results = []
        for side in both:
            if "use" in step:
                side.use(case_dir, step["use"])
            if side.tool is terraform:  # terraform installs the (local) modules the files now call
                code, text = side.run("init", "-input=false", "-no-color")
                assert code == 0, text
            code, text = side.run(
                "plan", "-input=false", "-no-color", "-out", "p.plan", *step.get("args", [])
            )
            if step["do"] == "error":
                assert code == 1, (where, text)
                assert step["error"] in text, (where, text)
                results.append(None)
                continue
            assert code == 0, (where, text)
            for line in step.get("text", []):  # the human plan, terraform's words
                assert line in text, (where, side.state_file, line, text)
            plan = side.plan_json()
            streamed = side.planned_changes(*step.get("args", []))
            assert change_lines(plan) == sorted(step["changes"]), (where, side.state_file)
            state = None
            if step["do"] == "apply":
                code, text = side.run("apply", "-input=false", "-no-color", "p.plan")
                assert code == 0, (where, text)
                state = side.state()
                # what state holds now: what it held, less what was destroyed, plus what was planned
                before = set(state_addresses(side.last_state)) if side.last_state else set()
                deleted = {
                    rc["address"] for rc in plan["resource_changes"] if rc["change"]["actions"] == ["delete"]
                }
                moved_away = {
                    rc["previous_address"] for rc in plan["resource_changes"] if "previous_address" in rc
                }
                planned = (before - deleted - moved_away) | {
                    rc["address"]
                    for rc in plan["resource_changes"]
                    if rc["change"]["actions"] != ["delete"]
                    and (rc["change"]["before"] or rc["change"]["after"])
                }
                assert state_addresses(state) == sorted(planned), where
                side.last_state = state
                outputs = {name: o["value"] for name, o in state.get("outputs", {}).items()}
                for name, value in step.get("outputs", {}).items():
                    assert outputs.get(name) == value, (where, name, outputs)
                for address, wanted in step.get("dependencies", {}).items():
                    assert set(wanted) <= dependencies(state, address), (where, address)
            results.append((plan, state, streamed))
        if len(results) == 2 and results[0] is not None and results[1] is not None:
            (ours, our_state, our_stream), (theirs, their_state, their_stream) = results
            assert our_stream == their_stream, where
            # with -target, terraform leaves what is not targeted out of resource_changes: so does vaultform
            assert change_identities(ours) == change_identities(theirs), where
            assert (ours.get("output_changes") or {}) == (theirs.get("output_changes") or {}), where
            if our_state is not None and their_state is not None:
                assert state_identities(our_state) == state_identities(their_state), where
                # terraform writes the resources depended on without instance keys, and so does
                # vaultform (which keeps the exact instances among its own facts)
                written = {d for ds in all_dependencies(our_state).values() for d in ds}
                assert not any("[" in d for d in written), (where, written)
                assert our_state["outputs"] == their_state["outputs"], where


def test_every_case_has_steps_with_expectations():
    assert CASES, "no cases found"
    for case in CASES:
        steps = json.loads((FIXTURES / case / "case.json").read_text())["steps"]
        assert steps and all("changes" in s or s["do"] == "error" for s in steps), case
