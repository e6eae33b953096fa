from django.urls import path

from . import views
from .merging import views as merge_views

app_name = "tickets"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("views/<slug:slug>/", views.queue, name="queue_view"),
    path("channels/<slug:channel>/", views.by_channel, name="channel_queue"),
    path("tickets/bulk/", views.bulk_action, name="bulk"),
    path("tickets/<int:pk>/", views.detail, name="detail"),
    path("tickets/<int:pk>/reply/", views.reply, name="reply"),
    path("tickets/<int:pk>/update/", views.update, name="update"),
    path("tickets/<int:pk>/requester-email/", views.requester_email, name="requester_email"),
    path("tickets/<int:pk>/requester-email/<int:identity_pk>/primary/", views.requester_primary_email,
         name="requester_primary_email"),
    path("tickets/<int:pk>/delete/", views.delete, name="delete"),
    path("tickets/<int:pk>/merge/", merge_views.merge_page, name="merge"),
    path("tickets/<int:pk>/merge/confirm/", merge_views.merge, name="merge_confirm"),
]
