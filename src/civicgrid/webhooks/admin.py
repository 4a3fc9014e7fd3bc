from django import forms
from django.contrib import admin, messages
from django.db import models

from civicgrid.core.errors import ServiceError
from civicgrid.webhooks import services
from civicgrid.webhooks.models import Delivery, Subscription


class SubscriptionForm(forms.ModelForm):
    """The service's URL rule on the form itself, so a refused address is shown on its field
    rather than after a "saved" message."""

    url = forms.URLField(label="推送地址", max_length=500, assume_scheme="https")

    class Meta:
        model = Subscription
        fields = ("name", "url", "region", "active")

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            services.check_url(url)
        except ServiceError as exc:
            raise forms.ValidationError(exc.errors[0].message) from None
        return url


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    """A new subscription's signing secret is shown once, when it is created."""

    form = SubscriptionForm

    list_display = ("name", "url", "region", "active", "created_at")
    list_filter = ("active",)
    fields = ("name", "url", "region", "active")
    raw_id_fields = ("region",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    actions = ["rotate"]

    def save_model(self, request, obj, form, change):
        if change:
            changed = [f for f in form.changed_data if f in services.EDITABLE]
            try:
                services.update_subscription(
                    request.user,
                    Subscription.objects.get(pk=obj.pk),
                    **{f: form.cleaned_data[f] for f in changed},
                )
            except ServiceError as exc:
                messages.error(request, str(exc))
            return
        try:
            sub, secret = services.subscribe(request.user, obj.name, obj.url, obj.region_id)
        except ServiceError as exc:
            messages.error(request, str(exc))
            return
        obj.pk = sub.pk
        messages.warning(request, f"签名密钥（只显示这一次，请交给接收方）：{secret}")

    @admin.action(description="更换签名密钥（原密钥再签 24 小时）", permissions=["change"])
    def rotate(self, request, queryset):
        for sub in queryset:
            secret = services.rotate_secret(request.user, sub)
            messages.warning(
                request, f"{sub.name} 的新签名密钥（只显示这一次，请交给接收方）：{secret}"
            )


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The delivery log: every notice, its attempts and their answers."""

    list_display = (
        "created_at",
        "subscription",
        "event_number",
        "state",
        "attempts",
        "last_status",
        "next_attempt_at",
    )
    list_filter = ("state", "subscription")
    search_fields = ("event_number", "uid")
    readonly_fields = [f.name for f in Delivery._meta.fields]
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="立即重试所选投递", permissions=["change"])
    def retry(self, request, queryset):
        n = services.retry_now(request.user, queryset)
        messages.info(request, f"已安排重试 {n} 条")
