"""积分审核 and 村积分台账, shared by the worker portal (a village administrator on a phone) and the command portal
(a township dispatcher at a desk): the queue of claims, a claim with the three decisions, a village's households
with their points and stars, a household's awards and ledger with 给予积分/扣分 and 更正.

`urlpatterns_for(guard)` gives a portal these URLs under points/ (names `points_…`) behind its own guard; each
page renders `<portal>/points/review/<name>` if the portal has one, else the shared `web/points/review/<name>`,
which extends the portal's base. Reads are `points.selectors.office`; every write is one call of
`points.services.awards` (review_claim, award_directly, reverse_award). Bad input shows the page again with the
message at the field and nothing changed (422); anything outside the viewer's scope answers 404, a step they may
see but not take 403. Personal numbers appear masked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from gongzhi.accounts import policies as account_policies
from gongzhi.core.errors import DomainError, Forbidden, NotFound
from gongzhi.notifications import services as notification_services
from gongzhi.points import policies
from gongzhi.points.models import Award, Claim
from gongzhi.points.selectors import office
from gongzhi.points.services import awards as services
from gongzhi.web import points_review_forms as pf
from gongzhi.web.forms import add_domain_error
from gongzhi.web.paging import Window
from gongzhi.web.portals import portal_of

QUEUE_PAGE = 20
LEDGER_PAGE = 30
RECORDS_PAGE = 20
DECISIONS = {
    "approve": services.ReviewDecision.APPROVE,
    "reject": services.ReviewDecision.REJECT,
    "more": services.ReviewDecision.MORE,
}
DONE_MESSAGES = {
    "approve": gettext_lazy("已通过，积分已记入该户账户。"),
    "reject": gettext_lazy("已驳回，群众会收到驳回原因。"),
    "more": gettext_lazy("已请群众补充材料。"),
}


def _office_check(request) -> None:
    """The points pages are for those who may use the points office; everyone else finds nothing here."""
    if not policies.may_use_points_office(request.user):
        raise NotFound()


def page(request, name: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    portal = portal_of(request)
    return render(request, portal.templates(f"points/review/{name}"),
                  {"points_tab": context.get("points_tab", ""), **context}, status=status)


def url(request, name: str, *args: Any) -> str:
    return reverse(f"{portal_of(request).name}:points_{name}", args=args)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


# ---------------------------------------------------------------------------------------------------------
# 积分审核: the queue and a claim


def queue(request) -> HttpResponse:
    """The claims the user may review (or, with 可查看的全部, all they may see), filtered by status and village."""
    _office_check(request)
    user = request.user
    villages = office.office_villages(user)
    may_review = office.may_review_anything(user)
    form = pf.QueueFilterForm(request.GET or None, villages=villages, may_review=may_review)
    status = form.value("status") or Claim.Status.SUBMITTED
    village_id = _int(form.value("village"))
    village = next((v for v in villages if v.pk == village_id), None)
    mine = may_review and form.value("scope") != "all"
    claims = Window(office.claim_queue(user, status=status, village=village, mine=mine), request.GET.get("page"),
                    QUEUE_PAGE)
    kept = (("village", str(village.pk) if village else ""), ("scope", "all" if may_review and not mine else ""))
    keep = {k: v for k, v in kept if v}
    links = [{"value": value, "label": label, "url": "?" + urlencode({"status": value, **keep})}
             for value, label in pf.STATUS_CHOICES]
    return page(request, "queue.html", {
        "form": form, "page": claims, "status": status, "status_label": dict(pf.STATUS_CHOICES)[status],
        "status_links": links,
        "villages": villages, "village": village, "mine": mine, "may_review": may_review, "points_tab": "review"})


def _claim_page(request, claim_id: int, *, bound: tuple[str, pf.DecisionForm] | None = None,
                status: int = 200) -> HttpResponse:
    view = office.claim_page(request.user, claim_id)
    forms = {name: (bound[1] if bound and bound[0] == name else pf.DecisionForm(decision=name))
             for name in DECISIONS} if view.may_review else {}
    # A refusal for a form no longer shown (decided otherwise meanwhile) goes on top of the page.
    stray = [str(e) for errs in bound[1].errors.values() for e in errs] if bound and not forms else []
    claim = view.claim
    return page(request, "claim.html", {
        "view": view, "claim": claim, "item": claim.rule_item, "resident": claim.resident,
        "forms": forms, "open_form": bound[0] if bound else "", "stray_errors": stray,
        "may_unmask": account_policies.can_unmask_pii(request.user, claim.resident.grid.path),
        "points_tab": "review"}, status=status)


def claim_detail(request, claim_id: int) -> HttpResponse:
    _office_check(request)
    notification_services.mark_target_read(user=request.user, target_type="claim", target_id=claim_id)
    return _claim_page(request, claim_id)


def claim_review(request, claim_id: int, decision: str) -> HttpResponse:
    """POST 通过 / 驳回 / 需补充材料. Deciding the same way again (a form sent twice) changes nothing more."""
    _office_check(request)
    if decision not in DECISIONS:
        raise Http404
    claim = office.claim_for(request.user, claim_id)
    form = pf.DecisionForm(request.POST, decision=decision)
    if form.is_valid():
        try:
            services.review_claim(actor=request.user, claim=claim, decision=DECISIONS[decision],
                                  note=form.cleaned_data["note"])
        except (NotFound, Forbidden):
            raise
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, str(DONE_MESSAGES[decision]))
            return redirect(url(request, "claim", claim.pk))
    return _claim_page(request, claim_id, bound=(decision, form), status=422)


# ---------------------------------------------------------------------------------------------------------
# 村积分台账: a village's households, a household's account


def villages(request) -> HttpResponse:
    """The villages whose ledgers the user sees; straight to the one when there is one."""
    _office_check(request)
    found = office.office_villages(request.user)
    if len(found) == 1:
        return redirect(url(request, "village", found[0].pk))
    return page(request, "villages.html", {"villages": found, "points_tab": "ledger"})


def village(request, village_id: int) -> HttpResponse:
    _office_check(request)
    place = office.village_for(request.user, village_id)
    q = (request.GET.get("q") or "").strip()[:50]
    sort = request.GET.get("sort") if request.GET.get("sort") in office.SORTS else "number"
    paged = Paginator(office.village_ledger(request.user, place, q=q, sort=sort), LEDGER_PAGE)
    current = paged.get_page(request.GET.get("page"))
    rows = office.ledger_rows(place, list(current.object_list))
    return page(request, "village.html", {
        "village": place, "page": current, "rows": rows, "q": q, "sort": str(sort),
        "basis": office.star_basis(place), "many_villages": len(office.office_villages(request.user)) > 1,
        "points_tab": "ledger"})


def _account_context(request, view: office.AccountPage, *, give: pf.AwardForm | None = None,
                     deduct: pf.AwardForm | None = None) -> dict[str, Any]:
    tab = "ledger" if request.GET.get("view") == "ledger" else "awards"
    reversible: set[int] = set()
    if tab == "ledger":
        records = Window(office.account_entries(view.account), request.GET.get("page"), RECORDS_PAGE)
    else:
        records = Window(office.account_awards(view.account), request.GET.get("page"), RECORDS_PAGE)
        reversible = office.reversible(view, records)
    return {
        "view": view, "village": view.village, "tab": tab, "records": records, "page": records,
        "reversible": reversible,
        "give_form": give or (pf.AwardForm(items=view.gives, deduction=False) if view.gives else None),
        "deduct_form": deduct or (pf.AwardForm(items=view.deductions, deduction=True) if view.deductions else None),
        "open_form": "give" if give is not None else ("deduct" if deduct is not None else ""),
        "here": url(request, "household", view.household.pk) if view.household is not None
        else url(request, "person", view.resident.pk if view.resident else 0),
        "points_tab": "ledger"}


def household(request, household_id: int) -> HttpResponse:
    _office_check(request)
    view = office.household_page(request.user, household_id)
    return page(request, "account.html", _account_context(request, view))


def person(request, resident_id: int) -> HttpResponse:
    _office_check(request)
    view = office.person_page(request.user, resident_id)
    return page(request, "account.html", _account_context(request, view))


def _award(request, view: office.AccountPage, kind: str) -> HttpResponse:
    """POST 给予积分 (kind "give") or 扣分 ("deduct") through the household's head (or the person)."""
    if kind not in ("give", "deduct"):
        raise Http404
    deduction = kind == "deduct"
    items = view.deductions if deduction else view.gives
    if view.recipient is None or not items:
        raise Forbidden(_("您不能给予该户积分。") if view.recipient is not None
                        else _("该户没有在册成员，不能给予积分。"))
    form = pf.AwardForm(request.POST, request.FILES, items=items, deduction=deduction)
    here = url(request, "household", view.household.pk) if view.household is not None \
        else url(request, "person", view.recipient.pk)
    if form.is_valid():
        try:
            award = services.award_directly(actor=request.user, resident=view.recipient, item=form.chosen_item(),
                                            reason=form.cleaned_data["reason"], photos=form.cleaned_data["photos"],
                                            client_key=form.cleaned_data["client_key"])
        except (NotFound, Forbidden):
            raise
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _award_message(award))
            return redirect(here)
    context = _account_context(request, view, **{kind: form})
    return page(request, "account.html", context, status=422)


def _award_message(award: Award) -> str:
    if award.points > 0:
        return _("已给予%(points)d分：%(item)s。") % {"points": award.booked, "item": award.rule_item.name}
    if award.booked == award.points:
        return _("已扣%(points)d分：%(item)s。") % {"points": -award.booked, "item": award.rule_item.name}
    return _("已扣分：%(item)s记%(value)d分，该户积分不足，实际扣减%(booked)d分，余额为0。") % {
        "item": award.rule_item.name, "value": award.points, "booked": -award.booked}


def household_award(request, household_id: int, kind: str) -> HttpResponse:
    _office_check(request)
    return _award(request, office.household_page(request.user, household_id), kind)


def person_award(request, resident_id: int, kind: str) -> HttpResponse:
    _office_check(request)
    return _award(request, office.person_page(request.user, resident_id), kind)


def _account_url(request, award: Award) -> str:
    account = award.account
    if account.household_id is not None:
        return url(request, "household", account.household_id)
    return url(request, "person", account.resident_id or 0)


def award_reverse(request, award_id: int) -> HttpResponse:
    """更正: a confirm page showing the award and asking why (GET), then the correction (POST)."""
    _office_check(request)
    award = office.award_for(request.user, award_id)
    if not office.may_reverse(request.user, award):
        if award.origin == Award.Origin.CORRECTION or hasattr(award, "reversed_by"):
            messages.info(request, _("该记录已更正过。"))
            return redirect(_account_url(request, award))
        raise Forbidden(_("“%(item)s”由%(who)s审核给予。") % {"item": award.rule_item.name,
                                                         "who": award.rule_item.get_awarder_display()})
    form = pf.ReverseForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            correction = services.reverse_award(actor=request.user, award=award, reason=form.cleaned_data["reason"])
        except (NotFound, Forbidden):
            raise
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("已更正：%(points)+d分。") % {"points": correction.booked})
            return redirect(_account_url(request, award))
    return page(request, "reverse.html", {"award": award, "form": form, "back": _account_url(request, award),
                                          "points_tab": "ledger"},
                status=422 if request.method == "POST" else 200)


def urlpatterns_for(guard: Callable[..., Any]) -> list[URLPattern]:
    """积分审核 and 村积分台账 of a portal under points/, behind `guard` (its access decorator)."""
    pages: list[tuple[str, Callable[..., HttpResponse], str]] = [
        ("points/review/", queue, "review"),
        ("points/claims/<int:claim_id>/", claim_detail, "claim"),
        ("points/ledger/", villages, "villages"),
        ("points/ledger/<int:village_id>/", village, "village"),
        ("points/households/<int:household_id>/", household, "household"),
        ("points/people/<int:resident_id>/", person, "person"),
        ("points/awards/<int:award_id>/reverse/", award_reverse, "reverse"),
    ]
    posts: list[tuple[str, Callable[..., HttpResponse], str]] = [
        ("points/claims/<int:claim_id>/<str:decision>/", claim_review, "claim_review"),
        ("points/households/<int:household_id>/<str:kind>/", household_award, "household_award"),
        ("points/people/<int:resident_id>/<str:kind>/", person_award, "person_award"),
    ]
    return [path(route, guard(view), name=f"points_{name}") for route, view, name in pages] + [
        path(route, require_POST(guard(view)), name=f"points_{name}") for route, view, name in posts]
