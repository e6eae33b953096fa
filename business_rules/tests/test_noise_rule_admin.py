import pytest
from django.urls import reverse

from business_rules.models import NoiseRule
from business_rules.noise import NoiseCandidate, matching_rule
from tickets.tests.factories import AdminFactory, UserFactory
from twitter_channel.models import XAccount

pytestmark = pytest.mark.django_db


def test_admin_creates_a_noise_rule_that_applies_at_once(client):
    client.force_login(AdminFactory())
    account = XAccount.objects.create(user_id="900", username="brand")
    response = client.post(
        reverse("admin:business_rules_noiserule_add"),
        {
            "name": "No giveaways",
            "account": str(account.pk),
            "active": "on",
            "position": "1",
            "ignore_keywords": "giveaway",
            "blocked_authors": "",
            "require_keywords": "",
            "min_followers": "",
        },
    )
    assert response.status_code == 302
    rule = NoiseRule.objects.get(name="No giveaways")
    candidate = NoiseCandidate(text="@brand giveaway!", author_id="1", author_username="x")
    assert matching_rule(candidate, account.pk).rule_id == rule.pk


def test_the_list_summarises_what_each_rule_ignores(client):
    client.force_login(AdminFactory())
    NoiseRule.objects.create(name="Mixed", ignore_retweets=True, min_followers=50)
    response = client.get(reverse("admin:business_rules_noiserule_changelist"))
    assert "retweets, authors under 50 followers" in response.content.decode()


def test_agents_cannot_change_noise_rules(client):
    client.force_login(UserFactory(is_staff=True))
    rule = NoiseRule.objects.create(name="Retweets", ignore_retweets=True)
    response = client.post(reverse("admin:business_rules_noiserule_change", args=[rule.pk]), {"name": "changed"})
    assert response.status_code in (302, 403)
    rule.refresh_from_db()
    assert rule.name == "Retweets"
