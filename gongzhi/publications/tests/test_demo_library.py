"""The demo loader of libraries and volunteers: real items through the services, downloadable files, teams with
members, past activities with hours (and the points they award), and loading twice adds nothing."""

import pytest

from gongzhi.demo import publications_library
from gongzhi.points.models import Award, Trigger
from gongzhi.publications import office
from gongzhi.publications.models import Attachment, Guide, Participation, Publication, ServiceLink, VolunteerTeam

pytestmark = pytest.mark.django_db


def test_the_demo_loads_libraries_and_volunteers_once(pub, points_world, media):
    made = publications_library.load([pub.tree["town"]], seed=7)
    counts = {kind: Publication.objects.filter(kind=kind, status="published").count()
              for kind in ("policy", "law", "template", "guide", "service_link", "volunteer_activity")}
    assert counts == {"policy": 6, "law": 5, "template": 8, "guide": 8, "service_link": 6,
                      "volunteer_activity": 10}
    assert made == sum(counts.values())
    assert Guide.objects.count() == 8 and all(g.materials for g in Guide.objects.all())
    assert all(link.url.startswith("https://") for link in ServiceLink.objects.all())
    types = set(Attachment.objects.values_list("content_type", flat=True))
    assert types == {office.DOCX, office.XLSX}
    assert VolunteerTeam.objects.filter(unit=pub.tree["village"]).count() == 11
    assert Participation.objects.filter(attended=True, hours__gt=0).exists()
    assert Award.objects.filter(rule_item__trigger=Trigger.VOLUNTEER_HOURS).exists()
    assert publications_library.load([pub.tree["town"]], seed=7) == 0
    assert Publication.objects.count() == made
