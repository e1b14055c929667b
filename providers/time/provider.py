"""The ``time`` provider: timestamps kept in state, waits on create and destroy.

time_static and time_offset are computed once; time_rotating is read as gone once its
rotation time has passed, so the next plan makes it anew (as hashicorp/time does); time_sleep
waits ``create_duration`` after creating and ``destroy_duration`` before it is destroyed, on
the clock ``clocks.time_source`` picks.
"""

from __future__ import annotations

from datetime import timedelta
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
from providers.schema import ProviderSchema
from providers.time.clocks import TimeSource, time_source
from providers.time.moments import add_date, format_rfc3339, parse_duration, parse_rfc3339, parts
from providers.time.schema import SCHEMA

_ROTATION = ("years", "months", "days", "hours", "minutes")
_OFFSET = ("years", "months", "days", "hours", "minutes", "seconds")


def _args(type_name: str, planned: dict[str, Any]) -> dict[str, Any]:
    attrs = SCHEMA.resources[type_name].attribute_map.values()
    out: dict[str, Any] = {}
    for attr in attrs:
        value = planned.get(attr.name)
        if not (attr.optional or attr.required):
            continue
        if value is not None and not isinstance(value, (str, int, float, dict)):
            value = None  # an optional+computed argument left unset: still unknown in the plan
        out[attr.name] = value
    return out


def _shifted(base, cfg: dict[str, Any], prefix: str, units: tuple[str, ...]):
    def n(unit: str) -> int:
        return int(cfg.get(f"{prefix}_{unit}") or 0)

    moment = add_date(base, n("years"), n("months"), n("days"))
    seconds = n("hours") * 3600 + n("minutes") * 60 + (n("seconds") if "seconds" in units else 0)
    return moment + timedelta(seconds=seconds)


def _duration(cfg: dict[str, Any], name: str) -> float:
    text = cfg.get(name)
    if not text:
        return 0.0
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise PermanentError(f"{name}: {exc}", code="InvalidArguments") from None


class TimeProvider(WithoutPlanRules):
    name = "time"
    objects_outside_state = False  # timestamps live only in state

    def __init__(self, *, clock: Clock | None = None, source: TimeSource | None = None) -> None:
        self.clock = clock or Clock()
        self._source = source

    @property
    def source(self) -> TimeSource:
        if self._source is None:
            self._source = time_source()
        return self._source

    def _check(self, type_name: str) -> None:
        if type_name not in SCHEMA.resources:
            raise PermanentError(
                f"the time provider has no resource type {type_name!r}", code="UnknownResourceType"
            )

    # ------------------------------------------------------------------ values

    def _static(self, cfg: dict[str, Any]) -> dict[str, Any]:
        moment = parse_rfc3339(cfg["rfc3339"]) if cfg.get("rfc3339") else self.source.now()
        stamp = format_rfc3339(moment)
        return {**cfg, "rfc3339": stamp, **parts(moment), "id": stamp}

    def _rotating(self, cfg: dict[str, Any], base=None) -> dict[str, Any]:
        if base is None:
            base = parse_rfc3339(cfg["rfc3339"]) if cfg.get("rfc3339") else self.source.now()
        periods = any(cfg.get(f"rotation_{u}") for u in _ROTATION)
        if periods:
            rotation = _shifted(base, cfg, "rotation", _ROTATION)
        elif cfg.get("rotation_rfc3339"):
            rotation = parse_rfc3339(cfg["rotation_rfc3339"])
        else:
            raise PermanentError(
                "time_rotating needs a rotation period or rotation_rfc3339", code="InvalidArguments"
            )
        stamp = format_rfc3339(base)
        return {
            **cfg,
            "rfc3339": stamp,
            "rotation_rfc3339": format_rfc3339(rotation),
            **parts(base),
            "id": stamp,
        }

    def _offset(self, cfg: dict[str, Any], base=None) -> dict[str, Any]:
        if base is None:
            base = parse_rfc3339(cfg["base_rfc3339"]) if cfg.get("base_rfc3339") else self.source.now()
        moment = _shifted(base, cfg, "offset", _OFFSET)
        base_stamp = format_rfc3339(base)
        return {
            **cfg,
            "base_rfc3339": base_stamp,
            "rfc3339": format_rfc3339(moment),
            **parts(moment),
            "id": base_stamp,
        }

    # ------------------------------------------------------------------ protocol

    def schema(self) -> ProviderSchema:
        return SCHEMA

    def configure(self, config: dict[str, Any]) -> list:
        return []

    def validate(self, req: ValidateRequest) -> list:
        return []

    def read(self, req: ReadRequest) -> ReadResponse:
        self._check(req.type_name)
        prior = dict(req.prior)
        rotates_at = prior.get("rotation_rfc3339") if req.type_name == "time_rotating" else None
        if rotates_at and self.source.now() >= parse_rfc3339(rotates_at):
            return ReadResponse(None)  # rotated: the next apply makes a new one
        return ReadResponse(prior)

    def read_data(self, req: DataRequest) -> ReadResponse:
        raise PermanentError(
            f"the time provider has no data source {req.type_name!r}", code="UnknownDataSource"
        )

    def create(self, req: CreateRequest) -> ApplyResponse:
        self._check(req.type_name)
        cfg = _args(req.type_name, req.planned)
        if req.type_name == "time_sleep":
            self.source.wait(_duration(cfg, "create_duration"))
            return ApplyResponse({**cfg, "id": format_rfc3339(self.source.now())})
        made = {"time_static": self._static, "time_rotating": self._rotating, "time_offset": self._offset}
        return ApplyResponse(made[req.type_name](cfg))

    def update(self, req: UpdateRequest) -> ApplyResponse:
        self._check(req.type_name)
        cfg = _args(req.type_name, req.planned)
        prior = req.prior
        if req.type_name == "time_rotating":
            return ApplyResponse(self._rotating(cfg, parse_rfc3339(prior["rfc3339"])))
        if req.type_name == "time_offset":
            base = cfg.get("base_rfc3339") or prior["base_rfc3339"]
            return ApplyResponse(self._offset(cfg, parse_rfc3339(base)))
        return ApplyResponse({**prior, **{k: v for k, v in cfg.items() if v is not None or k in req.changed}})

    def delete(self, req: DeleteRequest) -> None:
        self._check(req.type_name)
        if req.type_name == "time_sleep":
            self.source.wait(_duration(req.prior, "destroy_duration"))

    def import_(self, req: ImportRequest) -> ReadResponse:
        self._check(req.type_name)
        fields = req.id.split(",")
        try:
            return ReadResponse(self._imported(req.type_name, fields))
        except (ValueError, IndexError):
            hint = SCHEMA.resources[req.type_name].import_id_hint
            raise PermanentError(
                f"invalid import id {req.id!r}: {req.type_name} imports as {hint}", code="InvalidImportId"
            ) from None

    def _imported(self, type_name: str, fields: list[str]) -> dict[str, Any]:
        if type_name == "time_sleep":
            create, destroy = (fields + [""])[:2] if len(fields) <= 2 else (None, None)
            if create is None:
                raise ValueError(fields)
            for text in (create, destroy):
                if text:
                    parse_duration(text)
            return {
                "create_duration": create or None,
                "destroy_duration": destroy or None,
                "triggers": None,
                "id": format_rfc3339(self.source.now()),
            }
        base = parse_rfc3339(fields[0])
        if type_name == "time_static":
            return self._static({"rfc3339": format_rfc3339(base), "triggers": None})
        if type_name == "time_offset":
            numbers = [int(f) for f in fields[1:7]]
            if len(numbers) != 6:
                raise ValueError(fields)
            cfg: dict[str, Any] = {f"offset_{u}": (n or None) for u, n in zip(_OFFSET, numbers)}
            return self._offset({**cfg, "base_rfc3339": format_rfc3339(base), "triggers": None}, base)
        if len(fields) == 2:
            cfg = {"rotation_rfc3339": format_rfc3339(parse_rfc3339(fields[1]))}
        else:
            numbers = [int(f) for f in fields[1:6]]
            if len(numbers) != 5:
                raise ValueError(fields)
            cfg = {f"rotation_{u}": (n or None) for u, n in zip(_ROTATION, numbers)}
        return self._rotating({**cfg, "rfc3339": format_rfc3339(base), "triggers": None}, base)
