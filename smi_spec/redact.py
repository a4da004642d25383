"""Secrets stay secret: the credentials in a URL the user gave (``fuzz --database
redis://:PASSWORD@host/0``) are masked in every message and every output (issue 25)."""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import parse_qsl, urlsplit, urlunsplit

MASK: Final = "***"
#: Query parameters a Redis URL may carry credentials in (redis-py's from_url reads them).
_SECRET_PARAMETERS: Final = frozenset({"password", "username", "user", "pass"})


def secrets_of(url: str) -> list[str]:
    """The user name and password in ``url`` (user info and query), longest first."""
    try:
        parts = urlsplit(url)
        found = [parts.username or "", parts.password or ""]
    except ValueError:  # an invalid port or bracket: still mask what looks like user info
        userinfo = re.match(r"[^:/]+://([^@/]*)@", url)
        found = userinfo.group(1).split(":", 1) if userinfo else []
        parts = None
    if parts is not None:
        found += [v for k, v in parse_qsl(parts.query) if k.lower() in _SECRET_PARAMETERS]
    return sorted({s for s in found if s}, key=len, reverse=True)


def masked_url(url: str) -> str:
    """``url`` with its user name, password and credential parameters replaced by ***."""
    try:
        parts = urlsplit(url)
        if parts.username is None and parts.password is None and not parts.query:
            return url
        host = parts.netloc.rsplit("@", 1)[-1]
        netloc = f"{MASK}@{host}" if "@" in parts.netloc else host
        query = "&".join(
            f"{k}={MASK if k.lower() in _SECRET_PARAMETERS else v}"
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        )
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return mask_in(url, url)


def mask_in(text: str, url: str) -> str:
    """``text`` (an error message) with every credential of ``url`` replaced by ***."""
    for secret in secrets_of(url):
        text = text.replace(secret, MASK)
    return text
