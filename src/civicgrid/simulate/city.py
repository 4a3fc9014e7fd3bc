"""A synthetic Shenzhen written as the registry's own bulk files.

Why: the registry, its importer and its dashboards must be exercised at the city's real size
(tens of millions of rows) and with plausible structure, but real population data never leaves
the government network. :func:`generate_city` writes ``buildings.csv``, ``houses.csv``,
``persons.csv``, ``organisations.csv`` and ``places.csv`` exactly as an office would hand them in
(``registry.formats``: English headers in column order, Chinese labels for coded values, UTF-8),
so ``civicgrid import KIND FILE`` takes them unchanged, in that order.

How:

* Plan, then write. A first pass fixes every building (grid, form, floors, rooms per floor), the
  use and the number of residents of every house (two bytes per house, 22 MB for 11 M houses)
  and the organisations per building. Every count is then exactly ``round(total × scale)``. The
  second pass writes chunks of about ``CHUNK_HOUSES`` houses with their buildings, residents and
  organisations, so memory does not grow with the city, and every reference (house → building,
  person → house, owner → person or organisation) points at a row of the same chunk.
* Determinism: every draw comes from a generator seeded with (seed, stage, chunk), names from a
  hash of (seed, thing), dates are relative to the fixed ``AS_OF``: the same (grids, scale,
  seed, totals) gives the same bytes on any day.
* Unique ID numbers: birth date, area and sex are drawn freely, then a counter per (area, birth
  date, sex) — one byte each, ~20 MB — hands out the k-th free sequence number, and the
  bijection m = (211·k + offset) mod 499 turns k into the sequence 2m+1 (men) or 2m+2 (women).
  Distinct k give distinct m, so no two persons share (area, birth date, sequence), hence no two
  share an ID number. A full cell (255 persons) moves the birth date on by a day.
* Unique credit codes: the 9-character organisation identifier is an affine bijection of the
  organisation's global index (mod 10⁹ for older all-digit identifiers, mod 31⁶ behind ``MA5``
  for post-2015 ones); the two sets cannot overlap, so neither can the codes. About 0.1 % get a
  wrong check character, like some early codes, to exercise the importer's warning path.
* Speed: columns are built with numpy per chunk as object arrays of Python strings taken from
  small vocabularies (labels, tag sets, dates, numbers), then written a batch at a time.

The totals in ``SHENZHEN_TOTALS`` and the shares below are rough public orders of magnitude
chosen for plausibility (the 2020 census counted ~17.6 M residents; more than half the city's
~600 k buildings are urban-village houses), not statistics to cite.
"""

from __future__ import annotations

import csv
import itertools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import TextIO

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from civicgrid.registry import codes, formats

__all__ = [
    "AS_OF",
    "CHUNK_HOUSES",
    "FILE_KINDS",
    "SHENZHEN_TOTALS",
    "GridInfo",
    "generate_city",
]

Progress = Callable[[str, int, int], None]  # (stage, done, total)

AS_OF = date(2025, 12, 31)  # "today" of the synthetic city: births, moves and since-dates end here
CHUNK_HOUSES = 25_000  # houses per written chunk (≈ 45 k persons): bounds the working memory
_WRITE_BATCH = 50_000  # rows joined into one string at a time
FILE_KINDS = ("buildings", "houses", "persons", "organisations", "places")

#: Shenzhen at scale 1.0: rough public orders of magnitude, not facts. Place kinds are the codes
#: of ``formats.PLACE_KINDS``.
SHENZHEN_TOTALS: dict[str, int] = {
    "buildings": 600_000,
    "houses": 11_000_000,
    "persons": 20_000_000,
    "organisations": 4_000_000,
    "slope": 3_000,  # 边坡
    "low_lying": 500,  # 低洼易涝点
    "construction": 2_500,  # 工地
    "billboard": 20_000,  # 户外广告牌
    "shelter": 1_200,  # 应急避难场所
    "river": 300,  # 河道段
    "ebike_charging": 15_000,  # 电动自行车集中充电点
}


@dataclass(frozen=True)
class GridInfo:
    """One base grid: where its buildings may stand and how their addresses begin."""

    code: str  # 14 digits
    district_code: str  # governance district, e.g. "440306"; "440399" for 大鹏新区
    address_prefix: str  # e.g. "深圳市宝安区新安街道宝民社区"
    polygon: Polygon | MultiPolygon  # WGS84 lon/lat


# --- building archetypes ---------------------------------------------------------------------

_FORM_CODES = (
    "urban_village",
    "estate",
    "collective_dorm",
    "public_rental",
    "industrial_park",
    "temporary",
    "other",
)
UV, ESTATE, DORM, PUBLIC, PARK, TEMP, OTHER = range(7)
# Share of buildings by form, city-wide: urban villages dominate the count (not the floor area).
_FORM_MIX = np.array([0.57, 0.065, 0.012, 0.004, 0.21, 0.07, 0.069])
# Forms whose buildings come in named complexes ("XX花园3栋"), with their mean complex size.
_COMPLEX_SIZE = {ESTATE: 8.0, DORM: 4.0, PUBLIC: 6.0, PARK: 6.0}

_HOUSE_USE_CODES = ("own", "rent", "vacant", "business", "office", "storage", "dormitory")
OWN, RENT, VACANT, BUSINESS, OFFICE, STORAGE, DORMITORY = range(7)


@dataclass(frozen=True)
class _Arch:
    """A kind of building (form and use) and what its houses look like."""

    form: int
    use: str  # building use code
    share: float  # within its form
    floors: tuple[int, int]
    rooms: tuple[int, int]  # rooms per floor
    years: tuple[int, int, int]  # earliest, most common, latest
    houses: str  # house uses and their shares, e.g. "rent .86 own .05 vacant .09"
    area: tuple[float, float]  # m², drawn log-uniformly
    shops: tuple[int, float]  # the lowest n floors: chance that a room is a shop (经营)
    risk: float  # multiplies the chance of a C/D safety rating


# fmt: off
_ARCHES = (
    # form, use, share in form, floors, rooms per floor, built (earliest, commonest, latest),
    # house uses, area m², shops on the lowest floors, C/D risk
    _Arch(UV, "residential", .85, (5, 9), (1, 3), (1980, 1998, 2012),
          "rent .86 own .05 vacant .09", (15, 40), (1, .3), 1.2),
    _Arch(UV, "mixed", .15, (5, 9), (1, 3), (1980, 1998, 2012),
          "rent .86 own .05 vacant .09", (15, 40), (1, .9), 1.2),
    _Arch(ESTATE, "residential", .92, (18, 40), (2, 4), (1995, 2010, 2024),
          "own .55 rent .33 vacant .12", (70, 140), (0, 0), .3),
    _Arch(ESTATE, "mixed", .08, (18, 40), (2, 4), (1995, 2008, 2024),
          "own .55 rent .33 vacant .12", (70, 140), (2, .8), .3),
    _Arch(DORM, "dormitory", 1.0, (4, 8), (6, 12), (1988, 2003, 2018),
          "dormitory .93 vacant .07", (18, 35), (0, 0), 1.0),
    _Arch(PUBLIC, "residential", 1.0, (18, 33), (4, 8), (2008, 2018, 2024),
          "rent .9 vacant .1", (35, 75), (0, 0), .2),
    _Arch(PARK, "industrial", .80, (2, 6), (1, 3), (1985, 2000, 2020),
          "business .62 storage .22 office .1 vacant .06", (300, 2000), (0, 0), 1.0),
    _Arch(PARK, "dormitory", .14, (3, 6), (4, 8), (1985, 2000, 2020),
          "dormitory .92 vacant .08", (18, 30), (0, 0), 1.0),
    _Arch(PARK, "office", .06, (4, 12), (2, 6), (1995, 2012, 2024),
          "office .85 vacant .15", (60, 400), (0, 0), .5),
    _Arch(TEMP, "commercial", .38, (1, 2), (1, 6), (2005, 2018, 2024),
          "business .8 vacant .2", (20, 200), (0, 0), 2.5),
    _Arch(TEMP, "storage", .37, (1, 2), (1, 4), (2005, 2018, 2024),
          "storage .85 vacant .15", (50, 500), (0, 0), 2.5),
    _Arch(TEMP, "dormitory", .15, (1, 2), (4, 12), (2005, 2018, 2024),
          "dormitory .9 vacant .1", (15, 30), (0, 0), 2.5),
    _Arch(TEMP, "other", .10, (1, 2), (1, 4), (2005, 2018, 2024),
          "storage .4 business .3 vacant .3", (20, 300), (0, 0), 2.5),
    _Arch(OTHER, "commercial", .30, (2, 8), (2, 8), (1990, 2010, 2024),
          "business .8 office .05 vacant .15", (30, 500), (0, 0), .5),
    _Arch(OTHER, "office", .40, (5, 24), (1, 3), (1995, 2012, 2024),
          "office .82 business .05 vacant .13", (50, 500), (0, 0), .3),
    _Arch(OTHER, "public", .20, (2, 6), (1, 4), (1985, 2008, 2024),
          "office .9 vacant .1", (50, 800), (0, 0), .5),
    _Arch(OTHER, "storage", .10, (1, 4), (1, 4), (1990, 2008, 2022),
          "storage .9 vacant .1", (100, 1500), (0, 0), 1.0),
)
# District character: buildings per km² (relative) and how the form mix leans.
_DISTRICTS: dict[str, tuple[float, dict[int, float]]] = {
    "440303": (1.4, {UV: .9, ESTATE: 1.6, PARK: .2, OTHER: 1.8}),  # 罗湖
    "440304": (1.5, {UV: .7, ESTATE: 2.0, PARK: .15, OTHER: 2.5}),  # 福田
    "440305": (1.1, {UV: .8, ESTATE: 1.8, PARK: .5, OTHER: 2.0}),  # 南山
    "440306": (1.2, {PARK: 1.3}),  # 宝安
    "440307": (0.9, {PARK: 1.2}),  # 龙岗
    "440308": (0.35, {UV: .8, ESTATE: 1.4, PARK: .6, TEMP: 1.2}),  # 盐田
    "440309": (1.3, {PARK: 1.2}),  # 龙华
    "440310": (0.6, {PARK: 1.4}),  # 坪山
    "440311": (0.7, {PARK: 1.5}),  # 光明
    "440399": (0.15, {UV: 1.1, ESTATE: .6, PARK: .5, TEMP: 1.5, OTHER: 1.2}),  # 大鹏新区
}
# fmt: on
_A_FORM = np.array([a.form for a in _ARCHES], dtype=np.int8)
_A_FLOORS = np.array([a.floors for a in _ARCHES], dtype=np.int64)
_A_ROOMS = np.array([a.rooms for a in _ARCHES], dtype=np.int64)
_A_YEARS = np.array([a.years for a in _ARCHES], dtype=np.float64)


def _use_shares(text: str) -> list[float]:
    words = text.split()
    shares = dict(zip(words[::2], map(float, words[1::2]), strict=True))
    return [shares.get(use, 0.0) for use in _HOUSE_USE_CODES]


_A_HOUSE_CUM = np.cumsum([_use_shares(a.houses) for a in _ARCHES], axis=1)
_A_HOUSE_CUM /= _A_HOUSE_CUM[:, -1:]
_A_AREA = np.log(np.array([a.area for a in _ARCHES]))
_A_SHOP_FLOORS = np.array([a.shops[0] for a in _ARCHES])
_A_SHOP_P = np.array([a.shops[1] for a in _ARCHES])
_A_RISK = np.array([a.risk for a in _ARCHES])
_A_USE_LABEL = np.array([formats.BUILDING_USES[a.use] for a in _ARCHES], dtype=object)
_A_FORM_LABEL = np.array(
    [formats.BUILDING_FORMS[_FORM_CODES[a.form]] for a in _ARCHES], dtype=object
)
_HOUSE_USE_LABEL = np.array([formats.HOUSE_USES[u] for u in _HOUSE_USE_CODES], dtype=object)
_RATINGS = np.array(list(formats.SAFETY_RATINGS.values()), dtype=object)  # A B C D

# --- residents -------------------------------------------------------------------------------

# Occupancy classes: persons per house by (form, house use), as value → probability, with the
# range the exact-total adjustment keeps to.
_OCC_NONE, _OCC_UV_RENT, _OCC_FLAT_RENT, _OCC_OWN, _OCC_DORM = range(5)
_OCC_P = np.zeros((5, 9))
_OCC_P[_OCC_NONE, 0] = 1
_OCC_P[_OCC_UV_RENT, 1:4] = (0.45, 0.38, 0.17)  # a rented room: single, couple, couple + child
_OCC_P[_OCC_FLAT_RENT, 1:5] = (0.10, 0.42, 0.32, 0.16)
_OCC_P[_OCC_OWN, 1:6] = (0.08, 0.30, 0.35, 0.22, 0.05)
_OCC_P[_OCC_DORM, 4:9] = (0.2, 0.2, 0.25, 0.15, 0.2)
_OCC_CUM = np.cumsum(_OCC_P, axis=1)
_OCC_MIN = np.array([0, 1, 1, 1, 4])
_OCC_MAX = np.array([0, 3, 4, 5, 8])

# Person classes (by house): household type, age and sex of the residents.
_P_UV_OWN, _P_UV_RENT, _P_OWN, _P_RENT, _P_PUBLIC, _P_DORM = range(6)
_P_LOCAL = np.array([0.92, 0.10, 0.62, 0.30, 0.75, 0.05])  # before calibration to _LOCAL_SHARE
_LOCAL_SHARE = 0.33  # 户籍 share of residents
# fmt: off
_P_HEAD_AGE = np.array([  # head of household (dormitories: everyone): lo, hi, beta a, b
    (30, 85, 2.5, 2.8), (18, 62, 2.0, 3.8), (25, 82, 2.4, 3.4), (21, 65, 2.2, 3.8),
    (23, 62, 2.2, 3.2), (17, 55, 1.8, 4.2),
])
# fmt: on
_P_HEAD_MALE = np.array([0.55, 0.55, 0.55, 0.55, 0.52, 0.52])
_RELATION_LABEL = np.array(
    [formats.RELATIONS[r] for r in ("tenant", "owner", "family", "employee_dorm")], dtype=object
)
_HOUSEHOLD_LABEL = np.array(
    [formats.HOUSEHOLD_TYPES["nonlocal"], formats.HOUSEHOLD_TYPES["local"]], dtype=object
)
_TAG_ORDER = (
    "elderly_alone",
    "disabled",
    "extreme_poverty",
    "community_correction",
    "youth_at_risk",
    "veteran",
)
# Every combination of the tags above, by bit mask, joined as files write them.
_TAG_SETS = np.array(
    [
        "、".join(formats.CARE_TAGS[t] for i, t in enumerate(_TAG_ORDER) if mask >> i & 1)
        for mask in range(1 << len(_TAG_ORDER))
    ],
    dtype=object,
)


def _occ_class(form: np.ndarray, use: np.ndarray) -> np.ndarray:
    out = np.full(form.shape, _OCC_NONE, dtype=np.int8)
    out[use == OWN] = _OCC_OWN
    rent = use == RENT
    out[rent] = np.where(form[rent] == UV, _OCC_UV_RENT, _OCC_FLAT_RENT)
    out[use == DORMITORY] = _OCC_DORM
    return out


def _person_class(form: np.ndarray, use: np.ndarray) -> np.ndarray:
    out = np.full(form.shape, _P_RENT, dtype=np.int8)
    uv = form == UV
    out[(use == OWN) & uv] = _P_UV_OWN
    out[(use == OWN) & ~uv] = _P_OWN
    out[(use == RENT) & uv] = _P_UV_RENT
    out[(use == RENT) & (form == PUBLIC)] = _P_PUBLIC
    out[use == DORMITORY] = _P_DORM
    return out


# ID area codes. Shenzhen: 440301 (市辖区, on older numbers) and the districts. 大鹏新区 has no
# code of its own: its residents' numbers carry 440307 (龙岗). 龙华, 坪山 and 光明 were carved
# out in 2017 (of 宝安, 龙岗, 宝安), so numbers of people born before then carry the old one.
_SZ_CODES = (440301, 440303, 440304, 440305, 440306, 440307, 440308, 440309, 440310, 440311)
_NEW_DISTRICTS = {440309: 440306, 440310: 440307, 440311: 440306}
_NEW_DISTRICT_YEAR = 2017
_LOCAL_FROM_ELSEWHERE = 0.32  # 户籍 residents who moved their hukou here keep their old number
# fmt: off
# Home regions of non-户籍 residents: (share, county-level area codes). Rough migration shares.
_ORIGINS: tuple[tuple[float, tuple[int, ...]], ...] = (
    (.30, (440104, 440106, 440111, 440402, 440507, 440513, 440514, 440604, 440703, 440803,
           440825, 440881, 440882, 440902, 440981, 440982, 440983, 441202, 441302, 441322,
           441323, 441402, 441424, 441426, 441427, 441481, 441502, 441521, 441523, 441581,
           441602, 441621, 441622, 441702, 441781, 441802, 441900, 442000, 445102, 445122,
           445202, 445222, 445224, 445281, 445302, 445381)),  # 广东其他市
    (.16, (430102, 430111, 430124, 430181, 430281, 430321, 430421, 430422, 430424, 430426,
           430481, 430482, 430521, 430522, 430581, 430621, 430681, 430721, 430902, 430921,
           430981, 431002, 431021, 431081, 431121, 431122, 431202, 431321, 431381, 431382,
           433101)),  # 湖南
    (.10, (450102, 450103, 450122, 450202, 450321, 450402, 450421, 450481, 450521, 450721,
           450722, 450802, 450821, 450881, 450902, 450921, 450922, 450923, 450981, 451002,
           451102, 451202, 451302)),  # 广西
    (.08, (360102, 360121, 360403, 360430, 360502, 360681, 360702, 360721, 360722, 360723,
           360726, 360727, 360728, 360729, 360730, 360731, 360732, 360733, 360734, 360735,
           360781, 360821, 360902, 361002, 361102, 361121)),  # 江西
    (.08, (420102, 420111, 420202, 420302, 420502, 420602, 420682, 420684, 420802, 420881,
           420902, 420921, 420982, 421002, 421087, 421102, 421122, 421123, 421125, 421126,
           421127, 421181, 421182, 421202, 421302, 422801, 429004, 429006)),  # 湖北
    (.06, (410102, 410105, 410221, 410322, 410402, 410522, 410721, 410823, 411002, 411102,
           411221, 411302, 411321, 411323, 411326, 411381, 411402, 411421, 411502, 411521,
           411522, 411524, 411525, 411526, 411527, 411602, 411621, 411628, 411702, 411721,
           411723, 411729)),  # 河南
    (.05, (510104, 510107, 510302, 510402, 510502, 510603, 510703, 510802, 510903, 510904,
           511002, 511102, 511302, 511321, 511322, 511323, 511324, 511381, 511402, 511502,
           511602, 511702, 511721, 511722, 511724, 511725, 511902, 511921, 511923, 512002,
           512021)),  # 四川
    (.13, (500101, 500229, 500230, 500236, 500237, 350102, 350583, 350681, 520102, 520402,
           522101, 460105, 340102, 341221, 341222, 320102, 370102, 610102, 230102, 530102,
           330102, 130102, 140105, 150102, 210102, 220102, 620102, 110105, 310115,
           120101)),  # 重庆, 福建, 贵州, 海南, 安徽 and the rest of the country
)
# Mobile number segments (first three digits) of the three carriers.
_PHONE_PREFIXES = np.array(
    [130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 147, 150, 151, 152, 153, 155, 156, 157,
     158, 159, 166, 173, 175, 176, 177, 178, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189,
     191, 193, 195, 198, 199], dtype=np.int64)
# fmt: on
_ORIGIN_CODES = np.array([c for _, cs in _ORIGINS for c in cs], dtype=np.int64)
_ORIGIN_CUM = np.cumsum([w / len(cs) for w, cs in _ORIGINS for _ in cs])
_ORIGIN_CUM /= _ORIGIN_CUM[-1]
_ID_DAYS = 100 * 366  # birth dates kept within 100 years before AS_OF
_ID_CELL = 255  # sequence numbers handed out per (area, day, sex): one byte of counter
_ID_PRIME = 499  # sequences 2m+1 / 2m+2 for m < 499 stay within 001–998

# --- names -----------------------------------------------------------------------------------

# fmt: off
# The ~110 commonest surnames with rough weights (‰); more 陈/黄/林/梁 than the national list,
# since half the city comes from Guangdong and its neighbours.
_SURNAME_TEXT = (
    "王70 李70 张60 刘50 陈60 杨30 黄35 赵20 吴20 周18 徐12 孙12 马10 朱11 胡11 郭10 何10 高9 "
    "林14 罗10 郑9 梁11 谢8 宋6 唐7 许6 韩5 冯5 邓7 曹5 彭6 曾7 肖5 田4 董4 袁4 潘4 于3 蒋4 蔡5 "
    "余4 杜3 叶5 程3 苏4 魏3 吕3 丁3 任3 沈3 姚3 卢4 姜2 崔2 钟4 谭3 陆2 汪2 范2 金2 石2 廖4 "
    "贾2 夏2 韦3 付2 方2 白2 邹2 孟2 熊2 秦2 邱3 江2 尹2 薛2 闫1 段2 雷2 侯1 龙2 史1 陶1 黎2 贺1 "
    "顾1 毛1 郝1 龚1 邵1 万1 钱1 严1 覃2 武1 戴1 莫2 孔1 向1 汤1 温2 赖2 欧阳1 司马1 上官1"
)
_SURNAMES = _SURNAME_TEXT.split()
_GIVEN_MALE = list("伟强磊军洋勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳晨博文志建国峰"
                   "成东海亮兵锋彬嘉豪泽睿轩宏永德胜荣福庆祥宝金生")
_GIVEN_FEMALE = list("芳娜敏静丽艳娟霞燕玲婷雪慧颖琳丹萍红梅莉倩洁佳欣怡悦诗雨梦思晓月璐瑶"
                     "琪蕾薇妍菲彤秀英兰凤翠玉珍桂芬莹晴")
_GIVEN_ANY = list("子晓文佳嘉思一明海春秋雅宇小建志振新家俊永")
_WORD_TEXT = (
    "碧海 金色 桃源 海滨 阳光 翠竹 锦绣 星河 华侨 荔景 福景 宝安 新安 龙华 东方 南方 金海 银湖 "
    "丽景 怡景 泰华 兴华 鸿荣 嘉华 宏发 富通 万和 天安 中联 宝华 雅园 景苑 海月 蔚蓝 翠湖 水榭 "
    "幸福 和平 友谊 育才 翻身 前进 创业 建设 宝民 西乡 福永 沙井 松岗 石岩 观澜 布吉 横岗 坪地 "
    "平湖 坂田 民治 大浪 福城 公明 新湖 凤凰 葵涌 南澳 梅林 香蜜 莲花 华强 车公 沙头 蛇口 南头 "
    "西丽 粤海 招商 梅沙 田心 坑梓 碧岭 马峦 燕罗 玉塘 新桥 福海 航城 石龙 清湖 龙胜 锦城 怡康 "
    "永丰 裕丰 荣华 嘉信 恒泰 瑞丰 鑫隆 华达 盛世 金龙 大成 兴达 德信 宏图 联创"
)
_WORDS = _WORD_TEXT.split()
_TRADE_CHARS = list("华鑫盛达泰宏源创新联科隆嘉瑞恒信永锦誉辉兴富丰荣佳汇通亿博腾海天中金银美安康")
# fmt: on
_SURNAME_LIST = np.array([re.sub(r"\d+", "", s) for s in _SURNAMES], dtype=object)
_SURNAME_CUM = np.cumsum([int(re.sub(r"\D", "", s)) for s in _SURNAMES], dtype=np.float64)
_SURNAME_CUM /= _SURNAME_CUM[-1]
_NUMERALS = "一二三四五六七八九"
_ROAD_SUFFIX = ("路", "路", "路", "大道", "街", "二路", "一路", "三路", "大街")
_VILLAGE_SUFFIX = ("新村", "老村", "东村", "西村", "南村", "北村", "一坊", "二坊", "上村", "下村")
_ESTATE_SUFFIX = (
    "花园",
    "苑",
    "华庭",
    "名苑",
    "豪园",
    "雅居",
    "家园",
    "公馆",
    "府",
    "山庄",
    "新城",
)
_TEMP_WORDS = {
    "commercial": "临时商铺",
    "storage": "临时仓库",
    "dormitory": "工地板房",
    "other": "临时用房",
}
_OTHER_NAMES = {
    "commercial": ("广场", "商业中心", "购物中心", "市场", "商业街"),
    "office": ("大厦", "中心", "科技大厦", "商务中心", "创新园"),
    "public": ("社区党群服务中心", "文体中心", "社区健康服务中心", "学校", "幼儿园", "派出所"),
    "storage": ("物流仓", "仓储中心", "冷库"),
}
_RIVERS = (
    "茅洲河", "深圳河", "大沙河", "观澜河", "龙岗河", "坪山河", "西乡河", "新圳河", "福田河",
    "布吉河", "新洲河", "凤塘河", "排涝河", "沙湾河", "丁山河", "龙华河", "大浪河", "岗头河",
)  # fmt: skip

# --- organisations ---------------------------------------------------------------------------

_ORG_KINDS = ("enterprise", "individual", "social", "institution")
_ORG_KIND_LABEL = np.array([formats.ORG_KINDS[k] for k in _ORG_KINDS], dtype=object)
_LOC_SHOP, _LOC_OFFICE, _LOC_HOME, _LOC_FACTORY = range(4)
# Kind shares by location (before calibrating individual businesses to _INDIVIDUAL_SHARE).
_KIND_P = np.array(
    [[.25, .72, .02, .01], [.82, .06, .07, .05], [.45, .53, .015, .005], [.93, .06, .005, .005]]
)  # fmt: skip
_INDIVIDUAL_SHARE = 0.45


def _org_location(form: np.ndarray, use: np.ndarray) -> np.ndarray:
    """Where an organisation sits: a shop, an office, a factory floor or (registered at) home."""
    loc = np.full(use.shape, _LOC_HOME, dtype=np.int8)
    loc[use == BUSINESS] = _LOC_SHOP
    loc[(use == OFFICE) | (use == STORAGE)] = _LOC_OFFICE
    loc[(form == PARK) & ((use == BUSINESS) | (use == STORAGE))] = _LOC_FACTORY
    return loc


# How much a house attracts organisations, by use: shops and offices hold most of them, a few
# firms are registered at a home.
_ORG_WEIGHT = np.array([0.02, 0.02, 0.01, 1.0, 1.5, 0.3, 0.0])
_INDUSTRIES = (
    "制造业", "批发和零售业", "住宿和餐饮业", "信息技术", "建筑业", "租赁和商务服务业",
    "居民服务业", "教育", "卫生", "交通运输业", "房地产业", "金融业", "科学研究和技术服务业",
    "社会工作", "文化体育", "公共管理",
)  # fmt: skip
_INDUSTRY_LABEL = np.array(_INDUSTRIES, dtype=object)


def _industry_p(**shares: float) -> np.ndarray:
    p = np.zeros(len(_INDUSTRIES))
    for name, share in shares.items():
        p[_INDUSTRIES.index(name)] = share
    return p / p.sum()


# (kind, location) → industry shares; kinds: 0 enterprise, 1 individual, 2 social, 3 institution.
_IND_P = np.zeros((4, 4, len(_INDUSTRIES)))
_IND_P[0, _LOC_SHOP] = _IND_P[0, _LOC_HOME] = _industry_p(
    批发和零售业=0.40, 住宿和餐饮业=0.15, 租赁和商务服务业=0.15, 信息技术=0.12, 居民服务业=0.08,
    建筑业=0.05, 房地产业=0.05,
)  # fmt: skip
_IND_P[0, _LOC_OFFICE] = _industry_p(
    信息技术=0.25, 租赁和商务服务业=0.22, 批发和零售业=0.20, 科学研究和技术服务业=0.10,
    建筑业=0.08, 金融业=0.05, 房地产业=0.05, 交通运输业=0.05,
)  # fmt: skip
_IND_P[0, _LOC_FACTORY] = _industry_p(
    制造业=0.80, 批发和零售业=0.08, 交通运输业=0.07, 信息技术=0.05
)
_IND_P[1, :] = _industry_p(
    批发和零售业=0.45, 住宿和餐饮业=0.30, 居民服务业=0.15, 制造业=0.04, 交通运输业=0.03,
    租赁和商务服务业=0.03,
)  # fmt: skip
_IND_P[2, :] = _industry_p(社会工作=0.35, 教育=0.25, 文化体育=0.20, 居民服务业=0.20)
_IND_P[3, :] = _industry_p(教育=0.5, 卫生=0.3, 公共管理=0.2)
_IND_CUM = np.cumsum(_IND_P, axis=2)
# Name words by industry: the middle of a firm's name, an individual business's shop type, …
_FIRM_WORDS = {
    "制造业": ("电子", "精密五金", "塑胶制品", "电子科技", "光电", "模具", "包装制品", "服装"),
    "批发和零售业": ("贸易", "商贸", "供应链", "实业"),
    "住宿和餐饮业": ("餐饮管理", "酒店管理", "饮食"),
    "信息技术": ("网络科技", "信息技术", "软件", "智能科技", "数据科技"),
    "建筑业": ("建设工程", "装饰工程", "建筑劳务"),
    "租赁和商务服务业": ("商务咨询", "企业管理", "物业管理", "人力资源"),
    "居民服务业": ("家政服务", "保洁服务", "美容"),
    "交通运输业": ("物流", "运输", "货运代理"),
    "房地产业": ("房地产经纪", "置业"),
    "金融业": ("投资", "融资租赁", "保险代理"),
    "科学研究和技术服务业": ("检测技术", "生物科技", "新材料"),
}
_SHOP_WORDS = {
    "批发和零售业": ("便利店", "百货商行", "五金店", "服装店", "水果店", "烟酒商行", "手机店"),
    "住宿和餐饮业": ("餐馆", "小吃店", "粉店", "茶餐厅", "面馆", "烧腊店", "奶茶店"),
    "居民服务业": ("美发店", "洗衣店", "家电维修部", "推拿店", "开锁店"),
    "制造业": ("加工厂", "五金加工店"),
    "交通运输业": ("货运部", "搬家服务部"),
    "租赁和商务服务业": ("打印店", "广告部"),
}
_SOCIAL_WORDS = {
    "社会工作": ("社会工作服务中心", "养老服务中心", "慈善会"),
    "教育": ("培训中心", "教育促进会"),
    "文化体育": ("文化促进会", "体育协会", "书画协会"),
    "居民服务业": ("志愿者协会", "商会", "物业管理协会"),
}
_INSTITUTION_WORDS = {
    "教育": ("学校", "实验学校", "幼儿园", "中学"),
    "卫生": ("社区健康服务中心", "医院", "妇幼保健院"),
    "公共管理": ("公共服务中心", "综合行政执法队", "城市管理服务中心"),
}
_DEFAULT_WORD = ("实业", "商行", "服务中心", "服务中心")
# Registration department + institution type (GB 32100 positions 1–2) by kind.
_CREDIT_PREFIX = (("91",), ("92",), ("51", "52"), ("12",))
_CITY_LEVEL = np.array([0.9, 0.6, 0.5, 0.5])  # registered with the city (440300), not a district
_OLD_STYLE_BODY = np.array([0.35, 0.25, 0.5, 0.9])  # share of all-digit identifiers by kind
_LEGACY_SHARE = 0.001  # codes with a wrong check character (early codes): a warning on import
_DEC_MOD, _DEC_A, _DEC_B = 10**9, 618_033_989, 271_828_183  # gcd(A, 10⁹) = 1
_MA5_MOD, _MA5_A, _MA5_B = 31**6, 523_347_633, 141_421_356  # A not a multiple of 31
_MA5_HIGH = sum(codes.CREDIT_CHARSET.index(c) * 31 ** (8 - i) for i, c in enumerate("MA5"))

# --- places ----------------------------------------------------------------------------------

_PLACE_NOTES = {
    "slope": ("已纳入汛期巡查", "坡面有裂缝，需加密巡查", "已完成治理", "坡脚有民房"),
    "low_lying": ("暴雨时积水约30厘米", "已设置排涝泵站", "下穿通道，易积水"),
    "construction": ("夜间施工需报备", "深基坑", "已安装扬尘监测"),
    "billboard": ("楼顶广告牌", "附着式招牌", "已完成安全检测", "台风前需加固"),
    "shelter": ("可容纳约800人", "室内场所", "配有应急物资"),
    "river": ("汛期重点河段", "已完成清淤", "有排污口2处"),
    "ebike_charging": ("20个充电口", "已配备灭火器", "智能断电", "设有雨棚"),
}


# --- small helpers ---------------------------------------------------------------------------


def _rng(seed: int, *stream: int) -> np.random.Generator:
    """One independent generator per (seed, stage, chunk): no chunk depends on another's draws."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, *stream])))


_G = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _hash(*parts: int | np.ndarray) -> np.ndarray:
    """splitmix64 of the parts, vectorised and broadcast: stable names for grids and complexes."""
    arrays = [np.atleast_1d(np.asarray(p)).astype(np.uint64) for p in parts]
    h = np.zeros(np.broadcast_shapes(*(a.shape for a in arrays)), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for a in arrays:
            x = (h ^ a) + _G
            x = (x ^ (x >> np.uint64(30))) * _M1
            x = (x ^ (x >> np.uint64(27))) * _M2
            h = x ^ (x >> np.uint64(31))
    return h


def _mod(h: np.ndarray, n: int) -> np.ndarray:
    return (h % np.uint64(n)).astype(np.int64)


def _alloc(total: int, weights: np.ndarray) -> np.ndarray:
    """Non-negative integers proportional to ``weights`` that sum exactly to ``total``."""
    w = np.asarray(weights, dtype=np.float64)
    out = np.zeros(w.size, dtype=np.int64)
    if total <= 0 or w.size == 0:
        return out
    if w.sum() <= 0:
        w = np.ones(w.size)
    q = w * (total / w.sum())
    out[:] = np.floor(q)
    rest = int(total - out.sum())
    if rest > 0:
        out[np.argsort(out - q, kind="stable")[:rest]] += 1
    return out


def _cat(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Categorical draws from row-wise cumulative probabilities ``cum`` (n × k)."""
    return np.minimum((u[:, None] > cum).sum(axis=1), cum.shape[-1] - 1)


def _draw(cum: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` draws from one cumulative distribution."""
    return np.minimum(np.searchsorted(cum, rng.random(n), side="right"), cum.size - 1)


def _objects(values: Sequence[str]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


@cache
def _int_strings() -> np.ndarray:
    """Decimal strings of 0–99 999: floors, rooms, years and staff by lookup, not formatting."""
    return _objects([str(i) for i in range(100_000)])


@cache
def _date_strings() -> tuple[np.datetime64, np.ndarray]:
    """(first day, "YYYY-MM-DD" of every day of the ID window up to AS_OF)."""
    end = np.datetime64(AS_OF.isoformat(), "D")
    first = end - np.timedelta64(_ID_DAYS - 1, "D")
    days = np.arange(first, end + np.timedelta64(1, "D"))
    return first, _objects(np.datetime_as_string(days, unit="D").tolist())


def _fmt(values: np.ndarray, spec: str) -> np.ndarray:
    return _objects(list(map(spec.format, values.tolist())))


def _km2(geom: Polygon | MultiPolygon) -> float:
    """Approximate area in km² (degree² scaled at the polygon's latitude): only for weights."""
    if geom.is_empty:
        return 0.0
    return geom.area * 111.32**2 * math.cos(math.radians(geom.centroid.y))


def _points_in(
    geom: Polygon | MultiPolygon, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random points inside ``geom``, rounded to 6 decimals and tested after rounding, so
    the coordinates as written lie inside the grid."""
    lon, lat = np.empty(0), np.empty(0)
    if n == 0:
        return lon, lat
    x0, y0, x1, y1 = geom.bounds
    box = (x1 - x0) * (y1 - y0)
    fill = geom.area / box if box > 0 else 0.0
    for _ in range(50):
        need = n - lon.size
        m = int(need / max(fill, 0.02) * 1.3) + 16
        x = np.round(rng.uniform(x0, x1, m), 6)
        y = np.round(rng.uniform(y0, y1, m), 6)
        keep = shapely.contains_xy(geom, x, y)
        lon = np.concatenate([lon, x[keep][:need]])
        lat = np.concatenate([lat, y[keep][:need]])
        if lon.size >= n:
            return lon, lat
    raise ValueError("cannot place points inside a grid polygon (empty or degenerate?)")


_PREFIX = re.compile(
    r"^(?:深圳市)?(?P<district>.*?(?:新区|区))?(?P<street>.*?(?:街道|镇))?(?P<rest>.*)$"
)


def _prefix_parts(prefix: str) -> tuple[str, str, str]:
    """(district, street short name, community short name) of an address prefix."""
    m = _PREFIX.match(prefix)
    assert m is not None  # every part of the pattern is optional
    street = re.sub(r"(街道|镇)$", "", m.group("street") or "")
    community = re.sub(r"(社区|居委会|村委会|村)$", "", m.group("rest") or "")
    return m.group("district") or "", street, community


# --- the plan --------------------------------------------------------------------------------


@dataclass
class _Grids:
    codes: np.ndarray  # object: 14-digit codes
    prefix: list[str]
    district: list[str]  # short district name (宝安区)
    street: list[str]  # 新安
    community: list[str]  # 宝民
    village: list[str]  # 宝民村, 宝民新村 …
    roads: list[list[str]]  # six road names per grid
    home_area: np.ndarray  # ID area code of residents born here
    km2: np.ndarray
    polygons: list[Polygon | MultiPolygon]


def _grid_table(grids: Sequence[GridInfo], seed: int) -> _Grids:
    n = len(grids)
    h = _hash(seed, 11, np.arange(n)[:, None], np.arange(20)[None, :])
    words = [[_WORDS[i] for i in row] for row in _mod(h, len(_WORDS)).tolist()]
    small = _mod(h >> np.uint64(32), 1 << 20).tolist()
    prefix, district, street, community, village, roads, home = [], [], [], [], [], [], []
    for g, grid in enumerate(grids):
        if not re.fullmatch(r"\d{14}", grid.code):
            raise ValueError(f"grid code must be 14 digits: {grid.code!r}")
        d, s, c = _prefix_parts(grid.address_prefix)
        prefix.append(grid.address_prefix)
        district.append(d)
        street.append(s or words[g][0])
        community.append(c or words[g][1])
        suffix = "村" if grid.code.endswith("01") else _VILLAGE_SUFFIX[small[g][0] % 10]
        village.append(community[-1] + suffix)
        names = []
        for k in range(6):
            r = small[g][2 + k]
            if r % 3 == 0:
                names.append(words[g][2 + k] + _NUMERALS[r % 8] + "路")
            else:
                names.append(words[g][2 + k] + _ROAD_SUFFIX[r % 9])
        roads.append(names)
        code = grid.district_code
        area = 440307 if code == "440399" else int(code) if re.fullmatch(r"\d{6}", code) else 0
        home.append(area if area // 10_000 in codes.ID_PROVINCES else 440301)
    return _Grids(
        codes=_objects([g.code for g in grids]),
        prefix=prefix,
        district=district,
        street=street,
        community=community,
        village=village,
        roads=roads,
        home_area=np.array(home, dtype=np.int64),
        km2=np.array([_km2(g.polygon) for g in grids]),
        polygons=[g.polygon for g in grids],
    )


@dataclass
class _Plan:
    grid: np.ndarray  # per building: grid index
    seq: np.ndarray  # building sequence within its grid (1-based)
    arch: np.ndarray
    floors: np.ndarray
    rooms: np.ndarray  # rooms per floor
    houses: np.ndarray  # houses per building
    year: np.ndarray
    rating: np.ndarray  # 0..3 = A..D
    complex_id: np.ndarray  # buildings of one estate / park / village share it
    complex_no: np.ndarray  # number within the complex (栋, 号)
    orgs: np.ndarray  # organisations located in the building
    house_use: np.ndarray  # per house, uint8
    occupants: np.ndarray  # per house, uint8
    chunks: list[tuple[int, int, int, int]]  # (b0, b1, h0, h1)
    org_offset: np.ndarray  # per chunk: global index of its first organisation
    local_logit_shift: float
    kind_cum: np.ndarray  # organisation kind by location, calibrated


def _plan_buildings(
    g: _Grids, grids: Sequence[GridInfo], n_buildings: int, n_houses: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Buildings per grid (area × district density × noise, denser where urban villages are),
    their archetypes, floors and rooms, and exactly ``n_houses`` houses among them."""
    n_grids = len(grids)
    density = np.array([_DISTRICTS.get(x.district_code, (1.0, {}))[0] for x in grids])
    lean = np.ones((n_grids, 7))
    for i, x in enumerate(grids):
        for form, factor in _DISTRICTS.get(x.district_code, (1.0, {}))[1].items():
            lean[i, form] = factor
    alpha = _FORM_MIX * lean
    mix = rng.gamma(4.0 * alpha / alpha.sum(axis=1, keepdims=True))  # Dirichlet, concentration 4
    mix[mix.sum(axis=1) == 0, UV] = 1.0
    mix /= mix.sum(axis=1, keepdims=True)
    weight = g.km2 * density * rng.lognormal(0.0, 0.5, n_grids) * (0.4 + 1.2 * mix[:, UV])
    if not np.isfinite(weight).all() or weight.sum() <= 0:
        weight = np.ones(n_grids)
    per_grid = rng.multinomial(n_buildings, weight / weight.sum())
    if per_grid.max(initial=0) > codes.MAX_BUILDING_SEQ:
        raise ValueError(
            f"{per_grid.max()} buildings in one grid exceed the 5-digit building sequence; "
            "use more grids or a smaller scale"
        )
    per_form = rng.multinomial(per_grid, mix)  # grid × form
    grid = np.repeat(np.arange(n_grids), per_grid).astype(np.int32)
    form = np.repeat(np.tile(np.arange(7), n_grids), per_form.ravel()).astype(np.int8)
    seq = (np.arange(n_buildings) - (np.cumsum(per_grid) - per_grid)[grid] + 1).astype(np.int32)

    arch = np.empty(n_buildings, dtype=np.int8)
    u = rng.random(n_buildings)
    for f in range(7):
        members = np.array([i for i, a in enumerate(_ARCHES) if a.form == f])
        cum = np.cumsum([_ARCHES[a].share for a in members])
        idx = np.flatnonzero(form == f)
        pick = np.minimum(np.searchsorted(cum / cum[-1], u[idx]), members.size - 1)
        arch[idx] = members[pick]
    lo, hi = _A_FLOORS[arch].T
    floors = rng.integers(lo, hi + 1)
    lo, hi = _A_ROOMS[arch].T
    raw = floors * rng.integers(lo, hi + 1)
    if n_houses >= n_buildings:
        houses = 1 + _alloc(n_houses - n_buildings, raw - 1.0)
    else:
        houses = _alloc(n_houses, raw.astype(np.float64))
    floors = np.maximum(floors, -(-houses // 99))  # at most 99 rooms a floor: room "1299"
    if floors.max(initial=0) > 200:
        raise ValueError("too many houses per building for the given totals")
    rooms = np.maximum(-(-houses // floors), 1)

    first, mode, last = _A_YEARS[arch].T
    year = np.round(rng.triangular(first, mode, last)).astype(np.int16)
    age = AS_OF.year - year
    p_c = _A_RISK[arch] * (0.006 + 0.002 * np.maximum(age - 10, 0))  # old villages: C/D
    p_d = 0.15 * p_c
    p_b = np.minimum(0.30 + 0.012 * age, 0.7)
    u = rng.random(n_buildings)
    rating = np.select([u < p_d, u < p_d + p_c, u < p_d + p_c + p_b], [3, 2, 1], 0)

    # Complexes: a run of one form in one grid, cut into estates / parks of a few buildings.
    run_start = np.ones(n_buildings, dtype=bool)
    run_start[1:] = (grid[1:] != grid[:-1]) | (form[1:] != form[:-1])
    mean = np.array([_COMPLEX_SIZE.get(f, math.inf) for f in range(7)])
    start = run_start | (rng.random(n_buildings) < 1.0 / mean[form])
    complex_id = np.cumsum(start) - 1
    complex_no = np.arange(n_buildings) - np.flatnonzero(start)[complex_id] + 1
    return {
        "grid": grid,
        "seq": seq,
        "arch": arch,
        "floors": floors.astype(np.int16),
        "rooms": rooms.astype(np.int16),
        "houses": houses.astype(np.int32),
        "year": year,
        "rating": rating.astype(np.int8),
        "complex_id": complex_id.astype(np.int64),
        "complex_no": complex_no.astype(np.int32),
    }


def _chunks(houses: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Cut the buildings into runs of about CHUNK_HOUSES houses, never splitting a building."""
    n = houses.size
    if n == 0:
        return []
    cum = np.cumsum(houses, dtype=np.int64)
    cuts = np.searchsorted(cum, np.arange(CHUNK_HOUSES, cum[-1], CHUNK_HOUSES)) + 1
    bounds = sorted({0, n, *(int(c) for c in cuts if 0 < c < n)})
    return [
        (b0, b1, int(cum[b0 - 1]) if b0 else 0, int(cum[b1 - 1]))
        for b0, b1 in itertools.pairwise(bounds)
    ]


def _house_layout(houses: np.ndarray, rooms: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per house of a chunk: local building index, index in the building, floor, room."""
    hb = np.repeat(np.arange(houses.size), houses)
    k = np.arange(hb.size) - (np.cumsum(houses, dtype=np.int64) - houses)[hb]
    r = rooms.astype(np.int64)[hb]
    return hb, k, 1 + k // r, k % r + 1


def _plan_houses(
    b: dict[str, np.ndarray], chunk: tuple[int, int, int, int], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """House uses and residents of one chunk, and each building's pull on organisations."""
    b0, b1, _, _ = chunk
    hb, _, floor, _ = _house_layout(b["houses"][b0:b1], b["rooms"][b0:b1])
    arch = b["arch"][b0:b1][hb]
    use = _cat(_A_HOUSE_CUM[arch], rng.random(hb.size))
    use[(floor <= _A_SHOP_FLOORS[arch]) & (rng.random(hb.size) < _A_SHOP_P[arch])] = BUSINESS
    occ = _cat(_OCC_CUM[_occ_class(_A_FORM[arch], use)], rng.random(hb.size))
    pull = np.bincount(hb, weights=_ORG_WEIGHT[use], minlength=b1 - b0)
    by_location = np.bincount(
        _org_location(_A_FORM[arch], use), weights=_ORG_WEIGHT[use], minlength=4
    )
    return use.astype(np.uint8), occ.astype(np.uint8), pull, by_location


def _step_ok(cls: np.ndarray, occ: np.ndarray, step: int, slack: int) -> np.ndarray:
    if step > 0:
        return (cls != _OCC_NONE) & (occ < _OCC_MAX[cls] + slack)
    return occ > np.maximum(_OCC_MIN[cls] - slack, 0)


def _adjust_occupants(
    occupants: np.ndarray,
    occ_class: Callable[[np.ndarray], np.ndarray],
    target: int,
    rng: np.random.Generator,
) -> None:
    """Add or remove residents at random houses, within each kind of house's usual range
    (widened only when the range cannot hold the total), until exactly ``target`` persons live
    in the city. Rejection sampling of house indices keeps memory small for 11 M houses."""
    n = occupants.size
    diff = target - int(occupants.sum(dtype=np.int64))
    slack = 0
    while diff != 0:
        step = 1 if diff > 0 else -1
        able = 0
        for lo in range(0, n, 1_000_000):
            idx = np.arange(lo, min(lo + 1_000_000, n))
            able += int(_step_ok(occ_class(idx), occupants[idx], step, slack).sum())
        misses = 0
        while diff != 0 and able > 0 and misses < 20:
            m = min(int(abs(diff) * n / able * 1.2) + 64, 1_000_000)
            idx = rng.integers(0, n, m)
            idx = idx[_step_ok(occ_class(idx), occupants[idx], step, slack)]
            _, first = np.unique(idx, return_index=True)
            idx = idx[np.sort(first)][: abs(diff)]
            misses = 0 if idx.size else misses + 1
            if step > 0:
                occupants[idx] += 1
            else:
                occupants[idx] -= 1
            diff -= step * idx.size
            able -= idx.size
        if diff and able <= 0:
            if step > 0 and slack > 240:
                raise ValueError("no houses where persons can live; add residential buildings")
            slack += 1


def _calibrate(weights: np.ndarray, p: np.ndarray, target: float) -> float:
    """The shift of the log-odds of ``p`` at which the ``weights``-weighted mean is ``target``."""
    if weights.sum() <= 0:
        return 0.0
    logit = np.log(p / (1 - p))
    lo, hi = -10.0, 10.0
    for _ in range(60):
        mid = (lo + hi) / 2
        mean = (weights / (1 + np.exp(-(logit + mid)))).sum() / weights.sum()
        lo, hi = (mid, hi) if mean < target else (lo, mid)
    return (lo + hi) / 2


def _make_plan(
    g: _Grids,
    grids: Sequence[GridInfo],
    n: dict[str, int],
    seed: int,
    progress: Progress | None,
) -> _Plan:
    rng = _rng(seed, 1)
    b = _plan_buildings(g, grids, n["buildings"], n["houses"], rng)
    chunks = _chunks(b["houses"])
    house_use = np.zeros(n["houses"], dtype=np.uint8)
    occupants = np.zeros(n["houses"], dtype=np.uint8)
    pull = np.zeros(n["buildings"])
    pull_by_location = np.zeros(4)
    for c, (b0, b1, h0, h1) in enumerate(chunks):
        house_use[h0:h1], occupants[h0:h1], pull[b0:b1], by_location = _plan_houses(
            b, (b0, b1, h0, h1), _rng(seed, 2, c)
        )
        pull_by_location += by_location
        if progress:
            progress("plan", c + 1, len(chunks))

    ends = np.cumsum(b["houses"], dtype=np.int64)  # house → building by search, no per-house map

    def classes(idx: np.ndarray, of: Callable) -> np.ndarray:
        return of(_A_FORM[b["arch"][np.searchsorted(ends, idx, side="right")]], house_use[idx])

    if n["persons"] and not n["houses"]:
        raise ValueError("persons need houses to live in")
    _adjust_occupants(occupants, lambda idx: classes(idx, _occ_class), n["persons"], rng)

    # Calibrate the 户籍 odds so the city-wide share is _LOCAL_SHARE whatever the grid mix.
    people = np.zeros(6)
    for lo in range(0, n["houses"], 1_000_000):
        idx = np.arange(lo, min(lo + 1_000_000, n["houses"]))
        people += np.bincount(classes(idx, _person_class), weights=occupants[idx], minlength=6)
    shift = _calibrate(people, _P_LOCAL, _LOCAL_SHARE)
    # Likewise the share of individual businesses, whatever mix of shops and offices there is.
    p_individual = _KIND_P[:, 1]
    odds = np.log(p_individual / (1 - p_individual)) + _calibrate(
        pull_by_location, p_individual, _INDIVIDUAL_SHARE
    )
    kind_p = _KIND_P.copy()
    kind_p[:, 1] = 1 / (1 + np.exp(-odds))
    others = [0, 2, 3]
    kind_p[:, others] *= ((1 - kind_p[:, 1]) / _KIND_P[:, others].sum(axis=1))[:, None]

    if n["organisations"] and not n["houses"]:
        raise ValueError("organisations need houses to be located in")
    if pull.sum() > 0:
        orgs = rng.multinomial(n["organisations"], pull / pull.sum())
    else:
        orgs = _alloc(n["organisations"], b["houses"].astype(np.float64))
    per_chunk = np.array([int(orgs[b0:b1].sum()) for b0, b1, _, _ in chunks], dtype=np.int64)
    return _Plan(
        **b,
        orgs=orgs.astype(np.int32),
        house_use=house_use,
        occupants=occupants,
        chunks=chunks,
        org_offset=np.cumsum(per_chunk) - per_chunk,
        local_logit_shift=shift,
        kind_cum=np.cumsum(kind_p, axis=1),
    )


# --- identities ------------------------------------------------------------------------------


class _IdIssuer:
    """Hands out GB 11643 sequence numbers so that (area, birth date, sequence) never repeats
    (see the module docstring); its counters carry over from chunk to chunk."""

    def __init__(self, area_codes: np.ndarray):
        self.areas = np.unique(area_codes)
        self.count = np.zeros(self.areas.size * _ID_DAYS * 2, dtype=np.uint8)
        self.day0, _ = _date_strings()
        self.last = np.datetime64(AS_OF.isoformat(), "D")

    def issue(
        self, area: np.ndarray, birth: np.ndarray, male: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(birth date, sequence) per person; the date moves on a day when its cell is full."""
        birth = birth.copy()
        a = np.searchsorted(self.areas, area)
        seq = np.empty(area.size, dtype=np.int64)
        todo = np.arange(area.size)
        while todo.size:
            day = (birth[todo] - self.day0).astype(np.int64)
            key = (a[todo] * _ID_DAYS + day) * 2 + ~male[todo]
            order = np.argsort(key, kind="stable")
            sk = key[order]
            new = np.ones(sk.size, dtype=bool)
            new[1:] = sk[1:] != sk[:-1]
            group_start = np.flatnonzero(new)
            k = np.empty(sk.size, dtype=np.int64)
            k[order] = (
                self.count[sk].astype(np.int64)
                + np.arange(sk.size)
                - group_start[np.cumsum(new) - 1]
            )
            taken = np.diff(np.append(group_start, sk.size))
            self.count[sk[group_start]] = np.minimum(
                self.count[sk[group_start]].astype(np.int64) + taken, _ID_CELL
            )
            full = k >= _ID_CELL
            m = (k * 211 + _mod(_hash(key), _ID_PRIME)) % _ID_PRIME
            done = todo[~full]
            seq[done] = 2 * m[~full] + np.where(male[done], 1, 2)
            todo = todo[full]
            birth[todo] += np.timedelta64(1, "D")
            late = todo[birth[todo] > self.last]
            birth[late] -= np.timedelta64(2 * 366, "D")  # the last day is full: a little older
        return birth, seq


def _names(
    rng: np.random.Generator, male: np.ndarray, older: np.ndarray, surname: np.ndarray | None
) -> np.ndarray:
    """Chinese names: common surnames by frequency, 1–2 character given names by sex."""
    n = male.size
    if surname is None:
        surname = _draw(_SURNAME_CUM, rng, n)
    males, females, common = (_objects(x) for x in (_GIVEN_MALE, _GIVEN_FEMALE, _GIVEN_ANY))
    c1 = np.where(
        male, males[rng.integers(0, males.size, n)], females[rng.integers(0, females.size, n)]
    )
    c2 = np.where(
        male, males[rng.integers(0, males.size, n)], females[rng.integers(0, females.size, n)]
    )
    c0 = np.where(rng.random(n) < 0.3, common[rng.integers(0, common.size, n)], c1)
    single = rng.random(n) < np.where(older, 0.3, 0.12)
    return _SURNAME_LIST[surname] + np.where(single, c1, c0 + c2)


def _tag(rng: np.random.Generator, rate: float, weight: np.ndarray) -> np.ndarray:
    """A care tag on ``rate`` of everyone, given to the eligible in proportion to ``weight``."""
    total = weight.sum()
    if total <= 0:
        return np.zeros(weight.size, dtype=bool)
    return rng.random(weight.size) < np.minimum(rate * weight.size * weight / total, 1.0)


# --- one chunk of rows -----------------------------------------------------------------------


@dataclass
class _Chunk:
    """One chunk: its index and its ranges of buildings and houses."""

    index: int
    b0: int
    b1: int
    h0: int
    h1: int


class _CityWriter:
    """Turns the plan into rows, one chunk at a time, in the formats' column order."""

    def __init__(self, g: _Grids, plan: _Plan, seed: int):
        self.g = g
        self.plan = plan
        self.seed = seed
        areas = [
            _ORIGIN_CODES,
            np.array(_SZ_CODES),
            g.home_area,
            np.array([*_NEW_DISTRICTS.values()]),
        ]
        self.ids = _IdIssuer(np.concatenate(areas))
        self.as_of = np.datetime64(AS_OF.isoformat(), "D")
        self.day0, self.day_strings = _date_strings()

    def rows(self, chunk: _Chunk) -> dict[str, list]:
        """Columns of the buildings, houses, persons and organisations files for one chunk."""
        p = self.plan
        rng = _rng(self.seed, 3, chunk.index)
        b = self.buildings(rng, chunk)
        hb, k, floor, room = _house_layout(
            p.houses[chunk.b0 : chunk.b1], p.rooms[chunk.b0 : chunk.b1]
        )
        use = p.house_use[chunk.h0 : chunk.h1].astype(np.int64)
        occ = p.occupants[chunk.h0 : chunk.h1].astype(np.int64)
        arch = p.arch[chunk.b0 : chunk.b1][hb]
        form = _A_FORM[arch]
        grid = p.grid[chunk.b0 : chunk.b1][hb]
        H = hb.size
        room_seq = _objects([f"{i:06d}" for i in range(1, int(k.max(initial=0)) + 2)])
        hcode = b["code"][hb] + room_seq[k]
        lo, hi = _A_AREA[arch].T
        area = np.exp(rng.uniform(lo, hi))
        shop = (use == BUSINESS) & ((form == UV) | (form == ESTATE))
        area[shop] = np.exp(rng.uniform(math.log(20), math.log(80), int(shop.sum())))

        per = self.persons(rng, form, use, occ, grid)
        org = self.organisations(rng, chunk, hb, form, use, grid)

        # owners: owner-occupiers, urban-village landlords, flats let by other owners, firms
        ids, first = per["id"], per["first"]
        owner_id = np.full(H, "", dtype=object)
        owner_credit = np.full(H, "", dtype=object)
        lives = (use == OWN) & (occ > 0)
        sel = lives & (rng.random(H) < 0.9)
        owner_id[sel] = ids[first[sel]]
        landlord = np.full(chunk.b1 - chunk.b0, -1, dtype=np.int64)
        np.maximum.at(landlord, hb[lives], first[lives])
        sel = (
            (form == UV)
            & np.isin(use, (RENT, VACANT, BUSINESS))
            & (landlord[hb] >= 0)
            & (rng.random(H) < 0.75)
        )
        owner_id[sel] = ids[landlord[hb[sel]]]
        heads = first[lives]
        if heads.size:
            sel = np.isin(form, (ESTATE, OTHER)) & np.isin(use, (RENT, VACANT))
            sel &= rng.random(H) < 0.5
            owner_id[sel] = ids[heads[rng.integers(0, heads.size, int(sel.sum()))]]
        n_org = org["count"][hb]
        sel = (form != UV) & np.isin(use, (BUSINESS, OFFICE, STORAGE)) & (n_org > 0)
        sel &= (rng.random(H) < 0.35) & (owner_id == "")
        pick = org["start"][hb[sel]] + (rng.random(int(sel.sum())) * n_org[sel]).astype(np.int64)
        owner_credit[sel] = org["credit"][pick]

        ints = _int_strings()
        return {
            "buildings": b["columns"],
            "houses": [
                hcode,
                b["code"][hb],
                ints[floor],
                ints[floor * 100 + room],
                _fmt(area, "{:.1f}"),
                _HOUSE_USE_LABEL[use],
                owner_id,
                owner_credit,
            ],
            "persons": [
                per["id"],
                per["name"],
                per["phone"],
                per["household"],
                per["tags"],
                hcode[per["house"]],
                per["relation"],
                per["since"],
            ],
            "organisations": [
                org["credit"],
                org["name"],
                org["kind"],
                org["industry"],
                org["legal"],
                hcode[org["house"]],
                org["staff"],
            ],
        }

    # buildings -------------------------------------------------------------------------------

    def buildings(self, rng: np.random.Generator, chunk: _Chunk) -> dict:
        p, g = self.plan, self.g
        sl = slice(chunk.b0, chunk.b1)
        grid = p.grid[sl]
        nb = grid.size
        lon, lat = np.empty(nb), np.empty(nb)
        gids, starts, counts = np.unique(grid, return_index=True, return_counts=True)
        for gi, s, c in zip(gids.tolist(), starts.tolist(), counts.tolist(), strict=True):
            lon[s : s + c], lat[s : s + c] = _points_in(g.polygons[gi], c, rng)
        ints = _int_strings()
        seq5 = _objects([f"{i:05d}" for i in range(int(p.seq[sl].max(initial=0)) + 1)])
        code = g.codes[grid] + seq5[p.seq[sl]]

        arch = p.arch[sl]
        hc = _hash(self.seed, 7, p.complex_id[sl])  # a complex: its name and street number
        hb = _hash(self.seed, 8, np.arange(chunk.b0, chunk.b1))  # a building on its own
        names, addresses = [], []
        for gi, a, n, cw, bw, c_road, b_road, c_num, b_num, pick in zip(
            grid.tolist(),
            arch.tolist(),
            p.complex_no[sl].tolist(),
            _mod(hc, len(_WORDS)).tolist(),
            _mod(hb, len(_WORDS)).tolist(),
            _mod(hc >> np.uint64(16), 6).tolist(),
            _mod(hb >> np.uint64(16), 6).tolist(),
            _mod(hc >> np.uint64(24), 199).tolist(),
            _mod(hb >> np.uint64(24), 400).tolist(),
            _mod(hc >> np.uint64(40), 1 << 20).tolist(),
            strict=True,
        ):
            kind = _ARCHES[a]
            prefix, roads = g.prefix[gi], g.roads[gi]
            form = kind.form
            if form == UV:
                village = g.village[gi]
                names.append(f"{village}{n}号")
                addresses.append(f"{prefix}{village}{(n - 1) // 15 + 1}巷{(n - 1) % 15 + 1}号")
                continue
            if form in _COMPLEX_SIZE:
                word = _WORDS[cw]
                if form == ESTATE:
                    name = f"{word}{_ESTATE_SUFFIX[pick % len(_ESTATE_SUFFIX)]}{n}栋"
                elif form == DORM:
                    name = f"{word}员工宿舍{n}栋"
                elif form == PUBLIC:
                    name = f"{word}人才安居苑{n}栋"
                else:
                    name = f"{word}工业园{chr(ord('A') + n - 1) if n <= 26 else n}栋"
                names.append(name)
                addresses.append(f"{prefix}{roads[c_road]}{2 * c_num + 1}号{name}")
                continue
            road = roads[b_road]
            if form == TEMP:
                names.append(f"{road}{_TEMP_WORDS[kind.use]}{n}号")
            else:
                pool = _OTHER_NAMES[kind.use]
                head = g.community[gi] if kind.use == "public" else _WORDS[bw]
                names.append(
                    f"{head}{pool[pick % len(pool)]}" + (f"{n}号" if kind.use == "storage" else "")
                )
            addresses.append(f"{prefix}{road}{b_num + 1}号")
        columns = [
            code,
            g.codes[grid],
            names,
            addresses,
            _fmt(lon, "{:.6f}"),
            _fmt(lat, "{:.6f}"),
            _A_USE_LABEL[arch],
            _A_FORM_LABEL[arch],
            ints[p.floors[sl]],
            ints[p.year[sl]],
            _RATINGS[p.rating[sl]],
        ]
        return {"code": code, "columns": columns}

    # persons ---------------------------------------------------------------------------------

    def persons(
        self,
        rng: np.random.Generator,
        form: np.ndarray,
        use: np.ndarray,
        occ: np.ndarray,
        grid: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """Residents of the chunk's houses: families in flats and rooms, workers in dorms."""
        H = occ.size
        ph = np.repeat(np.arange(H), occ)
        P = ph.size
        first = np.cumsum(occ) - occ
        rank = np.arange(P) - first[ph]
        hcls = _person_class(form, use)
        dorm = hcls[ph] == _P_DORM

        # household type and home region: shared by a family, individual in dormitories
        p_local = 1 / (
            1 + np.exp(-(np.log(_P_LOCAL / (1 - _P_LOCAL)) + self.plan.local_logit_shift))
        )
        local_h = rng.random(H) < p_local[hcls]
        local = np.where(dorm, rng.random(P) < p_local[_P_DORM], local_h[ph])
        u = rng.random(H)
        sz = np.where(
            u < 0.6,
            self.g.home_area[grid],
            np.where(u < 0.75, 440301, np.array(_SZ_CODES)[rng.integers(0, len(_SZ_CODES), H)]),
        )
        origin = _ORIGIN_CODES[_draw(_ORIGIN_CUM, rng, H)]
        born_here = local_h & (rng.random(H) >= _LOCAL_FROM_ELSEWHERE)
        area = np.where(born_here, sz, origin)[ph]
        dorm_area = np.where(
            local & (rng.random(P) < 0.5), sz[ph], _ORIGIN_CODES[_draw(_ORIGIN_CUM, rng, P)]
        )
        area = np.where(dorm, dorm_area, area)

        # age and sex: a head, a partner, children or the head's parents
        lo, hi, a, b = _P_HEAD_AGE[hcls].T
        head_age = lo + (hi - lo) * rng.beta(a, b)
        head_male = rng.random(H) < _P_HEAD_MALE[hcls]
        age = head_age[ph]
        male = head_male[ph]
        single_parent = (rank == 1) & (rng.random(P) < 0.12)
        partner = (rank == 1) & ~single_parent & ~dorm
        younger = ((rank == 2) | single_parent | ((rank == 3) & (rng.random(P) < 0.75))) & ~dorm
        elder = (rank >= 3) & ~younger & ~dorm
        child_age = age - rng.uniform(22, np.clip(age, 22, 38))  # parents 22–38 at birth
        child = younger & (child_age >= 0)
        sibling = younger & (child_age < 0)  # a head too young for children: a sibling
        age = np.select(
            [partner, child, sibling, elder],
            [age + rng.normal(0, 3.5, P), child_age, age + rng.normal(0, 3, P),
             age + rng.uniform(24, 32, P)],
            age,
        )  # fmt: skip
        male = np.select(
            [partner, child | sibling, elder],
            [np.where(rng.random(P) < 0.9, ~male, male), rng.random(P) < 0.53,
             rng.random(P) < 0.45],
            male,
        )  # fmt: skip
        lo, hi, a, b = _P_HEAD_AGE[_P_DORM]
        age = np.where(dorm, lo + (hi - lo) * rng.beta(a, b, P), age)
        male = np.where(dorm, rng.random(P) < _P_HEAD_MALE[_P_DORM], male)
        age = np.clip(np.where(partner | sibling, np.maximum(age, 18), age), 0, 98)
        birth = self.as_of - np.floor(age * 365.2425).astype(np.int64).astype("timedelta64[D]")
        area = np.where(child & local, sz[ph], area)  # born here to a 户籍 family
        year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
        for new, old in _NEW_DISTRICTS.items():
            area = np.where((area == new) & (year < _NEW_DISTRICT_YEAR), old, area)
        birth, seq = self.ids.issue(area, birth, male)
        months = birth.astype("datetime64[M]")
        ymd = (
            (months.astype("datetime64[Y]").astype(np.int64) + 1970) * 10_000
            + (months.astype(np.int64) % 12 + 1) * 100
            + (birth - months.astype("datetime64[D]")).astype(np.int64)
            + 1
        )
        ids = _objects(codes.id_numbers_from_parts(area, ymd, seq, today=AS_OF).tolist())
        age = (self.as_of - birth).astype(np.int64) / 365.2425

        # names: children and the head's parents take the family name
        head_sur = _draw(_SURNAME_CUM, rng, H)
        partner_sur = _draw(_SURNAME_CUM, rng, H)
        family_sur = np.where(~head_male & (occ >= 2), partner_sur, head_sur)
        sur = np.select([rank == 0, partner], [head_sur[ph], partner_sur[ph]], family_sur[ph])
        sur = np.where(dorm, _draw(_SURNAME_CUM, rng, P), sur)
        name = _names(rng, male, age >= 50, sur)

        number = _PHONE_PREFIXES[rng.integers(0, _PHONE_PREFIXES.size, P)] * 10**8
        phone = _objects(list(map(str, (number + rng.integers(0, 10**8, P)).tolist())))
        phone[(rng.random(P) < 0.02) | ((age < 12) & (rng.random(P) < 0.8))] = ""

        relation = np.select(
            [use[ph] == RENT, (use[ph] == OWN) & (rank == 0), use[ph] == OWN], [0, 1, 2], 3
        )
        back_h = np.select(
            [use == OWN, form == UV],
            [rng.uniform(0, 15 * 365.2425, H), rng.exponential(700, H)],
            rng.exponential(1000, H),
        )
        back = np.minimum(np.where(dorm, rng.exponential(450, P), back_h[ph]), 15 * 365)
        since = np.maximum(self.as_of - back.astype(np.int64).astype("timedelta64[D]"), birth)
        return {
            "id": ids,
            "name": name,
            "phone": phone,
            "household": _HOUSEHOLD_LABEL[local.astype(np.int64)],
            "tags": _TAG_SETS[self._tags(rng, age, male, local, occ[ph])],
            "house": ph,
            "relation": _RELATION_LABEL[relation],
            "since": self.day_strings[(since - self.day0).astype(np.int64)],
            "first": first,
        }

    @staticmethod
    def _tags(
        rng: np.random.Generator,
        age: np.ndarray,
        male: np.ndarray,
        local: np.ndarray,
        household_size: np.ndarray,
    ) -> np.ndarray:
        """Care tags as a bit mask (``_TAG_ORDER``), at rough rates counted on everyone."""
        disabled = _tag(rng, 0.015, 0.5 + age / 30)
        working = (age >= 18) & (age < 65)
        masks = (
            _tag(rng, 0.005, (age >= 65) * np.where(household_size == 1, 20.0, 1.0)),
            disabled,
            _tag(rng, 0.001, local * (1.0 + 2.0 * (age >= 60) + 3.0 * disabled)),
            _tag(rng, 0.0002, working * np.where(male, 4.0, 1.0)),
            _tag(rng, 0.001, ((age >= 12) & (age < 26)) * 1.0),
            _tag(rng, 0.01, ((age >= 22) & (age < 80)) * np.where(male, 10.0, 0.5)),
        )
        bits = np.zeros(age.size, dtype=np.int64)
        for i, mask in enumerate(masks):
            bits |= mask.astype(np.int64) << i
        return bits

    # organisations ---------------------------------------------------------------------------

    def organisations(
        self,
        rng: np.random.Generator,
        chunk: _Chunk,
        hb: np.ndarray,
        form: np.ndarray,
        use: np.ndarray,
        grid: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """Organisations located in the chunk's buildings, mostly in shops and offices."""
        norg = self.plan.orgs[chunk.b0 : chunk.b1].astype(np.int64)
        n_orgs = int(norg.sum())
        out = {"start": np.cumsum(norg) - norg, "count": norg}
        if n_orgs == 0:
            empty = np.array([], dtype=object)
            return {**out, "house": np.array([], dtype=np.int64), "credit": empty, "name": empty,
                    "kind": empty, "industry": empty, "legal": empty, "staff": empty}  # fmt: skip
        ob = np.repeat(np.arange(norg.size), norg)
        # a house of its building, in proportion to the house's pull
        w = _ORG_WEIGHT[use]
        w = np.where(np.bincount(hb, weights=w, minlength=norg.size)[hb] > 0, w, 1.0)
        cw = np.cumsum(w)
        n_h = self.plan.houses[chunk.b0 : chunk.b1].astype(np.int64)
        end = np.cumsum(n_h)
        start = end - n_h
        lo = np.where(start > 0, cw[np.maximum(start - 1, 0)], 0.0)[ob]
        hi = cw[np.maximum(end - 1, 0)][ob]
        house = np.searchsorted(cw, lo + rng.random(n_orgs) * (hi - lo), side="right")
        house = np.clip(house, start[ob], end[ob] - 1)

        loc = _org_location(form[house], use[house])
        kind = _cat(self.plan.kind_cum[loc], rng.random(n_orgs))
        industry = _cat(_IND_CUM[kind, loc], rng.random(n_orgs))
        staff = np.select(
            [kind == 1, kind == 2, kind == 3, loc == _LOC_FACTORY],
            [
                _draw(np.cumsum([0.35, 0.3, 0.2, 0.1, 0.05]), rng, n_orgs) + 1,
                rng.integers(1, 31, n_orgs),
                np.ceil(np.exp(rng.normal(3.5, 0.9, n_orgs))),
                np.ceil(np.exp(rng.normal(3.0, 1.3, n_orgs))),
            ],
            np.ceil(np.exp(rng.normal(1.6, 1.1, n_orgs))),
        )
        g = grid[house]
        return {
            **out,
            "house": house,
            "credit": self._credit_codes(rng, chunk, kind, g),
            "name": self._org_names(rng, kind, industry, g),
            "kind": _ORG_KIND_LABEL[kind],
            "industry": _INDUSTRY_LABEL[industry],
            "legal": _names(rng, rng.random(n_orgs) < 0.7, rng.random(n_orgs) < 0.4, None),
            "staff": _int_strings()[np.minimum(staff, 50_000).astype(np.int64)],
        }

    def _org_names(
        self, rng: np.random.Generator, kind: np.ndarray, industry: np.ndarray, grid: np.ndarray
    ) -> np.ndarray:
        n_orgs = kind.size
        chars = _objects(_TRADE_CHARS)
        trade = (
            chars[rng.integers(0, chars.size, n_orgs)] + chars[rng.integers(0, chars.size, n_orgs)]
        )
        district = _objects(self.g.district)[grid]
        word = np.empty(n_orgs, dtype=object)
        u = rng.integers(0, 1 << 30, n_orgs)
        tables = (_FIRM_WORDS, _SHOP_WORDS, _SOCIAL_WORDS, _INSTITUTION_WORDS)
        for k, table in enumerate(tables):
            for i, industry_name in enumerate(_INDUSTRIES):
                sel = (kind == k) & (industry == i)
                if sel.any():
                    pool = _objects(table.get(industry_name, (_DEFAULT_WORD[k],)))
                    word[sel] = pool[u[sel] % pool.size]
        firm = "深圳市" + trade + word + "有限公司"
        local = "深圳市" + district + trade + word
        public = "深圳市" + district + _objects(self.g.community)[grid] + word
        return np.select([kind == 0, kind == 3], [firm, public], local)

    def _credit_codes(
        self, rng: np.random.Generator, chunk: _Chunk, kind: np.ndarray, grid: np.ndarray
    ) -> np.ndarray:
        """GB 32100 codes, unique through the bijections described in the module docstring."""
        n_orgs = kind.size
        index = self.plan.org_offset[chunk.index] + np.arange(n_orgs, dtype=np.int64)
        prefix2 = np.empty(n_orgs, dtype=object)
        for k, options in enumerate(_CREDIT_PREFIX):
            sel = kind == k
            prefix2[sel] = _objects(options)[rng.integers(0, len(options), int(sel.sum()))]
        home = self.g.home_area[grid]
        district = np.where(home == 440301, 440300, home)
        area = np.where(rng.random(n_orgs) < _CITY_LEVEL[kind], 440300, district)
        old = rng.random(n_orgs) < _OLD_STYLE_BODY[kind]
        dec = (index * _DEC_A + _DEC_B) % _DEC_MOD
        all_digits = np.zeros(n_orgs, dtype=np.int64)
        for _ in range(9):  # the decimal digits as base-31 digits: an all-digit identifier
            all_digits = all_digits * 31 + dec // 10**8
            dec = dec % 10**8 * 10
        ma5 = _MA5_HIGH + (index * _MA5_A + _MA5_B) % _MA5_MOD
        prefix8 = (prefix2 + _objects(list(map(str, area.tolist())))).astype("<U8")
        out = _objects(
            codes.credit_codes_from_parts(prefix8, np.where(old, all_digits, ma5)).tolist()
        )
        legacy = np.flatnonzero(old & (rng.random(n_orgs) < _LEGACY_SHARE / _OLD_STYLE_BODY[kind]))
        cs = codes.CREDIT_CHARSET
        for i, shift in zip(
            legacy.tolist(), rng.integers(1, 31, legacy.size).tolist(), strict=True
        ):
            code = out[i]  # an early code: same body, a check character that does not fit
            out[i] = code[:17] + cs[(cs.index(code[17]) + shift) % 31]
        return out

    # places ----------------------------------------------------------------------------------

    def places(self, counts: Mapping[str, int]) -> list[list[str]]:
        """Risk points and facilities, spread over grids by area, buildings and people."""
        g, p = self.g, self.plan
        rng = _rng(self.seed, 4)
        n_grids = g.codes.size
        buildings = np.bincount(p.grid, minlength=n_grids).astype(np.float64)
        villages = np.bincount(p.grid, weights=_A_FORM[p.arch] == UV, minlength=n_grids)
        people = np.zeros(n_grids)
        for b0, b1, h0, h1 in p.chunks:
            grid = np.repeat(p.grid[b0:b1], p.houses[b0:b1])
            people += np.bincount(grid, weights=p.occupants[h0:h1], minlength=n_grids)
        area = g.km2 + 1e-9
        density = buildings / area
        weights = {
            "slope": area / (1 + density / (density.mean() + 1e-9)),
            "construction": area * (1 + buildings),
            "billboard": buildings + 0.1,
            "shelter": people + 1,
            "ebike_charging": villages + 0.1,
        }
        cols: list[list[str]] = [[], [], [], [], []]
        for kind, total in counts.items():
            if total <= 0:
                continue
            w = weights.get(kind, area)
            per_grid = rng.multinomial(total, w / w.sum())
            notes = _PLACE_NOTES.get(kind, ("",))
            for gi in np.flatnonzero(per_grid).tolist():
                c = int(per_grid[gi])
                lon, lat = _points_in(g.polygons[gi], c, rng)
                r = rng.integers(0, 1 << 30, (c, 4)).tolist()
                for j in range(c):
                    cols[0].append(formats.PLACE_KINDS[kind])
                    cols[1].append(self._place_name(kind, j + 1, gi, r[j]))
                    cols[2].append(f"{lon[j]:.6f}")
                    cols[3].append(f"{lat[j]:.6f}")
                    cols[4].append(notes[r[j][3] % len(notes)] if r[j][3] % 2 else "")
        return cols

    def _place_name(self, kind: str, n: int, gi: int, r: list[int]) -> str:
        g = self.g
        road, word = g.roads[gi][r[0] % 6], _WORDS[r[1] % len(_WORDS)]
        if kind == "slope":
            return f"{road}边坡{n}号"
        if kind == "low_lying":
            return f"{road}低洼易涝点{n}号"
        if kind == "construction":
            options = (f"{word}花园二期项目工地", f"{road}道路改造工程", f"{word}城市更新单元项目")
            return options[r[2] % 3]
        if kind == "billboard":
            return f"{road}{r[2] % 400 + 1}号户外广告牌"
        if kind == "river":
            return f"{_RIVERS[r[2] % len(_RIVERS)]}{g.street[gi]}段{n}"
        if kind == "shelter":
            options = (f"{g.community[gi]}社区应急避难场所{n}", f"{word}公园应急避难场所",
                       f"{word}学校应急避难场所")  # fmt: skip
            return options[r[2] % 3]
        if kind == "ebike_charging":
            return f"{g.village[gi]}电动自行车集中充电点{n}"
        return f"{road}{formats.PLACE_KINDS[kind]}{n}号"


# --- writing ---------------------------------------------------------------------------------

_NEEDS_QUOTING = re.compile(r'[,"\r\n]')


def _write(fh: TextIO, columns: Sequence[Sequence[str]], plain: bool) -> None:
    """Write columns as CSV rows, a batch at a time. ``plain``: no value needs quoting, so values
    and separators interleaved into one ``"".join`` give exactly what csv.writer would write,
    several times faster."""
    n = len(columns[0])
    writer = None if plain else csv.writer(fh, lineterminator="\n")
    for lo in range(0, n, _WRITE_BATCH):
        batch = [c[lo : lo + _WRITE_BATCH] for c in columns]
        if writer is not None:
            writer.writerows(zip(*(list(c) for c in batch), strict=True))
            continue
        cells = np.empty((len(batch[0]), 2 * len(batch)), dtype=object)
        cells[:, 1::2] = ","
        cells[:, -1] = "\n"
        for i, column in enumerate(batch):
            cells[:, 2 * i] = column if isinstance(column, np.ndarray) else _objects(column)
        fh.write("".join(cells.ravel().tolist()))


def generate_city(
    out_dir: Path,
    grids: Sequence[GridInfo],
    scale: float,
    seed: int = 0,
    progress: Progress | None = None,
    totals: Mapping[str, int] | None = None,
) -> dict[str, Path]:
    """Write a synthetic city's five bulk files into ``out_dir``; returns kind → path.

    Import them in the order of ``FILE_KINDS`` (buildings, houses, persons, organisations,
    places). Each count is ``round(total × scale)``, totals from ``SHENZHEN_TOTALS`` overridden
    by ``totals`` (same keys; tests pass small explicit ones with ``scale=1``). The bytes depend
    only on (grids, scale, seed, totals) and the numpy version. ``progress(stage, done, total)``
    is called after each chunk of the "plan" and "write" stages and once for "places". Scale 1.0
    (≈ 35.6 M rows, 3.3 GB) takes about three minutes on one core and < 250 MB of memory.
    """
    if not (scale >= 0 and math.isfinite(scale)):
        raise ValueError("scale must be a finite number ≥ 0")
    if seed < 0:
        raise ValueError("seed must be ≥ 0")
    wanted = {**SHENZHEN_TOTALS, **(totals or {})}
    unknown = set(wanted) - {
        "buildings",
        "houses",
        "persons",
        "organisations",
        *formats.PLACE_KINDS,
    }
    if unknown:
        raise ValueError(f"unknown totals: {', '.join(sorted(unknown))}")
    n = {k: round(v * scale) for k, v in wanted.items()}
    if not grids and any(n.values()):
        raise ValueError("a city needs grids")
    if n["houses"] and not n["buildings"]:
        raise ValueError("houses need buildings")

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    g = _grid_table(grids, seed)
    plain = not any(_NEEDS_QUOTING.search(x) for x in g.prefix)
    plan = _make_plan(g, grids, n, seed, progress)
    city = _CityWriter(g, plan, seed)
    paths = {kind: out_dir / f"{kind}.csv" for kind in FILE_KINDS}
    files = {kind: open(path, "w", encoding="utf-8", newline="") for kind, path in paths.items()}  # noqa: SIM115
    try:
        for kind, fh in files.items():
            csv.writer(fh, lineterminator="\n").writerow([c.name for c in formats.KINDS[kind]])
        for c, (b0, b1, h0, h1) in enumerate(plan.chunks):
            for kind, columns in city.rows(_Chunk(c, b0, b1, h0, h1)).items():
                _write(files[kind], columns, plain)
            if progress:
                progress("write", c + 1, len(plan.chunks))
        places = {k: v for k, v in n.items() if k in formats.PLACE_KINDS}
        _write(files["places"], city.places(places), plain)
        if progress:
            progress("places", 1, 1)
    finally:
        for fh in files.values():
            fh.close()
    return paths
