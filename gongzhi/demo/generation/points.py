"""The demo's points economy as data (no database): the goods of a village 爱心超市, the township's nine alliance
merchants (积分兑换联盟商家) and ten online shops (线上换购商铺), what residents write when they apply for points, what
administrators write when they give or deduct them, and how many of each a township gets (seed 000, 八里镇: 52
applications, 32 of them approved).

Like the generated addresses, these are data, not interface text: they read the same to everyone. Rule items are
named by a part of their name in the preset catalogue (`points.presets`); one the catalogue no longer has is
skipped, never an error.
"""

from __future__ import annotations

from typing import NamedTuple

# How long the history reaches back, in days.
HISTORY_DAYS = 150

# Seed 000: "线上申请积分52次，审核通过32次". The rest are decided (rejected, withdrawn) or still open.
CLAIM_OUTCOMES: dict[str, int] = {
    "approve": 30,            # approved within a few days
    "more_then_approve": 2,   # 补充材料 asked, supplied, then approved
    "reject": 6,
    "withdraw": 2,
    "more": 3,                # 补充材料 asked, not supplied yet
    "pending": 9,             # waiting for the village's review
}
DIRECT_AWARDS = 8            # given by the village administrator
TOWNSHIP_AWARDS = 2          # township items, given by the township's dispatcher
DEDUCTIONS = 3
CORRECTIONS = 1              # a direct award given twice by mistake, reversed the same day
CAPTURED = 11                # redemptions picked up
HELD = 2                     # waiting for pickup today (one of them the first demo resident's, at merchant 1)
CANCELLED = 1
EXPIRED = 1
PARTICIPANTS_PER_VILLAGE = 3  # households whose heads signed up and use the points (besides the demo residents)


class Goods(NamedTuple):
    name: str
    price: int  # points
    stock: int
    description: str = ""


class ShopPlan(NamedTuple):
    name: str  # "{town}" is the township's name without 镇/乡/街道
    hours: str
    goods: tuple[Goods, ...]
    address: str = ""  # "{town}" as above; empty for an online shop


_G = Goods

# A village's 爱心超市: each village stocks six to eight of these.
SUPERMARKET_GOODS: tuple[Goods, ...] = (
    _G("食盐", 5, 60), _G("洗衣皂", 5, 80), _G("牙膏", 8, 50), _G("毛巾", 10, 40), _G("洗洁精", 10, 40),
    _G("挂面2斤", 12, 60), _G("洗衣粉", 15, 40), _G("酱油醋套装", 15, 30), _G("大米5斤", 30, 30),
    _G("菜籽油1升", 40, 20), _G("面粉10斤", 45, 20), _G("暖水瓶", 60, 10),
)
SUPERMARKET_HOURS = "周一至周五 9:00-17:00"

ALLIANCE: tuple[ShopPlan, ...] = (
    ShopPlan("{town}惠民粮油店", "8:00-20:00", (
        _G("挂面5斤", 25, 60), _G("小米2斤", 20, 40), _G("大米10斤", 60, 30), _G("面粉25斤", 110, 20),
        _G("胡麻油5升", 180, 10, "本地压榨")), "{town}中街12号"),
    ShopPlan("{town}便民日用品超市", "7:30-21:00", (
        _G("牙刷牙膏套装", 12, 50), _G("毛巾两条", 15, 40), _G("卫生纸一提", 20, 60), _G("洗发水", 25, 30),
        _G("洗衣液", 30, 30)), "{town}中街26号"),
    ShopPlan("{town}丰收农资店", "7:00-19:00", (
        _G("劳保手套", 5, 100), _G("玉米种子1袋", 60, 30), _G("地膜1卷", 80, 20), _G("复合肥1袋", 150, 20)),
        "{town}农贸市场东侧"),
    ShopPlan("{town}巧手理发店", "8:30-19:30", (
        _G("洗头吹发", 8, 100), _G("老人理发", 10, 100, "70岁以上老人"), _G("理发一次", 20, 100)),
        "{town}南街3号"),
    ShopPlan("{town}鑫源五金店", "8:00-18:30", (
        _G("节能灯泡", 8, 80), _G("插线板", 25, 30), _G("铁锹", 30, 20), _G("锄头", 35, 20)),
        "{town}北街18号"),
    ShopPlan("{town}康宁药店", "8:00-21:00", (
        _G("创可贴", 5, 80), _G("医用口罩一盒", 10, 60), _G("体温计", 15, 30), _G("电子血压计", 200, 5)),
        "{town}中街40号"),
    ShopPlan("{town}鲜果蔬菜店", "6:30-20:00", (
        _G("土豆10斤", 15, 50), _G("时令水果3斤", 20, 40), _G("鸡蛋一板", 30, 30)), "{town}农贸市场内"),
    ShopPlan("{town}学子文具店", "7:30-19:00", (
        _G("作业本一打", 10, 60), _G("文具套装", 20, 40), _G("新华字典", 40, 20), _G("双肩书包", 80, 15)),
        "{town}中心小学对面"),
    ShopPlan("{town}诚信家电维修部", "8:30-18:00", (
        _G("手电筒", 15, 30), _G("小家电维修一次", 30, 50, "不含配件"), _G("电饭煲", 200, 5)),
        "{town}南街21号"),
)

ONLINE: tuple[ShopPlan, ...] = (
    ShopPlan("{town}积分商城·马铃薯特产馆", "线上下单，镇电商服务站自提", (
        _G("马铃薯淀粉2斤", 10, 80), _G("马铃薯粉条", 15, 80), _G("宽粉2斤", 20, 60), _G("土豆礼盒", 60, 20))),
    ShopPlan("{town}积分商城·陇中药材馆", "线上下单，镇电商服务站自提", (
        _G("黄芪片250克", 30, 40), _G("枸杞250克", 35, 40), _G("党参250克", 40, 30), _G("当归250克", 45, 30))),
    ShopPlan("{town}积分商城·家居日用", "线上下单，镇电商服务站自提", (
        _G("收纳箱", 30, 30), _G("拖把", 25, 30), _G("保温杯", 40, 30), _G("纯棉床单", 80, 15))),
    ShopPlan("{town}积分商城·图书文具", "线上下单，镇电商服务站自提", (
        _G("书法字帖", 10, 40), _G("农业实用技术手册", 15, 40), _G("儿童绘本", 20, 40), _G("新华字典", 40, 20))),
    ShopPlan("{town}积分商城·小家电", "线上下单，镇电商服务站自提", (
        _G("LED台灯", 60, 15), _G("电吹风", 70, 15), _G("电热水壶", 90, 10), _G("电饭煲", 200, 5))),
    ShopPlan("{town}积分商城·服装鞋帽", "线上下单，镇电商服务站自提", (
        _G("劳保手套", 5, 100), _G("棉袜三双", 15, 60), _G("遮阳帽", 20, 40), _G("老人布鞋", 60, 20))),
    ShopPlan("{town}积分商城·母婴用品", "线上下单，镇电商服务站自提", (
        _G("儿童牙刷", 5, 60), _G("婴儿湿巾", 10, 60), _G("奶瓶", 30, 20), _G("纸尿裤", 60, 20))),
    ShopPlan("{town}积分商城·农机配件", "线上下单，镇电商服务站自提", (
        _G("三角皮带", 30, 20), _G("机油4升", 80, 15), _G("三轮车轮胎", 150, 8))),
    ShopPlan("{town}积分商城·体育用品", "线上下单，镇电商服务站自提", (
        _G("跳绳", 8, 50), _G("乒乓球拍", 45, 20), _G("羽毛球拍", 50, 20), _G("篮球", 70, 15))),
    ShopPlan("{town}积分商城·清洁用品", "线上下单，镇电商服务站自提", (
        _G("洗碗布", 5, 80), _G("垃圾袋", 8, 80), _G("消毒液", 20, 40), _G("洗衣液", 30, 40))),
)


def town_short(name: str) -> str:
    """八里镇 → 八里, 城关街道 → 城关 (a shop's name starts with it)."""
    for suffix in ("街道", "镇", "乡"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name.removesuffix(suffix)
    return name


# What a resident writes with an application: (a part of the item's name, the note). Each has notes for an
# item residents may apply for; photo-required ones get a photo.
CLAIM_NOTES: tuple[tuple[str, str], ...] = (
    ("孝老敬亲", "照顾瘫痪在床的婆婆八年，端水喂饭、擦洗翻身从不间断，村民小组出具了证明。"),
    ("好媳妇", "本人今年被评为县级“好媳妇”，附荣誉证书照片。"),
    ("文艺演出", "参加了村里组织的广场舞展演，附活动照片。"),
    ("文明实践", "参加了村新时代文明实践站的道德讲堂，附签到照片。"),
    ("移风易俗", "儿子结婚没有要彩礼，酒席只办了八桌，村红白理事会可以证明。"),
    ("考入大学", "女儿今年考上了兰州大学，附录取通知书照片。"),
    ("邻里和睦", "帮助调解了邻居两家因宅基地界线引起的矛盾，两家都已签字认可。"),
    ("家风家训", "家风家训已制作上墙，附照片。"),
    ("农家书屋", "参加了农家书屋组织的读书分享会，附活动照片。"),
    ("特色种植", "今年种植中药材黄芪12亩，达到村里规定的规模，附现场照片。"),
    ("技术培训", "参加了镇上组织的马铃薯种植技术培训，附签到表照片。"),
    ("合作社", "已加入村马铃薯种植专业合作社，按时参加合作社经营。"),
    ("缴纳新农合", "全家5口人已按时缴纳今年的新农合和养老保险。"),
    ("村民（代表）大会", "参加了本月的村民代表大会和村民说事。"),
    ("合理化建议", "建议在村道急弯处加装凸面镜，已被村委会采纳并安装。"),
    ("志愿服务", "参加了村里组织的敬老院志愿服务，附活动照片。"),
    ("应急值守", "汛期参加了村里的防汛值守，连续值班三晚，附照片。"),
    ("投工投劳", "参加了村道硬化投工投劳两天，附照片。"),
    ("美丽庭院", "本户在村里的评比中被评为“清洁户”。"),
    ("门前三包", "门前三包落实到位，院内外干净整洁，附照片。"),
    ("垃圾分类", "坚持垃圾分类、定点投放，附照片。"),
    ("义务植树", "参加了村里的春季义务植树，附活动照片。"),
    ("厕所革命", "已完成户厕改造，附改造后照片。"),
    ("劝阻焚烧", "劝阻了邻居在地头焚烧秸秆，网格员可以证明。"),
    ("职业技能等级证书", "取得了中式面点师职业技能等级证书，附证书照片。"),
    ("传授种养殖技术", "给村里6户养殖户义务传授了肉羊养殖技术，附照片。"),
    ("义务巡逻", "参加了村里组织的夜间义务巡逻。"),
    ("调解成功", "协助村调委会调解一起赡养纠纷，已签订调解协议。"),
    ("禁毒、反诈", "参加了镇派出所在村里开展的反诈宣传活动，附照片。"),
    ("反诈中心", "已安装“国家反诈中心”App并完成注册，附截图。"),
    ("劝阻、报告安全隐患", "发现村道旁电线杆倾斜，及时报告村委会并劝阻行人绕行，附照片。"),
    ("无偿献血", "参加了县血站的无偿献血，附献血证照片。"),
    ("捐资助学", "向村里两名困难学生捐助学费1000元，附捐赠凭证。"),
)

# 驳回 reasons and 补充材料 requests of a reviewer, and what the resident adds.
REJECT_NOTES = (
    "照片与申请事项不符，请核实后重新申请。",
    "经村民小组核实，该事迹与实际情况不符。",
    "该事项本年度已由村里统一申报，不再个人申请。",
    "缺少村民小组证明，材料不全，请补齐后重新申请。",
)
MORE_NOTES = (
    "请补充活动现场照片。",
    "请上传村民小组长签字的证明。",
    "请补充说明参加的时间和地点。",
)
SUPPLEMENT_NOTE = "已补充村民小组长签字的证明照片。"
APPROVE_NOTES = ("", "", "情况属实，同意。", "经网格员核实，同意给予积分。")

# Direct awards and deductions: (a part of the item's name, the administrator's reason).
DIRECT_AWARD_REASONS: tuple[tuple[str, str], ...] = (
    ("美丽庭院", "村“清洁户”评比：本户庭院整洁，评为本季度清洁户。"),
    ("邻里和睦", "主动调解邻里纠纷，网格员核实。"),
    ("缴纳新农合", "全家按时缴纳新农合、养老保险，村里统一录入。"),
    ("无违法犯罪记录", "经网格员核实，全年无矛盾纠纷。"),
    ("捐资助学", "为村小学捐赠图书和文具，村委会核实。"),
    ("积极配合人口普查", "积极配合入户走访登记，网格员核实。"),
    ("义务巡逻", "参加村里组织的义务巡逻，巡逻记录为证。"),
    ("村民小组长", "担任村民小组长并认真履职。"),
)
TOWNSHIP_AWARD_REASONS: tuple[tuple[str, str], ...] = (
    ("好媳妇", "被评为县级“五好家庭”，镇妇联推荐。"),
    ("见义勇为", "跳入水渠救起落水儿童，经镇综治中心认定为见义勇为。"),
    ("先进个人", "被评为县级“优秀网格员志愿者”。"),
)
DEDUCTION_REASONS: tuple[tuple[str, str], ...] = (
    ("乱倒垃圾", "多次将生活垃圾倒入村边水渠，网格员劝阻后仍未改正，附现场照片。"),
    ("不参加、干扰村民大会", "在村民代表大会上无理取闹，干扰会议进行。"),
    ("违反村规民约", "违反村规民约在村道上晾晒粮食，占道影响通行，经村民代表会议认定。"),
)
CORRECTION_REASON = "重复录入，更正。"
