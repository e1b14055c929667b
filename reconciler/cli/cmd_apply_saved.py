"""`vaultform apply FILE`: apply exactly the changes a saved plan holds.

A saved plan is the approval, as in Terraform: no new plan, no question. It is refused
(exit 1) when it went stale - the state is another lineage, its serial moved since the plan
(another run wrote it), the configuration's files changed, or the run targets another cloud -
because the changes were computed against a world that no longer is. The configuration is
still loaded: steps are evaluated again at apply time with the final values of what they
depend on, with the plan's own variable values.

Where it applies is decided by the directory the command runs in (or -chdir), as terraform 1.11
decides it: the configuration the plan was made from, found relative to it (``.`` unless plan
was given a DIR), with that directory's backend, selected workspace and state - or the file
apply's ``-state`` names: the ``-state`` given to plan does not choose it (terraform 1.11's
plan does not record it), and a plan made with one is refused without it, saying so. So a plan
carried to another checkout of the same configuration (a CI apply job on another runner or path)
applies to that checkout's state, and the staleness checks hold it against that state.
"""

from __future__ import annotations

import os
from pathlib import Path

from reconciler import backend_select
from reconciler import session as steps
from reconciler.cli.applying import apply_and_render, outputs_and_render
from reconciler.cli.cmd_plan import read_wait_reporter
from reconciler.cli.common import state_lock
from reconciler.cli.output import Output
from reconciler.cli.state_files import configured_encryption_of
from reconciler.config.variables import ValueSource
from reconciler.diagnostics import DiagnosticsError, error
from reconciler.encryption_config import configured_encryption
from reconciler.moves import apply_moves
from reconciler.plan.planfile import SavedPlan, config_fingerprint, read_saved_plan, stale_reasons
from reconciler.validate import validate_directory
from state.model import State


def _refuse_flags(args) -> None:
    given = [
        name
        for name, value in (
            ("-var", [f for f in args.variable_flags if f.source is ValueSource.CLI]),
            ("-var-file", [f for f in args.variable_flags if f.source is ValueSource.VAR_FILE]),
            ("-target", args.target),
            ("-replace", args.replace),
        )
        if value
    ]
    given += [name for name, on in (("-destroy", args.destroy), ("-refresh-only", args.refresh_only)) if on]
    if given:
        raise DiagnosticsError(
            error(
                "usage",
                f"{', '.join(given)} cannot be used with a saved plan",
                "A saved plan already fixes the variables, targets and mode it was made with. Give them to "
                "`vaultform plan -out FILE` instead, then apply that file.",
            )
        )


def configuration_dir(saved: SavedPlan) -> Path:
    """Where ``saved`` applies: the configuration directory it was made from, found from the
    working directory as plan found it (``.`` unless plan was given a DIR)."""
    root = saved.config_dir
    if not root.is_dir():
        raise DiagnosticsError(
            error(
                "plan_file",
                f"No directory {root} here: the saved plan was made for the configuration in {root}",
                "apply finds it from the directory it runs in, as plan did. Run apply where plan ran - "
                "the same place in this checkout - or with -chdir=DIR; or run plan again.",
            )
        )
    return root


def open_saved_session(saved: SavedPlan, root: Path, state_path: str | None) -> steps.Session:
    """The session that applies ``saved`` to the configuration in ``root``, with that
    directory's backend and selected workspace, or the state file ``state_path`` (apply's
    -state; the -state the plan was made with does not choose it)."""
    validated = validate_directory(root)
    if validated.diagnostics.errors:
        raise DiagnosticsError(validated.diagnostics.sorted())
    module = validated.module_tree.module
    block = module.terraform.backend if module.terraform else None
    encryption = configured_encryption(
        module.terraform.encryption if module.terraform else None, variables=dict(saved.plan.variables)
    ).encryption
    backend = backend_select.backend_for(
        root,
        block,
        state_path,
        encryption=encryption.state if encryption is not None else None,
    )
    state = backend.read() or State.new(lineage=saved.plan.state_lineage or None)
    sensitive = frozenset(n for n, v in validated.module_tree.module.variables.items() if v.sensitive)
    session = steps.Session(
        root, validated, dict(saved.plan.variables), sensitive, backend, state, encryption=encryption
    )
    session.providers = steps.providers_for(session)
    return session


def _refuse_other_workspace(saved: SavedPlan, root: Path, state_path: str | None) -> None:
    """A plan made in one workspace is not applied to another's state - the one selected in
    ``root``, where it is applied: Terraform's errWrongWorkspaceForPlan
    (internal/command/meta_backend_errors.go). A plan made or applied with -state names its
    state file itself, so the workspace does not choose it."""
    if state_path or saved.state_path:
        return
    current = backend_select.current_workspace(root)
    if current == saved.workspace:
        return
    raise DiagnosticsError(
        error(
            "plan_workspace",
            f'The plan file describes changes to the "{saved.workspace}" workspace, but the "{current}" '
            "workspace is currently in use.",
            "Applying this plan with the incorrect workspace selected could result in state being stored in an "
            "unexpected location, or a downstream error when vaultform attempts apply a plan using the other "
            "workspace's state. If you'd like to continue to use the plan file, you must run "
            f'"vaultform workspace select {saved.workspace}" to select the matching workspace.\n'
            "In future make sure the selected workspace is not changed between creating and applying a plan file.",
        )
    )


def run_saved(args, out: Output) -> int:
    _refuse_flags(args)
    here = configured_encryption_of(".")
    saved = read_saved_plan(args.dir, here.plan if here is not None else None)
    plan = saved.plan
    if plan.errored:
        raise DiagnosticsError(
            error(
                "plan_file",
                "The saved plan has errors and cannot be applied",
                "Fix what its errors say, then run plan -out again.",
            )
        )
    root = configuration_dir(saved)
    _refuse_other_workspace(saved, root, args.state)
    session = open_saved_session(saved, root, args.state)
    try:
        with state_lock(session, "apply", args):
            stored = session.backend.read()
            state = stored or session.state
            # the configuration's moved blocks rename in state as they did for the plan
            session.state, session.moves, _ = apply_moves(state, session.validated.tree)
            reasons = stale_reasons(
                saved,
                state=state,
                state_exists=stored is not None,
                fingerprint=config_fingerprint(session.validated.module_tree),
                cloud=session.cloud,
            )
            if reasons and saved.state_path is not None and args.state is None:
                reasons.append(
                    f"the plan was made with -state={saved.state_path}, and a saved plan does not choose "
                    f"the state file: give apply the same -state, as `vaultform apply "
                    f"-state={saved.state_path} {os.fspath(args.dir)}`"
                )
            if reasons:
                raise DiagnosticsError(
                    error(
                        "plan_stale",
                        "The saved plan is stale",
                        f"{os.fspath(args.dir)} no longer fits what it would be applied to: "
                        + "; ".join(reasons)
                        + ". Nothing was applied. Run plan again "
                        "(`vaultform plan -out FILE`) and apply the new file.",
                    )
                )
            session.read_waits = read_wait_reporter(out)
            for resolved in steps.recover_pending(session, persist=True):  # what a crashed run left
                out.print(f"Recovered {resolved.describe()}")
            refreshed = plan.refreshed or None
            if not plan.has_changes and not plan.refresh_only:
                outputs_and_render(session, plan, refreshed, saved.options, out)  # as terraform's
                return 0
            return apply_and_render(
                session, plan, refreshed, saved.options, args.parallelism, out, shown_plan=False
            )
    finally:
        session.close()
