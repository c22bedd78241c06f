"""The writes of a dispute's 纠纷信息 section (worker and command portals), and the page that shows the parties'
full names once a reason is given.

Each POST is one call of a `cases.services.disputes` service. Success: back to the case page's section with a
message. Bad input: the case page again (422) with the message next to the field of the form that was sent,
which stays open; nothing changed. Not the user's to do: the 403 page; out of scope, or no dispute: 404. The
same form sent twice (its client key) answers like the first time.

`urlpatterns_for(guard)` gives a portal these URLs behind its own guard, under its case URLs.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from gongzhi.cases import policies, selectors, services
from gongzhi.cases.models import Case, CategoryKind
from gongzhi.core.errors import DomainError, Forbidden
from gongzhi.web import case_forms, dispute_forms
from gongzhi.web.cases import render_case
from gongzhi.web.forms import add_domain_error
from gongzhi.web.pii import PiiRevealForm
from gongzhi.web.portals import portal_of


def _dispute(request, case_id: int) -> Case:
    """The case, when it is a dispute the user may see (its records may still be refused to them)."""
    case = selectors.case_for(request.user, case_id)
    if case.category.kind != CategoryKind.DISPUTE:
        raise Http404
    return case


def _section_url(request, case: Case) -> str:
    return reverse(f"{portal_of(request).name}:case", args=[case.pk]) + "#dispute"


def _submit(request, case: Case, key: str, form: case_forms.ActionForm,
            call: Callable[..., Any], done: str) -> HttpResponse:
    """Validate the form, call the service with its payload and the client key, answer as the module says."""
    if form.is_valid():
        try:
            call(actor=request.user, case=case, client_key=form.cleaned_data["client_key"],
                 **form.payload(user=request.user, case=case))
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, done)
            return redirect(_section_url(request, case))
    case = selectors.case_for(request.user, case.pk)
    return render_case(request, case, dispute_bound=(key, form), status=422)


def add_party(request, case_id: int) -> HttpResponse:
    case = _dispute(request, case_id)
    form = dispute_forms.PartyForm(request.POST, prefix="party-add")
    return _submit(request, case, "party-add", form, services.add_party, _("已登记当事人。"))


def edit_party(request, case_id: int, party_id: int) -> HttpResponse:
    case = _dispute(request, case_id)
    party = selectors.party_of(case, party_id)
    key = f"party-{party.pk}"
    form = dispute_forms.PartyEditForm(request.POST, prefix=key)
    return _submit(request, case, key, form, lambda **kw: services.edit_party(party=party, **kw),
                   _("已修改当事人信息。"))


def remove_party(request, case_id: int, party_id: int) -> HttpResponse:
    case = _dispute(request, case_id)
    key = f"party-{party_id}-remove"
    form = dispute_forms.RemovePartyForm(request.POST, prefix=key)
    return _submit(request, case, key, form, lambda **kw: services.remove_party(party_id=party_id, **kw),
                   _("已删除当事人。"))


def record_mediation(request, case_id: int) -> HttpResponse:
    case = _dispute(request, case_id)
    form = dispute_forms.MediationForm(request.POST, request.FILES, prefix="mediation", case=case, user=request.user)
    return _submit(request, case, "mediation", form, services.record_mediation, _("已登记调解。"))


def attach_agreement(request, case_id: int, session_id: int) -> HttpResponse:
    case = _dispute(request, case_id)
    session = selectors.session_of(case, session_id)
    key = f"session-{session.pk}-agreement"
    form = dispute_forms.AttachAgreementForm(request.POST, request.FILES, prefix=key)
    return _submit(request, case, key, form, lambda **kw: services.attach_agreement(session=session, **kw),
                   _("已上传调解协议书。"))


def replace_agreement(request, case_id: int, agreement_id: int) -> HttpResponse:
    case = _dispute(request, case_id)
    agreement = selectors.agreement_of(case, agreement_id)
    key = f"agreement-{agreement.pk}-replace"
    form = dispute_forms.ReplaceAgreementForm(request.POST, request.FILES, prefix=key)
    return _submit(request, case, key, form, lambda **kw: services.replace_agreement(agreement=agreement, **kw),
                   _("已更换调解协议书。"))


def record_performance(request, case_id: int, agreement_id: int) -> HttpResponse:
    case = _dispute(request, case_id)
    agreement = selectors.agreement_of(case, agreement_id)
    key = f"agreement-{agreement.pk}-performance"
    form = dispute_forms.PerformanceForm(request.POST, prefix=key)
    return _submit(request, case, key, form, lambda **kw: services.record_performance(agreement=agreement, **kw),
                   _("已登记协议履行回访。"))


@never_cache
def party_names(request, case_id: int) -> HttpResponse:
    """查看当事人完整姓名: a reason first (as for a full ID or phone number), then the names in that one
    response, each party's viewing logged. Only for staff allowed to unmask personal data (403)."""
    case = _dispute(request, case_id)
    view = selectors.dispute_of(request.user, case)  # Forbidden for anyone who may not see the records
    names: dict[int, str] | None = None
    if request.method == "POST":
        form = PiiRevealForm(request.POST)
        if form.is_valid():
            try:
                names = services.reveal_party_names(actor=request.user, case=case, reason=form.reason_text())
            except DomainError as err:
                add_domain_error(form, err)
    else:
        if not policies.can_unmask_parties(request.user, case):
            raise Forbidden(_("您没有查看完整个人信息的权限。"))
        form = PiiRevealForm()
    parties = [{"view": party, "name": names.get(party.id, party.name) if names is not None else party.name}
               for party in view.parties]
    return render(request, "web/dispute_names.html", {
        "case": case, "parties": parties, "form": form, "revealed": names is not None,
        "back": _section_url(request, case)})


def urlpatterns_for(guard: Callable) -> list[URLPattern]:
    """The dispute section's URLs of a portal, behind `guard` (its access decorator)."""
    def post(view: Callable) -> Callable:
        return require_POST(guard(view))

    prefix = "cases/<int:case_id>/dispute/"
    return [
        path(prefix + "parties/", post(add_party), name="dispute_add_party"),
        path(prefix + "parties/<int:party_id>/", post(edit_party), name="dispute_edit_party"),
        path(prefix + "parties/<int:party_id>/remove/", post(remove_party), name="dispute_remove_party"),
        path(prefix + "mediations/", post(record_mediation), name="dispute_record_mediation"),
        path(prefix + "mediations/<int:session_id>/agreement/", post(attach_agreement),
             name="dispute_attach_agreement"),
        path(prefix + "agreements/<int:agreement_id>/replace/", post(replace_agreement),
             name="dispute_replace_agreement"),
        path(prefix + "agreements/<int:agreement_id>/performance/", post(record_performance),
             name="dispute_record_performance"),
        path(prefix + "names/", guard(party_names), name="dispute_names"),
    ]
