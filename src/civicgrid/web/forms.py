"""Page forms: they turn what a person typed into the plain values the event services take.
Business checks (location inside the city, photo format, category is a leaf …) stay in
``civicgrid.events.services``; these forms only check shape and size, and read uploads."""

from __future__ import annotations

import uuid

from django import forms
from django.core import signing
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from civicgrid.events import services, workflow
from civicgrid.events.catalogue_selectors import catalogue

TICKET_SALT = "civicgrid.web.portal-ticket"
TICKET_MAX_AGE = 24 * 3600


def new_ticket() -> str:
    """A signed one-time key for one filled-in form: resubmitting the same form (a double
    click, a reload) returns the first event instead of filing a second one, and nobody can
    forge another person's key to read back their event."""
    return signing.dumps(uuid.uuid4().hex, salt=TICKET_SALT)


def ticket_ref(ticket: str) -> str | None:
    try:
        return signing.loads(ticket, salt=TICKET_SALT, max_age=TICKET_MAX_AGE)
    except signing.BadSignature:
        return None


def leaf_choices(*, on_spot_only: bool = False) -> list[tuple[str, str]]:
    """(code, "大类 / 小类 / 事项") of every active leaf, for the searchable picker."""
    cat = catalogue()
    out = []
    for code, node in cat.nodes.items():
        if not (node.leaf and node.active) or (on_spot_only and not node.on_spot):
            continue
        names = [cat.nodes[c].name for c in reversed(cat.chain(code)) if c in cat.nodes]
        out.append((code, " / ".join(names) or node.name))
    return sorted(out)


def category_code(text: str) -> str | None:
    """The picker sends "9802 违法搭建 …" (or just the code); the code is its first word."""
    text = (text or "").strip()
    return text.split()[0] if text else None


def intake(d: dict, lon, lat, *, channel: str, source_ref: str, **extra) -> services.Intake:
    """The hub's intake from the cleaned portal or desk form (the two forms share fields)."""
    return services.Intake(
        channel=channel,
        source_ref=source_ref,
        title=d["title"],
        description=d["description"],
        category=category_code(d["category"]),
        lon=lon,
        lat=lat,
        address=d["address"],
        reporter_name=d["reporter_name"],
        reporter_phone=d["reporter_phone"],
        **extra,
    )


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos in one input. Size is checked before reading, so an oversized upload
    is refused without being kept in memory; the format is checked by the service."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"multiple": True, "accept": "image/*"})
        )
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > services.MAX_PHOTOS:
            raise forms.ValidationError(_("最多 %(n)d 张照片") % {"n": services.MAX_PHOTOS})
        out = []
        for f in files:
            if f.size > services.MAX_PHOTO_BYTES:
                raise forms.ValidationError(
                    _("照片“%(name)s”超过 5 MB，请压缩后再上传") % {"name": f.name}
                )
            out.append(f.read())
        return out


class LocationMixin(forms.Form):
    lon = forms.FloatField(required=False, widget=forms.HiddenInput)
    lat = forms.FloatField(required=False, widget=forms.HiddenInput)
    region = forms.CharField(required=False, max_length=14, label=_("所在街道/社区"))
    address = forms.CharField(required=False, max_length=200, label=_("详细地址"))

    def location(self) -> tuple[float | None, float | None]:
        """The pin when there is one; else the chosen region's representative point."""
        from civicgrid.core.errors import NotFound
        from civicgrid.geo import selectors as geo

        lon, lat = self.cleaned_data.get("lon"), self.cleaned_data.get("lat")
        if lon is not None and lat is not None:
            return lon, lat
        code = (self.cleaned_data.get("region") or "").strip()
        if code:
            try:
                r = geo.get_region(code)
            except NotFound:
                return None, None
            return r.lon, r.lat
        return None, None


class PortalForm(LocationMixin):
    ticket = forms.CharField(widget=forms.HiddenInput)
    title = forms.CharField(required=False, max_length=200, label=_("标题"))
    description = forms.CharField(
        max_length=services.MAX_DESCRIPTION, widget=forms.Textarea, label=_("诉求内容")
    )
    category = forms.CharField(required=False, max_length=200, label=_("事项分类（可不选）"))
    reporter_name = forms.CharField(required=False, max_length=32, label=_("姓名（可不填）"))
    reporter_phone = forms.CharField(required=False, max_length=20, label=_("电话（可不填）"))
    photos = PhotosField(label=_("照片（可选，最多 6 张，每张不超过 5 MB）"))


class IntakeForm(LocationMixin):
    """The hotline / walk-in operator's form."""

    channel = forms.ChoiceField(
        choices=[("hotline", _("12345热线")), ("hall", _("窗口来访"))], label=_("渠道")
    )
    reporter_phone = forms.CharField(required=False, max_length=20, label=_("来电号码"))
    reporter_name = forms.CharField(required=False, max_length=32, label=_("诉求人姓名"))
    title = forms.CharField(required=False, max_length=200, label=_("标题"))
    description = forms.CharField(
        max_length=services.MAX_DESCRIPTION, widget=forms.Textarea, label=_("诉求内容")
    )
    category = forms.CharField(required=False, max_length=200, label=_("事项分类"))
    answer = forms.CharField(
        required=False,
        max_length=services.MAX_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("当场答复（咨询类直接办结）"),
    )
    ticket = forms.CharField(widget=forms.HiddenInput)


class GridReportForm(LocationMixin):
    description = forms.CharField(
        max_length=services.MAX_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("发现的问题"),
    )
    category = forms.CharField(required=False, max_length=200, label=_("事项分类"))
    photos = PhotosField(label=_("现场照片"))
    on_spot = forms.BooleanField(required=False, label=_("即巡即办：已现场处置完毕"))
    ticket = forms.CharField(widget=forms.HiddenInput)


class RateForm(forms.Form):
    code = forms.CharField(max_length=16, label=_("查询码"))
    rating = forms.ChoiceField(
        choices=[(k, _(v)) for k, v in workflow.RATINGS.items()], label=_("评价")
    )
    note = forms.CharField(
        required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}), label=_("意见")
    )


# Timeline rows that are not workflow actions (intake, supervision, merging); the API names
# them as written here, the pages through entry_label().
ENTRY_LABELS = {
    "report": gettext_noop("登记"),
    "answer": gettext_noop("当场答复办结"),
    "close_on_spot": gettext_noop("即巡即办"),
    "yellow_card": gettext_noop("黄牌督办"),
    "red_card": gettext_noop("红牌督办"),
    "supporter": gettext_noop("附议"),
    "recalendar": gettext_noop("时限随日历调整"),
}


def entry_label(action: str, default: str = "") -> str:
    """A timeline row's name in the reader's language: a workflow action or one of the rows
    above (``default`` for anything else)."""
    if action in workflow.ACTIONS:
        return workflow.action_label(action)
    return gettext(ENTRY_LABELS[action]) if action in ENTRY_LABELS else default


# What each workflow action asks for on the event page (beyond the action itself).
ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    "accept": ("category", "note"),
    "reject": ("note",),
    "merge": ("master", "note"),
    "dispatch": ("category", "department", "assists", "note"),
    "sign": ("note",),
    "return": ("reason", "note"),
    "contact": ("note",),
    "request_extension": ("limit", "note"),
    "grant_extension": ("granted", "note"),
    "resolve": ("note",),
    "verify": ("passed", "note"),
    "close": ("note",),
    "rate": ("rating", "note"),
    "reopen": ("note",),
    "escalate": ("note",),
    "command": ("departments", "on_scene_by", "note"),
    "arrive": ("note",),
    "remind": ("note",),
    "comment": ("note", "public"),
}
_LISTS = {"assists", "departments"}
_BOOLS = {"granted", "passed", "public"}


def action_params(action: str, post) -> dict:
    """The service parameters of an action from a submitted page form."""
    params: dict = {}
    for name in ACTION_FIELDS.get(action, ()):
        if name in _LISTS:
            values = [category_code(v) for v in post.getlist(name)]
            values += [category_code(v) for v in ",".join(post.getlist(name + "_text")).split(",")]
            params[name] = [v for v in values if v]
        elif name in _BOOLS:
            params[name] = post.get(name, "1" if name != "public" else "") in ("1", "on", "true")
        else:
            value = (post.get(name) or "").strip()
            if name in ("category", "department", "master"):
                value = category_code(value) or ""
            if value:
                params[name] = value
    return params
