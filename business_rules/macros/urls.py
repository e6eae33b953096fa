from django.urls import path

from . import views

app_name = "macros"

urlpatterns = [
    path("", views.my_macros, name="mine"),
    path("new/", views.edit, name="new"),
    path("<int:pk>/", views.edit, name="edit"),
    path("<int:pk>/delete/", views.delete, name="delete"),
    path("ticket/<int:pk>/", views.for_ticket, name="for_ticket"),
]
