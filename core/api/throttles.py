"""Throttles of the API (issue 13 point 3): the token endpoint is where passwords are guessed."""

from rest_framework.throttling import SimpleRateThrottle


class TokenThrottle(SimpleRateThrottle):
    """At most `token` (settings: 10 a minute) token requests per address and username, right
    or wrong, so thirty guesses in a row are refused with 429 `throttled`. The full login
    hardening (lockout, the page's login) is a later issue."""

    scope = "token"

    def get_cache_key(self, request, view):
        username = request.data.get("username", "") if hasattr(request.data, "get") else ""
        ident = f"{self.get_ident(request)}:{str(username).strip().lower()[:150]}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
