"""The pages in real headless Chromium against a running center (the county example hall).

Staff console: log in with 工号 + PIN at window 5 and work only with the function keys; the
queue updates live when a kiosk issues a ticket. QR rating page on a phone: rate once, the
second rating is refused. Supervisor view: queues, windows, figures, and a new 差评 alert as
soon as a bad rating is posted. Screenshots go to var/artifacts/web/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from center.auth.roles import Role
from tests.web.conftest import WebCenter, desk_context, phone_context, shot

pytestmark = pytest.mark.slow


@pytest.fixture
def desk(browser: Any, web: WebCenter) -> Iterator[Page]:
    ctx = desk_context(browser, web)
    page = ctx.new_page()
    errors = watch_errors(page)
    yield page
    ctx.close()
    assert errors == [], "uncaught errors in the page"


def watch_errors(*pages: Page) -> list[str]:
    """Uncaught exceptions of the pages' scripts, collected as they happen."""
    errors: list[str] = []
    for page in pages:
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def toast(page: Page, text: str | re.Pattern[str]) -> None:
    expect(page.locator("#toast")).to_contain_text(text)


def test_staff_console_works_from_the_keyboard_and_live(desk: Page, web: WebCenter) -> None:
    first, second = web.issue("biz_setup"), web.issue("biz_setup")
    page = desk
    page.goto("/staff/")
    page.fill("#login-window", "5")
    page.fill("#login-staff", "1051")
    page.fill("#login-pin", "1051")
    page.keyboard.press("Enter")
    expect(page.locator("#title")).to_have_text("5号窗口 · 企业开办")
    expect(page.locator("#who")).to_contain_text("陆佳怡 工号1051")
    expect(page.locator("#live")).to_have_text("实时")
    expect(page.locator("#queue-count")).to_have_text("2人")
    shot(page, "staff-login-queue")

    # A ticket issued at a kiosk appears at once (WebSocket, not the 5-second poll).
    third = web.issue("biz_change")
    expect(page.locator("#queue-count")).to_have_text("3人", timeout=3000)
    expect(page.locator("#queue")).to_contain_text(third["number"])

    web.clock.advance(12 * 60)
    page.keyboard.press("F1")  # call next
    expect(page.locator("#current-number")).to_have_text(first["number"])
    expect(page.locator("#state")).to_have_text("办理中")
    page.keyboard.press("F2")  # recall
    toast(page, f"已重呼 {first['number']}号")
    expect(page.locator("#current")).to_contain_text("重呼 1 次")

    page.keyboard.press("F6")  # transfer: to window 6, keyboard only
    expect(page.locator("#transfer-dialog")).to_be_visible()
    page.keyboard.press("Tab")
    page.keyboard.type("6")  # a closed <select> takes the option starting with what is typed
    expect(page.locator("#transfer-window")).to_have_value("6")
    page.keyboard.press("Enter")
    toast(page, f"{first['number']}号 已转到 6号窗口")
    expect(page.locator("#current")).to_contain_text("空闲")

    page.keyboard.press("F1")
    expect(page.locator("#current-number")).to_have_text(second["number"])
    page.keyboard.press("F8")  # invite a rating while serving; the evaluator answers
    expect(page.locator("#rating-label")).to_have_text("等待评价…")
    evaluator = web.device("eval-5", Role.EVALUATOR, 5)
    web.call("POST", "/api/v1/windows/5/rating", evaluator, json={"level": 4})
    expect(page.locator("#rating-label")).to_have_text("满意")

    page.keyboard.press("F9")  # register a case: 承诺件, deadline on working days
    expect(page.locator("#case-dialog")).to_be_visible()
    expect(page.locator("#case-kind")).to_have_value("promised")
    expect(page.locator("#case-days")).to_have_value("3")
    # Mon 2026-11-23 + 3 working days (the acceptance day does not count) = Thu 11-26.
    expect(page.locator("#case-due")).to_have_text("2026年11月26日")
    expect(page.locator("#case-notices")).to_have_text("受理通知书")
    page.keyboard.press("Tab")
    page.keyboard.type("变更登记（住所）")
    shot(page, "staff-case-dialog")
    page.keyboard.press("Control+Enter")
    toast(page, re.compile(r"已登记办件 \d{14}，办结期限 2026年11月26日"))
    expect(page.locator("#current-case")).to_contain_text("承诺件 · 办结期限 2026年11月26日")
    expect(page.locator("#current-case")).to_contain_text("已出具：受理通知书")
    shot(page, "staff-serving")

    web.clock.advance(9 * 60)
    page.keyboard.press("F4")  # finish
    toast(page, f"{second['number']}号 已办结")
    expect(page.locator("#recent")).to_contain_text(second["number"])
    expect(page.locator("#recent")).to_contain_text("满意")

    page.keyboard.press("F5")  # pause with a reason
    expect(page.locator("#pause-dialog")).to_be_visible()
    page.keyboard.type("参加业务培训")
    page.keyboard.press("Enter")
    expect(page.locator("#state")).to_have_text("暂停：参加业务培训")
    page.keyboard.press("F1")
    toast(page, "窗口暂停中，请先恢复服务")
    shot(page, "staff-paused")
    page.keyboard.press("F5")  # resume
    expect(page.locator("#state")).to_have_text("在岗")

    page.keyboard.press("F7")  # call a number
    page.keyboard.type(third["number"].lower())
    page.keyboard.press("Enter")
    expect(page.locator("#current-number")).to_have_text(third["number"])
    page.keyboard.press("F3")  # skip (过号)
    toast(page, f"{third['number']}号 已过号")
    expect(page.locator("#recent")).to_contain_text("过号")

    figures = page.locator("#figures")
    expect(figures).to_contain_text("办件量")
    expect(figures.locator(".figure .value").first).to_have_text("1")
    shot(page, "staff-console")

    page.keyboard.press("F10")
    expect(page.locator("#login-view")).to_be_visible()
    assert web.center.status.hall().windows[4].status == "closed"


def _finished_visit(web: WebCenter, window: int, staff: str, service: str) -> dict[str, Any]:
    """A ticket issued, called and finished at ``window`` through the API (not rated)."""
    ticket = web.issue(service)
    headers = web.login(staff, window)
    called = web.call("POST", "/api/v1/staff/call-next", headers)["called"]
    assert called["number"] == ticket["number"]
    web.clock.advance(5 * 60)
    web.call("POST", "/api/v1/staff/finish", headers)
    web.call("POST", "/api/v1/staff/logout", headers)
    return ticket


def test_qr_rating_page_rates_once_on_a_phone(browser: Any, web: WebCenter) -> None:
    ticket = _finished_visit(web, 8, "1081", "invest_agent")
    link = web.rating_link(ticket["id"])
    token = link.split("=", 1)[1]
    assert link.startswith("/rate/#t=") and len(token) >= 40 and token != str(ticket["id"])
    # Sealed with a fresh nonce each time: nothing in the link is derived from the ticket id.
    assert web.rating_link(ticket["id"]) != link

    ctx = phone_context(browser, web)
    try:
        first, second = ctx.new_page(), ctx.new_page()
        errors = watch_errors(first, second)
        for page in (first, second):
            page.goto(link)
            expect(page.locator("#visit")).to_contain_text(ticket["number"])
            expect(page.locator("#visit")).to_contain_text("招商引资项目全程代办")
            expect(page.locator("#visit")).to_contain_text("招商项目代办")
            expect(page.locator("#rate-form")).to_be_visible()
        # The token left the address bar (and never reached the server in a URL).
        assert "#t=" not in first.url
        shot(first, "rate-form")

        first.get_by_role("radio", name=re.compile("^非常不满意")).tap()
        expect(first.locator("#comment-hint")).to_be_visible()
        first.fill("#comment", "等候时间太长，窗口解释不清楚")
        shot(first, "rate-chosen")
        first.get_by_role("button", name="提交评价").tap()
        expect(first.locator("#message")).to_contain_text("您的评价：非常不满意")
        shot(first, "rate-thanks")

        # The second page was opened before the rating: its submission is refused (一次一评).
        second.get_by_role("radio", name=re.compile("^满意")).tap()
        second.get_by_role("button", name="提交评价").tap()
        expect(second.locator("#message")).to_have_text("本次办事已评价，每次办事只评价一次")
        expect(second.locator("#rate-form")).to_be_hidden()
        shot(second, "rate-refused")

        # Opening the link again says it was rated, and offers no form.
        third = ctx.new_page()
        third.goto(link)
        expect(third.locator("#message")).to_contain_text("本次办事已评价（非常不满意）")
        expect(third.locator("#rate-form")).to_be_hidden()
        assert errors == []
    finally:
        ctx.close()
    rows = web.call("GET", "/api/v1/supervisor/evaluations?level=1", web.login("8002"))["items"]
    assert [(r["number"], r["channel"]) for r in rows] == [(ticket["number"], "qr")]


def test_qr_page_follows_the_ticket_until_it_can_be_rated(browser: Any, web: WebCenter) -> None:
    """The link in the kiosk's ticket reply: waiting, then called to the window, then the
    rating form once finished."""
    ticket = web.issue("invest_agent")
    assert ticket["rating_path"].startswith("/rate/#t=")
    ctx = phone_context(browser, web)
    try:
        page = ctx.new_page()
        errors = watch_errors(page)
        page.goto(ticket["rating_path"])
        expect(page.locator("#message")).to_contain_text("下一位就是您")
        expect(page.locator("#visit")).to_contain_text("当前状态：排队等候")
        expect(page.locator("#rate-form")).to_be_hidden()
        shot(page, "rate-waiting")
        headers = web.login("1081", 8)
        called = web.call("POST", "/api/v1/staff/call-next", headers)["called"]
        assert called["number"] == ticket["number"]
        page.reload()  # the token stayed in this tab's sessionStorage
        expect(page.locator("#message")).to_contain_text("请到")
        expect(page.locator("#visit")).to_contain_text("当前状态：已叫号")
        expect(page.locator("#rate-form")).to_be_hidden()
        shot(page, "rate-called")
        web.clock.advance(5 * 60)
        web.call("POST", "/api/v1/staff/finish", headers)
        web.call("POST", "/api/v1/staff/logout", headers)
        page.reload()
        expect(page.locator("#visit")).to_contain_text("当前状态：已办结")
        expect(page.locator("#rate-form")).to_be_visible()
        assert errors == []
    finally:
        ctx.close()


def test_qr_rating_page_refuses_a_forged_link(browser: Any, web: WebCenter) -> None:
    ctx = phone_context(browser, web)
    try:
        page = ctx.new_page()
        page.goto("/rate/#t=" + "A" * 55)
        expect(page.locator("#message")).to_contain_text("评价链接无效或已过期")
        expect(page.locator("#rate-form")).to_be_hidden()
    finally:
        ctx.close()


def test_supervisor_sees_queues_windows_figures_and_a_new_bad_rating(
    desk: Page, web: WebCenter
) -> None:
    for service in ("tax_general", "tax_general", "tax_invoice"):
        web.issue(service)
    web.login("1081", 8)  # window 8 open and idle
    page = desk
    page.goto("/supervisor/")
    page.fill("#login-staff", "8001")
    page.fill("#login-pin", "8001")
    page.keyboard.press("Enter")
    expect(page.locator("#title")).to_have_text("云溪县政务服务中心 · 实时监控")
    expect(page.locator("#live")).to_have_text("实时")
    expect(page.locator("#queues tr[data-service='tax_general'] td").nth(1)).to_have_text("2")
    expect(page.locator(".window-card[data-window='8']")).to_contain_text("在岗")
    expect(page.locator(".window-card[data-window='8']")).to_contain_text("1081")
    # 09:00 + the earlier tests' minutes: more than 10 minutes into the morning session, so
    # windows with an A post nobody opened are 空岗.
    expect(page.locator("#alerts li[data-key='absent:1']")).to_contain_text("空岗")
    expect(page.locator("#alerts li[data-kind='bad_rating']")).to_have_count(
        _bad_ratings_today(web)
    )
    before = page.locator("#alerts li[data-kind='bad_rating']").count()

    # A bad rating given at window 6's evaluator shows up at once as a new alert.
    ticket = web.issue("proj_plan")
    headers = web.login("1061", 6)
    web.call("POST", "/api/v1/staff/call-number", headers, json={"number": ticket["number"]})
    web.call("POST", "/api/v1/staff/finish", headers)
    evaluator = web.device("eval-6", Role.EVALUATOR, 6)
    web.call("POST", "/api/v1/windows/6/rating", evaluator, json={"level": 2})
    alerts = page.locator("#alerts li[data-kind='bad_rating']")
    expect(alerts).to_have_count(before + 1, timeout=3000)
    fresh = page.locator("#alerts li.new[data-kind='bad_rating']")
    expect(fresh).to_contain_text(
        f"新差评：6号窗口 工程建设项目审批 {ticket['number']}号「不满意」"
    )

    # Today's figures, per window / staff member / service.
    expect(page.locator("#figures tr[data-key='6'] td").nth(1)).to_have_text(
        re.compile(r"[1-9]"), timeout=5000
    )
    page.keyboard.press("Alt+2")
    expect(page.locator("#group-head")).to_have_text("人员")
    expect(page.locator("#figures tr[data-key='1061']")).to_contain_text("熊文静")
    page.keyboard.press("Alt+1")
    shot(page, "supervisor")


def _bad_ratings_today(web: WebCenter) -> int:
    rows = web.call("GET", "/api/v1/supervisor/evaluations?limit=200", web.login("8002"))
    return sum(1 for r in rows["items"] if r["level"] is not None and r["level"] <= 2)
