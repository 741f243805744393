"""Reading contract files (CSV, Parquet, Excel) into Arrow tables of text cells.

Every cell is read as text so that validation (in DuckDB SQL) can name the bad
cell instead of failing the whole file. Each row carries `_line`: the line of
the file where the record starts, the header being line 1 (for Parquet, the
row number + 1; for Excel, the sheet row).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from analytics.errors import FileFault
from analytics.ingest.contract import normalise_name

MAX_FILE_BYTES = 4 * 1024**3
MAX_COLUMNS = 200
MAX_CELL_CHARS = 100_000
LINE = "_line"


@dataclass(frozen=True)
class RawTable:
    """A file read as text: normalised column names, Arrow data, malformed records."""

    path: Path
    columns: tuple[str, ...]
    data: pa.Table
    malformed: pa.Table  # columns: _line (int64), reason (str), raw (str)
    sha256: str
    encoding: str

    @property
    def rows_read(self) -> int:
        return self.data.num_rows + self.malformed.num_rows


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_table_file(path: Path, table_name: str) -> RawTable:
    """Read one contract file; raise FileFault when it cannot be read at all."""
    label = path.name
    if not path.exists():
        raise FileFault(label, "file not found")
    if not path.is_file():
        raise FileFault(label, "not a regular file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise FileFault(
            label, f"file is larger than {MAX_FILE_BYTES // 1024**3} GiB; split the extract"
        )
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        digest = file_sha256(path)
        data, encoding = _read_parquet(path), "parquet"
        malformed = _empty_malformed()
    elif suffix in (".xlsx", ".xlsm"):
        digest = file_sha256(path)
        data, encoding = _read_excel(path, table_name), "xlsx"
        malformed = _empty_malformed()
    else:
        data, malformed, encoding, digest = _read_csv(path)
    columns = tuple(c for c in data.column_names if c != LINE)
    _check_columns(label, columns)
    _check_cell_lengths(label, data)
    return RawTable(path, columns, data, malformed, digest, encoding)


def _empty_malformed() -> pa.Table:
    return pa.table(
        {
            LINE: pa.array([], pa.int64()),
            "reason": pa.array([], pa.string()),
            "raw": pa.array([], pa.string()),
        }
    )


def _check_columns(label: str, columns: tuple[str, ...]) -> None:
    if not columns:
        raise FileFault(label, "no header row: the file is empty")
    if len(columns) > MAX_COLUMNS:
        raise FileFault(label, f"{len(columns)} columns; at most {MAX_COLUMNS} are accepted")
    seen: set[str] = set()
    for c in columns:
        if c == "":
            raise FileFault(label, "a column has an empty name")
        if c in seen:
            raise FileFault(label, "column name appears twice (after normalisation)", c)
        seen.add(c)


def _check_cell_lengths(label: str, data: pa.Table) -> None:
    """Refuse a file with a cell longer than MAX_CELL_CHARS (set-based, one pass per column).

    Far above any contract limit (1,000; notes 4,000, quarantined row by row): such a
    cell means a broken file -- usually a quote left open that swallowed many records.
    """
    import pyarrow.compute as pc

    for name, col in _text_columns(data):
        longest_bytes = pc.max(pc.binary_length(col)).as_py()
        if longest_bytes is None or longest_bytes <= MAX_CELL_CHARS:
            continue  # a character has at least one byte: no cell is too long (no decoding)
        lengths = pc.utf8_length(col)
        longest = pc.max(lengths).as_py()
        if longest is not None and longest > MAX_CELL_CHARS:
            i = pc.index(lengths, pa.scalar(longest, lengths.type)).as_py()
            line = data.column(LINE)[i].as_py()
            raise FileFault(
                label,
                f"line {line}: a cell of {longest} characters (at most {MAX_CELL_CHARS});"
                " is a quote left open?",
                name,
            )


def spaceless_columns(data: pa.Table) -> frozenset[str]:
    """The text columns of `data` whose bytes hold no space (0x20) and no non-ASCII byte
    (>= 0x80): no cell of theirs starts or ends with a character DuckDB's trim() removes
    (the Unicode space separators: the ASCII space, or a character of two or more bytes,
    all >= 0x80), so their cells need no trim. One vectorised pass over each column's
    data buffers (which may hold bytes outside the cells too: that can only keep a column
    out, never let one in)."""
    return frozenset(
        name
        for name, col in _text_columns(data)
        if all(_plain_bytes(chunk) for chunk in col.chunks)
    )


def _text_columns(data: pa.Table) -> Iterator[tuple[str, pa.ChunkedArray]]:
    """The text columns of a table read from a file (its cells; not `_line`)."""
    for name in data.column_names:
        col = data.column(name)
        if name != LINE and pa.types.is_string(col.type):
            yield name, col


def _plain_bytes(chunk: pa.Array) -> bool:
    buffers = chunk.buffers()
    if len(buffers) < 3 or buffers[2] is None:
        return True  # no text at all (every cell empty or null)
    raw = np.frombuffer(buffers[2], dtype=np.uint8)
    # (trim() leaves the ASCII control characters, tabs and line ends included)
    return not bool(((raw == 0x20) | (raw >= 0x80)).any())


def _normalised_header(names: list[str]) -> list[str]:
    return [normalise_name(n.lstrip("\ufeff")) for n in names]


# --- CSV ------------------------------------------------------------------------------


def _decode(raw: bytes, label: str) -> tuple[bytes, str]:
    """Return UTF-8 bytes without BOM and the detected encoding (utf-8, utf-8-sig, latin-1)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileFault(label, "file is UTF-16; save it as UTF-8 (or Latin-1) text")
    head = raw[:65536]
    if b"\x00" in head:
        if len(head) >= 4 and (
            head[1::2].count(0) > 0.9 * (len(head) // 2)
            or head[0::2].count(0) > 0.9 * (len(head) // 2)
        ):
            raise FileFault(label, "file is UTF-16 (no byte-order mark); save it as UTF-8 text")
        raise FileFault(label, "file is binary, not a CSV text file")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw, enc = raw[3:], "utf-8-sig"
    else:
        enc = "utf-8"
    if raw.isascii():  # the usual case, and far cheaper than decoding to check
        return raw, enc
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1").encode("utf-8"), "latin-1"
    return raw, enc


def _detect_delimiter(header_line: str, label: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0:
        # One column only: still a CSV, the missing-column check will speak.
        return ","
    return best


def _record_bounds(
    buf: np.ndarray, quotes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Record start lines, start offsets and end offsets, vectorised and quote-aware.

    A newline counts only outside double quotes: with the sorted quote positions, a
    byte at p is inside quotes when an odd number of quotes precede it (a doubled quote
    inside a quoted field adds two and changes nothing). Blank records are dropped.
    """
    all_nl = np.flatnonzero(buf == ord("\n"))
    quoted = len(quotes) > 0
    nl = all_nl[np.searchsorted(quotes, all_nl) % 2 == 0] if quoted else all_nl
    ends = nl if (len(buf) and buf[-1] == ord("\n")) else np.append(nl, len(buf))
    starts = np.concatenate(([0], nl + 1))[: len(ends)]
    # The line of a record's start = 1 + newlines (any, quoted or not) before it; without
    # quotes every newline ends a record, so record k starts on line k + 1.
    lines = np.searchsorted(all_nl, starts) + 1 if quoted else np.arange(1, len(ends) + 1)
    length = ends - starts
    # Strip a trailing \r from the length, then drop blank records.
    has_cr = (length > 0) & (buf[np.maximum(ends - 1, 0)] == ord("\r"))
    keep = (length - has_cr) > 0
    return lines[keep], starts[keep], ends[keep]


def _field_counts(
    buf: np.ndarray, delimiter: str, starts: np.ndarray, ends: np.ndarray, quotes: np.ndarray
) -> np.ndarray:
    """Fields of each record: 1 + the delimiters outside quotes between its bounds.

    Needed only when the CSV parser set rows aside (a wrong number of fields), to name
    their lines: a scan of every delimiter of the file."""
    delim_pos = np.flatnonzero(buf == ord(delimiter))
    if len(quotes):
        delim_pos = delim_pos[np.searchsorted(quotes, delim_pos) % 2 == 0]
    counts: np.ndarray = np.searchsorted(delim_pos, ends) - np.searchsorted(delim_pos, starts) + 1
    return counts


def _has_stray_quotes(buf: np.ndarray, q: np.ndarray, delimiter: str) -> bool:
    """True when a double quote stands inside a field (not at its start or end).

    The fast record scan assumes quotes only open or close fields; a file that breaks
    this is read by the exact (slower) reader instead. `q`: the quote positions.
    """
    if len(q) == 0:
        return False
    boundary = np.array([ord(delimiter), ord("\n"), ord("\r"), ord('"')], dtype=np.uint8)
    prev = np.where(q > 0, buf[np.maximum(q - 1, 0)], ord("\n"))
    nxt = np.where(q + 1 < len(buf), buf[np.minimum(q + 1, len(buf) - 1)], ord("\n"))
    ok = np.isin(prev, boundary) | np.isin(nxt, boundary)
    return not bool(ok.all())


def _read_csv(path: Path) -> tuple[pa.Table, pa.Table, str, str]:
    """Read a CSV file: its text cells with lines, malformed records, encoding, SHA-256.

    The SHA-256 is computed on a second thread while the text is parsed (hashlib lets
    go of the interpreter lock): at 10M rows it hid about half a second."""
    label = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FileFault(label, f"cannot read the file ({exc.strerror})") from None
    with ThreadPoolExecutor(max_workers=1) as pool:
        digest = pool.submit(_sha256_hex, raw)
        box = [raw]
        del raw  # only the parser (which lets go once decoded) and the hash thread hold it
        data, malformed, encoding = _parse_csv(box.pop(), label)
        return data, malformed, encoding, digest.result()


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _parse_csv(raw: bytes, label: str) -> tuple[pa.Table, pa.Table, str]:
    """The text cells with lines, malformed records and encoding of a CSV file's bytes."""
    if not raw or raw.isspace():  # (isspace stops at the first other byte; strip would copy)
        raise FileFault(label, "no header row: the file is empty")
    text_bytes, encoding = _decode(raw, label)
    del raw
    if b"\n" not in text_bytes and b"\r" in text_bytes:
        # Classic Mac line endings (CR only, e.g. Excel's "CSV (Macintosh)"): one line each.
        text_bytes = text_bytes.replace(b"\r", b"\n")
    first_nl = text_bytes.find(b"\n")
    header_line = text_bytes[: first_nl if first_nl >= 0 else len(text_bytes)].decode("utf-8")
    delimiter = _detect_delimiter(header_line, label)
    try:
        header = next(csv.reader([header_line.rstrip("\r")], delimiter=delimiter))
    except csv.Error as exc:
        raise FileFault(
            label, f"line 1: the header row cannot be parsed ({_csv_error(exc)})"
        ) from None
    except StopIteration:
        raise FileFault(label, "the header row cannot be parsed") from None
    names = _normalised_header(header)
    _check_columns(label, tuple(names))

    buf = np.frombuffer(text_bytes, dtype=np.uint8)
    # quote positions only when there are quotes (find stops at the first one)
    quoted = text_bytes.find(b'"') >= 0
    quotes = np.flatnonzero(buf == ord('"')) if quoted else np.empty(0, dtype=np.intp)
    if len(quotes) % 2 or _has_stray_quotes(buf, quotes, delimiter):
        # An odd number of quotes: a literal one (`5"`) or a field never closed; the exact
        # reader tells them apart.
        return _read_csv_exact(text_bytes, names, delimiter, label, encoding)

    skipped: list[int] = []

    def on_invalid(_row: object) -> str:
        skipped.append(1)
        return "skip"

    try:
        data = pacsv.read_csv(
            io.BytesIO(text_bytes),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=quoted, invalid_row_handler=on_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        raise FileFault(label, f"not a readable CSV file ({_short(exc)})") from None
    if not skipped and not quoted and _no_bare_cr(text_bytes):
        # No quotes and no lone CR (which the parser takes as a line end too): every
        # newline ends a record. When no line was blank either (every line but the
        # header is a row), row i is on line i + 2 -- no scan of the file.
        lines_in_file = text_bytes.count(b"\n") + (not text_bytes.endswith(b"\n"))
        if data.num_rows == lines_in_file - 1:
            line = np.arange(2, data.num_rows + 2, dtype=np.int64)
            return data.append_column(LINE, pa.array(line)), _empty_malformed(), encoding
    lines, starts, ends = _record_bounds(buf, quotes)
    # Record 0 is the header.
    lines, starts, ends = lines[1:], starts[1:], ends[1:]
    if not skipped and data.num_rows == len(lines):
        # every record parsed: record i starts at lines[i]
        return (
            data.append_column(LINE, pa.array(lines.astype(np.int64))),
            _empty_malformed(),
            encoding,
        )
    fields = _field_counts(buf, delimiter, starts, ends, quotes)
    bad = fields != len(names)
    good_lines = lines[~bad]
    if data.num_rows != len(good_lines) or len(skipped) != int(bad.sum()):
        # Quotes the fast scan could not follow (e.g. a stray quote inside a field):
        # count records the slow, exact way.
        return _read_csv_exact(text_bytes, names, delimiter, label, encoding)
    bad_idx = np.flatnonzero(bad)
    malformed_raw = [  # only malformed records, never the good ones (the text of 100,000 at most)
        text_bytes[starts[i] : ends[i]].decode("utf-8", "replace").rstrip("\r")[:4000]
        if k < 100_000
        else None
        for k, i in enumerate(bad_idx)
    ]
    malformed = pa.table(
        {
            LINE: pa.array(lines[bad_idx].astype(np.int64)),
            "reason": pa.array(
                [f"wrong number of fields: {f} instead of {len(names)}" for f in fields[bad_idx]],
                pa.string(),
            ),
            "raw": pa.array(malformed_raw, pa.string()),
        }
    )
    data = data.append_column(LINE, pa.array(good_lines.astype(np.int64)))
    return data, malformed, encoding


def _no_bare_cr(text: bytes) -> bool:
    """True when every CR is part of a CRLF (find is cheap; counting only when CRs exist)."""
    return text.find(b"\r") < 0 or text.count(b"\r") == text.count(b"\r\n")


def _read_csv_exact(
    text_bytes: bytes, names: list[str], delimiter: str, label: str, encoding: str
) -> tuple[pa.Table, pa.Table, str]:
    """Fallback for malformed quoting: Python's csv module, which tracks line numbers."""
    text = text_bytes.decode("utf-8")
    feed = _LineFeed(text)
    reader = csv.reader(feed, delimiter=delimiter)
    cols: list[list[str]] = [[] for _ in names]
    good_lines: list[int] = []
    bad_lines: list[int] = []
    bad_reason: list[str] = []
    bad_raw: list[str] = []
    start = 1
    line, offset, next_offset = 1, 0, 0
    try:
        for i, row in enumerate(reader):
            line = start
            start = reader.line_num + 1
            offset, next_offset = next_offset, feed.pos
            if i == 0 or not row or row == [""]:
                continue
            if len(row) != len(names):
                bad_lines.append(line)
                bad_reason.append(f"wrong number of fields: {len(row)} instead of {len(names)}")
                bad_raw.append(delimiter.join(row)[:4000])
                continue
            good_lines.append(line)
            for c, v in zip(cols, row, strict=True):
                c.append(v)
    except csv.Error as exc:
        raise FileFault(
            label, f"line {start}: not a readable CSV record ({_csv_error(exc)})"
        ) from None
    # The lenient reader ends a quoted field that never closes at the end of the file;
    # the strict one, run on the last record only, says so.
    try:
        list(csv.reader(io.StringIO(text[offset:], newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise FileFault(label, _unclosed(line)) from None
    data = pa.table({n: pa.array(c, pa.string()) for n, c in zip(names, cols, strict=True)})
    data = data.append_column(LINE, pa.array(good_lines, pa.int64()))
    malformed = pa.table(
        {
            LINE: pa.array(bad_lines, pa.int64()),
            "reason": pa.array(bad_reason, pa.string()),
            "raw": pa.array(bad_raw, pa.string()),
        }
    )
    return data, malformed, encoding


def _unclosed(line: int) -> str:
    return f"line {line}: a quoted field is never closed (a stray double quote?); fix that line"


def _csv_error(exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        return f"a cell longer than {MAX_CELL_CHARS} characters; is a quote left open?"
    return _short(exc)


class _LineFeed:
    """Lines of a text for csv.reader, remembering the offset just after the last one."""

    def __init__(self, text: str) -> None:
        self._lines = io.StringIO(text, newline="")
        self.pos = 0

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        line = self._lines.readline()
        if not line:
            raise StopIteration
        self.pos += len(line)
        return line


def _short(exc: BaseException) -> str:
    msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return msg[:200]


# --- Parquet and Excel ----------------------------------------------------------------


def _as_text_table(table: pa.Table, first_line: int) -> pa.Table:
    names = _normalised_header([str(n) for n in table.column_names])
    arrays = []
    for col in table.columns:
        if (
            pa.types.is_timestamp(col.type)
            or pa.types.is_date(col.type)
            or pa.types.is_string(col.type)
            or pa.types.is_large_string(col.type)
        ):
            arrays.append(col.cast(pa.string()))
        elif pa.types.is_null(col.type):
            arrays.append(pa.nulls(len(col), pa.string()))
        else:
            try:
                arrays.append(col.cast(pa.string()))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                arrays.append(
                    pa.array([None if v is None else str(v) for v in col.to_pylist()], pa.string())
                )
    out = pa.table(arrays, names=names) if arrays else pa.table({})
    line = np.arange(first_line, first_line + table.num_rows, dtype=np.int64)
    return out.append_column(LINE, pa.array(line))


def _read_parquet(path: Path) -> pa.Table:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise FileFault(path.name, f"not a readable Parquet file ({_short(exc)})") from None
    _check_columns(path.name, tuple(_normalised_header([str(n) for n in table.column_names])))
    return _as_text_table(table, first_line=1)


def _read_excel(path: Path, table_name: str) -> pa.Table:
    import pandas as pd

    try:
        book = pd.ExcelFile(path, engine="openpyxl")
        sheet = next(
            (s for s in book.sheet_names if normalise_name(str(s)) == table_name),
            book.sheet_names[0],
        )
        frame = pd.read_excel(book, sheet_name=sheet, dtype=object, header=0)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise FileFault(path.name, f"not a readable Excel workbook ({_short(exc)})") from None
    names = [str(c) for c in frame.columns]
    _check_columns(path.name, tuple(_normalised_header(names)))
    frame = frame.map(_excel_cell)
    table = pa.Table.from_pandas(frame.astype("string[pyarrow]"), preserve_index=False)
    return _as_text_table(table, first_line=2)


def _excel_cell(v: object) -> object:
    import datetime as dt

    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
