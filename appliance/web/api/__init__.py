"""The public chat API (/api/v1): ``make_router`` for the app. The routes are in ``conversations``
for now; they are split by concern next."""

from appliance.web.api.conversations import make_router

__all__ = ["make_router"]
