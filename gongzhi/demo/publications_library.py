"""The demo's libraries and volunteers (M25, M26): `load(townships, seed=…)`.

For each township, through the real services and in the township dispatcher's name: 惠农政策 (耕地地力保护补贴,
农机购置与应用补贴, 城乡居民医保缴费 …), 法律法规 summaries (民法典婚姻家庭编, 人民调解法 …), 文书模板 as real Word
and Excel files to download (民事起诉状, 答辩状, 人民调解申请书, 借条, 授权委托书 …), the 八大高频办事指南 of seed 001
(公安户籍, 不动产登记, 社保办理, 税务服务 …) with their materials, places and hours, and 便民服务 links (https only).
A catalogue item "志愿服务时长（每小时）" triggered by volunteer hours is added to the township's 积分细则.

For each village, in its village administrator's name: the "8+X" teams (eight standing teams, the village's
own X teams as in seed 001 — 巾帼、夕阳红、河小二 — and the 管闲事 "闲事佬" team of seed 002) with members from
the village's verified residents (most approved, a few waiting), three past activities with attendance and
hours, and two coming ones with sign-ups.

Past activities are created and signed up for at their own past moments; their attendance and hours are
recorded now, so the points they award come after everything already in the ledger: run this after the points
demo (`demo.points`). Deterministic for a seed, apart from the moments (relative to now).
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import cast

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.core.errors import DomainError
from gongzhi.demo.cases import _clock
from gongzhi.org.models import Level, OrgUnit, UnitKind
from gongzhi.points.models import RuleCategory, RuleItem, Trigger
from gongzhi.points.services import rules
from gongzhi.publications import office
from gongzhi.publications.models import Publication, VolunteerTeam
from gongzhi.publications.services import core, library, volunteers
from gongzhi.registry.models import Resident

POLICIES = [
    ("2026年耕地地力保护补贴发放公告", "补贴,耕地,种粮",
     "耕地地力保护补贴对象为拥有耕地承包权的种地农民，补贴依据为二轮承包耕地面积或确权耕地面积。\n"
     "今年补贴标准为每亩105.6元，通过“一卡通”直接发放到户。已改为建设用地、长年抛荒、占补平衡中“补”的面积和质量"
     "达不到耕种条件的耕地不予补贴。\n请于本月底前到村委会核对面积，对公示有异议的，可向乡镇农业综合服务中心反映。"),
    ("农机购置与应用补贴申办须知", "补贴,农机",
     "购买列入补贴范围的农业机械（拖拉机、微耕机、玉米收获机、植保无人机等），可申请农机购置与应用补贴。\n"
     "办理流程：自主购机 → 登录农机补贴申请系统或到县农机中心申请 → 核验机具 → 补贴资金发放到申请人账户。\n"
     "补贴额按省级补贴额一览表执行，同一年度内每户享受补贴的机具数量有限额。"),
    ("2027年度城乡居民医保集中缴费通知", "医保,缴费",
     "2027年度城乡居民基本医疗保险个人缴费标准为每人每年400元，集中缴费期为今年9月1日至12月31日。\n"
     "缴费方式：微信“甘肃税务”小程序、“甘肃医保服务平台”、银行网点或村（社区）代收。\n"
     "特困人员、低保对象、返贫致贫人口等按规定享受缴费资助，由民政、乡村振兴部门认定后直接资助。"),
    ("城乡居民基本养老保险缴费档次和政府补贴", "养老,社保,缴费",
     "城乡居民养老保险个人缴费档次为每年200元至6000元共14个档次，多缴多得、长缴多得。\n"
     "政府对选择200元档次的补贴40元，500元及以上档次补贴80元以上。年满60周岁、累计缴费满15年的按月领取养老金。"),
    ("农村最低生活保障和特困人员救助供养政策问答", "低保,救助,民政",
     "家庭人均收入低于当地低保标准、家庭财产符合规定的农村居民可申请低保。\n"
     "申请人向户籍所在地乡镇人民政府（或村委会代办）提出书面申请，经入户调查、民主评议、公示后审批。\n"
     "对无劳动能力、无生活来源、无法定赡养抚养扶养义务人的老年人、残疾人和未成年人，纳入特困人员救助供养。"),
    ("“雨露计划”职业教育补助申请", "教育,补助,防返贫",
     "脱贫家庭（含防止返贫监测对象家庭）子女接受中、高等职业教育的，每生每年可申请补助3000元，分春秋两季发放。"),
]

LAWS = [
    ("民法典婚姻家庭编要点", "婚姻,家庭,民法典",
     "第一千零四十一条 婚姻家庭受国家保护。实行婚姻自由、一夫一妻、男女平等的婚姻制度。\n"
     "第一千零四十二条 禁止包办、买卖婚姻和其他干涉婚姻自由的行为。禁止借婚姻索取财物。禁止家庭暴力。\n"
     "第一千零六十七条 父母不履行抚养义务的，未成年子女或者不能独立生活的成年子女，有要求父母给付抚养费的权利。"
     "成年子女不履行赡养义务的，缺乏劳动能力或者生活困难的父母，有要求成年子女给付赡养费的权利。\n"
     "第一千零七十七条 自婚姻登记机关收到离婚登记申请之日起三十日内，任何一方不愿意离婚的，可以向婚姻登记机关撤回申"
      "请。"),
    ("中华人民共和国人民调解法（摘要）", "调解,纠纷,法律",
     "第二条 人民调解是指人民调解委员会通过说服、疏导等方法，促使当事人在平等协商基础上自愿达成调解协议，解决民间纠"
      "纷的活动。\n"
     "第四条 人民调解委员会调解民间纠纷，不收取任何费用。\n"
     "第三十三条 经人民调解委员会调解达成调解协议后，双方当事人认为有必要的，可以自调解协议生效之日起三十日内共同向"
      "人民法院申请司法确认。"),
    ("农村土地承包法要点", "土地,承包,流转",
     "耕地的承包期为三十年，承包期届满后再延长三十年。承包方可以自主决定依法采取出租（转包）、入股或者其他方式"
     "向他人流转土地经营权，并向发包方备案。土地经营权流转不得改变土地所有权的性质和土地的农业用途。"),
    ("反家庭暴力法（摘要）", "家庭,法律,妇女",
     "家庭暴力受害人及其法定代理人、近亲属可以向加害人或者受害人所在单位、居民委员会、村民委员会、妇女联合会等"
     "单位投诉、反映或者求助。当事人因遭受家庭暴力或者面临家庭暴力的现实危险，可以向人民法院申请人身安全保护令。"),
    ("信访工作条例（摘要）", "信访,法律",
     "信访人可以采用信息网络、书信、电话、传真、走访等形式，向各级机关、单位反映情况，提出建议、意见或者投诉请求。"
     "信访人提出信访事项，应当客观真实，对其所提供材料内容的真实性负责。"),
]

# (title, tags, body, file name, paragraphs or (sheet header, rows))
TEMPLATES: list[tuple[str, str, str, str, object]] = [
    ("民事起诉状（格式样本）", "诉讼,法院,文书", "向人民法院提起民事诉讼时使用，一式两份（按被告人数增加副本）。",
     "民事起诉状.docx",
     ["原告：姓名、性别、出生日期、民族、住址、联系电话、公民身份号码",
      "被告：姓名、性别、出生日期、民族、住址、联系电话",
      "诉讼请求：", "1.", "2.", "事实和理由：", "", "证据和证据来源，证人姓名和住址：", "", "此致", "××县人民法院",
      "具状人（签名）：", "年　月　日"]),
    ("民事答辩状（格式样本）", "诉讼,法院,文书", "收到起诉状副本后十五日内向法院提交。", "民事答辩状.docx",
     ["答辩人：姓名、性别、出生日期、民族、住址、联系电话", "被答辩人：", "因××一案，现提出答辩如下：", "答辩请求：",
      "事实和理由：", "此致", "××县人民法院", "答辩人（签名）：", "年　月　日"]),
    ("人民调解申请书", "调解,纠纷,文书", "向村（社区）人民调解委员会申请调解时填写，调解不收费。",
     "人民调解申请书.docx",
     ["申请人：姓名、性别、年龄、民族、住址、联系电话", "被申请人：姓名、性别、年龄、民族、住址、联系电话",
      "纠纷简要情况：", "", "申请事项：", "", "申请人自愿申请调解，并保证所述情况属实。", "××村人民调解委员会",
      "申请人（签名）：", "年　月　日"]),
    ("借条（规范样式）", "借款,文书", "借条要写清出借人、借款人、金额（大小写）、利率、还款日期并由借款人亲笔签名。",
     "借条.docx",
     ["今借到______（身份证号：______）人民币（大写）______元整（¥______），借款用途：______。",
      "借款期限自____年__月__日至____年__月__日，年利率____%（不超过一年期贷款市场报价利率四倍）。",
      "到期一次性归还本息。如逾期未还，愿承担由此产生的诉讼费、律师费等实现债权的费用。",
      "借款人（签名并按手印）：", "身份证号：", "联系电话：", "年　月　日"]),
    ("授权委托书", "委托,文书", "委托他人代办事项（如代领补贴、代办证件、代理诉讼）时使用。", "授权委托书.docx",
     ["委托人：姓名、身份证号、住址、联系电话", "受托人：姓名、身份证号、住址、联系电话",
      "现委托受托人代为办理以下事项：______。", "委托权限：□一般代理　□特别授权（代为承认、放弃、变更请求，进行和解）",
      "委托期限：自____年__月__日至____年__月__日。", "委托人（签名）：", "年　月　日"]),
    ("赡养协议书", "赡养,家庭,文书", "子女之间就老人赡养达成协议，可请村人民调解委员会见证。", "赡养协议书.docx",
     ["被赡养人：", "赡养人：", "经协商，就被赡养人的生活费、医疗费、居住、照料等达成如下协议：", "一、",
      "二、", "三、", "本协议一式×份，各方各执一份，村人民调解委员会存档一份。", "各方签名：", "见证人：",
      "年　月　日"]),
    ("农村土地经营权流转（出租）合同", "土地,流转,合同", "土地流转须签订书面合同，并向村委会（发包方）备案。",
     "土地流转合同.docx",
     ["出租方（甲方）：", "承租方（乙方）：", "一、流转土地：位于____社，面积____亩，四至：______。",
      "二、流转期限：____年__月__日至____年__月__日（不得超过承包期剩余期限）。",
      "三、流转价格及支付方式：每亩每年____元，于每年__月__日前支付。",
      "四、土地用途：只能用于农业生产，不得改变土地用途。",
      "甲方（签名）：", "乙方（签名）：", "年　月　日"]),
    ("家庭收支登记表（低保申请用）", "低保,救助,表格", "申请低保时如实填写家庭成员收入和支出，村委会入户核对。",
     "家庭收支登记表.xlsx",
     (["家庭成员", "与户主关系", "收入来源", "年收入(元)", "主要支出", "年支出(元)", "备注"], [])),
]

# 八大高频办事指南 (seed 001: 公安户籍、不动产登记、社保办理、税务服务等八大高频项目).
GUIDES = [
    ("户口迁移（迁入）办理指南", "户籍,公安", "户口迁移（迁入）",
     ["居民户口簿", "居民身份证", "准予迁入证明或迁移证（跨省“一站式”迁移的免提交）", "结婚证（投靠配偶的）"],
     "八里镇派出所户籍窗口", "工作日 9:00-12:00，14:30-17:30", "不收费", "材料齐全的当场办结",
     "https://zwfw.gansu.gov.cn/", "0932-6211110"),
    ("新生儿出生登记办理指南", "户籍,公安,出生", "新生儿出生登记（入户）",
     ["《出生医学证明》", "父母双方居民户口簿", "父母双方居民身份证", "父母结婚证（未婚的提交相关说明）"],
     "八里镇派出所户籍窗口", "工作日 9:00-12:00，14:30-17:30", "不收费", "当场办结", "", "0932-6211110"),
    ("农村不动产（宅基地和房屋）登记指南", "不动产,宅基地,房屋", "宅基地使用权及房屋所有权首次登记",
     ["不动产登记申请书", "申请人身份证明和户口簿", "宅基地批准文件或权属来源证明", "村委会出具的公示材料和证明",
      "房屋竣工或权属证明", "不动产权籍调查成果"],
     "县不动产登记中心（县政务服务中心二楼）", "工作日 9:00-17:00", "免收登记费，工本费按规定收取",
     "20个工作日", "https://zwfw.gansu.gov.cn/", "0932-8213456"),
    ("城乡居民基本养老保险参保登记", "社保,养老", "城乡居民养老保险参保登记",
     ["居民身份证", "居民户口簿", "本人银行卡（社保卡）"],
     "八里镇便民服务中心社保窗口，或村便民服务站代办", "工作日 9:00-12:00，14:30-17:30", "不收费", "即时办结",
     "https://si.12333.gov.cn/", "12333"),
    ("社会保障卡申领和补换", "社保,社保卡", "第三代社会保障卡申领",
     ["居民身份证", "近期免冠证件照（现场拍摄的免提交）", "16周岁以下由监护人持户口簿代办"],
     "县人社局社保卡服务大厅或合作银行网点", "工作日 9:00-17:00", "首次申领免费，补换按规定收取工本费",
     "即时制卡或15个工作日", "https://si.12333.gov.cn/", "12333"),
    ("城乡居民医保参保缴费（税务）", "医保,税务,缴费", "城乡居民基本医疗保险费缴纳",
     ["居民身份证号码", "缴费人手机（线上缴费）"],
     "微信“甘肃税务”小程序、银行网点，或村便民服务站代收", "集中缴费期每年9月1日至12月31日",
     "个人缴费按当年标准", "即时到账", "https://etax.chinatax.gov.cn/", "12366"),
    ("最低生活保障申请指南", "低保,民政,救助", "农村最低生活保障申请",
     ["低保申请书", "家庭成员居民身份证和户口簿", "家庭收支登记表", "家庭经济状况核对授权书",
      "残疾证、病历等证明（有的提供）"],
     "户籍所在地村委会（代办）或八里镇便民服务中心民政窗口", "工作日 9:00-12:00，14:30-17:30", "不收费",
     "30个工作日（特殊情况可延长）", "", "0932-6211234"),
    ("残疾人证办理指南", "残疾人,残联", "第三代残疾人证申领",
     ["居民身份证或户口簿", "近期两寸免冠彩色照片3张", "指定医院的残疾评定表"],
     "县残联服务大厅（评定在县指定医院）", "工作日 9:00-17:00", "不收费", "评定后15个工作日", "", "0932-8219876"),
]

LINKS = [
    ("甘肃政务服务网", "政务服务", "https://zwfw.gansu.gov.cn/", "12345"),
    ("国家社会保险公共服务平台（养老金、社保查询）", "社保,查询", "https://si.12333.gov.cn/", "12333"),
    ("国家医保服务平台（医保查询、异地就医备案）", "医保,查询", "https://fuwu.nhsa.gov.cn/", "12393"),
    ("个人所得税和社保缴费（国家税务总局）", "税务,缴费", "https://etax.chinatax.gov.cn/", "12366"),
    ("中国法律服务网（12348法律咨询）", "法律,咨询", "https://www.12348.gov.cn/", "12348"),
    ("国家政务服务平台", "政务服务", "https://www.gjzwfw.gov.cn/", ""),
]

# "8+X": eight standing teams, the village's own X teams (seed 001), and the 管闲事 volunteers (seed 002).
FIXED_TEAMS = [
    ("政策宣讲志愿服务队", "进组入户宣讲惠农政策、法律法规，帮老人在手机上办事"),
    ("文明新风志愿服务队", "移风易俗、红白理事会、好婆婆好媳妇评选"),
    ("平安守护志愿服务队", "夜间巡逻、防诈骗宣传、重点时段值守"),
    ("环境整治志愿服务队", "村道、河道保洁，垃圾分类督导"),
    ("邻里互助志愿服务队", "农忙互助、代购代办、邻里纠纷劝和"),
    ("文化体育志愿服务队", "农家书屋、广场舞、村晚和农民运动会"),
    ("助老助残志愿服务队", "关爱孤寡老人、留守儿童和残疾人，上门理发、读报、打扫"),
    ("应急救援志愿服务队", "防汛、防火、地质灾害隐患巡查和应急转移"),
]
X_TEAMS = [
    ("巾帼志愿者服务队", VolunteerTeam.Kind.VILLAGE, "妇女骨干组成，关爱留守儿童和困难家庭"),
    ("夕阳红志愿者服务队", VolunteerTeam.Kind.VILLAGE, "退休党员、教师组成，助老扶幼、传家风"),
    ("河小二志愿者服务队", VolunteerTeam.Kind.VILLAGE, "巡河护河，劝阻乱倒垃圾"),
    ("“闲事佬”管闲事服务队", VolunteerTeam.Kind.BUSYBODY,
     "离退休党员干部、教师等德高望重的村民，收集和调处邻里“闲事”"),
]
LEADERS = ["王建军", "李秀英", "张志强", "刘桂兰", "陈永福", "杨玉梅", "赵德山", "马海燕", "周春生", "吴凤琴",
           "徐国庆", "孙兰芳"]

# (title, team index, place, hours, slots, members only)
ACTIVITIES = [
    ("河道垃圾清理志愿活动", 3, "{village}村委会门口集合", 3, 15, False),
    ("重阳节敬老爱老上门服务", 6, "{village}孤寡老人家中（村委会集合）", 2, 10, False),
    ("防范电信诈骗入户宣传", 0, "{village}各社", 3, 12, False),
    ("夜间治安巡逻", 2, "{village}村委会值班室", 2, 6, True),
    ("农家书屋读书分享会", 5, "{village}农家书屋", 2, 20, False),
    ("汛前地质灾害隐患点巡查", 7, "{village}村委会", 4, 8, True),
    ("移风易俗“红白事简办”宣讲", 1, "{village}文化广场", 2, 20, False),
]


def _first(unit: OrgUnit, role: str) -> User | None:
    post = (Membership.objects.active().filter(unit=unit, role=role).select_related("user")
            .order_by("user__username").first())
    return post.user if post is not None else None


def _publish(actor: User, kind: str, unit: OrgUnit, title: str, body: str, tags: str, *, key: str,
             fill: Callable[[Publication], None] | None = None) -> Publication | None:
    item = core.create_draft(actor=actor, kind=kind, author_unit=unit, title=title, body=body, tags=tags,
                             client_key=key)
    if item.status != "draft":
        return None  # loaded before
    if fill is not None:
        fill(item)
    core.publish_now(actor=actor, publication=item)
    return item


def _hours_rule(township: OrgUnit) -> None:
    if RuleItem.objects.filter(category__township=township, trigger=Trigger.VOLUNTEER_HOURS,
                               retired_at__isnull=True).exists():
        return
    category, _created = RuleCategory.objects.get_or_create(township=township, village=None, name="志愿服务",
                                                            defaults={"order": 90})
    rules.add_item(actor=None, category=category, fields=rules.ItemFields(
        name="志愿服务时长（每小时）", points=1, evidence="志愿活动签到和时长记录", claimable=False, cap_count=24,
        trigger=Trigger.VOLUNTEER_HOURS))


def _township(township: OrgUnit, seed: int) -> int:
    actor = _first(township, Role.DISPATCHER)
    if actor is None:
        return 0
    made = 0
    code = township.code
    for i, (title, tags, body) in enumerate(POLICIES):
        made += bool(_publish(actor, "policy", township, title, body, tags, key=f"demo-lib:{code}:policy:{i}"))
    for i, (title, tags, body) in enumerate(LAWS):
        made += bool(_publish(actor, "law", township, title, body, tags, key=f"demo-lib:{code}:law:{i}"))
    for i, (title, tags, body, name, content) in enumerate(TEMPLATES):
        if name.endswith(".xlsx"):
            header, rows = cast(tuple[list[str], list[list[object]]], content)
            data = office.xlsx_bytes(title[:20], header, rows)
        else:
            data = office.docx_bytes(title.split("（")[0], cast(list[str], content))

        def attach(item: Publication, data: bytes = data, name: str = name) -> None:
            library.add_template_files(actor=actor, publication=item, files=[SimpleUploadedFile(name, data)])

        made += bool(_publish(actor, "template", township, title, body, tags, key=f"demo-lib:{code}:tpl:{i}",
                              fill=attach))
    short = township.name
    for i, (title, tags, matter, materials, place, hours, fee, limit, url, phone) in enumerate(GUIDES):
        def guide(item: Publication, matter: str = matter, materials: list[str] = materials, place: str = place,
                  hours: str = hours, fee: str = fee, limit: str = limit, url: str = url, phone: str = phone) -> None:
            library.save_guide(actor=actor, publication=item, fields=library.GuideFields(
                matter=matter, materials=materials, place=place.replace("八里镇", short), office_hours=hours,
                fee=fee, time_limit=limit, online_url=url, phone=phone))

        body = f"{matter}：请按下列清单备齐材料后前往办理，可先电话咨询。村便民服务站可帮助代办、帮办。"
        made += bool(_publish(actor, "guide", township, title, body, tags, key=f"demo-lib:{code}:guide:{i}",
                              fill=guide))
    for i, (title, tags, url, phone) in enumerate(LINKS):
        def link(item: Publication, url: str = url, phone: str = phone) -> None:
            library.save_service_link(actor=actor, publication=item, url=url, phone=phone)

        made += bool(_publish(actor, "service_link", township, title, "", tags, key=f"demo-lib:{code}:link:{i}",
                              fill=link))
    _hours_rule(township)
    return made


def _village(village: OrgUnit, rng: random.Random, now: datetime.datetime) -> int:
    admin = _first(village, Role.VILLAGE_ADMIN)
    if admin is None or VolunteerTeam.objects.filter(unit=village).exists():
        return 0
    teams = []
    leaders = rng.sample(LEADERS, len(LEADERS))
    for order, (name, description) in enumerate(FIXED_TEAMS):
        teams.append(volunteers.create_team(actor=None, unit=village, fields=volunteers.TeamFields(
            name=name, description=description, leader_name=leaders[order % len(leaders)], order=order)))
    for order, (name, kind, description) in enumerate(rng.sample(X_TEAMS, 3), start=len(FIXED_TEAMS)):
        teams.append(volunteers.create_team(actor=None, unit=village, fields=volunteers.TeamFields(
            name=name, kind=kind, description=description, leader_name=leaders[order % len(leaders)], order=order)))
    people = [r.user for r in Resident.objects.filter(grid__path__startswith=village.path, user__isnull=False,
                                                      status=Resident.Status.ACTIVE)
              .select_related("user").order_by("pk")[:40] if r.user is not None]
    for person in people:
        for team in rng.sample(teams, rng.randint(1, 2)):
            member = volunteers.apply_to_team(user=person, team=team, note="愿意为村里出份力")
            if rng.random() < 0.85:
                volunteers.review_member(actor=admin, member=member, approve=True)
    made = 0
    plans = rng.sample(ACTIVITIES, 5)
    for n, (title, team_index, place, hours, slots, members_only) in enumerate(plans):
        past = n < 3
        start = (now - datetime.timedelta(days=rng.randint(10, 80)) if past
                 else now + datetime.timedelta(days=rng.randint(3, 20)))
        start = start.replace(hour=rng.choice((8, 9, 14, 19)), minute=0, second=0, microsecond=0)
        created = start - datetime.timedelta(days=rng.randint(4, 8))
        team = teams[team_index]
        with _clock(created):
            item = core.create_draft(actor=admin, kind="volunteer_activity", author_unit=village, title=title,
                                     body=f"{team.name}组织{title}，欢迎村民报名参加，请穿便于活动的衣服，按时到集合地点。",
                                     tags="志愿服务", client_key=f"demo-vol:{village.code}:{n}")
            if item.status != "draft":
                continue
            volunteers.save_activity(actor=admin, publication=item, fields=volunteers.ActivityFields(
                place=place.format(village=village.name), starts_at=start,
                ends_at=start + datetime.timedelta(hours=hours), slots=slots, team_ids=[team.pk],
                members_only=members_only))
            item = core.publish_now(actor=admin, publication=item)
        made += 1
        with _clock(created + datetime.timedelta(days=1)):
            takers = rng.sample(people, min(len(people), rng.randint(slots // 2, slots))) if people else []
            joined = []
            for person in takers:
                try:
                    joined.append(volunteers.sign_up(user=person, publication=item))
                except DomainError:
                    continue  # not a member of a members-only activity, or full
        if past and joined:
            entries = [volunteers.AttendanceEntry(p.pk, rng.random() < 0.9,
                                                  Decimal(hours) - Decimal("0.5") * rng.randint(0, 1))
                       for p in joined]
            volunteers.record_attendance(actor=admin, publication=item, entries=entries)
    return made


def load(townships: Sequence[OrgUnit], *, seed: int) -> int:
    """The libraries of each township and the volunteers of its villages; returns the items made."""
    now = timezone.now()
    made = 0
    for township in townships:
        made += _township(township, seed)
        villages = OrgUnit.objects.filter(parent=township, kind=UnitKind.AREA, level=Level.VILLAGE,
                                          is_active=True).order_by("code")
        for village in villages:
            made += _village(village, random.Random(f"volunteers:{seed}:{village.code}"), now)
    return made
