"""Small, hand-made registry files in the exact formats offices send."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from civicgrid.registry.codes import id_check_char

GRID = "44030601700101"  # 宝民社区第01网格, 新安街道, 宝安区
NANSHAN_GRID = "44030500100101"  # 南头城社区第01网格, 南头街道, 南山区


def id_number(area: str = "440306", birth: str = "19900101", seq: int = 123) -> str:
    body = f"{area}{birth}{seq:03d}"
    return body + id_check_char(body)


def wrong_check_digit() -> str:
    """A well-formed ID number whose check digit is wrong."""
    good = id_number()
    return good[:-1] + ("0" if good[-1] != "0" else "1")


def write_csv(
    path: Path, header: list[str], rows: list[list[object]], encoding: str = "utf-8"
) -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


BUILDING_HEADER = [
    "code",
    "grid_code",
    "name",
    "address",
    "lon",
    "lat",
    "use",
    "form",
    "floors",
    "year_built",
    "safety_rating",
]


@pytest.fixture
def buildings_file(tmp_path, grid_point):
    lon, lat = grid_point()
    nlon, nlat = grid_point(NANSHAN_GRID)

    def make(name: str = "buildings.csv") -> Path:
        return write_csv(
            tmp_path / name,
            BUILDING_HEADER,
            [
                [
                    "",
                    GRID,
                    "宝民花园1栋",
                    "宝安区新安街道宝民路1号",
                    lon,
                    lat,
                    "住宅",
                    "商品住宅小区",
                    30,
                    2005,
                    "A",
                ],
                [
                    "",
                    GRID,
                    "宝民村12号",
                    "宝安区新安街道宝民村12号",
                    lon,
                    lat,
                    "住宅",
                    "城中村私宅",
                    7,
                    1995,
                    "C",
                ],
                [
                    "4403060170010100500",
                    GRID,
                    "",
                    "宝安区新安街道宝民路5号",
                    lon,
                    lat,
                    "商业",
                    "其他",
                    3,
                    "",
                    "",
                ],
                ["", "44030601799901", "错网格", "某路1号", lon, lat, "住宅", "其他", 5, "", ""],
                ["", GRID, "层数错", "某路2号", lon, lat, "住宅", "其他", "abc", "", ""],
                ["", GRID, "坐标错", "某路3号", 116.39, 39.9, "住宅", "其他", 5, "", ""],
                [
                    "4403060170010100500",
                    GRID,
                    "重复",
                    "宝安区新安街道宝民路5号",
                    lon,
                    lat,
                    "商业",
                    "其他",
                    3,
                    "",
                    "",
                ],
                [
                    "",
                    NANSHAN_GRID,
                    "南头城1号",
                    "南山区南头街道南头城1号",
                    nlon,
                    nlat,
                    "住宅",
                    "城中村私宅",
                    6,
                    1990,
                    "B",
                ],
            ],
        )

    return make
