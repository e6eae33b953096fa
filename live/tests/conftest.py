import pytest


@pytest.fixture(autouse=True)
def _fresh_channel_layer_and_feed():
    """Each test runs its sockets in an event loop of its own, and a channel layer (like the
    feed) belongs to the loop that used it: channels-redis refuses to receive in a second loop
    while a receive from a closed one never finished. Production has one loop per process."""
    from channels.layers import channel_layers

    from live.feed import feed

    channel_layers.backends = {}
    feed.sockets.clear()
    feed.subscribers.clear()
    feed.task = None
    feed.last_id, feed.gaps = None, {}
    yield
    channel_layers.backends = {}
