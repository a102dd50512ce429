"""Core views: each parses the request, calls one selector or service, and renders."""
