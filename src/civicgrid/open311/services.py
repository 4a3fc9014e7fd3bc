"""Open311's changes: api keys for client applications and the POST of a service request,
which goes through the hub's one intake (``civicgrid.events.services.submit``, channel
``open311``) like every other channel."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata

from django.db import transaction
from django.utils import timezone

from civicgrid.accounts import pii
from civicgrid.audit import services as audit
from civicgrid.core.errors import ServiceError
from civicgrid.events import services as events
from civicgrid.events.catalogue_selectors import catalogue
from civicgrid.open311 import georeport as gr
from civicgrid.open311 import selectors
from civicgrid.open311.models import ApiKey, ServiceRequest

KEY_PREFIX = "o311_"
MAX_NAME = 32
MAX_PHONE = 20
MAX_ADDRESS = 200


def _digest(clear: str) -> str:
    return hashlib.sha256(clear.encode()).hexdigest()


@transaction.atomic
def issue_key(actor, name: str) -> tuple[ApiKey, str]:
    """A new api_key for the client application ``name``; the clear key is returned once."""
    name = (name or "").strip()
    if not name:
        raise ServiceError("须给出客户端应用名称")
    clear = KEY_PREFIX + secrets.token_hex(24)
    key = ApiKey.objects.create(
        name=name[:100], prefix=clear[len(KEY_PREFIX) :][:8], digest=_digest(clear)
    )
    audit.record("open311.apikey.issue", actor=actor, obj=key, after={"name": key.name})
    return key, clear


@transaction.atomic
def revoke_key(actor, key: ApiKey) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit.record("open311.apikey.revoke", actor=actor, obj=key, after={"name": key.name})
    return key


def client_for(clear: str | None) -> ApiKey:
    """The client application holding this api_key, or a 403."""
    clear = (clear or "").strip()
    if not clear:
        raise gr.Problem(403, "api_key is required to submit a service request")
    key = ApiKey.objects.filter(digest=_digest(clear), revoked_at=None).first()
    if key is None:
        raise gr.Problem(403, "api_key is not valid (unknown or revoked)")
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def _cjk(s: str) -> bool:
    return any(unicodedata.east_asian_width(c) == "W" for c in s)


def full_name(first: str, last: str) -> str:
    """张 + 三 → 张三 (family name first for Chinese names), John + Smith → John Smith."""
    first, last = first.strip(), last.strip()
    if _cjk(first + last):
        return f"{last}{first}"
    return " ".join(p for p in (first, last) if p)


def _float(name: str, value: str, low: float, high: float) -> float:
    try:
        v = float(value)
    except ValueError:
        raise gr.Problem(400, f"{name} must be a number (WGS84 degrees)") from None
    if not low <= v <= high:
        raise gr.Problem(400, f"{name} must lie between {low} and {high}")
    return v


def _location(form) -> tuple[float | None, float | None, str, str]:
    """(lon, lat, address, house code) — or a 400 saying which location is missing."""
    lat, lon = gr.optional(form.get("lat")), gr.optional(form.get("long"))
    address = gr.optional(form.get("address_string")) or ""
    address_id = gr.optional(form.get("address_id")) or ""
    if len(address) > MAX_ADDRESS:
        raise gr.Problem(400, f"address_string is longer than {MAX_ADDRESS} characters")
    if (lat is None) != (lon is None):
        raise gr.Problem(400, "lat and long must be sent together")
    if lat is not None:
        return _float("long", lon, -180, 180), _float("lat", lat, -90, 90), address, address_id
    if address_id:
        return None, None, address, address_id
    if address:
        raise gr.Problem(
            400,
            "address_string alone cannot be placed on the city's map: "
            "send lat and long (WGS84) or address_id (the 25-digit house code)",
        )
    raise gr.Problem(400, "a location is required: lat and long (WGS84) or address_id")


def _problems_from(exc: ServiceError) -> gr.Refused:
    if exc.status == 404:
        return gr.Refused([gr.Problem(404, exc.detail)])
    if not exc.errors:
        return gr.Refused([gr.Problem(400, exc.detail)])
    fields = {"lon": "long", "house_code": "address_id", "location": "location"}

    def name(field: str) -> str:
        if field.startswith("photos"):
            return field.replace("photos", "media", 1)
        return fields.get(field, field)

    return gr.Refused([gr.Problem(400, f"{name(e.field)}: {e.message}") for e in exc.errors])


def _photos(files) -> list[bytes]:
    """Photos sent as multipart ``media`` (GeoReport v2.1 draft, and clients such as
    ``three``): size checked before reading; the intake checks what they are."""
    if files is None:
        return []
    uploads = [*files.getlist("media"), *files.getlist("media[]")]
    if len(uploads) > events.MAX_PHOTOS:
        raise gr.Problem(400, f"media: at most {events.MAX_PHOTOS} photos")
    for f in uploads:
        if f.size > events.MAX_PHOTO_BYTES:
            raise gr.Problem(400, f"media: {f.name} is larger than 5 MB; nothing was stored")
    return [f.read() for f in uploads]


def post_request(client: ApiKey, form, files=None) -> tuple[str, ServiceRequest]:
    """One GeoReport POST: checked, then filed through the hub's intake. Returns the event
    number (the ``service_request_id``) and what the request carried besides."""
    code = gr.optional(form.get("service_code"))
    if code is None:
        raise gr.Problem(400, "service_code was not provided")
    node = catalogue().nodes.get(code)
    if node is None or not node.leaf or not node.active:
        raise gr.Problem(404, f"service_code {code} was not found")
    lon, lat, address, house_code = _location(form)
    description = (form.get("description") or "").strip()
    if len(description) > gr.MAX_DESCRIPTION:
        raise gr.Problem(
            400, f"description is longer than {gr.MAX_DESCRIPTION} characters ({len(description)})"
        )
    if "<" in description and ">" in description and gr.looks_like_html(description):
        raise gr.Problem(400, "description must be plain text, not HTML")
    definition = selectors.attributes(code)
    answers, problems = gr.check_attributes(definition, gr.attribute_values(list(form.lists())))
    labels = {a.code: a.description for a in definition}
    name = full_name(form.get("first_name") or "", form.get("last_name") or "")
    phone = (form.get("phone") or "").strip()
    email = (form.get("email") or "").strip()
    media_url = (form.get("media_url") or "").strip()
    if len(name) > MAX_NAME:
        problems.append(gr.Problem(400, f"first_name and last_name: over {MAX_NAME} characters"))
    if len(phone) > MAX_PHONE:
        problems.append(gr.Problem(400, f"phone: over {MAX_PHONE} characters"))
    if email and (len(email) > 120 or not gr.looks_like_email(email)):
        problems.append(gr.Problem(400, "email is not an e-mail address"))
    if media_url and (len(media_url) > 500 or not media_url.startswith(("http://", "https://"))):
        problems.append(gr.Problem(400, "media_url must be an http(s) URL of at most 500 chars"))
    if problems:
        raise gr.Refused(problems)
    photos = _photos(files)
    token = secrets.token_hex(16)
    intake = events.Intake(
        channel="open311",
        source_ref=token,
        description=description or node.name,
        category=code,
        lon=lon,
        lat=lat,
        address=address,
        house_code=house_code,
        reporter_name=name,
        reporter_phone=phone,
        photos=photos,
    )
    try:
        with transaction.atomic():
            event, _ = events.submit(f"open311:{client.name}"[:150], intake)
            request = ServiceRequest.objects.create(
                event_id=event.pk,
                client=client,
                token=token,
                account_id=(form.get("account_id") or "")[:100],
                device_id=(form.get("device_id") or "")[:100],
                # a list, in the definition's order (a JSON object's order is not kept)
                attributes=[
                    {"code": k, "label": labels[k], "value": v} for k, v in answers.items()
                ],
                media_url=media_url,
                email=pii.mask_email(email) if email else "",
                email_enc=pii.cipher().encrypt(email) if email else "",
            )
    except ServiceError as exc:
        raise _problems_from(exc) from None
    return event.number, request
