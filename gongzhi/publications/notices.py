"""The publishing core's notices: an item waits for review (to its reviewers), an item was approved or returned
(to its author). Kinds add their own (an urgent alert, a board appeal decided) in their modules."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.accounts.models import Membership, User
from gongzhi.notifications import services as notifications
from gongzhi.notifications import types
from gongzhi.notifications.types import NoticeType
from gongzhi.publications import kinds
from gongzhi.publications.models import Publication
from gongzhi.publications.policies import path_chain

SUBMITTED = NoticeType(kind="publication.submitted", label=gettext_lazy("公开事项待审核"), target="publication",
                       audience="reviewers")
REVIEWED = NoticeType(kind="publication.reviewed", label=gettext_lazy("公开事项审核结果"), target="publication",
                      audience="author")


def register() -> None:
    types.register(SUBMITTED, REVIEWED)


def submitted(publication: Publication) -> None:
    spec = kinds.KINDS[publication.kind]
    posts = Membership.objects.active().filter(role__in=spec.review_roles,
                                               unit__path__in=path_chain(publication.author_unit.path))
    if spec.four_eyes:
        posts = posts.exclude(user_id=publication.created_by_id)
    holders = posts.values("user_id")
    notifications.notify(
        recipients=User.objects.filter(pk__in=holders), kind=SUBMITTED.kind,
        title=_("%(kind)s待审核：%(title)s") % {"kind": spec.label, "title": publication.title[:60]},
        body=_("%(unit)s提交了一条%(kind)s，请审核后发布。") % {"unit": publication.author_unit.name,
                                                         "kind": spec.label},
        target_id=publication.pk)


def reviewed(publication: Publication, *, approved: bool, note: str) -> None:
    spec = kinds.KINDS[publication.kind]
    if approved:
        title = _("已发布：%(title)s") % {"title": publication.title[:80]}
        body = _("您提交的%(kind)s已审核通过并发布。") % {"kind": spec.label}
    else:
        title = _("已退回修改：%(title)s") % {"title": publication.title[:80]}
        body = _("您提交的%(kind)s被退回修改：%(note)s") % {"kind": spec.label, "note": note}
    notifications.notify(recipients=[publication.created_by], kind=REVIEWED.kind, title=title, body=body,
                         target_id=publication.pk)
