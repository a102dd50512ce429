"""Named dump profiles: the only programs a dump source can run, from a file the host administrator keeps.

The web UI never holds a command line. `MAMORI_HOME/dump-profiles.toml` (or `MAMORI_DUMP_PROFILES`)
names each profile's program by absolute path, its fixed arguments, and the parameters an officer may
fill in (each matched against the profile's strict pattern). Credentials come from the environment or
a file such as `PGPASSFILE`: an argument that carries one is refused when the file is read.

    [profiles.postgres]
    label = "PostgreSQL（pg_dump）"
    program = "/usr/bin/pg_dump"
    args = ["--no-owner", "--host=127.0.0.1", "--username=backup", "--dbname={database}"]
    filename = "{database}.sql"
    env = { PGPASSFILE = "/etc/mamori/pgpass" }
    pass_env = []                      # names copied from the worker's environment

    [profiles.postgres.parameters.database]
    label = "データベース名"
    pattern = "[a-z_][a-z0-9_]{0,62}"
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.messages import Message
from mamori.apps.core.redaction import redact_text

from .errors import BackupError

NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")
PARAM_NAME = re.compile(r"[a-z][a-z0-9_]{0,29}")
ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,63}")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
SAFE_FILENAME = re.compile(r"[^/\x00]{1,100}")
BASE_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "HOME")  # the dump sees these, never the worker's secrets

FILE_BAD = _("ダンププロファイルの設定ファイルが読めません（{path}）: {reason}")
FILE_WRITABLE = _(
    "ダンププロファイルの設定ファイル {path} は所有者以外も書き込めるため使いません。chmod 600 などで管理者だけが書けるようにしてください"
)
PROFILE_BAD = _("ダンププロファイル「{name}」の設定が正しくありません: {reason}")
PROFILE_UNKNOWN = _(
    "ダンププロファイル「{name}」はサーバの設定ファイルにありません。管理者に {path} への追加を依頼してください"
)
PARAM_MISSING = _("「{label}」を入力してください")
PARAM_INVALID = _("「{label}」に使えない文字が含まれています（許可される形式: {pattern}）")


@dataclass(frozen=True)
class Parameter:
    name: str
    label: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class DumpProfile:
    name: str
    label: str
    program: str
    args: tuple[str, ...]
    filename: str
    env: dict[str, str]
    pass_env: tuple[str, ...]
    parameters: tuple[Parameter, ...]


@dataclass(frozen=True)
class DumpCommand:
    """What the executor runs: an argv (no shell), a minimal environment, the snapshot's file name."""

    argv: list[str]
    env: dict[str, str]
    filename: str


def profiles_path() -> Path:
    """The setting, else the environment (`/etc/mamori/dump-profiles.toml` in production), else
    `MAMORI_HOME/dump-profiles.toml`."""
    configured = getattr(settings, "MAMORI_DUMP_PROFILES", None) or os.environ.get("MAMORI_DUMP_PROFILES")
    return Path(configured or Path(settings.MAMORI_HOME) / "dump-profiles.toml")


def _refuse(name: str, reason: str) -> BackupError:
    return BackupError(Message(PROFILE_BAD, name=name, reason=reason), code="profile_invalid")


def _parse_parameter(profile: str, name: str, raw: Any) -> Parameter:
    if not PARAM_NAME.fullmatch(name) or not isinstance(raw, dict):
        raise _refuse(profile, f"parameter {name!r}")
    try:
        pattern = re.compile(str(raw.get("pattern", "")))
    except re.error as exc:
        raise _refuse(profile, f"parameter {name}: pattern: {exc}") from exc
    if not raw.get("pattern"):
        raise _refuse(profile, f"parameter {name}: a pattern is required")
    return Parameter(name, str(raw.get("label") or name), pattern)


def _strings(profile: str, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _refuse(profile, f"{key} must be a list of strings")
    return tuple(value)


def _parse_profile(name: str, raw: Any) -> DumpProfile:
    if not NAME.fullmatch(name) or not isinstance(raw, dict):
        raise _refuse(name, "the name may use a-z, 0-9, - and _")
    program = raw.get("program")
    if not isinstance(program, str) or not os.path.isabs(program):
        raise _refuse(name, "program must be an absolute path")
    args = _strings(name, "args", raw.get("args", []))
    params = tuple(_parse_parameter(name, k, v) for k, v in (raw.get("parameters") or {}).items())
    declared = {p.name for p in params}
    filename = str(raw.get("filename") or f"{name}.dump")
    for text in (*args, filename):
        for used in PLACEHOLDER.findall(text):
            if used not in declared:
                raise _refuse(name, f"{{{used}}} is not a declared parameter")
        if redact_text(text) != text:
            raise _refuse(name, "credentials belong in env or a file such as PGPASSFILE, not in args")
    env = raw.get("env") or {}
    if not isinstance(env, dict) or not all(
        ENV_NAME.fullmatch(k) and isinstance(v, str) for k, v in env.items()
    ):
        raise _refuse(name, "env must map NAMES to strings")
    pass_env = _strings(name, "pass_env", raw.get("pass_env", []))
    if not all(ENV_NAME.fullmatch(n) for n in pass_env):
        raise _refuse(name, "pass_env must list environment variable NAMES")
    return DumpProfile(name, str(raw.get("label") or name), program, args, filename, env, pass_env, params)


def profiles_load() -> dict[str, DumpProfile]:
    """Every profile in the file (read each time, so the administrator's edit applies at once)."""
    path = profiles_path()
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return {}
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise BackupError(Message(FILE_WRITABLE, path=path), code="profile_file_writable")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BackupError(Message(FILE_BAD, path=path, reason=exc), code="profile_file_invalid") from exc
    raw = data.get("profiles") or {}
    if not isinstance(raw, dict):
        raise BackupError(
            Message(FILE_BAD, path=path, reason="[profiles] must be a table"), code="profile_file_invalid"
        )
    return {name: _parse_profile(name, value) for name, value in raw.items()}


def profile_get(name: str) -> DumpProfile:
    profile = profiles_load().get(name)
    if profile is None:
        raise BackupError(Message(PROFILE_UNKNOWN, name=name, path=profiles_path()), code="profile_unknown")
    return profile


def parameters_clean(profile: DumpProfile, values: dict[str, Any]) -> dict[str, str]:
    """The profile's parameters from what a form sent: each present and matching its pattern; a value
    that starts with '-' is refused whatever the pattern says (it would read as an option)."""
    clean: dict[str, str] = {}
    for p in profile.parameters:
        value = str(values.get(p.name) or "").strip()
        if not value:
            raise BackupError(Message(PARAM_MISSING, label=p.label), code="parameter_missing")
        if not p.pattern.fullmatch(value) or value.startswith("-") or "\x00" in value:
            raise BackupError(
                Message(PARAM_INVALID, label=p.label, pattern=p.pattern.pattern), code="parameter_invalid"
            )
        clean[p.name] = value
    return clean


def _fill(text: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def dump_filename(profile: DumpProfile, values: dict[str, str]) -> str:
    name = _fill(profile.filename, values)
    if not SAFE_FILENAME.fullmatch(name) or name in {".", ".."}:
        raise _refuse(profile.name, f"filename {name!r} is not a plain file name")
    return name


def dump_command(name: str, values: dict[str, Any]) -> DumpCommand:
    """The argv, environment and file name for one dump, validated against the file as it is now."""
    profile = profile_get(name)
    clean = parameters_clean(profile, values)
    env = {k: os.environ[k] for k in (*BASE_ENV, *profile.pass_env) if k in os.environ}
    env.update(profile.env)
    argv = [profile.program, *(_fill(a, clean) for a in profile.args)]
    return DumpCommand(argv=argv, env=env, filename=dump_filename(profile, clean))
