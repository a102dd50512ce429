"""mamori.vault: a backup engine that reads and writes restic repositories (format v1/v2).

Framework-free: imports only the standard library and its own libraries (cryptography,
zstandard, pyfastcdc). The platform talks to it through `mamori.apps.backups` only.
"""
