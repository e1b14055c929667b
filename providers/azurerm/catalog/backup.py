"""azurerm_backup_policy_vm and azurerm_backup_protected_vm: what a CMK vault backs up, and how.

Both target a vault, so they come after the vault's key assignment (O4); protecting an
item before CMK is configured makes CMK impossible for that vault (R3).
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
    set_of,
)

from .common import (
    BACKUP_POLICY_ID_HINT,
    BACKUP_POLICY_ID_PATTERN,
    DAYS_OF_WEEK,
    MONTHS,
    VIRTUAL_MACHINE_ID_HINT,
    WEEKS_OF_MONTH,
    arm_id_pattern,
    id_attribute,
    name_attribute,
    resource_group_name_attribute,
)
from .recovery_vault import RECOVERY_VAULT_NAME_HINT, RECOVERY_VAULT_NAME_PATTERN

# An Azure Resource Manager VM, or a classic (Azure Service Manager) one: the id is well formed
# either way; whether a classic VM may be protected in a CMK vault is rule R14's to say, with its
# reason, not a generic invalid value here.
SOURCE_VM_ID_PATTERN = arm_id_pattern("Microsoft.(?:Classic)?Compute/virtualMachines/{}")
SOURCE_VM_ID_HINT = (
    VIRTUAL_MACHINE_ID_HINT + " (or Microsoft.ClassicCompute/virtualMachines/{name} for a classic VM)"
)

POLICY_NAME_PATTERN = r"[a-zA-Z][-_!a-zA-Z0-9]{2,149}"
POLICY_NAME_HINT = "3 to 150 characters starting with a letter: letters, digits, '-', '_' and '!'"
BACKUP_TIME_PATTERN = r"([01][0-9]|2[0-3]):(00|30)"
BACKUP_TIME_HINT = "a time of day HH:MM on the hour or half hour, e.g. 23:00 or 01:30"
FREQUENCIES = ("Hourly", "Daily", "Weekly")
PROTECTION_STATES = (
    "IRPending",
    "Protected",
    "ProtectionError",
    "ProtectionStopped",
    "ProtectionPaused",
    "Invalid",
)


def _recovery_vault_name() -> Attribute:
    return Attribute(
        "recovery_vault_name",
        STRING,
        required=True,
        force_new=True,
        pattern=RECOVERY_VAULT_NAME_PATTERN,
        pattern_hint=RECOVERY_VAULT_NAME_HINT,
        description="The Recovery Services vault; changing it creates a new object.",
    )


def _weekdays(*, required: bool) -> Attribute:
    return Attribute(
        "weekdays",
        set_of(STRING),
        required=required,
        optional=not required,
        enum=DAYS_OF_WEEK,
        case_insensitive=True,
        description="Days of the week.",
    )


def _weeks() -> Attribute:
    return Attribute(
        "weeks", set_of(STRING), optional=True, enum=WEEKS_OF_MONTH, description="Weeks of the month."
    )


def _count(low: int, high: int, what: str) -> Attribute:
    return Attribute(
        "count",
        NUMBER,
        required=True,
        min_value=low,
        max_value=high,
        description=f"How many {what} to keep ({low} to {high}).",
    )


def _retention(name: str, attrs: tuple[Attribute, ...], description: str) -> NestedBlock:
    return NestedBlock(
        name, BlockSchema(attributes=attrs), nesting=Nesting.LIST, max_items=1, description=description
    )


def _days_of_month() -> tuple[Attribute, ...]:
    return (
        Attribute(
            "days",
            set_of(NUMBER),
            optional=True,
            min_value=1,
            max_value=31,
            description="Days of the month (1 to 31).",
        ),
        Attribute(
            "include_last_days",
            BOOL,
            optional=True,
            default=False,
            description="Also keep the backup of the month's last day.",
        ),
    )


BACKUP_SCHEDULE_BLOCK = NestedBlock(
    "backup",
    BlockSchema(
        attributes=(
            Attribute(
                "frequency", STRING, required=True, enum=FREQUENCIES, description="How often backups run."
            ),
            Attribute(
                "time",
                STRING,
                required=True,
                pattern=BACKUP_TIME_PATTERN,
                pattern_hint=BACKUP_TIME_HINT,
                description="When backups start, in the policy's timezone.",
            ),
            _weekdays(required=False),
            Attribute(
                "hour_interval",
                NUMBER,
                optional=True,
                enum=(4, 6, 8, 12),
                description="Hours between backups when frequency is Hourly (V2 policies).",
            ),
            Attribute(
                "hour_duration",
                NUMBER,
                optional=True,
                min_value=4,
                max_value=24,
                description="Length of the hourly backup window, a multiple of hour_interval.",
            ),
        )
    ),
    nesting=Nesting.LIST,
    min_items=1,
    max_items=1,
    description="When backups run.",
)

TIERING_POLICY_BLOCK = NestedBlock(
    "tiering_policy",
    BlockSchema(
        blocks=(
            NestedBlock(
                "archived_restore_point",
                BlockSchema(
                    attributes=(
                        Attribute(
                            "mode",
                            STRING,
                            required=True,
                            enum=("TierAfter", "TierRecommended"),
                            description="When recovery points move to the archive tier.",
                        ),
                        Attribute("duration", NUMBER, optional=True, description="How long before tiering."),
                        Attribute(
                            "duration_type",
                            STRING,
                            optional=True,
                            enum=("Days", "Weeks", "Months", "Years"),
                            description="The unit of duration.",
                        ),
                    )
                ),
                nesting=Nesting.LIST,
                min_items=1,
                max_items=1,
            ),
        )
    ),
    nesting=Nesting.LIST,
    max_items=1,
    description="Archive-tier settings of the policy.",
)

BACKUP_POLICY_VM = ResourceSchema(
    type_name="azurerm_backup_policy_vm",
    mode=Mode.MANAGED,
    description="A VM backup policy in a Recovery Services vault: schedule and retention.",
    import_id_hint=(
        "/subscriptions/{subscription_id}/resourceGroups/{group}/providers/"
        "Microsoft.RecoveryServices/vaults/{vault}/backupPolicies/{name}"
    ),
    block=BlockSchema(
        attributes=(
            name_attribute(
                POLICY_NAME_PATTERN, POLICY_NAME_HINT, "The policy name; changing it creates a new policy."
            ),
            resource_group_name_attribute("The vault's resource group; changing it creates a new policy."),
            _recovery_vault_name(),
            Attribute(
                "policy_type",
                STRING,
                optional=True,
                force_new=True,
                default="V1",
                enum=("V1", "V2"),
                description="V2 (Enhanced) adds hourly schedules and longer instant restore.",
            ),
            Attribute(
                "consistency_type",
                STRING,
                optional=True,
                enum=("OnlyCrashConsistent",),
                description="Snapshot consistency of the policy's backups (V2 policies only).",
            ),
            Attribute(
                "timezone",
                STRING,
                optional=True,
                default="UTC",
                description="The time zone of backup.time, e.g. UTC or W. Europe Standard Time.",
            ),
            Attribute(
                "instant_restore_retention_days",
                NUMBER,
                optional=True,
                computed=True,
                min_value=1,
                max_value=30,
                description="Days snapshots stay for instant restore (at most 5 for V1).",
            ),
            id_attribute("The policy's Azure resource id."),
        ),
        blocks=(
            BACKUP_SCHEDULE_BLOCK,
            _retention(
                "retention_daily",
                (_count(7, 9999, "daily backups"),),
                "Keep daily backups; required for Daily and Hourly schedules.",
            ),
            _retention(
                "retention_weekly",
                (_count(1, 9999, "weekly backups"), _weekdays(required=True)),
                "Keep weekly backups.",
            ),
            _retention(
                "retention_monthly",
                (_count(1, 9999, "monthly backups"), _weeks(), _weekdays(required=False), *_days_of_month()),
                "Keep monthly backups.",
            ),
            _retention(
                "retention_yearly",
                (
                    _count(1, 9999, "yearly backups"),
                    Attribute(
                        "months",
                        set_of(STRING),
                        required=True,
                        enum=MONTHS,
                        case_insensitive=True,
                        description="Months of the year.",
                    ),
                    _weeks(),
                    _weekdays(required=False),
                    *_days_of_month(),
                ),
                "Keep yearly backups.",
            ),
            NestedBlock(
                "instant_restore_resource_group",
                BlockSchema(
                    attributes=(
                        Attribute("prefix", STRING, required=True, description="Prefix of the group name."),
                        Attribute("suffix", STRING, optional=True, description="Suffix of the group name."),
                    )
                ),
                nesting=Nesting.LIST,
                max_items=1,
                description="Where instant-restore snapshots are kept.",
            ),
            TIERING_POLICY_BLOCK,
        ),
    ),
)

BACKUP_PROTECTED_VM = ResourceSchema(
    type_name="azurerm_backup_protected_vm",
    mode=Mode.MANAGED,
    description="Protects a virtual machine with a backup policy in a Recovery Services vault.",
    import_id_hint=(
        "/subscriptions/{subscription_id}/resourceGroups/{group}/providers/"
        "Microsoft.RecoveryServices/vaults/{vault}/backupFabrics/Azure/protectionContainers/"
        "iaasvmcontainer;iaasvmcontainerv2;{vm_group};{vm_name}/protectedItems/"
        "vm;iaasvmcontainerv2;{vm_group};{vm_name}"
    ),
    block=BlockSchema(
        attributes=(
            resource_group_name_attribute("The vault's resource group; changing it creates a new item."),
            _recovery_vault_name(),
            Attribute(
                "source_vm_id",
                STRING,
                optional=True,
                computed=True,
                force_new=True,
                pattern=SOURCE_VM_ID_PATTERN,
                pattern_hint=SOURCE_VM_ID_HINT,
                description="The virtual machine to protect; needed when protection starts.",
            ),
            Attribute(
                "backup_policy_id",
                STRING,
                optional=True,
                pattern=BACKUP_POLICY_ID_PATTERN,
                pattern_hint=BACKUP_POLICY_ID_HINT,
                description="The backup policy; needed when protection starts.",
            ),
            Attribute(
                "exclude_disk_luns",
                set_of(NUMBER),
                optional=True,
                min_value=0,
                conflicts_with=("include_disk_luns",),
                description="Data disk LUNs left out of the backup.",
            ),
            Attribute(
                "include_disk_luns",
                set_of(NUMBER),
                optional=True,
                min_value=0,
                conflicts_with=("exclude_disk_luns",),
                description="The only data disk LUNs backed up.",
            ),
            Attribute(
                "protection_state",
                STRING,
                optional=True,
                computed=True,
                enum=PROTECTION_STATES,
                description="Set ProtectionStopped to stop backups and keep the recovery points.",
            ),
            id_attribute("The protected item's Azure resource id."),
        )
    ),
)

RESOURCES = (BACKUP_POLICY_VM, BACKUP_PROTECTED_VM)
