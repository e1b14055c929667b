"""azurerm_key_vault_key: the key encryption key (KEK) a Recovery Services vault uses.

Only RSA keys (RSA, RSA-HSM; 2048, 3072 or 4096 bits) can serve Backup CMK (R4); the
catalog accepts everything azurerm accepts and the domain rules refuse the rest.
The object's ``id`` is the versioned key id; ``versionless_id`` rotates (A1/A2).
"""

from __future__ import annotations

from providers.schema import (
    BOOL,
    NUMBER,
    STRING,
    Attribute,
    BlockSchema,
    Mode,
    NestedBlock,
    Nesting,
    ResourceSchema,
    list_of,
)

from .common import (
    ISO8601_DURATION_HINT,
    ISO8601_DURATION_PATTERN,
    KEY_VAULT_ID_HINT,
    KEY_VAULT_ID_PATTERN,
    RFC3339_HINT,
    RFC3339_PATTERN,
    computed,
    name_attribute,
    tags_attribute,
)

KEY_NAME_PATTERN = r"[0-9a-zA-Z-]{1,127}"
KEY_NAME_HINT = "1 to 127 letters, digits and hyphens"

KEY_TYPES = ("EC", "EC-HSM", "RSA", "RSA-HSM")
RSA_KEY_SIZES = (2048, 3072, 4096)
KEY_OPTS = ("decrypt", "encrypt", "sign", "unwrapKey", "verify", "wrapKey")
CURVES = ("P-256", "P-256K", "P-384", "P-521")


def _duration(name: str, description: str) -> Attribute:
    return Attribute(
        name,
        STRING,
        optional=True,
        pattern=ISO8601_DURATION_PATTERN,
        pattern_hint=ISO8601_DURATION_HINT,
        description=description,
    )


AUTOMATIC_BLOCK = NestedBlock(
    "automatic",
    BlockSchema(
        attributes=(
            _duration("time_after_creation", "Rotate this long after the version was created."),
            _duration("time_before_expiry", "Rotate this long before the version expires."),
        ),
        at_least_one_of=(("time_after_creation", "time_before_expiry"),),
    ),
    nesting=Nesting.LIST,
    max_items=1,
    description="When Key Vault creates a new key version on its own.",
)

ROTATION_POLICY_BLOCK = NestedBlock(
    "rotation_policy",
    BlockSchema(
        attributes=(
            _duration("expire_after", "How long each new version stays valid (P28D to P100Y)."),
            _duration("notify_before_expiry", "When to raise the near-expiry event (at least P7D)."),
        ),
        blocks=(AUTOMATIC_BLOCK,),
        at_least_one_of=(("expire_after", "automatic"),),
        required_with=(
            ("expire_after", ("notify_before_expiry",)),
            ("notify_before_expiry", ("expire_after",)),
        ),
    ),
    nesting=Nesting.LIST,
    max_items=1,
    description="The key's rotation policy. With a versionless key id the vault follows "
    "rotations automatically (within about an hour).",
)

# azurerm sends it with the key marked exportable; a change creates a new key (ForceNew on the
# block in key_vault_key_resource.go), and only RSA-HSM and EC-HSM keys can be released.
RELEASE_POLICY_BLOCK = NestedBlock(
    "release_policy",
    BlockSchema(
        attributes=(
            Attribute("json", STRING, required=True, description="The release policy, as JSON."),
            Attribute(
                "immutable",
                BOOL,
                optional=True,
                default=False,
                description="Whether the policy can never change once set.",
            ),
        ),
    ),
    nesting=Nesting.LIST,
    max_items=1,
    force_new=True,
    description="The rules under which an HSM-backed key may be exported (secure key release).",
)

KEY_VAULT_KEY = ResourceSchema(
    type_name="azurerm_key_vault_key",
    mode=Mode.MANAGED,
    description="A key in a key vault; as a Backup CMK it must be RSA, enabled and not expired.",
    import_id_hint="https://{vault_name}.vault.azure.net/keys/{name}/{version}",
    block=BlockSchema(
        attributes=(
            name_attribute(KEY_NAME_PATTERN, KEY_NAME_HINT, "The key name; changing it creates a new key."),
            Attribute(
                "key_vault_id",
                STRING,
                required=True,
                force_new=True,
                pattern=KEY_VAULT_ID_PATTERN,
                pattern_hint=KEY_VAULT_ID_HINT,
                description="The key vault that holds the key; changing it creates a new key.",
            ),
            Attribute(
                "key_type",
                STRING,
                required=True,
                force_new=True,
                enum=KEY_TYPES,
                description="The key's kind; Backup CMK needs RSA or RSA-HSM.",
            ),
            Attribute(
                "key_size",
                NUMBER,
                optional=True,
                force_new=True,
                enum=RSA_KEY_SIZES,
                conflicts_with=("curve",),
                description="RSA modulus size in bits; required for RSA and RSA-HSM keys.",
            ),
            Attribute(
                "curve",
                STRING,
                optional=True,
                computed=True,
                force_new=True,
                enum=CURVES,
                conflicts_with=("key_size",),
                description="Elliptic curve of an EC key.",
            ),
            Attribute(
                "key_opts",
                list_of(STRING),
                required=True,
                enum=KEY_OPTS,
                description="Operations the key allows; CMK needs wrapKey and unwrapKey.",
            ),
            Attribute(
                "not_before_date",
                STRING,
                optional=True,
                pattern=RFC3339_PATTERN,
                fold="rfc3339",
                pattern_hint=RFC3339_HINT,
                description="The key can't be used before this time.",
            ),
            # Optional and computed: Azure sets an expiry on every version a rotation policy with
            # expire_after makes (Azure SDK for .NET, KeyRotationPolicy.ExpiresIn: "the ISO 8601
            # duration when a new KeyVaultKey version created from this policy will expire"), and
            # an expiry can be moved but never removed
            # (azurerm PR 23327: "The Azure portal also does not allow expiration_date to be
            # removed after it has been set"). Left unset, the key keeps the expiry Azure holds;
            # as Optional only (azurerm), the first plan after a rotation wants it gone - a no-op
            # update every run (azurerm issue 22838) or, since azurerm 3.74, a replacement of the
            # key in use (azurerm issue 24965).
            Attribute(
                "expiration_date",
                STRING,
                optional=True,
                computed=True,
                pattern=RFC3339_PATTERN,
                fold="rfc3339",
                pattern_hint=RFC3339_HINT,
                description=(
                    "The key can't be used after this time; an expired key breaks backups. Left "
                    "unset, the key keeps the expiry it has (a rotation policy's expire_after sets "
                    "one on each new version; Azure can't remove an expiry)."
                ),
            ),
            tags_attribute(),
            computed("id", "The versioned key id, https://{vault}.vault.azure.net/keys/{name}/{version}."),
            computed("version", "The current version (32 hex digits)."),
            computed("versionless_id", "The key id without version; it follows rotations."),
            computed("resource_id", "The key's Azure Resource Manager id (versioned)."),
            computed("resource_versionless_id", "The key's Azure Resource Manager id without version."),
            computed("n", "RSA modulus, base64url."),
            computed("e", "RSA public exponent, base64url."),
            computed("x", "EC x coordinate, base64url."),
            computed("y", "EC y coordinate, base64url."),
            computed("public_key_pem", "The public key in PEM form."),
            computed("public_key_openssh", "The public key in OpenSSH form."),
        ),
        blocks=(ROTATION_POLICY_BLOCK, RELEASE_POLICY_BLOCK),
    ),
)

RESOURCES = (KEY_VAULT_KEY,)
