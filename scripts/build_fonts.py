"""Build the transcript fonts in static/fonts/ from Noto Serif (SIL Open Font License 1.1).

Why: fonts already cut to the Vietnamese range keep each render cheap and each PDF small
(embedding fonts whole cost 19–86 % more render time, and made PDFs 4 to 20 times larger, in the
measurements of bench/RESULTS.md, "Batch render and sign"), and bundling them means a PDF never
depends on the fonts of the machine that renders it.

Source: the static Noto Serif TTFs of Debian's ``fonts-noto-core`` package (version
20201225-1), taken without installing the package system-wide::

    cd /tmp && apt-get download fonts-noto-core && dpkg-deb -x fonts-noto-core_*.deb noto
    .venv/bin/python scripts/build_fonts.py --source /tmp/noto/usr/share/fonts/truetype/noto

Output (committed, so nobody needs to run this unless the range or the font changes):

- ``NotoSerif-{Regular,Bold,Italic,BoldItalic}.vi.ttf``: subset to VIETNAMESE_RANGES, hinting
  dropped (print only), OpenType layout features kept (mark positioning stacks diacritics).
- ``NotoSerif-Regular.full.ttf``: the complete regular face, the CSS fallback for rare
  characters (minority-language names) outside the range above.
- ``OFL.txt``: the licence, which travels with the fonts.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "static" / "fonts"

#: Basic Latin, Latin-1, Latin Extended-A, Ơ ơ … Ư ư, combining marks, Vietnamese letters with
#: stacked marks, general punctuation, the đồng sign.
VIETNAMESE_RANGES: tuple[tuple[int, int], ...] = (
    (0x0020, 0x007E),
    (0x00A0, 0x00FF),
    (0x0100, 0x017F),
    (0x01A0, 0x01B0),
    (0x0300, 0x0323),
    (0x1EA0, 0x1EF9),
    (0x2000, 0x206F),
    (0x20AB, 0x20AB),
)

STYLES = ("Regular", "Bold", "Italic", "BoldItalic")


def vietnamese_codepoints() -> list[int]:
    return [cp for first, last in VIETNAMESE_RANGES for cp in range(first, last + 1)]


def subset_font(source: Path, target: Path) -> None:
    options = subset.Options()
    options.hinting = False  # print only: hinting is for low-resolution screens
    options.layout_features = ["*"]  # keep mark/mkmk/ccmp so stacked diacritics sit right
    options.name_IDs = ["*"]  # keep the copyright and licence records
    options.notdef_outline = True
    options.glyph_names = False
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=vietnamese_codepoints())
    subsetter.subset(font)
    subset.save_font(font, str(target), options)


def check_coverage(path: Path) -> None:
    cmap = TTFont(path).getBestCmap()
    for word in ("Nguyễn Văn Bình", "Trần Thị An", "HỌC BẠ", "Độc lập - Tự do - Hạnh phúc"):
        missing = {ch for ch in word if ord(ch) not in cmap}
        if missing:
            raise SystemExit(f"{path.name} lacks {sorted(missing)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="folder with NotoSerif-*.ttf")
    parser.add_argument("--license", type=Path, help="OFL text to copy (default: keep)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for style in STYLES:
        target = OUT / f"NotoSerif-{style}.vi.ttf"
        subset_font(args.source / f"NotoSerif-{style}.ttf", target)
        check_coverage(target)
        print(f"{target.relative_to(ROOT)}: {target.stat().st_size:,} bytes")
    full = OUT / "NotoSerif-Regular.full.ttf"
    shutil.copyfile(args.source / "NotoSerif-Regular.ttf", full)
    print(f"{full.relative_to(ROOT)}: {full.stat().st_size:,} bytes")
    if args.license:
        shutil.copyfile(args.license, OUT / "OFL.txt")


if __name__ == "__main__":
    main()
