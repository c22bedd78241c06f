from django.urls import path

from gongzhi.worker import views

app_name = "worker"
urlpatterns = [
    path("", views.home, name="home"),
    path("grids/<int:grid_id>/", views.grid_detail, name="grid"),
    path("me/", views.me, name="me"),
    path("messages/", views.inbox, name="messages"),
    path("messages/read-all/", views.inbox_read_all, name="messages_read_all"),
    path("messages/<int:notification_id>/open/", views.inbox_open, name="message_open"),
    path("pii/<str:subject_type>/<int:subject_id>/<str:field>/", views.reveal_pii, name="pii"),
]
