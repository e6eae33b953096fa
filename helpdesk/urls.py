from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import health

urlpatterns = [
    # First, for X's webhook (twitter_channel/urls.py): no pattern above it would take a path
    # under x/, and a burst of deliveries then tries one prefix, not eight.
    path("x/", include("twitter_channel.urls")),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("health/", health.health, name="health"),
    path("", include("monitoring.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("admin/", admin.site.urls),
    path("t/", include("tickets.public_urls")),
    path("email/", include("tickets.mail.urls")),
    path("macros/", include("business_rules.macros.urls")),
    path("", include("tickets.urls")),
]
