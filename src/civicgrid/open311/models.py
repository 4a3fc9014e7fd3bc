"""Open311 tables: client applications' api keys, extra questions per service (the service
definition's attributes) and what an Open311 request carried beyond the event itself."""

from __future__ import annotations

from django.db import models


class ApiKey(models.Model):
    """One client application's ``api_key``. Only its SHA-256 is stored; the clear key is
    printed once by ``civicgrid apikey NAME``."""

    name = models.CharField("客户端应用", max_length=100)
    prefix = models.CharField("前缀", max_length=12, db_index=True)
    digest = models.CharField("摘要", max_length=64, unique=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)

    class Meta:
        ordering = ["name", "created_at"]
        verbose_name = "Open311 api_key"
        verbose_name_plural = "Open311 api_key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def audit_region_path(self) -> str:
        return ""


DATATYPES = [
    ("string", "string 单行文本"),
    ("number", "number 数字"),
    ("datetime", "datetime 日期时间"),
    ("text", "text 多行文本"),
    ("singlevaluelist", "singlevaluelist 单选"),
    ("multivaluelist", "multivaluelist 多选"),
]


class ServiceAttribute(models.Model):
    """A question a service asks (GeoReport ``service_definition/attributes/attribute``).
    ``values`` is a list of ``{"key", "name"}`` for the list datatypes."""

    category = models.ForeignKey(
        "events.Category",
        verbose_name="事项",
        on_delete=models.CASCADE,
        related_name="open311_attributes",
    )
    code = models.CharField("编码", max_length=40)
    variable = models.BooleanField("需要填写", default=True, help_text="否 = 仅作说明文字")
    datatype = models.CharField("类型", max_length=16, choices=DATATYPES, default="string")
    required = models.BooleanField("必填", default=False)
    datatype_description = models.CharField("填写说明", max_length=200, blank=True)
    order = models.PositiveIntegerField("顺序", default=1)
    description = models.CharField("问题", max_length=400)
    values = models.JSONField("选项", default=list, blank=True)

    class Meta:
        ordering = ["category", "order"]
        verbose_name = "Open311 服务属性"
        verbose_name_plural = "Open311 服务属性"
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="open311_attr_code_once"),
            models.UniqueConstraint(fields=["category", "order"], name="open311_attr_order_once"),
        ]

    def __str__(self) -> str:
        return f"{self.category_id}:{self.code}"


class ServiceRequest(models.Model):
    """What an Open311 POST carried that the event has no column for: the client, the token,
    answers to the service's attributes, media_url, and the e-mail (personal data: encrypted,
    with a masked copy)."""

    event = models.OneToOneField(
        "events.Event", on_delete=models.CASCADE, related_name="open311", verbose_name="事件"
    )
    client = models.ForeignKey(
        ApiKey, verbose_name="客户端应用", on_delete=models.PROTECT, related_name="requests"
    )
    token = models.CharField("token", max_length=40, unique=True)
    account_id = models.CharField("account_id", max_length=100, blank=True)
    device_id = models.CharField("device_id", max_length=100, blank=True)
    attributes = models.JSONField("属性", default=list, blank=True)
    media_url = models.URLField("media_url", max_length=500, blank=True)
    email = models.CharField("邮箱（脱敏）", max_length=120, blank=True)
    email_enc = models.TextField("邮箱（密文）", blank=True)
    created_at = models.DateTimeField("提交时间", auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "Open311 请求"
        verbose_name_plural = "Open311 请求"

    def __str__(self) -> str:
        return self.token

    @property
    def audit_region_path(self) -> str:
        return self.event.region_path
