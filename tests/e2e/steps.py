"""The step language of the CLI fixtures under tests/fixtures/plan_rules/<case>/steps.txt.

One step per line; ``#`` starts a comment line. Commands are written as a user types them, without
the leading ``vaultform``; the configuration directory is filled in for plan, apply, destroy and
validate.

    apply -auto-approve                 => 0
    plan -detailed-exitcode             => 0
    cloud backup rsv-vfrule -vm vm-app-01 => 0 Completed
    use step2                           (copy the fixture's step2/*.tf over the configuration and
                                         delete the files step2/REMOVE names)
    refuse -var step=2                  => R1 | can't go back | vault.tf line 4
    order A < B < C                     (in the last apply: A finished before B, B before C;
                                         "addr#encryption" is the key assignment step)
    activity X < Y                      (in the local Azure's activity log: the first entry
                                         containing X came before the first containing Y)
    xfail: why                          (the case documents a known engine bug: it must fail)

``=> EXIT TEXT | TEXT``: the exit code, then texts that must all appear in the output (``!TEXT``:
must not appear).
``refuse ARGS => CODES | TEXT...``: ``plan ARGS`` must exit 1 showing exactly the error codes
CODES (space-separated) and the texts; then ``apply -auto-approve ARGS`` must exit 1 too; and
neither may change the state file (bytes), the activity log or the inventory of the local Azure.
"""

from __future__ import annotations

import enum
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.harness import Run, Workspace

CONFIG_COMMANDS = ("plan", "apply", "destroy", "validate")
DIRECTORY_COMMANDS = (
    "state",
    "taint",
    "untaint",
    "drift",
    "graph",
)  # run in the configuration's directory (-chdir), where its state is
ERROR_CODE = re.compile(r"^Error: .*\[(?P<code>[\w/]+)\]\s*$", re.MULTILINE)


class Kind(enum.Enum):
    RUN = "run"
    USE = "use"
    REFUSE = "refuse"
    ORDER = "order"
    ACTIVITY = "activity"
    XFAIL = "xfail"


@dataclass(frozen=True)
class Step:
    kind: Kind
    words: tuple[str, ...]
    exit_code: int | None
    codes: tuple[str, ...]
    texts: tuple[str, ...]
    where: str


def _expectation(kind: Kind, text: str) -> tuple[int | None, tuple[str, ...], tuple[str, ...]]:
    pieces = [p.strip() for p in text.split("|")]
    head, texts = pieces[0], tuple(p for p in pieces[1:] if p)
    if kind is Kind.REFUSE:
        return 1, tuple(head.split()), texts
    code, _, first = head.partition(" ")
    return int(code), (), ((first.strip(),) if first.strip() else ()) + texts


def parse_steps(path: Path) -> list[Step]:
    steps = []
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path.parent.name}/{path.name}:{number}: {line}"
        if line.startswith("xfail:"):
            steps.append(Step(Kind.XFAIL, (line.split(":", 1)[1].strip(),), None, (), (), where))
            continue
        command, arrow, expected = line.partition("=>")
        words = tuple(shlex.split(command))
        kind = {"use": Kind.USE, "refuse": Kind.REFUSE, "order": Kind.ORDER, "activity": Kind.ACTIVITY}.get(
            words[0], Kind.RUN
        )
        if kind is Kind.RUN and not arrow:
            raise ValueError(f"{where}: a command needs '=> EXIT'")
        exit_code, codes, texts = _expectation(kind, expected) if arrow else (None, (), ())
        steps.append(Step(kind, words if kind is Kind.RUN else words[1:], exit_code, codes, texts, where))
    return steps


def xfail_reason(steps: list[Step]) -> str | None:
    return next((s.words[0] for s in steps if s.kind is Kind.XFAIL), None)


def error_codes(text: str) -> set[str]:
    return {m.group("code") for m in ERROR_CODE.finditer(text)}


class Runner:
    """Plays a fixture's steps in a workspace."""

    def __init__(self, workspace: Workspace, case: Path) -> None:
        self.ws = workspace
        self.case = case
        self.last_apply: Run | None = None

    def play(self, steps: list[Step]) -> None:
        for step in steps:
            getattr(self, f"_{step.kind.value}")(step)

    # ------------------------------------------------------------------ steps

    def _xfail(self, step: Step) -> None:
        pass

    def _use(self, step: Step) -> None:
        source = self.case / step.words[0]
        assert source.is_dir(), f"{step.where}: no directory {source}"
        for tf in source.glob("*.tf"):
            shutil.copy(tf, self.ws.dir / tf.name)
        for gone in (source / "REMOVE").read_text().split() if (source / "REMOVE").exists() else ():
            (self.ws.dir / gone).unlink()

    def _command(self, words: tuple[str, ...]) -> Run:
        if words[0] in CONFIG_COMMANDS:
            return self.ws.vf(words[0], *words[1:])
        if words[0] in DIRECTORY_COMMANDS:
            return self.ws.run(f"-chdir={self.ws.dir}", *words)
        return self.ws.run(*words)

    def _run(self, step: Step) -> None:
        result = self._command(step.words)
        if step.words[0] == "apply":
            self.last_apply = result
        self._check(step, result, step.exit_code)

    def _check(self, step: Step, result: Run, code: int | None) -> None:
        context = f"{step.where}\n{result.explain()}"
        assert result.code == code, context
        for text in step.texts:
            if text.startswith("!"):
                assert text[1:] not in result.text, f"unexpected {text[1:]!r}\n{context}"
            else:
                assert text in result.text, f"missing {text!r}\n{context}"
        assert "Traceback" not in result.text and "internal error" not in result.text, context

    def _refuse(self, step: Step) -> None:
        before = self.ws.snapshot()
        plan = self.ws.vf("plan", *step.words)
        self._check(step, plan, 1)
        assert error_codes(plan.text) == set(step.codes), (
            f"{step.where}\nerror codes {sorted(error_codes(plan.text))}, expected {list(step.codes)}\n{plan.explain()}"
        )
        assert "nothing will be applied" in plan.text.lower(), f"{step.where}\n{plan.explain()}"
        assert self.ws.snapshot() == before, f"{step.where}: the refused plan changed state or cloud"
        apply = self.ws.vf("apply", "-auto-approve", *step.words)
        assert apply.code == 1, f"{step.where}\n{apply.explain()}"
        assert error_codes(apply.text) == set(step.codes), f"{step.where}\n{apply.explain()}"
        after = self.ws.snapshot()
        assert after.state == before.state, f"{step.where}: the refused apply rewrote the state file"
        assert after.activity == before.activity, (
            f"{step.where}: the refused apply wrote to the cloud: {after.activity[len(before.activity) :]}"
        )
        assert after.inventory == before.inventory, f"{step.where}: the refused apply changed the cloud"

    def _order(self, step: Step) -> None:
        assert self.last_apply is not None, f"{step.where}: no apply ran before"
        names = [w for w in step.words if w != "<"]
        positions = []
        for name in names:
            address, _, phase = name.partition("#")
            what = "Key assignment" if phase == "encryption" else None
            positions.append(self.last_apply.position(address, what))
        assert positions == sorted(positions) and len(set(positions)) == len(positions), (
            f"{step.where}: finished in the order {self.last_apply.completed()}"
        )

    def _activity(self, step: Step) -> None:
        rows = [f"{r['operation']} {r['resource_id']}" for r in self.ws.activity()]
        names = [w for w in step.words if w != "<"]
        positions = []
        for name in names:
            found = next((i for i, row in enumerate(rows) if name in row), None)
            assert found is not None, f"{step.where}: no activity entry contains {name!r}:\n" + "\n".join(
                rows
            )
            positions.append(found)
        assert positions == sorted(positions) and len(set(positions)) == len(positions), (
            f"{step.where}: activity order is\n" + "\n".join(rows)
        )
