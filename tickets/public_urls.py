from django.urls import path

from . import public

app_name = "public"

urlpatterns = [
    path("<str:token>/", public.ticket_page, name="ticket"),
    path("<str:token>/email/", public.email_form, name="email"),
]
