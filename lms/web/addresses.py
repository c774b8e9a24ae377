"""Addresses that leave the page (calendar feeds, invitation links, certificate verify
links): built from ``LMS_PUBLIC_URL`` when it is set, never from the request's Host header,
which anyone can forge (``Host: evil.example``) and which says http behind a TLS proxy."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for


def external_url(endpoint: str, **values: Any) -> str:
    public = (current_app.config.get("LMS_PUBLIC_URL") or "").rstrip("/")
    if not public:
        return url_for(endpoint, _external=True, **values)
    return public + url_for(endpoint, **values)
