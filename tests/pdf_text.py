"""The text of a PDF that headless Chromium printed (page.pdf()), without a PDF library:
inflate the FlateDecode streams, read each font's ToUnicode map, and decode the glyph
strings of the Tj/TJ operators in drawing order. Enough for "does the printed page hold
this number"; not a general PDF reader."""
import re
import zlib

OBJECT = re.compile(rb"(\d+) 0 obj\s*(.*?)\s*endobj", re.S)
STREAM = re.compile(rb"^(.*?)stream\r?\n(.*)\r?\nendstream", re.S)
REF = rb"(\d+) 0 R"


def objects(pdf):
    """{object number: (dictionary bytes, inflated stream bytes or None)}"""
    found = {}
    for match in OBJECT.finditer(pdf):
        body = match.group(2)
        stream = STREAM.match(body)
        if stream:
            head, data = stream.group(1), stream.group(2)
            if b"/FlateDecode" in head:
                data = zlib.decompressobj().decompress(data)
            found[int(match.group(1))] = (head, data)
        else:
            found[int(match.group(1))] = (body, None)
    return found


def hex_codes(text, width):
    return [int(text[i:i + width], 16) for i in range(0, len(text), width)]


def to_unicode(cmap):
    """{glyph code: text} from a ToUnicode CMap (bfchar and bfrange sections)."""
    table = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            table[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be", "replace")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for start, end, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(<[0-9A-Fa-f]+>|\[.*?\])", block,
                                          re.S):
            first, last = int(start, 16), int(end, 16)
            if dst.startswith(b"["):
                for offset, item in enumerate(re.findall(rb"<([0-9A-Fa-f]+)>", dst)):
                    table[first + offset] = bytes.fromhex(item.decode()).decode("utf-16-be", "replace")
            else:
                base = bytes.fromhex(dst[1:-1].decode())
                for offset in range(last - first + 1):
                    value = int.from_bytes(base, "big") + offset
                    table[first + offset] = value.to_bytes(len(base), "big").decode("utf-16-be", "replace")
    return table


def resolve(objs, value):
    """A dictionary given inline or by reference."""
    ref = re.fullmatch(rb"\s*" + REF + rb"\s*", value)
    return objs[int(ref.group(1))][0] if ref else value


def fonts_of(objs, page):
    """{resource name: ToUnicode table} of a page's fonts."""
    resources = re.search(rb"/Resources\s*(" + REF + rb"|<<.*>>)", page, re.S)
    fonts = re.search(rb"/Font\s*(" + REF + rb"|<<.*?>>)", resolve(objs, resources.group(1)), re.S)
    tables = {}
    for name, number in re.findall(rb"/([^\s/<>\[\]]+)\s+" + REF, resolve(objs, fonts.group(1))):
        font = objs[int(number)][0]
        cmap = re.search(rb"/ToUnicode\s+" + REF, font)
        tables[name] = to_unicode(objs[int(cmap.group(1))][1]) if cmap else {}
    return tables


TOKENS = re.compile(rb"/([^\s/<>\[\]]+)\s+[-\d.]+\s+Tf|\[((?:<[0-9A-Fa-f]*>|[-\d.\s])*)\]\s*TJ|<([0-9A-Fa-f]*)>\s*Tj")


def page_texts(pdf):
    """The text of each page: one line per text operator, in drawing order."""
    objs = objects(pdf)
    pages = []
    for head, _data in objs.values():
        if not re.search(rb"/Type\s*/Page\b", head):
            continue
        tables = fonts_of(objs, head)
        contents = re.search(rb"/Contents\s*(\[.*?\]|" + REF + rb")", head, re.S).group(1)
        lines, table = [], {}
        for number in re.findall(REF, contents):
            for match in TOKENS.finditer(objs[int(number)][1] or b""):
                if match.group(1):
                    table = tables.get(match.group(1), {})
                    continue
                strings = re.findall(rb"<([0-9A-Fa-f]*)>", match.group(2)) if match.group(2) is not None \
                    else [match.group(3)]
                lines.append("".join(table.get(code, "?") for s in strings for code in hex_codes(s.decode(), 4)))
        pages.append("\n".join(lines))
    return pages
