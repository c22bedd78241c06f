from django.urls import path

app_name = "command"
urlpatterns: list = []
