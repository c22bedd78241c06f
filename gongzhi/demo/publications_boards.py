"""The demo's 红黑榜 and 建言献策: `load(townships, seed=…)`, wired into `demo.generate` by the lead.

For every village of each township: the preset 创评标准 (seed 000: 孝老敬亲, 邻里和睦, 贡献爱心 on the red list;
不赡养老人, 赌博败家, 酗酒家暴 and the 陈规陋习 of 村规民约 on the black list); last quarter's board, approved by the
township's dispatcher and shown until the end of this quarter, with red and black entries naming heads of the
village's registered households (the black list shows surnames only, 王某某); one appeal already decided and one
waiting in the first village; this quarter's board as a draft; and a few residents' suggestions, one public with
the village's reply and residents' support, one kept private with a reply, one waiting. All through the services.
Deterministic for a seed, apart from the moments (relative to now).
"""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.core.errors import DomainError
from gongzhi.org.models import Level, OrgUnit, UnitKind
from gongzhi.publications.models import BoardCriterion, BoardEntry, BoardList, Publication
from gongzhi.publications.services import boards, core
from gongzhi.registry.models import Household, Resident

RED_REASONS = {
    "孝老爱亲": ["常年照顾瘫痪在床的婆婆，端水喂饭十余年如一日", "独自赡养三位老人，被村民称为“孝心儿媳”"],
    "邻里和睦": ["主动调解邻里宅基地纠纷，化解矛盾多起", "邻居外出务工，多年帮忙照看留守老人和孩子"],
    "好人好事": ["在村口拾到装有现金的钱包，原物归还失主", "冬季义务清扫村道积雪，方便群众出行"],
    "贡献爱心": ["为村里困难学生捐资助学", "带头参加“8+X”志愿服务，帮扶困难户春耕"],
    "环境卫生示范户": ["庭院整洁、门前三包落实到位，垃圾分类做得好"],
}
BLACK_REASONS = {
    "高价彩礼": ["嫁女索要彩礼明显超出村规民约标准，经村“两委”劝导后仍未整改"],
    "大操大办": ["为老人过寿大摆宴席三十余桌，违反村规民约红白喜事简办规定"],
    "乱堆乱放": ["柴草、建筑垃圾长期堆放在村道两侧，多次劝导未清理"],
    "不赡养老人": ["有赡养能力而不履行赡养义务，经调解后仍拒不支付赡养费"],
}
SUGGESTIONS = [
    ("建议在村口和主干道增设路灯", "村口到学校一段路晚上没有路灯，学生放学、老人出门很不安全，建议增设几盏太阳能路灯。",
     True, "已列入今年村级公益事业项目，计划下月安装太阳能路灯8盏。"),
    ("建议开设老年人日间照料中心",
     "村里留守老人多，子女常年在外务工，建议利用闲置村小学校舍办一个日间照料中心，中午能吃上热饭。", True,
     "村“两委”已研究，正在向镇民政办申请项目支持，有进展会及时公开。"),
    ("关于村集体收益使用的意见", "希望村里把集体经济收益的使用情况讲得更细一些，哪些钱用在了哪里。", False,
     "感谢您的意见。村集体收支已在三务公开栏按月公开，欢迎到村委会查阅明细。"),
    ("建议组织农技培训", "今年花椒病虫害多，建议请镇农技站的技术员到村里讲一讲防治办法。", True, ""),
]


def _admin(village: OrgUnit) -> User | None:
    post = (Membership.objects.active().filter(unit=village, role=Role.VILLAGE_ADMIN).select_related("user")
            .order_by("user__username").first())
    return post.user if post else None


def _dispatcher(township: OrgUnit) -> User | None:
    post = (Membership.objects.active().filter(unit=township, role=Role.DISPATCHER).select_related("user")
            .order_by("user__username").first())
    return post.user if post else None


def _quarter(day: datetime.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def _quarter_start(year: int, quarter: int) -> datetime.date:
    return datetime.date(year, 3 * (quarter - 1) + 1, 1)


def _quarter_end(year: int, quarter: int) -> datetime.date:
    start = _quarter_start(year + (quarter == 4), 1 if quarter == 4 else quarter + 1)
    return start - datetime.timedelta(days=1)


FALLBACK_NAMES = ["王秀兰", "李建国", "张桂英", "赵德明", "刘大海", "陈富贵"]
QUARTER_NAMES = {1: "一", 2: "二", 3: "三", 4: "四"}


def _aware(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _heads(village: OrgUnit, rng: random.Random, n: int) -> list[Resident]:
    heads = list(Resident.objects.filter(household__village=village, relation=Resident.Relation.HEAD)
                 .select_related("household").order_by("pk")[:200])
    rng.shuffle(heads)
    return heads[:n]


def _residents(village: OrgUnit) -> list[User]:
    posts = (Membership.objects.active().filter(role=Role.RESIDENT, unit__path__startswith=village.path)
             .select_related("user").order_by("user__pk")[:20])
    return [post.user for post in posts]


def _board(admin: User, village: OrgUnit, rng: random.Random, *, year: int, quarter: int,
           publish_from: datetime.datetime | None, publish_until: datetime.datetime, key: str) -> Publication:
    item = boards.create_board(
        actor=admin, author_unit=village,
        title=f"{village.name}{year}年第{QUARTER_NAMES[quarter]}季度红黑榜",
        body="根据村规民约和村民会议通过的红黑榜创评标准，经群众推荐、村“两委”评议、乡镇审核，现将本季度红黑榜公示如下。"
             "红榜弘扬孝老爱亲、邻里和睦等新风正气，黑榜对违反村规民约的陈规陋习进行警示。",
        period_start=_quarter_start(year, quarter), period_end=_quarter_end(year, quarter),
        publish_from=publish_from, publish_until=publish_until, client_key=key)
    if BoardEntry.objects.filter(publication=item).exists():
        return item
    criteria = {c.name: c for c in boards.criteria_for(village)}
    # Heads of the village's registered households; demo names where the register has fewer.
    people: list[tuple[str, Household | None]] = [(head.name, head.household) for head in _heads(village, rng, 6)]
    people += [(name, None) for name in FALLBACK_NAMES[len(people):]]
    red = [name for name in RED_REASONS if name in criteria]
    black = [name for name in BLACK_REASONS if name in criteria]
    for i, (person, household) in enumerate(people[:4]):
        name = red[i % len(red)]
        boards.add_entry(actor=admin, publication=item, criterion=criteria[name], name=f"{person}家",
                         reason=rng.choice(RED_REASONS[name]), household=household)
    for i, (person, household) in enumerate(people[4:6]):
        name = black[(i + rng.randrange(len(black))) % len(black)]
        boards.add_entry(actor=admin, publication=item, criterion=criteria[name], name=person,
                         reason=rng.choice(BLACK_REASONS[name]), household=household)
    return item


def load(townships: list[OrgUnit], *, seed: int) -> int:
    """Boards and suggestions for every village of `townships`; returns how many items (boards and suggestions)
    this call made (none when run again)."""
    before = Publication.objects.filter(kind__in=["board", "suggestion"]).count()
    today = timezone.localdate()
    year, quarter = _quarter(today)
    last_year, last_quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
    this_start = _quarter_start(year, quarter)
    for township in townships:
        dispatcher = _dispatcher(township)
        villages = OrgUnit.objects.filter(parent=township, kind=UnitKind.AREA, level=Level.VILLAGE,
                                          is_active=True).order_by("code")
        for index, village in enumerate(villages):
            admin = _admin(village)
            if admin is None:
                continue
            rng = random.Random(f"boards:{seed}:{village.code}")
            if not BoardCriterion.objects.filter(unit=village).exists():
                boards.install_preset_criteria(actor=None, unit=village)
            last = _board(admin, village, rng, year=last_year, quarter=last_quarter,
                          publish_from=_aware(this_start),
                          publish_until=_aware(_quarter_end(year, quarter) + datetime.timedelta(days=1)),
                          key=f"demo-board-{village.code}-{last_year}-{last_quarter}")
            if dispatcher is not None and last.status == "draft":
                core.submit(actor=admin, publication=last)
                last = core.approve(actor=dispatcher, publication=last, note="经镇综治中心审核，同意公示。")
                if index == 0:
                    _appeals(last, village, admin)
            _board(admin, village, rng, year=year, quarter=quarter, publish_from=None,
                   publish_until=_aware(_quarter_end(year + (quarter == 4), 1 if quarter == 4 else quarter + 1)),
                   key=f"demo-board-{village.code}-{year}-{quarter}")
            _suggestions(village, admin, rng)
    return Publication.objects.filter(kind__in=["board", "suggestion"]).count() - before


def _appeals(board: Publication, village: OrgUnit, admin: User) -> int:
    residents = _residents(village)
    black = list(BoardEntry.objects.filter(publication=board, list=BoardList.BLACK, removed_at__isnull=True))
    if len(residents) < 2 or not black:
        return 0
    try:
        first = boards.file_appeal(actor=residents[0], entry=black[0],
                                   reason="彩礼是双方自愿商定的，且大部分已退回，希望村里重新核实。")
        boards.decide_appeal(actor=admin, appeal=first, upheld=False,
                             decision="经村“两委”和村民代表走访核实，情况属实，维持公示。")
        boards.file_appeal(actor=residents[1], entry=black[-1], reason="已经按要求清理干净了，请村里来看一下。")
    except DomainError:
        return 0
    return 2


def _suggestions(village: OrgUnit, admin: User, rng: random.Random) -> int:
    residents = _residents(village)
    if not residents:
        return 0
    made = 0
    for i, (title, body, public, reply) in enumerate(SUGGESTIONS):
        author = residents[i % len(residents)]
        item = boards.submit_suggestion(actor=author, title=title, body=body, may_publish=public,
                                        client_key=f"demo-suggestion-{village.code}-{i}")
        made += 1
        if item.status != "in_review" or not reply:
            continue
        boards.reply_suggestion(actor=admin, publication=item, reply=reply)
        if public:
            item = boards.publish_suggestion(actor=admin, publication=item)
            for supporter in residents[: rng.randint(min(2, len(residents)), min(8, len(residents)))]:
                boards.support(actor=supporter, publication=item)
        else:
            boards.keep_private(actor=admin, publication=item)
    return made
