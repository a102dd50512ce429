"""Whatever text a ledger holds — formulas, quotes, commas, line breaks, full-width — a CSV written by
Python's csv module (as Excel would quote it) reads back cell for cell, on the line it starts."""

import csv
import io
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.apps.devices.formats import read_inventory_csv

# Any text but NUL and surrogates; outer spaces are stripped on reading, so none are generated there.
cell = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40).map(
    str.strip
)
tag = st.from_regex(r"[A-Z]{1,3}-[0-9]{1,6}", fullmatch=True)
day = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
ROW = st.tuples(
    tag, cell, cell, cell, cell, day, st.sampled_from(["", "LGWAN接続系", "インターネット接続系"])
)


@settings(max_examples=25, deadline=None)
@given(st.lists(ROW, min_size=1, max_size=8, unique_by=lambda r: r[0]))
def test_inventory_round_trip(rows):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["資産番号", "種別", "ホスト名", "メーカー", "設置場所", "備考", "購入日", "ネットワーク区分"]
    )
    starts = []
    for asset_tag, hostname, maker, location, note, bought, zone in rows:
        starts.append(len(io.StringIO(out.getvalue(), newline="").readlines()) + 1)  # as csv counts lines
        writer.writerow([asset_tag, "PC", hostname, maker, location, note, bought.strftime("%Y/%m/%d"), zone])
    encoded = out.getvalue().encode()
    records = read_inventory_csv(encoded).records
    assert [(r.line, r.asset_tag, r.hostname, r.maker, r.location, r.purchase_date) for r in records] == [
        (start, t, h, m, loc, b) for start, (t, h, m, loc, _note, b, _zone) in zip(starts, rows, strict=True)
    ]
