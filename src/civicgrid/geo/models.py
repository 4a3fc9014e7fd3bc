"""The governance tree: city → district → street → community → grid (DESIGN §4)."""

from __future__ import annotations

from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    CITY = "city", _("市")
    DISTRICT = "district", _("区")
    STREET = "street", _("街道")
    COMMUNITY = "community", _("社区")
    GRID = "grid", _("网格")


LEVEL_ORDER = [Level.CITY, Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID]


class WithoutGeometry(models.Manager):
    """Regions without their polygon: what a user's jurisdiction or a row's grid needs. The
    polygon (kilobytes for a district) loads only when something asks for it."""

    def get_queryset(self):
        return super().get_queryset().defer("geometry")


class Region(models.Model):
    """A node of the governance tree with its official code and (possibly synthetic) polygon.

    ``path`` is the chain of codes from the city down (``440300.440399.440307009…``): a subtree
    is one indexed prefix query, and 大鹏新区's streets keep their 440307 codes while sitting
    under the 440399 node, which a code-prefix test alone would get wrong.
    """

    code = models.CharField("代码", max_length=14, primary_key=True)
    name = models.CharField("名称", max_length=64)
    official_name = models.CharField("规范全称", max_length=128, blank=True)
    level = models.CharField("层级", max_length=16, choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField("路径", max_length=120, unique=True)
    district_code = models.CharField("所属区", max_length=6, db_index=True, blank=True)
    synthetic = models.BooleanField(
        "生成的边界", default=True, help_text="边界为系统生成的示意多边形，尚未导入真实边界"
    )
    geometry = models.BinaryField("边界 (WKB)", null=True, blank=True)
    area_km2 = models.FloatField("面积 (km²)", null=True, blank=True)
    lon = models.FloatField("代表点经度", null=True, blank=True)
    lat = models.FloatField("代表点纬度", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = models.Manager()
    light = WithoutGeometry()

    class Meta:
        ordering = ["code"]
        base_manager_name = "light"  # foreign-key access (user.jurisdiction …) skips polygons
        verbose_name = "区域"
        verbose_name_plural = "区域"
        indexes = [models.Index(fields=["parent", "code"])]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def audit_region_path(self) -> str:
        return self.path

    @cached_property
    def shape(self):
        """The polygon as a shapely geometry (None when the node has no boundary yet)."""
        import shapely

        return shapely.from_wkb(bytes(self.geometry)) if self.geometry else None

    @property
    def ancestor_codes(self) -> list[str]:
        return self.path.split(".")[:-1]


class GeometryVersion(models.Model):
    """A token replaced whenever polygons change, so every process rebuilds its locator.

    A random token rather than a counter: a rolled-back change cannot bring back a number that
    a locator built inside that transaction already carries.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.CharField(max_length=32, default="")

    def __str__(self) -> str:
        return self.version
