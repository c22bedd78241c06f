from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from gongzhi.core.errors import DomainError
from gongzhi.org.services import GridImportError, import_grids


class Command(BaseCommand):
    # A property, where the stubs declare a plain attribute: argparse needs a plain str, and the language is
    # only known at run time.
    @property
    def help(self) -> str:  # type: ignore[override]
        return _(
            "从 GeoJSON 文件导入网格边界（WGS84 经纬度）。文件是一个 FeatureCollection，每个要素的 geometry "
            "为 Polygon 或 MultiPolygon，properties 包含 code（网格编码）、name（网格名称）和 parent_code"
            "（所属村(社区)的编码）。编码已存在的网格会更新名称和边界。先检查全部要素，有任何错误就列出错误、"
            "不做任何更改并以非零状态退出。格式详见 docs/grids.md。"
        )

    def add_arguments(self, parser):
        parser.add_argument("file", help=_("GeoJSON 文件路径"))
        parser.add_argument("--dry-run", action="store_true",
                            help=_("只检查并统计，不写入数据库"))

    def handle(self, *args, file, dry_run, **options):
        bar = None

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                bar = tqdm(total=total, desc=_("写入网格"), unit="", disable=options["verbosity"] < 1)
            bar.update(1)

        try:
            result = import_grids(scope=None, geojson=file, dry_run=dry_run, progress=progress)
        except GridImportError as exc:
            for line in exc.errors:
                self.stderr.write(line)
            message = _("导入失败：发现%(count)d处错误，没有做任何更改。") % {"count": len(exc.errors)}
            raise CommandError(message) from None
        except DomainError as exc:
            raise CommandError(str(exc.message)) from None
        finally:
            if bar is not None:
                bar.close()
        if result.dry_run:
            message = _("检查通过（未写入）：将新增%(created)d个网格，更新%(updated)d个网格。")
        else:
            message = _("导入完成：新增%(created)d个网格，更新%(updated)d个网格。")
        counts = {"created": result.created, "updated": result.updated}
        self.stdout.write(self.style.SUCCESS(message % counts))
