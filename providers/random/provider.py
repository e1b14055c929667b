"""The ``random`` provider: values made once at create, kept in state until a keeper changes.

Nothing here talks to a cloud: ``read`` returns the recorded object, ``update`` only records
new keepers-free arguments (every argument that shapes a value forces a new one), and
``delete`` forgets. Imports take the ids hashicorp/random takes.
"""

from __future__ import annotations

import secrets
import uuid
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
    UpdateRequest,
    ValidateRequest,
    WithoutPlanRules,
)
from providers.random import values
from providers.random.pets import pet_name
from providers.random.schema import SCHEMA
from providers.schema import ProviderSchema
from reconciler.diagnostics import error


def _known(planned: dict[str, Any], type_name: str) -> dict[str, Any]:
    """The arguments, with computed (unknown) ones dropped; an argument still unknown is a bug."""
    out = {}
    for name, attr in SCHEMA.resources[type_name].attribute_map.items():
        value = planned.get(name)
        if attr.computed and not (attr.optional or attr.required):
            continue
        if value is not None and not _is_plain(value):
            raise PermanentError(
                f"{type_name}.{name} is still unknown at apply; the engine must resolve it first",
                code="UnknownValue",
            )
        out[name] = value
    return out


def _is_plain(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_is_plain(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    return value is None or isinstance(value, (str, int, float, bool))


def _string(cfg: dict[str, Any], *, password: bool) -> dict[str, Any]:
    try:
        result = values.string_value(cfg, secrets.SystemRandom())
    except values.ArgumentError as exc:
        raise PermanentError(str(exc), code="InvalidArguments") from None
    made = {**cfg, "result": result, "id": "none" if password else result}
    if password:
        made["bcrypt_hash"] = values.bcrypt_hash(result)
    return made


def _integer(cfg: dict[str, Any]) -> dict[str, Any]:
    try:
        result = values.integer_value(cfg)
    except values.ArgumentError as exc:
        raise PermanentError(str(exc), code="InvalidArguments") from None
    return {**cfg, "result": result, "id": str(result)}


def _id(cfg: dict[str, Any]) -> dict[str, Any]:
    raw = secrets.token_bytes(int(cfg["byte_length"]))
    return {**cfg, **values.id_values(raw, cfg.get("prefix") or "")}


def _uuid(cfg: dict[str, Any]) -> dict[str, Any]:
    result = str(uuid.uuid4())
    return {**cfg, "result": result, "id": result}


def _pet(cfg: dict[str, Any]) -> dict[str, Any]:
    length = int(cfg.get("length") or 2)
    separator = cfg.get("separator")
    name = pet_name(length, "-" if separator is None else separator, cfg.get("prefix"))
    return {**cfg, "id": name}


def _shuffle(cfg: dict[str, Any]) -> dict[str, Any]:
    return {**cfg, "result": values.shuffled(cfg), "id": "-"}


MAKERS = {
    "random_string": lambda cfg: _string(cfg, password=False),
    "random_password": lambda cfg: _string(cfg, password=True),
    "random_integer": _integer,
    "random_id": _id,
    "random_uuid": _uuid,
    "random_pet": _pet,
    "random_shuffle": _shuffle,
}


def _defaults(type_name: str) -> dict[str, Any]:
    attrs = SCHEMA.resources[type_name].attribute_map.values()
    return {a.name: a.default for a in attrs if not a.computed}


def _import_string(type_name: str, text: str) -> dict[str, Any]:
    """A string or password imported by its value: its length and classes read from it."""
    cfg = {**_defaults(type_name), "length": len(text)}
    made = {**cfg, "result": text, "id": "none" if type_name == "random_password" else text}
    if type_name == "random_password":
        made["bcrypt_hash"] = values.bcrypt_hash(text)
    return made


def _import_integer(text: str) -> dict[str, Any]:
    parts = text.split(",")
    if len(parts) not in (3, 4) or not all(p.strip().lstrip("-").isdigit() for p in parts[:3]):
        raise PermanentError(
            f"invalid import id {text!r}: random_integer imports as result,min,max or result,min,max,seed",
            code="InvalidImportId",
        )
    result, low, high = (int(p) for p in parts[:3])
    seed = parts[3] if len(parts) == 4 else None
    return {
        **_defaults("random_integer"),
        "min": low,
        "max": high,
        "seed": seed,
        "result": result,
        "id": str(result),
    }


def _import_id(text: str) -> dict[str, Any]:
    prefix, _, b64 = text.rpartition(",")
    try:
        raw = values.decode_b64_url(b64)
    except ValueError:
        raise PermanentError(
            f"invalid import id {text!r}: random_id imports as its b64_url value, or prefix,b64_url",
            code="InvalidImportId",
        ) from None
    return {
        **_defaults("random_id"),
        "byte_length": len(raw),
        "prefix": prefix or None,
        **values.id_values(raw, prefix),
    }


def _import_uuid(text: str) -> dict[str, Any]:
    try:
        result = str(uuid.UUID(text))
    except ValueError:
        raise PermanentError(
            f"invalid import id {text!r}: random_uuid imports as a UUID", code="InvalidImportId"
        ) from None
    return {**_defaults("random_uuid"), "result": result, "id": result}


IMPORTERS = {
    "random_string": lambda text: _import_string("random_string", text),
    "random_password": lambda text: _import_string("random_password", text),
    "random_integer": _import_integer,
    "random_id": _import_id,
    "random_uuid": _import_uuid,
}


class RandomProvider(WithoutPlanRules):
    name = "random"
    objects_outside_state = False  # values live only in state

    def __init__(self, *, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()

    def _maker(self, type_name: str):
        maker = MAKERS.get(type_name)
        if maker is None:
            raise PermanentError(
                f"the random provider has no resource type {type_name!r}", code="UnknownResourceType"
            )
        return maker

    def schema(self) -> ProviderSchema:
        return SCHEMA

    def configure(self, config: dict[str, Any]) -> list:
        return []

    def validate(self, req: ValidateRequest) -> list:
        """The provider's own cross-argument checks, on the values known at validate time."""
        cfg = req.config
        if req.type_name in ("random_string", "random_password"):
            length = cfg.get("length")
            minimums = [cfg.get(f"min_{c}") for c in ("lower", "upper", "numeric", "special")]
            if isinstance(length, int) and all(isinstance(m, int) or m is None for m in minimums):
                total = sum(m or 0 for m in minimums)
                if total > length:
                    return [
                        error(
                            "invalid_value",
                            f"length ({length}) is less than the sum of the minimums ({total})",
                            "Make length at least min_lower + min_upper + min_numeric + min_special.",
                        )
                    ]
        if req.type_name == "random_integer":
            low, high = cfg.get("min"), cfg.get("max")
            if isinstance(low, int) and isinstance(high, int) and low > high:
                return [error("invalid_value", f"min ({low}) is greater than max ({high})", "Swap them.")]
        return []

    def read(self, req: ReadRequest) -> ReadResponse:
        self._maker(req.type_name)
        return ReadResponse(dict(req.prior))

    def read_data(self, req: DataRequest) -> ReadResponse:
        raise PermanentError(
            f"the random provider has no data source {req.type_name!r}", code="UnknownDataSource"
        )

    def create(self, req: CreateRequest) -> ApplyResponse:
        maker = self._maker(req.type_name)
        return ApplyResponse(maker(_known(req.planned, req.type_name)))

    def update(self, req: UpdateRequest) -> ApplyResponse:
        """Only arguments that don't shape the value change in place; the value stays."""
        self._maker(req.type_name)
        return ApplyResponse({**req.prior, **_known(req.planned, req.type_name)})

    def delete(self, req: DeleteRequest) -> None:
        self._maker(req.type_name)

    def import_(self, req: ImportRequest) -> ReadResponse:
        importer = IMPORTERS.get(req.type_name)
        if importer is None:
            self._maker(req.type_name)
            raise PermanentError(
                f"{req.type_name} can't be imported (hashicorp/random has no import for it either)",
                code="ImportNotSupported",
            )
        return ReadResponse(importer(req.id))
