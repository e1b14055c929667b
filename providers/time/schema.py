"""Schemas of the ``time`` provider, mirroring hashicorp/time's resources.

From hashicorp/terraform-provider-time, internal/provider/resource_time_*.go: ``triggers``
replaces the resource when it changes; a given ``rfc3339`` (time_static, time_rotating) does
too; offsets and rotation periods change in place; timestamps are RFC 3339 in UTC.
"""

from __future__ import annotations

from providers.schema import (
    NUMBER,
    STRING,
    Attribute,
    BlockSchema,
    Mode,
    ProviderSchema,
    ResourceSchema,
    map_of,
)

RFC3339 = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})"
RFC3339_HINT = "an RFC 3339 timestamp such as 2026-01-31T12:00:00Z"
DURATION = r"([+-]?(\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+|0"
DURATION_HINT = "a duration such as 30s, 5m or 1h30m"

TRIGGERS = Attribute(
    "triggers",
    map_of(STRING),
    optional=True,
    force_new=True,
    description="Arbitrary values that, when changed, make the resource anew.",
)
PARTS = tuple(
    Attribute(name, NUMBER, computed=True, description=f"The {name} of the timestamp.")
    for name in ("year", "month", "day", "hour", "minute", "second")
) + (Attribute("unix", NUMBER, computed=True, description="Seconds since 1970-01-01T00:00:00Z."),)
ID = Attribute("id", STRING, computed=True, description="An RFC 3339 timestamp.")


def _rfc3339(name: str, *, force_new: bool, description: str) -> Attribute:
    return Attribute(
        name,
        STRING,
        optional=True,
        computed=True,
        force_new=force_new,
        pattern=RFC3339,
        pattern_hint=RFC3339_HINT,
        fold="rfc3339",
        description=description,
    )


def _period(prefix: str, unit: str) -> Attribute:
    return Attribute(f"{prefix}_{unit}", NUMBER, optional=True, description=f"Number of {unit}.")


TIME_SLEEP = ResourceSchema(
    "time_sleep",
    Mode.MANAGED,
    BlockSchema(
        attributes=(
            Attribute(
                "create_duration",
                STRING,
                optional=True,
                pattern=DURATION,
                pattern_hint=DURATION_HINT,
                description="How long to wait after creating.",
            ),
            Attribute(
                "destroy_duration",
                STRING,
                optional=True,
                pattern=DURATION,
                pattern_hint=DURATION_HINT,
                description="How long to wait before destroying.",
            ),
            TRIGGERS,
            ID,
        ),
        at_least_one_of=(("create_duration", "destroy_duration"),),
    ),
    description="Waits on create and/or destroy, e.g. for a grant to reach Azure Backup.",
    import_id_hint="CREATE_DURATION,DESTROY_DURATION (either may be empty)",
)
TIME_STATIC = ResourceSchema(
    "time_static",
    Mode.MANAGED,
    BlockSchema(
        attributes=(
            _rfc3339("rfc3339", force_new=True, description="The timestamp (default: the time of creation)."),
            TRIGGERS,
            *PARTS,
            ID,
        )
    ),
    description="A timestamp fixed at creation.",
    import_id_hint="an RFC 3339 timestamp",
)
TIME_ROTATING = ResourceSchema(
    "time_rotating",
    Mode.MANAGED,
    BlockSchema(
        attributes=(
            _rfc3339(
                "rfc3339", force_new=True, description="The base timestamp (default: the time of creation)."
            ),
            _rfc3339("rotation_rfc3339", force_new=False, description="When it rotates."),
            *(_period("rotation", unit) for unit in ("years", "months", "days", "hours", "minutes")),
            TRIGGERS,
            *PARTS,
            ID,
        ),
        at_least_one_of=(
            (
                "rotation_days",
                "rotation_hours",
                "rotation_minutes",
                "rotation_months",
                "rotation_rfc3339",
                "rotation_years",
            ),
        ),
    ),
    description="A timestamp that is made anew once its rotation time has passed.",
    import_id_hint="BASE_RFC3339,YEARS,MONTHS,DAYS,HOURS,MINUTES or BASE_RFC3339,ROTATION_RFC3339",
)
TIME_OFFSET = ResourceSchema(
    "time_offset",
    Mode.MANAGED,
    BlockSchema(
        attributes=(
            _rfc3339("base_rfc3339", force_new=False, description="The base timestamp (default: now)."),
            *(_period("offset", unit) for unit in ("years", "months", "days", "hours", "minutes", "seconds")),
            Attribute("rfc3339", STRING, computed=True, description="The base plus the offsets."),
            TRIGGERS,
            *PARTS,
            ID,
        ),
        at_least_one_of=(
            (
                "offset_days",
                "offset_hours",
                "offset_minutes",
                "offset_months",
                "offset_seconds",
                "offset_years",
            ),
        ),
    ),
    description="A timestamp at an offset from a base.",
    import_id_hint="BASE_RFC3339,YEARS,MONTHS,DAYS,HOURS,MINUTES,SECONDS",
)

SCHEMA = ProviderSchema(
    name="time",
    resources={s.type_name: s for s in (TIME_SLEEP, TIME_STATIC, TIME_ROTATING, TIME_OFFSET)},
)
