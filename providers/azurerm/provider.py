"""The azurerm provider: the catalog's types on the official Azure SDK.

One code path for real Azure and the embedded local Azure; ``ClientFactory`` hides
the only differences (credential and transport). Requests are dispatched by type
name through ``resources.HANDLERS`` / ``resources.DATA_SOURCES``; every object a
handler returns is conformed to the catalog schema (``resources.shape``) so a
fresh read equals what was planned.

Pauses (eventual consistency) go through the injected ``Clock`` and are reported
to ``report`` (default: the ``vaultform.azurerm`` logger) and kept in ``events``.
"""

from __future__ import annotations

import functools
import logging
import os
import shlex
import threading
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from azure.core.exceptions import ClientAuthenticationError

from providers.azurerm import registrations
from providers.azurerm.catalog import SCHEMA
from providers.azurerm.clients import ClientFactory, CloudKind, CloudTarget, storage_sign_in, target_from
from providers.azurerm.consistency import Waiter
from providers.azurerm.drift.rules import drift_rules, unmanaged
from providers.azurerm.listing import Listing, for_subscription, home_subscription
from providers.azurerm.planned_ids import ROLE_ASSIGNMENT, planned_id, role_assignment_name
from providers.azurerm.resources import DATA_SOURCES, HANDLERS, Context
from providers.azurerm.resources.base import known
from providers.azurerm.resources.checks import CHECKS
from providers.azurerm.resources.shape import conform, conform_imported
from providers.base import (
    ApplyResponse,
    Clock,
    CreateRequest,
    DataRequest,
    DeleteRequest,
    ImportRequest,
    IncompleteError,
    PermanentError,
    PlanRulesRequest,
    PlanRulesResponse,
    ProviderError,
    ReadRequest,
    ReadResponse,
    TenantAudit,
    UpdateRequest,
    ValidateRequest,
)
from providers.drift_protocol import DriftEstate, DriftRules, UnmanagedListing
from providers.schema import Mode, ProviderSchema
from reconciler.diagnostics import Diagnostic, error
from reconciler.values import UNKNOWN
from state.model import KEPT_FACTS

log = logging.getLogger("vaultform.azurerm")


def _known_config(config: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in (config or {}).items() if v is not UNKNOWN and v is not None}


def already_exists(type_name: str, id_: str, address: str = "") -> PermanentError:
    """The refusal of a create whose object is already there, saying how to take it over."""
    # quoted as a shell needs it: an instance key's brackets and quotes would not survive unquoted
    target = shlex.quote(address) if address else f"{type_name}.<name>"
    return PermanentError(
        f"A resource with the ID {id_!r} already exists. To manage it with vaultform, import it into "
        f"the state: vaultform import {target} {shlex.quote(id_)} - or give this resource another name.",
        code="ResourceAlreadyExists",
    )


def _with_private(
    conformed: dict[str, Any] | None, raw: dict[str, Any] | None, private: tuple[str, ...]
) -> dict[str, Any] | None:
    """A refreshed object plus the handler's private facts (see ``Handler.private``)."""
    if conformed is None or raw is None:
        return conformed
    return {**conformed, **{k: raw[k] for k in private if k in raw}}


# The timeouts block (catalog/timeouts.py) is the engine's, not Azure's: handlers never see it, and
# the state keeps it as configured (as azurerm's SDK does), so it doesn't show as a change again.
TIMEOUTS = "timeouts"


def _without_timeouts(values: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (values or {}).items() if k != TIMEOUTS}


def _with_timeouts(state: dict[str, Any], source: Mapping[str, Any] | None) -> dict[str, Any]:
    return {**state, TIMEOUTS: (source or {}).get(TIMEOUTS)}


def _with_kept(
    conformed: dict[str, Any] | None, raw: dict[str, Any] | None, prior: dict[str, Any], kept: tuple[str, ...]
) -> dict[str, Any] | None:
    """An object plus the facts its handler keeps in state (``Handler.kept``): as the handler
    returned them, else as they were (a handler that doesn't touch them carries them on)."""
    if conformed is None or not kept:
        return conformed
    raw = raw or {}
    carried = {k: raw[k] if k in raw else prior[k] for k in kept if k in raw or k in prior}
    return {**conformed, **{k: v for k, v in carried.items() if v}}


def _sign_in_failure(clients: ClientFactory) -> Diagnostic | None:
    """Sign in once, as azurerm does while it configures (it reads the token's claims): a credential
    that doesn't work is one error before any object is read, not the same error for each."""
    try:
        clients.caller()
    except ClientAuthenticationError as exc:
        reason = " ".join(str(exc.message or exc).split())
        return error(
            "sign_in_failed",
            "Could not sign in to Azure",
            f"{reason}\n\nCheck the sign-in settings (ARM_TENANT_ID, ARM_CLIENT_ID with a secret, "
            "certificate or OIDC token, a managed identity, or `az login`) and the network path to "
            "Microsoft Entra ID; nothing was read or changed.",
        )
    return None


class AzurermProvider:
    name = "azurerm"
    objects_outside_state = True

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        report: Callable[[str], None] | None = None,
        environ: Mapping[str, str] | None = None,
        clients: ClientFactory | None = None,
        **factory_inject: Any,
    ) -> None:
        self.clock = clock or Clock()
        self.events: list[str] = []
        self._report = report
        self._environ = environ
        self._inject = factory_inject
        self._clients = clients
        self._elsewhere: dict[str, ClientFactory] = {}  # lower-case subscription -> its clients
        self._elsewhere_lock = threading.Lock()
        self._features: dict[str, Any] = {}
        self._recovered_key_vaults: set[str] = set()  # Context.recovered_key_vaults, for the run
        self._registrations = registrations.wanted({}, os.environ if environ is None else environ)
        self._registrar = registrations.Registrar()
        self._listing: Listing | None = None  # this run's listings (``prefetch``), until a write
        if clients is not None:
            clients.clock, clients.report = self.clock, self.report

    # ------------------------------------------------------------------ plumbing

    def report(self, message: str) -> None:
        self.events.append(message)
        if self._report is not None:
            self._report(message)
        else:
            log.info("%s", message)

    @property
    def clients(self) -> ClientFactory:
        if self._clients is None:
            self._clients = ClientFactory.from_config(
                {}, self._environ, clock=self.clock, report=self.report, **self._inject
            )
        return self._clients

    def context(self, of: Mapping[str, Any] | None = None) -> Context:
        """``of``: the object the context is for (its prior or planned values). An object whose
        id - or, for one that lives inside another, the key vault or scope it names - is in
        another subscription is read and written there, as azurerm does (it calls Azure with the
        ids it parsed); only the names a create builds ids from take the provider's subscription."""
        clients = self.clients
        home = home_subscription(of) if of is not None else None
        if home is not None and home.lower() != (clients.subscription_id or "").lower():
            with self._elsewhere_lock:  # one set of clients a subscription, closed with the provider's
                found = self._elsewhere.get(home.lower())
                if found is None:
                    found = self._elsewhere[home.lower()] = for_subscription(clients, home)
            clients = found
        return Context(
            clients,
            Waiter(self.clock, self.report),
            self._features,
            recovered_key_vaults=self._recovered_key_vaults,
        )

    def _read_context(self, of: Mapping[str, Any] | None = None) -> Context:
        """A refresh's context: answered from the run's listings where they cover the object."""
        ctx = self.context(of)
        ctx.listing = self._listing
        return ctx

    def write_context(self, of: Mapping[str, Any] | None = None) -> Context:
        """The context of a write: the resource providers the provider block asks for are
        registered first (once). Plans and refreshes never register anything: a refused plan
        changes nothing in the cloud."""
        self._listing = None  # what was listed before a write is not what Azure holds after it
        ctx = self.context(of)
        self._registrar.ensure(self.clients, *self._registrations, ctx.waiter, self.report)
        return ctx

    def describe(self) -> str:
        return self.clients.describe()

    def storage_sign_in(self, config: Mapping[str, Any], environ: Mapping[str, str]) -> tuple[Any, str, str]:
        """``SupportsStorageSignIn``: the azurerm backend signs in as this provider does."""
        return storage_sign_in(config, environ)

    def empty_target(self) -> str | None:
        """``SupportsEmptyTarget``: a local Azure created empty (its database was missing or 0
        bytes) that still holds only what it was seeded with."""
        clients = self._clients
        if clients is None or not clients.is_local:
            return None
        store = getattr(getattr(clients, "emulator", None), "store", None)
        if store is None:
            return None
        seeded = store.meta(_SEEDED_OBJECTS)
        if seeded is None or store.object_count() != seeded:
            return None
        return f"the local Azure at {clients.target.local_path}"

    @staticmethod
    def _handler(type_name: str):
        handler = HANDLERS.get(type_name)
        if handler is None:
            raise PermanentError(
                f"the azurerm provider has no resource type {type_name!r}", code="UnknownResourceType"
            )
        return handler

    @staticmethod
    def _run(type_name: str, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except KeyError as exc:
            raise PermanentError(
                f"{type_name}: the argument {exc.args[0]!r} is needed here", code="MissingArgument"
            ) from exc

    # ------------------------------------------------------------------ protocol

    def schema(self) -> ProviderSchema:
        return SCHEMA

    def configure(self, config: dict[str, Any]) -> list:
        features = (config or {}).get("features")
        if isinstance(features, list):
            features = features[0] if features else {}
        self._features = features if isinstance(features, dict) else {}
        self._registrations = registrations.wanted(
            _known_config(config), os.environ if self._environ is None else self._environ
        )
        self._registrar.reset()
        self._listing = None
        if self._clients is not None:
            self._clients.close()
        self._close_elsewhere()
        try:
            environ = os.environ if self._environ is None else self._environ
            was_empty = _empty_local_azure(target_from(_known_config(config), environ))
            self._clients = ClientFactory.from_config(
                _known_config(config), self._environ, clock=self.clock, report=self.report, **self._inject
            )
            if not self._clients.is_local:
                failed = _sign_in_failure(self._clients)
                if failed is not None:
                    return [failed]
            store = getattr(self._clients.emulator, "store", None)
            if was_empty and store is not None:
                # remembered in the new database: until something is created in it, it is the
                # same empty local Azure for the next run too (opening it seeded it)
                store.set_meta(_SEEDED_OBJECTS, store.object_count())
        except PermanentError as exc:
            if exc.code == "LocalAzureUnavailable":
                return [error(exc.code, "The local Azure is unavailable", exc.message)]
            return [error("provider-config", 'Invalid provider "azurerm" configuration', exc.message)]
        return []

    def validate(self, req: ValidateRequest) -> list:
        if req.mode != Mode.MANAGED.value:
            return []
        return [d for check in CHECKS.get(req.type_name, ()) for d in check(req.config)]

    def prefetch(self, requests: Sequence[ReadRequest]) -> None:
        """``SupportsPrefetch``: list the containers the objects about to be read live in (key vaults
        and identities per resource group, role assignments per subscription, backup policies and
        protected items per vault: ``providers.azurerm.listing``), so their reads cost no call.
        ``VAULTFORM_AZURERM_REFRESH=per-object`` turns it off (each object is read on its own)."""
        environ = os.environ if self._environ is None else self._environ
        if environ.get("VAULTFORM_AZURERM_REFRESH", "").lower() == "per-object":
            return
        if self._listing is None:
            self._listing = Listing()
        self._listing.prefetch(self.context(), [(r.type_name, dict(r.prior)) for r in requests])

    def read(self, req: ReadRequest) -> ReadResponse:
        handler = self._handler(req.type_name)
        state = self._run(
            req.type_name, lambda: handler.read(self._read_context(req.prior), _without_timeouts(req.prior))
        )
        conformed = conform(SCHEMA.resources[req.type_name], state, req.prior, handler.implicit)
        read = _with_kept(_with_private(conformed, state, handler.private), state, req.prior, handler.kept)
        read = _with_timeouts(read, req.prior) if read is not None else None
        if read is not None and handler.kept:
            read[KEPT_FACTS] = list(handler.kept)  # a fact this read learned first is kept from now on
        return ReadResponse(read)

    def read_data(self, req: DataRequest) -> ReadResponse:
        source = DATA_SOURCES.get(req.type_name)
        if source is None:
            raise PermanentError(
                f"the azurerm provider has no data source {req.type_name!r}", code="UnknownDataSource"
            )
        state = self._run(req.type_name, lambda: source.read(self.context(req.config), dict(req.config)))
        if state is None:
            return ReadResponse(None)
        merged = {**_known_config(req.config), **{k: v for k, v in state.items() if v is not None}}
        return ReadResponse(
            _with_private(conform(SCHEMA.data_sources[req.type_name], merged, None), state, source.private)
        )

    def create(self, req: CreateRequest) -> ApplyResponse:
        handler = self._handler(req.type_name)
        planned = _without_timeouts(req.planned)
        if req.type_name == ROLE_ASSIGNMENT and not known(planned.get("name")):
            # the name a retried create (or a crash recovery) can find again
            planned["name"] = role_assignment_name(planned) or planned.get("name")
        ctx = self.write_context(planned)
        self._refuse_existing(ctx, req.type_name, planned, req.address)
        try:
            state = self._run(req.type_name, lambda: handler.create(ctx, planned))
        except IncompleteError as exc:
            exc.state = _with_timeouts(
                conform(SCHEMA.resources[req.type_name], exc.state, req.planned, handler.implicit),
                req.planned,
            )
            raise
        conformed = conform(SCHEMA.resources[req.type_name], state, req.planned, handler.implicit)
        return ApplyResponse(
            _with_timeouts(_with_kept(conformed, state, {}, handler.kept) or conformed, req.planned)
        )

    def _refuse_existing(self, ctx: Context, type_name: str, planned: dict[str, Any], address: str) -> None:
        """Refuse to create what already exists (azurerm's "needs to be imported"): an
        object at the planned id belongs to another configuration, or to this one's
        state before a ``state rm``; a create would silently take it over (or, for a
        key, add a version). Crash recovery adopts its own objects before this point
        (``locate``), guided by the intent recorded in state."""
        id_ = planned_id(ctx, type_name, planned)
        if id_ is None:
            return
        if type_name == "azurerm_key_vault_key" and str(planned.get("key_vault_id") or "").lower() in (
            ctx.recovered_key_vaults
        ):
            return  # a key that came back with its key vault: the handler takes it (or refuses)
        handler = self._handler(type_name)
        found = self._run(type_name, lambda: handler.existing(ctx, _known_config(planned), id_))
        if found:
            raise already_exists(type_name, found, address)

    def update(self, req: UpdateRequest) -> ApplyResponse:
        handler = self._handler(req.type_name)
        changed = req.changed or tuple(k for k in req.planned if req.planned.get(k) != req.prior.get(k))
        changed = tuple(k for k in changed if k != TIMEOUTS)
        # an argument left out of the configuration is missing from planned, not None: compare every
        # argument the schema has, whichever side holds it
        names = set(SCHEMA.resources[req.type_name].block.names()) - {TIMEOUTS}
        if all(req.planned.get(k) == req.prior.get(k) for k in names):
            # only how long operations may take changed: nothing to send to Azure
            return ApplyResponse(_with_timeouts(dict(req.prior), req.planned))
        try:
            state = self._run(
                req.type_name,
                lambda: handler.update(
                    self.write_context(req.prior),
                    _without_timeouts(req.prior),
                    _without_timeouts(req.planned),
                    tuple(changed),
                ),
            )
        except IncompleteError as exc:
            partial_state = conform(SCHEMA.resources[req.type_name], exc.state, req.planned, handler.implicit)
            exc.state = _with_kept(partial_state, exc.state, req.prior, handler.kept) or partial_state
            raise
        conformed = conform(SCHEMA.resources[req.type_name], state, req.planned, handler.implicit)
        return ApplyResponse(
            _with_timeouts(_with_kept(conformed, state, req.prior, handler.kept) or conformed, req.planned)
        )

    def delete(self, req: DeleteRequest) -> None:
        handler = self._handler(req.type_name)
        self._run(
            req.type_name, lambda: handler.delete(self.write_context(req.prior), _without_timeouts(req.prior))
        )

    def import_(self, req: ImportRequest) -> ReadResponse:
        handler = self._handler(req.type_name)
        state = self._run(req.type_name, lambda: handler.import_(self.context({"id": req.id}), req.id))
        return ReadResponse(conform_imported(SCHEMA.resources[req.type_name], state, handler.implicit))

    def plan_rules(self, req: PlanRulesRequest) -> PlanRulesResponse:
        """The CMK domain rules (O1..O5, R1..R18, A1..A6): a pure function of the plan,
        kept in ``providers.azurerm.rules``."""
        from providers.azurerm.immutable_vaults import (
            backups_deleted_in_immutable_vaults,
            retention_cut_in_immutable_vaults,
        )
        from providers.azurerm.policy_in_use import policies_in_use
        from providers.azurerm.rules import judge
        from providers.azurerm.soft_delete import plan_notes
        from providers.azurerm.vault_settings import storage_redundancy_locked
        from providers.azurerm.vm_moves import vms_moved_between_vaults

        response, unanswered = judge(req)
        answers = self._roles_in_azure(unanswered)
        if answers:
            response, _ = judge(req, answers)
        if any(i.action in ("create", "replace") for i in req.instances):
            response.diagnostics.extend(plan_notes(self.context(), req.instances))
            response.diagnostics.extend(self._taken_role_assignments(req.instances))
            response.diagnostics.extend(self._creates_already_in_azure(req.instances))
            response.diagnostics.extend(self._vms_protected_elsewhere(req.instances))
            response.diagnostics.extend(policies_in_use(req.instances))
            response.diagnostics.extend(vms_moved_between_vaults(req.instances))
        response.diagnostics.extend(self._used_elsewhere(req.instances))
        response.diagnostics.extend(self._unusable_key_versions(req.instances))
        response.diagnostics.extend(storage_redundancy_locked(req.instances))
        response.diagnostics.extend(retention_cut_in_immutable_vaults(req.instances))
        response.diagnostics.extend(backups_deleted_in_immutable_vaults(req.instances))
        return response

    def _vms_protected_elsewhere(self, instances) -> list:
        """VMs this plan starts protecting that a vault protects already (``taken_vms``); a VM whose
        protection this plan also removes is left to the apply's order."""
        from providers.azurerm.taken_vms import PROTECTED_VM, vm_protected_elsewhere

        def vm_of(values: dict | None) -> str:
            vm = (values or {}).get("source_vm_id")
            return vm.lower() if isinstance(vm, str) else ""  # unknown until apply: no VM to match

        leaving = {
            vm_of(i.before)
            for i in instances
            if i.type_name == PROTECTED_VM and i.action in ("delete", "replace")
        }
        ctx = self.context()
        out = []
        for inst in instances:
            if inst.type_name != PROTECTED_VM or inst.action != "create":
                continue
            if vm_of(inst.after) and vm_of(inst.after) in leaving:
                continue
            try:
                found = self._run(PROTECTED_VM, partial(vm_protected_elsewhere, ctx, inst))
            except ProviderError:
                continue  # can't look: the apply still meets Azure's own answer
            if found is not None:
                out.append(found)
        return out

    def _unusable_key_versions(self, instances) -> list:
        from providers.azurerm.key_in_use import expiry_of_keys_in_use, unusable_key_versions

        return unusable_key_versions(self.context(), instances) + expiry_of_keys_in_use(instances)

    def _used_elsewhere(self, instances) -> list:
        """Grants and keys this plan takes away from vaults other configurations manage (R7 and
        R11 across configurations); the vaults of every subscription are read once for both."""
        from providers.azurerm.audit import recovery_vaults_everywhere
        from providers.azurerm.grants_in_use import grants_other_vaults_use
        from providers.azurerm.keys_in_use_elsewhere import keys_other_vaults_use

        ctx = self.context()
        everywhere = functools.cache(lambda: recovery_vaults_everywhere(ctx.clients, ctx.waiter))
        return grants_other_vaults_use(ctx, instances, everywhere) + keys_other_vaults_use(
            ctx, instances, everywhere
        )

    def _creates_already_in_azure(self, instances) -> list:
        from providers.azurerm.taken_names import creates_already_in_azure

        return creates_already_in_azure(self.context, self._handler, instances)

    def _taken_role_assignments(self, instances) -> list:
        """Role assignments this plan creates that Azure already holds (``taken_grants``)."""
        from providers.azurerm.taken_grants import role_assignment_taken

        handler = self._handler(ROLE_ASSIGNMENT)
        ctx = self.context()
        leaving = frozenset(
            str((i.before or {}).get("id") or "").lower()
            for i in instances
            if i.type_name == ROLE_ASSIGNMENT and i.action in ("delete", "replace")
        )
        out = []
        for inst in instances:
            if inst.type_name != ROLE_ASSIGNMENT or inst.action != "create":
                continue
            try:
                found = self._run(
                    ROLE_ASSIGNMENT, partial(role_assignment_taken, ctx, handler, inst, leaving)
                )
            except ProviderError:
                continue  # can't look: the apply still meets Azure's own answer
            if found is not None:
                out.append(found)
        return out

    def _roles_in_azure(self, questions) -> dict:
        """The roles each (principal, key vault, key) of ``questions`` holds in Azure; a question
        Azure won't answer (no right to list role assignments) is left out, and its rule warns."""
        from providers.azurerm.role_facts import roles_on_key_vault

        answers = {}
        for question in sorted(questions):
            principal, kv_id, key_name = question
            try:
                answers[question] = roles_on_key_vault(
                    self.context().clients, kv_id, principal, key_name or None
                )
            except ProviderError:
                continue
        return answers

    # ------------------------------------------------------------------ crash recovery

    def planned_id(self, type_name: str, planned: dict[str, Any]) -> str | None:
        """The id ``create(planned)`` will give the object (ARM ids are made of names),
        recorded with the intent so a later run can look for it; None when unknown, or when
        the object shows only after its asynchronous create finishes (then apply locates it)."""
        if self._handler(type_name).asynchronous_create:
            return None
        return planned_id(self.context(planned), type_name, planned)

    def locate(self, type_name: str, planned: dict[str, Any]) -> dict[str, Any] | None:
        """The object a create of ``planned`` made, shaped as ``create`` returns it, or
        None when there is none (so creating it now can't make a second one)."""
        handler = self._handler(type_name)
        id_ = planned_id(self.context(planned), type_name, planned)
        if id_ is None:
            return None
        prior = {**_known_config(planned), "id": id_}
        if type_name == "azurerm_key_vault_key":
            try:
                state = self._run(type_name, lambda: handler.import_(self.context(prior), id_))
            except PermanentError as exc:
                if exc.status != 403:
                    raise
                # the caller may not read keys yet (a grant still on its way, or none for Get):
                # nothing to look with, so the create goes ahead and Key Vault's answer stands,
                # as the check for an existing key before a create does
                self.report(
                    f"can't look for key {planned.get('name')} a create may have made (no keys get permission)"
                )
                return None
        else:
            state = self._run(type_name, lambda: handler.read(self.context(prior), prior))
        if state is None:
            return None
        return conform(SCHEMA.resources[type_name], state, planned, handler.implicit)

    # ------------------------------------------------------------------ audit (providers.azurerm.audit)

    def audit(self) -> list[dict[str, Any]]:
        """Every Recovery Services vault of the subscription with its CMK facts and findings."""
        from providers.azurerm.audit import audit_subscription  # lazy: start-up (the SDK clients)

        return audit_subscription(self.clients)

    def audit_tenant(
        self,
        scopes: Sequence[str] | None,
        progress: Callable[[str], None],
        patiently: Callable[[Callable[[], Any]], Any] = lambda read: read(),
    ) -> TenantAudit:
        """``SupportsTenantAudit``: the audit of every subscription the credential can see (ARM's
        subscriptions list), or of the ``scopes`` subscription ids; each vault names its subscription."""
        from providers.azurerm.audit import audit_tenant  # lazy: start-up (the SDK clients)

        return audit_tenant(self.clients, list(scopes) if scopes else None, progress, patiently)

    # ------------------------------------------------------------------ drift (providers.azurerm.drift)

    def drift_rules(self, estate: DriftEstate) -> DriftRules:
        """What drift of this estate's objects breaks and how to undo it."""
        from providers.azurerm.audit import audit_subscription  # lazy: start-up (the SDK clients)

        # drift audits after its refresh: the keys that refresh read answer the audit's look at them
        listing = self._listing
        return drift_rules(
            estate, local=self.clients.is_local, audit=lambda: audit_subscription(self.clients, listing)
        )

    def list_unmanaged(
        self, estate: DriftEstate, progress: Callable[[str], None] | None = None
    ) -> UnmanagedListing:
        """Vaults, keys and grants in the estate's resource groups and key vaults that it doesn't track."""
        from providers.azurerm.audit import list_unmanaged  # lazy: start-up (the SDK clients)

        def report(message: str) -> None:
            self.report(message)
            if progress is not None:
                progress(message)

        return unmanaged(
            estate,
            lambda groups, vaults, known: list_unmanaged(
                self.clients, groups, vaults, known, self._listing, Waiter(self.clock, report)
            ),
        )

    def close(self) -> None:
        if self._clients is not None:
            self._clients.close()
        self._close_elsewhere()

    def _close_elsewhere(self) -> None:
        with self._elsewhere_lock:
            for clients in self._elsewhere.values():
                clients.close()
            self._elsewhere.clear()


_SEEDED_OBJECTS = "vaultform.created_empty.objects"


def _empty_local_azure(target: CloudTarget) -> str | None:
    """ "the local Azure at PATH" when the target is a local Azure whose database file is
    missing or 0 bytes (opening it creates a new, empty one); None otherwise."""
    if (
        target.kind is not CloudKind.LOCAL
        or target.local_path is None
        or str(target.local_path) == ":memory:"
    ):
        return None
    try:
        if target.local_path.stat().st_size > 0:
            return None
    except FileNotFoundError:
        pass
    except OSError:
        return None
    return f"the local Azure at {target.local_path}"
