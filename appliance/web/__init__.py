"""The HTTP side: guards before the app (``guards``: body size and rate, requests in progress),
rate limits (``limits``), security headers (``security``), who a visitor is (``visitors``), the
objects the routes are handed (``services``), and the routes: ``health``, ``widget``, the
customer API (``api``) and the owner's admin (``admin``). Templates live in ``templates/``."""
