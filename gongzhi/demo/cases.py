"""Sample cases for the demo township: `make_demo_cases(seed=…)`.

`gongzhi demo` calls it (through the `demo_cases` command) right after it generates 八里镇 into an empty
database, so that the lists a township clerk, a department or a county official opens are not empty. It
writes about fifty cases of the last month, in every state of the workflow: reports waiting to be accepted
(some past their response limit), accepted, dispatched to 司法所/派出所/民政所/城建办 or a village, in
progress, handled and waiting for the return visit, visited, closed, rated (满意, 基本满意, and one 不满意
that reopened the case), rejected with a reason, returned by a department, escalated to the county,
deferred (挂账), under a 督办 order of the county, with follow-up questions (answered and not), a merged
duplicate, and disputes with parties and mediation sessions.

Everything goes through the real services (`cases.services`: `submit_case`, `transition` and the
follow-up, return-visit, rating, merge, 督办 and dispute services), so logs, notifications, deadlines and
flags are what the workflow would have written. Each step runs at its own past moment: the process clock is
moved there and held still for the duration of the step (`time_machine.travel(at, tick=False)`), so
`timezone.now()` — which the services, the `auto_now` fields and the working-day calendar read — and every
other reader of the clock agree on it. The clock is the whole process's, so this belongs to a command, never
to a web request or a task. One supervision sweep (`cases.sweep`) at the end (at the real now) writes the
overdue marks and reminders that are due now.

Reporters are the township's residents who have an account (the demo residents) and its grid workers
(field reports); actors are the township's posts found in the database (the demo dispatcher
`diaodu_bali_1`, the 司法所 `sifa_bali`, the village administrators, the grid workers, the county's
dispatcher and supervisor), so signing in as them shows the cases.

The same seed and the same `now` give the same cases, texts, places and steps. The final states do not
depend on the day it runs: cases still being worked on were taken up recently enough that no handling limit
has passed, so the closing sweep escalates nothing; the red flags come from response limits and from a 督办
order whose limit has passed.
"""

from __future__ import annotations

import datetime
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

import time_machine
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from gongzhi.accounts.models import STAFF_ROLES, Membership, Role, User
from gongzhi.cases import categories, selectors, services, sweep
from gongzhi.cases.models import Case, DisputeParty, FollowUp, MediationSession
from gongzhi.cases.workflow import Action
from gongzhi.org.models import Level, OrgUnit, UnitKind
from gongzhi.registry.models import Household, Resident

DEFAULT_SEED = 2026

# ---------------------------------------------------------------------------------------------------------
# The stories: data, not interface text (like the generated addresses, they read the same to everyone).
#
# A story is one case: its category, its text ({town}, {village}, {she} are filled in from its place), where
# it is (a resident's home grid "r1"/"r2", a (village, grid) index pair taken modulo what the township has,
# or "near:<story>" a few metres from another story's case), who reports it ("r1"/"r2" a resident, "grid"
# the grid worker of its grid, "d1>r1" a dispatcher for a resident who phoned), when (hours ago, or days
# ago at a local time), and its steps, each some hours after the report.


@dataclass(frozen=True)
class Step:
    after: float  # hours after the report
    op: str
    kw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Story:
    key: str
    category: str
    text: str
    where: str | tuple[int, int]
    reporter: str
    steps: tuple[Step, ...] = ()
    hours_ago: float = 0.0
    days: int = 0
    clock: str = "09:00"


def d(days: float, hours: float = 0.0) -> float:
    """An offset of `days` days and `hours` hours, in hours."""
    return days * 24 + hours


def s(after: float, op: str, **kw: Any) -> Step:
    return Step(after, op, kw)


def _full_cycle(start: float, *, complete: str, visit: str, lead: str | None = None, method: str = "phone",
                close_after: float = 2.0) -> tuple[Step, ...]:
    """Accept, dispatch, sign and complete, then visit and close: the usual life of a settled case."""
    return (
        s(start, "accept"), s(start + 1, "dispatch", lead=lead), s(start + 3, "sign"),
        s(start + 24, "complete", note=complete), s(start + 30, "visit", note=visit, method=method),
        s(start + 30 + close_after, "close"),
    )


STORIES: tuple[Story, ...] = (
    # --- 已上报: waiting for the township's command centre ------------------------------------------------
    Story("r1-garbage-new", "talk-environment-garbage",
          "{village}{she}路口的垃圾池满了快一周了，一直没人清运，天一热味道很大，苍蝇也多，麻烦尽快安排拉走。",
          "r1", "r1", hours_ago=3.0),
    Story("school-lamps", "grid-service-repair",
          "{village}村委会到小学门口这段路有5盏路灯不亮，学生晚上放学路上很黑，存在安全隐患。",
          (2, 0), "grid", hours_ago=6.5),
    Story("dibao-ask", "talk-policy-assistance",
          "{village}{she}独居老人张某某今年摔伤后行动不便，没有固定收入，询问能否申请低保、需要准备哪些材料。",
          (3, 1), "grid", hours_ago=19.5),
    # past the 24-hour (for traffic safety: 2-hour) response limit: red after the sweep
    Story("r2-road-collapse", "talk-development-infrastructure",
          "{village}通往312国道的村道有一段路面塌陷，坑有半米深，下雨后积水看不清，已经有三轮车翻过。",
          "r2", "r2", days=2, clock="08:40"),
    Story("sewage-ditch", "talk-environment-sewage",
          "{village}{she}新建的几户人家生活污水直接排进路边水渠，气味很大，下游农户意见很大。",
          (4, 0), "grid", days=3, clock="10:20"),
    Story("highway-exit", "talk-safety-traffic",
          "{village}312国道下道口没有减速带和警示标志，大货车车速快，村民横穿公路很危险。",
          (5, 1), "grid", hours_ago=5.0),
    Story("rental-rooms", "grid-info-rental",
          "{village}{she}新增出租房屋3间，租住外来务工人员5人，已入户核实登记，需派出所录入流动人口信息。",
          (6, 0), "grid", days=2, clock="15:30"),
    # --- 已受理 --------------------------------------------------------------------------------------------
    Story("firewood-road", "talk-environment-clutter",
          "{village}{she}村道两边堆放柴草和建筑垃圾，占了半边路面，农用车会车困难。",
          (2, 2), "grid", days=2, clock="09:10", steps=(s(3, "accept", by="d2"),)),
    Story("r1-pension", "talk-policy-insurance",
          "我今年58岁，前些年断缴了几年城乡居民养老保险，想问能不能补缴，到哪里办理，需要带什么材料。",
          "r1", "r1", days=2, clock="10:00", steps=(
              s(2, "accept"),
              s(26, "ask", text="请问材料还需要准备什么？我下周要去外地照看孙子，想这几天就去办。"),
          )),
    Story("pipe-leak", "talk-development-water",
          "{village}{she}地头的引洮入户管道漏水，已经冲出一道沟，既浪费水又冲毁耕地，需尽快维修。",
          (9, 0), "grid", days=1, clock="09:00", steps=(s(3, "accept"),)),
    # --- 不予受理 ------------------------------------------------------------------------------------------
    Story("r2-out-of-area", "talk-suggestion-other",
          "我女儿住在城区的小区，物业费今年涨了不少，物业也不公示收支，希望有人管一管。",
          "r2", "r2", days=6, clock="09:30", steps=(
              s(5, "reject", note="经核实，反映的小区位于城区，不属于{town}管辖，"
                                  "已电话告知反映人向小区所在街道办事处反映。"),
          )),
    Story("loan-in-court", "dispute-contract",
          "{village}{she}村民反映去年借给同村人2万元，有借条，到期多次催要不还，双方多次争吵。",
          (7, 1), "grid", days=9, clock="11:00", steps=(
              s(4, "reject", note="经核实，双方已就该借款纠纷向区人民法院起诉，法院已立案受理，依法不再重复受理，"
                                  "已告知当事人等待法院审理。"),
          )),
    # --- 已派单 (not signed yet) ---------------------------------------------------------------------------
    Story("haystack-wires", "talk-safety-fire",
          "{village}{she}一户人家在柴草垛旁私拉电线给电动车充电，电线裸露，容易引发火灾。",
          (0, 1), "grid", days=1, clock="10:00", steps=(s(0.5, "accept"), s(1, "dispatch"))),
    Story("r1-water", "talk-service-utilities",
          "{village}{she}自来水这几天断断续续，水压很小，二楼根本上不去水，做饭洗衣都困难。",
          "r1", "r1", days=2, clock="08:30", steps=(
              s(1.5, "accept", by="d2"), s(2, "dispatch"),
              s(30, "ask", text="今天还是没水，请问什么时候能来人修？"),
          )),
    Story("hardship", "grid-service-hardship",
          "{village}{she}李某某家两位老人常年患病，儿子在外务工受伤，家里没有收入来源，建议纳入临时救助。",
          (4, 1), "grid", days=3, clock="09:00", steps=(s(2, "accept"), s(3, "dispatch"))),
    Story("drain-dispute", "talk-dispute-neighbour",
          "{village}{she}两户村民因院墙之间排水沟的走向发生争吵，一方把沟堵了，下雨时雨水倒灌进另一家院子。",
          (0, 0), "grid", days=1, clock="08:50", steps=(
              s(0.3, "parties", mode="pair"), s(1, "accept"), s(1.5, "dispatch"),
          )),
    # --- 正在办理 ------------------------------------------------------------------------------------------
    Story("illegal-building", "talk-expropriation-illegal",
          "{village}{she}有人在耕地上新打地基准备建房，现场未见审批手续，请尽快核查制止。",
          (5, 0), "grid", days=5, clock="09:30", steps=(
              s(1, "accept"), s(2, "dispatch", assist=("village",)), s(5, "sign"),
              s(24, "supervise", by="ducha", due_hours=48,
                note="涉嫌违法占用耕地建房，请镇城建办会同村委会立即核查制止，两日内报告处置结果。"),
          )),
    Story("r2-dibao", "talk-policy-assistance",
          "我老伴去年做了手术，花了不少钱，家里就靠我打零工，想申请低保，村上说要报到镇上审批，想问问需要多长时间。",
          "r2", "r2", days=3, clock="10:00", steps=(
              s(1, "accept"), s(2, "dispatch"), s(4, "sign"),
              s(26, "ask", text="材料上周已经交到村上了，请问现在审到哪一步了？"),
              s(30, "answer", text="您的申请材料已收到，我所正在组织入户调查，调查结束后村上会进行民主评议并公示，"
                                   "预计10个工作日内有结果。"),
          )),
    Story("late-drinking", "talk-safety-public-order",
          "{village}{she}商店门口晚上经常有几个年轻人聚集喝酒，喧哗到深夜，还摔酒瓶，附近住户休息不好。",
          (6, 1), "grid", days=1, clock="08:30", steps=(s(0.5, "accept"), s(1, "dispatch"), s(3, "sign"))),
    Story("bride-price", "talk-dispute-marriage",
          "{village}{she}一对夫妻因彩礼返还和孩子抚养问题长期争吵，女方已回娘家居住，双方家属多次发生口角，有激化苗头。",
          (2, 0), "grid", days=4, clock="09:00", steps=(
              s(0.5, "parties", mode="couple"), s(1, "accept"), s(1.5, "dispatch"), s(3, "sign"),
              s(d(2), "mediate", outcome=MediationSession.Outcome.CONTINUED,
                summary="双方在彩礼返还和孩子抚养问题上分歧较大，女方要求先解决抚养问题，约定下周由司法所、"
                        "村调委会再次组织调解。"),
          )),
    Story("field-boundary", "dispute-land-contract",
          "{village}{she}两户村民因承包地地界不清发生纠纷，一方在另一方地里多种了两行玉米，双方互不相让，多次争吵。",
          (3, 2), "grid", days=7, clock="10:00", steps=(
              s(0.5, "parties", mode="pair"), s(2, "accept"), s(3, "dispatch"), s(5, "sign"),
              s(d(3), "mediate", outcome=MediationSession.Outcome.PARTIAL,
                summary="村调委会组织双方到地头现场查看，双方同意由村委会请专业人员重新丈量地界，"
                        "已种的两行玉米收获后归种植方。"),
          )),
    Story("watering-turn", "dispute-neighbour",
          "{village}{she}两户村民因浇地放水先后顺序再次发生口角，其中一户上月刚因修围墙的事调解过。",
          (6, 2), "grid", days=2, clock="14:00", steps=(
              s(0.5, "parties", mode="with:wall-dispute"), s(1, "accept", by="d2"), s(2, "dispatch"),
              s(20, "sign"),
          )),
    Story("ditch-garbage", "talk-environment-garbage",
          "{village}{she}村口排水沟里倒满了生活垃圾，已经堵住了，下雨就漫到路上。",
          (0, 1), "grid", days=9, clock="09:00", steps=(
              s(1, "accept"), s(2, "dispatch"), s(3, "sign"),
              s(d(2), "complete", note="已组织保洁员清理排水沟内垃圾。"),
              s(d(3), "visit", settled=False, method="visit",
                note="上门回访，群众反映垃圾只清运了一部分，沟里还有残留，未彻底解决。"),
              s(d(3, 2), "dispatch"), s(d(3, 4), "sign"),
          )),
    Story("r1-home-care", "talk-service-elderly",
          "群众来电反映：家中老人腿脚不便，儿女都在外地务工，想申请居家养老上门服务，请帮忙办理。",
          "r1", "d1>r1", days=5, clock="10:30", steps=(s(1, "accept"), s(2, "dispatch"), s(5, "sign"))),
    # --- 已办结, waiting for the return visit --------------------------------------------------------------
    Story("lamps-out", "grid-service-repair",
          "{village}{she}主路上的路灯坏了4盏，晚上一片漆黑，老人出门很不方便。",
          "r2", "grid", days=6, clock="09:00", steps=(
              s(1, "accept"), s(2, "dispatch"), s(6, "sign"),
              s(d(5, 1), "complete", note="已更换损坏灯具4盏并检修线路，路灯已恢复正常照明。"),
          )),
    Story("gas-cylinder", "grid-risk-gas",
          "{village}{she}一家小饭馆液化气瓶放在灶台旁边，连接软管老化开裂，存在泄漏风险。",
          (9, 1), "grid", days=3, clock="10:00", steps=(
              s(0.5, "accept"), s(1, "dispatch"), s(3, "sign"),
              s(25, "complete", note="已督促店主更换合格的减压阀和软管，气瓶移至通风处单独存放，"
                                    "并开展了燃气安全宣传。"),
          )),
    Story("r1-bridge", "talk-development-infrastructure",
          "{village}{she}孩子们上学必经的小桥护栏断了一截，下面是深沟，很危险，请尽快修好。",
          "r1", "r1", days=4, clock="07:50", steps=(
              s(2, "accept"), s(3, "dispatch"), s(6, "sign"),
              s(d(2, 3), "complete", note="村委会已组织人员焊接修复桥栏杆，并在桥头设置了警示牌。"),
          )),
    Story("subsidy-on-spot", "talk-policy-agriculture",
          "{village}{she}村民询问今年耕地地力保护补贴什么时候发放、每亩标准是多少。",
          (0, 0), "grid", days=2, clock="15:00", steps=(
              s(0.5, "resolve", note="已现场答复：今年耕地地力保护补贴按确权面积发放，已于本月通过“一卡通”统一打卡，"
                                     "可持存折到信用社查询。"),
          )),
    # --- 已回访, waiting to be closed -----------------------------------------------------------------------
    Story("coal-for-elderly", "talk-service-elderly",
          "{village}{she}七十多岁的五保老人冬季取暖煤不够，住房门窗漏风，需要帮扶。",
          (4, 2), "grid", days=9, clock="09:00", steps=(
              s(1, "accept"), s(2, "dispatch"), s(4, "sign"),
              s(d(5), "complete", note="已为老人送去取暖煤1吨，并协调村委会修补了漏风的门窗。"),
              s(d(6), "visit", method="visit", note="上门回访，老人表示煤已收到，门窗已修好，很满意。"),
          )),
    Story("garbage-cleared", "talk-environment-garbage",
          "{village}{she}垃圾箱周边堆满了生活垃圾，好几天没人清运。",
          (1, 2), "grid", days=6, clock="08:30", steps=(
              s(1.5, "accept", by="d2"), s(2, "dispatch"), s(3, "sign"),
              s(d(2), "complete", note="已清运积存垃圾，并新设置了两个垃圾箱。"),
              s(d(3), "visit", note="电话回访，群众反映垃圾已清运完毕，新垃圾箱已投入使用。"),
          )),
    Story("legal-aid-on-spot", "talk-policy-legal",
          "{village}{she}村民在外地工地务工被拖欠工资三个月，询问怎样申请法律援助。",
          (4, 1), "grid", days=3, clock="16:00", steps=(
              s(0.3, "resolve", note="已现场讲解法律援助的申请条件和所需材料，并帮助联系镇司法所预约了面谈时间。"),
              s(24, "visit", by="d2", note="电话回访，反映人已到司法所咨询，表示问题得到解答。"),
          )),
    # --- 已完成 ---------------------------------------------------------------------------------------------
    Story("wall-dispute", "grid-conflict-neighbour",
          "{village}{she}两户村民因一方修建围墙占用另一方出入的道路发生争执，双方情绪激动，有动手的苗头。",
          (6, 2), "grid", days=20, clock="09:00", steps=(
              s(0.5, "parties", mode="pair"), s(1, "accept"), s(2, "dispatch"), s(4, "sign"),
              s(d(2), "mediate", outcome=MediationSession.Outcome.CONTINUED,
                summary="第一次调解，双方对围墙位置各执一词，约定请村委会现场测量后再调解。"),
              s(d(5), "mediate", outcome=MediationSession.Outcome.AGREED, agreement=True,
                summary="经现场测量，围墙超出宅基地界线0.6米。双方达成协议：建墙一方拆除超出部分，恢复通行，"
                        "另一方不再追究。"),
              s(d(5, 2), "complete", note="经司法所人民调解，双方达成调解协议并已签字，围墙超出部分已拆除。"),
              s(d(7), "visit", method="visit", note="上门回访，围墙已按协议拆除，道路恢复通行，双方关系缓和。"),
              s(d(7, 2), "close"),
          )),
    Story("street-stalls", "grid-cityscape-street-vending",
          "{village}312国道边的瓜果摊占用人行道和非机动车道摆摊，影响通行。",
          (5, 2), "grid", days=12, clock="10:00", steps=_full_cycle(
              1, complete="已劝导摊主搬入便民市场经营，清理了占道摊点。",
              visit="电话回访，群众反映路边已无占道摆摊，通行顺畅。")),
    Story("manure", "talk-environment-livestock",
          "{village}{she}养殖户把牛粪堆在村道边，下雨后粪水流进路边水渠，周边群众反映强烈。",
          (8, 1), "grid", days=14, clock="09:00", steps=(
              s(1, "accept"), s(2, "dispatch"), s(5, "sign"),
              s(d(3), "supervise", by="county", due_hours=72,
                note="群众反映强烈，请督促养殖户限期清理粪污，三日内报告处置结果。"),
              s(d(5), "complete", note="已督促养殖户清运粪污，修建了防渗储粪池，并清理了被污染的水渠。"),
              s(d(6), "visit", method="visit", note="上门回访，粪污已清理，水渠恢复干净，群众表示认可。"),
              s(d(6, 2), "close"),
          )),
    Story("r2-rubble", "talk-environment-clutter",
          "{village}{she}村口有人倾倒建筑垃圾，已经堆了好几车，把排水沟都挡住了。",
          "r2", "r2", days=5, clock="09:00", steps=(
              s(1, "accept"), s(2, "dispatch"), s(3, "sign"),
              s(d(1), "complete", note="村委会已组织机械清运建筑垃圾，疏通了排水沟，并在村口设置了禁止倾倒的提示牌。"),
              s(d(2), "visit", note="电话回访，反映人表示垃圾已清走。"), s(d(3), "close"),
          )),
    Story("r2-lamp-duplicate", "grid-service-repair",
          "我们社的路灯好多天都不亮了，晚上出门只能打手电，请尽快修一下。",
          "near:lamps-out", "r2", days=4, clock="19:30", steps=(
              s(14, "merge", into="lamps-out",
                note="与已受理的同一路段路灯故障事件重复，合并办理，办理进展将同步告知。"),
          )),
    Story("phone-fraud", "grid-security-fraud",
          "{village}{she}多名老人接到冒充医保局工作人员的诈骗电话，要求提供银行卡号，需开展防诈骗宣传。",
          (1, 1), "grid", days=8, clock="10:00", steps=_full_cycle(
              0.5, complete="派出所民警已到村开展防范电信诈骗宣传，发放宣传资料200余份，帮助群众安装国家反诈中心APP。",
              visit="电话回访，村民表示已了解常见诈骗手法。")),
    Story("unpaid-wages", "dispute-labour-wages",
          "{village}{she}十几名村民在外地工地务工，包工头拖欠工资近8万元，多次讨要无果，村民准备集体上访。",
          (7, 0), "grid", days=6, clock="10:00", steps=(
              s(0.5, "parties", mode="company:某建筑劳务有限公司"), s(1, "accept"),
              s(2, "dispatch", lead="justice"), s(4, "sign"),
              s(d(1), "mediate", outcome=MediationSession.Outcome.FAILED,
                summary="劳务公司负责人未到场，调解不成，已引导村民申请劳动仲裁。"),
              s(d(2), "complete", note="调解不成，已协助村民申请劳动仲裁和法律援助，并向区人社局通报了欠薪线索。"),
              s(d(3), "visit", note="电话回访，村民表示仲裁申请已受理，情绪稳定。"), s(d(3, 2), "close"),
          )),
    Story("slope-crack", "grid-risk-disaster",
          "{village}{she}村后山体出现裂缝，连续降雨后有滑坡风险，坡下住着3户村民。",
          (3, 0), "grid", days=15, clock="08:00", steps=(
              s(0.5, "accept"), s(1, "dispatch", lead="command_centre", assist=("village",)), s(2, "sign"),
              s(8, "complete", note="已组织坡下3户村民临时搬离，设置警示标志，并报请区自然资源局进行地质灾害评估。"),
              s(d(1, 2), "visit", method="visit", note="上门回访，3户村民已妥善安置，坡下已设警戒。"),
              s(d(1, 4), "close"),
          )),
    Story("insurance-on-spot", "grid-party-policy",
          "{village}{she}召开院落会宣讲医保缴费政策，群众询问今年城乡居民医保的缴费标准和缴费方式。",
          (0, 1), "grid", days=11, clock="15:00", steps=(
              s(0.5, "resolve", note="已现场讲解今年城乡居民医保个人缴费标准和缴费渠道，"
                                     "并帮助12户群众用手机完成缴费。"),
              s(20, "visit", by="d2", note="电话回访，群众表示已完成缴费。"), s(22, "close"),
          )),
    # --- 已评价 ---------------------------------------------------------------------------------------------
    Story("r1-broken-bin", "talk-environment-garbage",
          "{village}{she}的垃圾箱坏了，垃圾散落一地，被狗翻得到处都是。",
          "r1", "r1", days=25, clock="08:00", steps=(
              *_full_cycle(1, complete="已更换新垃圾箱，并清理了散落的垃圾。", visit="电话回访，反映人表示已处理好。"),
              s(d(2), "rate", score="satisfied", comment="处理很及时，谢谢村上。"),
          )),
    Story("r1-lamp", "grid-service-repair",
          "{village}{she}我家门口那条路上的路灯坏了半个月了，晚上出门只能摸黑。",
          "r1", "r1", days=20, clock="19:00", steps=(
              s(14, "accept"), s(15, "dispatch"), s(18, "sign"),
              s(d(4), "complete", note="已更换路灯灯头并修复线路。"),
              s(d(5), "visit", note="电话回访，反映人确认路灯已亮。"), s(d(5, 2), "close"),
              s(d(5, 5), "rate", score="basic", comment="路灯修好了，就是等的时间有点长。"),
          )),
    Story("r2-hukou", "talk-policy-household",
          "儿子考上外地大学，需要办理户口迁出，想咨询需要带哪些材料、到哪里办。",
          "r2", "r2", days=16, clock="09:00", steps=(
              s(1, "accept"), s(1.5, "dispatch"), s(3, "sign"),
              s(d(1), "complete", note="已电话告知户口迁出所需材料：户口簿、身份证和录取通知书，"
                                       "可到派出所户籍窗口办理。"),
              s(d(2), "visit", note="电话回访，反映人已办好迁出手续。"), s(d(2, 1), "close"),
              s(d(2, 3), "rate", score="satisfied", comment="派出所民警在电话里讲得很清楚，第二天就办好了。"),
          )),
    Story("r2-washed-out", "talk-development-infrastructure",
          "{village}{she}通社路有两处被水冲毁，路基塌了一半，车辆过不去。",
          "r2", "r2", days=18, clock="10:00", steps=(
              s(2, "accept"), s(3, "dispatch"), s(5, "sign"),
              s(d(6), "complete", note="已组织机械修复水毁路基，铺设了砂石路面。"),
              s(d(7), "visit", method="visit", note="上门回访，道路已恢复通行。"), s(d(7, 2), "close"),
              s(d(8), "rate", score="basic", comment="路修好了，但是路边排水沟还没有挖，下次下大雨可能还会冲。"),
          )),
    # 不满意: the case is reopened
    Story("r1-toilet-sewage", "talk-environment-sewage",
          "{village}{she}有户人家把厕所污水接到路边排水渠里，夏天臭得不行，路过都得捂着鼻子。",
          "r1", "r1", days=10, clock="09:00", steps=(
              s(1, "accept"), s(2, "dispatch"), s(4, "sign"),
              s(d(5), "complete", note="已上门督促该户整改，要求将污水接入化粪池。"),
              s(d(6), "visit", note="电话回访，反映人表示看到有人上门处理。"), s(d(6, 1), "close"),
              s(d(8), "rate", score="unsatisfied", comment="说是整改了，可污水还是往渠里排，根本没有解决。"),
          )),
    # --- 已退回 by the department it was sent to -------------------------------------------------------------
    Story("corn-on-road", "talk-safety-traffic",
          "{village}{she}村道上有人大面积晾晒玉米，占了大半个路面，晚上车辆通过很危险。",
          (8, 0), "grid", days=1, clock="08:20", steps=(
              s(0.5, "accept"), s(1, "dispatch"),
              s(5, "return", note="经现场查看，该事项属于村道占用和环境整治，不属于公安机关职责，建议派由村委会处理。"),
          )),
    # --- 已挂账 ---------------------------------------------------------------------------------------------
    Story("highway-farmland", "talk-expropriation-legacy",
          "{village}{she}静庄高速施工时临时占用的耕地至今没有复垦，涉及6户村民约8亩地，村民多次反映。",
          (2, 1), "grid", days=22, clock="09:00", steps=(
              s(2, "accept"), s(3, "dispatch"), s(6, "sign"),
              s(d(7), "defer", review_days=30,
                note="该问题需由高速公路建设单位和区交通运输局协调复垦资金，镇上已报请区上协调，暂挂账，每月复查一次进展。"),
          )),
    Story("fitness-equipment", "talk-development-public",
          "{village}文化广场的健身器材大部分损坏，螺丝松动，老人小孩使用有危险。",
          (9, 2), "grid", days=13, clock="10:00", steps=(
              s(1, "accept"), s(2, "dispatch"), s(4, "sign"),
              s(d(2), "defer", review_days=60,
                note="已先拆除损坏器材并设置警示标志，更换健身器材需列入镇上明年的民生项目计划，暂挂账。"),
          )),
    # --- 已上报上级: waiting for the county's command centre ---------------------------------------------------
    Story("crop-compensation", "talk-expropriation-crops",
          "{village}{she}330千伏输电线路塔基占地的青苗补偿款至今没有发放到户，涉及十几户村民。",
          (1, 1), "grid", days=3, clock="09:00", steps=(
              s(1, "accept"),
              s(4, "escalate", note="涉及区级重点项目青苗补偿资金拨付，需区上协调项目建设单位，提请区指挥中心受理。"),
          )),
    Story("resettlement-housing", "talk-expropriation-resettlement",
          "{village}棚户区改造安置房原定去年年底交付，至今没有交房，涉及二十多户拆迁户，群众情绪较大。",
          (5, 0), "grid", days=1, clock="09:00", steps=(
              s(1, "accept"),
              s(6, "escalate", note="安置房建设由区住建局负责实施，镇上无法协调交房时间，提请区指挥中心协调。"),
          )),
)

# ---------------------------------------------------------------------------------------------------------
# Running them

_JITTER_MINUTES = 20
_AGREEMENT_TEXT = "Renmin tiaojie xieyishu - demo data"


def _clock(instant: datetime.datetime) -> time_machine.travel:
    """Within it, the clock of the process stands at `instant`: `timezone.now()` (so `localdate()` and
    `auto_now` too), `datetime.now()` and `time.time()` all read it, however the caller imported them."""
    # In local time: time-machine sets the process's TZ to the instant's zone, which is then the one Django set.
    return time_machine.travel(timezone.localtime(instant), tick=False)


def _agreement_pdf() -> bytes:
    """A small, well-formed one-page PDF standing in for the signed 调解协议书."""
    text = f"BT /F1 16 Tf 72 760 Td ({_AGREEMENT_TEXT}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


@dataclass
class _Place:
    grid: OrgUnit
    village: OrgUnit
    lat: float
    lng: float


class _Township:
    """The township's units and the people who act in the stories, looked up once."""

    def __init__(self, township: OrgUnit):
        if township.parent is None:
            raise LookupError(f"{township} has no county above it")
        self.unit = township
        self.county: OrgUnit = township.parent
        villages = list(OrgUnit.objects.filter(parent=township, kind=UnitKind.AREA, level=Level.VILLAGE,
                                               is_active=True).order_by("code"))
        grids = list(OrgUnit.objects.filter(parent__in=villages, kind=UnitKind.AREA, level=Level.GRID,
                                            is_active=True).order_by("code"))
        self.villages = [v for v in villages if any(g.parent_id == v.pk for g in grids)]
        if not self.villages:
            raise LookupError(f"{township} has no grids")
        self.grids = {v.pk: [g for g in grids if g.parent_id == v.pk] for v in self.villages}
        self.village_of = {g.pk: v for v in self.villages for g in self.grids[v.pk]}
        self.departments: dict[str, OrgUnit] = {}
        for department in OrgUnit.objects.filter(parent=township, kind=UnitKind.DEPARTMENT,
                                                 is_active=True).order_by("code"):
            self.departments.setdefault(department.department_type, department)
        self._staff: dict[tuple[int, str], User] = {}
        dispatchers = self._posts(township, Role.DISPATCHER)
        if not dispatchers:
            raise LookupError(f"{township} has no dispatcher")
        self.d1, self.d2 = dispatchers[0], dispatchers[min(1, len(dispatchers) - 1)]
        county_dispatchers = self._posts(self.county, Role.DISPATCHER)
        supervisors = self._posts(self.county, Role.SUPERVISOR) or county_dispatchers
        if not supervisors:
            raise LookupError(f"{self.county} has no dispatcher or supervisor")
        self.county_dispatcher = (county_dispatchers or supervisors)[0]
        self.supervisor = supervisors[0]
        residents = list(
            User.objects.filter(kind=User.Kind.RESIDENT, is_active=True,
                                resident_record__grid__path__startswith=township.path)
            .select_related("resident_record__household").order_by("username"))
        if not residents:
            raise LookupError(f"{township} has no resident with an account")
        self.residents = residents

    @staticmethod
    def _posts(unit: OrgUnit, role: str) -> list[User]:
        return [post.user for post in Membership.objects.active().filter(unit=unit, role=role, user__is_active=True)
                .select_related("user").order_by("user__username")]

    def staff_of(self, unit: OrgUnit, roles: tuple[str, ...]) -> User:
        """The first (by username) holder of the first of `roles` held in `unit`, then any staff post."""
        key = (unit.pk, ",".join(roles))
        if key not in self._staff:
            for role in (*roles, *sorted(STAFF_ROLES)):
                users = self._posts(unit, role)
                if users:
                    self._staff[key] = users[0]
                    break
            else:
                raise LookupError(f"nobody works in {unit}")
        return self._staff[key]

    def grid_worker(self, grid: OrgUnit) -> User:
        return self.staff_of(grid, (Role.GRID_WORKER, Role.GRID_LEADER))

    def resident(self, name: str) -> User:
        return self.residents[(int(name[1:]) - 1) % len(self.residents)]

    def home_grid(self, resident: User) -> OrgUnit:
        grid_id = resident.resident_record.grid_id
        for grids in self.grids.values():
            for grid in grids:
                if grid.pk == grid_id:
                    return grid
        raise LookupError(f"{resident} lives outside the township")

    def grid_at(self, village_index: int, grid_index: int) -> OrgUnit:
        village = self.villages[village_index % len(self.villages)]
        grids = self.grids[village.pk]
        return grids[grid_index % len(grids)]


class _Runner:
    def __init__(self, township: _Township, rng: random.Random, now: datetime.datetime):
        self.t = township
        self.rng = rng
        self.now = now
        self.cases: dict[str, Case] = {}
        self.places: dict[str, _Place] = {}
        self.reporters: dict[str, User] = {}
        self.first_party: dict[str, tuple[str, Household | None]] = {}
        self._shapes: dict[int, Any] = {}

    # --- time -------------------------------------------------------------------------------------------
    def schedule(self) -> list[tuple[datetime.datetime, int, int, Story, Step | None]]:
        """Every report and step with its moment, checked to lie in the past and in order per story."""
        local_now = timezone.localtime(self.now)
        events: list[tuple[datetime.datetime, int, int, Story, Step | None]] = []
        for index, story in enumerate(STORIES):
            if story.hours_ago:
                reported = self.now - datetime.timedelta(hours=story.hours_ago)
            else:
                day = local_now.date() - datetime.timedelta(days=story.days)
                clock = datetime.time.fromisoformat(story.clock)
                reported = timezone.make_aware(datetime.datetime.combine(day, clock), local_now.tzinfo)
            reported += datetime.timedelta(minutes=self.rng.randrange(_JITTER_MINUTES))
            events.append((reported, index, 0, story, None))
            last = reported
            for number, step in enumerate(story.steps, start=1):
                at = reported + datetime.timedelta(hours=step.after,
                                                   minutes=self.rng.randrange(_JITTER_MINUTES))
                at = max(at, last + datetime.timedelta(minutes=1))
                events.append((at, index, number, story, step))
                last = at
            if last >= self.now - datetime.timedelta(minutes=1):
                raise RuntimeError(f"demo case {story.key!r}: its last step would lie in the future")
        events.sort(key=lambda event: (event[0], event[1], event[2]))
        return events

    # --- places -----------------------------------------------------------------------------------------
    def _shape(self, grid: OrgUnit) -> Any:
        if grid.pk not in self._shapes:
            from shapely.geometry import shape

            self._shapes[grid.pk] = shape(grid.boundary) if grid.boundary else None
        return self._shapes[grid.pk]

    def _point_in(self, grid: OrgUnit) -> tuple[float, float]:
        polygon = self._shape(grid)
        if polygon is not None:
            from shapely.geometry import Point

            min_lng, min_lat, max_lng, max_lat = polygon.bounds
            for _attempt in range(50):
                lng = round(self.rng.uniform(min_lng, max_lng), 6)
                lat = round(self.rng.uniform(min_lat, max_lat), 6)
                if polygon.contains(Point(lng, lat)):
                    return lat, lng
        inner = grid.inner_point()
        if inner is None:
            raise LookupError(f"{grid} has no place")
        return inner

    def _near(self, place: _Place) -> tuple[float, float]:
        """A point some 10–40 m from `place`, in the same grid."""
        polygon = self._shape(place.grid)
        for _attempt in range(20):
            lat = round(place.lat + self.rng.uniform(-0.0003, 0.0003), 6)
            lng = round(place.lng + self.rng.uniform(-0.0003, 0.0003), 6)
            if polygon is None:
                break
            from shapely.geometry import Point

            if polygon.contains(Point(lng, lat)):
                return lat, lng
        return place.lat, place.lng

    def place(self, story: Story) -> _Place:
        where = story.where
        if isinstance(where, tuple):
            grid = self.t.grid_at(*where)
        elif where.startswith("near:"):
            other = self.places[where.removeprefix("near:")]
            lat, lng = self._near(other)
            return _Place(other.grid, other.village, lat, lng)
        else:
            grid = self.t.home_grid(self.t.resident(where))
        lat, lng = self._point_in(grid)
        return _Place(grid, self.t.village_of[grid.pk], lat, lng)

    def _text(self, template: str, place: _Place) -> str:
        grids = self.t.grids[place.village.pk]
        she = f"{grids.index(place.grid) + 1}社"
        return template.format(town=self.t.unit.name, village=place.village.name, she=she)

    # --- steps ------------------------------------------------------------------------------------------
    def run(self) -> int:
        for at, _index, _number, story, step in self.schedule():
            with _clock(at):
                if step is None:
                    self.report(story)
                else:
                    getattr(self, f"op_{step.op}")(story, at=at, **step.kw)
        return len(self.cases)

    def report(self, story: Story) -> None:
        place = self.place(story)
        self.places[story.key] = place
        category = categories.by_code(story.category)
        if category is None:
            raise LookupError(f"no category {story.category}")
        on_behalf: User | None = None
        if story.reporter == "grid":
            actor = self.t.grid_worker(place.grid)
        elif ">" in story.reporter:
            by, resident = story.reporter.split(">")
            actor, on_behalf = self.dispatcher(by), self.t.resident(resident)
        else:
            actor = self.t.resident(story.reporter)
        client_id = uuid.UUID(int=self.rng.getrandbits(128), version=4)
        address = f"{self.t.unit.name}{self._text('{village}{she}', place)}"
        case, _created = services.submit_case(
            actor=actor, client_id=client_id, category=category, description=self._text(story.text, place),
            lat=place.lat, lng=place.lng, address=address, on_behalf_of=on_behalf)
        self.cases[story.key] = case
        self.reporters[story.key] = on_behalf or actor

    def dispatcher(self, name: str = "d1") -> User:
        return self.t.d2 if name == "d2" else self.t.d1

    def holder_staff(self, story: Story, name: str = "d1") -> User:
        """Who takes the holding level's steps: the village's 工作站 for a case its village holds (a general
        matter, seed 001), else the township's dispatcher `name`."""
        holder = self.cases[story.key].holder
        if holder.level == Level.VILLAGE:
            return self.t.staff_of(holder, (Role.VILLAGE_STATION,))
        return self.dispatcher(name)

    def _transition(self, story: Story, action: str, actor: User, **kw: Any) -> None:
        self.cases[story.key] = services.transition(actor=actor, case=self.cases[story.key], action=action, **kw)

    def _lead(self, story: Story) -> OrgUnit:
        unit = selectors.lead_unit(self.cases[story.key])
        if unit is None:
            raise LookupError(f"demo case {story.key!r} has no lead unit")
        return unit

    def _lead_staff(self, story: Story) -> User:
        return self.t.staff_of(self._lead(story), (Role.DEPT_HANDLER, Role.VILLAGE_ADMIN))

    def _unit(self, story: Story, name: str | None) -> OrgUnit:
        """"village": the case's village; a department type: that department of the township; None: the unit
        `selectors.suggest_handler` names, else the village."""
        place = self.places[story.key]
        if name == "village":
            return place.village
        if name is not None:
            return self.t.departments[name]
        category = self.cases[story.key].category
        return selectors.suggest_handler(category=category, grid=place.grid) or place.village

    def op_accept(self, story: Story, *, at: datetime.datetime, by: str = "d1", note: str = "") -> None:
        self._transition(story, Action.ACCEPT, self.holder_staff(story, by), note=note)

    def op_reject(self, story: Story, *, at: datetime.datetime, note: str, by: str = "d1") -> None:
        self._transition(story, Action.REJECT, self.holder_staff(story, by), note=note.format(town=self.t.unit.name))

    def op_dispatch(self, story: Story, *, at: datetime.datetime, lead: str | None = None,
                    assist: tuple[str, ...] = (), by: str = "d1") -> None:
        self._transition(story, Action.DISPATCH, self.holder_staff(story, by), lead_unit=self._unit(story, lead),
                         assist_units=tuple(self._unit(story, name) for name in assist))

    def op_sign(self, story: Story, *, at: datetime.datetime) -> None:
        self._transition(story, Action.SIGN, self._lead_staff(story))

    def op_return(self, story: Story, *, at: datetime.datetime, note: str) -> None:
        self._transition(story, Action.RETURN, self._lead_staff(story), note=note)

    def op_complete(self, story: Story, *, at: datetime.datetime, note: str) -> None:
        self._transition(story, Action.COMPLETE, self._lead_staff(story), note=note)

    def op_resolve(self, story: Story, *, at: datetime.datetime, note: str) -> None:
        self._transition(story, Action.RESOLVE_ON_SPOT, self.t.grid_worker(self.places[story.key].grid),
                         note=note)

    def op_close(self, story: Story, *, at: datetime.datetime, by: str = "d1") -> None:
        self._transition(story, Action.CLOSE, self.holder_staff(story, by))

    def op_defer(self, story: Story, *, at: datetime.datetime, note: str, review_days: int) -> None:
        review_on = timezone.localdate(at) + datetime.timedelta(days=review_days)
        self._transition(story, Action.DEFER, self.holder_staff(story), note=note, review_on=review_on)

    def op_escalate(self, story: Story, *, at: datetime.datetime, note: str) -> None:
        self._transition(story, Action.ESCALATE, self.holder_staff(story), note=note)

    def op_visit(self, story: Story, *, at: datetime.datetime, note: str, settled: bool = True,
                 method: str = "phone", by: str = "grid") -> None:
        actor = self.t.grid_worker(self.places[story.key].grid) if by == "grid" else self.holder_staff(story, by)
        services.record_return_visit(actor=actor, case=self.cases[story.key], method=method, settled=settled,
                                     note=note)

    def op_rate(self, story: Story, *, at: datetime.datetime, score: str, comment: str = "") -> None:
        services.rate_case(actor=self.reporters[story.key], case=self.cases[story.key], score=score,
                           comment=comment)

    def op_ask(self, story: Story, *, at: datetime.datetime, text: str) -> None:
        services.ask_follow_up(actor=self.reporters[story.key], case=self.cases[story.key], question=text)

    def op_answer(self, story: Story, *, at: datetime.datetime, text: str) -> None:
        case = self.cases[story.key]
        question = FollowUp.objects.filter(case=case, answer_log__isnull=True).order_by("pk").first()
        if question is None:
            raise LookupError(f"demo case {story.key!r} has no question to answer")
        actor = self._lead_staff(story) if selectors.lead_unit(case) is not None else self.holder_staff(story)
        services.answer_follow_up(actor=actor, follow_up=question, answer=text)

    def op_merge(self, story: Story, *, at: datetime.datetime, into: str, note: str) -> None:
        services.merge_case(actor=self.holder_staff(story), case=self.cases[story.key], merge_into=self.cases[into],
                            note=note)

    def op_supervise(self, story: Story, *, at: datetime.datetime, note: str, due_hours: float,
                     by: str = "ducha") -> None:
        actor = self.t.supervisor if by == "ducha" else self.t.county_dispatcher
        services.issue_supervision(actor=actor, case=self.cases[story.key], note=note,
                                   due_at=at + datetime.timedelta(hours=due_hours))

    def _households(self, grid: OrgUnit) -> list[tuple[Household, dict[str, str]]]:
        """The grid's households, each with its members' names by relation (head, spouse …)."""
        households = list(Household.objects.filter(grid=grid).order_by("number"))
        names: dict[int, dict[str, str]] = {}
        for household_id, relation, name in (Resident.objects.filter(household__in=households)
                                             .order_by("pk").values_list("household_id", "relation", "name")):
            names.setdefault(household_id, {}).setdefault(relation, name)
        return [(h, names[h.pk]) for h in households if Resident.Relation.HEAD in names.get(h.pk, {})]

    def op_parties(self, story: Story, *, at: datetime.datetime, mode: str) -> None:
        case = self.cases[story.key]
        grid = self.places[story.key].grid
        actor = self.t.grid_worker(grid)
        households = self._households(grid)
        self.rng.shuffle(households)
        head = Resident.Relation.HEAD
        parties: list[tuple[str, Household | None]] = []
        if mode == "couple":
            couple = next((h for h in households if Resident.Relation.SPOUSE in h[1]), households[0])
            parties = [(couple[1][head], couple[0]), (couple[1].get(Resident.Relation.SPOUSE, ""), couple[0])]
        elif mode.startswith("with:"):
            first = self.first_party[mode.removeprefix("with:")]
            other = next(h for h in households if h[0] != first[1])
            parties = [first, (other[1][head], other[0])]
        elif mode.startswith("company:"):
            parties = [(households[0][1][head], households[0][0]), (mode.removeprefix("company:"), None)]
        else:
            parties = [(h[1][head], h[0]) for h in households[:2]]
        roles = (DisputeParty.Role.APPLICANT, DisputeParty.Role.RESPONDENT)
        for (name, household), role in zip(parties, roles, strict=False):
            if name:
                services.add_party(actor=actor, case=case, name=name, role=role,
                                   household_number=household.number if household is not None else None)
        self.first_party[story.key] = parties[0]

    def op_mediate(self, story: Story, *, at: datetime.datetime, outcome: str, summary: str,
                   agreement: bool = False) -> None:
        document = ContentFile(_agreement_pdf(), name="agreement.pdf") if agreement else None
        mediator = self._lead_staff(story)
        held_on = timezone.localdate(at)
        # Followed up two weeks on: the demo's 风险纠纷 page then has a 履行回访 that is due.
        services.record_mediation(actor=mediator, case=self.cases[story.key], kind=MediationSession.Kind.PEOPLE,
                                  held_on=held_on, outcome=outcome, summary=summary, mediators=[mediator],
                                  agreement=document,
                                  follow_up_on=held_on + datetime.timedelta(days=14) if agreement else None)


def demo_township() -> OrgUnit | None:
    """The township the demo cases go to: the first one (by division code)."""
    return (OrgUnit.objects.filter(level=Level.TOWNSHIP, kind=UnitKind.AREA, is_active=True)
            .select_related("parent").order_by("path").first())


def make_demo_cases(*, seed: int = DEFAULT_SEED, now: datetime.datetime | None = None) -> int:
    """Write the demo cases into the first township and return how many; none (0) if any case exists.

    `now`: the moment the cases lead up to (default: the real now); the closing sweep runs at it. All or
    nothing: one transaction. Raises LookupError when the township lacks the people the stories need."""
    if Case.objects.exists():
        return 0
    township = demo_township()
    if township is None:
        return 0
    with transaction.atomic():
        runner = _Runner(_Township(township), random.Random(f"demo-cases:{seed}"), now or timezone.now())
        made = runner.run()
        if now is None:
            sweep.run_sweep()
        else:  # a chosen moment (tests): the sweep's own steps are written at it too
            with _clock(now):
                sweep.run_sweep(now=now)
    return made
