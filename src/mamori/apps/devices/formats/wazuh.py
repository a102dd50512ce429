"""Hygiene from the Wazuh server API's JSON, saved to a file on the management segment.

The file is one bundle of raw API responses, each exactly as the API returned it
(`{"data": {"affected_items": [...], "total_affected_items": N, ...}, "error": 0}`):

    {"agents":   <GET /agents>,
     "sca":      {"001": <GET /sca/001>, ...},
     "packages": {"001": <GET /syscollector/001/packages>, ...},
     "hotfixes": {"001": <GET /syscollector/001/hotfixes>, ...}}

Only "agents" is required (one response, or a list of its pages); a bare `GET /agents` response is
read as a bundle of agents alone. A file holding fewer agents than the API's `total_affected_items`
is refused: the API answers 500 unless asked for more, and the missing agents would look silent.
Pull packages with `?select=name,version&limit=1000`: the reader needs no more, and a Windows PC's
full package list makes the file several times larger.
One report per agent that has connected: dated by its last keep-alive (the city's day), OS from the
agent, the SCA baseline pass rate as passed / (passed + failed) over all its policies, the installed
KBs, and the antivirus product and version when a package names a known product. Wazuh reports no
signature date, real-time state or missing-update count: those stay None.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .errors import Problem, Problems, fail, gettext_noop
from .jsonio import WRONG_TYPE, load, local_date, type_name
from .records import HygieneReport, Parsed

CITY_TZ = ZoneInfo("Asia/Tokyo")
MAX_TEXT = 200
# Package names (case-folded substrings) of antivirus products seen in Japanese local government.
AV_PRODUCTS = (
    "apex one",
    "officescan",
    "virus buster",
    "ウイルスバスター",
    "trend micro",
    "deep security",
    "eset",
    "symantec endpoint",
    "norton",
    "mcafee",
    "trellix",
    "sophos",
    "kaspersky",
    "crowdstrike",
    "sentinelone",
    "cylance",
    "ffri",
    "yarai",
    "microsoft defender",
    "windows defender",
    "f-secure",
    "bitdefender",
    "cortex xdr",
)

# Searched in the case-folded name: IGNORECASE makes this alternation eight times slower.
_AV_NAMES = re.compile("|".join(re.escape(p) for p in AV_PRODUCTS))

NOT_WAZUH = gettext_noop(
    "Wazuh API の応答（data.affected_items）でも、それをまとめたファイル（agents・sca・packages・hotfixes）でもありません"
)
MISSING = gettext_noop("%(field)s がありません")
BAD_TIME = gettext_noop("日時 '%(value)s' が読めません（例 2024-04-01T09:00:00Z）")
NUL_TEXT = gettext_noop("NUL文字（\\u0000）を含む文字列は取り込めません")
TOO_LONG = gettext_noop("文字列が長すぎます（%(limit)d文字まで）")
API_ERROR = gettext_noop("Wazuh API がエラーを返した応答です（error=%(code)s）。取得し直してください")
INCOMPLETE_AGENTS = gettext_noop(
    "エージェント %(total)d 台のうち %(found)d 台分しかありません。GET /agents を limit=100000 で（またはすべてのページを）取得してください"
)
INCOMPLETE_LIST = gettext_noop(
    "%(total)d 件のうち %(found)d 件分しかないので、あるものだけ読みました（limit を増やすと全件になります）"
)
UNKNOWN_AGENT = gettext_noop("エージェント %(agent)s は agents にないので読み飛ばしました")
NEVER_CONNECTED = gettext_noop("エージェント %(agent)s（%(name)s）は接続したことがないので読み飛ばしました")


class _At:
    """A JSON path built only when a problem names it (a month of bundles holds millions of items)."""

    __slots__ = ("base", "index")

    def __init__(self, base: str, index: int) -> None:
        self.base, self.index = base, index

    def __str__(self) -> str:
        return f"{self.base}[{self.index}]"


class _Items:
    """The affected items of one response (objects only) and where they sit, for paths on demand."""

    __slots__ = ("base", "items", "listed", "total")

    def __init__(self, base: str = "", items: list[dict[str, Any]] | None = None, total: int = 0) -> None:
        self.base, self.items = base, items or []
        self.listed = len(self.items)  # before items that are no object are dropped
        self.total = total  # the API's total_affected_items: more than listed means pages are missing

    def at(self, index: int) -> _At:
        return _At(self.base, index)


NONE = _Items()


class _Reader:
    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        self.notes: list[Problem] = []

    def expect(self, value: Any, kind: type, path: str) -> Any:
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return value
        expected = {dict: "オブジェクト", list: "配列", str: "文字列", int: "整数"}[kind]
        self.problems.add(WRONG_TYPE, path=path, expected=expected, found=type_name(value))
        return None

    def text(self, obj: dict[str, Any], key: str, path: str | _At) -> str:
        value = obj.get(key)
        if type(value) is str and len(value) <= MAX_TEXT and "\x00" not in value:
            return value.strip()  # the usual case, checked at once
        if value is None:
            return ""
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        value = self.expect(value, str, f"{path}.{key}")
        if value is None:
            return ""
        if "\x00" in value:
            self.problems.add(NUL_TEXT, path=f"{path}.{key}")
            return ""
        if len(value) > MAX_TEXT:
            self.problems.add(TOO_LONG, path=f"{path}.{key}", limit=MAX_TEXT)
            return ""
        return str(value).strip()

    def items(self, response: Any, path: str) -> _Items:
        """The affected items of one API response; an item that is no object is a problem."""
        if self.expect(response, dict, path) is None:
            return NONE
        if response.get("error") not in (None, 0):
            self.problems.add(API_ERROR, path=f"{path}.error", code=response.get("error"))
            return NONE
        data = self.expect(response.get("data"), dict, f"{path}.data")
        if data is None:
            return NONE
        items = self.expect(data.get("affected_items"), list, f"{path}.data.affected_items") or []
        total = data.get("total_affected_items")
        found = _Items(f"{path}.data.affected_items", items, total if type(total) is int else 0)
        if not all(type(item) is dict for item in items):
            for i, item in enumerate(items):
                self.expect(item, dict, str(found.at(i)))
            found.items = [item for item in items if isinstance(item, dict)]
        return found

    def agents(self, value: Any) -> list[tuple[_At, dict[str, Any]]]:
        """`GET /agents` as one response or a list of its pages; a file short of the API's total is
        refused (the API answers 500 agents unless asked for more, and the rest would look silent)."""
        pages = value if isinstance(value, list) else [value]
        agents: list[tuple[_At, dict[str, Any]]] = []
        total = listed = 0
        for p, page in enumerate(pages):
            found = self.items(page, f"agents[{p}]" if isinstance(value, list) else "agents")
            agents += [(found.at(i), item) for i, item in enumerate(found.items)]
            total, listed = max(total, found.total), listed + found.listed
        if total > listed:
            self.problems.add(INCOMPLETE_AGENTS, path="agents", found=listed, total=total)
        return agents

    def per_agent(self, bundle: dict[str, Any], section: str) -> dict[str, _Items]:
        value = bundle.get(section)
        if value is None or self.expect(value, dict, section) is None:
            return {}
        result = {}
        for agent, response in value.items():
            found = result[str(agent)] = self.items(response, f"{section}.{agent}")
            if found.total > found.listed:
                self.notes.append(
                    Problem(INCOMPLETE_LIST, {"found": found.listed, "total": found.total}, path=found.base)
                )
        return result

    def time(self, value: str, path: str) -> datetime | None:
        try:
            return datetime.fromisoformat(value.replace(" ", "T"))
        except ValueError:
            self.problems.add(BAD_TIME, path=path, value=value[:40])
            return None


def read_wazuh(data: bytes, *, tz: tzinfo = CITY_TZ) -> Parsed[HygieneReport]:
    """One report per connected agent, or FormatError naming every bad field by its JSON path."""
    document = load(data)
    if isinstance(document, dict) and "agents" in document:
        bundle = document
    elif isinstance(document, dict) and isinstance(document.get("data"), dict):
        bundle = {"agents": document}
    else:
        raise fail(NOT_WAZUH)
    problems = Problems()
    reader = _Reader(problems)
    agents = reader.agents(bundle["agents"])
    sca = reader.per_agent(bundle, "sca")
    packages = reader.per_agent(bundle, "packages")
    hotfixes = reader.per_agent(bundle, "hotfixes")
    notes = reader.notes
    reports = []
    known = set()
    for position, (path, agent) in enumerate(agents, start=1):
        agent_id = reader.text(agent, "id", path)
        name = reader.text(agent, "name", path)
        known.add(agent_id)
        if not agent_id:
            problems.add(MISSING, path=f"{path}.id", field="id")
            continue
        keepalive = reader.text(agent, "lastKeepAlive", path)
        status = reader.text(agent, "status", path)
        if status in ("never_connected", "pending") or not keepalive or keepalive.startswith("9999"):
            notes.append(Problem(NEVER_CONNECTED, {"agent": agent_id, "name": name}, path=str(path)))
            continue
        moment = reader.time(keepalive, f"{path}.lastKeepAlive")
        os_info = agent.get("os") or {}
        if reader.expect(os_info, dict, f"{path}.os") is None:
            os_info = {}
        av_product, av_version = _antivirus(reader, packages.get(agent_id, NONE))
        os_name = reader.text(os_info, "name", f"{path}.os")
        os_version = reader.text(os_info, "version", f"{path}.os")
        baseline = _baseline(reader, sca.get(agent_id, NONE))
        kbs = _hotfixes(reader, hotfixes.get(agent_id, NONE))
        if moment is not None:
            reports.append(
                HygieneReport(
                    line=position,
                    source="wazuh",
                    reported_on=local_date(moment, tz),
                    hostname=name,
                    agent_id=agent_id,
                    av_product=av_product,
                    av_engine_version=av_version,
                    os_name=os_name,
                    os_version=os_version,
                    baseline_pass_pct=baseline,
                    hotfixes=kbs,
                )
            )
    for section in (sca, packages, hotfixes):
        for agent_id in section.keys() - known:
            notes.append(Problem(UNKNOWN_AGENT, {"agent": agent_id}))
    problems.raise_if_any()
    return Parsed(tuple(reports), "utf-8", tuple(notes))


def _baseline(reader: _Reader, policies: _Items) -> Decimal | None:
    passed = failed = 0
    for i, policy in enumerate(policies.items):
        path = policies.at(i)
        p = reader.expect(policy.get("pass", 0), int, f"{path}.pass")
        f = reader.expect(policy.get("fail", 0), int, f"{path}.fail")
        passed += max(p or 0, 0)
        failed += max(f or 0, 0)
    if passed + failed == 0:
        return None
    return (Decimal(100 * passed) / Decimal(passed + failed)).quantize(Decimal("0.1"))


def _antivirus(reader: _Reader, packages: _Items) -> tuple[str, str]:
    """The first package a known antivirus product's name is in; names that are not text are skipped."""
    for i, package in enumerate(packages.items):
        name = package.get("name")
        if isinstance(name, str) and _AV_NAMES.search(name.casefold()):
            path = packages.at(i)
            return reader.text(package, "name", path), reader.text(package, "version", path)
    return "", ""


def _hotfixes(reader: _Reader, hotfixes: _Items) -> tuple[str, ...]:
    kbs = set()
    for i, item in enumerate(hotfixes.items):
        kb = item.get("hotfix")
        if type(kb) is str and len(kb) <= MAX_TEXT and "\x00" not in kb:
            kbs.add(kb.strip())  # the usual case, without building the item's path
        else:
            kbs.add(reader.text(item, "hotfix", hotfixes.at(i)))
    return tuple(sorted(kbs - {""}))
