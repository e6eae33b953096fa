from django.urls import path

from . import views

app_name = "mail"

urlpatterns = [
    path("inbound/", views.inbound, name="inbound"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
    path("original/<int:comment_pk>/", views.original, name="original"),
    path("outgoing/<int:comment_pk>/retry/", views.retry_email, name="retry"),
    path("quarantine/", views.quarantine, name="quarantine"),
    path("quarantine/<int:pk>/retry/", views.retry_quarantined_email, name="retry_quarantined"),
    path("raw/<int:pk>/", views.raw_message, name="raw"),
]
