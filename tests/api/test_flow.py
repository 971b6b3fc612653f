"""A morning at the hall through the API: every audience doing its part."""

from __future__ import annotations

import datetime as dt
from typing import Any

from center.auth.roles import Role
from center.engine.context import PersonInput
from tests.api.conftest import Api
from tests.center.conftest import SHANGHAI

ID1 = "11010519491231002X"


def test_kiosk_staff_evaluator_display_and_supervisor(api: Api) -> None:
    http = api.http
    kiosk = api.device("k-any", Role.KIOSK)
    evaluator = api.device("eval-1", Role.EVALUATOR, 1)
    board = api.device("board", Role.DISPLAY)
    staff = api.login("1001", 1)
    supervisor = api.login("8001")

    status = http.get("/api/v1/status", headers=kiosk).json()
    tax = next(s for s in status["services"] if s["code"] == "tax")
    assert (tax["waiting"], tax["open_windows"]) == (0, 1)

    person = {"id_number": ID1, "name": "张小三", "phone": "13812345678"}
    a1 = http.post(
        "/api/v1/kiosk/tickets", json={"service": "tax", "person": person}, headers=kiosk
    )
    assert a1.status_code == 201 and a1.json()["number"] == "A001"
    assert ID1 not in a1.text and "张小三" not in a1.text
    a2 = http.post("/api/v1/kiosk/tickets", json={"service": "tax"}, headers=kiosk).json()
    assert (a2["ahead"], a2["wait_seconds"]) == (1, 600.0)

    called = http.post("/api/v1/staff/call-next", headers=staff).json()["called"]
    assert (called["number"], called["window"]) == ("A001", 1)
    assert http.post("/api/v1/staff/recall", headers=staff).json()["recalls"] == 1
    calls = http.get("/api/v1/display/calls", headers=board).json()
    assert calls[0] == {
        "window": 1,
        "window_name": "1号窗口",
        "status": "open",
        "number": "A001",
        "called_at": "2026-11-23T01:00:00Z",
        "pause_reason": None,
    }
    recent = http.get("/api/v1/display/recent?limit=5", headers=board).json()
    assert [(c["number"], c["kind"]) for c in recent] == [("A001", "recall"), ("A001", "call")]

    case = http.post(
        "/api/v1/staff/cases", json={"kind": "promised", "materials": ["申请书"]}, headers=staff
    )
    assert case.status_code == 201 and case.json()["status"] == "accepted"
    assert http.post("/api/v1/staff/finish", headers=staff).json()["ticket_id"] == 1
    rated = http.post("/api/v1/windows/1/rating", json={"level": 5}, headers=evaluator).json()
    assert (rated["ticket_id"], rated["label"]) == (1, "非常满意")

    assert http.post("/api/v1/staff/call-next", headers=staff).json()["called"]["number"] == "A002"
    assert http.post("/api/v1/staff/skip", headers=staff).json() == {"number": "A002"}
    assert http.post("/api/v1/staff/pause", json={"reason": "取材料"}, headers=staff).json()
    windows = http.get("/api/v1/display/windows", headers=board).json()
    assert (windows[0]["status"], windows[0]["pause_reason"]) == ("paused", "取材料")
    assert http.post("/api/v1/staff/resume", headers=staff).status_code == 200
    r = http.post("/api/v1/staff/call-number", json={"number": "a002"}, headers=staff)
    assert r.status_code == 200 and r.json()["number"] == "A002"
    r = http.post("/api/v1/staff/transfer", json={"to_window": 2}, headers=staff)
    assert r.status_code == 200

    page = http.get("/api/v1/supervisor/tickets?limit=1", headers=supervisor).json()
    assert page["items"][0]["person"] == "张*三" and page["next_after"] == 1
    page = http.get("/api/v1/supervisor/tickets?after=1", headers=supervisor).json()
    assert [(t["number"], t["lane"]) for t in page["items"]] == [("A002", "direct")]
    assert page["next_after"] is None
    cases = http.get("/api/v1/supervisor/cases", headers=supervisor).json()["items"]
    assert cases[0]["person"] == "张*三" and cases[0]["kind"] == "promised"
    evals = http.get("/api/v1/supervisor/evaluations?level=5", headers=supervisor).json()
    assert [e["number"] for e in evals["items"]] == ["A001"]
    log = http.get("/api/v1/supervisor/events?kind=ticket.called", headers=supervisor).json()
    assert [e["data"]["number"] for e in log["items"]] == ["A001", "A002", "A002"]
    hall = http.get("/api/v1/supervisor/hall", headers=supervisor).json()
    assert hall["windows"][0]["staff"] == "1001"
    assert ID1 not in http.get("/api/v1/supervisor/events", headers=supervisor).text


def test_a_keypad_drives_its_window(api: Api) -> None:
    api.center.posts.login(2, "1003")
    for _ in range(2):
        api.center.tickets.issue("tax")
    keys = api.device("keys-2", Role.KEYPAD, 2)

    def press(key: str, **extra: str) -> dict[str, object]:
        r = api.http.post("/api/v1/windows/2/keys", json={"key": key, **extra}, headers=keys)
        assert r.status_code == 200, r.text
        return dict(r.json())

    assert press("next")["called"]["number"] == "A001"  # type: ignore[index]
    assert press("recall")["called"]["recalls"] == 1  # type: ignore[index]
    assert press("skip")["number"] == "A001"
    assert press("call", number="A001")["called"]["number"] == "A001"  # type: ignore[index]
    press("evaluate")
    press("finish")
    press("pause")
    assert api.center.status.hall().windows[1].pause_reason == "临时离岗"
    press("resume")
    r = api.http.post("/api/v1/windows/2/keys", json={"key": "call"}, headers=keys)
    assert r.status_code == 422 and "the call key needs a number" in r.json()["message"]


def test_device_faults_reach_supervisors(api: Api) -> None:
    kiosk = api.device("k-any", Role.KIOSK)
    supervisor = api.login("8001")
    assert api.http.post("/api/v1/devices/heartbeat", headers=kiosk).json() == {"ok": True}
    r = api.http.post(
        "/api/v1/devices/fault",
        json={"code": "printer.paper_out", "message": "缺纸", "detail": {"tray": 1}},
        headers=kiosk,
    )
    assert r.status_code == 201
    devices = api.http.get("/api/v1/supervisor/devices", headers=supervisor).json()
    assert [(d["name"], d["state"]) for d in devices] == [("k-any", "fault")]
    api.http.post("/api/v1/devices/recovery", json={"code": "printer.paper_out"}, headers=kiosk)
    devices = api.http.get("/api/v1/supervisor/devices", headers=supervisor).json()
    assert devices[0]["state"] == "ok" and devices[0]["last_seen_at"] is not None
    log = api.http.get("/api/v1/supervisor/events", headers=supervisor).json()["items"]
    assert [e["kind"] for e in log if e["kind"].startswith("device.")] == [
        "device.fault",
        "device.recovered",
    ]


def test_a_device_reported_silent_is_a_device_offline_event(api: Api) -> None:
    display = api.device("d-hall", Role.DISPLAY)
    body = {"code": "bus.device_offline", "message": "strip 3 offline"}
    assert api.http.post("/api/v1/devices/fault", json=body, headers=display).status_code == 201
    kinds = [e.kind for e in api.center.store.events_after(0) if e.kind.startswith("device.")]
    assert kinds == ["device.offline"]


def test_kiosk_refusals_carry_chinese_text(api: Api) -> None:
    kiosk = api.device("k-tax", Role.KIOSK)
    r = api.http.post("/api/v1/kiosk/tickets", json={"service": "estate"}, headers=kiosk)
    assert r.status_code == 403 and r.json()["zh"] == "本机不办理此业务"
    any_kiosk = api.device("k-any", Role.KIOSK)
    r = api.http.post("/api/v1/kiosk/tickets", json={"service": "hukou"}, headers=any_kiosk)
    assert r.status_code == 409 and r.json()["zh"] == "办理此业务需刷身份证"
    r = api.http.post(
        "/api/v1/kiosk/tickets", json={"service": "tax", "priority_class": "urgent"}, headers=kiosk
    )
    assert r.status_code == 403
    r = api.http.post("/api/v1/kiosk/check-in", json={"code": "nosuchcode"}, headers=kiosk)
    assert r.status_code == 404 and "不是本中心的预约码" in r.json()["zh"]  # not signed
    api.clock.advance(4 * 3600)  # 13:00: lunch break
    r = api.http.post("/api/v1/kiosk/tickets", json={"service": "tax"}, headers=kiosk)
    assert r.status_code == 409 and r.json()["error"] == "outside_hours"


def test_kiosk_checks_in_an_appointment_by_its_signed_code(api: Api) -> None:
    """POST /api/v1/kiosk/check-in with the code the center signed: 201 with the ticket and
    its rating link; a reused code 409; a code with its signature altered 404."""
    kiosk = api.device("k-any", Role.KIOSK)
    start = dt.datetime(2026, 11, 23, 9, 30, tzinfo=SHANGHAI)
    code = api.center.tickets.book("estate", start, start + dt.timedelta(minutes=30)).code
    assert code.startswith("hallq1.") and len(code) > 40
    r = api.http.post("/api/v1/kiosk/check-in", json={"code": code}, headers=kiosk)
    assert r.status_code == 201, r.text
    assert r.json()["lane"] == "appointment" and r.json()["rating_path"].startswith("/rate/#t=")
    r = api.http.post("/api/v1/kiosk/check-in", json={"code": code}, headers=kiosk)
    assert r.status_code == 409 and r.json()["zh"] == "该预约已签到或已取消"
    altered = code[:-10] + ("A" if code[-10] != "A" else "B") + code[-9:]
    r = api.http.post("/api/v1/kiosk/check-in", json={"code": altered}, headers=kiosk)
    assert r.status_code == 404 and "校验失败" in r.json()["zh"]
    r = api.http.post("/api/v1/kiosk/check-in", json={"code": "hallq1.x y.z"}, headers=kiosk)
    assert r.status_code == 422


def test_kiosk_checks_in_an_appointment_by_id_number(api: Api) -> None:
    """POST /api/v1/kiosk/check-in/person: the ID number only in the body; the same reply as
    the QR check-in; 404 without an appointment today, 409 the second time, 422 for a bad
    body; an idempotent retry gets the first reply."""
    kiosk = api.device("k-any", Role.KIOSK)
    url = "/api/v1/kiosk/check-in/person"
    r = api.http.post(url, json={"person": {"id_number": ID1}}, headers=kiosk)
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    assert "未找到您今天的预约" in r.json()["zh"] and ID1 not in r.text
    start = dt.datetime(2026, 11, 23, 9, 30, tzinfo=SHANGHAI)
    api.center.tickets.book("estate", start, start + dt.timedelta(minutes=30), PersonInput(ID1))
    key = {"Idempotency-Key": "check-in-person-0001"}
    body = {"person": {"id_number": ID1, "name": "张小三"}}
    r = api.http.post(url, json=body, headers={**kiosk, **key})
    assert r.status_code == 201, r.text
    ticket = r.json()
    assert ticket["number"] == "C001" and ticket["service"] == "estate"
    assert set(ticket) == set(api.app.openapi()["components"]["schemas"]["TicketOut"]["properties"])
    assert ID1 not in r.text and "张小三" not in r.text
    again = api.http.post(url, json=body, headers={**kiosk, **key})
    assert again.json() == ticket and again.headers.get("Idempotent-Replayed") == "true"
    r = api.http.post(url, json=body, headers=kiosk)
    assert r.status_code == 409 and r.json()["error"] == "invalid_state"
    assert r.json()["zh"] == "您今天的预约已签到"
    bad_bodies: list[dict[str, Any]] = [
        {"id_number": ID1},  # not wrapped in "person"
        {"person": {"id_number": ID1}, "extra": 1},
        {"person": {}},
    ]
    for bad in bad_bodies:
        r = api.http.post(url, json=bad, headers=kiosk)
        assert r.status_code == 422, bad
