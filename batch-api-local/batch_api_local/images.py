"""Images without an imaging library: placeholders to answer with, and sizes read from headers.

The local server answers an image request with a placeholder that anyone recognises as one: the
requested size and format, a flat colour drawn from the prompt (so the same prompt gets the same
picture), and, in PNG, diagonal stripes, a border and the words LOCAL PLACEHOLDER in block
letters. Every file decodes in any image library (:func:`placeholder`). PNG is written with
``zlib``; JPEG (baseline, one flat colour: each 8x8 block is a lone DC value) and WebP (lossless
VP8L, one colour: every prefix code holds one symbol, so the pixels take no bits) are written by
hand, a few dozen lines each.

An image sent as input is only looked at, never decoded: :func:`image_info` reads its format and
size from its header (PNG, JPEG, GIF, WebP), which is what its token count needs.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass

#: the formats an image sent as input may have (what the real API accepts)
INPUT_FORMATS = ("png", "jpeg", "gif", "webp")
#: the formats a placeholder can be written in
OUTPUT_FORMATS = ("png", "jpeg", "webp")

# -- reading an image's header -------------------------------------------------------------------


@dataclass(frozen=True)
class ImageInfo:
    """What an image's header says: its format (``png``, ``jpeg``, ``gif``, ``webp``) and size."""

    format: str
    width: int
    height: int


def image_format(data: bytes) -> str | None:
    """The format the first bytes announce, or None (not one of :data:`INPUT_FORMATS`)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def image_info(data: bytes) -> ImageInfo | None:
    """The format and size of an image, from its header; None when the bytes are not an image
    of a supported format, or its header is cut short or broken (width or height 0)."""
    kind = image_format(data)
    size: tuple[int, int] | None = None
    try:
        if kind == "png":
            size = struct.unpack(">II", data[16:24]) if data[12:16] == b"IHDR" else None
        elif kind == "gif":
            size = struct.unpack("<HH", data[6:10])
        elif kind == "webp":
            size = _webp_size(data)
        elif kind == "jpeg":
            size = _jpeg_size(data)
    except struct.error:  # cut short
        return None
    if kind is None or size is None or not (size[0] > 0 and size[1] > 0):
        return None
    return ImageInfo(kind, size[0], size[1])


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 ":  # lossy: 14-bit sizes after the frame tag and start code
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """The size in the first start-of-frame segment, walking the segments from the start."""
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            position += 2
            continue
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            return width, height
        position += 2 + length
    return None


# -- writing a placeholder ---------------------------------------------------------------------


def colour_for(text: str) -> tuple[int, int, int]:
    """A stable, mid-light colour for a prompt (the same prompt, the same picture)."""
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
    return 80 + digest[0] % 120, 80 + digest[1] % 120, 80 + digest[2] % 120


def placeholder(
    width: int, height: int, output_format: str, text: str, *, transparent: bool = False
) -> bytes:
    """A placeholder image of ``width`` x ``height`` in ``output_format`` (png, jpeg or webp),
    coloured by ``text``; ``transparent``: its background is see-through (png and webp)."""
    colour = colour_for(text)
    if output_format == "jpeg":
        return _jpeg(width, height, colour)
    if output_format == "webp":
        return _webp(width, height, (*colour, 0 if transparent else 255))
    return _png(width, height, colour, transparent=transparent)


# -- PNG -----------------------------------------------------------------------------------------

#: block letters, 5 x 7, for the words a PNG placeholder carries
_FONT = {
    "L": ("10000", "10000", "10000", "10000", "10000", "10000", "11111"),
    "O": ("01110", "10001", "10001", "10001", "10001", "10001", "01110"),
    "C": ("01110", "10001", "10000", "10000", "10000", "10001", "01110"),
    "A": ("01110", "10001", "10001", "11111", "10001", "10001", "10001"),
    "P": ("11110", "10001", "10001", "11110", "10000", "10000", "10000"),
    "E": ("11111", "10000", "10000", "11110", "10000", "10000", "11111"),
    "H": ("10001", "10001", "10001", "11111", "10001", "10001", "10001"),
    "D": ("11110", "10001", "10001", "10001", "10001", "10001", "11110"),
    "R": ("11110", "10001", "10001", "11110", "10100", "10010", "10001"),
    " ": ("00000",) * 7,
}
PLACEHOLDER_TEXT = ("LOCAL", "PLACEHOLDER")


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _text_mask(width: int, height: int) -> list[tuple[int, int, int]]:
    """Where the words go: (row, first column, last column) spans of lit pixels, centred, at a
    scale that fits the image (nothing when it is too small for letters)."""
    lines = PLACEHOLDER_TEXT
    longest = max(len(line) for line in lines)
    scale = min(width // (longest * 6 + 4), height // (len(lines) * 9 + 4))
    if scale < 1:
        return []
    spans: list[tuple[int, int, int]] = []
    top = (height - len(lines) * 9 * scale) // 2
    for index, line in enumerate(lines):
        left = (width - len(line) * 6 * scale) // 2
        for row in range(7):
            bits = "0".join(_FONT[ch][row] for ch in line)
            y0 = top + (index * 9 + row) * scale
            column = 0
            while column < len(bits):
                if bits[column] == "1":
                    end = column
                    while end + 1 < len(bits) and bits[end + 1] == "1":
                        end += 1
                    for y in range(y0, y0 + scale):
                        spans.append((y, left + column * scale, left + (end + 1) * scale))
                    column = end + 1
                else:
                    column += 1
    return spans


def _png(
    width: int, height: int, colour: tuple[int, int, int], *, transparent: bool = False
) -> bytes:
    """Stripes, a border and the words, built row by row from one precomputed strip (no work
    per pixel in Python): a 1024 x 1024 placeholder in a few dozen milliseconds."""
    channels = 4 if transparent else 3
    background = bytes(colour) + (b"\x00" if transparent else b"")
    ink = bytes(255 - v // 2 for v in colour) + (b"\xff" if transparent else b"")
    dark = bytes(v // 3 for v in colour) + (b"\xff" if transparent else b"")
    period, band, border = 64, 10, max(1, min(16, width // 32, height // 32))
    strip = b"".join(ink if (x % period) < band else background for x in range(width + period))
    edge = dark * width
    by_row: dict[int, list[tuple[int, int]]] = {}
    for y, x0, x1 in _text_mask(width, height):
        by_row.setdefault(y, []).append((x0, x1))
    raw = bytearray()
    for y in range(height):
        raw += b"\x00"  # filter: none
        if y < border or y >= height - border:
            raw += edge
            continue
        offset = (y % period) * channels
        row = bytearray(strip[offset : offset + width * channels])
        row[: border * channels] = dark * border
        row[-border * channels :] = dark * border
        for x0, x1 in by_row.get(y, ()):
            row[x0 * channels : x1 * channels] = dark * (x1 - x0)
        raw += row
    header = struct.pack(">IIBBBBB", width, height, 8, 6 if transparent else 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(raw), 6))
        + _chunk(b"IEND", b"")
    )


# -- JPEG: baseline, 4:4:4, one flat colour --------------------------------------------------------

# the DC tables of ITU T.81 Annex K.3; the AC table holds one symbol, EOB (a flat block has no
# AC coefficient), coded "0": legal, since only all-1 codes are forbidden
_DC_LUMINANCE = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
_DC_CHROMINANCE = [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
_AC_BITS = [1] + [0] * 15


def _huffman(bits: list[int]) -> dict[int, tuple[int, int]]:
    """symbol -> (code, length) for a table whose symbols are 0, 1, 2 ... in order."""
    codes: dict[int, tuple[int, int]] = {}
    code = symbol = 0
    for length in range(1, 17):
        for _ in range(bits[length - 1]):
            codes[symbol] = (code, length)
            code += 1
            symbol += 1
        code <<= 1
    return codes


class _Bits:
    """Bits written most significant first, with JPEG's byte stuffing after 0xFF."""

    def __init__(self) -> None:
        self.out = bytearray()
        self._acc = 0
        self._count = 0

    def write(self, value: int, length: int) -> None:
        for shift in range(length - 1, -1, -1):
            self._acc = (self._acc << 1) | ((value >> shift) & 1)
            self._count += 1
            if self._count == 8:
                self.out.append(self._acc)
                if self._acc == 0xFF:
                    self.out.append(0x00)
                self._acc = self._count = 0

    def flush(self) -> bytes:
        if self._count:
            self.write((1 << (8 - self._count)) - 1, 8 - self._count)  # pad with 1s
        return bytes(self.out)


def _jpeg(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    red, green, blue = colour
    luma = 0.299 * red + 0.587 * green + 0.114 * blue
    cb = 128 - 0.168736 * red - 0.331264 * green + 0.5 * blue
    cr = 128 + 0.5 * red - 0.418688 * green - 0.081312 * blue
    values = [round(8 * (v - 128)) for v in (luma, cb, cr)]  # DC of a flat block, quantiser 1
    tables = [_huffman(_DC_LUMINANCE), _huffman(_DC_CHROMINANCE)]
    eob_code, eob_length = _huffman(_AC_BITS)[0]
    bits = _Bits()
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    for block in range(blocks):
        for component in range(3):
            difference = values[component] if block == 0 else 0
            size = abs(difference).bit_length()
            code, length = tables[0 if component == 0 else 1][size]
            bits.write(code, length)
            if size:
                bits.write(difference if difference > 0 else difference + (1 << size) - 1, size)
            bits.write(eob_code, eob_length)
    scan = bits.flush()

    def segment(marker: int, payload: bytes) -> bytes:
        return struct.pack(">HH", 0xFF00 | marker, len(payload) + 2) + payload

    quantisation = bytes([0]) + bytes([1] * 64)
    frame = struct.pack(">BHHB", 8, height, width, 3) + bytes([1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0])
    huffman = (
        bytes([0x00, *_DC_LUMINANCE, *range(12)])
        + bytes([0x01, *_DC_CHROMINANCE, *range(12)])
        + bytes([0x10, *_AC_BITS, 0x00])
    )
    start = bytes([3, 1, 0x00, 2, 0x10, 3, 0x10, 0, 63, 0])
    jfif = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return (
        b"\xff\xd8"
        + segment(0xE0, jfif)
        + segment(0xDB, quantisation)
        + segment(0xC0, frame)
        + segment(0xC4, huffman)
        + segment(0xDA, start)
        + scan
        + b"\xff\xd9"
    )


# -- WebP: lossless, one colour ----------------------------------------------------------------


def _webp(width: int, height: int, rgba: tuple[int, int, int, int]) -> bytes:
    red, green, blue, alpha = rgba
    value = count = 0

    def write(bits: int, length: int) -> None:
        nonlocal value, count
        value |= (bits & ((1 << length) - 1)) << count
        count += length

    write(0x2F, 8)  # signature
    write(width - 1, 14)
    write(height - 1, 14)
    write(1 if alpha != 255 else 0, 1)
    write(0, 3)  # version
    write(0, 1)  # no transform
    write(0, 1)  # no colour cache
    write(0, 1)  # no meta prefix codes
    for symbol in (green, red, blue, alpha, 0):  # five simple codes of one symbol each
        write(1, 1)
        write(0, 1)
        if symbol < 2:
            write(0, 1)
            write(symbol, 1)
        else:
            write(1, 1)
            write(symbol, 8)
    data = value.to_bytes((count + 7) // 8, "little")
    chunk = b"VP8L" + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) % 2 else b"")
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk
