"""公开事务 in the resident portal (/public/): the sections (通知公告, 三务公开, 村民说事, 红黑榜, 政策法规与办事指南,
志愿服务, 建言献策), a section's items by kind, tag and words, an item with its kind's own part and residents'
comments.

Everyone reads what is addressed to a county or a city; a verified resident also what is addressed to their
village, township and grid (`publications.policies`). Anything else, a draft, a withdrawn item or one outside its
period answers 404 alike. Reads are `publications.selectors.core`; commenting is `services.core.add_comment`.
"""

from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import select_template
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core.errors import DomainError, NotFound
from gongzhi.publications import kinds, policies
from gongzhi.publications.models import Publication
from gongzhi.publications.selectors import core as selectors
from gongzhi.publications.services import core as services
from gongzhi.web.access import login_required
from gongzhi.web.forms import add_domain_error
from gongzhi.web.paging import Window
from gongzhi.web.publications_forms import CommentForm

GROUP_PAGE = 20
# The tags offered above a section's list: the most used among its newest items.
TAG_SAMPLE = 300
TAGS_SHOWN = 12


def public_index(request) -> HttpResponse:
    latest = selectors.latest_by_group(request.user)
    sections = [{"slug": group, "title": title, "intro": intro, "items": latest.get(group, [])}
                for group, (title, intro) in kinds.GROUPS.items()]
    return render(request, "resident/publications/index.html", {
        "sections": sections, "area_member": bool(policies.area_paths(request.user))})


def public_group(request, group: str) -> HttpResponse:
    if group not in kinds.GROUPS:
        raise NotFound()
    specs = kinds.of_group(group)
    kind = request.GET.get("kind") if request.GET.get("kind") in {s.slug for s in specs} else ""
    tag = (request.GET.get("tag") or "").strip()[:20]
    q = (request.GET.get("q") or "").strip()[:selectors.SEARCH_MAX]
    qs = selectors.readable(request.user, kind=kind or None, group=group, tag=tag, search=q)
    items = Window(qs, request.GET.get("page"), GROUP_PAGE)
    tag_counts = Counter(t for tags in selectors.readable(request.user, group=group)
                         .values_list("tags", flat=True)[:TAG_SAMPLE] for t in tags.split(",") if t)
    title, intro = kinds.GROUPS[group]
    return render(request, "resident/publications/group.html", {
        "group": group, "title": title, "intro": intro, "specs": specs if len(specs) > 1 else [],
        "kind": kind, "tag": tag, "q": q, "page": items,
        "tags": [t for t, _n in tag_counts.most_common(TAGS_SHOWN)],
        "area_member": bool(policies.area_paths(request.user))})


def _item_page(request, item: Publication, *, form: CommentForm | None = None, status: int = 200) -> HttpResponse:
    user = request.user
    may_comment = policies.can_comment(user, item)
    kind_template = select_template([f"resident/publications/kinds/{item.kind}.html",
                                     "resident/publications/kinds/_none.html"])
    spec = kinds.KINDS[item.kind]
    return render(request, "resident/publications/detail.html", {
        "publication": item, "spec": spec, "group_title": kinds.GROUPS[spec.group][0],
        "kind": kinds.context_for("reader", user, item), "kind_template": kind_template.template.name,
        "comments": list(selectors.comments_for_reader(user, item)) if item.comments != "off" else [],
        "may_comment": may_comment, "form": form or (CommentForm() if may_comment else None),
    }, status=status)


def publication(request, pk: int) -> HttpResponse:
    item = selectors.readable_one(request.user, pk)
    if request.user.is_authenticated:
        services.mark_read(user=request.user, publication=item)
    return _item_page(request, item)


@require_POST
@login_required
def comment(request, pk: int) -> HttpResponse:
    item = selectors.readable_one(request.user, pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            made = services.add_comment(actor=request.user, publication=item, body=form.cleaned_data["body"],
                                        client_key=form.cleaned_data["client_key"])
        except NotFound:
            raise
        except DomainError as err:  # refused (not open to comments, not of the area): said at the field
            add_domain_error(form, err)
        else:
            messages.success(request, _("留言已发表。") if made.state == made.State.VISIBLE
                             else _("留言已提交，经工作人员审核后公开显示。"))
            return redirect(reverse("resident:publication", args=[item.pk]) + f"#comment-{made.pk}")
    return _item_page(request, item, form=form, status=422)
