"""The notices of 红黑榜 and 建言献策: an appeal filed (to the board's village staff), an appeal decided (to the
appellant), a suggestion answered (to its author)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.notifications import services as notifications
from gongzhi.notifications import types
from gongzhi.notifications.types import NoticeType
from gongzhi.publications.models import BoardAppeal, Publication, Suggestion

APPEAL_FILED = NoticeType(kind="board.appeal_filed", label=gettext_lazy("红黑榜收到申诉"), target="publication",
                          audience="village staff")
APPEAL_DECIDED = NoticeType(kind="board.appeal_decided", label=gettext_lazy("红黑榜申诉处理结果"),
                            target="publication", audience="appellant")
SUGGESTION_REPLIED = NoticeType(kind="suggestion.replied", label=gettext_lazy("建议已答复"), target="suggestion",
                                audience="author")


def register() -> None:
    types.register(APPEAL_FILED, APPEAL_DECIDED, SUGGESTION_REPLIED)


def appeal_filed(appeal: BoardAppeal) -> None:
    publication = appeal.publication
    staff = Membership.objects.active().filter(role=Role.VILLAGE_ADMIN, unit=publication.author_unit)
    notifications.notify(
        recipients=User.objects.filter(pk__in=staff.values("user_id")), kind=APPEAL_FILED.kind,
        title=_("红黑榜收到申诉：%(title)s") % {"title": publication.title[:60]},
        body=_("有村民对“%(criterion)s”条目提出申诉，请及时核实处理。") % {"criterion": appeal.entry.criterion.name},
        target_id=publication.pk, dedupe_key=f"board_appeal:{appeal.pk}:filed")


def appeal_decided(appeal: BoardAppeal) -> None:
    if appeal.status == BoardAppeal.Status.UPHELD:
        body = _("您对“%(criterion)s”条目的申诉成立，该条目已从红黑榜撤下。") % {
            "criterion": appeal.entry.criterion.name}
    else:
        body = _("您对“%(criterion)s”条目的申诉不成立：%(decision)s") % {
            "criterion": appeal.entry.criterion.name, "decision": appeal.decision}
    notifications.notify(
        recipients=[appeal.appellant], kind=APPEAL_DECIDED.kind,
        title=_("申诉处理结果：%(title)s") % {"title": appeal.publication.title[:60]}, body=body,
        target_id=appeal.publication_id, dedupe_key=f"board_appeal:{appeal.pk}:decided")


def suggestion_replied(suggestion: Suggestion, publication: Publication) -> None:
    notifications.notify(
        recipients=[suggestion.author], kind=SUGGESTION_REPLIED.kind,
        title=_("您的建议已答复：%(title)s") % {"title": publication.title[:60]},
        body=suggestion.reply[:200], target_id=publication.pk)
