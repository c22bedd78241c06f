from django.urls import path

from gongzhi.command import cases_views, report_views, views

app_name = "command"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.staff_login, name="login"),
    path("logout/", views.staff_logout, name="logout"),
    path("units/<int:unit_id>/", views.unit_detail, name="unit"),
    path("totp/", views.totp_setup, name="totp_setup"),
    path("messages/", views.inbox, name="messages"),
    path("messages/read-all/", views.inbox_read_all, name="messages_read_all"),
    path("messages/<int:notification_id>/open/", views.inbox_open, name="message_open"),
    path("pii/<str:subject_type>/<int:subject_id>/<str:field>/", views.reveal_pii, name="pii"),
    path("cases/", cases_views.case_list, name="cases"),
    path("cases/intake/", cases_views.intake, name="intake"),
    path("cases/overdue/", cases_views.overdue, name="overdue"),
    path("cases/questions/", cases_views.questions, name="questions"),
    path("cases/new/", report_views.case_new, name="case_new"),
    path("cases/<int:case_id>/", cases_views.case_detail, name="case"),
    path("cases/<int:case_id>/<str:name>/", cases_views.case_action, name="case_action"),
]
