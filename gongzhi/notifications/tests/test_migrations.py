"""Messages written before notifications pointed at objects keep opening their page after the upgrade."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from gongzhi.notifications.tests.helpers import make_user


@pytest.mark.django_db(transaction=True)
def test_old_links_become_targets():
    user = make_user("alice")
    executor = MigrationExecutor(connection)
    before = [("notifications", "0001_initial")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("notifications", "Notification")
    links = {"/cases/12/": ("case", 12), "/command/cases/7/": ("case", 7), "/worker/cases/9/": ("case", 9),
             "/command/": ("cases.due", None), "/privacy/": ("", None), "": ("", None)}
    ids = {link: old.objects.create(recipient_id=user.pk, kind="case.accepted", title="t", link=link).pk
           for link in links}
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    from gongzhi.notifications.models import Notification

    got = {link: tuple(Notification.objects.filter(pk=pk).values_list("target_type", "target_id").get())
           for link, pk in ids.items()}
    assert got == links
