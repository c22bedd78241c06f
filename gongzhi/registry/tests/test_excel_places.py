"""标准地址, 实有房屋 and 实有单位 from Excel: natural keys, tenants, scope, the templates, export → import."""

import datetime

import pytest
from django.contrib.auth.models import Group
from openpyxl import load_workbook

from gongzhi.accounts.models import UNMASK_PII_GROUP, Role
from gongzhi.core.models import Job
from gongzhi.registry.addresses import compose_label
from gongzhi.registry.excel import services
from gongzhi.registry.excel.columns import RECORD_TYPES
from gongzhi.registry.models import Address, Establishment, House, RecordChange, Resident, Tenancy
from gongzhi.registry.tests.test_excel_import import error_rows, import_file, make_id, workbook

pytestmark = pytest.mark.django_db

ADDRESS_HEADER = ["村(社区)", "网格", "网格编码", "街路巷/小区", "门牌号", "楼栋", "单元", "室", "标准地址编码", "纬度",
                  "经度"]
HOUSE_HEADER = ["村(社区)", "网格", "街路巷/小区", "门牌号", "楼栋", "单元", "室", "房屋用途", "建筑面积(平方米)",
                "房主姓名", "房主身份证号", "房主手机号", "租住人身份证号", "备注"]
UNIT_HEADER = ["单位名称", "单位类型", "统一社会信用代码", "行业", "村(社区)", "网格", "经营地址", "法定代表人/负责人",
               "负责人手机号", "从业人数", "经营状态"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def admin(tree, make_staff):
    user = make_staff("cunguan", tree["village"], Role.VILLAGE_ADMIN)
    user.groups.add(Group.objects.get(name=UNMASK_PII_GROUP))
    return user


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def call(service, **kwargs) -> Job:
        with django_capture_on_commit_callbacks(execute=True):
            job = service(**kwargs)
        job.refresh_from_db()
        return job

    return call


def export_file(run, admin, tree, record_type: str) -> bytes:
    job = run(services.start_export, actor=admin, record_type=record_type, area_id=tree["village"].pk,
              full_numbers=True, reason="核对")
    assert job.status == Job.Status.DONE, job.message
    with open(job.result_file.path, "rb") as file:
        return file.read()


def test_labels_are_composed_as_people_write_addresses():
    assert compose_label("幸福路", "12", "3", "2", "301") == "幸福路12号3栋2单元301室"
    assert compose_label("幸福路", "12号", "A座", "", "") == "幸福路12号A座"
    assert compose_label("小山村一社", "", "", "", "") == "小山村一社"


def test_addresses_are_registered_and_found_again_by_their_components_or_code(tree, admin, run):
    rows = [ADDRESS_HEADER,
            ["小山村", "第1网格", "", "幸福路", 12, 3, 2, 301, "", 35.585, 104.605],
            ["小山村", "第1网格", "", "幸福路", "12", "3", "2", "302", "A0001", "", ""],
            ["小山村", "第2网格", "", "幸福路", "12", "3", "2", "301", "", "", ""],  # the first row again
            ["大湾村", "第1网格", "", "团结路", "1", "", "", "", "", "", ""]]  # not the administrator's village
    job = import_file(run, admin, workbook(rows), "addresses", "地址.xlsx")
    assert job.status == Job.Status.NEEDS_CHOICE
    assert error_rows(job) == [(4, "街路巷/小区", "幸福路", "与第2行是同一个地址。"),
                               (5, "网格", "大湾村 第1网格", "未找到该网格，或不在您的导入范围内。")]
    del rows[3:]
    job = import_file(run, admin, workbook(rows), "addresses", "地址.xlsx")
    assert (job.summary["created"], job.summary["updated"]) == (2, 0)
    first = Address.objects.get(room="301")
    assert (first.label, first.grid, first.village, first.lat) == ("幸福路12号3栋2单元301室", tree["grid"],
                                                                   tree["village"], 35.585)
    # The code given later finds the same address; a moved grid and a code are updated, nothing duplicated.
    rows[1][1], rows[1][8] = "第2网格", "A0002"
    again = import_file(run, admin, workbook(rows), "addresses", "地址.xlsx")
    assert (again.summary["created"], again.summary["updated"], again.summary["unchanged"]) == (0, 1, 1)
    first.refresh_from_db()
    assert (first.grid, first.code) == (tree["grid2"], "A0002")
    change = RecordChange.objects.filter(record_type="address", record_id=first.pk).latest("pk")
    assert change.changes == {"网格": ["小山村第1网格", "小山村第2网格"], "标准地址编码": ["", "A0002"]}
    # Export → import changes nothing.
    before = RecordChange.objects.count()
    exported = export_file(run, admin, tree, "addresses")
    job = import_file(run, admin, exported, "addresses", "导出.xlsx")
    assert (job.summary["created"], job.summary["updated"], job.summary["unchanged"]) == (0, 0, 2)
    assert RecordChange.objects.count() == before


def test_an_address_typed_in_a_form_and_one_imported_with_its_words_are_the_same(tree, admin, run):
    from gongzhi.registry.services import records

    typed = records.create_address(actor=admin, data=records.AddressInput(
        village=tree["village"], grid=tree["grid"], road="幸福路", number="12号", building="3号楼"))
    rows = [ADDRESS_HEADER, ["小山村", "第1网格", "", "幸福路", "12号", "3栋", "", "", "", "", ""]]
    job = import_file(run, admin, workbook(rows), "addresses", "地址.xlsx")
    assert (job.summary["created"], job.summary["updated"], job.summary["unchanged"]) == (0, 0, 1)
    assert list(Address.objects.values_list("pk", "number", "building", "label")) == [
        (typed.pk, "12", "3", "幸福路12号3栋")]


def resident(tree, name: str, id_number: str) -> Resident:
    return Resident.objects.create(grid=tree["grid"], name=name, id_number=id_number, gender="M",
                                   birth_date=datetime.date(1990, 1, 1), residence_type="floating")


def test_houses_register_their_address_and_their_tenants(tree, admin, run):
    first, second = make_id("19900101", "011"), make_id("19900101", "013")
    tenant_a, tenant_b = resident(tree, "租客甲", first), resident(tree, "租客乙", second)
    owner_id = make_id("19600101", "015")
    rows = [HOUSE_HEADER,
            ["小山村", "第1网格", "幸福路", "12", "", "", "", "出租", 85.5, "房东", owner_id, "13900000000",
             f"{first}；{second}", ""],
            ["小山村", "第1网格", "幸福路", "14", "", "", "", "自住", "", "", "", "", first, ""],
            ["小山村", "第1网格", "幸福路", "16", "", "", "", "出租", "", "", "", "", make_id("19910101", "017"), ""]]
    job = import_file(run, admin, workbook(rows), "houses", "房屋.xlsx")
    assert error_rows(job) == [
        (3, "租住人身份证号", first, "只有出租房屋可以填写租住人。"),
        (4, "租住人身份证号", rows[3][12], "第1个租住人未登记在实有人口中（或不在您的导入范围内），请先导入人口。"),
    ]
    del rows[2:]
    job = import_file(run, admin, workbook(rows), "houses", "房屋.xlsx")
    assert job.status == Job.Status.DONE and job.summary["created"] == 1
    house = House.objects.get()
    assert (house.address.label, house.use, house.area, house.owner_name) == ("幸福路12号", "rented",
                                                                             house.area, "房东")
    assert str(house.area) == "85.5" and house.owner_id_number.reveal() == owner_id
    assert set(house.tenancies.filter(ended_on__isnull=True).values_list("resident", flat=True)) == {
        tenant_a.pk, tenant_b.pk}
    history = RecordChange.objects.get(record_type="house", record_id=house.pk)
    assert history.changes["租住人"] == ["", "租客乙、租客甲"] and history.changes["房主身份证号"][1].count("*") == 8
    assert RecordChange.objects.filter(record_type="address").count() == 1
    # Export → import is a no-op; then one tenant moves out.
    before = RecordChange.objects.count()
    exported = export_file(run, admin, tree, "houses")
    job = import_file(run, admin, exported, "houses", "导出.xlsx")
    assert (job.summary["created"], job.summary["updated"], job.summary["unchanged"]) == (0, 0, 1)
    assert RecordChange.objects.count() == before
    rows[1][12] = first
    job = import_file(run, admin, workbook(rows), "houses", "房屋.xlsx")
    assert job.summary["updated"] == 1
    assert Tenancy.objects.get(resident=tenant_b).ended_on is not None
    assert Tenancy.objects.get(resident=tenant_a).ended_on is None


def test_units_are_found_by_licence_number_or_by_name_and_address(tree, admin, run):
    rows = [UNIT_HEADER,
            ["兴旺超市", "商铺", "92621102MA7X0001XA", "零售", "小山村", "第1网格", "幸福路12号", "王老板",
             "13800000001", 3, ""],
            ["李记面馆", "个体工商户", "", "餐饮", "小山村", "第1网格", "幸福路20号", "李师傅", "", "", "正常经营"],
            ["李记面馆", "商铺", "", "餐饮", "小山村", "第1网格", "幸福路20号", "", "", "", ""]]
    job = import_file(run, admin, workbook(rows), "establishments", "单位.xlsx")
    assert error_rows(job) == [
        (4, "单位名称", "李记面馆", "与第3行是同一个单位（同一网格内名称和经营地址相同）。")]
    del rows[3]
    job = import_file(run, admin, workbook(rows), "establishments", "单位.xlsx")
    assert job.summary["created"] == 2
    shop = Establishment.objects.get(licence_number="92621102MA7X0001XA")
    assert (shop.kind, shop.staff_count, shop.legal_person_phone.reveal()) == ("shop", 3, "13800000001")
    rows[1][0], rows[2][9] = "兴旺生活超市", 2  # renamed (same licence), staff counted
    job = import_file(run, admin, workbook(rows), "establishments", "单位.xlsx")
    assert (job.summary["created"], job.summary["updated"]) == (0, 2)
    assert Establishment.objects.count() == 2
    shop.refresh_from_db()
    assert shop.name == "兴旺生活超市"
    before = RecordChange.objects.count()
    job = import_file(run, admin, export_file(run, admin, tree, "establishments"), "establishments", "导出.xlsx")
    assert (job.summary["created"], job.summary["updated"], job.summary["unchanged"]) == (0, 0, 2)
    assert RecordChange.objects.count() == before


def test_the_templates_offer_drop_down_lists_and_explain_every_column(tree, admin):
    for key, record_type in RECORD_TYPES.items():
        file = services.template_file(user=admin, record_type=key)
        book = load_workbook(file)
        sheet = book[record_type.sheet]
        assert [c.value for c in sheet[2]] == record_type.headers
        lists = {str(v.sqref).split(":")[0][:-1]: v.formula1 for v in sheet.data_validations.dataValidation
                 if v.type == "list"}
        if key == "population":
            assert lists["G"] == '"户籍人口,流动人口,寄住人口,境外人员"'
            assert lists["C"] == '"男,女"' and "户主" in lists["I"] and lists["P"] == '"在册,已迁出,已死亡"'
            assert sheet.column_dimensions["B"].number_format == "@"
        if key == "houses":
            assert lists["J"] == '"自住,出租,闲置,商铺,其他"'
        guide = book["填写说明"]
        assert guide.max_row == len(record_type.columns) + 1
