"""The demo's 三务公开 and 村民说事: `load(townships, seed=…)`, for every village of each township.

Per village, written by its village administrator through the real services at past moments (`_clock`), the
township's dispatcher approving (four eyes): the last three months' 财务公开 with their income and expense lines
(村集体经济收入, 保洁员工资, 办公经费 …), a 村务公开 of the quarter's 低保评议结果, a 党务公开 of 党费收缴, and
a 村务公开 of the village road project (村道硬化) with its milestones; and two 村民说事 matters, 村道路灯不亮
through all five stages with residents' evaluations, 垃圾清运不及时 at 办 with one action past its deadline.
Deterministic for a seed, apart from the moments (relative to now).
"""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.core.errors import DomainError
from gongzhi.demo.cases import _clock
from gongzhi.org.models import Level, OrgUnit, UnitKind
from gongzhi.publications.models import Publication
from gongzhi.publications.services import affairs, core

INCOME = [("村集体经济收入（土地流转费）", "经营收入", 8000, 30000), ("村集体光伏发电收益", "经营收入", 2000, 9000),
          ("上级转移支付（村级组织运转经费）", "补助收入", 10000, 25000), ("门面房租金", "租赁收入", 1500, 6000)]
EXPENSE = [("保洁员工资", "管理费用", 1500, 1500), ("办公经费（纸张、打印耗材）", "管理费用", 300, 1200),
           ("村干部误工补贴", "管理费用", 2000, 4500), ("村道路灯电费", "公益支出", 400, 1100),
           ("爱心超市物品采购", "公益支出", 800, 2500), ("垃圾清运费", "公益支出", 1200, 2400)]


def _month_back(today: datetime.date, back: int) -> tuple[int, int]:
    index = today.year * 12 + today.month - 1 - back
    return index // 12, index % 12 + 1


def _at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    """That day at that hour, but never later than a few minutes ago (a demo made early on the 1st)."""
    return min(timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour))),
               timezone.now() - datetime.timedelta(minutes=10))


def _first_post(unit: OrgUnit, role: str) -> User | None:
    post = (Membership.objects.active().filter(unit=unit, role=role).select_related("user")
            .order_by("user__username").first())
    return post.user if post is not None else None


def _residents(village: OrgUnit, n: int) -> list[User]:
    posts = (Membership.objects.active().filter(role=Role.RESIDENT, unit__path__startswith=village.path)
             .select_related("user").order_by("user__pk")[:n])
    return [post.user for post in posts]


def _publish(admin: User, reviewer: User | None, item: Publication, when: datetime.datetime) -> None:
    with _clock(when):
        core.submit(actor=admin, publication=item)
    if reviewer is not None:
        with _clock(min(when + datetime.timedelta(hours=3), timezone.now() - datetime.timedelta(minutes=5))):
            core.approve(actor=reviewer, publication=item)


def _disclosures(village: OrgUnit, admin: User, reviewer: User | None, rng: random.Random,
                 today: datetime.date) -> int:
    made = 0
    for back in (3, 2, 1):
        year, month = _month_back(today, back)
        written = min(datetime.date(*_month_back(today, back - 1), 3), today)
        with _clock(_at(written, 9)):
            item = core.create_draft(actor=admin, kind="disclosure", author_unit=village,
                                     title=f"{village.name}{year}年{month}月财务公开",
                                     body="本月村级财务收支情况公开如下，欢迎村民监督。如有疑问，可在下方留言或到村委会查询。")
            affairs.set_disclosure(actor=admin, publication=item, category="finance", year=year,
                                   period_type="month", period=month)
            for n, (text, subject, low, high) in enumerate(rng.sample(INCOME, 2) + rng.sample(EXPENSE, 4)):
                direction = "income" if n < 2 else "expense"
                amount = rng.randint(low, high) * 100 + rng.choice((0, 0, 50))
                affairs.add_line(actor=admin, publication=item, direction=direction,
                                 date=datetime.date(year, month, rng.randint(2, 27)), item=text, category=subject,
                                 amount=amount / 100, voucher_no=f"记-{month:02d}{n + 1:02d}",
                                 note="11月份" if text == "保洁员工资" and month == 11 else "")
        _publish(admin, reviewer, item, _at(written, 15))
        made += 1

    year, month = _month_back(today, 1)
    quarter = (month - 1) // 3 + 1
    written = datetime.date(*_month_back(today, 0), 1)
    with _clock(_at(written, 9)):
        low_income = core.create_draft(
            actor=admin, kind="disclosure", author_unit=village, title=f"{year}年第{quarter}季度低保评议结果公示",
            body=(f"经{village.name}民主评议小组评议，拟新增低保对象2户、退出1户，名单张贴于村务公开栏。"
                  "公示期7天，如有异议，请向村委会或镇民政办反映。"))
        affairs.set_disclosure(actor=admin, publication=low_income, category="village", year=year,
                               period_type="quarter", period=quarter)
        party = core.create_draft(
            actor=admin, kind="disclosure", author_unit=village, title=f"{year}年{month}月党费收缴情况公开",
            body=f"{village.name}党支部本月应缴党费党员{rng.randint(18, 40)}名，已全部按时足额缴纳。")
        affairs.set_disclosure(actor=admin, publication=party, category="party", year=year, period_type="month",
                               period=month)
        road = core.create_draft(
            actor=admin, kind="disclosure", author_unit=village, title=f"{village.name}村道硬化项目进度公开",
            body="村道硬化项目由一事一议财政奖补资金和村集体资金共同实施，进度如下。")
        affairs.set_disclosure(actor=admin, publication=road, category="village", year=year,
                               period_type="month", period=month)
        project = affairs.add_project(actor=admin, publication=road, name="村道硬化",
                                      budget=rng.randint(28, 60) * 10000, contractor="定西市路通建筑工程有限公司",
                                      note="硬化村内主干道1.2公里，路面宽4.5米。")
        start = written - datetime.timedelta(days=75)
        for n, (name, days) in enumerate([("项目公示、招标", 0), ("开工", 15), ("路基平整", 35),
                                          ("路面浇筑", 60), ("竣工验收", 90)]):
            planned = start + datetime.timedelta(days=days)
            done = planned + datetime.timedelta(days=rng.randint(0, 3)) if planned + datetime.timedelta(
                days=3) < written and n < 4 else None
            affairs.add_milestone(actor=admin, project=project, name=name, planned_on=planned, done_on=done)
    for item in (low_income, party, road):
        _publish(admin, reviewer, item, _at(written, 11))
        made += 1
    return made


def _meetings(village: OrgUnit, admin: User, reviewer: User | None, rng: random.Random,
              today: datetime.date) -> int:
    people = _residents(village, 6)
    names = [u.real_name for u in people if u.real_name] or ["王秀兰", "李建国"]
    day = today - datetime.timedelta(days=40)
    with _clock(_at(day, 9)):
        lights = core.create_draft(actor=admin, kind="meeting", author_unit=village, title="村道路灯不亮")
        affairs.save_say(actor=admin, publication=lights, raised_by_name=names[0], raised_on=day,
                         matter="村东头到学校的路上有5盏路灯不亮，晚上孩子放学和老人出门看不清路，存在安全隐患。")
        core.publish_now(actor=admin, publication=lights)
    with _clock(_at(day + datetime.timedelta(days=3), 15)):
        affairs.save_discussion(actor=admin, publication=lights, discussed_on=day + datetime.timedelta(days=3),
                                participants=f"村两委成员、村民代表5人、说事人{names[0]}",
                                discussion="大家认为路灯关系群众夜间出行安全，应尽快修复；费用由村级公益经费列支。",
                                decision="由村委会联系电工，10日内更换损坏路灯5盏，并检查全村线路。")
        affairs.publish_stage(actor=admin, publication=lights, stage=2)
        affairs.add_action(actor=admin, publication=lights, title="更换损坏路灯5盏", assignee="村委会 电工",
                           due_on=day + datetime.timedelta(days=13))
        affairs.add_action(actor=admin, publication=lights, title="检查全村路灯线路", assignee="村文书",
                           due_on=day + datetime.timedelta(days=13))
        affairs.publish_stage(actor=admin, publication=lights, stage=3)
    with _clock(_at(day + datetime.timedelta(days=9), 16)):
        supervisor = reviewer or admin
        affairs.add_supervision_note(actor=supervisor, publication=lights,
                                     body="镇综治中心电话督办，已更换路灯3盏，其余2盏灯具已到货。")
        for action in lights.meeting.actions.all():
            affairs.finish_action(actor=admin, action=action, done_on=day + datetime.timedelta(days=9))
        affairs.add_supervision_note(actor=admin, publication=lights, body="全部路灯已修复，线路检查完毕。")
        affairs.publish_stage(actor=admin, publication=lights, stage=4)
        affairs.publish_stage(actor=admin, publication=lights, stage=5)
    for n, person in enumerate(people[:4]):
        with _clock(_at(day + datetime.timedelta(days=11 + n), 19)):
            try:
                affairs.evaluate(actor=person, publication=lights, rating=("satisfied", "satisfied", "fair",
                                                                          "satisfied")[n],
                                 comment="路灯修好了，晚上出门方便多了。" if n == 0 else "")
            except DomainError:
                pass  # not a resident of the item's area after all

    day = today - datetime.timedelta(days=12)
    with _clock(_at(day, 10)):
        garbage = core.create_draft(actor=admin, kind="meeting", author_unit=village, title="垃圾清运不及时")
        affairs.save_say(actor=admin, publication=garbage, raised_by_name=names[-1], raised_on=day,
                         matter="三社垃圾集中点一周没有清运，气味很大，请村里协调清运车辆。")
        core.publish_now(actor=admin, publication=garbage)
    with _clock(_at(day + datetime.timedelta(days=2), 15)):
        affairs.save_discussion(actor=admin, publication=garbage, discussed_on=day + datetime.timedelta(days=2),
                                participants="村两委成员、保洁员、三社社长",
                                discussion="清运车辆由镇上统一调度，近期车辆维修导致间隔变长。",
                                decision="每周二、周五定时清运；村里增设垃圾桶4个。")
        affairs.publish_stage(actor=admin, publication=garbage, stage=2)
        affairs.add_action(actor=admin, publication=garbage, title="协调镇环卫所恢复每周两次清运",
                           assignee="村主任", due_on=day + datetime.timedelta(days=5))
        affairs.add_action(actor=admin, publication=garbage, title="增设垃圾桶4个", assignee="保洁员",
                           due_on=day + datetime.timedelta(days=20))
        affairs.publish_stage(actor=admin, publication=garbage, stage=3)
    return 2


def load(townships: list[OrgUnit], *, seed: int) -> int:
    """三务公开 and 村民说事 for every village of `townships`; the number of items made."""
    today = timezone.localdate()
    made = 0
    for index, town in enumerate(townships):
        rng = random.Random(f"{seed}-affairs-{index}")
        reviewer = _first_post(town, Role.DISPATCHER)
        villages = OrgUnit.objects.filter(parent=town, kind=UnitKind.AREA, level=Level.VILLAGE,
                                          is_active=True).order_by("code")
        for village in villages:
            admin = _first_post(village, Role.VILLAGE_ADMIN)
            if admin is None:
                continue
            made += _disclosures(village, admin, reviewer, rng, today)
            made += _meetings(village, admin, reviewer, rng, today)
    return made
