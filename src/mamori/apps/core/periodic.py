"""Periodic work of the apps, run by the worker on each tick (`mamori worker` / `mamori run-due`).

An app registers a function in its `AppConfig.ready()`; the function decides itself whether anything
is due at `now` (e.g. a directory audit every N hours) and records what it did. Core never imports
the app; the worker calls `periodic_run` after queueing its own scheduled jobs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from .errors import ApplicationError

logger = logging.getLogger(__name__)

Periodic = Callable[[datetime], None]

_registry: dict[str, Periodic] = {}


def register_periodic(key: str, job: Periodic) -> None:
    _registry[key] = job


def periodic_run(*, now: datetime) -> None:
    """Run every registered job; a refusal (ApplicationError) is logged and the others still run."""
    for key in sorted(_registry):
        try:
            _registry[key](now)
        except ApplicationError as exc:
            logger.warning("periodic job %s: %s", key, exc)
