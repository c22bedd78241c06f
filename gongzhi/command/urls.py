from django.urls import path

from gongzhi.command import (
    assessment_views,
    cases_views,
    dashboard_views,
    disputes_views,
    map_views,
    report_views,
    tasks_views,
    views,
    warnings_views,
)
from gongzhi.web import cases, disputes, inbox, jobs, pii, registry_io, tasks
from gongzhi.web.access import portal_required

app_name = "command"
guard = portal_required("command")
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.staff_login, name="login"),
    path("logout/", views.staff_logout, name="logout"),
    path("units/<int:unit_id>/", views.unit_detail, name="unit"),
    path("totp/", views.totp_setup, name="totp_setup"),
    *inbox.urlpatterns_for(guard),
    path("pii/<str:subject_type>/<int:subject_id>/<str:field>/", guard(pii.reveal_pii), name="pii"),
    path("cases/", cases_views.case_list, name="cases"),
    path("cases/intake/", cases_views.intake, name="intake"),
    path("cases/poll/", cases_views.poll, name="cases_poll"),
    path("cases/export/", cases_views.export_all, name="cases_export"),
    path("cases/overdue/", cases_views.overdue, name="overdue"),
    path("cases/overdue/export/", cases_views.export_overdue, name="overdue_export"),
    path("cases/questions/", cases_views.questions, name="questions"),
    path("cases/disputes/", disputes_views.at_risk, name="disputes"),
    path("cases/extensions/", cases_views.extensions, name="extensions"),
    path("cases/new/", report_views.case_new, name="case_new"),
    path("map/", map_views.map_page, name="map"),
    path("map/<int:unit_id>/panel/", map_views.map_panel, name="map_panel"),
    path("map/<int:unit_id>/shapes/", map_views.map_shapes, name="map_shapes"),
    path("map/<int:unit_id>/colours/", map_views.map_colours, name="map_colours"),
    path("map/<int:unit_id>/cases/", map_views.map_cases, name="map_cases"),
    path("dashboard/", dashboard_views.dashboard, name="dashboard"),
    path("dashboard/poll/", dashboard_views.poll, name="dashboard_poll"),
    path("dashboard/screen/", dashboard_views.screen, name="dashboard_screen"),
    path("dashboard/screen/poll/", dashboard_views.screen_poll, name="dashboard_screen_poll"),
    path("assessment/", assessment_views.assessment, name="assessment"),
    path("assessment/monthly/", assessment_views.monthly_report, name="monthly_report"),
    path("warnings/", warnings_views.warning_list, name="warnings"),
    path("warnings/<int:warning_id>/acknowledge/", warnings_views.acknowledge, name="warning_acknowledge"),
    path("tasks/", tasks_views.task_list, name="tasks"),
    path("tasks/new/", tasks_views.task_new, name="task_new"),
    path("tasks/supervision/", tasks_views.supervision, name="task_supervision"),
    path("tasks/supervision/export/", tasks_views.supervision_export, name="task_supervision_export"),
    *tasks.urlpatterns_for(guard),
    *cases.urlpatterns_for(guard),
    *disputes.urlpatterns_for(guard),
    *registry_io.urlpatterns_for(guard),
    *jobs.urlpatterns_for(guard),
]
