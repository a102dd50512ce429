"""Static files storage: hashed, compressed names after `collectstatic` (what `mamori serve` runs).

Lenient at URL time: a command that renders a template before any collectstatic (a PDF export from
the CLI, say) gets the plain file name instead of an error.
"""

from __future__ import annotations

from typing import Any

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    manifest_strict = False

    def hashed_name(self, name: str, content: Any = None, filename: str | None = None) -> str:
        try:
            return super().hashed_name(name, content, filename)
        except ValueError:
            if content is not None:  # during collectstatic a missing file stays an error
                raise
            return name
