"""Conventions every interface shares: request ids, error shapes, language, health."""

from __future__ import annotations

import pytest
from django.test import Client

from civicgrid.audit.models import AuditRecord

pytestmark = pytest.mark.django_db


def test_every_response_carries_a_request_id_that_audit_records_share(make_user):
    client = Client(headers={"X-Request-ID": "trace-0123456789"})
    response = client.get("/api/v1/regions/440300")
    assert response["X-Request-ID"] == "trace-0123456789"
    assert len(Client().get("/healthz")["X-Request-ID"]) == 32
    make_user("rid", "leader", "440300")
    client.post("/accounts/login/", {"username": "rid", "password": "wrong-password-x"})
    # a login attempt changes nothing, so it writes no audit record under that id
    assert not AuditRecord.objects.filter(request_id="trace-0123456789").exists()


def test_unauthenticated_api_call_gets_the_error_shape():
    response = Client().get("/api/v1/me")
    assert response.status_code == 401
    assert response.json() == {"detail": "需要登录或有效的 API 令牌", "errors": []}


def test_json_is_utf8_not_escaped():
    body = Client().get("/api/v1/regions/440399").content.decode()
    assert "大鹏新区" in body


def test_chinese_by_default_even_for_an_english_browser():
    page = Client(headers={"Accept-Language": "en-US,en;q=0.9"}).get("/")
    assert page["Content-Language"] == "zh-hans"
    assert "区域网格" in page.content.decode()


def test_english_when_chosen():
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get("/regions/440306/")
    html = page.content.decode()
    assert page["Content-Language"] == "en"
    assert "Regions and grids" in html and "宝安区" in html
    error = client.get("/api/v1/locate?lon=x&lat=1").json()
    assert error["errors"][0]["message"] == "must be a number"


def test_health_and_unknown_page():
    assert Client().get("/healthz").json() == {"status": "ok"}
    assert Client().get("/regions/999999/").status_code == 404


def test_no_missing_migrations():
    """Models and migrations agree: a model change without its migration fails here."""
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_the_access_log_keeps_no_query_string_or_referrer():
    """Exact lookups carry ID numbers and phones in the query; the server's log must not."""
    import datetime as dt
    from types import SimpleNamespace

    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    from civicgrid.core.management.commands.serve import ACCESS_LOG_FORMAT

    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/api/v1/persons?id_number=440306199001011234",
        "PATH_INFO": "/api/v1/persons",
        "QUERY_STRING": "id_number=440306199001011234",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.8",
        "HTTP_REFERER": "http://127.0.0.1/workbench/caller?reporter_phone=13800001234",
        "HTTP_USER_AGENT": "test",
    }
    resp = SimpleNamespace(status="200 OK", sent=12, headers=[])
    atoms = Logger(Config()).atoms(resp, [], environ, dt.timedelta(milliseconds=7))
    line = ACCESS_LOG_FORMAT % atoms
    assert "/api/v1/persons" in line and '" 200 12 7ms' in line
    assert "440306199001011234" not in line and "13800001234" not in line


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/events",
        "/api/v1/regions",
        "/api/v1/catalogue",
        "/api/v1/audit",
        "/api/v1/users",
        "/api/v1/buildings",
        "/api/v1/rental/tasks",
    ],
)
def test_an_offset_past_any_page_is_a_422_not_a_crash(path, make_user, api):
    client = api(make_user("pager", "steward", "440300"))
    r = client.get(f"{path}?offset={10**20}")
    assert r.status_code == 422, r.content
    assert "offset" in r.content.decode()
    assert client.get(f"{path}?offset=0").status_code in (200, 403)
