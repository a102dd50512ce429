"""The bytes of a text file a person uploads (a CSV from Excel, an export from another system) as text.

Django-free, so the device file readers (`apps.devices.formats`, kept Django-free by an import-linter
contract) decode exactly as the staff and attendance imports do. Callers word their own messages.

A BOM decides: UTF-8, or UTF-16 (Excel's "Unicode text"). Without one: UTF-8 when the whole file
reads as UTF-8, else CP932 (Excel's Japanese default; a superset of Shift_JIS). A file that reads
whole in neither is not guessed at: the lines the likelier encoding cannot read are named.
"""

from __future__ import annotations

from dataclasses import dataclass

_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "utf-16": "UTF-16", "cp932": "CP932 (Shift_JIS)"}


@dataclass(frozen=True)
class DecodedText:
    text: str  # "" when `unreadable_lines` is not empty
    encoding: str  # the Python codec name
    unreadable_lines: tuple[int, ...] = ()  # 1-based, in the likelier encoding

    @property
    def label(self) -> str:
        """The encoding as a person knows it, for messages."""
        return LABELS[self.encoding]


def decode_text(data: bytes) -> DecodedText:
    encodings = [codec for bom, codec in _BOMS if data.startswith(bom)][:1] or ["utf-8", "cp932"]
    for encoding in encodings:
        try:
            return DecodedText(data.decode(encoding), encoding)
        except UnicodeDecodeError:
            continue
    lines = data.splitlines()
    unreadable = {
        encoding: tuple(n for n, raw in enumerate(lines, start=1) if not _reads(raw, encoding))
        for encoding in encodings
    }
    encoding = min(encodings, key=lambda e: len(unreadable[e]))  # a tie: UTF-8
    # every line reads alone but not the whole: the fault is where splitting hid it, a cut-off end
    return DecodedText("", encoding, unreadable[encoding] or (max(len(lines), 1),))


def _reads(raw: bytes, encoding: str) -> bool:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True
