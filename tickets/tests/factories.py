import factory
from django.utils import timezone

from tickets.models import Comment, Group, Identity, Requester, Ticket, User


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Group {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"agent{n}")
    first_name = factory.Faker("first_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = User.Role.AGENT
    password = factory.django.Password("secret-pass-123")


class AdminFactory(UserFactory):
    username = factory.Sequence(lambda n: f"admin{n}")
    role = User.Role.ADMIN
    is_staff = True


class RequesterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Requester

    name = factory.Faker("name")


class XIdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Identity

    requester = factory.SubFactory(RequesterFactory)
    kind = Identity.Kind.X
    value = factory.Sequence(lambda n: str(1_000_000 + n))
    handle = factory.Sequence(lambda n: f"customer{n}")


class EmailIdentityFactory(factory.django.DjangoModelFactory):
    """A confirmed email address; the requester's primary one unless said otherwise."""

    class Meta:
        model = Identity

    requester = factory.SubFactory(RequesterFactory)
    kind = Identity.Kind.EMAIL
    value = factory.Sequence(lambda n: f"customer{n}@example.com")
    confirmed_at = factory.LazyFunction(timezone.now)
    is_primary = True


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket

    subject = factory.Faker("sentence", nb_words=5)
    requester = factory.SubFactory(RequesterFactory)


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Comment

    ticket = factory.SubFactory(TicketFactory)
    body = factory.Faker("paragraph")
    author_requester = factory.SelfAttribute("ticket.requester")
