"""`gongzhi serve` collects static files before it starts, and only when their sources changed."""

import pytest
from django.test import override_settings
from gunicorn.app.base import BaseApplication

from gongzhi import cli
from gongzhi import settings as production
from gongzhi.cli import staticfiles


@pytest.fixture
def sources(tmp_path):
    """One source folder (no app's static files, to stay quick), collected as production collects it."""
    source = tmp_path / "src"
    (source / "css").mkdir(parents=True)
    (source / "css" / "site.css").write_text("body { background: url(../img/dot.svg); }\n" * 50)
    (source / "img").mkdir()
    (source / "img" / "dot.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    root = tmp_path / "static"
    with override_settings(STATICFILES_DIRS=[source], STATIC_ROOT=root, STORAGES=production.STORAGES,
                           STATICFILES_FINDERS=["django.contrib.staticfiles.finders.FileSystemFinder"]):
        yield source, root


def test_collects_hashed_and_compressed_files_once(sources):
    source, root = sources
    assert staticfiles.ensure_collected()
    hashed = sorted(p.name for p in (root / "css").iterdir() if p.name.startswith("site."))
    assert len(hashed) == 6  # site.css and site.<hash>.css, each also .gz and .br
    assert {p.rsplit(".", 1)[-1] for p in hashed} == {"css", "gz", "br"}
    # Nothing of ours lands where it would be served.
    assert not [p for p in root.rglob(".*")]
    assert not staticfiles.ensure_collected()


def test_collects_again_when_a_source_changes_or_the_manifest_is_gone(sources):
    source, root = sources
    staticfiles.ensure_collected()
    (source / "css" / "site.css").write_text("body { color: red; }\n" * 50)
    assert staticfiles.ensure_collected()
    assert "color: red" in (root / "css" / "site.css").read_text()
    assert not staticfiles.ensure_collected()
    (source / "img" / "new.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    assert staticfiles.ensure_collected()
    (root / "staticfiles.json").unlink()
    assert staticfiles.ensure_collected()
    assert (root / "staticfiles.json").exists()


def test_serve_collects_before_the_application_loads(monkeypatch):
    steps = []
    monkeypatch.setattr(staticfiles, "ensure_collected", lambda: steps.append("collect"))
    monkeypatch.setattr(BaseApplication, "run", lambda self: steps.append("run"))
    assert cli.main(["serve", "--port", "8123"]) == 0
    assert steps == ["collect", "run"]
