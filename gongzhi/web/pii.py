"""The page that shows a masked ID or phone number in full, once a reason is given (worker and command
portals). The full number appears in that one response only: never in a URL, the session, or a log line."""

from django import forms
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from gongzhi.accounts import policies
from gongzhi.accounts import services as account_services
from gongzhi.cases import policies as case_policies
from gongzhi.cases import selectors as case_selectors
from gongzhi.cases import services as case_services
from gongzhi.core.errors import DomainError, Forbidden
from gongzhi.registry import selectors as registry_selectors
from gongzhi.web.access import portal_home, safe_next
from gongzhi.web.forms import Form, add_domain_error
from gongzhi.web.portals import portal_of


class PiiRevealForm(Form):
    """Why someone asks to see a full ID or phone number: a common purpose, their own words, or both."""

    # The values (not the labels) go into the access log, so it reads the same in every interface language.
    purpose = forms.ChoiceField(label=_("查看事由"), required=False, widget=forms.RadioSelect, choices=[
        ("联系工作", _("联系工作")), ("核实身份", _("核实身份")), ("处理事件", _("处理事件")),
        ("电话回访", _("电话回访"))])
    reason = forms.CharField(label=_("其他事由或补充说明"), max_length=200, required=False,
                             error_messages={"max_length": _("查看事由不能超过200个字。")},
                             widget=forms.TextInput(attrs={"autocomplete": "off"}))

    def reason_text(self) -> str:
        return "：".join(part for part in (self.cleaned_data["purpose"], self.cleaned_data["reason"]) if part)


@never_cache
def reveal_pii(request, subject_type: str, subject_id: int, field: str):
    target = registry_selectors.pii_target(request.user, subject_type, subject_id, field)
    if not policies.can_unmask_pii(request.user, target.path):
        raise Forbidden(_("您没有查看完整个人信息的权限。"))
    value = None
    if request.method == "POST":
        form = PiiRevealForm(request.POST)
        if form.is_valid():
            try:
                value = account_services.reveal_pii(actor=request.user, subject=target.person, field=field,
                                                    reason=form.reason_text())
            except DomainError as err:
                add_domain_error(form, err)
    else:
        form = PiiRevealForm()
    return render(request, "web/pii_reveal.html", {
        "target": target, "field": field, "form": form, "value": value,
        "back": safe_next(request, request.GET.get("next")) or portal_home(request.user)})


@never_cache
def phone_reporter(request, case_id: int):
    """电话联系反映人: the reporter's number, shown with a button that dials it, once a reason is given and
    logged; for staff who handle or visit the case (cases.policies.can_phone_reporter)."""
    case = case_selectors.case_for(request.user, case_id)
    if not case_policies.can_phone_reporter(request.user, case):
        raise Forbidden(_("只有办理或回访该事件的工作人员可以查看实名反映人的电话。"))
    assert case.reporter is not None
    value = None
    if request.method == "POST":
        form = PiiRevealForm(request.POST)
        if form.is_valid():
            try:
                value = case_services.reporter_phone(actor=request.user, case=case, reason=form.reason_text())
            except DomainError as err:
                add_domain_error(form, err)
    else:
        form = PiiRevealForm(initial={"purpose": "电话回访"})
    target = registry_selectors.PiiTarget(person=case.reporter, path=case.area_path, masked=case.reporter.phone)
    return render(request, "web/pii_reveal.html", {
        "target": target, "field": "phone", "form": form, "value": value,
        "back": reverse(f"{portal_of(request).name}:case", args=[case.pk])})
