"""The shapes of the dispute endpoints (`disputes.py`). What they answer about a party, a session or an
agreement is the selectors' own view (`cases.selectors.PartyView`, `SessionView`, `AgreementView`), the type
the case page shows, so the page and the API cannot describe a record differently."""

import datetime
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import StrictStr

from gongzhi.api.cases.schemas import MAX_ID, ClientKey, Id
from gongzhi.api.schemas import StrictIn, TextIn
from gongzhi.cases.selectors import PartyView, Risk, SessionView
from gongzhi.cases.services import disputes

# The models' choices (a test checks they agree): 申请人, 被申请人, 第三人, 当事人;
# 人民/行政/司法/诉前/行业性专业性调解; 调解成功, 部分达成, 调解不成, 继续调解; 已履行, 部分履行, 未履行.
PartyRole = Literal["applicant", "respondent", "third", "party"]
MediationKind = Literal["people", "administrative", "judicial", "pre_litigation", "industry"]
MediationOutcome = Literal["agreed", "partial", "failed", "continued"]
Performance = Literal["performed", "partly", "not_performed"]

PartyName = Annotated[StrictStr, Field(max_length=disputes.NAME_MAX_LENGTH, description="姓名或名称")]
IdNumber = Annotated[StrictStr, Field(max_length=30, description="身份证号（只保存其密钥散列）")]
HouseholdNumber = Annotated[StrictStr, Field(max_length=30, description="户号（关联户籍）")]


class DisputeOut(Schema):
    case_id: int
    parties: list[PartyView] = Field(description="当事人，姓名已遮蔽（如 张**）")
    sessions: list[SessionView] = Field(description="调解记录，按调解日期；agreement 为其调解协议书及履行回访")
    risks: list[Risk] = Field(description="风险提示：repeat 重复纠纷，marriage_family_open 民转刑风险")
    may_record: bool = Field(description="可以登记、修改当事人和调解记录")
    may_record_performance: bool = Field(description="可以登记协议履行回访（结案后也可以）")
    may_unmask: bool = Field(description="可以查看当事人完整姓名（POST …/dispute/names，每次都记录在案）")


class PartyIn(StrictIn):
    name: PartyName
    role: PartyRole = "party"
    id_number: IdNumber | None = None
    household_number: HouseholdNumber | None = None
    client_key: ClientKey = ""


class PartyEditIn(StrictIn):
    """Only the fields sent change; an empty `id_number` or `household_number` removes it."""

    name: PartyName | None = None
    role: PartyRole | None = None
    id_number: IdNumber | None = None
    household_number: HouseholdNumber | None = None
    client_key: ClientKey = ""


class ClientKeyIn(StrictIn):
    client_key: ClientKey = ""


class RemovedOut(Schema):
    party_id: int
    created: bool = Field(description="本次删除；false 表示同一 client_key 的删除已经做过")


class MediationIn(StrictIn):
    kind: MediationKind
    held_on: datetime.date = Field(description="调解日期")
    outcome: MediationOutcome
    mediator_ids: list[Id] = Field([], max_length=50, description="调解员中的工作人员（GET …/dispute/mediators）")
    other_mediators: StrictStr = Field("", max_length=disputes.OTHER_MEDIATORS_MAX_LENGTH,
                                       description="没有账号的调解员姓名，多人用顿号分开")
    summary: StrictStr = Field("", max_length=disputes.SUMMARY_MAX_LENGTH, description="调解经过")
    client_key: ClientKey = ""


class AgreementIn(StrictIn):
    """The form fields sent with the file (multipart/form-data)."""

    signed_on: datetime.date = Field(description="签订日期")
    follow_up_on: datetime.date = Field(description="履行回访日期")
    client_key: ClientKey = ""


class AgreementReplaceIn(StrictIn):
    signed_on: datetime.date | None = Field(None, description="签订日期（不填则不变）")
    follow_up_on: datetime.date | None = Field(None, description="履行回访日期（不填则不变）")
    client_key: ClientKey = ""


class PerformanceIn(StrictIn):
    performance: Performance
    checked_on: datetime.date = Field(description="回访日期")
    note: StrictStr = Field("", max_length=disputes.PERFORMANCE_NOTE_MAX_LENGTH, description="回访情况")
    next_follow_up_on: datetime.date | None = Field(None, description="未履行或部分履行时：下次回访日期")
    client_key: ClientKey = ""


class RevealIn(StrictIn):
    reason: StrictStr = Field(max_length=disputes.REVEAL_REASON_MAX_LENGTH, description="查看事由（必填，记录在案）")


class PartyNameOut(Schema):
    id: int
    role: str
    role_label: str
    name: str = Field(description="完整姓名或名称")


class MediatorOut(Schema):
    id: int
    label: str = Field(description="姓名（单位）")


class AtRiskQuery(TextIn):
    risk: Literal["repeat", "marriage_family_open"] | None = Field(None, description="只看一种风险")
    township_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = Field(None, description="只看一个乡镇（街道）")
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=1_000_000)


class AtRiskCaseOut(Schema):
    id: int
    number: str
    status: str
    status_label: str
    category: str
    category_name: str
    description: str
    grid_name: str | None
    created_at: datetime.datetime
    risk_repeat: bool = Field(description="重复纠纷")
    risk_marriage_family: bool = Field(description="民转刑风险")


class AtRiskListOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[AtRiskCaseOut]


class FollowUpDueOut(Schema):
    agreement_id: int
    case_id: int
    case_number: str
    session_id: int
    signed_on: datetime.date
    follow_up_on: datetime.date
    performance: str
