"""The door-plate and landlord pages in English when chosen; Chinese stays the default."""

from __future__ import annotations

import re

from django.test import Client
from django.utils import translation

from civicgrid.events.models import Event
from civicgrid.rental import grading, signing, texts


def _scan(code: str) -> str:
    return f"/q/{code}?sig={signing.sign(code)}"


def _english(page: str) -> Client:
    """A client that chose English with the page's own language switch."""
    client = Client()
    html = client.get(page).content.decode()
    back = re.search(r'name="next" type="hidden" value="([^"]+)"', html)[1]
    r = client.post("/i18n/setlang/", {"language": "en", "next": back})
    assert r.status_code == 302 and r["Location"] == page  # the signature survives
    return client


def test_the_scan_page_is_chinese_by_default_and_english_when_chosen(rental):
    page = _scan(rental.house_code)
    chinese = Client(headers={"Accept-Language": "en"}).get(page).content.decode()
    assert '<html lang="zh-hans">' in chinese
    assert "宽管级" in chinese and "租户须知" in chinese and "反映问题" in chinese
    assert "For tenants" not in chinese
    r = _english(page).get(page)
    assert r.status_code == 200 and r["Content-Language"] == "en"
    html = r.content.decode()
    assert '<html lang="en">' in html
    for text in ("Light supervision", "For tenants", "House code", "Report a problem", "Submit"):
        assert text in html
    assert "租户须知" not in html and "宽管级" not in html
    assert rental.house_code in html and "宝民村77号" in html  # data stays as recorded


def test_a_report_from_the_scan_page_says_so_in_the_chosen_language(rental):
    code = rental.house_code
    body = {"sig": signing.sign(code), "action": "report", "description": "楼道堆满杂物"}
    chinese = Client().post(f"/q/{code}", body).content.decode()
    assert "已收到您反映的问题" in chinese
    client = _english(_scan(code))
    r = client.post(f"/q/{code}", body)
    number = Event.objects.order_by("-id").first().number
    html = r.content.decode()
    assert r.status_code == 200 and f"We have received your report, number {number}," in html
    assert "已收到" not in html
    # after the post the switch still comes back to the signed page
    assert f'value="{_scan(code)}"' in html
    refused = client.post(f"/q/{code}", body | {"description": ""})
    assert refused.status_code == 422
    assert "Please describe the problem" in refused.content.decode()


def test_the_landlord_page_in_english_says_why_and_what_to_fix(rental, inspect):
    code = rental.house_code
    inspect(code, ebike_indoor_charging=True)
    page = f"/rental/landlord/{code}?sig={signing.sign(code, 'landlord')}"
    chinese = Client().get(page).content.decode()
    assert "出租屋等级" in chinese and "禁止级" in chinese and "如何升级" in chinese
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": page})
    html = client.get(page).content.decode()
    assert '<html lang="en">' in html
    for text in (
        "Rental house grade",
        "Prohibited",
        "The inspection found e-bikes charged indoors or in the stairwell (Prohibited)",
        "use the shared charging points",
        "How to move up a grade",
        "passed inspections in a row are needed to move up to “Strict supervision”",
    ):
        assert text in html
    assert "禁止级" not in html and "如何升级" not in html


def test_the_api_keeps_the_rule_set_wording(rental, clients):
    clients["grid"].cookies["django_language"] = "en"
    r = clients["grid"].get(f"/api/v1/rental/{rental.house_code}")
    assert r.json()["grade_label"] == "宽管级"


def test_every_text_of_the_default_rules_reads_in_english():
    rules = grading.parse(grading.shipped())
    shown = {t for g in rules.grades for t in (g.label, g.meaning, g.tenant_note)}
    shown |= {t for r in rules.rules for t in (r.reason, r.fix)}
    assert shown == set(texts.DEFAULT)
    with translation.override("en"):
        assert [t for t in shown if translation.gettext(t) == t] == []
