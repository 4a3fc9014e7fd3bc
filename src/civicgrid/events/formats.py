"""Columns of the files the event hub reads: the catalogue (事项目录) and a legacy system's
event backlog. Registered with the registry's reader so both take CSV or XLSX, UTF-8 or GBK,
Chinese or English headers, exactly like the registry files."""

from __future__ import annotations

from civicgrid.registry.formats import Column
from civicgrid.registry.reader import OTHER_KINDS

CATALOGUE_COLUMNS: tuple[Column, ...] = (
    Column("code", "编码"),
    Column("name", "名称"),
    Column("parent", "上级编码"),
    Column("intake_type", "诉求类型", required=False),
    Column("deadline", "办理时限", required=False),
    Column("urgency", "紧急程度", required=False),
    Column("on_spot", "即巡即办", required=False),
    Column("yellow", "黄牌线", required=False),
    Column("red", "红牌线", required=False),
    Column("radius_m", "查重半径", required=False),
    Column("route", "责任层级", required=False),
    Column("assist", "协办条线", required=False),
    Column("source", "来源", required=False),
    Column("keywords", "关键词", required=False),
)

EVENT_COLUMNS: tuple[Column, ...] = (
    Column("channel", "渠道"),
    Column("source_ref", "来源编号"),
    Column("category", "事项编码", required=False),
    Column("title", "标题", required=False),
    Column("description", "描述"),
    Column("lon", "经度", required=False),
    Column("lat", "纬度", required=False),
    Column("crs", "坐标系", required=False),
    Column("address", "地址", required=False),
    Column("house_code", "房屋编码", required=False),
    Column("reporter_name", "诉求人", required=False),
    Column("reporter_phone", "联系电话", required=False),
    Column("created_at", "登记时间", required=False),
)

OTHER_KINDS["catalogue"] = CATALOGUE_COLUMNS
OTHER_KINDS["events"] = EVENT_COLUMNS
