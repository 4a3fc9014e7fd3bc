"""Photos attached to events and inspections: checked by their bytes (not by a name or a
declared type) and stored once under ``DATA_DIR/uploads/<kind>/`` named by their SHA-256, so a
retried upload writes nothing twice and a stored file is never half-written."""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.conf import settings

from civicgrid.core.errors import FieldError

MAX_PHOTOS = 6
MAX_PHOTO_BYTES = 5 * 1024 * 1024
_IMAGE_MAGIC = {b"\xff\xd8\xff": "jpg", b"\x89PNG\r\n\x1a\n": "png", b"RIFF": "webp"}


def image_type(data: bytes) -> str | None:
    """``jpg``, ``png`` or ``webp`` from the file's signature; None for anything else."""
    for magic, ext in _IMAGE_MAGIC.items():
        if data.startswith(magic) and (ext != "webp" or data[8:12] == b"WEBP"):
            return ext
    return None


def photo_errors(photos: list[bytes], field: str = "photos") -> list[FieldError]:
    """What is wrong with a set of photos, one message per photo (``photos.2``)."""
    errors = []
    if len(photos) > MAX_PHOTOS:
        errors.append(FieldError(field, f"最多 {MAX_PHOTOS} 张照片"))
    for i, photo in enumerate(photos):
        if len(photo) > MAX_PHOTO_BYTES:
            errors.append(FieldError(f"{field}.{i}", "照片不能超过 5 MB"))
        elif image_type(photo) is None:
            errors.append(FieldError(f"{field}.{i}", "不是 JPEG、PNG 或 WebP 图片"))
    return errors


def store(photos: list[bytes], kind: str) -> list[dict]:
    """Store checked photos; returns ``[{sha256, type, size}]`` for the record that cites them."""
    folder = Path(settings.DATA_DIR) / "uploads" / kind
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for photo in photos:
        digest = hashlib.sha256(photo).hexdigest()
        ext = image_type(photo)
        path = folder / f"{digest}.{ext}"
        if not path.exists():
            tmp = path.with_suffix(".part")
            tmp.write_bytes(photo)
            tmp.replace(path)
        out.append({"sha256": digest, "type": ext, "size": len(photo)})
    return out
