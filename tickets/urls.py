from django.urls import path

from . import views

app_name = "tickets"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("tickets/<int:pk>/", views.detail, name="detail"),
]
