"""Per-KK pieces of the unit files, so a night re-renders only the KKs that changed.

A unit's files are the concatenation of its KKs' pieces, in the unit's KK order (head KK first,
then contract_id):
    recap/<year>/<unit>.csv     header + each KK's CSV lines
    recap/<year>/<unit>.xlsx    the sheet's deflate stream: a fixed head, one independently
                                compressed segment per KK (raw deflate ended by a sync flush, so
                                segments concatenate), a tail with the row count
    data/unit/<unit>.js         each KK's JSON object, then each KK's findings
`recap/fragments.parquet` records where each KK's pieces lie in those files (byte offset and
length; for the XLSX also the CRC-32 and length of the uncompressed XML, which the zip header
needs). On an incremental night, the KKs that did not change are copied byte for byte from the
previous night's files and only the changed KKs are rendered; a full night renders every KK the
same way, so both give the same bytes.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import zlib
from pathlib import Path
from typing import NamedTuple

# ISA-L's deflate (python-isal): at level 1 about 4x faster than zlib's on the recap XML, and the
# output a little smaller; any inflate reads it. Deflate was a fifth of a full publication's CPU.
from isal import isal_zlib

INDEX = "recap/fragments.parquet"  # under the publication dir
COLUMNS = ("year", "unit_id", "contract_id", "csv_off", "csv_len", "xml_off", "xml_len",
           "xml_crc", "xml_raw", "js_off", "js_len", "jsf_off", "jsf_len")
# ISA-L deflate level of the workbooks (0-3): 1 compresses this XML about as well as zlib's 1
COMPRESSLEVEL = 1
FINAL_BLOCK = b"\x03\x00"  # an empty final fixed-Huffman block: ends a stream of sync-flushed segments


class Segment(NamedTuple):
    data: object  # raw deflate, byte-aligned, not final: bytes, or an atomic.Range of a file
    crc: int  # CRC-32 of the uncompressed bytes
    raw: int  # length of the uncompressed bytes


def deflate(chunks) -> Segment:
    """One segment from buffers of uncompressed bytes (a fresh compressor: no reference to what
    comes before, so the segment can be reused in another file)."""
    c = isal_zlib.compressobj(COMPRESSLEVEL, isal_zlib.DEFLATED, -15)
    out, crc, raw = [], 0, 0
    for chunk in chunks:
        out.append(c.compress(chunk))
        crc = isal_zlib.crc32(chunk, crc)
        raw += len(chunk)
    out.append(c.flush(isal_zlib.Z_SYNC_FLUSH))
    return Segment(b"".join(out), crc, raw)


# ------------------------------------------------------------------------- CRC-32 of a concatenation

_POLY = 0xEDB88320


def _multmodp(a: int, b: int) -> int:
    """a * b modulo the CRC-32 polynomial (reflected), as in zlib's crc32.c."""
    m, p = 1 << 31, 0
    while True:
        if a & m:
            p ^= b
            if not a & (m - 1):
                return p
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1


_X2N = [1 << 30]  # x^(2^k) modulo the polynomial
for _ in range(31):
    _X2N.append(_multmodp(_X2N[-1], _X2N[-1]))


def crc32_combine_py(crc1: int, crc2: int, len2: int) -> int:
    """CRC-32 of A + B from crc(A), crc(B) and len(B) (zlib's crc32_combine, in Python)."""
    p, k, n = 1 << 31, 3, len2
    while n:
        if n & 1:
            p = _multmodp(_X2N[k & 31], p)
        n >>= 1
        k += 1
    return _multmodp(p, crc1) ^ crc2


def _libz_combine():
    """zlib's own crc32_combine64 through ctypes (about 50x faster), if a libz can be loaded."""
    for name in (None, "libz.so.1", ctypes.util.find_library("z")):
        try:
            fn = ctypes.CDLL(name).crc32_combine64
        except (OSError, AttributeError, TypeError):
            continue
        fn.argtypes, fn.restype = [ctypes.c_ulong, ctypes.c_ulong, ctypes.c_int64], ctypes.c_ulong
        if fn(zlib.crc32(b"ab"), zlib.crc32(b"cd"), 2) == zlib.crc32(b"abcd"):
            return fn
    return None


crc32_combine = _libz_combine() or crc32_combine_py


def combined(segments: list[Segment]) -> tuple[int, int]:
    """(CRC-32, length) of the uncompressed concatenation of `segments`."""
    crc, raw = 0, 0  # the CRC of nothing is 0
    for s in segments:
        crc = crc32_combine(crc, s.crc, s.raw)
        raw += s.raw
    return crc, raw


# ------------------------------------------------------------------------------------------- index

def write_index(path: Path, table) -> None:
    """The index as Parquet (pyarrow writes the same bytes for the same rows)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from kinerja.publish.atomic import write_new

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    write_new(path, sink.getvalue())
