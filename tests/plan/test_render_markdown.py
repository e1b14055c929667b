"""The pull-request comment: summary tables, refusals, diff blocks; expected.md per fixture case."""

from __future__ import annotations

import re

import pytest
from test_render_text import CASES, FIXTURES, check_golden, load_plan, schema_of

from reconciler.plan.render_markdown import render_markdown, to_diff, verdict

MARKDOWN_CASES = [c for c in CASES if (FIXTURES / c / "expected.md").exists()]


def markdown(case: str) -> str:
    return render_markdown(load_plan(case), schema_of=schema_of)


def summary_table(text: str) -> dict[str, int]:
    rows = re.findall(r"^\| (import|add|change|destroy|replace|read) \| (\d+) \|$", text, re.MULTILINE)
    return {name: int(n) for name, n in rows}


@pytest.mark.parametrize("case", MARKDOWN_CASES)
def test_markdown_matches_expected(case):
    check_golden(FIXTURES / case / "expected.md", markdown(case))


@pytest.mark.parametrize(
    "case, expected",
    [
        ("create_cmk_vault", {"add": 4, "change": 0, "destroy": 0, "replace": 0, "read": 1}),
        ("update_in_place", {"add": 0, "change": 2, "destroy": 0, "replace": 0, "read": 0}),
        ("replace_and_destroy", {"add": 4, "change": 0, "destroy": 7, "replace": 4, "read": 0}),
        ("refused", {"add": 0, "change": 2, "destroy": 0, "replace": 0, "read": 0}),
        ("imports", {"import": 2, "add": 0, "change": 1, "destroy": 0, "replace": 0, "read": 0}),
    ],
)
def test_summary_table_counts(case, expected):
    text = markdown(case)
    assert "| Action | Count |" in text
    assert summary_table(text) == expected


def test_per_type_table():
    text = markdown("replace_and_destroy")
    assert "| `azurerm_role_assignment` | 1 | 0 | 3 | 1 | 0 |" in text
    assert "| `azurerm_resource_group` | 0 | 0 | 1 | 0 | 0 |" in text


@pytest.mark.parametrize(
    "case, word",
    [
        ("refused", "refused"),
        ("create_cmk_vault", "changes"),
        ("no_changes", "no changes"),
        ("outputs_only", "changes"),
    ],
)
def test_verdict_in_title(case, word):
    plan = load_plan(case)
    assert verdict(plan) == word
    title = markdown(case).splitlines()[0]
    assert title.startswith("## vaultform plan: ") and plan.cloud in title


def test_refusals_listed_with_what_to_do():
    text = markdown("refused")
    assert text.index("### Refused") < text.index("| Action | Count |")
    assert (
        "| R1 | `azurerm_recovery_services_vault.vault` | Refused: encryption can't be removed | "
        "A vault encrypted with a customer-managed key can't go back to platform-managed keys;<br>"
        "change the key instead of removing the encryption block. |"
    ) in text
    assert "- **R7** warning (`azurerm_role_assignment.officer`)" in text


def test_each_change_in_a_collapsible_diff():
    text = markdown("update_in_place")
    assert text.count("<details>") == 3  # two resources and the outputs
    assert "```diff\n  # azurerm_key_vault.kv will be updated in-place\n!   resource" in text
    assert '\n+               "10.0.0.9",\n' in text
    assert '\n-               "10.0.0.2",\n' in text


def test_to_diff_moves_symbols_to_the_first_column():
    assert to_diff('-/+ resource "a" "b" {\n      ~ x = 1 -> 2\n        y = 3') == (
        '!   resource "a" "b" {\n!       x = 1 -> 2\n        y = 3'
    )


def test_no_secret_in_markdown():
    assert "do-not-print" not in markdown("sensitive_values")


def test_fence_outgrows_backticks_in_values():
    plan = load_plan("outputs_only")
    plan.outputs[1] = type(plan.outputs[1])("removed", plan.outputs[1].action, "a ```b``` c", None)
    text = render_markdown(plan, schema_of=schema_of)
    assert "````diff\n" in text and '-   removed = "a ```b``` c" -> null\n' in text


def test_forgotten_objects_counted_apart():
    """Objects a removed block lets go of are neither added, changed nor destroyed: the tables say
    so in a row and a column of their own, and the comment still calls the plan a change."""
    from reconciler.addresses import Mode
    from reconciler.plan.model import Action, Plan, Reason, ResourceChange

    before = {"id": "abc", "input": "x", "output": "x", "triggers_replace": None}
    gone = ResourceChange(
        address="terraform_data.a",
        mode=Mode.MANAGED,
        type="terraform_data",
        name="a",
        index=None,
        module="",
        provider="terraform",
        action=Action.FORGET,
        before=before,
        after=None,
        reason=Reason.DELETE_BECAUSE_NO_RESOURCE_CONFIG,
    )
    text = render_markdown(Plan(changes=[gone]), schema_of=schema_of)
    assert text.startswith("## vaultform plan: changes to apply")
    assert "| forget | 1 |" in text
    assert "| `terraform_data` | 0 | 0 | 0 | 0 | 0 | 1 |" in text
    assert "will no longer be managed by vaultform, but will not be destroyed" in text
