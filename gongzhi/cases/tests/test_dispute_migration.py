"""Migration 0010 carries existing dispute records over: a session's one mediator becomes its recorder and
mediator, its agreement file an agreement record; free-text roles become choices. And back again."""

import datetime
import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = ("cases", "0009_assignment_person")
AFTER = ("cases", "0010_dispute_records")


def migrate(cases_target):
    """Cases at `cases_target`, every other app at its newest migration that needs no later one of cases (an
    app linking to a newer cases table stays behind it); the models as they were then."""
    executor = MigrationExecutor(connection)
    graph = executor.loader.graph
    allowed = set(graph.forwards_plan(cases_target))
    targets = [cases_target]
    for node in graph.leaf_nodes():
        if node[0] == "cases":
            continue
        app = node[0]
        while node is not None and any(n[0] == "cases" and n not in allowed for n in graph.forwards_plan(node)):
            node = next((p for p in graph.node_map[node].parents if p[0] == app), None)
        targets.append(node or (app, None))
    executor.migrate(targets)
    executor = MigrationExecutor(connection)
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


@pytest.mark.django_db(transaction=True)
def test_existing_sessions_agreements_and_roles_are_carried_over_and_back():
    old = migrate(BEFORE)
    user = old.get_model("accounts", "User").objects.create(username="sifa", kind="staff")
    unit = old.get_model("org", "OrgUnit").objects.create(name="八里镇", code="621102101", level="township",
                                                          path="621102101/")
    category = old.get_model("cases", "Category").objects.create(code="d-test", name="纠纷", kind="dispute",
                                                                 is_public=False)
    case = old.get_model("cases", "Case").objects.create(
        client_id=uuid.uuid4(), category=category, category_version=1, description="纠纷", area_path=unit.path,
        holder=unit, source="resident")
    Party = old.get_model("cases", "DisputeParty")
    for name, role in (("甲", "申请人"), ("乙", "被申请人"), ("丙", "证人"), ("丁", "")):
        Party.objects.create(case=case, name=name, role=role)
    Session = old.get_model("cases", "MediationSession")
    held_on = datetime.date(2026, 3, 2)
    with_file = Session.objects.create(case=case, kind="people", mediator=user, held_on=held_on, outcome="agreed",
                                       agreement="mediation/2026/a.pdf")
    without = Session.objects.create(case=case, kind="people", mediator=user, held_on=held_on, outcome="failed")

    try:
        new = migrate(AFTER)
        roles = dict(new.get_model("cases", "DisputeParty").objects.values_list("name", "role"))
        assert roles == {"甲": "applicant", "乙": "respondent", "丙": "party", "丁": "party"}
        sessions = new.get_model("cases", "MediationSession").objects
        for pk in (with_file.pk, without.pk):
            session = sessions.get(pk=pk)
            assert session.recorded_by_id == user.pk and list(session.mediators.values_list("pk", flat=True)) == [
                user.pk]
        agreement = new.get_model("cases", "MediationAgreement").objects.get()
        assert (agreement.session_id, agreement.case_id, agreement.file.name) == (
            with_file.pk, case.pk, "mediation/2026/a.pdf")
        assert (agreement.signed_on, agreement.follow_up_on) == (held_on, datetime.date(2026, 4, 1))

        back = migrate(BEFORE)
        assert back.get_model("cases", "MediationSession").objects.get(pk=with_file.pk).agreement.name == (
            "mediation/2026/a.pdf")
        assert dict(back.get_model("cases", "DisputeParty").objects.values_list("name", "role")) == {
            "甲": "申请人", "乙": "被申请人", "丙": "", "丁": ""}
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
