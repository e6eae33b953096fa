from django.apps import AppConfig


class TwitterChannelConfig(AppConfig):
    name = "twitter_channel"
    verbose_name = "X channel"

    def ready(self) -> None:
        from django.conf import settings

        from tickets.models import X_CHANNELS, Channel
        from tickets.origins import register_origins
        from tickets.outbound import register_measure, register_sender
        from tickets.outbox import register_outbox
        from tickets.panels import REPLY, SIDEBAR, register_reply_modes, register_ticket_panel
        from tickets.privacy import register_personal_data
        from twitter_channel.answering.models import OutgoingMessage
        from twitter_channel.answering.origins import x_origins
        from twitter_channel.answering.replies import measure_on_x, reply_modes, reply_on_x
        from twitter_channel.answering.tasks import send_outgoing
        from twitter_channel.compliance.privacy import erase_x, export_x
        from twitter_channel.realtime import receivers as realtime_receivers

        # Agents' reply box and business rules' "reply to requester" both answer on X
        # through these: a public reply (X, X_LIKE) or a DM (X_DM).
        for channel in (Channel.X, Channel.X_LIKE, Channel.X_DM):
            register_sender(channel, reply_on_x)
            # What X counts, for replies prepared outside the composer (a macro's text).
            register_measure(channel, measure_on_x)
        # Replies whose task never ran or died are swept up and sent (tickets/outbox.py).
        register_outbox(OutgoingMessage, send_outgoing, stale_seconds=lambda: settings.X_SEND_STALE_SECONDS)
        # The reply box's "how to answer" offers a public reply and a DM, each naming its recipient.
        register_reply_modes(reply_modes, channels=X_CHANNELS)
        register_ticket_panel("twitter_channel/reply/_reply_options.html", channels=X_CHANNELS, place=REPLY)
        register_ticket_panel("twitter_channel/reply/_participants_panel.html", channels=X_CHANNELS, place=SIDEBAR)
        register_ticket_panel("twitter_channel/reply/_deliveries_panel.html", channels=X_CHANNELS, place=SIDEBAR)
        register_personal_data("x", exporter=export_x, eraser=erase_x)
        # The thread shows each X comment's @handle, "view on X" and photos, videos and GIFs.
        register_origins(x_origins)
        # Disconnecting an account ends its real-time subscriptions with X.
        realtime_receivers.connect()
