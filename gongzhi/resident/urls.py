from django.urls import path

app_name = "resident"
urlpatterns: list = []
