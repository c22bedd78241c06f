"""Writes of 三务公开 (disclosures) and 村民说事 (meetings), beside the core's lifecycle.

Disclosures: the category and period, the finance lines (typed one by one or imported from a workbook, all or
nothing) and projects with their milestones change only while the item is a draft (`policies.can_edit`); a
milestone may be marked done later, while the item is live (logged in its history).

Meetings: each stage's record (说, 议, 办, 督) is written while that stage is not yet public, by the item's
staff (`policies.can_manage`); a stage goes public only after the one before it (`publish_stage`, logged with
`core.log_step`); the item itself goes public with 说 (the core's publish or approve, see `affairs.py`).
Residents of the item's area rate the outcome once each, after 评 is public.

Input arrives as typed values or as the text of a form (dates "2026-11-05", amounts "1,234.56"); each check
names its field, and a refusal changes nothing.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.core.text import clean_text
from gongzhi.publications import policies
from gongzhi.publications.models import (
    Disclosure,
    DisclosureCategory,
    FinanceLine,
    Meeting,
    MeetingAction,
    MeetingEvaluation,
    Milestone,
    PeriodType,
    Project,
    Publication,
    Rating,
    Stage,
    Status,
    SupervisionNote,
)
from gongzhi.publications.services.core import log_step
from gongzhi.registry.excel import cells

CODE = "affairs_invalid"
AMOUNT_MAX_FEN = 100_000_000_000  # 十亿元: beyond any village's books
LINES_MAX = 500
PROJECTS_MAX = 10
MILESTONES_MAX = 20
ACTIONS_MAX = 20
NOTES_MAX = 50
IMPORT_BYTES_MAX = 2 * 1024 * 1024
CLIENT_KEY_MAX = 64


# Checking input -----------------------------------------------------------------------------------------------

def parse_amount(value: Any, *, field: str = "amount", required: bool = True) -> int:
    """Yuan as typed ("1234.56", "1,234.56", "¥1234", "1234元") or as a number → fen, a whole number > 0."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise DomainError(_("请填写金额。"), code=CODE, field=field)
        return 0
    if isinstance(value, bool):
        raise DomainError(_("金额无效。"), code=CODE, field=field)
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(str(value))
    else:
        text = re.sub(r"[\s,，¥￥元]", "", str(value))
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise DomainError(_("金额格式无法识别，请填写如1234.56。"), code=CODE, field=field) from None
    if not amount.is_finite():
        raise DomainError(_("金额无效。"), code=CODE, field=field)
    if (amount * 100) % 1 != 0:
        raise DomainError(_("金额最多保留两位小数。"), code=CODE, field=field)
    fen = int(amount * 100)
    if fen <= 0 and (required or fen < 0):
        raise DomainError(_("金额必须大于0。"), code=CODE, field=field)
    if fen > AMOUNT_MAX_FEN:
        raise DomainError(_("金额过大，请核对。"), code=CODE, field=field)
    return fen


def parse_date(value: Any, *, field: str, required_message: str | None = None) -> datetime.date | None:
    try:
        day = cells.date(value if not isinstance(value, str) else value.strip() or None)
    except cells.CellError as err:
        raise DomainError(err.message, code=CODE, field=field) from None
    if day is None and required_message:
        raise DomainError(required_message, code=CODE, field=field)
    if day is not None and not (2000 <= day.year <= 2100):
        raise DomainError(_("日期无效。"), code=CODE, field=field)
    return day


def _required_date(value: Any, *, field: str, message: str) -> datetime.date:
    day = parse_date(value, field=field, required_message=message)
    assert day is not None  # required_message refuses an empty one
    return day


def _text(value: Any, *, field: str, max_length: int, required: str | None = None) -> str:
    return clean_text(None if value is None else str(value), field=field, max_length=max_length,
                      required_message=required, code=CODE)


def _int(value: Any, *, field: str, message: str) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        raise DomainError(message, code=CODE, field=field) from None


def _key(client_key: str | None) -> str:
    return (client_key or "")[:CLIENT_KEY_MAX]


def _of_kind(publication: Publication, kind: str) -> None:
    if publication.kind != kind:
        raise NotFound()


def _editable(actor: User, publication: Publication) -> None:
    """A draft the actor may edit; else 404 (not theirs at all), 409 (no longer a draft) or 403."""
    if not policies.can_manage(actor, publication):
        raise NotFound()
    if not policies.can_edit(actor, publication):
        raise Conflict(_("只有草稿可以修改。")) if publication.status != Status.DRAFT else Forbidden()


def _manageable(actor: User, publication: Publication) -> None:
    if not policies.can_manage(actor, publication):
        raise NotFound()
    if publication.status == Status.WITHDRAWN:
        raise Conflict(_("该事项已撤回。"))


def _locked(publication: Publication) -> Publication:
    return (Publication.objects.select_for_update(of=("self",)).select_related("author_unit", "audience_unit")
            .get(pk=publication.pk))


# 三务公开 -----------------------------------------------------------------------------------------------------

def _period(year: Any, period_type: str, period: Any) -> tuple[int, str, int]:
    y = _int(year, field="year", message=_("请填写年度。"))
    if not 2000 <= y <= 2100:
        raise DomainError(_("年度无效。"), code=CODE, field="year")
    if period_type not in PeriodType.values:
        raise DomainError(_("请选择公开周期（月度或季度）。"), code=CODE, field="period_type")
    p = _int(period, field="period", message=_("请选择月份或季度。"))
    if not 1 <= p <= (12 if period_type == PeriodType.MONTH else 4):
        raise DomainError(_("月份应为1至12，季度应为1至4。"), code=CODE, field="period")
    return y, period_type, p


def same_period_published(publication: Publication, category: str, year: int, period_type: str,
                          period: int) -> Publication | None:
    """A live disclosure of the same unit, category and period, other than this one (one per period)."""
    return (Publication.objects.filter(
        kind="disclosure", status=Status.PUBLISHED, author_unit_id=publication.author_unit_id,
        disclosure__category=category, disclosure__year=year, disclosure__period_type=period_type,
        disclosure__period=period).exclude(pk=publication.pk).first())


@transaction.atomic
def set_disclosure(*, actor: User, publication: Publication, category: str, year: Any, period_type: str,
                   period: Any) -> Disclosure:
    """The category and period of a draft disclosure (made on first use)."""
    _of_kind(publication, "disclosure")
    publication = _locked(publication)
    _editable(actor, publication)
    if category not in DisclosureCategory.values:
        raise DomainError(_("请选择公开类别。"), code=CODE, field="category")
    y, ptype, p = _period(year, period_type, period)
    existing = Disclosure.objects.filter(publication=publication).first()
    if existing is not None and existing.category == DisclosureCategory.FINANCE != category \
            and existing.lines.exists():
        raise DomainError(_("已有收支明细，不能改为其他类别；请先删除明细。"), code=CODE, field="category")
    if same_period_published(publication, category, y, ptype, p):
        raise DomainError(_("本单位该期的%(category)s已经发布，请勿重复公开；如需更正请先撤回原公开。")
                          % {"category": DisclosureCategory(category).label}, code=CODE, field="period")
    disclosure, _created = Disclosure.objects.update_or_create(
        publication=publication, defaults={"category": category, "year": y, "period_type": ptype, "period": p})
    publication.updated_at = timezone.now()
    publication.save(update_fields=["updated_at"])
    return disclosure


def _finance(publication: Publication) -> Disclosure:
    disclosure = Disclosure.objects.filter(publication=publication).first()
    if disclosure is None or disclosure.category != DisclosureCategory.FINANCE:
        raise DomainError(_("请先把公开类别设为“财务公开”并保存期次。"), code=CODE)
    return disclosure


def _clean_line(*, direction: Any, date: Any, item: Any, category: Any, amount: Any, voucher_no: Any,
                note: Any) -> dict[str, Any]:
    if direction not in FinanceLine.Direction.values:
        raise DomainError(_("请选择收入或支出。"), code=CODE, field="direction")
    return {
        "direction": direction,
        "date": parse_date(date, field="date", required_message=_("请填写日期。")),
        "item": _text(item, field="item", max_length=100, required=_("请填写摘要。")),
        "category": _text(category, field="category", max_length=40),
        "amount_fen": parse_amount(amount),
        "voucher_no": _text(voucher_no, field="voucher_no", max_length=30),
        "note": _text(note, field="note", max_length=200),
    }


@transaction.atomic
def add_line(*, actor: User, publication: Publication, direction: str, date: Any, item: Any, amount: Any,
             category: Any = "", voucher_no: Any = "", note: Any = "", client_key: str = "") -> FinanceLine:
    """One income or expense line of a draft 财务公开; the same `client_key` adds it once."""
    _of_kind(publication, "disclosure")
    publication = _locked(publication)
    _editable(actor, publication)
    disclosure = _finance(publication)
    key = _key(client_key)
    if key and (existing := disclosure.lines.filter(client_key=key).first()):
        return existing
    fields = _clean_line(direction=direction, date=date, item=item, category=category, amount=amount,
                         voucher_no=voucher_no, note=note)
    count = disclosure.lines.count()
    if count >= LINES_MAX:
        raise DomainError(_("每期最多%(n)d条收支明细。") % {"n": LINES_MAX}, code=CODE)
    return FinanceLine.objects.create(disclosure=disclosure, position=count, client_key=key, **fields)


@transaction.atomic
def delete_line(*, actor: User, line: FinanceLine) -> None:
    publication = _locked(line.disclosure.publication)
    _editable(actor, publication)
    line.delete()


FINANCE_HEADER = ("收支", "日期", "摘要", "科目", "金额（元）", "凭证号", "备注")
_HEADER_KEYS = {
    "收支": "direction", "收支类型": "direction", "类型": "direction",
    "日期": "date", "摘要": "item", "项目": "item", "事项": "item",
    "科目": "category", "类别": "category",
    "金额（元）": "amount", "金额(元)": "amount", "金额": "amount",
    "凭证号": "voucher_no", "凭证编号": "voucher_no", "备注": "note",
}
_DIRECTIONS = {"收入": "income", "收": "income", "支出": "expense", "支": "expense"}


class ImportRefused(DomainError):
    """Some rows cannot be imported: nothing was; `problems` lists them ("第3行：金额无效。")."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(_("导入失败，没有导入任何明细。请修改后重新上传：") + "；".join(problems[:10]),
                         code=CODE, field="file")
        self.problems = problems


def read_lines(file: IO[bytes]) -> list[dict[str, Any]]:
    """The rows of a finance workbook (the template's header anywhere in its first 10 rows) as line fields;
    every bad row is named."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(file, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 — any unreadable file is the same answer
        raise DomainError(_("无法读取该文件。请上传Excel工作簿（.xlsx）；.xls或WPS格式请先“另存为”.xlsx。"),
                          code=CODE, field="file") from None
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        positions: dict[int, str] = {}
        number = 0
        for number, row in enumerate(rows, start=1):
            found = {i: _HEADER_KEYS[str(v).strip()] for i, v in enumerate(row)
                     if isinstance(v, str) and str(v).strip() in _HEADER_KEYS}
            if {"direction", "date", "item", "amount"} <= set(found.values()):
                positions = found
                break
            if number >= 10:
                break
        if not positions:
            raise DomainError(_("在前10行中没有找到表头（收支、日期、摘要、金额（元））。请使用下载的模板。"),
                              code=CODE, field="file")
        lines: list[dict[str, Any]] = []
        problems: list[str] = []
        for row_number, row in enumerate(rows, start=number + 1):
            values = {key: row[i] if i < len(row) else None for i, key in positions.items()}
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values.values()):
                continue
            raw_direction = str(values.get("direction") or "").strip()
            try:
                lines.append(_clean_line(direction=_DIRECTIONS.get(raw_direction, raw_direction or "-"),
                                         date=values.get("date"), item=values.get("item"),
                                         category=values.get("category") or "", amount=values.get("amount"),
                                         voucher_no=values.get("voucher_no") or "", note=values.get("note") or ""))
            except DomainError as err:
                problems.append(_("第%(n)d行：%(message)s") % {"n": row_number, "message": err.message})
            if len(lines) + len(problems) > LINES_MAX:
                problems.append(_("每期最多%(n)d条收支明细。") % {"n": LINES_MAX})
                break
    finally:
        book.close()
    if problems:
        raise ImportRefused(problems)
    if not lines:
        raise DomainError(_("文件中没有收支明细。"), code=CODE, field="file")
    return lines


@transaction.atomic
def import_lines(*, actor: User, publication: Publication, file: IO[bytes], replace: bool = False) -> int:
    """The lines of a workbook added to a draft 财务公开 (or replacing its lines), all or none."""
    _of_kind(publication, "disclosure")
    publication = _locked(publication)
    _editable(actor, publication)
    disclosure = _finance(publication)
    size = getattr(file, "size", None)
    if size is not None and size > IMPORT_BYTES_MAX:
        raise DomainError(_("文件不能超过2MB。"), code=CODE, field="file")
    rows = read_lines(file)
    if replace:
        disclosure.lines.all().delete()
    start = disclosure.lines.count()
    if start + len(rows) > LINES_MAX:
        raise DomainError(_("每期最多%(n)d条收支明细。") % {"n": LINES_MAX}, code=CODE, field="file")
    FinanceLine.objects.bulk_create(
        [FinanceLine(disclosure=disclosure, position=start + i, **row) for i, row in enumerate(rows)])
    log_step(publication=publication, actor=actor, note=_("导入收支明细%(n)d条") % {"n": len(rows)})
    return len(rows)


def template_rows() -> list[Sequence[Any]]:
    return [("收入", "2026-11-05", "村集体经济收入（土地流转费）", "经营收入", 12000.00, "记-001", ""),
            ("支出", "2026-11-10", "保洁员工资", "管理费用", 1500.00, "记-002", "11月份")]


@transaction.atomic
def add_project(*, actor: User, publication: Publication, name: Any, budget: Any = "", contractor: Any = "",
                note: Any = "", client_key: str = "") -> Project:
    _of_kind(publication, "disclosure")
    publication = _locked(publication)
    _editable(actor, publication)
    disclosure = Disclosure.objects.filter(publication=publication).first()
    if disclosure is None:
        raise DomainError(_("请先保存公开类别和期次。"), code=CODE)
    key = _key(client_key)
    if key and (existing := disclosure.projects.filter(client_key=key).first()):
        return existing
    if disclosure.projects.count() >= PROJECTS_MAX:
        raise DomainError(_("每期最多%(n)d个项目。") % {"n": PROJECTS_MAX}, code=CODE)
    return Project.objects.create(
        disclosure=disclosure, name=_text(name, field="name", max_length=100, required=_("请填写项目名称。")),
        budget_fen=parse_amount(budget, field="budget", required=False),
        contractor=_text(contractor, field="contractor", max_length=100),
        note=_text(note, field="note", max_length=500), client_key=key)


@transaction.atomic
def delete_project(*, actor: User, project: Project) -> None:
    publication = _locked(project.disclosure.publication)
    _editable(actor, publication)
    project.delete()


@transaction.atomic
def add_milestone(*, actor: User, project: Project, name: Any, planned_on: Any, note: Any = "",
                  done_on: Any = None, client_key: str = "") -> Milestone:
    publication = _locked(project.disclosure.publication)
    _editable(actor, publication)
    key = _key(client_key)
    if key and (existing := project.milestones.filter(client_key=key).first()):
        return existing
    if project.milestones.count() >= MILESTONES_MAX:
        raise DomainError(_("每个项目最多%(n)d个节点。") % {"n": MILESTONES_MAX}, code=CODE)
    return Milestone.objects.create(
        project=project, name=_text(name, field="name", max_length=60, required=_("请填写节点名称。")),
        planned_on=_required_date(planned_on, field="planned_on", message=_("请填写计划日期。")),
        done_on=parse_date(done_on, field="done_on"), note=_text(note, field="note", max_length=200),
        client_key=key)


@transaction.atomic
def set_milestone_done(*, actor: User, milestone: Milestone, done_on: Any, note: Any = "") -> Milestone:
    """A milestone reached (or its date corrected), on a draft or on the live item (logged)."""
    publication = _locked(milestone.project.disclosure.publication)
    _manageable(actor, publication)
    day = parse_date(done_on, field="done_on", required_message=_("请填写完成日期。"))
    if day is not None and day > timezone.localdate():
        raise DomainError(_("完成日期不能晚于今天。"), code=CODE, field="done_on")
    milestone.done_on = day
    if note:
        milestone.note = _text(note, field="note", max_length=200)
    milestone.save(update_fields=["done_on", "note"])
    if publication.status != Status.DRAFT:
        log_step(publication=publication, actor=actor,
                 note=_("项目“%(project)s”节点“%(name)s”完成于%(day)s")
                 % {"project": milestone.project.name, "name": milestone.name, "day": f"{day:%Y-%m-%d}"})
    return milestone


def check_disclosure_publishable(publication: Publication) -> None:
    """Run when a disclosure goes live (hook): a 财务公开 has lines, and the same unit has no other live
    disclosure of the same category and period. One without a category and period (documents only, made
    before they were set) goes live as it is, outside the category filter."""
    disclosure = Disclosure.objects.filter(publication=publication).first()
    if disclosure is None:
        return
    if disclosure.category == DisclosureCategory.FINANCE and not disclosure.lines.exists():
        raise DomainError(_("财务公开至少需要一条收支明细。"), code=CODE, field="lines")
    if same_period_published(publication, disclosure.category, disclosure.year, disclosure.period_type,
                             disclosure.period):
        raise DomainError(_("本单位该期的%(category)s已经发布，请勿重复公开；如需更正请先撤回原公开。")
                          % {"category": disclosure.get_category_display()}, code=CODE, field="period")


# 村民说事 -----------------------------------------------------------------------------------------------------

def stage_label(stage: int) -> str:
    """说, 议, 办, 督 or 评."""
    return str(Stage(stage).label)


def _meeting(publication: Publication) -> Meeting:
    _of_kind(publication, "meeting")
    meeting, _created = Meeting.objects.get_or_create(publication=publication)
    return meeting


def _stage_open(meeting: Meeting, stage: int) -> None:
    if meeting.published_stage >= stage:
        raise Conflict(_("“%(stage)s”环节已经公开，不能再修改。") % {"stage": stage_label(stage)})


@transaction.atomic
def save_say(*, actor: User, publication: Publication, matter: Any, raised_by_name: Any = "",
             raised_on: Any = None, raised_by: User | None = None, case_id: Any = None) -> Meeting:
    """说: who raised the matter, when, what, and the reported case (事件) it came from, if any."""
    _of_kind(publication, "meeting")
    publication = _locked(publication)
    _editable(actor, publication)
    meeting = _meeting(publication)
    _stage_open(meeting, Stage.SAY)
    meeting.matter = _text(matter, field="matter", max_length=2000, required=_("请填写说事内容。"))
    meeting.raised_by_name = _text(raised_by_name, field="raised_by_name", max_length=40)
    meeting.raised_on = parse_date(raised_on, field="raised_on")
    if meeting.raised_on and meeting.raised_on > timezone.localdate():
        raise DomainError(_("说事日期不能晚于今天。"), code=CODE, field="raised_on")
    if raised_by is not None:
        meeting.raised_by = raised_by
    meeting.case = None
    if case_id not in (None, ""):
        from gongzhi.cases import selectors as case_selectors

        number = _int(case_id, field="case_id", message=_("请填写事件编号（数字）。"))
        try:
            meeting.case = case_selectors.case_for(actor, number)
        except NotFound:
            raise DomainError(_("找不到该事件，或不在您的管辖范围内。"), code=CODE, field="case_id") from None
    if not meeting.raised_by_name and not meeting.raised_by_id and meeting.case is None:
        raise DomainError(_("请填写说事人。"), code=CODE, field="raised_by_name")
    meeting.save()
    return meeting


@transaction.atomic
def save_discussion(*, actor: User, publication: Publication, discussed_on: Any, participants: Any,
                    discussion: Any, decision: Any) -> Meeting:
    """议: when, who took part, how it went, and the decision (议事结果)."""
    _of_kind(publication, "meeting")
    publication = _locked(publication)
    _manageable(actor, publication)
    meeting = _meeting(publication)
    _stage_open(meeting, Stage.DISCUSS)
    day = parse_date(discussed_on, field="discussed_on", required_message=_("请填写议事日期。"))
    if day is not None and day > timezone.localdate():
        raise DomainError(_("议事日期不能晚于今天。"), code=CODE, field="discussed_on")
    meeting.discussed_on = day
    meeting.participants = _text(participants, field="participants", max_length=500, required=_("请填写参加人员。"))
    meeting.discussion = _text(discussion, field="discussion", max_length=2000)
    meeting.decision = _text(decision, field="decision", max_length=2000, required=_("请填写议事结果。"))
    meeting.save()
    return meeting


@transaction.atomic
def add_action(*, actor: User, publication: Publication, title: Any, assignee: Any, due_on: Any,
               client_key: str = "") -> MeetingAction:
    """办: one thing to do, by whom, by when."""
    _of_kind(publication, "meeting")
    publication = _locked(publication)
    _manageable(actor, publication)
    meeting = _meeting(publication)
    key = _key(client_key)
    if key and (existing := meeting.actions.filter(client_key=key).first()):
        return existing
    _stage_open(meeting, Stage.DO)
    if meeting.actions.count() >= ACTIONS_MAX:
        raise DomainError(_("最多%(n)d个办理事项。") % {"n": ACTIONS_MAX}, code=CODE)
    return MeetingAction.objects.create(
        meeting=meeting, title=_text(title, field="title", max_length=100, required=_("请填写办理事项。")),
        assignee=_text(assignee, field="assignee", max_length=60, required=_("请填写责任人。")),
        due_on=_required_date(due_on, field="due_on", message=_("请填写完成时限。")), client_key=key)


@transaction.atomic
def delete_action(*, actor: User, action: MeetingAction) -> None:
    publication = _locked(action.meeting.publication)
    _manageable(actor, publication)
    _stage_open(action.meeting, Stage.DO)
    action.delete()


@transaction.atomic
def finish_action(*, actor: User, action: MeetingAction, done_on: Any) -> MeetingAction:
    """An action done (logged in the item's history once it is public)."""
    publication = _locked(action.meeting.publication)
    _manageable(actor, publication)
    day = parse_date(done_on, field="done_on", required_message=_("请填写完成日期。"))
    if day is not None and day > timezone.localdate():
        raise DomainError(_("完成日期不能晚于今天。"), code=CODE, field="done_on")
    action.done_on = day
    action.save(update_fields=["done_on"])
    if publication.status == Status.PUBLISHED:
        log_step(publication=publication, actor=actor,
                 note=_("办理事项“%(title)s”已完成") % {"title": action.title})
    return action


@transaction.atomic
def add_supervision_note(*, actor: User, publication: Publication, body: Any,
                         client_key: str = "") -> SupervisionNote:
    """督: a supervisor's note on the progress (after the decision; shown once 督 is public)."""
    _of_kind(publication, "meeting")
    publication = _locked(publication)
    _manageable(actor, publication)
    meeting = _meeting(publication)
    key = _key(client_key)
    if key and (existing := meeting.notes.filter(client_key=key).first()):
        return existing
    if not meeting.actions.exists():
        raise DomainError(_("请先填写办理事项，再记录督办情况。"), code=CODE, field="body")
    if meeting.notes.count() >= NOTES_MAX:
        raise DomainError(_("督办记录已达上限。"), code=CODE, field="body")
    return SupervisionNote.objects.create(
        meeting=meeting, author=actor,
        body=_text(body, field="body", max_length=500, required=_("请填写督办情况。")), client_key=key)


def _stage_ready(meeting: Meeting, stage: int) -> None:
    if stage == Stage.SAY and not meeting.matter:
        raise DomainError(_("请先填写说事内容。"), code=CODE, field="matter")
    if stage == Stage.DISCUSS and not meeting.decision:
        raise DomainError(_("请先填写议事结果。"), code=CODE, field="decision")
    if stage == Stage.DO and not meeting.actions.exists():
        raise DomainError(_("请先填写办理事项。"), code=CODE, field="title")
    if stage == Stage.SUPERVISE and not meeting.notes.exists():
        raise DomainError(_("请先记录督办情况。"), code=CODE, field="body")


def start_meeting(publication: Publication) -> None:
    """Run when a meeting goes live (hook): its 说 is public with it. A matter not written in the 说 form is the
    item's own text (its body, else its title)."""
    meeting, _created = Meeting.objects.select_for_update().get_or_create(publication=publication)
    if not meeting.matter:
        meeting.matter = publication.body or publication.title
    meeting.published_stage = max(meeting.published_stage, Stage.SAY)
    meeting.save(update_fields=["matter", "published_stage"])


@transaction.atomic
def publish_stage(*, actor: User, publication: Publication, stage: Any) -> Meeting:
    """The next stage made public (议 after 说, 办 after 议 …); 说 goes public with the item itself."""
    _of_kind(publication, "meeting")
    publication = _locked(publication)
    _manageable(actor, publication)
    number = _int(stage, field="stage", message=_("环节无效。"))
    if number not in Stage.values or number == Stage.NONE:
        raise DomainError(_("环节无效。"), code=CODE, field="stage")
    if publication.status != Status.PUBLISHED:
        raise Conflict(_("请先发布本事项（公开“说”环节），再逐个公开后续环节。"))
    meeting = Meeting.objects.select_for_update().get(publication=publication)
    if number <= meeting.published_stage:
        return meeting  # already public: a repeated tap changes nothing
    if number != meeting.published_stage + 1:
        raise Conflict(_("请按说、议、办、督、评的顺序逐个公开，下一个应公开“%(stage)s”环节。")
                       % {"stage": stage_label(meeting.published_stage + 1)})
    _stage_ready(meeting, number)
    meeting.published_stage = number
    meeting.save(update_fields=["published_stage"])
    log_step(publication=publication, actor=actor,
             note=_("公开“%(stage)s”环节") % {"stage": stage_label(number)})
    return meeting


@transaction.atomic
def evaluate(*, actor: User, publication: Publication, rating: str, comment: Any = "") -> MeetingEvaluation:
    """评: a verified resident of the item's area rates the outcome, once (the same answer sent again is the
    first one)."""
    _of_kind(publication, "meeting")
    publication = Publication.objects.select_related("audience_unit").get(pk=publication.pk)
    if not policies.can_view(actor, publication):
        raise NotFound()
    meeting = Meeting.objects.filter(publication=publication).first()
    if meeting is None or meeting.published_stage < Stage.EVALUATE:
        raise Conflict(_("该事项还未开放评价。"))
    if publication.audience_path not in policies.area_paths(actor):
        raise Forbidden(_("只有本地核验居民可以评价。"))
    if rating not in Rating.values:
        raise DomainError(_("请选择满意、基本满意或不满意。"), code=CODE, field="rating")
    text = _text(comment, field="comment", max_length=300)
    existing = MeetingEvaluation.objects.filter(meeting=meeting, user=actor).first()
    if existing is not None:
        if existing.rating == rating and existing.comment == text:
            return existing
        raise Conflict(_("您已经评价过了，每人只能评价一次。"))
    try:
        with transaction.atomic():
            return MeetingEvaluation.objects.create(meeting=meeting, user=actor, rating=rating, comment=text)
    except IntegrityError:  # the same form twice at once
        raise Conflict(_("您已经评价过了，每人只能评价一次。")) from None
