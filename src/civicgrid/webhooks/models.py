"""Webhook subscriptions and their deliveries (the delivery log)."""

from __future__ import annotations

from django.db import models


class Subscription(models.Model):
    """Another system that wants to hear of status changes: a URL, a shared secret for the
    HMAC-SHA256 signature (stored encrypted, shown once), optionally one region's events only."""

    name = models.CharField("名称", max_length=100)
    url = models.URLField("推送地址", max_length=500)
    secret_enc = models.TextField("签名密钥（密文）")
    # after a rotation the old secret still signs (a second signature) until ``previous_until``,
    # so the receiver can switch without losing a notice
    previous_secret_enc = models.TextField("原签名密钥（密文）", blank=True, default="")
    previous_until = models.DateTimeField("原密钥有效至", null=True, blank=True)
    region = models.ForeignKey(
        "geo.Region",
        verbose_name="区域",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="留空 = 全市",
    )
    active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "Webhook 订阅"
        verbose_name_plural = "Webhook 订阅"

    def __str__(self) -> str:
        return self.name

    @property
    def audit_region_path(self) -> str:
        return self.region.path if self.region_id else ""


class Delivery(models.Model):
    """One notice to one subscriber: written in the action's transaction (so it exists exactly
    when the change does), sent afterwards by the background job, retried with backoff."""

    STATES = [("pending", "待发送"), ("delivered", "已送达"), ("failed", "已放弃")]

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="deliveries", verbose_name="订阅"
    )
    uid = models.CharField("投递编号", max_length=32, unique=True)
    kind = models.CharField("类型", max_length=40, default="event.status_changed")
    event_number = models.CharField("事件编号", max_length=20, blank=True)
    payload = models.JSONField("内容")
    state = models.CharField("状态", max_length=10, choices=STATES, default="pending")
    attempts = models.PositiveIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次尝试")
    last_status = models.PositiveIntegerField("最近 HTTP 状态", null=True, blank=True)
    last_error = models.TextField("最近错误", blank=True)
    log = models.JSONField("投递记录", default=list, blank=True)
    created_at = models.DateTimeField("创建时间")
    delivered_at = models.DateTimeField("送达时间", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "Webhook 投递"
        verbose_name_plural = "Webhook 投递"
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state="pending"),
                name="webhook_delivery_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.event_number} → {self.subscription_id}"
