"""The demo's notices (M24): `load(townships, seed=…)`, called by `demo.generate` for every township.

For each township and its villages, some months of 村情动态, 安全提示 (防电诈, 防溺水, 冬季防火 …) and 活动通知, written
and published through `publications.services.core` by the village's administrator (村) or the township's
dispatcher (镇) at their past moments (`demo.cases._clock`), so their history rows and published times are what
they would have been; and one urgent alert (寻人启事) of the township that ended long ago (its period is over: no
resident sees it any more, and its texts are not sent). Deterministic for a seed, apart from the moments
(relative to now).
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Sequence

from django.utils import timezone

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.demo.cases import _clock
from gongzhi.org.models import Level, OrgUnit, UnitKind
from gongzhi.publications.services import core

MONTHS = 5

VILLAGE_NEWS = [
    ("{v}通村公路硬化工程完工",
     "{v}通往镇上的3.2公里村道硬化工程已完工并通过验收，村民出行更方便了。感谢施工期间大家的理解和支持。"),
    ("{v}自来水管网改造通知",
     "为解决部分农户水压不足问题，村里将对一社、二社自来水管网进行改造，施工期间可能短时停水，请提前储水。"),
    ("{v}完成春季植树造林", "村两委组织党员、志愿者和村民在后山完成春季植树造林，共栽植侧柏、山杏1200余株。"),
    ("{v}新建文化广场投入使用",
     "村文化广场已建成投入使用，配有健身器材和篮球场，欢迎村民早晚锻炼身体，请爱护公共设施。"),
    ("{v}马铃薯收购点开秤", "今年马铃薯收购点已在村委会旁开秤，收购价格每日公示，请种植户错峰交售。"),
    ("{v}村规民约修订征求意见",
     "村规民约修订稿已在村务公开栏张贴，请村民提出意见建议，可到村委会或在平台“建言献策”中反映。"),
]
SAFETY = [
    ("防电诈：“刷单返利”都是诈骗", "凡是要求先垫付资金的刷单、做任务都是诈骗。不点陌生链接，不下载陌生软件，"
     "不向陌生账户转账。接到可疑电话请拨打96110咨询。"),
    ("防电诈：冒充“客服”退款要警惕", "自称电商客服说您的快递丢失、要退款理赔，并让您开通屏幕共享或提供验证码的，"
     "都是骗子。请通过官方渠道核实。"),
    ("防溺水：暑期请看护好孩子", "夏季天气炎热，请家长看护好孩子，做到“六不”：不私自下水游泳、不擅自与他人结伴游泳、"
     "不在无家长带领时游泳、不到无安全设施的水域游泳、不到不熟悉的水域游泳、不熟悉水性的学生不擅自下水施救。"),
    ("冬季防火：取暖用火用电要当心", "冬季取暖请注意：不私拉乱接电线，电热毯不要长时间通电，"
     "炉灶周围不堆放柴草，离家和睡前检查火源。发现火情立即拨打119。"),
    ("冬季防一氧化碳中毒提醒", "使用煤炉取暖要安装烟筒并保持通畅，门窗适当留缝通风，不要在密闭房间内使用炭火盆。"),
    ("秸秆禁烧提醒", "焚烧秸秆污染空气、容易引发火灾。请将秸秆粉碎还田或交售给收储点，切勿焚烧。"),
]
ACTIVITIES = [
    ("重阳节敬老活动通知", "本周六上午9点在村委会举办重阳节敬老活动，为70岁以上老人测血压、理发，"
     "欢迎志愿者报名参加。"),
    ("免费健康体检通知", "镇卫生院医生将于下周二到村里为65岁以上老人和慢性病患者免费体检，请携带身份证和医保卡。"),
    ("农业技术培训通知",
     "县农技中心专家将来村讲解马铃薯种植和病虫害防治技术，时间为本周四下午2点，地点在村委会会议室。"),
    ("“最美家庭”评选活动", "村里开展“最美家庭”评选，请各户自荐或推荐，报名截止到本月底。"),
]
TOWN_NEWS = [
    ("{t}召开乡村振兴推进会", "镇党委召开乡村振兴工作推进会，部署下一阶段产业发展、人居环境整治和基层治理工作。"),
    ("{t}开展人居环境整治“清洁月”活动", "本月全镇开展人居环境整治“清洁月”活动，各村集中清理房前屋后垃圾、柴草。"),
    ("{t}医保缴费提醒", "城乡居民医疗保险集中缴费已开始，请通过手机或到村委会代收点缴费，按时参保。"),
]
ALERT = ("寻人启事：{t}走失老人", "{v}村民张大爷，78岁，身高约1.65米，穿深蓝色棉袄，患有老年痴呆，今早离家后未归。"
         "如有线索请立即联系村委会或拨打110。")


def _staff(unit: OrgUnit, role: str) -> User | None:
    post = (Membership.objects.active().filter(unit=unit, role=role, user__is_active=True)
            .select_related("user").order_by("pk").first())
    return post.user if post else None


def _publish(actor: User, kind: str, unit: OrgUnit, title: str, body: str, at: datetime.datetime,
             **fields) -> None:
    with _clock(at):
        item = core.create_draft(actor=actor, kind=kind, author_unit=unit, title=title[:100], body=body, **fields)
        core.publish_now(actor=actor, publication=item)


def load(townships: Sequence[OrgUnit], *, seed: int) -> int:
    """Notices for each township and its villages over the past months, and one ended alert; returns how many."""
    rng = random.Random(seed)
    now = timezone.now()
    made = 0
    for town in townships:
        dispatcher = _staff(town, Role.DISPATCHER)
        villages = list(OrgUnit.objects.filter(parent=town, level=Level.VILLAGE, kind=UnitKind.AREA, is_active=True)
                        .order_by("code"))
        plan: list[tuple[datetime.datetime, User, str, OrgUnit, str, str]] = []
        for village in villages:
            admin = _staff(village, Role.VILLAGE_ADMIN)
            if admin is None:
                continue
            for month in range(MONTHS):
                start = now - datetime.timedelta(days=30 * (month + 1))
                for kind, choices in (("news", VILLAGE_NEWS), ("safety", SAFETY), ("activity_notice", ACTIVITIES)):
                    title, body = rng.choice(choices)
                    at = start + datetime.timedelta(days=rng.randint(0, 29), hours=rng.randint(8, 18))
                    plan.append((at, admin, kind, village, title.format(v=village.name), body.format(v=village.name)))
        if dispatcher is not None:
            for month in range(MONTHS):
                start = now - datetime.timedelta(days=30 * (month + 1))
                title, body = rng.choice(TOWN_NEWS)
                at = start + datetime.timedelta(days=rng.randint(0, 29), hours=rng.randint(8, 18))
                plan.append((at, dispatcher, "news", town, title.format(t=town.name), body))
                title, body = rng.choice(SAFETY)
                plan.append((at + datetime.timedelta(days=1), dispatcher, "safety", town, title, body))
        for at, actor, kind, unit, title, body in sorted(plan, key=lambda step: step[0]):
            _publish(actor, kind, unit, title, body, at)
            made += 1
        if dispatcher is not None and villages:
            village = villages[0]
            at = now - datetime.timedelta(days=rng.randint(40, 90), hours=3)
            title, body = ALERT
            _publish(dispatcher, "alert", town, title.format(t=town.name), body.format(v=village.name), at,
                     publish_until=at + datetime.timedelta(hours=12))
            made += 1
    return made
