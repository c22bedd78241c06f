"""`gongzhi check-ledger`: verify the points ledger (hash chain, pairs, balances, holds); exit 1 if broken."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from gongzhi.points.services.checks import run_check


class Command(BaseCommand):
    help = _("核验积分账本：哈希链、借贷成对、余额与流水合计、冻结积分；发现异常时以状态1退出")

    def handle(self, *args: object, **options: object) -> None:
        report, _check = run_check()
        self.stdout.write(_("已核验%(n)d条流水，用时%(s).2f秒。") % {"n": report.entries, "s": report.seconds})
        if report.ok:
            self.stdout.write(_("账本完整：哈希链、借贷成对、余额均一致。"))
            return
        if report.first_broken_seq is not None:
            self.stderr.write(_("第一条异常流水：第%(seq)d条。") % {"seq": report.first_broken_seq})
        for problem in report.problems:
            self.stderr.write(f"- {problem}")
        raise CommandError(_("积分账本核验未通过。"), returncode=1)
