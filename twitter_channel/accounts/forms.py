"""Forms of the X accounts pages. Tokens are never a form field."""

from __future__ import annotations

from django import forms

from twitter_channel.models import XAccount


class XAccountSettingsForm(forms.ModelForm):
    class Meta:
        model = XAccount
        fields = [
            "capture_mentions",
            "capture_dms",
            "capture_likes",
            "ignore_retweets",
            "allowed_for_replies",
            "append_ticket_link_default",
            "assign_on_reply",
            "default_group",
            "is_active",
        ]
        labels = {
            "capture_mentions": "Turn mentions into tickets",
            "capture_dms": "Turn direct messages into tickets",
            "capture_likes": "Turn posts the brand likes into tickets",
            "ignore_retweets": "Ignore retweets",
            "allowed_for_replies": "Agents may reply from this account",
            "append_ticket_link_default": "Append a ticket link to public replies by default",
            "assign_on_reply": "Replying assigns an unassigned ticket to the agent who replies",
            "is_active": "Poll this account",
        }
