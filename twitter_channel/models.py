"""X accounts connected to the helpdesk and everything fetched from them."""

from __future__ import annotations

from django.db import models


class XAccount(models.Model):
    """A brand account on X, connected by an admin through OAuth 2.0."""

    user_id = models.CharField(max_length=25, unique=True)
    username = models.CharField(max_length=50, unique=True)
    display_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "X account"
        ordering = ["username"]

    def __str__(self) -> str:
        return f"@{self.username}"
