"""Shenzhen's governance tree from the packaged statistical codes (no ORM: plain data).

The statistical data files 大鹏新区's three streets under 龙岗区; the governance tree gives them
their own district-level node (``DAPENG_CODE``), as the city itself counts 10 district centres.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
CITY_CODE = "440300"
CITY_NAME = "深圳市"
DAPENG_CODE = "440399"
DAPENG_NAME = "大鹏新区"
DAPENG_STREETS = ("440307009", "440307010", "440307011")
LONGGANG_CODE = "440307"

_COMMITTEE = re.compile(r"(居民委员会|村民委员会|居委会|委员会)$")


@dataclass(frozen=True)
class RegionSpec:
    code: str
    name: str
    official_name: str
    level: str
    parent: str | None
    district: str


def short_community_name(official: str) -> str:
    """``大塘龙社区居民委员会`` → ``大塘龙社区``; the committee suffix is not the place's name."""
    name = _COMMITTEE.sub("", official)
    return name if name.endswith(("社区", "村")) else name + "社区"


def governance_district(street_code: str) -> str:
    return DAPENG_CODE if street_code in DAPENG_STREETS else street_code[:6]


def load_tree(data_dir: Path = DATA_DIR) -> list[RegionSpec]:
    """City, 10 districts, 74 streets and 783 communities, parents before children."""
    specs = [RegionSpec(CITY_CODE, CITY_NAME, CITY_NAME, "city", None, "")]
    streets: list[RegionSpec] = []
    districts: dict[str, str] = {}
    with open(data_dir / "shenzhen_streets.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["is_street"] != "1":
                continue  # bonded zones, airport area: not governance streets
            district = governance_district(row["code"])
            districts.setdefault(row["areaCode"], row["areaName"])
            streets.append(
                RegionSpec(row["code"], row["name"], row["name"], "street", district, district)
            )
    for code, name in sorted(districts.items()):
        specs.append(RegionSpec(code, name, name, "district", CITY_CODE, code))
    specs.append(
        RegionSpec(DAPENG_CODE, DAPENG_NAME, DAPENG_NAME, "district", CITY_CODE, DAPENG_CODE)
    )
    specs.extend(streets)
    street_district = {s.code: s.district for s in streets}
    with open(data_dir / "shenzhen_communities.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            street = row["streetCode"]
            if street not in street_district:
                continue  # placeholder communities of the special zones
            specs.append(
                RegionSpec(
                    row["code"],
                    short_community_name(row["name"]),
                    row["name"],
                    "community",
                    street,
                    street_district[street],
                )
            )
    return specs


def children(specs: list[RegionSpec]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(district → street codes, street → community codes), sorted, for the layout."""
    streets: dict[str, list[str]] = {}
    communities: dict[str, list[str]] = {}
    for s in specs:
        if s.level == "street":
            streets.setdefault(s.parent, []).append(s.code)
        elif s.level == "community":
            communities.setdefault(s.parent, []).append(s.code)
    return (
        {k: sorted(v) for k, v in streets.items()},
        {k: sorted(v) for k, v in communities.items()},
    )


def grid_code(community_code: str, seq: int) -> str:
    if not 1 <= seq <= 99:
        raise ValueError("a community holds at most 99 base grids (2-digit sequence)")
    return f"{community_code}{seq:02d}"


def grid_name(community_name: str, seq: int) -> str:
    return f"{community_name}第{seq:02d}网格"
