"""What every check receives: the plan index, the grants it holds, the clock reading."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .estate import VaultCase, vault_cases
from .grants import Grant, collect_grants
from .model import PlanIndex
from .refs import known_str

# (principal id, key vault id, key name or "") -> the roles Azure shows the principal holding there
RoleQuestion = tuple[str, str, str]


@dataclass(frozen=True)
class RuleContext:
    index: PlanIndex
    grants: tuple[Grant, ...]
    cases: tuple[VaultCase, ...]
    now: datetime
    # what the provider read from Azure about roles held on RBAC key vaults (``role_facts``);
    # a question the rules need answered and this lacks is added to ``unanswered``
    roles_in_azure: Mapping[RoleQuestion, tuple[Any, ...]] = field(default_factory=dict)
    unanswered: set[RoleQuestion] = field(default_factory=set)

    @classmethod
    def build(
        cls,
        index: PlanIndex,
        now: datetime,
        roles_in_azure: Mapping[RoleQuestion, tuple[Any, ...]] | None = None,
    ) -> RuleContext:
        when = now
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return cls(
            index, tuple(collect_grants(index)), tuple(vault_cases(index)), when, dict(roles_in_azure or {})
        )

    def is_past(self, value: Any) -> bool:
        """A known RFC 3339 timestamp earlier than now (unreadable or unknown: False)."""
        text = known_str(value)
        if not text:
            return False
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return False
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment <= self.now
