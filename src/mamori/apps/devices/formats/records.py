"""What the readers return: plain frozen records, normalised codes, and the key that joins them.

Matching key (documented for apps.devices): a hygiene report belongs to the inventory device with
the same `serial` when both have one, else the same `asset_tag` (CSV reports may carry it), else
the same `host_key` — the hostname case-folded without its DNS domain, so `PC-001`,
`pc-001.city.lg.jp` and Wazuh's agent name `pc-001` meet. `agent_id` (Wazuh) is kept for display
and for a later API pull; it is not a key, because re-enrolling an agent renews it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Generic, Literal, TypeVar

from .errors import Problem

KINDS = ("pc", "server", "firewall", "mail_gateway", "internet_gateway", "switch", "wireless", "other")
ZONES = ("mynumber", "lgwan", "internet")
STATUSES = ("in_use", "spare", "retired", "disposed")
SOURCES = ("wazuh", "osquery", "csv")

Source = Literal["wazuh", "osquery", "csv"]


@lru_cache(maxsize=65536)
def host_key(hostname: str) -> str:
    """`PC-001.city.lg.jp` → `pc-001`: how hostnames from different tools are compared."""
    name = unicodedata.normalize("NFKC", hostname).strip().casefold()
    if name.replace(".", "").isdigit() or ":" in name:  # an IP address is its own key
        return name
    return name.split(".", 1)[0]


@dataclass(frozen=True)
class DeviceRecord:
    """One inventory line. Codes are normalised (KINDS, ZONES, STATUSES); text is kept as written."""

    line: int
    asset_tag: str
    hostname: str
    kind: str
    maker: str = ""
    model: str = ""
    serial: str = ""
    os_name: str = ""
    os_version: str = ""
    department: str = ""
    location: str = ""
    zone: str = ""  # "" when the file does not say
    purchase_date: date | None = None
    lease_end: date | None = None
    end_of_support: date | None = None
    status: str = "in_use"

    @property
    def host_key(self) -> str:
        return host_key(self.hostname)


@dataclass(frozen=True)
class HygieneReport:
    """One device's state on one day, from one source. None / "" means the source does not say.

    `av_signatures_current` is what osquery and Windows report (up to date or not) when no signature
    date is known; `line` is the file line (CSV, osquery) or the agent's 1-based position (Wazuh).
    """

    line: int
    source: Source
    reported_on: date
    hostname: str = ""
    serial: str = ""
    asset_tag: str = ""
    agent_id: str = ""
    os_name: str = ""
    os_version: str = ""
    av_product: str = ""
    av_engine_version: str = ""
    av_signature_date: date | None = None
    av_signatures_current: bool | None = None
    av_realtime: bool | None = None
    last_patch_date: date | None = None
    missing_updates: int | None = None
    baseline_pass_pct: Decimal | None = None
    hotfixes: tuple[str, ...] = ()  # installed Windows KBs when the source lists them (Wazuh, osquery)

    @property
    def host_key(self) -> str:
        return host_key(self.hostname)


R = TypeVar("R")


@dataclass(frozen=True)
class Parsed(Generic[R]):
    """A reader's result: the records, the encoding it read, and notes that did not stop the import
    (an unknown column ignored, an osquery query it does not use)."""

    records: tuple[R, ...]
    encoding: str = "utf-8"
    notes: tuple[Problem, ...] = field(default_factory=tuple)

    def __iter__(self) -> Iterator[R]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)
