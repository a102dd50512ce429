"""Make a deterministic small-files data set: a city's file server of office documents.

    python bench/smallfiles.py DIR [--files 100000] [--tiny] [--seed 1]

DIR must not exist. Files of 1–12 KiB (`--tiny`: 16–1,024 bytes, for the 1,000,000-file point of
the scale series), about 250 to a folder, in folders four levels deep with Japanese names
(課 / 年度 / 起案・決裁・照会 / 案件NNN). Every fifth file is incompressible (a scan or a photo);
the others are Japanese and English office text, each file a different slice of one corpus, so
no two files share content. The same arguments always give the same names, sizes and bytes.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
from pathlib import Path

DEPTS = ("総務課", "市民課", "税務課", "財政課", "福祉課", "教育委員会", "建設課", "行政改革課")
YEARS = ("令和2年度", "令和3年度", "令和4年度", "令和5年度", "令和6年度")
KINDS = ("起案", "決裁", "照会")
WORDS = (
    "住民 記録 異動 届出 税額 決算 予算 文書 起案 決裁 保存 年度 令和 平成 市長 議会 "
    "resident record transfer tax budget settlement document approval archive fiscal "
    "0 1 2 3 4 5 6 7 8 9 円 千円 番地 丁目 東京都 大阪府 様 殿 。 、"
).split()
FILES_PER_FOLDER = 250
CORPUS_BYTES = 4 * 1024 * 1024


def folders(files: int) -> list[Path]:
    """The leaf folders: enough 案件 under each 課/年度/種別 for about 250 files each."""
    leaves = max(1, math.ceil(files / FILES_PER_FOLDER))
    per_kind = math.ceil(leaves / (len(DEPTS) * len(YEARS) * len(KINDS)))
    out = [
        Path(dept, year, kind, f"案件{case:03d}")
        for dept in DEPTS
        for year in YEARS
        for kind in KINDS
        for case in range(per_kind)
    ]
    return out[:leaves]


def corpus(rng: random.Random) -> bytes:
    words = [rng.choice(WORDS) for _ in range(CORPUS_BYTES // 4)]
    return " ".join(words).encode()[:CORPUS_BYTES]


def create(root: Path, files: int, *, tiny: bool = False, seed: int = 1) -> int:
    """Write the data set; returns the bytes written."""
    rng = random.Random(seed)
    text = corpus(rng)
    low, high = (16, 1024) if tiny else (1024, 12 * 1024)
    leaves = folders(files)
    root.mkdir(parents=True)
    total = 0
    for n in range(files):
        folder = root / leaves[n % len(leaves)]
        if n < len(leaves):
            folder.mkdir(parents=True)
        size = rng.randint(low, high)
        if n % 5 == 4:
            name, data = f"スキャン_{n:07d}.pdf", rng.randbytes(size)
        else:
            start = rng.randrange(len(text) - size)
            name, data = f"文書_{n:07d}.txt", text[start : start + size]
        fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        total += size
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--tiny", action="store_true", help="16–1,024 bytes per file instead of 1–12 KiB")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.dir.exists():
        sys.exit(f"smallfiles: {args.dir} exists; give a new directory")
    total = create(args.dir, args.files, tiny=args.tiny, seed=args.seed)
    print(f"smallfiles: {args.files} files, {total / 2**20:.1f} MiB in {args.dir}")


if __name__ == "__main__":
    main()
