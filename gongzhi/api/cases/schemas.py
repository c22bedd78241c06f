"""The shapes of the cases API: what each endpoint takes and answers. A case's timeline is the selectors'
own `TimelineEntry`, so the page and the API cannot describe a step differently."""

import datetime
import uuid
from typing import TYPE_CHECKING, Annotated, Literal

from ninja import Field, Path, Schema
from pydantic import StrictBool, StrictInt, StrictStr

from gongzhi.api.schemas import StrictIn, TextIn
from gongzhi.cases import services
from gongzhi.cases.models import CLIENT_KEY_MAX_LENGTH
from gongzhi.cases.selectors import TimelineEntry
from gongzhi.cases.workflow import PERSON_ACTIONS, Flag
from gongzhi.cases.workflow import Status as CaseStatus

MAX_ID = 2**63 - 1
MAX_OFFSET = 1_000_000

CaseId = Annotated[int, Path(..., ge=1, le=MAX_ID, description="事件编号（id）")]
Id = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
Lat = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False, description="纬度（WGS84）")]
Lng = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False, description="经度（WGS84）")]
Note = Annotated[StrictStr, Field(max_length=services.NOTE_MAX_LENGTH, description="说明")]
Comment = Annotated[StrictStr, Field(max_length=services.COMMENT_MAX_LENGTH, description="评价意见")]
ClientKey = Annotated[StrictStr, Field(
    max_length=CLIENT_KEY_MAX_LENGTH,
    description="客户端为这次操作生成的编号（如 UUID）；用同一编号重发，返回第一次的结果，不会重复办理")]

# Every action a person may take, by its workflow name (the sweep's own steps are not among them).
if TYPE_CHECKING:
    ActionName = str
else:
    ActionName = Literal[PERSON_ACTIONS]


PhotoToken = Annotated[StrictStr, Field(min_length=1, max_length=services.pending_uploads.TOKEN_MAX_LENGTH)]


class CaseListQuery(TextIn):
    queue: Literal["intake", "tasks", "questions", "extensions"] | None = Field(
        None, description="工作队列：intake 待本指挥中心受理，tasks 本单位主办及待回访，questions 有待答复的群众追问，"
                          "extensions 待本人审批的延期申请")
    status: CaseStatus | None = Field(None, description="按状态筛选")
    flag: Flag | None = Field(None, description="按时限标记筛选：red 已超期，yellow 临期，green 正常")
    archived: Literal["exclude", "only", "include"] = Field(
        "exclude", description="归档：exclude 不含已归档（默认），only 只看已归档，include 全部")
    limit: int = Field(20, ge=1, le=100, description="每页条数")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="跳过条数")


class CaseSummaryOut(Schema):
    id: int
    number: str
    status: str
    status_label: str
    category: str = Field(description="分类编码")
    category_name: str
    description: str
    address: str
    created_at: datetime.datetime
    flag: str = Field(description="red/yellow/green；无时限时为空")
    due: datetime.datetime | None = Field(description="当前运行中的时限")
    archived_at: datetime.datetime | None = Field(description="归档时间；未归档时为空")


class CaseListOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[CaseSummaryOut]


class AttachmentOut(Schema):
    id: int
    kind: str
    stage: str = Field(description="照片所示：before 处置前、after 处置后，或空")
    step: int | None = Field(description="随哪一步提交（办理记录的序号 seq；1 为上报）")
    content_type: str
    url: str
    thumbnail_url: str | None
    duration_seconds: float | None
    name: str = Field(description="文件（kind 为 document，PDF）的原名；照片、语音为空")


class ExtensionOut(Schema):
    id: int
    decision: Literal["pending", "approved", "refused", "lapsed"] = Field(
        description="pending 待审批，approved 已批准，refused 已驳回，lapsed 事件已不在办理中而失效")
    requesting_unit: str
    requested_by: str
    requested_at: datetime.datetime
    reason: str = Field(description="延期理由")
    previous_due: datetime.datetime = Field(description="申请时的办理期限")
    proposed_due: datetime.datetime = Field(description="申请延期至（该工作日下班时）")
    decided_by: str | None
    decided_at: datetime.datetime | None
    decision_note: str = Field(description="审批意见")


class CaseOut(Schema):
    id: int
    number: str
    status: str
    status_label: str
    category: str
    category_name: str
    description: str
    lat: float | None
    lng: float | None
    address: str
    is_anonymous: bool
    holder_name: str = Field(description="当前承办层级")
    grid_name: str | None
    respond_due: datetime.datetime | None
    handle_due: datetime.datetime | None
    review_on: datetime.date | None
    merged_into_id: int | None
    created_at: datetime.datetime
    closed_at: datetime.datetime | None
    archived_at: datetime.datetime | None = Field(description="归档时间；未归档时为空")
    attachments: list[AttachmentOut]
    timeline: list[TimelineEntry]
    extensions: list[ExtensionOut] = Field(description="延期申请，新的在前（只给辖区内的工作人员，群众为空）")


class CaseIn(StrictIn):
    client_id: uuid.UUID = Field(description="客户端生成的提交编号；同一编号重试不会重复建事件")
    category: StrictStr = Field(min_length=1, max_length=60, description="事件分类编码（叶子分类）")
    description: StrictStr = Field(max_length=services.DESCRIPTION_MAX_LENGTH, description="反映的内容")
    lat: Lat
    lng: Lng
    address: StrictStr = Field("", max_length=200, description="地点说明")
    is_anonymous: StrictBool = Field(False, description="匿名反映：办理人员看不到反映人")
    photo_tokens: list[PhotoToken] = Field(
        [], max_length=services.MAX_PHOTOS,
        description="先用 POST /api/cases/photos 逐张上传的照片的 token，按顺序成为事件的照片（最多9张）")
    subject_unit_id: Id | None = Field(
        None, description="投诉举报：被投诉的单位（负责事发地点的村、乡镇、区县或其部门）；该单位看不到本投诉，"
                          "由其上一级办理")


class OnBehalfIn(CaseIn):
    name: StrictStr = Field(min_length=1, max_length=50, description="反映人姓名")
    id_number: StrictStr = Field(min_length=1, max_length=30, description="反映人身份证号")
    phone: StrictStr = Field(min_length=1, max_length=20, description="反映人手机号")


class CaseAckOut(Schema):
    id: int
    number: str = Field(description="事件编号，如 20260302000012")
    status: str
    status_label: str
    created: bool = Field(description="本次新建；false 表示同一 client_id 的事件已存在")
    created_at: datetime.datetime


class PhotoOut(Schema):
    token: str = Field(description="提交事件时放进 photo_tokens；24小时内未使用即删除")
    thumbnail_url: str = Field(description="缩略图（只有上传者本人可以打开）")
    created: bool = Field(description="本次新存；false 表示同一张照片已经上传过，返回原来的 token")


class DocumentOut(Schema):
    token: str = Field(description="办理步骤提交时放进 document_tokens；24小时内未使用即删除")
    name: str = Field(description="文件名（取自上传的文件名）")
    created: bool = Field(description="本次新存；false 表示同一个文件已经上传过，返回原来的 token")


class ActionIn(StrictIn):
    """One action; besides `note`, each action reads only the fields named for it."""

    action: ActionName
    client_key: ClientKey = ""
    note: Note = ""
    lead_unit_id: Id | None = Field(None, description="派单：主办单位")
    lead_person_id: Id | None = Field(None, description="派单：主办人（可选，须在主办单位任职）")
    assist_unit_ids: list[Id] = Field([], max_length=20, description="派单：协办单位")
    review_on: datetime.date | None = Field(None, description="挂账：复查日期")
    extend_to: datetime.date | None = Field(
        None, description="申请延期（request_extension，note 为延期理由）：延期至哪个工作日（下班时）")
    merge_into_id: Id | None = Field(None, description="合并：并入的事件")
    due_at: datetime.datetime | None = Field(None, description="督办：期限（须带时区）")
    method: Literal["phone", "visit"] | None = Field(
        None, description="回访（confirm 问题已解决，visit_failed 未解决）：方式")
    score: Literal["satisfied", "basic", "unsatisfied"] | None = Field(
        None, description="评价：rate 满意或基本满意，rate_unsatisfied 不满意（可省略）")
    comment: Comment = Field("", description="评价：意见（不满意时必填）")
    question: Note = Field("", description="追问（follow_up）：问题")
    follow_up_id: Id | None = Field(None, description="答复（reply）：追问的编号")
    answer: Note = Field("", description="答复（reply）：内容")
    photo_tokens: list[PhotoToken] = Field(
        [], max_length=9, description="随本步骤提交的照片：先用 POST /api/cases/photos 逐张上传得到的 token")
    before_photo_tokens: list[PhotoToken] = Field([], max_length=9, description="办结：处置前照片的 token")
    after_photo_tokens: list[PhotoToken] = Field(
        [], max_length=9, description="办结：处置后照片的 token（分类要求时必填）")
    document_tokens: list[PhotoToken] = Field(
        [], max_length=5, description="随本步骤提交的文件（PDF）：先用 POST /api/cases/documents 逐个上传得到的 token")


class FollowUpIn(StrictIn):
    question: Note
    client_key: ClientKey = ""


class FollowUpOut(Schema):
    id: int
    case_id: int
    addressed_to: str


class AnswerIn(StrictIn):
    answer: Note
    client_key: ClientKey = ""


class AnswerOut(Schema):
    id: int
    case_id: int
    answered_at: datetime.datetime


class SupervisionIn(StrictIn):
    note: Note
    due_at: datetime.datetime = Field(description="督办期限（须带时区，如 2026-12-01T17:30:00+08:00）")
    client_key: ClientKey = ""


class SupervisionOut(Schema):
    id: int
    case_id: int
    issuing_unit: str
    due_at: datetime.datetime


class ReturnVisitIn(StrictIn):
    method: Literal["phone", "visit"]
    settled: StrictBool = Field(description="问题已解决；否则事件重新办理")
    note: Note
    client_key: ClientKey = ""


class ReturnVisitOut(Schema):
    id: int
    case_id: int
    method: str
    settled: bool


class RatingIn(StrictIn):
    score: Literal["satisfied", "basic", "unsatisfied"]
    comment: Comment = ""
    client_key: ClientKey = ""


class RatingOut(Schema):
    id: int
    case_id: int
    score: str
    comment: str
    round: int


class DuplicateQuery(TextIn):
    category: str = Field(min_length=1, max_length=60, description="分类编码")
    lat: Lat
    lng: Lng
    description: str = Field("", max_length=2000,
                             description="要反映的内容（可选）。给出时按内容、距离、时间和分类综合排序，"
                                         "并包括1公里内内容相近的其他分类事件；不给时只找250米内的同类事件")


class DuplicateOut(Schema):
    id: int
    number: str
    status: str
    status_label: str
    description: str
    distance_m: float
    created_at: datetime.datetime
    category: str = Field(description="分类编码")
    score: float = Field(description="综合得分（0–1），越高越可能是同一件事")
    text_similarity: float = Field(description="内容相似度（0–1）；未给出内容时为0")
    similar_text: bool = Field(description="内容相近（相似度达到阈值）")


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    parent: str | None = Field(description="上级分类编码")
    selectable: bool = Field(description="可用于反映事件（非顶级分类）")
    handler_type: str
