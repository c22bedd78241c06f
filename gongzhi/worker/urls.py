from django.urls import path

from gongzhi.web import (
    cadre_visits,
    cases,
    disputes,
    inbox,
    jobs,
    pii,
    points_admin,
    points_review,
    publications,
    registry,
    registry_io,
    tasks,
)
from gongzhi.web.access import portal_required
from gongzhi.web.report import photo_upload
from gongzhi.worker import fieldwork_views, key_person_views, registry_views, views

app_name = "worker"
guard = portal_required("worker")
urlpatterns = [
    path("", views.home, name="home"),
    path("grids/<int:grid_id>/", registry_views.grid_hub, name="grid"),
    path("me/", views.me, name="me"),
    path("patrol/", fieldwork_views.patrol_home, name="patrol_home"),
    path("patrol/start/", fieldwork_views.patrol_start, name="patrol_start"),
    path("patrol/<int:patrol_id>/", fieldwork_views.patrol_detail, name="patrol"),
    path("patrol/<int:patrol_id>/points/", fieldwork_views.patrol_points, name="patrol_points"),
    path("patrol/<int:patrol_id>/end/", fieldwork_views.patrol_end, name="patrol_end"),
    path("patrol/visit/", fieldwork_views.visit_new, name="visit_new"),
    path("patrol/log/", fieldwork_views.work_log, name="work_log"),
    path("identity/", views.identity, name="identity"),
    path("identity/<int:account_id>/verify/", views.identity_verify, name="identity_verify"),
    path("identity/rebind/", views.identity_rebind, name="identity_rebind"),
    *inbox.urlpatterns_for(guard),
    path("pii/<str:subject_type>/<int:subject_id>/<str:field>/", guard(pii.reveal_pii), name="pii"),
    path("key-persons/", key_person_views.key_person_list, name="key_persons"),
    path("key-persons/new/", key_person_views.key_person_new, name="key_person_new"),
    path("key-persons/<int:key_person_id>/", key_person_views.key_person_detail, name="key_person"),
    path("key-persons/<int:key_person_id>/visit/", key_person_views.key_person_visit, name="key_person_visit"),
    path("key-persons/<int:key_person_id>/plan/", key_person_views.key_person_plan, name="key_person_plan"),
    path("key-persons/<int:key_person_id>/end/", key_person_views.key_person_end, name="key_person_end"),
    path("cases/", views.tasks, name="tasks"),
    path("cases/report/", views.report, name="case_report"),
    path("cases/photos/", guard(photo_upload), name="photo_upload"),
    *cadre_visits.urlpatterns_for(guard),
    *tasks.urlpatterns_for(guard),
    *cases.urlpatterns_for(guard),
    *disputes.urlpatterns_for(guard),
    *registry.urlpatterns_for(guard),
    *registry_io.urlpatterns_for(guard),
    *jobs.urlpatterns_for(guard),
    # 积分审核: claims to review, the village ledger, a household's awards (web/points_review.py)
    *points_review.urlpatterns_for(guard),
    # 积分管理: the village's own items and its 爱心超市 (web/points_admin.py)
    *points_admin.urlpatterns_for(guard),
    # 公开: notices, boards, disclosures … written, reviewed and withdrawn (web/publications.py)
    *publications.urlpatterns_for(guard),
]
