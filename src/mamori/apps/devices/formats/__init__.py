"""Readers for device inventories and hygiene reports: pure functions from bytes to records.

Django-free (the worker, the CLI and the tests call them alike). Each reader checks the whole file
and either returns every record or raises one error naming every problem:

    ValueError
     └── FormatError          .problems (Problem: line or JSON path, msgid, params), .count

Formats: inventory CSV (a city's sheet, GLPI, Snipe-IT), hygiene CSV, the Wazuh server API's JSON
(see `wazuh`), osquery result logs (see `osquery`). `records` documents how reports meet devices.
"""

from .detect import Format, detect_format, read_file
from .errors import FormatError, Problem
from .hygiene_csv import read_hygiene_csv
from .inventory_csv import read_inventory_csv
from .osquery import read_osquery
from .records import KINDS, STATUSES, ZONES, DeviceRecord, HygieneReport, Parsed, host_key
from .wazuh import read_wazuh

__all__ = [
    "KINDS",
    "STATUSES",
    "ZONES",
    "DeviceRecord",
    "Format",
    "FormatError",
    "HygieneReport",
    "Parsed",
    "Problem",
    "detect_format",
    "host_key",
    "read_file",
    "read_hygiene_csv",
    "read_inventory_csv",
    "read_osquery",
    "read_wazuh",
]
