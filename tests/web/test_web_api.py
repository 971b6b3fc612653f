"""The endpoints behind the pages: staff console reads, QR rating links, the supervisor's live
hall and figures, and the static pages themselves."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest

from center.api.app import openapi_document
from center.auth.roles import Role
from center.web.routes import STATIC
from tests.web.conftest import Api

PERSON = {"id_number": "11010519491231002X", "name": "张小三"}


def ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def issue(api: Api, kiosk: dict[str, str], service: str, **body: Any) -> dict[str, Any]:
    r = api.http.post("/api/v1/kiosk/tickets", json={"service": service, **body}, headers=kiosk)
    return dict(ok(r, 201))


@pytest.fixture
def kiosk(api: Api) -> dict[str, str]:
    return api.device("k-main", Role.KIOSK)


@pytest.fixture
def supervisor(api: Api) -> dict[str, str]:
    return api.login("8001")


# --- staff console ------------------------------------------------------------------------


def test_the_console_shows_window_queue_serving_case_rating_and_figures(
    api: Api, kiosk: dict[str, str]
) -> None:
    a1, a2 = issue(api, kiosk, "tax"), issue(api, kiosk, "tax")
    b1 = issue(api, kiosk, "hukou", person=PERSON)
    staff = api.login("1001", 1)
    c = ok(api.http.get("/api/v1/staff/console", headers=staff))
    assert c["window"] == {
        "number": 1,
        "name": "1号窗口",
        "status": "open",
        "since": "2026-11-23T01:00:00Z",
        "pause_reason": None,
        "staff": "1001",
        "staff_name": "员工1",
        "covering_for": None,
    }
    assert [s["code"] for s in c["services"]] == ["tax", "hukou"]
    assert [q["number"] for q in c["queue"]] == [a1["number"], a2["number"], b1["number"]]
    assert c["queue_total"] == 3 and c["current"] is None and c["last_rating"] is None
    assert {w["number"] for w in c["transfer_windows"]} == {2, 3}

    api.clock.advance(600)
    ok(api.http.post("/api/v1/staff/call-number", json={"number": b1["number"]}, headers=staff))
    api.clock.advance(120)
    c = ok(api.http.get("/api/v1/staff/console", headers=staff))
    cur = c["current"]
    assert (cur["number"], cur["service_name"], cur["person"]) == ("B001", "户籍", "张*三")
    assert (cur["waited_seconds"], cur["serving_seconds"]) == (600.0, 120.0)
    assert "11010519491231002X" not in str(c) and "张小三" not in str(c)

    ok(api.http.post("/api/v1/staff/cases", json={"kind": "immediate"}, headers=staff), 201)
    ok(api.http.post("/api/v1/staff/finish", headers=staff))
    c = ok(api.http.get("/api/v1/staff/console", headers=staff))
    assert c["current"] is None
    assert [(r["number"], r["outcome"]) for r in c["recent"]] == [("B001", "done")]
    assert c["last_rating"]["status"] == "invited" and c["last_rating"]["number"] == "B001"
    fig = c["figures"]["window"]
    assert (fig["served"], fig["cases"], fig["immediate_rate"]) == (1, 1, 1.0)
    assert fig["mean_wait_seconds"] == 600.0 and fig["mean_handling_seconds"] == 120.0
    assert c["figures"]["staff"] == fig
    evaluator = api.device("eval-1", Role.EVALUATOR, 1)
    ok(api.http.post("/api/v1/windows/1/rating", json={"level": 5}, headers=evaluator))
    c = ok(api.http.get("/api/v1/staff/console", headers=staff))
    assert (c["last_rating"]["label"], c["recent"][0]["label"]) == ("非常满意", "非常满意")
    assert c["figures"]["window"]["good_rate"] == 1.0


def test_a_ticket_transferred_to_a_window_heads_its_queue(api: Api, kiosk: dict[str, str]) -> None:
    issue(api, kiosk, "hukou", person=PERSON)
    a1 = issue(api, kiosk, "tax")
    one = api.login("1001", 1)
    ok(api.http.post("/api/v1/staff/call-number", json={"number": a1["number"]}, headers=one))
    ok(api.http.post("/api/v1/staff/transfer", json={"to_window": 2}, headers=one))
    two = api.login("1003", 2)
    queue = ok(api.http.get("/api/v1/staff/console", headers=two))["queue"]
    assert [(q["number"], q["lane"]) for q in queue] == [("A001", "direct"), ("B001", "regular")]


def test_the_console_needs_a_window(api: Api, supervisor: dict[str, str]) -> None:
    r = api.http.get("/api/v1/staff/console", headers=supervisor)
    assert r.status_code == 409 and r.json()["zh"] == "请先在窗口登录"
    kiosk = api.device("k-x", Role.KIOSK)
    assert api.http.get("/api/v1/staff/console", headers=kiosk).status_code == 403
    assert api.http.get("/api/v1/staff/console").status_code == 401


def test_the_case_preview_gives_deadline_and_notices(api: Api, kiosk: dict[str, str]) -> None:
    staff = api.login("1001", 1)

    def preview(**query: Any) -> Any:
        return api.http.get("/api/v1/staff/case-preview", params=query, headers=staff)

    r = preview(kind="promised")
    assert r.status_code == 409 and r.json()["zh"] == "当前没有正在办理的号，无法登记办件"
    issue(api, kiosk, "tax")
    ok(api.http.post("/api/v1/staff/call-next", headers=staff))
    p = ok(preview(kind="promised"))
    # tax promises 5 working days: Monday 2026-11-23 → Monday 2026-11-30.
    assert (p["due"], p["working_days"], p["notices"]) == ("2026-11-30", 5, ["受理通知书"])
    assert not p["needs_reason"] and not p["needs_documents"] and not p["due_provisional"]
    assert ok(preview(kind="promised", working_days=10))["due"] == "2026-12-07"
    assert ok(preview(kind="promised", pending_documents="true"))["needs_documents"]
    p = ok(preview(kind="immediate"))
    assert (p["due"], p["working_days"], p["kind_name"]) == ("2026-11-23", 0, "即办件")
    p = ok(preview(kind="returned"))
    assert (p["due"], p["notices"], p["needs_reason"]) == (None, ["退回通知书"], True)
    p = ok(preview(kind="awaiting_documents"))
    assert (p["due"], p["notices"], p["needs_documents"]) == (None, ["补正材料通知书"], True)
    assert preview(kind="nonsense").status_code == 404
    assert preview(kind="promised", working_days=999).status_code == 422


def test_the_notices_of_a_case_registered_at_the_window(api: Api, kiosk: dict[str, str]) -> None:
    issue(api, kiosk, "tax")
    staff = api.login("1001", 1)
    ok(api.http.post("/api/v1/staff/call-next", headers=staff))
    case = ok(
        api.http.post(
            "/api/v1/staff/cases",
            json={"kind": "promised", "item": "税务登记", "materials": ["营业执照"]},
            headers=staff,
        ),
        201,
    )
    notices = ok(api.http.get(f"/api/v1/staff/cases/{case['case_no']}/notices", headers=staff))
    assert [(n["kind"], n["title"]) for n in notices] == [("acceptance", "受理通知书")]
    content = notices[0]["content"]
    assert (content["due"], content["item"], content["materials"]) == (
        "2026-11-30",
        "税务登记",
        ["营业执照"],
    )
    other = api.login("1003", 2)
    r = api.http.get(f"/api/v1/staff/cases/{case['case_no']}/notices", headers=other)
    assert r.status_code == 404
    assert api.http.get("/api/v1/staff/cases/abc/notices", headers=staff).status_code == 422


# --- QR ratings ---------------------------------------------------------------------------


def _finish(api: Api, ticket: dict[str, Any]) -> None:
    staff = api.login("1001", 1)
    ok(api.http.post("/api/v1/staff/call-number", json={"number": ticket["number"]}, headers=staff))
    ok(api.http.post("/api/v1/staff/finish", headers=staff))


def test_a_visit_is_rated_once_by_its_link(
    api: Api, kiosk: dict[str, str], supervisor: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ticket = issue(api, kiosk, "tax")
    link = ok(api.http.post(f"/api/v1/kiosk/tickets/{ticket['id']}/rating-link", headers=kiosk))
    token = link["token"]
    assert link["path"] == f"/rate/#t={token}" and link["valid_until"] == "2026-11-30"

    visit = ok(api.http.post("/api/v1/rate/visit", json={"token": token}))
    assert visit == {
        "hall": "测试政务服务中心",
        "number": "A001",
        "service_name": "税务",
        "window_name": None,
        "hall_day": "2026-11-23",
        "status": "waiting",
        "ahead": 0,
        "window": None,
        "finished": False,
        "rated": False,
        "label": None,
    }
    r = api.http.post("/api/v1/rate", json={"token": token, "level": 5})
    assert r.status_code == 404 and r.json()["zh"] == "该号尚未办结，暂不能评价"

    _finish(api, ticket)
    visit = ok(api.http.post("/api/v1/rate/visit", json={"token": token}))
    assert (visit["finished"], visit["window_name"]) == (True, "1号窗口")
    out = ok(
        api.http.post("/api/v1/rate", json={"token": token, "level": 1, "comment": "太慢\n态度差"})
    )
    assert out["label"] == "非常不满意" and "整改" in out["message"]
    r = api.http.post("/api/v1/rate", json={"token": token, "level": 5})
    assert r.status_code == 409 and r.json()["zh"] == "本次办事已评价，每次办事只评价一次"
    evaluator = api.device("eval-1", Role.EVALUATOR, 1)
    assert (
        api.http.post("/api/v1/windows/1/rating", json={"level": 5}, headers=evaluator).status_code
        == 409
    )
    assert ok(api.http.post("/api/v1/rate/visit", json={"token": token}))["label"] == "非常不满意"

    rows = ok(api.http.get("/api/v1/supervisor/evaluations", headers=supervisor))["items"]
    assert [(r["level"], r["channel"]) for r in rows] == [(1, "qr")]
    alerts = ok(api.http.get("/api/v1/supervisor/alerts", headers=supervisor))
    bad = [a for a in alerts if a["kind"] == "bad_rating"]
    assert len(bad) == 1 and "太慢" in bad[0]["detail"]
    assert token not in caplog.text


def test_the_link_in_the_ticket_reply_follows_the_ticket_to_its_rating(
    api: Api, kiosk: dict[str, str]
) -> None:
    """GIVEN the rating path in the kiosk's ticket reply WHEN the ticket waits, is called to a
    window, then finished THEN its page reports waiting with the people ahead, called to
    window 1, done; and nothing personal at any point."""
    first = issue(api, kiosk, "tax", person=PERSON)
    ticket = issue(api, kiosk, "tax", person=PERSON)
    assert ticket["rating_path"].startswith("/rate/#t=")
    token = ticket["rating_path"].removeprefix("/rate/#t=")

    def visit() -> dict[str, Any]:
        return dict(ok(api.http.post("/api/v1/rate/visit", json={"token": token})))

    seen = visit()
    assert (seen["number"], seen["status"], seen["ahead"], seen["window"]) == (
        "A002", "waiting", 1, None
    )  # fmt: skip
    assert not seen["finished"] and not seen["rated"]
    staff = api.login("1001", 1)
    ok(api.http.post("/api/v1/staff/call-number", json={"number": first["number"]}, headers=staff))
    ok(api.http.post("/api/v1/staff/finish", headers=staff))
    assert (visit()["status"], visit()["ahead"]) == ("waiting", 0)
    ok(api.http.post("/api/v1/staff/call-number", json={"number": "A002"}, headers=staff))
    seen = visit()
    assert (seen["status"], seen["ahead"], seen["window"], seen["window_name"]) == (
        "called", None, 1, "1号窗口"
    )  # fmt: skip
    assert not seen["finished"]
    ok(api.http.post("/api/v1/staff/finish", headers=staff))
    seen = visit()
    assert (seen["status"], seen["window"], seen["finished"], seen["rated"]) == (
        "done", 1, True, False
    )  # fmt: skip
    text = str(seen)
    assert PERSON["name"] not in text and PERSON["id_number"] not in text and "张" not in text
    ok(api.http.post("/api/v1/rate", json={"token": token, "level": 4}))
    assert visit()["rated"] and visit()["label"] == "满意"


def test_rating_links_are_minted_only_for_the_kiosks_own_tickets_of_today(
    api: Api, kiosk: dict[str, str]
) -> None:
    ticket = issue(api, kiosk, "tax")
    other = api.device("k-other", Role.KIOSK)
    r = api.http.post(f"/api/v1/kiosk/tickets/{ticket['id']}/rating-link", headers=other)
    assert r.status_code == 403
    assert api.http.post("/api/v1/kiosk/tickets/999/rating-link", headers=kiosk).status_code == 404
    staff = api.login("1001", 1)
    r = api.http.post(f"/api/v1/kiosk/tickets/{ticket['id']}/rating-link", headers=staff)
    assert r.status_code == 403


def test_forged_malformed_and_expired_links_are_refused(api: Api, kiosk: dict[str, str]) -> None:
    ticket = issue(api, kiosk, "tax")
    token = ok(api.http.post(f"/api/v1/kiosk/tickets/{ticket['id']}/rating-link", headers=kiosk))[
        "token"
    ]
    _finish(api, ticket)
    forged = ("B" if token[5] != "B" else "C").join((token[:5], token[6:]))
    for bad in (forged, "A" * 55):
        r = api.http.post("/api/v1/rate", json={"token": bad, "level": 5})
        assert r.status_code == 404
        assert r.json()["zh"] == "评价链接无效或已过期，请扫描办事凭条上的二维码"
    for body in (
        {"token": "x"},
        {"token": token, "level": 6},
        {"token": token, "level": "5"},
        {"token": token, "level": 5, "comment": "c" * 501},
        {"token": token, "level": 5, "extra": 1},
    ):
        assert api.http.post("/api/v1/rate", json=body).status_code == 422
    api.clock.advance(8 * 86400)
    r = api.http.post("/api/v1/rate/visit", json={"token": token})
    assert r.status_code == 404 and "过期" in r.json()["zh"]


# --- supervisor ---------------------------------------------------------------------------


def test_the_live_hall_and_its_alerts(
    api: Api, kiosk: dict[str, str], supervisor: dict[str, str]
) -> None:
    for _ in range(3):
        issue(api, kiosk, "tax")
    staff = api.login("1001", 1)
    api.clock.advance(40 * 60)
    ok(api.http.post("/api/v1/staff/call-next", headers=staff))
    ov = ok(api.http.get("/api/v1/supervisor/overview", headers=supervisor))
    assert ov["hall"] == "测试政务服务中心"
    assert ov["thresholds"] == {
        "wait_minutes": 30,
        "pause_minutes": 15,
        "absent_grace_minutes": 10,
        "device_silent_minutes": 5,
        "deadline_working_days": 1,
    }
    one = ov["windows"][0]
    assert (one["status"], one["staff_name"], one["current"]) == ("open", "员工1", "A001")
    assert [w["number"] for w in ov["longest"]] == ["A002", "A003"]
    assert ov["longest"][0]["waited_seconds"] == 2400.0
    assert ov["waits"] == [{"code": "tax", "longest_wait_seconds": 2400.0, "over_threshold": 2}]
    keys = {a["key"]: a["severity"] for a in ov["alerts"]}
    assert keys == {"wait:tax": "warning", "absent:2": "critical", "absent:3": "critical"}
    assert ok(api.http.get("/api/v1/supervisor/alerts", headers=supervisor)) == ov["alerts"]
    assert api.http.get("/api/v1/supervisor/overview", headers=staff).status_code == 403


def test_alerts_read_from_the_database(api: Api, kiosk: dict[str, str]) -> None:
    def alerts() -> dict[str, str]:
        supervisor = api.login("8001")  # afresh: sessions last 12 hours
        found = ok(api.http.get("/api/v1/supervisor/alerts", headers=supervisor))
        return {a["key"]: a["severity"] for a in found}

    issue(api, kiosk, "tax")
    one, two, three = api.login("1001", 1), api.login("1003", 2), api.login("1005", 3)
    ok(api.http.post("/api/v1/staff/call-next", headers=one))
    case = ok(api.http.post("/api/v1/staff/cases", json={"kind": "promised"}, headers=one), 201)
    ok(api.http.post("/api/v1/staff/finish", headers=one))
    ok(api.http.post("/api/v1/staff/pause", json={"reason": "会议"}, headers=two))
    ok(api.http.post("/api/v1/staff/logout", headers=three))
    printer = api.device("k-print", Role.KIOSK)
    ok(
        api.http.post("/api/v1/devices/fault", json={"code": "printer.paper_out"}, headers=printer),
        201,
    )
    api.clock.advance(20 * 60)
    assert alerts() == {
        "pause:2": "warning",
        "absent:3": "critical",
        "device:k-print": "critical",
    }
    # Lunch (12:00-13:30 in the small hall): nobody is absent then.
    api.clock.advance((12 * 60 + 40 - 9 * 60 - 20) * 60)
    assert "absent:3" not in alerts() and alerts()["pause:2"] == "critical"
    ok(
        api.http.post(
            "/api/v1/devices/recovery", json={"code": "printer.paper_out"}, headers=printer
        ),
        201,
    )
    ok(api.http.post("/api/v1/staff/resume", headers=two))
    assert alerts() == {}
    # The case promised for Monday 11-30: near on Friday 11-27, overdue on Tuesday 12-01.
    api.clock.advance(4 * 86400)
    assert alerts() == {f"deadline:{case['case_no']}": "warning"}
    api.clock.advance(4 * 86400)
    assert alerts() == {f"overdue:{case['case_no']}": "critical"}


def test_figures_per_window_staff_and_service(
    api: Api, kiosk: dict[str, str], supervisor: dict[str, str]
) -> None:
    issue(api, kiosk, "tax")
    issue(api, kiosk, "tax")
    staff = api.login("1001", 1)
    api.clock.advance(300)
    ok(api.http.post("/api/v1/staff/call-next", headers=staff))
    ok(api.http.post("/api/v1/staff/cases", json={"kind": "immediate"}, headers=staff), 201)
    api.clock.advance(600)
    ok(api.http.post("/api/v1/staff/finish", headers=staff))
    ok(api.http.post("/api/v1/staff/call-next", headers=staff))
    ok(api.http.post("/api/v1/staff/skip", headers=staff))
    api.clock.advance(120)
    ok(api.http.post("/api/v1/staff/call-next", headers=staff))  # nobody left
    f = ok(api.http.get("/api/v1/supervisor/figures", headers=supervisor))
    assert f["hall_day"] == "2026-11-23"
    assert (f["totals"]["tickets_issued"], f["totals"]["tickets_served"]) == (2, 1)
    w1 = f["windows"][0]
    assert (w1["key"], w1["served"], w1["no_show"], w1["cases"], w1["immediate_rate"]) == (
        "1",
        1,
        1,
        1,
        1.0,
    )
    # Waits: 300 s and 900 s (the second ticket was called after the first was finished).
    assert (w1["mean_wait_seconds"], w1["mean_handling_seconds"]) == (600.0, 600.0)
    assert (w1["invitations"], w1["not_rated_rate"]) == (1, 0.0)
    assert [g["key"] for g in f["staff"]] == ["1001"] and f["staff"][0]["name"] == "员工1"
    tax = next(g for g in f["services"] if g["key"] == "tax")
    assert (tax["served"], tax["no_show"], tax["mean_handling_seconds"]) == (1, 1, 600.0)
    api.clock.advance(120)  # the invitation expires: 未评价
    api.center.ratings.expire_invitations()
    f = ok(api.http.get("/api/v1/supervisor/figures", headers=supervisor))
    assert f["windows"][0]["not_rated_rate"] == 1.0 and f["totals"]["not_rated"] == 1
    assert (
        ok(api.http.get("/api/v1/supervisor/figures?day=2026-11-20", headers=supervisor))["totals"][
            "tickets_issued"
        ]
        == 0
    )
    r = api.http.get("/api/v1/supervisor/figures?day=1999-12-31", headers=supervisor)
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "query.day"


# --- pages --------------------------------------------------------------------------------


def test_pages_are_served_with_a_strict_policy(site: Api) -> None:
    api = site
    for path in ("/staff/", "/supervisor/", "/rate/"):
        r = api.http.get(path)
        assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert '<html lang="zh-CN">' in r.text
    r = api.http.get("/staff", follow_redirects=False)
    assert r.status_code == 308 and r.headers["location"] == "/staff/"
    assert api.http.get("/web/api.js").headers["content-type"] == "text/javascript; charset=utf-8"
    assert api.http.get("/web/base.css").headers["content-type"] == "text/css; charset=utf-8"
    for bad in (
        "/staff/nothing.js",
        "/staff/%2e%2e%2fapp.py",
        "/web/..%2Fweb%2Froutes.py",
        "/staff/.hidden.js",
        "/rate/index.HTML",
    ):
        assert api.http.get(bad).status_code == 404, bad
    assert not any(
        p.startswith(("/staff/{", "/web", "/rate/{")) for p in openapi_document()["paths"]
    )


_REFERENCE = re.compile(r"""(?:src|href)="(/[^"]+)"|from "(/[^"]+)"|import "(/[^"]+)\"""")


def test_every_file_a_page_refers_to_is_served(site: Api) -> None:
    api = site
    files = [p for p in STATIC.rglob("*") if p.suffix in (".html", ".js", ".css")]
    assert len(files) >= 12
    seen = set()
    for path in files:
        for match in _REFERENCE.finditer(path.read_text(encoding="utf-8")):
            url = next(g for g in match.groups() if g)
            seen.add(url)
            assert api.http.get(url).status_code == 200, f"{path.name}: {url}"
    assert {"/web/api.js", "/web/live.js", "/web/format.js", "/staff/staff.js"} <= seen


def _code(path: Path) -> str:
    """A script without its comment lines."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if not line.strip().startswith("//"))


def test_scripts_never_turn_data_into_markup() -> None:
    risky = ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "Function(")
    for path in STATIC.rglob("*.js"):
        code = _code(path)
        for name in risky:
            assert name not in code, f"{path.name} uses {name}"


def test_tokens_stay_out_of_urls_and_persistent_storage() -> None:
    for path in STATIC.rglob("*.js"):
        code = _code(path)
        assert not re.search(r"[?&](token|t)=", code), path.name
        # Only the window number is remembered across browser restarts.
        assert set(re.findall(r"localStorage\.setItem\(\"([^\"]+)\"", code)) <= {"hallq.window"}
    api_js = _code(STATIC / "common" / "api.js")
    assert api_js.count("headers.Authorization = `Bearer ${session.token}`") == 1
