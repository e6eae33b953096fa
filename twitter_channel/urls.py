from django.urls import path

from monitoring.counters import count_deliveries
from twitter_channel.accounts import views
from twitter_channel.answering import views as reply_views
from twitter_channel.costs import views as cost_views
from twitter_channel.intake import views as stream_views
from twitter_channel.realtime import views as realtime_views
from twitter_channel.realtime import webhook as realtime_webhook

app_name = "twitter_channel"

urlpatterns = [
    path("accounts/", views.account_list, name="accounts"),
    path("accounts/connect/", views.connect, name="connect"),
    path("accounts/<int:pk>/", views.account_settings, name="account_settings"),
    path("accounts/<int:pk>/disconnect/", views.disconnect, name="disconnect"),
    path("accounts/<int:pk>/costs/", cost_views.account_costs, name="account_costs"),
    path("accounts/<int:pk>/costs.json", cost_views.account_costs_json, name="account_costs_json"),
    path("costs/", cost_views.app_costs, name="costs"),
    path("costs.json", cost_views.app_costs_json, name="costs_json"),
    path("oauth/callback/", views.oauth_callback, name="oauth_callback"),
    path("quarantine/", views.quarantine_list, name="quarantine"),
    path("quarantine/<int:pk>/retry/", views.retry_item, name="retry_item"),
    path("quarantine/retry-all/", views.retry_all, name="retry_all"),
    path("quarantine/events/<int:pk>/retry/", views.retry_event, name="retry_event"),
    # The incoming stream and answering on X (stream_views.py, reply_views.py).
    path("incoming/", stream_views.stream, name="stream"),
    path("incoming/account/<int:account_id>/", stream_views.stream, name="account_stream"),
    path("incoming/<int:item_id>/convert/", stream_views.convert, name="convert_item"),
    path("incoming/<int:item_id>/ignore/", stream_views.ignore, name="ignore_item"),
    path("incoming/<int:item_id>/unignore/", stream_views.unignore, name="unignore_item"),
    path("incoming/bulk/", stream_views.bulk, name="bulk_convert"),
    path("incoming/bulk/<int:bulk_id>/", stream_views.bulk_result, name="bulk_result"),
    path("incoming/bulk/<int:bulk_id>/progress/", stream_views.bulk_progress, name="bulk_progress"),
    path("tickets/<int:pk>/reply/", reply_views.composer, name="reply"),
    path("tickets/<int:pk>/request-email/", reply_views.ask_for_email, name="request_email"),
    path("outgoing/<int:pk>/retry/", reply_views.retry, name="retry_outgoing"),
    path("outgoing/<int:pk>/status/", reply_views.status, name="outgoing_status"),
    # Real-time intake (realtime/): X's webhook, and the account page's intake-mode switch.
    path("webhook/", count_deliveries(realtime_webhook.x_webhook), name="x_webhook"),
    path("accounts/<int:pk>/intake-mode/", realtime_views.switch_mode, name="intake_mode"),
    path("accounts/<int:pk>/replay/", realtime_views.replay, name="replay_events"),
]
