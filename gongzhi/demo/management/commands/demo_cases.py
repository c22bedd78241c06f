from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from gongzhi.analytics import rollups, services
from gongzhi.cases.models import Case
from gongzhi.cases.workflow import Status
from gongzhi.demo.cases import DEFAULT_SEED, make_demo_cases
from gongzhi.demo.tasks import make_demo_tasks


class Command(BaseCommand):
    help = _("为演示乡镇生成约五十件示例事件，涵盖办理流程的各个状态；数据库中已有事件时不生成。")

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=_("随机种子"))

    def handle(self, *args, seed, **options):
        try:
            made = make_demo_cases(seed=seed)
            tasks = make_demo_tasks()
        except LookupError as exc:  # the township lacks the posts or residents the stories need
            raise CommandError(str(exc)) from None
        # The demo opens with its figures, map colours and risk warnings in place, not later from the task worker.
        rollups.catch_up(budget_seconds=float("inf"))
        services.refresh_grid_states()
        services.refresh_warnings()
        # The count first, then how many are in each state (labels the interface already translates).
        self.stdout.write(f"{_('全部事件')} {made}")
        if tasks:
            self.stdout.write(f"{_('任务清单')} {tasks}")
        if made and options["verbosity"] >= 1:
            counts = {status: Case.objects.filter(status=status).count() for status in Status.values}
            for status, label in Status.choices:
                if counts[status]:
                    self.stdout.write(f"  {label} {counts[status]}")
