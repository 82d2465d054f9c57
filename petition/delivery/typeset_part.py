"""Lay out one part of the delivery copy with typst, then exit (typeset.py runs it, in a process of its
own: typst keeps what it laid out in memory until its process ends).

    python -P typeset_part.py TEMPLATE DATA.json OUT.pdf FONT_DIR...

Only the fonts in FONT_DIR and those built into typst are used; nothing is fetched. Prints one JSON
line: the part's pages, the first item on its last page (where the next part takes up the list) and
this process's peak memory in MB.
"""

import json
import sys

import typst

CHINESE_FONT = "Noto Serif CJK SC"


def peak_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main(template: str, data_file: str, out: str, *font_dirs: str) -> None:
    fonts = typst.Fonts(include_system_fonts=False, font_paths=list(font_dirs))
    if CHINESE_FONT not in fonts.families():
        sys.exit(
            f"The font {CHINESE_FONT} was not found in {', '.join(font_dirs) or 'no folder'}: install "
            "fonts-noto-cjk, or set DELIVERY_FONT_DIRS to the folder that holds it."
        )
    with open(data_file, encoding="utf-8") as source:
        data = source.read()
    compiler = typst.Compiler(template, font_paths=fonts, sys_inputs={"data": data})
    try:
        compiler.compile(output=out, format="pdf", pdf_tags=False)
        following = json.loads(compiler.query("<next-part>", field="value"))
    except typst.TypstError as error:
        sys.exit(f"typst: {error.message}")
    from pypdf import PdfReader

    pages = len(PdfReader(out).pages)
    print(json.dumps({"pages": pages, "next": following[0] if following else None, "peak_mb": peak_mb()}))


if __name__ == "__main__":
    main(*sys.argv[1:])
