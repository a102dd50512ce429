"""The embedded default: SQLite and local repositories in MAMORI_HOME, served on 127.0.0.1."""

from .base import *  # noqa: F403

DEBUG = False
