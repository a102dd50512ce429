"""The error tree is public API: pin its names, parents and exit codes."""

from __future__ import annotations

import mamori.vault.errors as errors
from mamori.vault.errors import VaultError


def test_exported_errors_are_exactly_the_documented_tree() -> None:
    exported = {name: getattr(errors, name) for name in errors.__all__}
    assert all(issubclass(cls, VaultError) for cls in exported.values())
    parents = {name: cls.__mro__[1].__name__ for name, cls in exported.items() if cls is not VaultError}
    assert parents == {
        "RepositoryError": "VaultError",
        "RepositoryNotFoundError": "RepositoryError",
        "RepositoryExistsError": "RepositoryError",
        "WrongPasswordError": "RepositoryError",
        "NoUsableKeyError": "RepositoryError",
        "LegacyLayoutError": "RepositoryError",
        "RepositoryLockedError": "RepositoryError",
        "UnsupportedVersionError": "RepositoryError",
        "IntegrityError": "VaultError",
        "AuthenticationError": "IntegrityError",
        "InvalidDataError": "IntegrityError",
        "MalformedKeyFileError": "InvalidDataError",
        "BadPackHeaderError": "IntegrityError",
        "BackendError": "VaultError",
        "BackendNotFoundError": "BackendError",
        "ObjectExistsError": "BackendError",
        "PermanentBackendError": "BackendError",
        "UnsupportedBackendError": "PermanentBackendError",
        "BackendAccessError": "PermanentBackendError",
        "ObjectLockedError": "PermanentBackendError",
        "AppendOnlyError": "PermanentBackendError",
        "TransientBackendError": "BackendError",
        "NotFoundError": "VaultError",
        "SnapshotNotFoundError": "NotFoundError",
        "AmbiguousIdError": "VaultError",
        "RestoreStoppedError": "VaultError",
        "InvalidArgumentError": "VaultError",
    }
    for name in parents:
        assert name in (errors.__doc__ or ""), f"{name} is missing from the tree in the docstring"


def test_exit_codes_and_one_line_messages() -> None:
    assert errors.RepositoryNotFoundError("/srv/repo").exit_code == 10
    assert (
        errors.RepositoryLockedError(
            lock_id="ab" * 32, hostname="h", username="u", pid=1, exclusive=True, created="t"
        ).exit_code
        == 11
    )
    assert errors.WrongPasswordError().exit_code == 12
    assert errors.IntegrityError("x", pack_id="p").exit_code == 1
    samples = [
        errors.RepositoryNotFoundError("/srv/repo"),
        errors.RepositoryExistsError("/srv/repo"),
        errors.WrongPasswordError("/srv/repo"),
        errors.UnsupportedVersionError(3),
        errors.SnapshotNotFoundError("abc"),
        errors.AmbiguousIdError(file_type="snapshot", prefix="a", matches=2),
    ]
    for exc in samples:
        assert "\n" not in str(exc) and ":" in str(exc), "one line, with the next step after the colon"
