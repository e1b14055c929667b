"""Schemas of the ``random`` provider, mirroring hashicorp/random's resources.

Names, defaults and what forces a new value follow the provider's own schemas
(hashicorp/terraform-provider-random, internal/provider/resource_*.go): every argument that
shapes the value replaces it when changed, and ``keepers`` is a map whose change makes a new
value. ``random_password``'s result is sensitive.
"""

from __future__ import annotations

from providers.schema import (
    BOOL,
    NUMBER,
    STRING,
    Attribute,
    BlockSchema,
    Mode,
    ProviderSchema,
    ResourceSchema,
    list_of,
    map_of,
)

KEEPERS = Attribute(
    "keepers",
    map_of(STRING),
    optional=True,
    force_new=True,
    description="Arbitrary values that, when changed, make a new random value.",
)
ID = Attribute("id", STRING, computed=True, description="The id the provider gives the value.")


def _flag(name: str, what: str, *, deprecated: str = "") -> Attribute:
    return Attribute(
        name,
        BOOL,
        optional=True,
        default=True,
        force_new=True,
        deprecated=deprecated,
        description=f"Include {what} in the result (default true).",
    )


def _minimum(name: str, what: str) -> Attribute:
    return Attribute(
        name,
        NUMBER,
        optional=True,
        default=0,
        min_value=0,
        force_new=True,
        description=f"At least this many {what} (default 0).",
    )


def _string_block(*, sensitive: bool) -> BlockSchema:
    extra = (
        (
            Attribute(
                "bcrypt_hash", STRING, computed=True, sensitive=True, description="A bcrypt hash of result."
            ),
        )
        if sensitive
        else ()
    )
    return BlockSchema(
        attributes=(
            KEEPERS,
            Attribute(
                "length", NUMBER, required=True, force_new=True, min_value=1, description="Characters."
            ),
            _flag("special", "special characters !@#$%&*()-_=+[]{}<>:?"),
            _flag("upper", "upper-case letters"),
            _flag("lower", "lower-case letters"),
            _flag("numeric", "digits"),
            _flag("number", "digits", deprecated="number is deprecated, use numeric instead"),
            _minimum("min_numeric", "digits"),
            _minimum("min_upper", "upper-case letters"),
            _minimum("min_lower", "lower-case letters"),
            _minimum("min_special", "special characters"),
            Attribute(
                "override_special",
                STRING,
                optional=True,
                force_new=True,
                description="The special characters to use instead of the default set.",
            ),
            Attribute(
                "result", STRING, computed=True, sensitive=sensitive, description="The generated string."
            ),
            *extra,
            ID,
        )
    )


RANDOM_STRING = ResourceSchema(
    "random_string",
    Mode.MANAGED,
    _string_block(sensitive=False),
    description="A random string, e.g. for unique names.",
    import_id_hint="the string itself",
)
RANDOM_PASSWORD = ResourceSchema(
    "random_password",
    Mode.MANAGED,
    _string_block(sensitive=True),
    description="A random secret string; its result is sensitive.",
    import_id_hint="the password itself",
)
RANDOM_INTEGER = ResourceSchema(
    "random_integer",
    Mode.MANAGED,
    BlockSchema(
        attributes=(
            KEEPERS,
            Attribute("min", NUMBER, required=True, force_new=True, description="The smallest value."),
            Attribute("max", NUMBER, required=True, force_new=True, description="The largest value."),
            Attribute(
                "seed", STRING, optional=True, force_new=True, description="Makes the choice repeatable."
            ),
            Attribute("result", NUMBER, computed=True, description="The chosen integer."),
            ID,
        )
    ),
    description="A random integer between min and max.",
    import_id_hint="result,min,max or result,min,max,seed",
)
RANDOM_ID = ResourceSchema(
    "random_id",
    Mode.MANAGED,
    BlockSchema(
        attributes=(
            KEEPERS,
            Attribute(
                "byte_length", NUMBER, required=True, force_new=True, min_value=1, description="Bytes."
            ),
            Attribute(
                "prefix", STRING, optional=True, force_new=True, description="Text before hex and dec."
            ),
            Attribute("b64_url", STRING, computed=True, description="URL-safe base64, no padding."),
            Attribute("b64_std", STRING, computed=True, description="Standard base64."),
            Attribute("hex", STRING, computed=True, description="Hexadecimal, with the prefix."),
            Attribute("dec", STRING, computed=True, description="Decimal, with the prefix."),
            ID,
        )
    ),
    description="Random bytes in several encodings.",
    import_id_hint="the b64_url value, or prefix,b64_url",
)
RANDOM_UUID = ResourceSchema(
    "random_uuid",
    Mode.MANAGED,
    BlockSchema(
        attributes=(KEEPERS, Attribute("result", STRING, computed=True, description="The UUID."), ID)
    ),
    description="A random UUID.",
    import_id_hint="the UUID",
)
RANDOM_PET = ResourceSchema(
    "random_pet",
    Mode.MANAGED,
    BlockSchema(
        attributes=(
            KEEPERS,
            Attribute(
                "length", NUMBER, optional=True, default=2, min_value=1, force_new=True, description="Words."
            ),
            Attribute("prefix", STRING, optional=True, force_new=True, description="A word before the name."),
            Attribute(
                "separator", STRING, optional=True, default="-", force_new=True, description="Between words."
            ),
            ID,
        )
    ),
    description="A random readable name such as 'brave-otter'.",
)
RANDOM_SHUFFLE = ResourceSchema(
    "random_shuffle",
    Mode.MANAGED,
    BlockSchema(
        attributes=(
            KEEPERS,
            Attribute(
                "input", list_of(STRING), required=True, force_new=True, description="What to shuffle."
            ),
            Attribute(
                "seed", STRING, optional=True, force_new=True, description="Makes the order repeatable."
            ),
            Attribute(
                "result_count",
                NUMBER,
                optional=True,
                force_new=True,
                min_value=0,
                description="How many to keep.",
            ),
            Attribute("result", list_of(STRING), computed=True, description="The shuffled items."),
            ID,
        )
    ),
    description="A random permutation of a list.",
)

SCHEMA = ProviderSchema(
    name="random",
    resources={
        s.type_name: s
        for s in (
            RANDOM_STRING,
            RANDOM_PASSWORD,
            RANDOM_INTEGER,
            RANDOM_ID,
            RANDOM_UUID,
            RANDOM_PET,
            RANDOM_SHUFFLE,
        )
    },
)
