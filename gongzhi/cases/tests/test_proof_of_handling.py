"""Proof of handling (M7): every step may carry photos; 办结 carries 处置前/处置后 ones, which a category may
require; uploaded first (checked like a report's), taken by token in the step's transaction."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from gongzhi.cases import categories, selectors, services
from gongzhi.cases.factories import act, report
from gongzhi.cases.models import Attachment, CaseLog, Category
from gongzhi.cases.tests.helpers import dispatched
from gongzhi.cases.workflow import Action, Status
from gongzhi.core.errors import DomainError

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def photo(colour) -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (800, 600), colour).save(buf, "JPEG")
    return SimpleUploadedFile("p.jpg", buf.getvalue(), content_type="image/jpeg")


def token(user, colour) -> str:
    return services.upload_photo(actor=user, upload=photo(colour))[0].token


@pytest.fixture
def in_progress(tree, people, cats):
    case = dispatched(people, tree, report(people["resident"], cats["env"]))
    return act(people["justice"], case, Action.SIGN)


def test_completion_keeps_the_before_and_after_photos_with_its_step(people, in_progress):
    before, after = token(people["justice"], (90, 90, 90)), token(people["justice"], (20, 160, 20))
    case = services.take_action(actor=people["justice"], case=in_progress, action=Action.COMPLETE, note="已修复",
                                photo_tokens=[("before", before), ("after", after)]).case
    assert case.status == Status.HANDLED
    log = CaseLog.objects.get(case=case, action=Action.COMPLETE)
    assert sorted(Attachment.objects.filter(log=log).values_list("stage", flat=True)) == ["after", "before"]
    assert [a.stage for a in selectors.step_files(case)[log.seq].photos] == ["before", "after"]  # 处置前 first
    assert selectors.report_attachments(case) == []  # the report sent none; the step's are not the report's


def test_a_category_may_require_the_after_photo_and_refusals_change_nothing(people, in_progress):
    Category.objects.filter(pk=categories.lineage(in_progress.category)[-1].pk).update(after_photo_required=True)
    categories.bump()
    before = token(people["justice"], (90, 90, 90))
    with pytest.raises(DomainError) as err:
        services.take_action(actor=people["justice"], case=in_progress, action=Action.COMPLETE, note="已修复",
                             photo_tokens=[("before", before)])
    assert err.value.field == "after_photos"
    theirs = token(people["resident"], (1, 2, 3))
    for tokens, field in [([("after", theirs)], "photos"), ([("sideways", before)], "photos"),
                          ([("after", "no-such-token")], "photos")]:
        with pytest.raises(DomainError) as err:
            services.take_action(actor=people["justice"], case=in_progress, action=Action.COMPLETE, note="已修复",
                                 photo_tokens=tokens)
        assert err.value.field == field
    in_progress.refresh_from_db()
    assert in_progress.status == Status.IN_PROGRESS and not Attachment.objects.exists()
    after = token(people["justice"], (20, 160, 20))
    services.take_action(actor=people["justice"], case=in_progress, action=Action.COMPLETE, note="已修复",
                         photo_tokens=[("after", after)])


def test_the_handler_completes_with_photos_from_the_case_page(client, people, in_progress):
    client.force_login(people["justice"])
    response = client.post(f"/command/cases/{in_progress.pk}/complete/", {
        "complete-note": "已修复", "complete-before_photos": [photo((90, 90, 90))],
        "complete-after_photos": [photo((20, 160, 20)), photo((20, 170, 20))]})
    assert response.status_code == 302
    page = client.get(f"/command/cases/{in_progress.pk}/").content.decode()
    assert page.count('class="step-photos"') == 1 and page.count("<figcaption>处置后</figcaption>") == 2
    assert Attachment.objects.filter(case=in_progress, stage="after").count() == 2


def test_the_api_takes_step_photos_by_token_and_lists_them_with_their_step(people, in_progress, client):
    client.force_login(people["justice"])
    uploaded = client.post("/api/cases/photos", {"photo": photo((20, 160, 20))}, HTTP_X_CSRFTOKEN="x")
    assert uploaded.status_code == 201
    done = client.post(f"/api/cases/{in_progress.pk}/actions", {
        "action": "complete", "note": "已修复", "after_photo_tokens": [uploaded.json()["token"]]},
        content_type="application/json")
    assert done.status_code == 200, done.content
    detail = client.get(f"/api/cases/{in_progress.pk}").json()
    step = CaseLog.objects.get(case=in_progress, action=Action.COMPLETE).seq
    assert [(a["stage"], a["step"]) for a in detail["attachments"]] == [("after", step)]
