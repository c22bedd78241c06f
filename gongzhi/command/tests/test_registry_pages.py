"""一标三实 in the command portal: the hub, the lists with their filters, record pages, and forms only for
those who may edit."""

import pytest
from django.urls import reverse

from gongzhi.accounts.models import Role
from gongzhi.registry.models import Establishment
from gongzhi.registry.tests.records_helpers import add_household, add_person, group, make_cast, new_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(tree, make_staff):
    return make_cast(tree, make_staff)


@pytest.fixture
def records(tree):
    home = add_household(tree["grid"], "A-1", "小山村一社1号")
    head = add_person(tree["grid"], "王伟", household=home, relation="head", phone="13900000001")
    head.groups.add(group("dibao"))
    far = add_person(tree["other_grid"], "赵六", id_number=new_id())
    shop = Establishment.objects.create(grid=tree["grid"], name="幸福超市", kind="shop")
    return {"home": home, "head": head, "far": far, "shop": shop}


def lst(kind, query=""):
    return reverse("command:registry_list", args=[kind]) + query


def test_the_nav_links_to_the_hub_which_searches_by_post(client, cast, records):
    client.force_login(cast["dispatcher"])
    page = client.get(reverse("command:home")).content.decode()
    assert reverse("command:registry") in page and "一标三实" in page
    hub = client.get(reverse("command:registry")).content.decode()
    assert 'method="post"' in hub and reverse("command:registry_search") in hub
    assert reverse("command:registry_resident_new") not in hub  # a dispatcher may not add records
    found = client.post(reverse("command:registry_search"), {"q": records["head"].id_number.reveal()})
    assert reverse("command:registry_resident", args=[records["head"].pk]) in found.content.decode()


def test_lists_filter_in_scope_and_never_500(client, tree, cast, records):
    client.force_login(cast["dispatcher"])
    people = client.get(lst("people")).content.decode()
    assert "王伟" in people and "赵六" not in people and "13900000001" not in people
    dibao = group("dibao").pk
    assert "王伟" in client.get(lst("people", f"?group={dibao}&area={tree['village'].pk}")).content.decode()
    assert "王伟" not in client.get(lst("people", "?residence_type=floating")).content.decode()
    bad = client.get(lst("people", f"?area={tree['other_village'].pk}&status=zzz"))
    assert bad.status_code == 200 and "已忽略该条件" in bad.content.decode() and "王伟" in bad.content.decode()
    by_number = client.get(lst("people", "?q=" + records["head"].id_number.reveal())).content.decode()
    assert "请在“查找”中查询" in by_number
    for kind in ("households", "houses", "units", "addresses"):
        assert client.get(lst(kind)).status_code == 200
    assert "幸福超市" in client.get(lst("units", "?kind=shop")).content.decode()
    assert client.get(lst("cars")).status_code == 404


def test_a_dispatcher_reads_records_but_gets_no_forms(client, tree, cast, records):
    client.force_login(cast["dispatcher"])
    head = records["head"]
    page = client.get(reverse("command:registry_resident", args=[head.pk])).content.decode()
    assert "139****0001" in page and reverse("command:registry_resident_edit", args=[head.pk]) not in page
    home = client.get(reverse("command:registry_household", args=[records["home"].pk])).content.decode()
    assert "王伟" in home and "户主" in home
    assert client.get(reverse("command:registry_resident_edit", args=[head.pk])).status_code == 403
    assert client.get(reverse("command:registry_resident_new")).status_code == 404
    assert client.get(reverse("command:registry_resident", args=[records["far"].pk])).status_code == 404


def test_a_system_administrator_edits_from_the_desk(client, tree, make_staff, records):
    admin = make_staff("sysadmin", tree["city"], Role.SYSTEM_ADMIN)
    client.force_login(admin)
    form = client.get(reverse("command:registry_unit_edit", args=[records["shop"].pk]))
    assert form.status_code == 200 and "幸福超市" in form.content.decode()
    response = client.post(reverse("command:registry_unit_edit", args=[records["shop"].pk]), {
        "grid": tree["grid"].pk, "name": "幸福超市", "kind": "shop", "status": "open", "staff_count": "4"})
    assert response.status_code == 302
    records["shop"].refresh_from_db()
    assert records["shop"].staff_count == 4
    page = client.get(reverse("command:registry_unit", args=[records["shop"].pk])).content.decode()
    assert "从业人数" in page and "sysadmin" in page  # the history names who changed it
