"""An Open311 client application with its api_key, on the event hub's small test catalogue."""

from __future__ import annotations

import pytest

from tests.events.conftest import people, small_catalogue  # noqa: F401  (fixtures)


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
