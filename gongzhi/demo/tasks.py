"""The demo's task lists (任务清单, 挂图作战; seeds 002 and 003): a handful of tasks of the demo township in every
state and colour, written through `analytics.services` at past moments (as the demo cases are, `demo.cases`).

- the county gives the township a 矛盾纠纷排查化解 drive, which the township breaks down into one sub-task per
  village (one reported on, one not started);
- the township gives its villages and its 司法所: 人居环境整治 (overdue: red), 防汛检查 (confirmed done on time:
  green), 安全生产大检查 (done, but submitted late), 婚姻家庭纠纷排查 (due within days: yellow), 村道路灯安装 (a
  民生实事 waiting for the township's confirmation) and 秸秆禁烧巡查 (cancelled);
- the sweep then writes its reminders as it would have.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from gongzhi.accounts.models import Role, User
from gongzhi.analytics import services
from gongzhi.analytics.models import Task
from gongzhi.demo.cases import _clock, _Township, demo_township
from gongzhi.org.models import DepartmentType, OrgUnit


def _photo(colour: tuple[int, int, int]) -> SimpleUploadedFile:
    image = Image.new("RGB", (1200, 900), colour)
    draw = ImageDraw.Draw(image)
    for x in range(0, 1200, 150):  # a few stripes, so the picture is not a flat square
        draw.rectangle((x, 600, x + 70, 900), fill=(min(colour[0] + 60, 255), colour[1], colour[2]))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return SimpleUploadedFile("现场照片.jpg", buffer.getvalue(), content_type="image/jpeg")


class _Runner:
    def __init__(self, town: _Township, now: datetime.datetime):
        self.town, self.now = town, now
        self.today = timezone.localdate(now)

    def at(self, days: float, fn: Callable[[], Any]) -> Any:
        """Run `fn` with the clock `days` days from now (negative: in the past)."""
        with _clock(self.now + datetime.timedelta(days=days)):
            return fn()

    def day(self, days: int) -> datetime.date:
        return self.today + datetime.timedelta(days=days)

    def village_staff(self, village: OrgUnit) -> User:
        return self.town.staff_of(village, (Role.VILLAGE_ADMIN, Role.VILLAGE_STATION))

    def issue(self, *, days: float, owner: OrgUnit, title: str, deadline: datetime.date, category: str,
              description: str, actor: User | None = None, issuing: OrgUnit | None = None,
              parent: Task | None = None) -> Task:
        return self.at(days, lambda: services.create_task(
            actor=actor or self.town.d1, issuing_unit=issuing or self.town.unit, owner_unit=owner, title=title,
            deadline=deadline, category=category, description=description, parent=parent))

    def report(self, task: Task, days: float, who: User, note: str, percent: int, photo: bool = False) -> None:
        photos = [_photo((70, 130, 90))] if photo else []
        self.at(days, lambda: services.report_task_progress(actor=who, task=task, note=note, percent=percent,
                                                            photos=photos))

    def run(self) -> int:
        town, villages = self.town, self.town.villages
        first, second = villages[0], villages[min(1, len(villages) - 1)]
        justice = town.departments.get(DepartmentType.JUSTICE) or next(iter(town.departments.values()), first)

        drive = self.issue(days=-12, owner=town.unit, actor=town.county_dispatcher, issuing=town.county,
                           title="矛盾纠纷排查化解专项行动", category="special", deadline=self.day(18),
                           description="全面排查婚姻家庭、邻里、土地权属等矛盾纠纷，建立台账，逐件落实化解责任，"
                                       "防止“民转刑”案件发生。每月底前报告进展。")
        self.report(drive, -11, town.d1, "已召开专题会议部署，分解到各村。", 10)
        for index, village in enumerate((first, second)):
            sub = self.issue(days=-11, owner=village, parent=drive, category="special", deadline=self.day(14),
                             title=f"{village.name}矛盾纠纷排查化解",
                             description="逐户走访排查，建立纠纷台账，能调则调，调不了的及时上报镇综治中心。")
            if index == 0:
                self.report(sub, -4, self.village_staff(village), "已走访全村，排查纠纷7起，化解5起，2起正在调解。",
                            70)

        overdue = self.issue(days=-25, owner=first, title="人居环境整治", category="key_work",
                             deadline=self.day(-5),
                             description="清理村内垃圾、柴草堆和废弃杂物，整治房前屋后环境，做到路面整洁、沟渠畅通。")
        self.report(overdue, -10, self.village_staff(first), "已清理垃圾点8处，村西头柴草堆尚未清运。", 80,
                    photo=True)

        flood = self.issue(days=-14, owner=second, title="防汛检查", category="special", deadline=self.day(-3),
                           description="排查河道、塘坝、危房和地质灾害隐患点，落实转移避险预案和责任人。")
        staff = self.village_staff(second)
        self.report(flood, -8, staff, "已排查河道2段、塘坝1座，发现隐患1处并已设立警示牌。", 60, photo=True)
        self.at(-4, lambda: services.submit_task(actor=staff, task=flood,
                                                 note="隐患点已整改，转移避险预案已落实到户。"))
        self.at(-2, lambda: services.confirm_task(actor=town.d1, task=flood, note="经现场查看，符合要求。"))

        safety = self.issue(days=-30, owner=first, title="安全生产大检查", category="key_work",
                            deadline=self.day(-20), description="检查村内小作坊、加油点和人员密集场所的消防安全。")
        first_staff = self.village_staff(first)
        self.at(-18, lambda: services.submit_task(actor=first_staff, task=safety,
                                                  note="检查场所6处，整改隐患3处。"))
        self.at(-17, lambda: services.confirm_task(actor=town.d2, task=safety))

        if justice is not first:
            disputes = self.issue(days=-6, owner=justice, title="婚姻家庭纠纷排查", category="special",
                                  deadline=self.day(2),
                                  description="对辖区婚姻家庭纠纷逐件回访，评估“民转刑”风险，落实稳控措施。")
            handler = town.staff_of(justice, (Role.DEPT_HANDLER,))
            self.report(disputes, -1, handler, "已回访9户，其中2户列为重点关注。", 50)

        lights = self.issue(days=-20, owner=second, title="村道路灯安装", category="livelihood",
                            deadline=self.day(10), description="民生实事：在村主干道安装太阳能路灯30盏。")
        self.report(lights, -9, staff, "路灯已到货，正在安装。", 50)
        self.at(-1, lambda: services.submit_task(actor=staff, task=lights, note="30盏路灯已全部安装并通电。"))

        straw = self.issue(days=-7, owner=second, title="秸秆禁烧巡查", category="routine", deadline=self.day(20),
                           description="每日巡查田间地头，发现焚烧及时制止。")
        self.at(-3, lambda: services.cancel_task(actor=town.d1, task=straw, reason="已并入县里的专项行动统一安排。"))

        with _clock(self.now):
            services.sweep_tasks(now=self.now)
        return Task.objects.count()


def make_demo_tasks(*, now: datetime.datetime | None = None) -> int:
    """Write the demo tasks into the first township and return how many; none (0) if any task exists. All or
    nothing: one transaction. Raises LookupError when the township lacks the people the tasks need."""
    if Task.objects.exists():
        return 0
    township = demo_township()
    if township is None:
        return 0
    with transaction.atomic():
        return _Runner(_Township(township), now or timezone.now()).run()
