"""The 纠纷信息 section of a dispute's case page (worker and command portals): its forms, and what the page
shows (`section`). The views that take the forms are in `web.disputes`.

Each form only parses input; `cases.services.disputes` checks scope, capacity, state and the values, and writes
the log row. Every form carries a hidden `client_key`, fresh each time it is shown, so a form sent twice answers
like the first time. A party's name is never put back into a form: pages show it masked, so the edit form's
name field starts empty and an empty field keeps the name.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.models import User
from gongzhi.cases import policies, selectors
from gongzhi.cases.models import Case, CategoryKind, DisputeParty, MediationAgreement, MediationSession
from gongzhi.cases.services import disputes
from gongzhi.web.case_forms import ActionForm

_DATE = {"type": "date"}
_AGREEMENT_ACCEPT = "application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"


def _date_field(label, *, required: bool = True, message=None, help_text="") -> forms.DateField:
    message = message or _("请填写日期。")
    return forms.DateField(label=label, required=required, help_text=help_text,
                           widget=forms.DateInput(attrs=_DATE, format="%Y-%m-%d"),
                           error_messages={"required": message, "invalid": _("请按“年-月-日”填写日期。")})


def _text(label, *, max_length: int, required: bool = False, message=None, help_text="",
          rows: int = 0) -> forms.CharField:
    widget = forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput(attrs={"autocomplete": "off"})
    field = forms.CharField(label=label, required=required, max_length=max_length, help_text=help_text,
                            widget=widget)
    field.error_messages["max_length"] = _("内容不能超过%(limit_value)d个字。")
    if message:
        field.error_messages["required"] = message
    return field


def _agreement_file(*, required: bool, help_text="") -> forms.FileField:
    return forms.FileField(
        label=_("调解协议书"), required=required, help_text=help_text,
        widget=forms.ClearableFileInput(attrs={"accept": _AGREEMENT_ACCEPT}),
        error_messages={"required": _("请选择调解协议书文件。"), "empty": _("调解协议书是空文件，请重新选择。"),
                        "invalid": _("请选择调解协议书文件。")})


def _role_field() -> forms.ChoiceField:
    return forms.ChoiceField(label=_("身份"), choices=DisputeParty.Role.choices, initial=DisputeParty.Role.PARTY,
                             error_messages={"required": _("请选择当事人身份。"),
                                             "invalid_choice": _("请选择当事人身份。")})


_ID_HELP = _("选填。只保存用于识别同一当事人的密钥散列，不保存号码本身。")
_HOUSEHOLD_HELP = _("选填。关联户籍后，同一户再次发生纠纷时会提示风险。")


class PartyForm(ActionForm):
    name = _text(_("姓名或名称"), max_length=disputes.NAME_MAX_LENGTH, required=True,
                 message=_("请填写当事人姓名或名称。"))
    role = _role_field()
    id_number = _text(_("身份证号"), max_length=30, help_text=_ID_HELP)
    household_number = _text(_("户号"), max_length=30, help_text=_HOUSEHOLD_HELP)

    def payload(self, *, user: User, case: Case) -> dict[str, Any]:
        data = self.cleaned_data
        return {"name": data["name"], "role": data["role"], "id_number": data["id_number"] or None,
                "household_number": data["household_number"] or None}


class PartyEditForm(ActionForm):
    name = _text(_("姓名或名称"), max_length=disputes.NAME_MAX_LENGTH, help_text=_("留空则不修改。"))
    role = _role_field()
    id_number = _text(_("身份证号"), max_length=30, help_text=_("留空则不修改。"))
    clear_id_number = forms.BooleanField(label=_("清除已登记的身份证号"), required=False)
    household_number = _text(_("户号"), max_length=30, help_text=_("留空则不修改。"))
    clear_household = forms.BooleanField(label=_("取消户籍关联"), required=False)

    def clean(self):
        data = super().clean()
        if data.get("clear_id_number") and data.get("id_number"):
            self.add_error("id_number", _("填写了新的身份证号，就不要勾选清除。"))
        if data.get("clear_household") and data.get("household_number"):
            self.add_error("household_number", _("填写了新的户号，就不要勾选取消关联。"))
        return data

    def payload(self, *, user: User, case: Case) -> dict[str, Any]:
        data = self.cleaned_data
        return {"name": data["name"] or None, "role": data["role"],
                "id_number": "" if data["clear_id_number"] else (data["id_number"] or None),
                "household_number": "" if data["clear_household"] else (data["household_number"] or None)}


class RemovePartyForm(ActionForm):
    def payload(self, *, user: User, case: Case) -> dict[str, Any]:
        return {}


class MediationForm(ActionForm):
    kind = forms.ChoiceField(label=_("调解类型"), choices=MediationSession.Kind.choices,
                             error_messages={"required": _("请选择调解类型。"),
                                             "invalid_choice": _("请选择调解类型。")})
    held_on = _date_field(_("调解日期"), message=_("请填写调解日期。"))
    outcome = forms.ChoiceField(label=_("结果"), choices=MediationSession.Outcome.choices,
                                widget=forms.RadioSelect, error_messages={
                                    "required": _("请选择调解结果。"), "invalid_choice": _("请选择调解结果。")})
    mediators = forms.MultipleChoiceField(label=_("调解员"), required=False, widget=forms.CheckboxSelectMultiple,
                                          error_messages={"invalid_choice": _("请从列表中选择调解员。")})
    other_mediators = _text(_("其他调解员"), max_length=disputes.OTHER_MEDIATORS_MAX_LENGTH, help_text=_(
        "没有账号的调解员，如村人民调解委员会调解员、律师；多人用顿号分开。"))
    summary = _text(_("调解经过"), max_length=disputes.SUMMARY_MAX_LENGTH, rows=3)
    agreement = _agreement_file(required=False, help_text=_(
        "调解成功或部分达成时，上传双方签字的调解协议书（PDF，或拍照的JPEG、PNG图片）；也可以以后再上传。"))
    signed_on = _date_field(_("协议签订日期"), required=False, help_text=_("留空为调解当天。"))
    follow_up_on = _date_field(_("履行回访日期"), required=False,
                               help_text=_("上传协议书时必填：到期去看协议是否履行。"))

    def __init__(self, *args: Any, case: Case, user: User, **kwargs: Any):
        super().__init__(*args, **kwargs)
        choices = selectors.mediator_candidates(case)
        self.fields["mediators"].choices = [(str(c.user.pk), c.label) for c in choices]  # type: ignore[attr-defined]
        if not self.is_bound:
            self.initial.setdefault("held_on", timezone.localdate())
            if any(c.user.pk == user.pk for c in choices):
                self.initial.setdefault("mediators", [str(user.pk)])

    def payload(self, *, user: User, case: Case) -> dict[str, Any]:
        data = self.cleaned_data
        ids = [int(pk) for pk in data["mediators"]]
        return {"kind": data["kind"], "held_on": data["held_on"], "outcome": data["outcome"],
                "mediators": list(User.objects.filter(pk__in=ids)), "other_mediators": data["other_mediators"],
                "summary": data["summary"], "agreement": data["agreement"], "signed_on": data["signed_on"],
                "follow_up_on": data["follow_up_on"]}


class AttachAgreementForm(ActionForm):
    agreement = _agreement_file(required=True, help_text=_("PDF，或拍照的JPEG、PNG图片。"))
    signed_on = _date_field(_("协议签订日期"), message=_("请填写调解协议书的签订日期。"))
    follow_up_on = _date_field(_("履行回访日期"), message=_("请填写履行回访日期。"))


class ReplaceAgreementForm(ActionForm):
    agreement = _agreement_file(required=True, help_text=_("原文件将被删除。"))
    signed_on = _date_field(_("协议签订日期"), required=False, help_text=_("留空则不修改。"))
    follow_up_on = _date_field(_("履行回访日期"), required=False, help_text=_("留空则不修改。"))

    def payload(self, *, user: User, case: Case) -> dict[str, Any]:
        data = self.cleaned_data
        return {"file": data["agreement"], "signed_on": data["signed_on"], "follow_up_on": data["follow_up_on"]}


class PerformanceForm(ActionForm):
    performance = forms.ChoiceField(label=_("履行情况"), choices=MediationAgreement.Performance.choices,
                                    widget=forms.RadioSelect, error_messages={
                                        "required": _("请选择协议履行情况。"),
                                        "invalid_choice": _("请选择协议履行情况。")})
    checked_on = _date_field(_("回访日期"), message=_("请填写回访日期。"))
    note = _text(_("回访情况"), max_length=disputes.PERFORMANCE_NOTE_MAX_LENGTH, rows=2)
    next_follow_up_on = _date_field(_("下次回访日期"), required=False,
                                    help_text=_("未履行或部分履行时，可以约定下次回访的日期。"))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("checked_on", timezone.localdate())


# ------------------------------------------------------------------------------------------ the section


def _form(bound: tuple[str, forms.Form] | None, key: str, form_class: type[forms.Form], **kwargs: Any) -> forms.Form:
    """The form shown under `key`: the one just refused (bound, with its messages), else a fresh one."""
    if bound is not None and bound[0] == key:
        return bound[1]
    return form_class(prefix=key, **kwargs)


def section(request: HttpRequest, case: Case, *, bound: tuple[str, forms.Form] | None = None
            ) -> dict[str, Any] | None:
    """What the 纠纷信息 section of a case page shows, or None: not a dispute, or not for this user (a dispute's
    records are for the staff who see it as staff). `bound`: a form just refused, by its key."""
    user = request.user
    if case.category.kind != CategoryKind.DISPUTE or not policies.can_view_dispute(user, case):
        return None
    view = selectors.dispute_of(user, case)
    parties = []
    for party in view.parties:
        key = f"party-{party.id}"
        parties.append({
            "view": party, "key": key,
            "edit": _form(bound, key, PartyEditForm, initial={"role": party.role}) if view.may_record else None,
            "remove": _form(bound, f"{key}-remove", RemovePartyForm) if view.may_record else None})
    sessions = []
    for session in view.sessions:
        agreement = session.agreement
        entry: dict[str, Any] = {"view": session, "attach": None, "replace": None, "performance": None}
        if view.may_record and agreement is None and session.outcome in selectors.AGREEMENT_OUTCOMES:
            entry["attach"] = _form(bound, f"session-{session.id}-agreement", AttachAgreementForm)
        if agreement is not None and view.may_record:
            entry["replace"] = _form(bound, f"agreement-{agreement.id}-replace", ReplaceAgreementForm)
        if agreement is not None and view.may_record_performance:
            entry["performance"] = _form(bound, f"agreement-{agreement.id}-performance", PerformanceForm)
        sessions.append(entry)
    return {
        "view": view, "parties": parties, "sessions": sessions,
        "add_party": _form(bound, "party-add", PartyForm) if view.may_record else None,
        "mediation": (_form(bound, "mediation", MediationForm, case=case, user=user)
                      if view.may_record else None),
    }
