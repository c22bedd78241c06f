from django.urls import path

from gongzhi.resident import views

app_name = "resident"
urlpatterns = [
    path("", views.home, name="home"),
    path("signup/", views.signup, name="signup"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("large-type/", views.large_type, name="large_type"),
    path("messages/", views.inbox, name="messages"),
    path("messages/read-all/", views.inbox_read_all, name="messages_read_all"),
    path("messages/<int:notification_id>/open/", views.inbox_open, name="message_open"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/new/", views.case_new, name="case_new"),
    path("cases/<int:case_id>/", views.case_detail, name="case_detail"),
    path("cases/<int:case_id>/follow-up/", views.case_follow_up, name="case_follow_up"),
    path("cases/<int:case_id>/rate/", views.case_rate, name="case_rate"),
    path("privacy/", views.privacy, name="privacy"),
    path("dev/sms/", views.dev_sms, name="dev_sms"),
]
