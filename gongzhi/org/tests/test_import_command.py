import json

import pytest
from django.core.management import CommandError, call_command

from gongzhi.org.factories import square
from gongzhi.org.models import OrgUnit

pytestmark = pytest.mark.django_db


def write(tmp_path, *features):
    path = tmp_path / "grids.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": code, "name": name, "parent_code": parent},
         "geometry": geometry} for code, name, parent, geometry in features]}, ensure_ascii=False))
    return path


def test_command_imports_and_prints_a_summary(tree, tmp_path, capsys):
    path = write(tmp_path, ("621102101202002", "大湾村第2网格", "621102101202", square(104.61, 35.59)))
    call_command("import_grids", str(path), verbosity=0)
    assert "导入完成：新增1个网格，更新0个网格" in capsys.readouterr().out
    assert OrgUnit.objects.get(code="621102101202002").parent == tree["village2"]


def test_command_dry_run_writes_nothing(tree, tmp_path, capsys):
    path = write(tmp_path, ("621102101202002", "大湾村第2网格", "621102101202", square(104.61, 35.59)))
    call_command("import_grids", str(path), "--dry-run", verbosity=0)
    assert "将新增1个网格" in capsys.readouterr().out
    assert not OrgUnit.objects.filter(code="621102101202002").exists()


def test_command_lists_errors_fails_and_changes_nothing(tree, tmp_path, capsys):
    path = write(tmp_path,
                 ("621102101202002", "大湾村第2网格", "621102101202", square(104.61, 35.59)),
                 ("621102101202003", "压线", "621102101202", square(104.601, 35.578, 0.005)))
    count = OrgUnit.objects.count()
    with pytest.raises(CommandError, match="发现1处错误，没有做任何更改"):
        call_command("import_grids", str(path), verbosity=0)
    assert "第2个要素（编码 621102101202003）：与已有网格「小山村第1网格」" in capsys.readouterr().err
    assert OrgUnit.objects.count() == count


def test_command_reports_an_unreadable_file(tree, tmp_path):
    with pytest.raises(CommandError, match="无法读取文件"):
        call_command("import_grids", str(tmp_path / "missing.geojson"), verbosity=0)


def test_command_help_describes_the_file_format():
    from gongzhi.org.management.commands.import_grids import Command

    text = Command().create_parser("gongzhi", "import_grids").format_help()
    assert "parent_code" in text and "--dry-run" in text
