"""What every check receives: the plan index, the grants it holds, the clock reading."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .estate import VaultCase, vault_cases
from .grants import Grant, collect_grants
from .model import PlanIndex
from .refs import known_str


@dataclass(frozen=True)
class RuleContext:
    index: PlanIndex
    grants: tuple[Grant, ...]
    cases: tuple[VaultCase, ...]
    now: datetime

    @classmethod
    def build(cls, index: PlanIndex, now: datetime) -> RuleContext:
        when = now
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return cls(index, tuple(collect_grants(index)), tuple(vault_cases(index)), when)

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
