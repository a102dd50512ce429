import os

from django.db import connection


def test_the_suite_runs_on_the_database_that_DATABASE_URL_names():
    """`make test` runs the apps twice; the second pass must really be on PostgreSQL."""
    url = os.environ.get("DATABASE_URL", "")
    assert connection.vendor == ("postgresql" if url.startswith("postgres") else "sqlite")
