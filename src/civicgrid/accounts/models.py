"""Users with a jurisdiction, departments and governance centres, API tokens."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from civicgrid.accounts.roles import ROLES


class DepartmentKind(models.TextChoices):
    FUNCTIONAL = "functional", "职能部门"
    STREET_OFFICE = "street_office", "街道办事处"
    WORKSTATION = "workstation", "社区工作站"
    CENTRE = "centre", "综治中心"


class Department(models.Model):
    """A body that handles or dispatches events: a functional department at city or district
    level, a street office, a community workstation, or a comprehensive governance centre
    (综治中心, one per node of the tree down to communities)."""

    code = models.CharField("机构代码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=16, choices=DepartmentKind.choices, db_index=True)
    sector = models.CharField(
        "条线",
        max_length=16,
        blank=True,
        db_index=True,
        help_text="职能条线，如 ZJ 住建、CG 城管；上下级同条线",
    )
    region = models.ForeignKey(
        "geo.Region", verbose_name="所属区域", on_delete=models.PROTECT, related_name="departments"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name="上级机构",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    phone = models.CharField("联系电话", max_length=32, blank=True)
    active = models.BooleanField("启用", default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "机构"
        verbose_name_plural = "机构"

    def __str__(self) -> str:
        return self.name

    @property
    def audit_region_path(self) -> str:
        return self.region.path


class User(AbstractUser):
    """A person using civicgrid. Staff have one jurisdiction (a region node) and see its subtree;
    department handlers also belong to a department."""

    full_name = models.CharField("姓名", max_length=64, blank=True)
    jurisdiction = models.ForeignKey(
        "geo.Region",
        verbose_name="辖区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    department = models.ForeignKey(
        Department,
        verbose_name="所属机构",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    @property
    def roles(self) -> list[str]:
        if not hasattr(self, "_role_cache"):
            self._role_cache = sorted(
                n for n in self.groups.values_list("name", flat=True) if n in ROLES
            )
        return self._role_cache

    @property
    def audit_region_path(self) -> str:
        return self.jurisdiction.path if self.jurisdiction_id else ""


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 is stored; the clear token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField("用途", max_length=100, blank=True)
    prefix = models.CharField("前缀", max_length=12, db_index=True)
    digest = models.CharField("摘要", max_length=64, unique=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    expires_at = models.DateTimeField("过期时间", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)

    class Meta:
        verbose_name = "API 令牌"
        verbose_name_plural = "API 令牌"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def audit_region_path(self) -> str:
        return self.user.audit_region_path
