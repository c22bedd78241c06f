from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from gongzhi.core.errors import DomainError
from gongzhi.demo.generate import DEFAULT_SEED, demo_logins, generate
from gongzhi.demo.generation.plan import SCALES


class Command(BaseCommand):
    help = _("生成演示或压力测试数据：township(八里镇，演示)、county(一个县)、city(兰州市，压力测试)。"
             "同一个 --seed 生成完全相同的数据。只能用于空数据库。")

    def add_arguments(self, parser):
        # "tiny" is accepted for tests but not advertised.
        parser.add_argument("--scale", choices=list(SCALES), default="township",
                            metavar="{township,county,city}", help=_("数据规模"))
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=_("随机种子"))
        parser.add_argument("--no-progress", action="store_true", help=_("不显示进度条"))

    def handle(self, *args, scale, seed, no_progress, **options):
        try:
            summary = generate(scale=scale, seed=seed, progress=not no_progress)
        except DomainError as exc:
            raise CommandError(str(exc.message)) from None
        if options["verbosity"] < 1:
            return
        out = self.stdout
        out.write(_("已生成 %(scale)s 规模数据(种子 %(seed)d)，用时 %(s).1f 秒：") % {
            "scale": scale, "seed": seed, "s": summary.seconds})
        out.write(_("  组织单元 %(units)d 个(网格 %(grids)d 个)，户 %(households)d，居民 %(residents)d"
                    "(流动人口 %(floating)d)，账号 %(users)d，岗位 %(memberships)d。") % vars(summary))
        out.write(_("  标准地址 %(addresses)d，房屋 %(houses)d(出租 %(rented_houses)d，租客 %(tenancies)d)，"
                    "单位 %(establishments)d，重点人员 %(key_persons)d。") % vars(summary))
        out.write(_("  积分：细则事项 %(point_items)d，商铺 %(point_shops)d，参与积分的户 %(point_users)d，"
                    "积分申请 %(claims)d(通过 %(claims_approved)d)，"
                    "兑换 %(redemptions)d(已领取 %(redemptions_captured)d)。") % vars(summary))
        out.write(_("  公开事务 %(publications)d 条。") % vars(summary))
        out.write("")
        out.write(_("演示账号(工作人员密码均为下表所示；居民用身份证号加短信验证码登录，开发环境的验证码见短信调试页)："))
        for login in demo_logins(scale, seed):
            if login["id_number"]:
                out.write(_("  %(role)s  %(name)s  身份证号 %(id_number)s  手机 %(phone)s  "
                            "(%(unit)s；可见：%(sees)s)") % login)
            else:
                out.write(_("  %(role)s  用户名 %(username)s  密码 %(password)s  "
                            "(%(unit)s；可见：%(sees)s)") % login)
