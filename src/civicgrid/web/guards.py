"""What stands in for an account on the public pages: a tracking code per event and a
per-address rate limit.

Citizens file anonymously. The tracking code (查询码) is shown once at filing; it is an HMAC of
the event number under the site's secret, so nothing extra is stored and nobody can compute it
from the (sequential) number. Only its holder may rate the result. Submissions and wrong codes
are counted per client address in the cache, like login failures (accounts/throttle.py).
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.utils.crypto import constant_time_compare, salted_hmac

from civicgrid.accounts.throttle import client_address

# who a public action is recorded as in the timeline (staff see it; the public never does)
PORTAL_ACTOR = "citizen@web"
RATER_ACTOR = "citizen@track"
# per client address and hour: new appeals filed, wrong tracking codes tried. Behind a reverse
# proxy that hides the client's address, raise PORTAL_SUBMIT_LIMIT in the settings.
SUBMIT_LIMIT = getattr(settings, "PORTAL_SUBMIT_LIMIT", 20)
CODE_FAILURE_LIMIT = 10
WINDOW = 3600


def tracking_code(number: str) -> str:
    return salted_hmac("civicgrid.web.track", number).hexdigest()[:8].upper()


def code_matches(number: str, code: str) -> bool:
    return constant_time_compare(tracking_code(number), (code or "").strip().upper())


def _key(kind: str, request) -> str:
    return f"web-{kind}:{client_address(request) or '-'}"


def over_limit(kind: str, request, limit: int) -> bool:
    return (cache.get(_key(kind, request)) or 0) >= limit


def count(kind: str, request) -> None:
    key = _key(kind, request)
    if cache.add(key, 1, WINDOW):
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, WINDOW)
