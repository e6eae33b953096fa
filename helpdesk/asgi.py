"""The one server process for pages and sockets: HTTP goes to Django, WebSockets to the live
workspace (live/routing.py). Run with an ASGI server: `uvicorn helpdesk.asgi:application`
(make run), or gunicorn with uvicorn workers in production (README, Operations)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
# Django first: the consumers import models, which need the apps loaded.
django_application = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from live.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        # Same-origin sockets only (the Origin header must be one of ALLOWED_HOSTS), so another
        # site cannot open a socket with the agent's session cookie.
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
