"""What the summary webhook needs before anything is posted: https and a long secret."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

SECRET_MIN_LENGTH = 32


def is_loopback(url: str) -> bool:
    """Whether the URL's host is this machine (where plain http:// cannot be overheard)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def webhook_refusal(url: str, secret: str) -> str:
    """Why the webhook may not be posted to `url` signed with `secret` ("" when it may).

    Names the variables, never their values (they are secrets).
    """
    if not secret:
        return "SUMMARY_WEBHOOK_SECRET: required when SUMMARY_WEBHOOK_URL is set (signs the body)"
    if len(secret) < SECRET_MIN_LENGTH:
        return f"SUMMARY_WEBHOOK_SECRET: shorter than {SECRET_MIN_LENGTH} characters"
    if urlsplit(url).scheme != "https" and not is_loopback(url):
        return "SUMMARY_WEBHOOK_URL: must be https:// (plain http:// only to this machine)"
    return ""
