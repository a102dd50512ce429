"""Fixtures for the backup app: users per role, a protected system with real repositories on disk
and a real PostgreSQL server for dump tests (the real SMTP server, `smtp_sink`, is shared by all apps)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.contrib.auth import get_user_model

from mamori.apps.backups import services
from mamori.apps.backups.jobs import run_execute, run_request
from mamori.apps.backups.models import JobKind, Medium, ProtectedSystem, RepositoryRole, Run, SourceKind
from mamori.apps.core.models import Department, Membership, Organisation, Role
from tests.remote_servers import rest_server  # noqa: F401 - fixture: a real REST server (another service)

REPO_PASSWORD = "correct horse battery staple"
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def org(db) -> Organisation:
    return Organisation.objects.create(name="みなと台市", prefecture="神奈川県")


@pytest.fixture
def departments(org) -> dict[str, Department]:
    soumu = Department.objects.create(organisation=org, code="1000", name="総務部")
    return {
        "soumu": soumu,
        "joho": Department.objects.create(organisation=org, code="1004", name="情報政策課", parent=soumu),
        "shimin": Department.objects.create(organisation=org, code="3001", name="市民課"),
    }


def make_user(username: str, role: str, department: Department | None = None, email_addr: str = ""):
    user = get_user_model().objects.create_user(username, email=email_addr, password="pw-for-tests-only")
    Membership.objects.create(user=user, role=role, department=department)
    return user


@pytest.fixture
def users(departments) -> dict[str, object]:
    return {
        "officer": make_user("officer", Role.SECURITY_OFFICER, email_addr="officer@city.example.jp"),
        "lead": make_user("lead", Role.DEPARTMENT_LEAD, departments["shimin"]),
        "auditor": make_user("auditor", Role.AUDITOR),
        "staff": make_user("staff", Role.STAFF, departments["joho"]),
    }


@dataclass
class SystemUnderTest:
    system: ProtectedSystem
    data: Path
    primary: Path
    offsite: Path

    def run(self, kind: str = JobKind.BACKUP) -> Run:
        return run_execute(run_id=run_request(actor="test", system=self.system, kind=kind, enqueue=False).pk)


def make_system(
    tmp: Path, department: Department, *, code: str = "fileserver", name: str = "ファイルサーバ"
) -> SystemUnderTest:
    data = tmp / f"data-{code}"
    (data / "共有" / "総務課").mkdir(parents=True)
    (data / "共有" / "総務課" / "会議録.txt").write_text(
        "情報セキュリティ委員会 会議録\n" * 50, encoding="utf-8"
    )
    (data / "共有" / "名簿.csv").write_bytes(os.urandom(3000))
    (data / "一時.tmp").write_text("excluded")
    system = services.system_create(
        actor="test", code=code, name=name, department=department, rpo_hours=24, rto_minutes=60
    )
    services.source_create(
        actor="test", system=system, kind=SourceKind.PATH, path=str(data), excludes="*.tmp"
    )
    primary, offsite = tmp / f"repo-{code}-primary", tmp / f"repo-{code}-offsite"
    services.repository_create(
        actor="test", system=system, name="庁内", url=str(primary), password=REPO_PASSWORD, initialize=True
    )
    services.repository_create(
        actor="test",
        system=system,
        name="遠隔地",
        url=str(offsite),
        password=REPO_PASSWORD,
        role=RepositoryRole.OFFSITE,
        medium=Medium.EXTERNAL,
        initialize=True,
    )
    return SystemUnderTest(system, data, primary, offsite)


@pytest.fixture
def sut(tmp_path, departments) -> SystemUnderTest:
    return make_system(tmp_path, departments["joho"])


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int
    user: str
    password: str

    def env(self) -> dict[str, str]:
        return {**os.environ, "PGPASSWORD": self.password} if self.password else dict(os.environ)

    def args(self, dbname: str) -> list[str]:
        return ["-h", self.host, "-p", str(self.port), "-U", self.user, "-d", dbname]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The PostgreSQL the suite runs on (DATABASE_URL), else a throwaway cluster started for this session."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        u = urlparse(url)
        yield PgServer(u.hostname or "127.0.0.1", u.port or 5432, u.username or "postgres", u.password or "")
        return
    folder = Path(tempfile.mkdtemp(prefix="mamori-pg-"))
    folder.chmod(0o755)
    script = ROOT / "scripts" / "postgres.sh"
    out = subprocess.run([str(script), "start", str(folder)], capture_output=True, text=True)
    if out.returncode != 0:
        pytest.fail(f"could not start PostgreSQL: {out.stderr.strip()}")
    u = urlparse(out.stdout.strip())
    try:
        yield PgServer(u.hostname or "127.0.0.1", u.port or 5432, u.username or "postgres", "")
    finally:
        subprocess.run([str(script), "stop", str(folder)], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def write_profiles(path: Path, text: str) -> Path:
    """A dump-profiles.toml as the host administrator writes it (mode 600)."""
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.fixture
def dump_profiles(settings, tmp_path):
    """Point the app at a profiles file in tmp_path; call it with the TOML text."""

    def configure(text: str) -> Path:
        settings.MAMORI_DUMP_PROFILES = write_profiles(tmp_path / "dump-profiles.toml", text)
        return settings.MAMORI_DUMP_PROFILES

    return configure
