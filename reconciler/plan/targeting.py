"""The warnings that go with -target, worded as terraform words them (context_plan.go and
context_apply.go of terraform 1.11): a plan made with it, and an apply of such a plan."""

from __future__ import annotations

from reconciler.diagnostics import Diagnostic, warning

_NOT_ROUTINE = (
    "is not for routine use, and is provided only for exceptional situations such as recovering from "
    "errors or mistakes, or when vaultform specifically suggests to use it as part of an error message."
)


def targeting_warning() -> Diagnostic:
    return warning(
        "targeting",
        "Resource targeting is in effect",
        "You are creating a plan with the -target option, which means that the result of this plan may "
        "not represent all of the changes requested by the current configuration.\n\n"
        f"The -target option {_NOT_ROUTINE}",
    )


def applied_with_targets_warning() -> Diagnostic:
    return warning(
        "targeting_applied",
        "Applied changes may be incomplete",
        "The plan was created with the -target option in effect, so some changes requested in the "
        "configuration may have been ignored and the output values may not be fully updated. Run the "
        "following command to verify that no other changes are pending:\n    vaultform plan\n\n"
        "Note that the -target option "
        + _NOT_ROUTINE.replace("is not for routine use", "is not suitable for routine use"),
    )
