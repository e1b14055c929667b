"""examples/refusals: every `vaultform ...` command of its README, in order, with the outcome the
README gives in its trailing comment (`# exit N` or `# refused: CODES`).

A refused command must show exactly those error codes, exit 1, and leave the state file (bytes), the
local Azure's activity log and its inventory as they were.
"""

from __future__ import annotations

import re
import shlex

import pytest

from tests.e2e.harness import EXAMPLES, Workspace
from tests.e2e.steps import error_codes

README = EXAMPLES / "refusals" / "README.md"
COMMAND = re.compile(
    r"^vaultform (?P<args>.+?)\s+# (?:(?:exit (?P<exit>\d+))|(?:refused: (?P<codes>[A-Za-z0-9_ ]+)))\s*$"
)


def readme_commands() -> list[tuple[list[str], int, tuple[str, ...]]]:
    found, in_block = [], False
    for line in README.read_text().splitlines():
        if line.startswith("```"):
            in_block = not in_block
            continue
        if in_block and line.startswith("vaultform "):
            m = COMMAND.match(line)
            assert m, f"README command without '# exit N' or '# refused: CODES': {line}"
            codes = tuple(m.group("codes").split()) if m.group("codes") else ()
            found.append((shlex.split(m.group("args")), 1 if codes else int(m.group("exit")), codes))
    return found


def test_readme_lists_the_refusals():
    refused = {code for _, _, codes in readme_commands() for code in codes}
    assert {"R1", "R2", "R3", "R4", "R5", "R6"} <= refused


@pytest.fixture(scope="module")
def estate(tmp_path_factory) -> Workspace:
    return Workspace(tmp_path_factory.mktemp("refusals"), EXAMPLES / "refusals")


def test_walkthrough(estate):
    for args, exit_code, codes in readme_commands():
        before = estate.snapshot() if codes else None
        if args[0] == "cloud":
            result = estate.run(*args)
        else:
            result = estate.vf(args[0], *args[1:])
        assert result.code == exit_code, result.explain()
        assert "Traceback" not in result.text, result.explain()
        if not codes:
            continue
        assert error_codes(result.text) == set(codes), (
            f"error codes {sorted(error_codes(result.text))}, README says {codes}\n{result.explain()}"
        )
        after = estate.snapshot()
        assert after.state == before.state, f"{args}: the state file changed"
        assert after.activity == before.activity, (
            f"{args}: wrote to the cloud: {after.activity[len(before.activity) :]}"
        )
        assert after.inventory == before.inventory, f"{args}: the cloud's objects changed"
