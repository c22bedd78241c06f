"""The points economy's data: the rule catalogue and star scale, the ledger, claims and awards, shops."""

from gongzhi.points.models.awards import Award, Claim, EvidencePhoto
from gongzhi.points.models.ledger import (
    GENESIS_HASH,
    Account,
    LedgerCheck,
    LedgerEntry,
    LedgerHead,
    SourceType,
    entry_hash,
)
from gongzhi.points.models.rules import Awarder, CapPeriod, RuleCategory, RuleItem, StarScale, Trigger
from gongzhi.points.models.shops import Redemption, Shop, ShopItem

__all__ = [
    "GENESIS_HASH", "Account", "Award", "Awarder", "CapPeriod", "Claim", "EvidencePhoto", "LedgerCheck",
    "LedgerEntry", "LedgerHead", "Redemption", "RuleCategory", "RuleItem", "Shop", "ShopItem", "SourceType",
    "StarScale", "Trigger", "entry_hash",
]
