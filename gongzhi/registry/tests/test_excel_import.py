"""Importing the registry from Excel: a messy real-world workbook and its exact row errors, the clean-rows
choice, upserts by natural key, export → import as a no-op, scope, and the export's masking."""

import datetime
import io

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from gongzhi.accounts.models import UNMASK_PII_GROUP, Role
from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.core.models import Job, PiiAccessLog
from gongzhi.core.pii import keyed_hash
from gongzhi.core.validators import id_check_digit
from gongzhi.registry.excel import services
from gongzhi.registry.models import Household, RecordChange, ResidenceType, Resident, SpecialGroup

pytestmark = pytest.mark.django_db

HEADER = ["姓名", "身份证号码", "性别", "出生日期", "手机号", "人口类型", "户号", "与户主关系", "村（社区）", "网格",
          "住址", "特殊人群"]


def make_id(birth: str, seq: str, area: str = "621102") -> str:
    body = area + birth + seq
    return body + id_check_digit(body)


def workbook(rows, *, title: str | None = None, merge: str | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    if title:
        sheet.append([title])
        if merge:
            sheet.merge_cells(merge)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(content: bytes, name: str = "人口登记表.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def admin(tree, make_staff):
    """The village administrator of 小山村 (grids 小山村第1网格 and 小山村第2网格)."""
    return make_staff("cunguan", tree["village"], Role.VILLAGE_ADMIN)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Queue a job through a service and run its task as the worker would (after the commit); the job back."""

    def call(service, **kwargs) -> Job:
        with django_capture_on_commit_callbacks(execute=True):
            job = service(**kwargs)
        job.refresh_from_db()
        return job

    return call


def import_file(run, actor, content: bytes, record_type: str = "population", name: str = "人口登记表.xlsx") -> Job:
    return run(services.start_import, actor=actor, record_type=record_type, upload=upload(content, name),
               file_name=name)


def error_rows(job: Job) -> list[tuple]:
    book = load_workbook(job.error_file.path, read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    book.close()
    assert rows[1] == ("行号", "列", "填写的值", "错误原因")
    return [tuple(row) for row in rows[2:]]


HEAD_ID = make_id("19680412", "001")
SPOUSE_ID = make_id("19700305", "002")
CHILD_ID = make_id("19950817", "003")


def messy_rows():
    """Rows 3… of the messy file (row 1 a merged title, row 2 the header)."""
    bad_digit = make_id("19800101", "005")[:17] + ("0" if make_id("19800101", "005")[17] != "0" else "1")
    lower_x = next(i for i in (make_id("19750607", f"{n:03d}") for n in range(10, 999)) if i.endswith("X"))
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in CHILD_ID)
    return [
        # 3-5: a clean household: an ID as text with full-width digits and spaces, one as a number, dates as an
        # Excel serial and as text, a synonym of 妻 and a list of special groups.
        ["张建国", f" {HEAD_ID[:6]} {HEAD_ID[6:14]} {HEAD_ID[14:]} ", "男", 24940, "13812345678", "户籍人口", "HH001",
         "户主", "小山村", "第1网格", "小山村1社12号", "低保；残疾"],
        ["李秀英", SPOUSE_ID, "女", "1970/3/5", "", "", "HH001", "妻", "小山村", "第1网格", "", ""],
        ["张小明", full_width, "", "1995年8月17日", "", "", "HH001", "子", "小山村", "小山村第1网格", "", ""],
        # 6-7: a household with a bad check digit in its second row.
        ["王五", make_id("19800101", "017"), "男", "", "", "", "HH002", "户主", "小山村", "第2网格", "小山村2社3号",
         ""],
        ["王六", bad_digit, "", "", "", "", "HH002", "子女", "小山村", "第2网格", "", ""],
        # 8: an unknown grid.
        ["赵七", make_id("19810101", "007"), "", "", "", "", "HH003", "户主", "小山村", "第9网格", "小山村3社1号", ""],
        # 9: the head of row 3 again.
        ["张建国", HEAD_ID, "", "", "", "", "HH004", "户主", "小山村", "第1网格", "小山村4社1号", ""],
        # 10: a bad phone.
        ["孙八", make_id("19820202", "009"), "", "", "1381234", "", "HH005", "户主", "小山村", "第1网格", "x", ""],
        # 11: a grid that exists, in another village (out of the administrator's scope).
        ["周九", make_id("19830303", "011"), "", "", "", "", "HH006", "户主", "大湾村", "第1网格", "大湾村1社1号", ""],
        # 12: lower-case x, a date as a date; clean.
        ["吴十", lower_x.lower(), "", datetime.datetime(1975, 6, 7), "", "", "HH007", "户主", "小山村", "第2网格",
         "小山村2社8号", ""],
        # 13: a birth date that does not match the ID; 14-15: IDs stored as numbers: an 18-digit one (Excel keeps 15
        # digits) and an old 15-digit one.
        ["郑一", make_id("19840404", "013"), "", "1984-05-04", "", "", "HH008", "户主", "小山村", "第1网格", "y", ""],
        ["钱二", 6.21102198505050e17, "", "", "", "", "HH009", "户主", "小山村", "第1网格", "z", ""],
        ["孔四", 621102850505011, "", "", "", "", "HH010", "户主", "小山村", "第1网格", "w", ""],
        # 16: two heads in HH007.
        ["冯三", make_id("19760708", "015"), "", "", "", "", "HH007", "户主", "小山村", "第2网格", "", ""],
        # 17-18: trailing empty rows.
        ["", None, "  ", None],
        [None, None],
    ]


def messy_file() -> bytes:
    return workbook([HEADER, *messy_rows()], title="小山村实有人口登记表（2026年）", merge="A1:L1")


def test_a_messy_workbook_is_checked_row_by_row_and_nothing_is_written(tree, admin, run):
    job = import_file(run, admin, messy_file())
    assert job.status == Job.Status.NEEDS_CHOICE
    assert Resident.objects.count() == 0 and Household.objects.count() == 0
    assert not RecordChange.objects.exists()
    rows = messy_rows()
    bad_digit, lower_x = rows[4][1], rows[9][1]
    assert error_rows(job) == [
        (7, "身份证号码", bad_digit, "身份证号码校验位不正确，请核对后重新输入。"),
        (8, "网格", "小山村 第9网格", "未找到该网格，或不在您的导入范围内。"),
        (9, "身份证号码", HEAD_ID, "与第3行的身份证号重复。"),
        (10, "手机号", "1381234", "请填写有效的11位中国大陆手机号码。"),
        (11, "网格", "大湾村 第1网格", "未找到该网格，或不在您的导入范围内。"),
        (13, "出生日期", "1984-05-04", "出生日期与身份证号不符（身份证号中为1984-04-04）。"),
        (14, "身份证号码", "6.2110219850505E+17",
         "身份证号被Excel存成了数字，末几位已丢失，请把该列设为文本后重新填写"),
        (15, "身份证号码", "621102850505011", "身份证号码应为18位，您填写了15位。"),
        (16, "与户主关系", "户主", "同一户有两个户主（另见第12行）。"),
    ]
    assert lower_x.islower()  # row 12 is clean
    summary = job.summary
    assert summary["rows"] == 14 and summary["errors"] == 9 and summary["error_rows"] == 9
    # Clean: HH001 (3 rows); HH002 and HH007 are left out whole for their bad rows.
    assert summary["clean_rows"] == 3
    assert summary["first_errors"][0] == [7, "身份证号码", "身份证号码校验位不正确，请核对后重新输入。"]
    assert job.message == "发现9处错误（涉及9行），没有导入任何数据。"


def test_importing_the_clean_rows_leaves_out_whole_households_with_a_bad_row(tree, admin, run):
    job = import_file(run, admin, messy_file())
    job = run(services.import_clean_rows, actor=admin, job_id=job.pk)
    assert job.status == Job.Status.DONE, job.message
    assert job.summary["created"] == 3 and job.summary["skipped"] == 11
    assert list(Household.objects.values_list("number", flat=True)) == ["HH001"]
    head = Resident.objects.get(id_number_hash=keyed_hash(HEAD_ID))
    assert (head.name, head.birth_date, head.gender, head.relation) == ("张建国", datetime.date(1968, 4, 12), "M",
                                                                        "head")
    assert head.grid == tree["grid"] and head.household.address == "小山村1社12号"
    assert head.phone.reveal() == "13812345678" and head.phone_hash == keyed_hash("13812345678")
    assert sorted(head.groups.values_list("name", flat=True)) == ["低保", "残疾"]
    spouse = Resident.objects.get(id_number_hash=keyed_hash(SPOUSE_ID))
    assert (spouse.relation, spouse.birth_date, spouse.household_id) == ("spouse", datetime.date(1970, 3, 5),
                                                                         head.household_id)
    child = Resident.objects.get(id_number_hash=keyed_hash(CHILD_ID))
    assert child.id_number.reveal() == CHILD_ID and child.grid == tree["grid"] and child.gender == "M"
    history = RecordChange.objects.filter(record_type="resident", record_id=head.pk).get()
    assert history.action == "imported" and history.source == f"导入任务 #{job.pk}" and history.actor == admin
    assert history.changes["身份证号"] == ["", HEAD_ID[:6] + "********" + HEAD_ID[-4:]]
    assert history.changes["特殊人群"] == ["", "低保、残疾"]
    # A second click queues nothing more.
    with pytest.raises(Conflict):
        services.import_clean_rows(actor=admin, job_id=job.pk)


def clean_rows():
    return [
        HEADER,
        ["张建国", HEAD_ID, "男", "1968-04-12", "13812345678", "户籍人口", "HH001", "户主", "小山村", "第1网格",
         "小山村1社12号", "低保"],
        ["李秀英", SPOUSE_ID, "女", "1970-03-05", "", "", "HH001", "配偶", "小山村", "第1网格", "", ""],
        ["张小明", CHILD_ID, "男", "", "13912345678", "", "HH001", "子女", "小山村", "第1网格", "", ""],
        ["王五", make_id("19800101", "017"), "男", "", "", "流动人口", "HH002", "户主", "小山村", "第2网格",
         "小山村2社3号", ""],
    ]


def test_a_clean_file_is_written_at_once_and_a_reimport_updates_by_key(tree, admin, run):
    rows = clean_rows()
    rows[4][8:10] = ["", ""]  # 网格编码 instead of names
    rows[0] = [*HEADER, "网格编码"]
    for row in rows[1:]:
        row.append(tree["grid2"].code if row[0] == "王五" else "")
    job = import_file(run, admin, workbook(rows))
    assert job.status == Job.Status.DONE, job.summary
    assert (job.summary["created"], job.summary["updated"], job.summary["unchanged"]) == (4, 0, 0)
    assert Household.objects.get(number="HH002").grid == tree["grid2"]
    histories = RecordChange.objects.count()
    assert histories == 6  # 4 people, 2 households

    # The same file again: nothing changes, nothing is logged.
    again = import_file(run, admin, workbook(rows))
    assert (again.summary["created"], again.summary["updated"], again.summary["unchanged"]) == (0, 0, 4)
    assert RecordChange.objects.count() == histories

    # A changed phone, and a 状态 column moving the child out: only that row and those fields change.
    rows[3][4] = "13700000000"
    rows[0].append("状态")
    for row in rows[1:]:
        row.append("已迁出" if row[0] == "张小明" else "")
    third = import_file(run, admin, workbook(rows))
    assert (third.summary["created"], third.summary["updated"], third.summary["unchanged"]) == (0, 1, 3)
    child = Resident.objects.get(id_number_hash=keyed_hash(CHILD_ID))
    assert child.phone.reveal() == "13700000000" and child.status == "moved_out"
    assert child.phone_hash == keyed_hash("13700000000")
    change = RecordChange.objects.filter(record_id=child.pk, record_type="resident").latest("pk")
    assert change.changes == {"手机号": ["139****5678", "137****0000"], "状态": ["在册", "已迁出"]}
    assert Resident.objects.count() == 4 and Household.objects.count() == 2


def test_export_then_import_is_a_no_op(tree, admin, run):
    admin.groups.add(Group.objects.get(name=UNMASK_PII_GROUP))
    SpecialGroup.objects.get(name="残疾")
    import_file(run, admin, workbook(clean_rows()))
    floating = Resident.objects.get(name="王五")
    assert floating.residence_type == ResidenceType.FLOATING
    before = RecordChange.objects.count()
    export = run(services.start_export, actor=admin, record_type="population", area_id=tree["village"].pk,
                 full_numbers=True, reason="核对台账")
    assert export.status == Job.Status.DONE and export.summary["rows"] == 4
    with open(export.result_file.path, "rb") as file:
        exported = file.read()
    again = import_file(run, admin, exported, name="导出.xlsx")
    assert again.status == Job.Status.DONE, again.summary
    assert (again.summary["created"], again.summary["updated"], again.summary["unchanged"]) == (0, 0, 4)
    assert RecordChange.objects.count() == before


def test_a_village_administrator_cannot_import_into_another_village(tree, make_staff, run):
    other = make_staff("other", tree["village2"], Role.VILLAGE_ADMIN)
    job = import_file(run, other, workbook(clean_rows()))
    assert job.status == Job.Status.NEEDS_CHOICE
    assert {why for _r, _c, _v, why in error_rows(job)} == {"未找到该网格，或不在您的导入范围内。"}
    assert job.summary["clean_rows"] == 0
    with pytest.raises(DomainError):
        services.import_clean_rows(actor=other, job_id=job.pk)


def test_a_grid_worker_may_not_import_or_export(tree, make_staff):
    worker = make_staff("wgy", tree["grid"], Role.GRID_WORKER)
    with pytest.raises(NotFound):
        services.start_import(actor=worker, record_type="population", upload=upload(workbook(clean_rows())),
                              file_name="x.xlsx")
    with pytest.raises(NotFound):
        services.start_export(actor=worker, record_type="population", area_id=tree["grid"].pk)
    with pytest.raises(NotFound):
        services.template_file(user=worker, record_type="population")


def test_someone_elses_job_is_not_found(tree, admin, make_staff, run):
    job = import_file(run, admin, messy_file())
    dispatcher = make_staff("disp", tree["town"], Role.DISPATCHER)
    with pytest.raises(NotFound):
        services.import_clean_rows(actor=dispatcher, job_id=job.pk)


def test_export_masks_numbers_without_the_permission_and_logs_full_ones(tree, admin, run):
    import_file(run, admin, workbook(clean_rows()))
    masked = run(services.start_export, actor=admin, record_type="population", area_id=tree["village"].pk)
    book = load_workbook(masked.result_file.path, read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    book.close()
    assert "不能用于重新导入" in rows[0][0]
    assert rows[2][:2] == ("张建国", HEAD_ID[:6] + "********" + HEAD_ID[-4:])
    assert rows[2][5] == "138****5678"
    assert not PiiAccessLog.objects.exists()
    with pytest.raises(Forbidden):
        services.start_export(actor=admin, record_type="population", area_id=tree["village"].pk, full_numbers=True,
                              reason="核对")
    admin.groups.add(Group.objects.get(name=UNMASK_PII_GROUP))
    del admin._perm_cache, admin._user_perm_cache, admin._group_perm_cache
    with pytest.raises(DomainError):
        services.start_export(actor=admin, record_type="population", area_id=tree["village"].pk, full_numbers=True,
                              reason=" ")
    full = run(services.start_export, actor=admin, record_type="population", area_id=tree["village"].pk,
               full_numbers=True, reason="核对台账")
    book = load_workbook(full.result_file.path, read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    book.close()
    assert rows[0][:2] == ("姓名*", "身份证号*") and rows[1][1] == HEAD_ID and rows[1][5] == "13812345678"
    log = PiiAccessLog.objects.get()
    assert (log.actor, log.subject_type, log.subject_id, log.reason) == (admin, "export", full.pk, "核对台账")
    # Another village is not the administrator's to export.
    with pytest.raises(NotFound):
        services.start_export(actor=admin, record_type="population", area_id=tree["village2"].pk)


def test_imports_run_one_at_a_time(tree, admin, run):
    from huey.contrib.djhuey import HUEY
    from huey.exceptions import TaskLockedException

    from gongzhi.registry import tasks

    job = services.start_import(actor=admin, record_type="population", upload=upload(workbook(clean_rows())),
                                file_name="人口.xlsx")
    with HUEY.lock_task(tasks.IMPORT_LOCK), pytest.raises(TaskLockedException):
        tasks.run_import.call_local(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED  # still waiting: the worker tries it again
    tasks.run_import.call_local(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and Resident.objects.count() == 4


def test_people_without_a_household_live_at_a_registered_standard_address(tree, admin, run):
    from gongzhi.registry.models import Address

    home = Address.objects.create(village=tree["village"], grid=tree["grid"], road="幸福路", number="12",
                                  label="幸福路12号", code="A-12")
    Address.objects.create(village=tree["village2"], grid=tree["grid3"], road="团结路", number="1", label="团结路1号")
    tenant, lodger, overseas = make_id("19900101", "021"), make_id("19910101", "023"), make_id("19920101", "025")
    rows = [HEADER + ["标准地址编码"],
            ["租客甲", tenant, "", "", "", "流动人口", "", "", "小山村", "第1网格", "幸福路12号", "", ""],
            ["租客乙", lodger, "", "", "", "寄住人口", "", "", "小山村", "第1网格", "", "", "A-12"],
            ["外籍丙", overseas, "", "", "", "境外人员", "", "", "小山村", "第1网格", "", "", ""],
            ["丁", make_id("19930101", "027"), "", "", "", "户籍人口", "", "", "小山村", "第1网格", "幸福路12号", "",
             ""],
            ["戊", make_id("19940101", "029"), "", "", "", "流动人口", "", "", "小山村", "第1网格", "团结路1号", "",
             ""],
            # Members of one household in two grids.
            ["己", make_id("19700101", "031"), "", "", "", "", "HH9", "户主", "小山村", "第1网格", "小山村9号", "", ""],
            ["庚", make_id("19710101", "032"), "", "", "", "", "HH9", "配偶", "小山村", "第2网格", "", "", ""]]
    job = import_file(run, admin, workbook(rows))
    assert [(row, column, why) for row, column, _value, why in error_rows(job)] == [
        (4, "住址", "没有户号的人员须填写已登记的标准地址（标准地址编码，或与标准地址完全一致的住址）。"),
        (5, "户号", "户籍人口须填写户号；流动、寄住、境外人员没有户号的，请填写人口类型。"),
        (6, "住址", "未找到与住址完全一致的标准地址，请填写标准地址编码，或先导入标准地址。"),
        (8, "网格", "同一户的成员须在同一网格（第7行为“小山村第1网格”）。"),
    ]
    job = run(services.import_clean_rows, actor=admin, job_id=job.pk)
    assert job.summary["created"] == 2
    people = {r.name: r for r in Resident.objects.select_related("standard_address")}
    assert set(people) == {"租客甲", "租客乙"}
    assert people["租客甲"].standard_address == home and people["租客乙"].standard_address == home
    assert people["租客甲"].household is None and people["租客甲"].lives_at == "幸福路12号"
    admin.groups.add(Group.objects.get(name=UNMASK_PII_GROUP))
    before = RecordChange.objects.count()
    export = run(services.start_export, actor=admin, record_type="population", area_id=tree["village"].pk,
                 full_numbers=True, reason="核对")
    with open(export.result_file.path, "rb") as file:
        again = import_file(run, admin, file.read(), name="导出.xlsx")
    assert (again.summary["created"], again.summary["updated"], again.summary["unchanged"]) == (0, 0, 2)
    assert RecordChange.objects.count() == before
