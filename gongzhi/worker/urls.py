from django.urls import path

from gongzhi.worker import cases_views, views

app_name = "worker"
urlpatterns = [
    path("", views.home, name="home"),
    path("grids/<int:grid_id>/", views.grid_detail, name="grid"),
    path("me/", views.me, name="me"),
    path("messages/", views.inbox, name="messages"),
    path("messages/read-all/", views.inbox_read_all, name="messages_read_all"),
    path("messages/<int:notification_id>/open/", views.inbox_open, name="message_open"),
    path("pii/<str:subject_type>/<int:subject_id>/<str:field>/", views.reveal_pii, name="pii"),
    path("cases/", cases_views.tasks, name="tasks"),
    path("cases/report/", cases_views.report, name="case_report"),
    path("cases/<int:case_id>/", cases_views.case_detail, name="case"),
    path("cases/<int:case_id>/<str:name>/", cases_views.case_action, name="case_action"),
]
