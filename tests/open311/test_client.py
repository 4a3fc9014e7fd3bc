"""A GeoReport v2 client written by someone else — the ``georeport`` package from PyPI — lists
the services and reads back what was posted, in JSON and in XML, over real HTTP.

The server is a real WSGI server on a local port; it answers in the test's own thread (so it
sees the test's transaction on both databases) while the client runs in a second thread.
The POST goes out with ``requests`` as the spec's example does (form-encoded, with
``attribute[code]`` fields), because ``georeport`` itself only reads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

georeport = pytest.importorskip("georeport")
requests = pytest.importorskip("requests")

pytestmark = pytest.mark.django_db


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def served():
    """``served(fn)`` → fn(base_url)'s result, fn running in a thread against the server."""
    # as Django's own test client does: a request must not close the test's connection
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    server: WSGIServer = make_server("127.0.0.1", 0, WSGIHandler(), handler_class=_Quiet)
    server.timeout = 0.05
    base = f"http://127.0.0.1:{server.server_port}"

    def run(fn: Callable[[str], object]):
        box: dict = {}

        def client() -> None:
            try:
                box["value"] = fn(base)
            except BaseException as exc:  # handed back to the test's thread
                box["error"] = exc

        t = threading.Thread(target=client, daemon=True)
        t.start()
        while t.is_alive():
            server.handle_request()
        if "error" in box:
            raise box["error"]
        return box["value"]

    try:
        yield run
    finally:
        server.server_close()
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_a_third_party_client_lists_services_and_reads_back_a_post(
    served, api_key, attributes, grid_point
):
    lon, lat = grid_point()

    def session(base: str) -> dict:
        out: dict = {}
        for fmt in ("json", "xml"):
            c = georeport.GeoReport(f"{base}/open311/v2", jurisdiction="440300", output_format=fmt)
            out[f"services.{fmt}"] = c.get_service_list()
            out[f"definition.{fmt}"] = c.get_service_definition("9801")
        posted = requests.post(
            f"{base}/open311/v2/requests.json",
            data={
                "api_key": api_key,
                "jurisdiction_id": "440300",
                "service_code": "9801",
                "lat": lat,
                "long": lon,
                "address_string": "宝民一路 1 号门口",
                "description": "门口堆了一车建筑垃圾\n已经三天了",
                "first_name": "三",
                "last_name": "张",
                "phone": "13812345678",
                "attribute[SIZE]": "L",
                "attribute[KIND][]": ["BUILD", "HOME"],
            },
            timeout=30,
        )
        out["posted"] = posted
        number = posted.json()[0]["service_request_id"]
        out["number"] = number
        for fmt in ("json", "xml"):
            c = georeport.GeoReport(f"{base}/open311/v2", jurisdiction="440300", output_format=fmt)
            out[f"one.{fmt}"] = c.get_service_request(number)
            out[f"list.{fmt}"] = c.get_service_requests(service_request_id=number)
            out[f"by_code.{fmt}"] = c.get_service_requests(service_code="9801", status="open")
        return out

    out = served(session)
    assert out["posted"].status_code == 200
    assert out["posted"].headers["Content-Type"] == "application/json; charset=utf-8"
    number = out["number"]

    json_codes = [s["service_code"] for s in out["services.json"]]
    xml_codes = [s["service_code"] for s in out["services.xml"]]
    assert json_codes == xml_codes == ["9801", "9802", "9803", "9901", "9902"]
    assert out["services.json"][0]["service_name"] == out["services.xml"][0]["service_name"]
    assert out["services.xml"][0]["metadata"] == "true"

    assert [a["code"] for a in out["definition.json"]["attributes"]] == ["SIZE", "KIND", "NOTE"]
    xml_attrs = out["definition.xml"]["attributes"]["attribute"]
    assert [a["code"] for a in xml_attrs] == ["SIZE", "KIND", "NOTE"]
    assert [v["key"] for v in xml_attrs[0]["values"]["value"]] == ["S", "L"]

    one_json, one_xml = out["one.json"], out["one.xml"]
    assert one_json["service_request_id"] == one_xml["service_request_id"] == number
    assert one_json["description"] == one_xml["description"] == "门口堆了一车建筑垃圾\n已经三天了"
    assert one_json["address"] == one_xml["address"] == "宝民一路 1 号门口"
    assert one_json["service_code"] == one_xml["service_code"] == "9801"
    assert one_json["status"] == one_xml["status"] == "open"
    assert float(one_xml["lat"]) == one_json["lat"] and float(one_xml["long"]) == one_json["long"]
    assert one_json["requested_datetime"] == one_xml["requested_datetime"]
    assert [r["service_request_id"] for r in out["list.json"]] == [number]
    # xmltodict gives a single request as a mapping, several as a list
    assert out["list.xml"]["service_request_id"] == number
    assert number in [r["service_request_id"] for r in out["by_code.json"]]
    for text in (str(out[k]) for k in out if k.startswith(("one", "list", "by_code"))):
        assert "13812345678" not in text and "张三" not in text
