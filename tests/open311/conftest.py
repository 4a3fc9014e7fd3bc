"""An Open311 client application with its api_key, on the event hub's small test catalogue."""

from __future__ import annotations

import pytest

from tests.events.conftest import small_catalogue  # noqa: F401


@pytest.fixture
def api_key(small_catalogue):  # noqa: F811
    from civicgrid.open311 import services

    _, clear = services.issue_key("test", "测试 311 应用")
    return clear


@pytest.fixture
def attributes(small_catalogue):  # noqa: F811
    """9801 (暴露垃圾) asks two questions: how big the pile is (required) and what is in it."""
    from civicgrid.open311.models import ServiceAttribute

    ServiceAttribute.objects.create(
        category_id="9801",
        code="SIZE",
        datatype="singlevaluelist",
        required=True,
        order=1,
        description="垃圾堆有多大？",
        values=[{"key": "S", "name": "一袋以内"}, {"key": "L", "name": "一车以上"}],
    )
    ServiceAttribute.objects.create(
        category_id="9801",
        code="KIND",
        datatype="multivaluelist",
        order=2,
        description="有哪些垃圾？",
        values=[{"key": "BUILD", "name": "建筑垃圾"}, {"key": "HOME", "name": "生活垃圾"}],
    )
    ServiceAttribute.objects.create(
        category_id="9801",
        code="NOTE",
        variable=False,
        order=3,
        description="夜间请注意安全",
    )


@pytest.fixture
def post311(client, api_key, grid_point):
    """``post311(fmt="json", **fields)`` → the response of a GeoReport POST from the test app,
    a missing manhole cover (9803, no questions asked) in 宝民社区第01网格 unless told otherwise."""

    def post(fmt: str = "json", **fields):
        lon, lat = grid_point()
        body = {
            "api_key": api_key,
            "service_code": "9803",
            "lat": lat,
            "long": lon,
            "description": "人行道上的井盖缺失，晚上很危险",
        } | fields
        body = {k: v for k, v in body.items() if v is not None}
        return client.post(f"/open311/v2/requests.{fmt}", body)

    return post
