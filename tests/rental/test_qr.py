"""Signed door plates, the public scan page and tenants' self-registration."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.test import Client

from civicgrid.registry.models import House, Person, Residence
from civicgrid.rental import plates, signing
from civicgrid.rental.models import RentalProfile

from .conftest import id_number


def _sig(code: str) -> str:
    return signing.sign(code)


def test_qr_endpoint_gives_a_signed_url_and_a_plate_in_the_grade_colour(clients, rental):
    r = clients["grid"].get(f"/api/v1/houses/{rental.house_code}/qr")
    assert r.status_code == 200, r.content
    body = r.json()
    path = body["url"].split("://", 1)[1].split("/", 1)[1]
    code, sig = path.removeprefix("q/").split("?sig=")
    assert code == rental.house_code and signing.verify(code, sig)
    assert body["key_id"] == "k2"
    assert body["svg"].startswith("<svg") and "#23a455" in body["svg"]  # green
    assert rental.house_code in body["svg"] and "宝民村77号" in body["svg"]
    assert clients["nanshan"].get(f"/api/v1/houses/{rental.house_code}/qr").status_code == 404


def test_each_qr_is_made_once_and_cached(rental, monkeypatch):
    import segno

    first = plates.qr_svg(rental.house_code)
    monkeypatch.setattr(segno, "make", lambda *a, **k: pytest.fail("made twice"))
    assert plates.qr_svg(rental.house_code) == first


def test_scan_page_shows_grade_code_address_and_no_personal_data(rental, people):
    from civicgrid.rental import services

    services.register_rental(
        people["grid"], rental.house, manager_name="王小明", manager_phone="13812345678"
    )
    services.self_register(
        rental.house_code, _sig(rental.house_code), id_number=id_number(7), name="李四"
    )
    r = Client().get(f"/q/{rental.house_code}?sig={_sig(rental.house_code)}")
    assert r.status_code == 200
    page = r.content.decode()
    assert "宽管级" in page and rental.house_code in page and "宝民村77号" in page
    for secret in ("王小明", "13812345678", "138****5678", "李四", "李*", id_number(7)[-4:]):
        assert secret not in page
    assert 'id="inspect"' not in page  # not logged in: no inspection form


@pytest.mark.parametrize(
    "path",
    [
        "/q/{code}?sig=k2.AAAAAAAAAAAAAAAA",  # forged
        "/q/{code}",  # missing
        "/q/{other}?sig={sig}",  # the signature of another house
        "/q/{code}?sig=k9.{mac}",  # unknown key id
        "/q/{code}?sig=k2.%C3%A9",  # not even ASCII
    ],
)
def test_a_forged_or_altered_code_gets_a_plain_404_that_reveals_nothing(rental, path):
    code = rental.house_code
    sig = _sig(code)
    other = code[:-1] + ("2" if code[-1] != "2" else "3")
    r = Client().get(path.format(code=code, other=other, sig=sig, mac=sig.split(".")[1]))
    assert r.status_code == 404
    page = r.content.decode()
    assert "无效的二维码" in page
    assert code not in page and other not in page and "宝民" not in page


def test_key_rotation_old_plates_stay_valid_until_the_key_is_dropped(rental, monkeypatch):
    code = rental.house_code
    old = _sig(code)
    monkeypatch.setenv(
        "CIVICGRID_QR_KEYS",
        "k3:a-brand-new-key-0123456789abcdef,k2:test-qr-key-number-two-0123456789",
    )
    new = _sig(code)
    assert new.startswith("k3.") and new != old
    assert signing.verify(code, old) and signing.verify(code, new)
    monkeypatch.setenv("CIVICGRID_QR_KEYS", "k3:a-brand-new-key-0123456789abcdef")
    assert not signing.verify(code, old) and signing.verify(code, new)
    assert Client().get(f"/q/{code}?sig={old}").status_code == 404


def _register(code, sig=None, **fields):
    body = {"id_number": id_number(), "name": "张三", "phone": "13900001111"} | fields
    body["sig"] = sig if sig is not None else _sig(code)
    return Client().post(f"/api/v1/rental/{code}/residents", body, content_type="application/json")


def test_self_registration_creates_a_pending_residence_for_the_grid_worker(rental, clients):
    r = _register(rental.house_code)
    assert r.status_code == 201, r.content
    assert r.json()["status"] == "pending" and r.json()["name"] == "张*"
    res = Residence.objects.get(house=rental.house)
    assert (res.source, res.verified, res.relation) == ("qr", False, "tenant")
    # a declaration at the door counts as registered only once the grid worker verifies it
    assert RentalProfile.objects.get(pk=rental.pk).registered == 0
    again = _register(rental.house_code)
    assert again.status_code == 201 and Residence.objects.count() == 1
    v = clients["grid"].post(f"/api/v1/rental/{rental.house_code}/residents/{res.pk}/verify")
    assert v.status_code == 200 and v.json()["verified"] is True
    assert RentalProfile.objects.get(pk=rental.pk).registered == 1
    assert (
        clients["nanshan"]
        .post(f"/api/v1/rental/{rental.house_code}/residents/{res.pk}/verify")
        .status_code
        == 404
    )


def test_self_registration_answers_alike_whether_or_not_the_id_lives_there(rental, clients):
    """Anyone at the door may try an ID number: the answer must not say who lives there."""
    code = rental.house_code
    first = _register(code, id_number=id_number(11))
    res = Residence.objects.get(house=rental.house)
    clients["grid"].post(f"/api/v1/rental/{code}/residents/{res.pk}/verify")
    lives_here = _register(code, id_number=id_number(11))
    stranger = _register(code, id_number=id_number(12))
    assert lives_here.status_code == stranger.status_code == first.status_code == 201
    assert lives_here.json() == stranger.json() == first.json()
    assert Residence.objects.filter(person=res.person, until=None).count() == 1
    page = [
        Client()
        .post(
            f"/q/{code}", {"sig": _sig(code), "action": "register", "id_number": n, "name": "张三"}
        )
        .content.decode()
        for n in (id_number(11), id_number(13))
    ]
    notice = [p.split('id="notice"', 1)[1].split("<", 1)[0] for p in page]
    assert notice[0] == notice[1] and "申报成功" in notice[0]
    assert Residence.objects.filter(person=res.person, until=None).count() == 1


def test_self_registration_never_rewrites_a_known_person(rental):
    from civicgrid.rental import services

    services.self_register(
        rental.house_code, _sig(rental.house_code), id_number=id_number(5), name="赵六"
    )
    _register(rental.house_code, id_number=id_number(5), name="冒名者", phone="13700000000")
    person = Person.objects.get(id_masked__endswith=id_number(5)[-4:])
    assert (person.name, person.phone) == ("赵六", "")


def test_self_registration_completes_a_landlord_known_by_number_only(rental):
    from civicgrid.registry import codes
    from civicgrid.registry import services as registry

    number = id_number(6)
    stub = registry.person_by_id_number("test", codes.parse_id_number(number))
    assert stub.number_only
    _register(rental.house_code, id_number=number, name="钱七", phone="13700000001")
    stub.refresh_from_db()
    assert (stub.name, stub.phone, stub.grid_code) == ("钱七", "13700000001", rental.grid_code)
    assert not stub.number_only
    _register(rental.house_code, id_number=number, name="冒名者")  # now a known person
    stub.refresh_from_db()
    assert stub.name == "钱七"


def test_a_known_number_under_another_name_adds_no_home_and_answers_alike(
    rental, make_house, clients
):
    """The plate must not attach somebody else's number to the house (their record would then
    show to the house's staff), nor tell by its answer that the number is in the registry."""
    from civicgrid.audit.models import AuditRecord
    from civicgrid.registry import services as registry

    elsewhere = make_house(use="own")
    registry.register_residence(
        _grid(rental), elsewhere, id_number=id_number(31), name="孙八", relation="业主"
    )
    wrong = _register(rental.house_code, id_number=id_number(31), name="冒名者")
    unknown = _register(rental.house_code, id_number=id_number(32), name="冒名者")
    assert wrong.status_code == unknown.status_code == 201
    assert wrong.json() == unknown.json()
    person = Person.objects.get(name="孙八")
    assert not Residence.objects.filter(person=person, house=rental.house).exists()
    flagged = AuditRecord.objects.filter(action="rental.self_register").order_by("id")
    assert [r.summary["after"]["name_mismatch"] for r in flagged] == [True, False]
    right = _register(rental.house_code, id_number=id_number(31), name="孙 八")
    assert right.status_code == 201
    assert Residence.objects.filter(person=person, house=rental.house, verified=False).exists()
    # the grid worker sees every declaration to follow up, the mismatched one flagged
    profile = clients["grid"].get(f"/api/v1/rental/{rental.house_code}").json()
    pending = [(d["name"], d["name_mismatch"]) for d in profile["declarations"]]
    assert pending == [("孙**", False), ("冒**", False), ("冒**", True)]


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"id_number": "440306199001011235"}, "id_number"),  # wrong check digit
        ({"id_number": "12345"}, "id_number"),
        ({"name": " "}, "name"),
        ({"phone": "12345"}, "phone"),
    ],
)
def test_self_registration_bad_input_is_422_and_changes_nothing(rental, fields, field):
    r = _register(rental.house_code, **fields)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == field
    assert Residence.objects.count() == 0


def test_self_registration_for_a_house_not_let_is_refused(make_house):
    house = make_house(use="own")
    r = _register(house.code)
    assert r.status_code == 422 and "未登记为出租屋" in r.json()["detail"]
    assert _register(house.code, sig="k2.forgedforgedforged").status_code == 404
    assert Residence.objects.count() == 0


def test_self_registration_is_rate_limited_per_client_and_per_house(rental, make_house, settings):
    from civicgrid.rental import services

    settings.RENTAL_SELF_REGISTRATION_LIMITS = {"house": (4, 60), "client": (3, 60)}
    other, _ = services.register_rental(_grid(rental), make_house())
    for i in range(3):
        assert _register(rental.house_code, id_number=id_number(200 + i)).status_code == 201
    r = _register(other.house_code, id_number=id_number(210))
    assert r.status_code == 429 and "次数过多" in r.json()["detail"]
    # per house: another client still meets the house's own limit
    c = Client(REMOTE_ADDR="10.0.0.9")
    body = {"id_number": id_number(220), "name": "钱七", "sig": _sig(rental.house_code)}
    assert (
        c.post(
            f"/api/v1/rental/{rental.house_code}/residents", body, content_type="application/json"
        ).status_code
        == 201
    )
    c2 = Client(REMOTE_ADDR="10.0.0.10")
    body["id_number"] = id_number(221)
    assert (
        c2.post(
            f"/api/v1/rental/{rental.house_code}/residents", body, content_type="application/json"
        ).status_code
        == 429
    )
    assert Residence.objects.count() == 4


def _grid(rental):
    from civicgrid.accounts.models import User

    return User.objects.get(username="rgrid")


def test_plate_sheet_for_a_building_in_the_background(clients, rental, make_house):
    make_house()  # a second let house, no profile yet: printed in the neutral colour
    make_house(use="own")  # not let: not printed
    r = clients["grid"].post(
        "/api/v1/rental/plates",
        {"building": rental.house.building.code},
        content_type="application/json",
    )
    assert r.status_code == 202, r.content
    sheet = r.json()
    assert (sheet["status"], sheet["plates"], sheet["pages"]) == ("done", 2, 1)
    z = clients["grid"].get(sheet["download"])
    assert z.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(z.streaming_content))) as zf:
        [name] = zf.namelist()
        page = zf.read(name).decode()
    assert 'width="210mm" height="297mm"' in page
    assert page.count("<line ") == 2 * 8  # cut marks at four corners of both plates
    assert rental.house_code in page
    refused = clients["nanshan"].post(
        "/api/v1/rental/plates", {"community": "440306017001"}, content_type="application/json"
    )
    assert refused.status_code == 404


def test_landlord_view_says_why_and_what_to_fix(rental, inspect):
    inspect(rental.house_code, ebike_indoor_charging=True)
    code = rental.house_code
    r = Client().get(f"/rental/landlord/{code}?sig={signing.sign(code, 'landlord')}")
    assert r.status_code == 200
    page = r.content.decode()
    assert "禁止级" in page and "电动自行车" in page and "集中充电点" in page
    assert "连续 2 次检查合格" in page
    # the door plate's signature does not open the landlord view
    assert Client().get(f"/rental/landlord/{code}?sig={_sig(code)}").status_code == 404


def test_a_problem_reported_from_the_scan_page_is_an_event_linked_to_the_house(rental):
    from civicgrid.events.models import Event

    code = rental.house_code
    reporter = Client()
    r = reporter.post(
        f"/q/{code}",
        {
            "sig": _sig(code),
            "action": "report",
            "description": "楼道里堆满杂物，晚上没有照明",
            "phone": "13612345678",
        },
    )
    assert r.status_code == 200
    event = Event.objects.get(house_code=code)
    assert event.number in r.content.decode()
    assert (event.channel, event.reporter_phone) == ("web", "136****5678")
    assert "13612345678" not in r.content.decode()
    # not triaged yet, so not public: the page gives the tracking code, and the browser that
    # reported may follow it without one
    from civicgrid.web import guards

    tracking = guards.tracking_code(event.number)
    assert tracking in r.content.decode()
    assert Client().get(f"/track/{event.number}").status_code == 404
    assert Client().get(f"/track/{event.number}?code={tracking}").status_code == 200
    assert reporter.get(f"/track/{event.number}").status_code == 200
    # the flat is known to staff by the house code; the address names the building only, since
    # a web report may be published (Open311, the tracking page)
    house = House.objects.select_related("building").get(code=code)
    assert event.address == house.building.address
    forged = Client().post(f"/q/{code}", {"sig": "k2.x", "action": "report", "description": "x"})
    assert forged.status_code == 404 and Event.objects.count() == 1


def test_the_scan_page_registers_a_tenant_and_says_why_it_refuses(rental):
    code = rental.house_code
    bad = Client().post(
        f"/q/{code}",
        {"sig": _sig(code), "action": "register", "id_number": "123", "name": "张三"},
    )
    assert bad.status_code == 422 and "身份证号" in bad.content.decode()
    ok = Client().post(
        f"/q/{code}",
        {"sig": _sig(code), "action": "register", "id_number": id_number(9), "name": "张三"},
    )
    assert ok.status_code == 200 and "申报成功" in ok.content.decode()
    assert Residence.objects.filter(house=rental.house, verified=False).count() == 1


def test_the_limits_hold_across_processes_through_redis(rental, settings):
    """With the production cache (Redis) every server process counts the same attempts."""
    import redis

    url = "redis://127.0.0.1:6379/10"
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    }
    settings.RENTAL_SELF_REGISTRATION_LIMITS = {"house": (2, 60), "client": (50, 60)}
    server = redis.Redis.from_url(url)
    server.flushdb()
    try:
        assert _register(rental.house_code, id_number=id_number(301)).status_code == 201
        assert _register(rental.house_code, id_number=id_number(302)).status_code == 201
        assert any(b"rental-selfreg:h:" in k for k in server.keys("*"))
        assert _register(rental.house_code, id_number=id_number(303)).status_code == 429
    finally:
        server.flushdb()


@pytest.mark.parametrize("observed", ["99999999999999999999", "许多"])
def test_the_scan_page_refuses_a_head_count_it_cannot_hold(rental, people, observed):
    from tests.conftest import PASSWORD

    client = Client()
    assert client.login(username=people["grid"].get_username(), password=PASSWORD)
    code = rental.house_code
    r = client.post(f"/q/{code}", {"sig": _sig(code), "action": "inspect", "observed": observed})
    assert r.status_code == 422 and "整数" in r.content.decode()
    assert rental.inspections.count() == 0


def test_a_nul_character_on_the_scan_page_is_a_400_naming_the_field(rental):
    """PostgreSQL cannot store NUL in text: refused before any view, on either database."""
    from civicgrid.events.models import Event

    code = rental.house_code
    r = Client().post(
        f"/q/{code}", {"sig": _sig(code), "action": "report", "description": "楼道\x00堆物"}
    )
    assert r.status_code == 400 and "description" in r.content.decode()
    assert "空字符" in r.content.decode() and not Event.objects.exists()
