"""gunicorn's worker for production (bin/start-production): uvicorn's, with a cap on one
WebSocket message. uvicorn reads a whole message (16 MiB by default) before the live
consumer sees it and refuses anything above LIVE_MAX_MESSAGE_BYTES; this bounds the read."""

from uvicorn_worker import UvicornWorker


class HelpdeskWorker(UvicornWorker):
    CONFIG_KWARGS = {**UvicornWorker.CONFIG_KWARGS, "ws_max_size": 65536}
