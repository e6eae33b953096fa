from django.urls import path

from . import public

app_name = "public"

urlpatterns = [
    path("confirm/<str:token>/", public.confirm_email, name="confirm_email"),
    path("<str:token>/", public.ticket_page, name="ticket"),
    path("<str:token>/email/", public.email_form, name="email"),
]
