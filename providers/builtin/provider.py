"""The built-in ``terraform`` provider: terraform_data, no cloud.

``terraform_data`` keeps ``input`` in state and echoes it back as ``output`` once
applied; ``id`` is a UUID from the injected clock. ``triggers_replace`` is
force-new in the schema, so a change replaces the instance (the engine plans it);
a change of ``input`` alone is an in-place update. Import yields an instance with
the given id and nothing else, as Terraform's does.
"""

from __future__ import annotations

import copy
from typing import Any

from providers.base import (
    ApplyResponse,
    Clock,
    CreateRequest,
    DataRequest,
    DeleteRequest,
    ImportRequest,
    PermanentError,
    ReadRequest,
    ReadResponse,
    StorageSignInFor,
    UpdateRequest,
    ValidateRequest,
    WithoutPlanRules,
)
from providers.builtin import remote_state
from providers.builtin.schema import SCHEMA, TERRAFORM_DATA
from providers.schema import ProviderSchema
from reconciler.values import UNKNOWN, is_wholly_known

TYPE = TERRAFORM_DATA.type_name


def _value(v: Any) -> Any:
    return None if v is UNKNOWN else copy.deepcopy(v)


def _copied(v: Any) -> Any:
    """A deep copy of a JSON value as state holds it (dicts, lists, strings, numbers, booleans,
    null) without ``copy.deepcopy``'s memo and dispatch: a refresh copies every terraform_data
    object it reads. Anything else is left to ``copy.deepcopy``."""
    t = type(v)
    if t is dict:
        return {k: _copied(x) for k, x in v.items()}
    if t is list:
        return [_copied(x) for x in v]
    if t is str or t is int or t is float or t is bool or v is None:
        return v
    return copy.deepcopy(v)


class BuiltinProvider(WithoutPlanRules):
    name = "terraform"
    # terraform_data lives only in state: a crash can't leave an object behind
    objects_outside_state = False

    def __init__(self, *, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self._storage_sign_in: StorageSignInFor | None = None

    def use_storage_sign_in(self, sign_in_for: StorageSignInFor) -> None:
        """``UsesStorageSignIn``: terraform_remote_state signs in to an azurerm backend as that backend
        does (Entra ID with use_azuread_auth, or the access key looked up through a resource group)."""
        self._storage_sign_in = sign_in_for

    def _check_type(self, type_name: str) -> None:
        if type_name != TYPE:
            raise PermanentError(
                f"the built-in provider has no resource type {type_name!r} (it serves only {TYPE})",
                code="UnknownResourceType",
            )

    @staticmethod
    def _known_input(planned: dict[str, Any]) -> Any:
        value = planned.get("input")
        if not is_wholly_known(value):
            raise PermanentError(
                "terraform_data.input still holds a value known only after apply; "
                "the engine must resolve it before applying",
                code="UnknownValue",
            )
        return copy.deepcopy(value)

    # ------------------------------------------------------------------ protocol

    def schema(self) -> ProviderSchema:
        return SCHEMA

    def configure(self, config: dict[str, Any]) -> list:
        return []

    def validate(self, req: ValidateRequest) -> list:
        return []

    def read(self, req: ReadRequest) -> ReadResponse:
        self._check_type(req.type_name)
        return ReadResponse(_copied(dict(req.prior)))

    def read_data(self, req: DataRequest) -> ReadResponse:
        if req.type_name == remote_state.TYPE:
            return ReadResponse(
                remote_state.read_outputs(dict(req.config), sign_in_for=self._storage_sign_in)
            )
        raise PermanentError(
            f"the built-in provider has no data source {req.type_name!r}", code="UnknownDataSource"
        )

    def create(self, req: CreateRequest) -> ApplyResponse:
        self._check_type(req.type_name)
        value = self._known_input(req.planned)
        return ApplyResponse(
            {
                "id": self.clock.new_id(),
                "input": value,
                "output": copy.deepcopy(value),
                "triggers_replace": _value(req.planned.get("triggers_replace")),
            }
        )

    def update(self, req: UpdateRequest) -> ApplyResponse:
        self._check_type(req.type_name)
        value = self._known_input(req.planned)
        return ApplyResponse(
            {
                "id": req.prior["id"],
                "input": value,
                "output": copy.deepcopy(value),
                "triggers_replace": _value(req.planned.get("triggers_replace")),
            }
        )

    def delete(self, req: DeleteRequest) -> None:
        self._check_type(req.type_name)

    def import_(self, req: ImportRequest) -> ReadResponse:
        self._check_type(req.type_name)
        if not req.id:
            raise PermanentError("terraform_data import needs a non-empty id", code="InvalidImportId")
        return ReadResponse({"id": req.id, "input": None, "output": None, "triggers_replace": None})
