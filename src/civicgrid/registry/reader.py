"""Reading the files offices really have: CSV or XLSX, UTF-8 with or without BOM or
GB18030/GBK, Chinese or English headers. Rows stream out one at a time with their row number
(as a spreadsheet numbers them: the header is row 1), so a file of any size is read in
constant memory.

A file is checked whole before any row is handed out — every byte decodes, every quote
closes, every XML part of an XLSX parses — because a file-level error found half-way would
leave the batches before it written (DESIGN §5: a bad file changes nothing). The check reads
the file once more at C speed (about 2 % of an import).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import ParseError
from xml.parsers import expat

from civicgrid.registry.formats import KINDS, Column
from civicgrid.registry.rows import LOST_DIGITS

SNIFF_BYTES = 1 << 20
# what a truncated or corrupt XLSX raises from openpyxl / zipfile, depending on where it breaks
_XLSX_ERRORS = (
    zipfile.BadZipFile,
    KeyError,
    OSError,
    ValueError,
    EOFError,
    io.UnsupportedOperation,
    ParseError,
    expat.ExpatError,
)
# a cell longer than csv's default 128 KiB is a row error ("过长") of its column, not a file
# error; the limit only guards memory
csv.field_size_limit(16 << 20)
# Spreadsheets keep 15 significant digits: a longer number typed into a number cell (an ID
# number, a code) is already rounded in the file
EXACT_DIGITS = 10**15


Batch = tuple[list[int], dict[str, list[str]]]


class FileError(Exception):
    """A problem with the file as a whole (it names what is wrong and what was expected)."""


@dataclass
class Table:
    columns: list[Column]  # in the kind's order, those present in the file
    missing_optional: list[str]
    ignored: list[str]  # headers that name no column of this kind
    rows: Iterator[tuple[int, dict[str, str]]]  # (line number in the file, values by column)
    encoding: str
    # the same rows a batch at a time, column-wise: (line numbers, {column: values})
    batches: Callable[[int], Iterator[Batch]] | None = None

    def iter_batches(self, size: int) -> Iterator[Batch]:
        """The rows in batches of ``size``, column-wise (what the importer reads)."""
        if self.batches is not None:
            yield from self.batches(size)
            return
        names = [c.name for c in self.columns]
        lines: list[int] = []
        values: list[dict[str, str]] = []
        for line, row in self.rows:
            lines.append(line)
            values.append(row)
            if len(lines) >= size:
                yield lines, {n: [r[n] for r in values] for n in names}
                lines, values = [], []
        if lines:
            yield lines, {n: [r[n] for r in values] for n in names}


def detect_encoding(head: bytes) -> str:
    """UTF-8 (with or without BOM) when the bytes decode as UTF-8, else GB18030 (a superset of
    GBK and GB2312, which Excel on Chinese Windows writes)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut at the end of the sample
            return "utf-8"
    try:
        head.decode("gb18030")
    except UnicodeDecodeError:
        raise FileError("无法识别文件编码：既不是 UTF-8 也不是 GB18030/GBK") from None
    return "gb18030"


def _normalise(header: object) -> str:
    return str(header or "").replace("\ufeff", "").strip().lower().replace(" ", "_")


# Other apps' file kinds read by the same rules (the event hub's catalogue and backlog).
OTHER_KINDS: dict[str, tuple[Column, ...]] = {}


def _match_headers(kind: str, headers: list[object]) -> tuple[list[int | None], Table]:
    columns = KINDS.get(kind) or OTHER_KINDS[kind]
    by_name = {}
    for col in columns:
        by_name[col.name.lower()] = col
        by_name[col.zh.lower()] = col
    positions: dict[str, int] = {}
    ignored = []
    for i, header in enumerate(headers):
        col = by_name.get(_normalise(header))
        if col is None:
            if _normalise(header):
                ignored.append(str(header))
        elif col.name in positions:
            raise FileError(f"表头“{header}”重复（与第 {positions[col.name] + 1} 列同义）")
        else:
            positions[col.name] = i
    missing = [c for c in columns if c.required and c.name not in positions]
    if missing:
        expected = "、".join(f"{c.zh}（{c.name}）" for c in columns if c.required)
        optional = "、".join(f"{c.zh}（{c.name}）" for c in columns if not c.required)
        raise FileError(
            f"缺少必需的列：{'、'.join(c.zh + '（' + c.name + '）' for c in missing)}。"
            f"应有的表头：{expected}；可选：{optional}"
        )
    present = [c for c in columns if c.name in positions]
    index = [positions.get(c.name) for c in present]
    table = Table(
        present,
        [c.name for c in columns if not c.required and c.name not in positions],
        ignored,
        iter(()),
        "",
    )
    return index, table


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and abs(value) >= EXACT_DIGITS:
        return LOST_DIGITS + repr(value)  # a row error of its column (rows._nul_cells)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def open_table(kind: str, path: Path) -> Table:
    path = Path(path)
    if not path.exists():
        raise FileError(f"文件不存在：{path}")
    if path.stat().st_size == 0:
        raise FileError("文件为空")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _open_xlsx(kind, path)
    return _open_csv(kind, path)


def _check_csv(path: Path, encoding: str) -> None:
    """FileError when the text does not decode or a quote never closes, anywhere in the file."""
    row = 0
    try:
        with open(path, encoding=encoding, newline="") as fh:
            for row, _ in enumerate(csv.reader(fh, strict=True), start=1):  # noqa: B007
                pass
    except UnicodeDecodeError:
        line = _undecodable_line(path, encoding) or row + 1
        raise FileError(
            f"第 {line} 行附近不是有效的 {encoding} 文本（文件各处须为同一种编码）"
        ) from None
    except csv.Error as exc:
        raise FileError(
            f"第 {row + 1} 行起 CSV 格式错误：{exc}（常见原因：单元格内有未成对的英文引号）"
        ) from None


def _undecodable_line(path: Path, encoding: str) -> int | None:
    """The first line that does not decode (text is read in chunks, so the decoder's error
    says little about where). A line break byte never occurs inside a UTF-8 or GB18030
    character, so lines can be decoded one at a time."""
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                raw.decode(encoding)
            except UnicodeDecodeError:
                return number
    return None


def _open_csv(kind: str, path: Path) -> Table:
    with open(path, "rb") as fh:
        encoding = detect_encoding(fh.read(SNIFF_BYTES))
    fh = open(path, encoding=encoding, newline="")  # noqa: SIM115 - closed by the generator
    reader = csv.reader(fh, strict=True)
    try:
        headers = next(reader)
    except StopIteration:
        fh.close()
        raise FileError("文件为空") from None
    except UnicodeDecodeError:
        fh.close()
        raise FileError(f"第 1 行不是有效的 {encoding} 文本") from None
    except csv.Error as exc:
        fh.close()
        raise FileError(f"第 1 行 CSV 格式错误：{exc}") from None
    try:
        index, table = _match_headers(kind, headers)
        _check_csv(path, encoding)
    except FileError:
        fh.close()
        raise

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        names = [c.name for c in table.columns]
        try:
            # rows as a spreadsheet numbers them (a cell may hold line breaks)
            for line, values in enumerate(reader, start=2):
                if not any(v.strip() for v in values):
                    continue
                yield (
                    line,
                    {
                        n: (values[i].strip() if i is not None and i < len(values) else "")
                        for n, i in zip(names, index, strict=True)
                    },
                )
        except UnicodeDecodeError:
            raise FileError(f"第 {reader.line_num + 1} 行附近不是有效的 {encoding} 文本") from None
        except csv.Error as exc:
            raise FileError(f"第 {reader.line_num} 行 CSV 格式错误：{exc}") from None
        finally:
            fh.close()

    def batches(size: int) -> Iterator[Batch]:
        """Rows a batch at a time, stripped and picked column-wise (C-level passes over each
        column rather than a dict per row)."""
        names = [c.name for c in table.columns]
        width = max(i for i in index if i is not None) + 1
        pad = [""] * width
        numbered = enumerate(reader, start=2)  # rows as a spreadsheet numbers them
        try:
            while True:
                lines: list[int] = []
                raw: list[list[str]] = []
                for line, values in numbered:
                    if len(values) < width:
                        values = values + pad[len(values) :]
                    if not "".join(values).strip():
                        continue
                    lines.append(line)
                    raw.append(values)
                    if len(raw) >= size:
                        break
                if not raw:
                    return
                by_position = list(zip(*raw, strict=False))
                blank = [""] * len(raw)
                yield (
                    lines,
                    {
                        n: list(map(str.strip, by_position[i])) if i is not None else blank
                        for n, i in zip(names, index, strict=True)
                    },
                )
        except UnicodeDecodeError:
            raise FileError(f"第 {reader.line_num + 1} 行附近不是有效的 {encoding} 文本") from None
        except csv.Error as exc:
            raise FileError(f"第 {reader.line_num} 行 CSV 格式错误：{exc}") from None
        finally:
            fh.close()

    table.rows = rows()
    table.batches = batches
    table.encoding = encoding
    return table


def _check_xlsx(path: Path) -> None:
    """FileError when a part of the workbook is damaged: a member fails its checksum, or an XML
    part (a worksheet cut short, say) does not parse to its end."""
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
            if bad is not None:
                raise FileError(f"XLSX 文件损坏：{bad} 校验失败")
            for name in zf.namelist():
                if not name.endswith((".xml", ".rels")):
                    continue
                parser = expat.ParserCreate()
                with zf.open(name) as part:
                    while chunk := part.read(1 << 20):
                        parser.Parse(chunk, False)
                parser.Parse(b"", True)
    except FileError:
        raise
    except _XLSX_ERRORS as exc:
        raise FileError(f"XLSX 文件损坏或不完整，无法读取（{exc.__class__.__name__}）") from None


def _open_xlsx(kind: str, path: Path) -> Table:
    import openpyxl

    _check_xlsx(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except _XLSX_ERRORS as exc:
        raise FileError(f"XLSX 文件损坏或不完整，无法打开（{exc.__class__.__name__}）") from None
    sheet = wb.worksheets[0]
    it = sheet.iter_rows(values_only=True)
    try:
        headers = list(next(it))
    except StopIteration:
        wb.close()
        raise FileError("文件为空（第一个工作表没有内容）") from None
    except _XLSX_ERRORS as exc:
        wb.close()
        raise FileError(f"XLSX 文件损坏或不完整（{exc.__class__.__name__}）") from None
    index, table = _match_headers(kind, headers)

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        names = [c.name for c in table.columns]
        try:
            for line, values in enumerate(it, start=2):
                if values is None or not any(v not in (None, "") for v in values):
                    continue
                yield (
                    line,
                    {
                        n: (_cell(values[i]) if i is not None and i < len(values) else "")
                        for n, i in zip(names, index, strict=True)
                    },
                )
        except _XLSX_ERRORS as exc:
            raise FileError(f"XLSX 文件损坏或不完整（{exc.__class__.__name__}）") from None
        finally:
            wb.close()

    table.rows = rows()
    table.encoding = "xlsx"
    return table
