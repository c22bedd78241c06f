"""Reads for capturing redemptions (商铺核销): the shop a merchant scans at."""

from __future__ import annotations

from gongzhi.accounts.models import User
from gongzhi.core.errors import NotFound
from gongzhi.points import policies
from gongzhi.points.models import Shop


def shop_for_capture(user: User, shop_id: int) -> Shop:
    """The open shop `shop_id` when `user` is one of its managers (商铺管理员); otherwise NotFound, the same
    answer as for a shop that does not exist, so shop ids cannot be probed."""
    shop = (Shop.objects.filter(policies.shops_managed_q(user), pk=shop_id)
            .select_related("township", "village").first())
    if shop is None or not policies.can_capture(user, shop):
        raise NotFound()
    return shop
