import os
import tempfile
from pathlib import Path

import platformdirs
from django.db import connection


def test_the_suite_runs_on_the_database_that_DATABASE_URL_names():
    """`make test` runs the apps twice; the second pass must really be on PostgreSQL."""
    url = os.environ.get("DATABASE_URL", "")
    assert connection.vendor == ("postgresql" if url.startswith("postgres") else "sqlite")


def test_the_suite_keeps_its_files_in_a_private_home(settings):
    """Tests create repositories and uploads under MAMORI_HOME: never the user's data directory
    (where a previous run left its sample repositories) nor the demo's, which `make` exports."""
    home = Path(settings.MAMORI_HOME)
    run_home = Path(os.environ["MAMORI_TEST_HOME"]).resolve()
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # each xdist worker has its own home in the run's
    assert home == (run_home / worker if worker else run_home)
    assert Path(tempfile.gettempdir()).resolve() in home.parents
    assert home != Path(platformdirs.user_data_dir("mamori")).resolve()
