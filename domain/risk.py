"""Risk levels and the default gates of ARCHITECTURE.md §2."""

from __future__ import annotations

from enum import StrEnum


class RiskLevel(StrEnum):
    READ_ONLY = "READ_ONLY"
    LOW_RISK = "LOW_RISK"
    MEDIUM_RISK = "MEDIUM_RISK"
    HIGH_RISK = "HIGH_RISK"
    CRITICAL = "CRITICAL"

    @property
    def rank(self) -> int:
        return _ORDER.index(self)

    def at_least(self, other: RiskLevel) -> RiskLevel:
        """The higher of two levels: a proposal may raise a risk, never lower it."""
        return self if self.rank >= other.rank else other


_ORDER = list(RiskLevel)


class Effect(StrEnum):
    """What an action does to its target, before the environment is considered."""

    READ = "read"
    REVERSIBLE = "reversible"
    CHANGE = "change"
    DESTRUCTIVE = "destructive"


class Tier(StrEnum):
    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"


# effect × tier → level, exactly the table of ARCHITECTURE.md §2. A non-reversible change in
# dev is not named there; it is treated like a change in staging.
RISK_MATRIX: dict[Effect, dict[Tier, RiskLevel]] = {
    Effect.READ: {t: RiskLevel.READ_ONLY for t in Tier},
    Effect.REVERSIBLE: {
        Tier.DEV: RiskLevel.LOW_RISK,
        Tier.STAGING: RiskLevel.MEDIUM_RISK,
        Tier.PROD: RiskLevel.MEDIUM_RISK,
    },
    Effect.CHANGE: {
        Tier.DEV: RiskLevel.MEDIUM_RISK,
        Tier.STAGING: RiskLevel.MEDIUM_RISK,
        Tier.PROD: RiskLevel.HIGH_RISK,
    },
    Effect.DESTRUCTIVE: {t: RiskLevel.CRITICAL for t in Tier},
}


class GateKind(StrEnum):
    RUN = "run"  # runs at once
    REPORT = "report"  # runs at once, reported
    APPROVAL = "approval"  # waits for a quorum
    MANUAL = "manual"  # never executed: the steps are posted for a human


# The least each level requires; a policy may ask for more approvals, never fewer.
MIN_APPROVALS: dict[RiskLevel, int] = {
    RiskLevel.READ_ONLY: 0,
    RiskLevel.LOW_RISK: 0,
    RiskLevel.MEDIUM_RISK: 1,
    RiskLevel.HIGH_RISK: 2,
}
