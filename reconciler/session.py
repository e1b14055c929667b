"""One command's run: configuration, variables, state, providers - then refresh, plan, apply.

The CLI commands are thin: they parse flags, call these steps in order, and render.
Every user-facing problem surfaces as a ``DiagnosticsError``.
"""

from __future__ import annotations

import itertools
import os
import random
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from providers.base import (
    Clock,
    DataRequest,
    ProviderError,
    ReadRequest,
    RetryableError,
    SupportsEmptyTarget,
    SupportsPrefetch,
    WithoutPlanRules,
)
from reconciler import backend_select
from reconciler import providers_registry as registry
from reconciler.apply.retry_policy import RetryPolicy
from reconciler.config import ast
from reconciler.config.evaluator import MapScope
from reconciler.config.expand import evaluate_body
from reconciler.config.model import Module
from reconciler.config.paths import path_object
from reconciler.config.type_exprs import parse_type
from reconciler.config.variables import MISSING_VALUE, VariableFlag, VariableSpec, resolve_variables
from reconciler.config.variables import Validation as VarValidation
from reconciler.data_not_found import not_found_detail
from reconciler.diagnostic_places import all_placed
from reconciler.diagnostics import Diagnostic, DiagnosticsError, SourceRange, error
from reconciler.encryption_config import configured_encryption
from reconciler.moves import apply_moves
from reconciler.plan.forgotten import forgotten_addresses, is_forgotten
from reconciler.plan.model import Plan
from reconciler.plan.removed_destroys import removed_destroys
from reconciler.plan.replace_unmatched import replace_without_key
from reconciler.plan.walk import PlanOptions, PlanRequest, make_plan
from reconciler.plan.whole_state_replaced import whole_state_replaced
from reconciler.refresh_scope import targeted_scope
from reconciler.validate import Validated, validate_directory
from state.addresses import Mode
from state.encryption.target import Encryption
from state.errors import StateError
from state.format import instances_without_id
from state.model import State

T = TypeVar("T")

# (address, done, id once read, seconds the read took): Terraform's "Reading..." / "Read complete" lines
DataReadReporter = Callable[[str, bool, str | None, float], None]


@dataclass
class Session:
    root: Path
    validated: Validated
    variables: dict[str, Any]
    sensitive_variables: frozenset[str]
    backend: Any  # a state.backends Backend
    state: State
    providers: dict[str, Any] = field(default_factory=dict)
    warnings: list[Diagnostic] = field(default_factory=list)
    moves: list[tuple[str, str]] = field(default_factory=list)  # done by moved blocks, not yet saved
    state_stamp: tuple | None = None  # the state file as read (see reload_state_if_changed)
    clock: Clock = field(default_factory=Clock)  # what plans are judged at; what apply waits with
    # told of each data source read while planning: (address, done, id, elapsed seconds)
    data_reads: DataReadReporter | None = None
    # told of each wait for a read Azure refuses for now (throttled, a grant on its way) - refreshing,
    # reading a data source, resolving what a crashed run left: (address, Azure's reason, seconds)
    read_waits: Callable[[str, str, float], None] | None = None
    # told of each object an import block reads while planning, as it starts and as it ends:
    # (address, the id imported, done)
    import_reads: Callable[[str, str, bool], None] | None = None
    encryption: Encryption | None = None  # the configuration's encryption block (state, plan, remote)
    # where a file (.tfvars) set a root variable: what its failed validation points at
    variable_ranges: dict[str, SourceRange] = field(default_factory=dict)

    @property
    def cloud(self) -> str:
        try:
            return registry.describe_cloud(self.providers.values()) or "no cloud (built-in resources only)"
        except ProviderError as exc:
            return f"unavailable cloud ({exc.message})"

    def close(self) -> None:
        for p in [*self.providers.values(), self.backend]:  # a pg backend holds a connection
            close = getattr(p, "close", None)
            if close:
                close()


def variable_specs(module: Module) -> dict[str, VariableSpec]:
    specs: dict[str, VariableSpec] = {}
    for name, var in module.variables.items():
        type_ = None
        if var.type_expr is not None:
            type_, _ = parse_type(var.type_expr)
        specs[name] = VariableSpec(
            name=name,
            pos=var.pos,
            type=type_,
            default=var.default_expr,
            nullable=var.nullable,
            sensitive=var.sensitive,
            description=var.description or "",
            validations=tuple(VarValidation(v.condition, v.error_message, v.pos) for v in var.validations),
        )
    return specs


def open_session(
    directory: str | os.PathLike,
    *,
    variables: Sequence[VariableFlag] = (),
    state_path: str | None = None,
    ask: Callable[[VariableSpec], str] | None = None,
    allow_empty: bool = False,
) -> Session:
    """Load, check and resolve a configuration with its state. ``ask`` (-input on a terminal)
    is asked for each required root variable that nothing else set, as terraform prompts;
    ``allow_empty`` takes a directory without .tf files as an empty configuration (console)."""
    root = Path(directory)
    validated = validate_directory(root, allow_empty=allow_empty)
    errors = validated.diagnostics.errors
    if errors:
        raise DiagnosticsError(validated.diagnostics.sorted())
    warnings = validated.diagnostics.warnings
    module = validated.module_tree.module
    specs = variable_specs(module)
    resolved, var_diags = resolve_variables(specs, module_dir=root, flags=variables)
    missing = [spec for name, spec in specs.items() if name not in resolved and spec.default is None]
    unread = any(d.is_error and d.summary != MISSING_VALUE for d in var_diags)
    if missing and ask is not None and not unread:
        given = ((spec.name, ask(spec)) for spec in missing)
        answers = [VariableFlag.var(f"{name}={answer}") for name, answer in given if answer is not None]
        resolved, var_diags = resolve_variables(specs, module_dir=root, flags=[*variables, *answers])
    if any(d.is_error for d in var_diags):
        raise DiagnosticsError(var_diags)  # with their warnings (a value for no variable), as terraform
    warnings += [d for d in var_diags if not d.is_error]
    values = {name: r.value for name, r in resolved.items()}
    sensitive = frozenset(name for name, r in resolved.items() if r.sensitive)
    block = module.terraform.backend if module.terraform else None
    configured = configured_encryption(
        module.terraform.encryption if module.terraform else None, variables=values
    )
    warnings += configured.warnings
    encryption = configured.encryption
    backend = backend_select.backend_for(
        root, block, state_path, encryption=encryption.state if encryption is not None else None
    )
    stamp = backend_stamp(backend)
    try:
        state = backend.read() or State.new()
    except StateError as exc:
        raise DiagnosticsError(error("state", exc.summary, exc.detail)) from None
    _refuse_instances_without_id(state, backend.describe())
    _refuse_newer_schema_versions(state, backend.describe())
    state, moves, move_diags = apply_moves(state, validated.tree)
    warnings += move_diags
    session = Session(
        root,
        validated,
        values,
        sensitive,
        backend,
        state,
        warnings=warnings,
        moves=moves,
        state_stamp=stamp,
        encryption=encryption,
        variable_ranges={n: r.range for n, r in resolved.items() if r.range is not None},
    )
    session.providers = providers_for(session)
    _refuse_empty_targets(session)
    return session


def _refuse_empty_targets(session: Session) -> None:
    """A cloud that held nothing before this run (a new local Azure) while state records
    objects in it: planning would create every one of them again. Say so instead."""
    problems = []
    for name, provider in session.providers.items():
        if not isinstance(provider, SupportsEmptyTarget):
            continue
        where = provider.empty_target()
        if where is None:
            continue
        count = sum(
            1
            for _addr, res, inst in session.state.instances()
            if res.mode.value == "managed"
            and inst.attributes
            and (res.provider.split(".")[0] if res.provider else registry.provider_name_for_type(res.type))
            == name
        )
        if count:
            problems.append(
                error(
                    "empty-target",
                    f"{where[0].upper()}{where[1:]} is empty but state says {count} objects exist",
                    "Planning now would create every one of them again. If the database was moved or "
                    "reset by mistake, put it back (or point VAULTFORM_LOCAL_AZURE at it); if the objects "
                    "are really gone, remove them from state with `vaultform state rm ADDRESS...` (or move "
                    "the state file away) and apply again.",
                )
            )
    if problems:
        raise DiagnosticsError(problems)


def _refuse_instances_without_id(state: State, path: str) -> None:
    """A damaged state (an object without its id) stops here, naming each instance, before
    anything tries to refresh or destroy what it can't name."""
    problems = instances_without_id(state)
    if problems:
        raise DiagnosticsError(
            [
                error(
                    "state",
                    f"{address} in {path} {what}",
                    "The state file was edited or damaged. Restore it from its .backup or put the "
                    f"object's id back; if the object is gone, run `vaultform state rm '{address}'` "
                    "(and import it again if it still exists).",
                    address=address,
                )
                for address, what in problems
            ]
        )


def _refuse_newer_schema_versions(state: State, path: str) -> None:
    """An object recorded in a schema version above the one its resource type has here: it was
    written by a newer provider (or edited), and this one can't know what its attributes mean.
    terraform 1.11 refuses to plan such an object ("Resource instance managed by newer provider
    version"); only managed objects are upgraded there, data sources are read again. Checked for
    the providers whose schema versions are terraform's own (``versions_match_terraform``)."""
    problems = []
    for address, res, inst in state.instances():
        if res.mode is not Mode.MANAGED:
            continue
        provider_schema = registry.schema_for(registry.provider_name_for_type(res.type))
        if provider_schema is None or not provider_schema.versions_match_terraform:
            continue
        schema = provider_schema.lookup(res.mode, res.type)
        if schema is None or inst.schema_version <= schema.version:
            continue
        provider = res.provider.split(".")[0]
        problems.append(
            error(
                "state",
                "Resource instance managed by newer provider version",
                f"The current state of {address} in {path} was created by a newer provider version "
                f"than this vaultform's {provider} provider: it records schema version "
                f"{inst.schema_version} of {res.type}, and this provider reads up to version "
                f"{schema.version}. Upgrade vaultform to work with this state, or restore the state "
                "from its .backup if it was edited.",
                address=str(address),
            )
        )
    if problems:
        raise DiagnosticsError(problems)


def _used_providers(session: Session) -> set[str]:
    names = {registry.provider_name_for_type(r.type) for r in _all_resources(session.validated.tree)}
    # an import block's target may have no resource block yet (plan -generate-config-out writes it)
    names |= {
        block.provider.name if block.provider else registry.provider_name_for_type(_import_type(block.to))
        for block in session.validated.module_tree.module.imports
    }
    names |= {
        res.provider.split(".")[0] if res.provider else registry.provider_name_for_type(res.type)
        for res in session.state.resources
    }
    return {n for n in names if registry.schema_for(n) is not None}


def _import_type(expr) -> str:
    """The resource type an import block's ``to`` names: the first step of the address."""
    while not isinstance(expr, ast.Variable):
        inner = getattr(expr, "obj", None)
        if inner is None:
            return ""
        expr = inner
    return expr.name


def with_generated_config(session: Session, filename: str, text: str) -> None:
    """Plan from the configuration with ``text`` added to the root module as file ``filename``:
    the resource blocks plan -generate-config-out writes, planned before they are written."""
    validated = validate_directory(session.root, extra=((filename, text),))
    errors = validated.diagnostics.errors
    if errors:
        raise DiagnosticsError(validated.diagnostics.sorted())
    session.validated = validated


def _all_resources(tree):
    yield from tree.module.resources.values()
    for child in tree.children.values():
        yield from _all_resources(child)


def providers_for(session: Session) -> dict[str, Any]:
    out: dict[str, Any] = {}
    module = session.validated.module_tree.module
    scope = MapScope(
        {
            "var": session.variables,
            "terraform": {"workspace": backend_select.current_workspace(session.root)},
            "path": path_object(session.validated.module_tree.source_dir, session.root),
        }
    )
    diags: list[Diagnostic] = []
    for name in sorted(_used_providers(session)):
        provider = registry.create_provider(name)
        if provider is None:
            continue
        block = next((p for p in module.providers if p.name == name and not p.alias), None)
        config: dict[str, Any] = {}
        if block is not None:
            evaluated = evaluate_body(
                block.body, None, scope
            )  # nested blocks too: features { key_vault {...} }
            diags.extend(evaluated.diagnostics)
            config = evaluated.value
        diags.extend(provider.configure(config))
        out[name] = provider
    if any(d.is_error for d in diags):
        raise DiagnosticsError([d for d in diags if d.is_error])
    return out


# --------------------------------------------------------------------------- refresh


def backend_stamp(backend) -> Any:
    """What is stored now, to notice another run's write: the backend's own ``stamp()`` or the
    local file's identity."""
    own = getattr(backend, "stamp", None)
    if own is not None:
        return own()
    return _file_stamp(backend.path)


def _file_stamp(path: str) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def reload_state_if_changed(session: Session) -> None:
    """Read the state again when another run wrote it after this session read it (this
    run waited for the lock with -lock-timeout while the other one applied)."""
    stamp = backend_stamp(session.backend)
    if stamp == session.state_stamp:
        return
    stored = session.backend.read() or State.new(lineage=session.state.lineage)  # the lineage checked at lock
    state, session.moves, _diags = apply_moves(stored, session.validated.tree)
    session.state, session.state_stamp = state, stamp


def recover_pending(session: Session, *, persist: bool) -> list:
    """Resolve operations a crashed run left pending (``reconciler.apply.recovery``).

    With ``persist`` (apply, under the state lock) the resolved state is written at
    once; otherwise (plan, drift) only this run's view changes. Returns the
    resolutions, for the output.
    """
    from reconciler.apply.recovery import resolve_pending

    reload_state_if_changed(session)
    recovery = resolve_pending(
        session.state, session.providers, clock=session.clock, report=session.read_waits
    )
    session.warnings.extend(d for d in recovery.diagnostics if d not in session.warnings)
    if recovery.changed:
        session.state = session.backend.write(recovery.state) if persist else recovery.state
    return recovery.resolutions


def prefetch(reads: Iterable[tuple[Any, str, dict]]) -> None:
    """Hand each provider that reads in bulk (``SupportsPrefetch``) the (provider, type, recorded
    attributes) reads about to be made, once, before they are made one by one. What it could not
    fetch is read on its own, and that read reports any error."""
    grouped: dict[int, tuple[Any, list[ReadRequest]]] = {}
    able: dict[int, bool] = {}  # isinstance of a runtime protocol is slow: asked once per provider
    for provider, type_name, prior in reads:
        can = able.get(id(provider))
        if can is None:
            can = able[id(provider)] = isinstance(provider, SupportsPrefetch)
        if can:
            grouped.setdefault(id(provider), (provider, []))[1].append(ReadRequest(type_name, prior))
    for provider, requests in grouped.values():
        try:
            provider.prefetch(requests)
        except ProviderError:
            continue


def patiently(session: Session, address: str, read: Callable[[], T]) -> T:
    """``read``, tried again while Azure refuses it for now (a 429 past the SDK's own retries, a
    503, a grant on its way) within the budgets the apply's steps wait by; each wait is told to
    ``session.read_waits``. A plan or drift that gave up on one throttled read failed as a whole."""
    waits = session.read_waits

    def told(refusal: RetryableError, _attempt: int, delay: float) -> None:
        if waits is not None:
            waits(address, refusal.message, delay)

    return RetryPolicy().run(read, sleep=session.clock.sleep, jitter=random.random, on_wait=told)


def refresh(
    session: Session,
    parallelism: int = 10,
    report: Callable[[str, str | None, bool], None] | None = None,
    *,
    every_object: bool = False,
    targets: tuple[str, ...] = (),
    destroy: bool = False,
) -> dict[str, dict | None]:
    """Read every managed object in state through its provider, in parallel
    (after resolving what a crashed run left pending). ``report(address, id, done)`` hears of
    each read as it starts and as it finishes. An object a removed block lets go of is not read
    (it may no longer be readable: letting go of it is often why), unless ``every_object``: a plan
    that destroys everything, or one that only refreshes. With ``targets``, only what the
    targeted plan covers is read (``refresh_scope``); the rest keeps what state records."""
    recover_pending(session, persist=False)
    scope = targeted_scope(session.state, targets, destroy=destroy) if targets else None
    forgotten = (
        () if every_object or session.validated.tree is None else forgotten_addresses(session.validated.tree)
    )
    jobs = []
    for iaddr, rstate, istate in session.state.instances():
        if rstate.mode.value != "managed" or not istate.attributes:
            continue
        if forgotten and is_forgotten(iaddr.resource, forgotten):
            continue
        if scope is not None and str(iaddr) not in scope:
            continue
        provider = session.providers.get(rstate.provider.split(".")[0])
        if provider is None:
            continue
        jobs.append((str(iaddr), provider, rstate.type, {**istate.attributes, **istate.private}))
    prefetch((provider, type_name, prior) for _address, provider, type_name, prior in jobs)
    out: dict[str, dict | None] = {}
    failures: list[Diagnostic] = []

    def read(job):
        address, provider, type_name, prior = job
        if report is not None:
            report(address, prior.get("id"), False)
        try:
            found = patiently(session, address, partial(provider.read, ReadRequest(type_name, prior))).state
            if report is not None:
                report(address, prior.get("id"), True)
            return address, found, None
        except ProviderError as exc:
            return (
                address,
                None,
                error(
                    exc.code or "refresh_failed", f"Refreshing {address} failed", exc.message, address=address
                ),
            )

    # objects that live only in state (terraform_data) are read here: no cloud to wait for
    local = [j for j in jobs if not getattr(j[1], "objects_outside_state", True)]
    remote = [j for j in jobs if getattr(j[1], "objects_outside_state", True)]
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        for address, state, problem in itertools.chain(map(read, local), pool.map(read, remote)):
            if problem is not None:
                failures.append(problem)
            else:
                out[address] = state
    if failures:
        raise DiagnosticsError(failures)
    return out


# --------------------------------------------------------------------------- plan


def plan(session: Session, options: PlanOptions, refreshed: dict[str, dict | None] | None) -> Plan:
    def read_data(type_name: str, config: dict, address: str = "") -> dict:
        provider = session.providers.get(registry.provider_name_for_type(type_name))
        if provider is None:
            raise ProviderError(f"no provider for {type_name}")
        report = session.data_reads if address else None
        started = time.monotonic()
        if report is not None:
            report(address, False, None, 0.0)
        state = patiently(session, address, partial(provider.read_data, DataRequest(type_name, config))).state
        if state is None:
            raise ProviderError(not_found_detail(type_name, config), code="data_source_not_found")
        if report is not None:
            found = state.get("id")
            report(address, True, str(found) if found else None, time.monotonic() - started)
        return state

    def plan_rules(req):
        from providers.base import PlanRulesResponse

        out = PlanRulesResponse()
        for name, provider in session.providers.items():
            rules = getattr(provider, "plan_rules", None)
            if rules is None or isinstance(provider, WithoutPlanRules):
                continue
            mine = tuple(i for i in req.instances if registry.provider_name_for_type(i.type_name) == name)
            if not mine:
                continue
            response = rules(replace(req, instances=mine))
            out.diagnostics.extend(response.diagnostics)
            out.edges.extend(response.edges)
        return out

    v = session.validated
    request = PlanRequest(
        root_dir=session.root,
        tree=v.module_tree,
        info=v.module_info,
        variables=session.variables,
        state=session.state,
        refreshed=refreshed,
        read_data=read_data,
        plan_rules=plan_rules,
        plan_rule_providers=frozenset(
            name
            for name, provider in session.providers.items()
            if getattr(provider, "plan_rules", None) and not isinstance(provider, WithoutPlanRules)
        ),
        options=options,
        cloud=session.cloud,
        sensitive_variables=session.sensitive_variables,
        variable_ranges=session.variable_ranges,
        clock=session.clock,
    )
    result = make_plan(request)
    result.diagnostics = (
        whole_state_replaced(result, session.state, options)
        + session.warnings
        + removed_destroys(v.module_tree, session.state)
        + result.diagnostics
        + replace_without_key(result, options.replace)
    )
    if not any(d.is_error for d in result.diagnostics):
        from reconciler.apply.graph import apply_order_cycle  # plans with ordering rules only

        cycle = apply_order_cycle(
            result, {address: inst.dependencies for address, _res, inst in session.state.instances()}
        )
        if cycle is not None:
            result.diagnostics += all_placed([cycle], v.module_tree)
    result.moved = list(session.moves)
    return result


def plan_request(session: Session, refreshed, options: PlanOptions) -> PlanRequest:
    v = session.validated
    return PlanRequest(
        root_dir=session.root,
        tree=v.module_tree,
        info=v.module_info,
        variables=session.variables,
        state=session.state,
        refreshed=refreshed,
        options=options,
        cloud=session.cloud,
        sensitive_variables=session.sensitive_variables,
        variable_ranges=session.variable_ranges,
        clock=session.clock,
    )
