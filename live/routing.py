from django.urls import path

from .consumers import AgentConsumer

websocket_urlpatterns = [
    path("live/ws/", AgentConsumer.as_asgi()),
]
