"""The one redirect-target check (跳转地址校验) for ``next=`` and every other
user-supplied place to go after a form.

Only a path on this site is accepted. The value is refused whole — not cleaned — when it
holds anything a browser would strip or reinterpret (tabs, line breaks and other control
characters, backslashes, which browsers read as slashes), so ``/\\t/evil.invalid`` cannot
become ``//evil.invalid`` after the check.
"""
from __future__ import annotations

from urllib.parse import urlsplit

MAX_LENGTH = 2000


def safe_redirect_target(value, default: str = "/") -> str:
    """``value`` if it is a path of this site (``/…``, not ``//…``) — or this site's own
    absolute URL (a ``Referer``), taken as its path — else ``default``."""
    if not isinstance(value, str) or not value or len(value) > MAX_LENGTH:
        return default
    from flask import has_request_context, request
    if has_request_context() and value.startswith(request.host_url):
        value = "/" + value[len(request.host_url):]
    if not value.isascii() or any(ord(c) < 0x21 or ord(c) == 0x7F or c == "\\" for c in value):
        return default
    if not value.startswith("/") or value.startswith("//"):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return default
    return value
