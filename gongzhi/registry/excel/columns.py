"""The columns of each record type's workbook, in one place: the template, the import and the export all read
them, so an exported file imports as it is.

Headers and choice labels are data, not interface text: a file reads the same whatever language its author's
page was in (a village's file goes up to the township and back). A header is found with or without its "*",
with full-width brackets, and by a few names people commonly give the column (`aliases`).
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models.enums import Choices
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from gongzhi.registry.models import Establishment, House, ResidenceType, Resident


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    width: int = 14
    as_text: bool = False  # the template's column is formatted as text (numbers people must not lose)
    hint: Promise | str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return (header_key(self.header), *(header_key(a) for a in self.aliases))


@dataclass(frozen=True)
class RecordType:
    key: str
    label: Promise
    sheet: str  # the data sheet's title (fixed Chinese, as the headers)
    columns: tuple[Column, ...]
    note: Promise
    by_key: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", {c.key: c for c in self.columns})

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]


def header_key(value: str) -> str:
    """A header as compared: NFKC (full-width brackets become ASCII), no spaces or line breaks, no "*" marks."""
    text = unicodedata.normalize("NFKC", value or "")
    return "".join(text.split()).replace("*", "")


# -------------------------------------------------------------------------------------------------- choices

def _zh(choices: Iterable[tuple[str, object]]) -> dict[str, str]:
    """{Chinese label: stored value}."""
    with translation.override("zh-hans"):
        return {str(label): value for value, label in choices}


@dataclass(frozen=True)
class ChoiceSet:
    """A choice column: its labels in the file (offered in the drop-down list), the synonyms people write, and
    the label an export writes for each stored value."""

    offered: tuple[str, ...]
    accepted: dict[str, str]  # label or synonym → stored value
    label_of: dict[str, str]  # stored value → label


def _choice_set(choices: Iterable[tuple[str, object]], synonyms: dict[str, str] | None = None) -> ChoiceSet:
    labels = _zh(choices)
    accepted = {**{k: v for k, v in (synonyms or {}).items()}, **labels}
    return ChoiceSet(offered=tuple(labels), accepted=accepted, label_of={v: k for k, v in labels.items()})


def _enum(choices: type[Choices]) -> list[tuple[str, object]]:
    return [(str(value), label) for value, label in choices.choices]


@functools.cache
def choice_sets() -> dict[str, ChoiceSet]:
    gender_field = Resident._meta.get_field("gender")
    return {
        "gender": _choice_set([(str(v), label) for v, label in gender_field.choices or []],
                              {"男性": "M", "女性": "F", "M": "M", "F": "F"}),
        "residence_type": _choice_set(_enum(ResidenceType), {
            "户籍": "registered", "常住人口": "registered", "流动": "floating", "寄住": "lodging",
            "境外": "overseas", "境外人口": "overseas"}),
        "relation": _choice_set(_enum(Resident.Relation), {
            "本人": "head", "妻": "spouse", "夫": "spouse", "妻子": "spouse", "丈夫": "spouse",
            "子": "child", "女": "child", "儿子": "child", "女儿": "child", "长子": "child", "次子": "child",
            "长女": "child", "次女": "child", "父": "parent", "母": "parent", "父亲": "parent",
            "母亲": "parent", "孙子": "grandchild", "孙女": "grandchild", "外孙子": "grandchild",
            "外孙女": "grandchild"}),
        "status": _choice_set(_enum(Resident.Status)),
        "house_use": _choice_set(_enum(House.Use)),
        "establishment_kind": _choice_set(_enum(Establishment.Kind), {
            "商铺": "shop", "个体工商户": "shop", "机关": "public", "事业单位": "public"}),
        "establishment_status": _choice_set(_enum(Establishment.Status), {"营业": "open", "注销": "deregistered"}),
    }


# -------------------------------------------------------------------------------------------------- columns

_VILLAGE = Column("village", "村(社区)", aliases=("村", "社区", "村居", "所属村(社区)"), width=14,
                  hint=_("网格所在的村(社区)名称；与“网格”一起确定网格，或改填“网格编码”。"))
_GRID = Column("grid", "网格", aliases=("网格名称", "所属网格"), width=16,
               hint=_("网格名称，如“第1网格”或“小山村第1网格”。"))
_GRID_CODE = Column("grid_code", "网格编码", aliases=("网格代码",), width=18, as_text=True,
                    hint=_("填写后以编码为准，村(社区)和网格可不填。"))
_ADDRESS_CODE = Column("address_code", "标准地址编码", aliases=("地址编码",), width=20, as_text=True,
                       hint=_("公安机关编制的标准地址编码，没有可不填。"))
_ADDRESS_PARTS = (
    Column("road", "街路巷/小区*", required=True, aliases=("街路巷", "小区", "街路巷(小区)", "道路"), width=16,
           hint=_("街、路、巷或小区名称。")),
    Column("number", "门牌号", aliases=("门牌", "号"), width=10, as_text=True, hint=_("如12或12号。")),
    Column("building", "楼栋", aliases=("栋", "楼号", "幢"), width=8, as_text=True),
    Column("unit_no", "单元", width=8, as_text=True),
    Column("room", "室", aliases=("房号", "户室号", "门牌室号"), width=8, as_text=True),
)
_NOTE = Column("note", "备注", width=20)


POPULATION = RecordType(
    key="population", label=_("人口"), sheet="人口",
    note=_("每人一行；同一户的成员填写相同的户号，户主的“与户主关系”填“户主”。流动、寄住、境外人员没有户号时，"
           "须填写已登记的标准地址（标准地址编码，或与标准地址完全一致的住址）。"),
    columns=(
        Column("name", "姓名*", required=True, width=10),
        Column("id_number", "身份证号*", required=True, aliases=("身份证号码", "公民身份号码", "证件号码"), width=22,
               as_text=True, hint=_("18位，最后一位可以是X。请把该列设为文本，以免Excel改掉末几位。")),
        Column("gender", "性别", width=6, hint=_("不填则按身份证号。")),
        Column("birth_date", "出生日期", aliases=("出生年月日",), width=12,
               hint=_("如1968-04-12；不填则按身份证号。")),
        Column("ethnicity", "民族", width=8),
        Column("phone", "手机号", aliases=("手机号码", "联系电话", "电话"), width=14, as_text=True),
        Column("residence_type", "人口类型", aliases=("人员类型",), width=10,
               hint=_("不填则为户籍人口。")),
        Column("household", "户号", aliases=("户编号",), width=18, as_text=True,
               hint=_("户籍人口必填；同一户的成员户号相同。")),
        Column("relation", "与户主关系", aliases=("与户主的关系", "关系"), width=10),
        _VILLAGE, _GRID, _GRID_CODE,
        Column("address", "住址", aliases=("地址", "居住地址", "现住址", "家庭住址"), width=30,
               hint=_("户的住址；新户必填，同一户填一次即可。")),
        _ADDRESS_CODE,
        Column("groups", "特殊人群", aliases=("特殊人群类别",), width=14),
        Column("status", "状态", aliases=("人员状态",), width=8, hint=_("不填则为在册。")),
        _NOTE,
    ),
)

ADDRESSES = RecordType(
    key="addresses", label=_("标准地址"), sheet="标准地址",
    note=_("每个地址一行：同一村(社区)内，街路巷/小区、门牌号、楼栋、单元、室完全相同的是同一个地址。"),
    columns=(_VILLAGE, _GRID, _GRID_CODE, *_ADDRESS_PARTS, _ADDRESS_CODE,
             Column("lat", "纬度", width=11, hint=_("WGS84坐标，如35.58。")),
             Column("lng", "经度", width=11, hint=_("WGS84坐标，如104.60。"))),
)

HOUSES = RecordType(
    key="houses", label=_("实有房屋"), sheet="实有房屋",
    note=_("每套房屋一行，按地址识别；地址尚未登记的，导入时一并登记为标准地址。租住人须已登记在实有人口中。"),
    columns=(_VILLAGE, _GRID, _GRID_CODE, *_ADDRESS_PARTS, _ADDRESS_CODE,
             Column("use", "房屋用途*", required=True, aliases=("用途", "房屋类型"), width=10),
             Column("area", "建筑面积(平方米)", aliases=("建筑面积", "面积"), width=10),
             Column("owner_name", "房主姓名", aliases=("房主", "产权人"), width=10),
             Column("owner_id_number", "房主身份证号", aliases=("房主身份证号码", "产权人身份证号"), width=22,
                    as_text=True),
             Column("owner_phone", "房主手机号", aliases=("房主电话", "房主联系电话"), width=14, as_text=True),
             Column("tenants", "租住人身份证号", aliases=("租户身份证号",), width=30, as_text=True,
                    hint=_("出租房屋的租住人，多人用分号“；”隔开；须已登记在实有人口中。")),
             _NOTE),
)

ESTABLISHMENTS = RecordType(
    key="establishments", label=_("实有单位"), sheet="实有单位",
    note=_("每个单位一行，按统一社会信用代码识别；没有代码的，按同一网格内的单位名称和经营地址识别。"),
    columns=(
        Column("name", "单位名称*", required=True, aliases=("名称", "店名"), width=24),
        Column("kind", "单位类型*", required=True, aliases=("类型",), width=14),
        Column("licence_number", "统一社会信用代码", aliases=("统一社会信用代码/营业执照号", "营业执照号",
                                                             "信用代码", "注册号"), width=22, as_text=True),
        Column("industry", "行业", width=10),
        _VILLAGE, _GRID, _GRID_CODE,
        Column("address_text", "经营地址", aliases=("地址", "单位地址"), width=30),
        _ADDRESS_CODE,
        Column("legal_person", "法定代表人/负责人", aliases=("法定代表人", "负责人", "法人"), width=12),
        Column("legal_person_phone", "负责人手机号", aliases=("负责人电话", "法人电话", "联系电话"), width=14,
               as_text=True),
        Column("staff_count", "从业人数", aliases=("员工人数",), width=8),
        Column("safety_contact", "安全联系人", width=10),
        Column("safety_contact_phone", "安全联系人手机号", aliases=("安全联系人电话",), width=14, as_text=True),
        Column("status", "经营状态", aliases=("状态",), width=10, hint=_("不填则为正常经营。")),
        _NOTE,
    ),
)

RECORD_TYPES: dict[str, RecordType] = {t.key: t for t in (POPULATION, ADDRESSES, HOUSES, ESTABLISHMENTS)}

# The choice set of each choice column, by (record type, column).
CHOICE_COLUMNS: dict[tuple[str, str], str] = {
    ("population", "gender"): "gender", ("population", "residence_type"): "residence_type",
    ("population", "relation"): "relation", ("population", "status"): "status",
    ("houses", "use"): "house_use", ("establishments", "kind"): "establishment_kind",
    ("establishments", "status"): "establishment_status",
}


def offered(record_type: str, column: str) -> tuple[str, ...]:
    name = CHOICE_COLUMNS.get((record_type, column))
    return choice_sets()[name].offered if name else ()
