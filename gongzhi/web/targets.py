"""What a notification opens, page by page: its target (a notice type's `target` and an id) becomes a URL of
the portal the recipient reads it in.

Domain code stores only "case 12"; this table says which page shows a case in each portal. An app whose
notices open something new adds one row here (and its pages in the portals).
"""

from django.urls import NoReverseMatch, reverse

from gongzhi.accounts.models import User
from gongzhi.accounts.selectors import primary_portal
from gongzhi.notifications.models import Notification

# target type → portal → URL name (the target's id is its one argument, when it has one).
ROUTES: dict[str, dict[str, str]] = {
    "case": {"resident": "resident:case", "worker": "worker:case", "command": "command:case"},
    # The cases of the recipient's units coming due or overdue (the sweep's digest).
    "cases.due": {"worker": "worker:tasks", "command": "command:cases"},
    # The open risk warnings (风险预警) of the recipient's scope: a new one is announced to those who acknowledge.
    "warnings": {"command": "command:warnings"},
    # A task of the task lists (任务清单): its page in the worker or command portal.
    "task": {"worker": "worker:task", "command": "command:task"},
    # A key person (重点人员) not visited by the plan's date: the person's record in the worker or command portal.
    "key_person": {"worker": "worker:key_person", "command": "command:key_person"},
    # The points economy: a claim (积分申请: the claimant's page, or the reviewers'), the account's points
    # (积分变动), a redemption (兑换).
    "claim": {"resident": "resident:points_claim", "worker": "worker:points_claim",
              "command": "command:points_claim"},
    "points": {"resident": "resident:points"},
    "redemption": {"resident": "resident:points_redemption"},
    # The ledger checks (账本核验): a check found the ledger broken.
    "ledger_checks": {"command": "command:points_admin_ledger"},
    # 公开: an item waiting for review or reviewed (its staff page); for residents (an alert, an answer to their
    # comment) the item as they read it.
    "publication": {"resident": "resident:publication", "worker": "worker:publication",
                    "command": "command:publication"},
}


def url_for(notification: Notification, *, portal: str) -> str | None:
    """The page the notification opens for its recipient in `portal` (where they read it), else in their own
    portal; None when it opens nothing."""
    routes = ROUTES.get(notification.target_type)
    if not routes:
        return None
    name = routes.get(portal) or routes.get(primary_portal(notification.recipient))
    if name is None:
        return None
    args = [notification.target_id] if notification.target_id is not None else []
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # an object target stored without its id: nothing to open
        return None


def url_for_recipient(notification: Notification) -> str:
    """The page in the recipient's own portal (for copies sent outside the site, such as WeChat); "" for none.
    Set as settings.NOTIFICATION_TARGET_URL, so the notifications app resolves targets without importing
    the web layer."""
    recipient: User = notification.recipient
    return url_for(notification, portal=primary_portal(recipient)) or ""
