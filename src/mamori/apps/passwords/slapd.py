"""A throwaway OpenLDAP server (Debian `slapd`) on 127.0.0.1 for the tests and the demo.

Its own config, schema, database and a fresh certificate authority under one directory; StartTLS on
the ldap:// port and TLS on the ldaps:// port; the ppolicy overlay (lockout after failures) and the
lastbind overlay (`authTimestamp`). The `ad-lite` schema gives entries Active Directory's attributes
with matching rules, so an AD-shaped directory can be audited without a Windows server.
"""

from __future__ import annotations

import base64
import ctypes
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SUFFIX = "dc=minatodai,dc=example"
ROOT_DN = f"cn=admin,{SUFFIX}"
MS = "1.2.840.113556.1.4"
PR_SET_PDEATHSIG = 1

AD_LITE_SCHEMA = f"""
attributetype ( {MS}.221 NAME 'sAMAccountName' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( {MS}.656 NAME 'userPrincipalName' EQUALITY caseIgnoreMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( {MS}.96 NAME 'pwdLastSet' EQUALITY integerMatch ORDERING integerOrderingMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( {MS}.8 NAME 'userAccountControl' EQUALITY integerMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( {MS}.159 NAME 'accountExpires' EQUALITY integerMatch ORDERING integerOrderingMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( {MS}.1696 NAME 'lastLogonTimestamp' EQUALITY integerMatch ORDERING integerOrderingMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( {MS}.662 NAME 'lockoutTime' EQUALITY integerMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.2.102 NAME 'memberOf' EQUALITY distinguishedNameMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )
attributetype ( 1.2.840.113556.1.2.2 NAME 'whenCreated' EQUALITY generalizedTimeMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.24 SINGLE-VALUE )
objectclass ( 1.2.840.113556.1.5.9 NAME 'user' AUXILIARY
  MAY ( sAMAccountName $ userPrincipalName $ pwdLastSet $ userAccountControl $ accountExpires $
        lastLogonTimestamp $ lockoutTime $ memberOf $ whenCreated ) )
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class TestCA:
    ca_pem: str
    cert_path: Path
    key_path: Path


def make_ca(directory: Path, *, host: str = "127.0.0.1") -> TestCA:
    """A fresh CA and a server certificate for `host` (and localhost), valid for a year."""
    now = datetime.now(UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("mamori test CA"))
        .issuer_name(name("mamori test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name(host))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(host)), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = directory / "server.crt", directory / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_path.chmod(0o600)
    return TestCA(ca.public_bytes(serialization.Encoding.PEM).decode(), cert_path, key_path)


def _config(root: Path, tls: TestCA, root_password: str) -> str:
    return f"""include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
include {root}/ad-lite.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
moduleload lastbind
pidfile {root}/slapd.pid
argsfile {root}/slapd.args
TLSCertificateFile {tls.cert_path}
TLSCertificateKeyFile {tls.key_path}
database mdb
maxsize 104857600
suffix "{SUFFIX}"
rootdn "{ROOT_DN}"
rootpw {root_password}
directory {root}/db
index objectClass eq
overlay ppolicy
ppolicy_default "cn=default,ou=policies,{SUFFIX}"
ppolicy_hash_cleartext
ppolicy_use_lockout
overlay lastbind
access to attrs=userPassword,shadowLastChange by self write by anonymous auth by * none
access to * by * read
"""


BASE_LDIF = f"""dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
o: minatodai
dc: minatodai

dn: ou=people,{SUFFIX}
objectClass: organizationalUnit
ou: people

dn: ou=policies,{SUFFIX}
objectClass: organizationalUnit
ou: policies

dn: cn=default,ou=policies,{SUFFIX}
objectClass: pwdPolicy
objectClass: device
cn: default
pwdAttribute: userPassword
pwdLockout: TRUE
pwdMaxFailure: 5
pwdLockoutDuration: 0
pwdFailureCountInterval: 0
"""


def ldif_line(attribute: str, value: str) -> str:
    """One LDIF line; values that are not safe strings (non-ASCII, leading space/colon/<) are base64."""
    safe = (
        value.isascii()
        and value.isprintable()
        and not value.startswith((" ", ":", "<"))
        and not value.endswith(" ")
    )
    return f"{attribute}: {value}" if safe else f"{attribute}:: {base64.b64encode(value.encode()).decode()}"


@dataclass
class Slapd:
    root: Path
    port: int  # ldap:// (StartTLS)
    tls_port: int  # ldaps://
    ca_pem: str
    pid: int
    process: subprocess.Popen[bytes] | None = None  # our child, when we started it

    def stop(self) -> None:
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        if self.process is not None:
            self.process.wait(timeout=10)
            return
        for _ in range(100):
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)


def _tools() -> tuple[str, str]:
    slapd = shutil.which("slapd") or "/usr/sbin/slapd"
    slapadd = shutil.which("slapadd") or "/usr/sbin/slapadd"
    if not (Path(slapd).exists() and Path(slapadd).exists()):
        raise FileNotFoundError("slapd")
    return slapd, slapadd


def slapd_available() -> bool:
    try:
        _tools()
    except FileNotFoundError:
        return False
    return True


def slapd_prepare(root: Path, ldif: str, *, root_password: str) -> None:
    """Write config, schema and a fresh CA under `root` and load `ldif` (after the base entries) offline."""
    _slapd, slapadd = _tools()
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o700)
    (root / "db").mkdir(exist_ok=True)
    tls = make_ca(root)
    (root / "ca.pem").write_text(tls.ca_pem)
    (root / "ad-lite.schema").write_text(AD_LITE_SCHEMA)
    (root / "slapd.conf").write_text(_config(root, tls, root_password))
    (root / "data.ldif").write_text(BASE_LDIF + "\n" + ldif)
    loaded = subprocess.run(
        [slapadd, "-q", "-f", str(root / "slapd.conf"), "-l", str(root / "data.ldif")],
        capture_output=True,
        text=True,
    )
    if loaded.returncode != 0:
        raise RuntimeError(f"slapadd refused the data: {loaded.stderr.strip()[-500:]}")


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


def _running_pid(root: Path) -> int | None:
    try:
        pid = int((root / "slapd.pid").read_text().strip())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None
    return pid


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the process that started it ends, however it ends
    (Ctrl-C, SIGTERM or SIGKILL of the demo or the test run), so no slapd outlives it (Linux)."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _launch(slapd: str, root: Path, port: int, tls_port: int) -> subprocess.Popen[bytes] | None:
    """slapd in the foreground (`-d 0`) as our child; None when it exits at once (a port is taken)."""
    urls = f"ldap://127.0.0.1:{port}/ ldaps://127.0.0.1:{tls_port}/"
    with (root / "slapd.log").open("ab") as log:
        proc = subprocess.Popen(
            [slapd, "-d", "0", "-f", str(root / "slapd.conf"), "-h", urls],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            preexec_fn=_die_with_parent,
        )
    for _ in range(200):
        if proc.poll() is not None:
            return None
        if _answers(port):
            return proc
        time.sleep(0.05)
    proc.terminate()
    return None


def slapd_run(root: Path, *, port: int = 0, tls_port: int = 0) -> Slapd:
    """Start the prepared server on the given ports (0: free ones); reuse it if it already runs."""
    slapd, _slapadd = _tools()
    ca_pem = (root / "ca.pem").read_text()
    if (pid := _running_pid(root)) and port and _answers(port):
        return Slapd(root, port, tls_port, ca_pem, pid)
    port, tls_port = port or _free_port(), tls_port or _free_port()
    proc = _launch(slapd, root, port, tls_port)
    if proc is None:  # a remembered port is taken now: any free one will do
        port, tls_port = _free_port(), _free_port()
        proc = _launch(slapd, root, port, tls_port)
    if proc is None:
        raise RuntimeError(f"slapd did not start; see {root / 'slapd.log'}")
    return Slapd(root, port, tls_port, ca_pem, proc.pid, proc)


def slapd_start(root: Path, ldif: str, *, root_password: str) -> Slapd:
    """Prepare and start a server on free ports (raises FileNotFoundError without slapd)."""
    slapd_prepare(root, ldif, root_password=root_password)
    return slapd_run(root)
