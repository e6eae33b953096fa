from django.urls import path

from monitoring.counters import count_deliveries
from twitter_channel.accounts import views as account_views
from twitter_channel.answering import views as answering_views
from twitter_channel.costs import views as cost_views
from twitter_channel.intake import views as intake_views
from twitter_channel.realtime import views as realtime_views
from twitter_channel.realtime import webhook as realtime_webhook

app_name = "twitter_channel"

urlpatterns = [
    # X's webhook first: it takes hundreds of POSTs a second under a burst, and Django tries
    # the patterns in order.
    path("webhook/", count_deliveries(realtime_webhook.x_webhook), name="x_webhook"),
    path("accounts/", account_views.account_list, name="accounts"),
    path("accounts/connect/", account_views.connect, name="connect"),
    path("accounts/<int:pk>/", account_views.account_settings, name="account_settings"),
    path("accounts/<int:pk>/disconnect/", account_views.disconnect, name="disconnect"),
    path("accounts/<int:pk>/costs/", cost_views.account_costs, name="account_costs"),
    path("accounts/<int:pk>/costs.json", cost_views.account_costs_json, name="account_costs_json"),
    path("costs/", cost_views.app_costs, name="costs"),
    path("costs.json", cost_views.app_costs_json, name="costs_json"),
    path("oauth/callback/", account_views.oauth_callback, name="oauth_callback"),
    path("quarantine/", intake_views.quarantine_list, name="quarantine"),
    path("quarantine/<int:pk>/retry/", intake_views.retry_item, name="retry_item"),
    path("quarantine/retry-all/", intake_views.retry_all, name="retry_all"),
    path("quarantine/events/<int:pk>/retry/", realtime_views.retry_event, name="retry_event"),
    # The incoming stream and answering on X (intake_views.py, answering_views.py).
    path("incoming/", intake_views.stream, name="stream"),
    path("incoming/account/<int:account_id>/", intake_views.stream, name="account_stream"),
    path("incoming/<int:item_id>/convert/", intake_views.convert, name="convert_item"),
    path("incoming/<int:item_id>/ignore/", intake_views.ignore, name="ignore_item"),
    path("incoming/<int:item_id>/unignore/", intake_views.unignore, name="unignore_item"),
    path("incoming/bulk/", intake_views.bulk, name="bulk_convert"),
    path("incoming/bulk/<int:bulk_id>/", intake_views.bulk_result, name="bulk_result"),
    path("incoming/bulk/<int:bulk_id>/progress/", intake_views.bulk_progress, name="bulk_progress"),
    path("tickets/<int:pk>/reply/", answering_views.composer, name="reply"),
    path("tickets/<int:pk>/request-email/", answering_views.ask_for_email, name="request_email"),
    path("outgoing/<int:pk>/retry/", answering_views.retry, name="retry_outgoing"),
    path("outgoing/<int:pk>/status/", answering_views.status, name="outgoing_status"),
    # Real-time intake (realtime/): the account page's intake-mode switch (X's webhook is first).
    path("accounts/<int:pk>/intake-mode/", realtime_views.switch_mode, name="intake_mode"),
    path("accounts/<int:pk>/replay/", realtime_views.replay, name="replay_events"),
]
