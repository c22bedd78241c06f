"""The preset catalogue (积分攻略, seed 000: 7 categories, 62 items) and star scale a township starts from.

Each item: (name, points, evidence, photo required, claimable, cap count, cap period, awarder, trigger).
A negative value is a deduction (扣分): given by administrators only, never applied for. A township edits
its copy freely (each change is a new version of the item); villages add their own.
"""

from __future__ import annotations

from typing import NamedTuple


class PresetItem(NamedTuple):
    name: str
    points: int
    evidence: str = ""
    photo: bool = False
    claimable: bool = True
    cap: int | None = None
    period: str = "year"
    awarder: str = "village"
    trigger: str = ""


_I = PresetItem

PRESET_CATALOGUE: list[tuple[str, list[PresetItem]]] = [
    ("文化振兴", [
        _I("孝老敬亲，赡养老人事迹突出", 10, "村民小组证明或事迹照片", True, cap=1),
        _I("被评为县级以上“好媳妇”“好婆婆”“五好家庭”", 20, "荣誉证书照片", True, cap=2, awarder="township"),
        _I("参加村里组织的文艺演出、广场舞等文化活动", 2, "活动照片", True, cap=12),
        _I("参加新时代文明实践活动或道德讲堂", 2, "签到表或活动照片", True, cap=12),
        _I("移风易俗，婚事新办、丧事简办", 10, "村红白理事会证明", cap=2),
        _I("家庭子女考入大学（本科）", 10, "录取通知书照片", True, cap=1),
        _I("邻里和睦，主动调解邻里纠纷", 5, "当事人或网格员证明", cap=4),
        _I("家风家训上墙或参与家风家训评选", 3, "照片", True, cap=1),
        _I("参加农家书屋读书、知识竞赛等活动", 2, "活动照片", True, cap=6),
        _I("不赡养老人、虐待家庭成员，经查实", -20, "调解记录或处理意见", claimable=False),
    ]),
    ("产业振兴", [
        _I("发展特色种植、养殖，规模达到村定标准", 10, "现场照片", True, cap=1),
        _I("带动5户以上村民增收致富", 15, "带动农户名单", cap=1, awarder="township"),
        _I("参加农业实用技术培训", 2, "培训结业证或签到表", cap=6),
        _I("加入农民专业合作社并正常参与经营", 5, "合作社证明", cap=1),
        _I("返乡创业，创办企业或个体工商户", 15, "营业执照照片", True, cap=1, awarder="township"),
        _I("按时足额缴纳新农合、养老保险", 3, "缴费凭证", cap=1),
        _I("积极配合项目征地、施工等重点工作", 10, "村委会证明", cap=2),
        _I("阻挠重点项目施工、无理索要补偿，经查实", -20, "现场记录或处理意见", claimable=False),
    ]),
    ("组织振兴", [
        _I("按时参加村民（代表）大会、村民说事", 2, "会议签到", cap=12),
        _I("党员按时参加“三会一课”、主题党日", 2, "签到表", cap=12),
        _I("对村务提出合理化建议被采纳", 5, "村委会证明", cap=4),
        _I("担任村民小组长、楼栋长、中心户长等并履职", 5, "任命文件", cap=1),
        _I("参加志愿服务活动（每次）", 2, "志愿服务照片", True, cap=24),
        _I("参加疫情防控、防汛抗旱等应急值守", 5, "值班表或照片", True, cap=12),
        _I("带头参与村级公益事业投工投劳", 3, "照片", True, cap=12),
        _I("无理上访、越级访、缠访闹访，经查实", -20, "信访部门处理意见", claimable=False),
        _I("不参加、干扰村民大会或村集体活动", -5, "会议记录", claimable=False),
    ]),
    ("生态振兴", [
        _I("庭院干净整洁，被评为“美丽庭院”“清洁户”", 5, "评比结果", cap=4),
        _I("门前三包落实到位，无乱堆乱放", 2, "照片", True, cap=12),
        _I("垃圾分类投放，定点倾倒", 2, "照片", True, cap=12),
        _I("参加村庄环境整治、义务植树", 3, "活动照片", True, cap=12),
        _I("主动拆除私搭乱建、残垣断壁", 10, "拆除前后照片", True, cap=2),
        _I("参与“厕所革命”、改厨改圈", 5, "现场照片", True, cap=1),
        _I("劝阻焚烧秸秆、垃圾等行为", 3, "照片或证明", cap=6),
        _I("爱护公共设施，发现损坏及时报告", 2, "照片", True, cap=12),
        _I("乱倒垃圾、乱排污水，经查实", -5, "现场照片", claimable=False),
        _I("违规焚烧秸秆、垃圾，经查实", -10, "现场照片", claimable=False),
    ]),
    ("人才振兴", [
        _I("取得职业技能等级证书", 5, "证书照片", True, cap=2),
        _I("参加学历提升教育并取得学历", 10, "毕业证书照片", True, cap=1),
        _I("在外优秀人才回乡服务", 10, "村委会证明", cap=1, awarder="township"),
        _I("担任乡村医生、教师、农技员等并服务群众", 5, "聘用证明", cap=1),
        _I("义务传授种养殖技术、手艺", 3, "照片", True, cap=6),
        _I("被评为县级以上各类先进个人", 20, "荣誉证书照片", True, cap=2, awarder="township"),
        _I("参加“雨露计划”等就业技能培训并就业", 5, "培训结业证", cap=1),
    ]),
    ("综合治理", [
        _I("随手拍反映问题，经核实办结", 2, "平台自动记录", claimable=False, cap=24, trigger="report_closed"),
        _I("提供违法犯罪线索，经查证属实", 10, "公安机关证明", cap=6, awarder="township"),
        _I("参加义务巡逻、群防群治", 3, "巡逻记录", cap=24),
        _I("参与矛盾纠纷调解成功", 5, "调解协议", cap=6),
        _I("家庭成员无违法犯罪记录，全年无矛盾纠纷", 5, "网格员核实", cap=1),
        _I("参加禁毒、反诈、普法宣传活动", 2, "活动照片", True, cap=12),
        _I("安装使用“国家反诈中心”App", 2, "截图", True, cap=1),
        _I("及时劝阻、报告安全隐患", 3, "照片", True, cap=6),
        _I("积极配合人口普查、入户走访等登记工作", 2, "网格员核实", cap=2),
        _I("参与赌博、封建迷信活动，经查实", -20, "公安机关处理意见", claimable=False),
        _I("酗酒滋事、家庭暴力，经查实", -20, "处理意见", claimable=False),
        _I("违反村规民约，经村民代表会议认定", -10, "会议记录", claimable=False),
    ]),
    ("特殊贡献", [
        _I("见义勇为，经有关部门认定", 30, "认定文件", awarder="township"),
        _I("捐资助学、扶贫济困（每次）", 10, "捐赠凭证", cap=6),
        _I("无偿献血", 10, "献血证照片", True, cap=2),
        _I("抢险救灾中表现突出", 20, "村委会或乡镇证明", awarder="township"),
        _I("为村集体争取项目、资金", 20, "项目文件", awarder="township"),
        _I("获得市级以上表彰", 30, "表彰文件照片", True, awarder="township"),
    ]),
]

# Points earned in a year for one star … ten stars (十星等级). Townships change them; the basis too.
PRESET_STAR_THRESHOLDS = [10, 20, 35, 50, 70, 90, 115, 140, 170, 200]


def item_count() -> int:
    return sum(len(items) for _name, items in PRESET_CATALOGUE)
