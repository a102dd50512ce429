"""The one module that talks LDAP (`ldap3`): connect with TLS, bind, search pages of raw entries.

ldap3's exceptions become one `DirectoryError` whose code names the step that failed (plain_refused,
unreachable, tls, bind, base_missing, filter_invalid, search), so the "test connection" button and
an audit run can say exactly what went wrong. The bind password lives only in `DirectoryAccess`
(hidden from repr) and is never part of a message.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field

import ldap3
from django.utils.translation import gettext_lazy as _
from ldap3.core import exceptions as lx
from ldap3.operation.search import parse_filter
from ldap3.utils.conv import escape_filter_chars

from mamori.apps.core.messages import Message

from .accounts import Raw
from .errors import DirectoryError

TIMEOUT_SECONDS = 10
ATTRIBUTE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,63}$")

OPENLDAP_ATTRIBUTES = [
    "uid", "cn", "displayName", "mail", "employeeNumber", "memberOf", "pwdChangedTime",
    "pwdAccountLockedTime", "pwdReset", "shadowLastChange", "shadowMax", "shadowExpire",
    "authTimestamp", "pwdLastSuccess", "createTimestamp",
]  # fmt: skip
AD_ATTRIBUTES = [
    "sAMAccountName", "userPrincipalName", "cn", "displayName", "mail", "employeeNumber", "employeeID",
    "memberOf", "pwdLastSet", "userAccountControl", "lastLogonTimestamp", "accountExpires",
    "lockoutTime", "whenCreated",
]  # fmt: skip


@dataclass(frozen=True)
class DirectoryAccess:
    host: str
    port: int
    security: str  # "starttls", "ldaps" or "plain"
    bind_dn: str
    password: str = field(repr=False)
    base_dn: str = ""
    ca_pem: str = ""
    allow_plain: bool = False


def _tls(access: DirectoryAccess) -> ldap3.Tls:
    try:
        return ldap3.Tls(
            validate=ssl.CERT_REQUIRED,
            version=ssl.PROTOCOL_TLS_CLIENT,
            ca_certs_data=access.ca_pem or None,
        )
    except (lx.LDAPSSLConfigurationError, ssl.SSLError, ValueError) as exc:
        raise DirectoryError(
            _("CA証明書を読み込めません（PEM形式の証明書を貼り付けてください）"), code="ca_invalid"
        ) from exc


def bind_as(access: DirectoryAccess, *, user: str, password: str) -> ldap3.Connection:
    """An open, TLS-protected connection bound as `user` (each failure named by its step)."""
    if access.security == "plain" and not access.allow_plain:
        raise DirectoryError(
            _("暗号化なしの接続は許可されていません（LDAPS か StartTLS を選んでください）"),
            code="plain_refused",
        )
    tls = None if access.security == "plain" else _tls(access)
    server = ldap3.Server(
        access.host,
        port=access.port,
        use_ssl=access.security == "ldaps",
        tls=tls,
        get_info=ldap3.NONE,
        connect_timeout=TIMEOUT_SECONDS,
    )
    conn = ldap3.Connection(
        server, user=user, password=password, raise_exceptions=True, receive_timeout=TIMEOUT_SECONDS,
        auto_referrals=False, read_only=True,
    )  # fmt: skip
    where = f"{access.host}:{access.port}"
    try:
        conn.open()
        if access.security == "starttls":
            conn.start_tls()
    except (lx.LDAPSocketOpenError, lx.LDAPStartTLSError, lx.LDAPSocketReceiveError) as exc:
        text = str(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate" in text.lower():
            raise DirectoryError(
                Message(
                    _("%(where)s のサーバ証明書を検証できません（CA証明書とホスト名を確認してください）"),
                    where=where,
                ),
                code="tls",
            ) from exc
        if "ssl" in text.lower() or isinstance(exc, lx.LDAPStartTLSError):
            raise DirectoryError(
                Message(
                    _("%(where)s とTLSで接続できません（ポートと接続の保護の種類を確認してください）"),
                    where=where,
                ),
                code="tls",
            ) from exc
        raise DirectoryError(
            Message(
                _("%(where)s に接続できません（ホスト名・ポート・ファイアウォールを確認してください）"),
                where=where,
            ),
            code="unreachable",
        ) from exc
    except lx.LDAPExceptionError as exc:
        raise DirectoryError(
            Message(_("%(where)s に接続できません（%(kind)s）"), where=where, kind=type(exc).__name__),
            code="unreachable",
        ) from exc
    try:
        conn.bind()
    except lx.LDAPInvalidCredentialsResult as exc:
        conn.unbind()
        raise DirectoryError(
            Message(_("バインドできません: DN またはパスワードが違います（%(dn)s）"), dn=user), code="bind"
        ) from exc
    except (lx.LDAPOperationResult, lx.LDAPExceptionError) as exc:
        conn.unbind()
        raise DirectoryError(
            Message(_("バインドできません（%(kind)s）"), kind=type(exc).__name__), code="bind"
        ) from exc
    return conn


def connect(access: DirectoryAccess) -> ldap3.Connection:
    return bind_as(access, user=access.bind_dn, password=access.password)


def check_base(conn: ldap3.Connection, base_dn: str) -> None:
    try:
        conn.search(base_dn, "(objectClass=*)", search_scope=ldap3.BASE, attributes=["1.1"])
    except lx.LDAPNoSuchObjectResult as exc:
        raise DirectoryError(
            Message(_("検索ベース %(base)s がディレクトリにありません"), base=base_dn), code="base_missing"
        ) from exc
    except (lx.LDAPInvalidDNSyntaxResult, lx.LDAPInvalidDnError) as exc:
        raise DirectoryError(
            Message(_("検索ベース %(base)s はDNの形式になっていません"), base=base_dn), code="base_missing"
        ) from exc
    except (lx.LDAPOperationResult, lx.LDAPExceptionError) as exc:
        raise DirectoryError(
            Message(_("検索ベースを確認できません（%(kind)s）"), kind=type(exc).__name__), code="search"
        ) from exc


def test_connection(access: DirectoryAccess) -> None:
    """Connect, TLS, bind and find the search base; raise `DirectoryError` at the first failing step."""
    conn = connect(access)
    try:
        check_base(conn, access.base_dn)
    finally:
        conn.unbind()


def search_accounts(
    access: DirectoryAccess, *, user_filter: str, attributes: list[str], page_size: int
) -> Iterator[tuple[str, Raw]]:
    """Every entry under the base that matches `user_filter`, page by page: (DN, raw attribute bytes)."""
    conn = connect(access)
    try:
        check_base(conn, access.base_dn)
        entries = conn.extend.standard.paged_search(
            access.base_dn,
            user_filter,
            search_scope=ldap3.SUBTREE,
            attributes=attributes,
            paged_size=page_size,
            generator=True,
        )
        for entry in entries:
            if entry.get("type") != "searchResEntry":
                continue  # referrals and continuation references
            yield entry["dn"], dict(entry.get("raw_attributes") or {})
    except lx.LDAPInvalidFilterError as exc:
        raise DirectoryError(
            Message(_("アカウントの検索フィルタが正しくありません: %(filter)s"), filter=user_filter),
            code="filter_invalid",
        ) from exc
    except (lx.LDAPOperationResult, lx.LDAPExceptionError) as exc:
        raise _search_error(exc) from exc
    finally:
        conn.unbind()


def user_filter_valid(user_filter: str) -> bool:
    """Whether ldap3 can parse the officer's filter (checked before it is saved)."""
    try:
        parse_filter(user_filter, None, False, False, None, False)
    except (lx.LDAPInvalidFilterError, lx.LDAPExceptionError, IndexError, ValueError):
        return False
    return True


def attribute_name_valid(name: str) -> bool:
    return bool(ATTRIBUTE_NAME.match(name))


def user_search_filter(login_attribute: str, login: str, user_filter: str) -> str:
    """The filter that finds one person by login: the typed name is escaped (no LDAP injection)."""
    return f"(&{user_filter}({login_attribute}={escape_filter_chars(login)}))"


def find_account(
    access: DirectoryAccess, *, login_attribute: str, login: str, user_filter: str, attributes: list[str]
) -> tuple[str, Raw] | None:
    """The one account whose login is exactly `login`, with `attributes`; None when none or several match."""
    conn = connect(access)
    try:
        conn.search(
            access.base_dn,
            user_search_filter(login_attribute, login, user_filter),
            search_scope=ldap3.SUBTREE,
            attributes=attributes or ["1.1"],
            size_limit=2,
        )
        found = [
            (e["dn"], dict(e.get("raw_attributes") or {}))
            for e in conn.response or []
            if e.get("type") == "searchResEntry"
        ]
    except lx.LDAPSizeLimitExceededResult:
        return None
    except (lx.LDAPOperationResult, lx.LDAPExceptionError) as exc:
        raise _search_error(exc) from exc
    finally:
        conn.unbind()
    return found[0] if len(found) == 1 else None


def _search_error(exc: Exception) -> DirectoryError:
    return DirectoryError(
        Message(_("アカウントを検索できません（%(kind)s）"), kind=type(exc).__name__), code="search"
    )
