"""Responses that must not outlive the session: every page and download is `Cache-Control: no-store`.

A shared PC in a city office keeps a browser cache; a proxy may keep another. Staff lists, audit
logs and evaluation sheets must not be readable from either after the user signed out. Static files
never reach this middleware (WhiteNoise answers them first, with long caching).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        add_never_cache_headers(response)
        return response
