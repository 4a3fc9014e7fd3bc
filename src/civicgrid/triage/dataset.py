"""Reading appeal tables for training and prediction: CSV (UTF-8 with or without BOM, or
GB18030/GBK) or XLSX, any columns. The encoding sniffing and cell rules are the registry
reader's, so every import in civicgrid reads files the same way."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from civicgrid.registry.reader import _XLSX_ERRORS, SNIFF_BYTES, FileError, _cell, detect_encoding

__all__ = ["FileError", "Table", "read_table", "texts_and_labels", "write_csv"]


@dataclass
class Table:
    headers: list[str]
    rows: list[dict[str, str]]
    lines: list[int]  # the file line of each row, for error messages
    encoding: str


def read_table(path: Path) -> Table:
    path = Path(path)
    if not path.exists():
        raise FileError(f"文件不存在：{path}")
    if path.stat().st_size == 0:
        raise FileError(f"文件为空：{path}")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    with open(path, "rb") as fh:
        encoding = detect_encoding(fh.read(SNIFF_BYTES))
    try:
        with open(path, encoding=encoding, newline="") as fh:
            data = list(csv.reader(fh))
    except UnicodeDecodeError as exc:
        raise FileError(f"文件编码无法识别（按 {encoding} 读到第 {exc.start} 字节出错）") from None
    except csv.Error as exc:
        raise FileError(f"CSV 格式错误：{exc}") from None
    return _table([[c.strip() for c in r] for r in data], 1, encoding)


def _read_xlsx(path: Path) -> Table:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        data = [[_cell(v) for v in row] for row in wb.worksheets[0].iter_rows(values_only=True)]
        wb.close()
    except _XLSX_ERRORS as exc:
        raise FileError(f"XLSX 文件损坏或不完整，无法打开（{exc.__class__.__name__}）") from None
    return _table(data, 1, "xlsx")


def _table(data: list[list[str]], first_line: int, encoding: str) -> Table:
    if not data or not any(h.strip() for h in data[0]):
        raise FileError("文件为空（没有表头）")
    headers = [h.replace("\ufeff", "").strip() for h in data[0]]
    rows, lines = [], []
    for n, values in enumerate(data[1:], start=first_line + 1):
        if not any(v.strip() for v in values):
            continue
        rows.append({h: (values[i] if i < len(values) else "") for i, h in enumerate(headers)})
        lines.append(n)
    return Table(headers, rows, lines, encoding)


def _column(table: Table, name: str, what: str) -> str:
    for h in table.headers:
        if h.lower() == name.lower():
            return h
    raise FileError(
        f"缺少{what}列“{name}”；文件的列：{'、'.join(h for h in table.headers if h) or '（无）'}"
    )


def text_columns(table: Table, names: list[str]) -> list[str]:
    """The named text columns; a column holding mostly numbers or dates is refused (it would
    teach the model nothing and usually means a wrong ``--text-cols``)."""
    cols = [_column(table, n, "文本") for n in names]
    for col in cols:
        values = [r[col] for r in table.rows if r[col].strip()]
        if not values:
            continue
        numeric = sum(1 for v in values if _is_number_or_date(v))
        if numeric / len(values) > 0.9:
            raise FileError(
                f"列“{col}”不是文本（{numeric}/{len(values)} 行是数字或日期），请检查 --text-cols"
            )
    return cols


def _is_number_or_date(v: str) -> bool:
    s = v.strip().replace(",", "").replace("-", "").replace("/", "").replace(":", "")
    s = s.replace(" ", "").replace(".", "").replace("T", "")
    return s.isdigit()


def texts_and_labels(
    table: Table, text_cols: list[str], label_col: str | None
) -> tuple[list[str], list[str], list[str] | None]:
    """(subjects, bodies, labels or None). With two or more text columns the first is the
    subject (weighted above the rest); with one, there is no subject."""
    cols = text_columns(table, text_cols)
    if len(cols) >= 2:
        subjects = [r[cols[0]] for r in table.rows]
        bodies = [" ".join(r[c] for c in cols[1:]) for r in table.rows]
    else:
        subjects = ["" for _ in table.rows]
        bodies = [r[cols[0]] for r in table.rows]
    labels = None
    if label_col is not None:
        lc = _column(table, label_col, "类别")
        labels = [r[lc].strip() for r in table.rows]
    return subjects, bodies, labels


def write_csv(path: Path, headers: list[str], rows: list[dict[str, object]]) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=headers, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
