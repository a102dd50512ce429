"""The remote test servers (session-scoped) for the backend tests."""

from tests.remote_servers import (  # noqa: F401 - fixtures
    rest_append_only_server,
    rest_server,
    s3_server,
    sftp_server,
)
