"""How long an endpoint asked us to stay away, read from its response headers.

Azure OpenAI and OpenAI send ``retry-after-ms`` (milliseconds), ``retry-after`` (seconds or an
HTTP date) and, on throttling, ``x-ratelimit-reset-requests`` / ``x-ratelimit-reset-tokens``
(seconds, or durations such as ``6m0s`` or ``250ms``). Example::

    cool_down_from_headers({"retry-after": "20"}, throttled=True)   # 20.0
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Mapping

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
MAX_COOL_DOWN_S = 600.0


def parse_duration_s(value: str) -> float | None:
    """``"20"`` -> 20.0, ``"1m30.5s"`` -> 90.5, ``"250ms"`` -> 0.25; None when unreadable."""
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    parts = _DURATION.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value:
        return None
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(n) * scale[u] for n, u in parts)


def cool_down_from_headers(headers: Mapping[str, str], *, throttled: bool,
                           now: float | None = None) -> float | None:
    """Seconds to keep the endpoint out, or None when the headers say nothing usable."""
    found: float | None = None
    if (ms := headers.get("retry-after-ms")) is not None:
        parsed = parse_duration_s(ms)
        found = parsed / 1000.0 if parsed is not None else None
    if found is None and (ra := headers.get("retry-after")) is not None:
        found = parse_duration_s(ra)
        if found is None:
            date = email.utils.parsedate_to_datetime(ra) if _looks_like_date(ra) else None
            if date is not None:
                found = max(0.0, date.timestamp() - (time.time() if now is None else now))
    if found is None and throttled:
        resets = [parse_duration_s(headers[h]) for h in
                  ("x-ratelimit-reset-requests", "x-ratelimit-reset-tokens") if h in headers]
        known = [r for r in resets if r is not None]
        found = max(known) if known else None
    return min(found, MAX_COOL_DOWN_S) if found is not None else None


def _looks_like_date(value: str) -> bool:
    try:
        return email.utils.parsedate_to_datetime(value) is not None
    except (TypeError, ValueError):
        return False
