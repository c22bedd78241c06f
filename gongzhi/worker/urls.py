from django.urls import path

from gongzhi.web import cases, disputes, inbox, jobs, pii, registry_io, tasks
from gongzhi.web.access import portal_required
from gongzhi.web.report import photo_upload
from gongzhi.worker import views

app_name = "worker"
guard = portal_required("worker")
urlpatterns = [
    path("", views.home, name="home"),
    path("grids/<int:grid_id>/", views.grid_detail, name="grid"),
    path("me/", views.me, name="me"),
    path("identity/", views.identity, name="identity"),
    path("identity/<int:account_id>/verify/", views.identity_verify, name="identity_verify"),
    path("identity/rebind/", views.identity_rebind, name="identity_rebind"),
    *inbox.urlpatterns_for(guard),
    path("pii/<str:subject_type>/<int:subject_id>/<str:field>/", guard(pii.reveal_pii), name="pii"),
    path("cases/", views.tasks, name="tasks"),
    path("cases/report/", views.report, name="case_report"),
    path("cases/photos/", guard(photo_upload), name="photo_upload"),
    *tasks.urlpatterns_for(guard),
    *cases.urlpatterns_for(guard),
    *disputes.urlpatterns_for(guard),
    *registry_io.urlpatterns_for(guard),
    *jobs.urlpatterns_for(guard),
]
