"""core.jobs: a long job's life (queued → running → done / needs_choice / failed), its throttled progress,
owner-only reads and files, and the sweep that removes old files and fails jobs whose worker died."""

import datetime
import io

import pytest
import time_machine
from django.utils import timezone

from gongzhi.accounts.models import Role
from gongzhi.core import jobs
from gongzhi.core.errors import Conflict, NotFound
from gongzhi.core.models import Job

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def owner(tree, make_staff):
    return make_staff("owner", tree["village"], Role.VILLAGE_ADMIN)


def new_job(owner, **kwargs) -> Job:
    return jobs.create_job(owner=owner, kind="test.job", params={"a": 1}, upload=io.BytesIO(b"PK\x03\x04data"),
                           input_name="人口.xlsx", **kwargs)


def test_a_job_keeps_its_upload_privately_under_a_fresh_name(owner, media):
    job = new_job(owner)
    assert job.status == Job.Status.QUEUED and job.params == {"a": 1} and job.input_name == "人口.xlsx"
    assert job.input_file.name.startswith("jobs/") and job.input_file.name.endswith(".xlsx")
    assert "人口" not in job.input_file.name
    assert (media / job.input_file.name).read_bytes() == b"PK\x03\x04data"


def test_a_job_is_claimed_once(owner):
    job = new_job(owner)
    claimed = jobs.claim(job.pk)
    assert claimed is not None and claimed.status == Job.Status.RUNNING and claimed.started_at is not None
    assert jobs.claim(job.pk) is None  # a task delivered twice does nothing


def test_progress_is_written_at_most_every_interval_and_at_once_on_a_new_phase(owner, monkeypatch):
    job = jobs.claim(new_job(owner).pk)
    clock = [100.0]
    monkeypatch.setattr(jobs.time, "monotonic", lambda: clock[0])
    progress = jobs.Progress(job, every=0.5)
    progress.start("检查", total=1000)
    job.refresh_from_db()
    assert (job.phase, job.done, job.total, job.percent) == ("检查", 0, 1000, 0)
    progress.advance(100)
    clock[0] += 0.2
    progress.advance(100)
    job.refresh_from_db()
    assert job.done == 0  # within the interval: nothing written
    clock[0] += 0.4
    progress.advance(50)
    job.refresh_from_db()
    assert (job.done, job.percent) == (250, 25)
    progress.start("写入", total=10)
    job.refresh_from_db()
    assert (job.phase, job.done, job.total) == ("写入", 0, 10)


def test_the_outcomes(owner):
    done = jobs.claim(new_job(owner).pk)
    jobs.finish(done, summary={"rows": 3}, result=io.BytesIO(b"result"), message="完成")
    done.refresh_from_db()
    assert done.status == Job.Status.DONE and done.is_finished and done.summary == {"rows": 3}
    assert done.result_file.read() == b"result"

    waiting = jobs.claim(new_job(owner).pk)
    jobs.needs_choice(waiting, summary={"clean_rows": 2}, errors=io.BytesIO(b"errors"), message="有错误")
    waiting.refresh_from_db()
    assert waiting.status == Job.Status.NEEDS_CHOICE and waiting.error_file.read() == b"errors"
    assert jobs.requeue(waiting, params={"clean_rows_only": True})
    assert waiting.status == Job.Status.QUEUED and waiting.params == {"a": 1, "clean_rows_only": True}
    assert not jobs.requeue(waiting, params={})  # not waiting any more: nothing queued twice

    failed = jobs.claim(new_job(owner).pk)
    jobs.fail(failed.pk, "文件无法读取")
    failed.refresh_from_db()
    assert failed.status == Job.Status.FAILED and failed.message == "文件无法读取" and failed.finished_at


def test_only_the_owner_sees_a_job_and_its_files(owner, tree, make_staff):
    job = jobs.claim(new_job(owner).pk)
    jobs.finish(job, summary={}, result=io.BytesIO(b"result"))
    other = make_staff("other", tree["village"], Role.VILLAGE_ADMIN)
    assert jobs.job_for(owner, job.pk) == job
    with pytest.raises(NotFound):
        jobs.job_for(other, job.pk)
    with pytest.raises(NotFound):
        jobs.job_for(owner, job.pk, kinds=["another.kind"])
    served = jobs.job_file(owner, job.pk, "result", download_name="人口.xlsx")
    assert served.download_name == "人口.xlsx" and served.as_attachment
    assert served.content_type == jobs.XLSX
    for user, which in ((other, "result"), (owner, "error"), (owner, "input")):
        with pytest.raises(NotFound):
            jobs.job_file(user, job.pk, which, download_name="x.xlsx")
    assert jobs.recent_jobs(owner, kinds=["test.job"]) == [job]
    assert jobs.recent_jobs(other, kinds=["test.job"]) == []


def test_the_sweep_removes_week_old_files_and_fails_jobs_whose_worker_died(owner, media):
    with time_machine.travel(T0, tick=False):
        old = jobs.claim(new_job(owner).pk)
        jobs.finish(old, summary={}, result=io.BytesIO(b"result"))
        stale = jobs.claim(new_job(owner).pk)
        jobs.Progress(stale).start("检查", total=10)
        lost = new_job(owner)  # queued, never started
    with time_machine.travel(T0 + datetime.timedelta(minutes=20), tick=False):
        busy = jobs.claim(new_job(owner).pk)
        jobs.Progress(busy).start("写入", total=10)
    with time_machine.travel(T0 + datetime.timedelta(minutes=45), tick=False):
        result = jobs.sweep()
    assert result.stale_failed == 2 and result.files_removed == 0
    stale.refresh_from_db(), lost.refresh_from_db(), busy.refresh_from_db()
    assert stale.status == Job.Status.FAILED and "中断" in stale.message
    assert lost.status == Job.Status.FAILED and busy.status == Job.Status.RUNNING

    files = [media / old.input_file.name, media / old.result_file.name]
    assert all(f.exists() for f in files)
    with time_machine.travel(T0 + datetime.timedelta(days=7, minutes=1), tick=False):
        from gongzhi.core import tasks

        assert tasks.sweep_jobs.call_local()["files_removed"] >= 2
        assert jobs.sweep().files_removed == 0  # nothing left to do
    old.refresh_from_db()
    assert not old.input_file and not old.result_file and old.status == Job.Status.DONE
    assert not any(f.exists() for f in files)


def test_a_job_whose_files_are_gone_cannot_run_again(owner):
    job = jobs.claim(new_job(owner).pk)
    jobs.needs_choice(job, summary={}, errors=io.BytesIO(b"e"))
    Job.objects.filter(pk=job.pk).update(input_file="")
    job.refresh_from_db()
    with pytest.raises(Conflict):
        jobs.requeue(job, params={})
    assert timezone.now()
