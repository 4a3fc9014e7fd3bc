"""The bulk file formats of the registry (``civicgrid import|export KIND FILE``): columns with
their Chinese and English headers, and the values each coded column takes.

Plain data shared by the importer, the exporter and the synthetic-city generator, so a file
the generator writes is exactly a file an office could hand in.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str  # English header, also the internal field name
    zh: str  # Chinese header
    required: bool = True


KINDS: dict[str, tuple[Column, ...]] = {
    "buildings": (
        Column("code", "楼栋编码", required=False),
        Column("grid_code", "网格编码"),
        Column("name", "名称"),
        Column("address", "地址"),
        Column("lon", "经度"),
        Column("lat", "纬度"),
        Column("use", "用途"),
        Column("form", "建筑形态"),
        Column("floors", "层数"),
        Column("year_built", "建成年份", required=False),
        Column("safety_rating", "安全等级", required=False),
    ),
    "houses": (
        Column("code", "房屋编码", required=False),
        Column("building_code", "楼栋编码"),
        Column("floor", "楼层"),
        Column("room", "房号"),
        Column("area", "面积"),
        Column("use", "用途"),
        Column("owner_id_number", "业主身份证号", required=False),
        Column("owner_credit_code", "业主统一社会信用代码", required=False),
    ),
    "persons": (
        Column("id_number", "身份证号"),
        Column("name", "姓名"),
        Column("phone", "手机号", required=False),
        Column("household_type", "户籍类型"),
        Column("tags", "关怀标签", required=False),
        Column("house_code", "房屋编码", required=False),
        Column("relation", "居住关系", required=False),
        Column("since", "起始日期", required=False),
    ),
    "organisations": (
        Column("credit_code", "统一社会信用代码"),
        Column("name", "名称"),
        Column("kind", "类型"),
        Column("industry", "行业", required=False),
        Column("legal_rep", "法定代表人", required=False),
        Column("house_code", "房屋编码", required=False),
        Column("staff", "从业人数", required=False),
    ),
    "places": (
        Column("kind", "类型"),
        Column("name", "名称"),
        Column("lon", "经度"),
        Column("lat", "纬度"),
        Column("note", "备注", required=False),
    ),
}

# Coded values as they appear in files (Chinese labels; the English code is accepted too).
BUILDING_USES = {
    "residential": "住宅",
    "commercial": "商业",
    "office": "办公",
    "industrial": "工业厂房",
    "storage": "仓储",
    "mixed": "商住混用",
    "dormitory": "宿舍",
    "public": "公共服务",
    "other": "其他",
}
BUILDING_FORMS = {
    "urban_village": "城中村私宅",
    "estate": "商品住宅小区",
    "collective_dorm": "集体宿舍",
    "public_rental": "公租房",
    "industrial_park": "工业园",
    "temporary": "临时建筑",
    "other": "其他",
}
SAFETY_RATINGS = {"A": "A", "B": "B", "C": "C", "D": "D"}  # C and D are 危房
HOUSE_USES = {
    "own": "自住",
    "rent": "出租",
    "vacant": "空置",
    "business": "经营",
    "office": "办公",
    "storage": "仓储",
    "dormitory": "宿舍",
}
HOUSEHOLD_TYPES = {"local": "户籍", "nonlocal": "非户籍"}
CARE_TAGS = {
    "elderly_alone": "独居老人",
    "disabled": "残障",
    "extreme_poverty": "特困",
    "community_correction": "社区矫正",
    "youth_at_risk": "重点青少年",
    "left_behind_child": "留守儿童",
    "veteran": "退役军人",
}
TAG_SEPARATORS = "、|;；,，"  # files write 、 between tags
RELATIONS = {"owner": "业主", "tenant": "租户", "family": "家属", "employee_dorm": "员工宿舍"}
ORG_KINDS = {
    "enterprise": "企业",
    "individual": "个体工商户",
    "social": "社会组织",
    "institution": "事业单位",
}
PLACE_KINDS = {
    "slope": "边坡",
    "low_lying": "低洼易涝点",
    "construction": "工地",
    "billboard": "广告牌",
    "river": "河道",
    "shelter": "避难场所",
    "ebike_charging": "电动车充电点",
    "other": "其他",
}
DATE_FORMAT = "YYYY-MM-DD"
