"""``hallq demo``: a scripted hall day through the engine on the embedded SQLite database.

Citizens arrive at the kiosks through the day (more in the morning), some with a green-channel
class, some with an ID card or an appointment; staff log in at every window, call, recall, skip
no-shows, transfer, pause with a reason, hand over A→B at lunch, register cases and invite
ratings; after closing the windows serve everyone still waiting (延时服务). The summary printed
at the end is read back from the database, and also written as ``var/demo/summary.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import random
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from center.clock import ManualClock
from center.engine.center import Center
from center.engine.context import PersonInput
from center.engine.figures import DayFigures, day_figures
from center.engine.states import Channel
from center.errors import HallqError
from center.pii import load_key, new_key
from config import load
from config.schema import HallConfig, Service

log = logging.getLogger(__name__)

TICK = 30  # seconds of hall time per simulation step
LEVELS = [5, 4, 3, 2, 1]
LEVEL_WEIGHTS = [70, 18, 7, 3, 2]
KINDS = ["immediate", "promised", "joint", "referred", "awaiting_documents", "returned"]
KIND_WEIGHTS = [52, 33, 4, 4, 5, 2]
PAUSE_REASONS = ["取材料", "临时会商", "系统故障报修", "接听业务咨询电话"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英"


@dataclass
class Desk:
    """What the script knows of one window."""

    number: int
    ticket: str | None = None
    service: str = ""
    done_at: dt.datetime | None = None
    plan: str = "serve"  # serve | no_show | transfer
    recalled: bool = False
    resume_at: dt.datetime | None = None


def _demand(cfg: HallConfig) -> tuple[list[float], float]:
    """Arrival weight per service in proportion to the window time it gets, and the hall's
    total capacity in citizens per minute: a realistic day loads windows, not one queue."""
    share = {s.code: 0.0 for s in cfg.services}
    for w in cfg.windows:
        for code in w.services:
            share[code] += 1.0 / len(w.services)
    weights = [share[s.code] / s.expected_minutes for s in cfg.services]
    return weights, sum(weights)


def id_number(rng: random.Random) -> str:
    """A made-up resident ID number with a valid GB 11643 check digit."""
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 55))
    body = f"110105{birth:%Y%m%d}{rng.randrange(0, 999):03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    return body + check


class HallDay:
    """Runs one day of the hall against a Center with a manual clock."""

    def __init__(
        self, center: Center, cfg: HallConfig, clock: ManualClock, day: dt.date, seed: int
    ) -> None:
        self.c, self.cfg, self.clock, self.day = center, cfg, clock, day
        self.rng = random.Random(seed)
        self.tz = ZoneInfo(cfg.hall.timezone)
        self.desks = {w.number: Desk(w.number) for w in cfg.windows}
        self.weights, self.capacity = _demand(cfg)
        self.idle: set[int] = set()  # windows that found nobody to call since the last arrival
        self.handovers: dict[int, str] = {}
        self.appointments: list[tuple[dt.datetime, str]] = []
        self.refused = 0

    def at(self, t: dt.time) -> dt.datetime:
        """Hall-local time of the demo day."""
        return dt.datetime.combine(self.day, t, self.tz)

    def run(self) -> None:
        """The whole day, from opening to the last citizen served."""
        sessions = self.cfg.hours.sessions
        self.clock.set(self.at(sessions[0].start) - dt.timedelta(minutes=10))
        self._open_windows()
        self._book_appointments()
        last_ticket = dt.timedelta(minutes=self.cfg.hours.last_ticket_minutes)
        for i, s in enumerate(sessions):
            self.clock.set(max(self.clock.now(), self.at(s.start)))
            if i == 1:
                self._lunch_handovers()
            while self.clock.now() < self.at(s.end):
                if self.clock.now() < self.at(s.end) - last_ticket:
                    self._arrivals(peak=(i == 0))
                self._step()
        for _ in range(20_000):  # extended service: stay until everyone present is served
            if not self._step():
                break
        self.clock.advance(self.cfg.evaluation.invite_timeout_seconds + 1)
        self.c.ratings.expire_invitations()
        self._late_qr_ratings()

    def _open_windows(self) -> None:
        for w in self.cfg.windows:
            staff = w.posts.a if w.posts else self.cfg.staff[0].number
            self.c.posts.login(w.number, staff)

    def _lunch_handovers(self) -> None:
        """Some A posts are away in the afternoon: their B takes over once the window is free."""
        posted = [w for w in self.cfg.windows if w.posts and w.posts.b]
        chosen = [w for w in posted if self.rng.random() < 0.25] or posted[:1]
        self.handovers = {w.number: w.posts.b[0] for w in chosen if w.posts}

    def _book_appointments(self) -> None:
        bookable = [s for s in self.cfg.services if s.appointments]
        for k in range(min(12, 3 * len(bookable))):
            svc = bookable[k % len(bookable)]
            start = self.at(dt.time(9 + k % 3, 0)) if k % 2 else self.at(dt.time(14 + k % 3, 30))
            app = self.c.tickets.book(svc.code, start, start + dt.timedelta(minutes=30))
            arrive = start - dt.timedelta(minutes=self.rng.randrange(-25, 20))
            self.appointments.append((arrive, app.code))

    def _arrivals(self, peak: bool) -> None:
        now = self.clock.now()
        for when, code in [a for a in self.appointments if a[0] <= now]:
            self.appointments.remove((when, code))
            try:
                self.c.tickets.check_in(code, source_ref="K1")
                self.idle.clear()
            except HallqError:
                self.refused += 1
        rate = self.capacity * (
            0.9 if peak else 0.75
        )  # citizens per minute, below what windows serve
        for _ in range(self._poisson(rate * TICK / 60)):
            svc = self.rng.choices(self.cfg.services, self.weights)[0]
            self._take_ticket(svc)

    def _poisson(self, lam: float) -> int:
        n, p, limit = 0, 1.0, pow(2.718281828, -lam)
        while True:
            p *= self.rng.random()
            if p <= limit:
                return n
            n += 1

    def _take_ticket(self, svc: Service) -> None:
        person = None
        if svc.id_required or self.rng.random() < 0.1:
            name = self.rng.choice(SURNAMES) + "".join(
                self.rng.choices(GIVEN, k=self.rng.choice([1, 2]))
            )
            person = PersonInput(id_number(self.rng), name)
        prio = None
        if svc.green_channel and self.rng.random() < 0.08:
            prio = self.rng.choice([k for k, v in self.cfg.priority.classes.items() if v.kiosk])
        try:
            self.c.tickets.issue(
                svc.code,
                source_ref=self.rng.choice(["K1", "K2"]),
                priority_class=prio,
                person=person,
            )
        except HallqError:
            self.refused += 1

    def _step(self) -> bool:
        """One tick at every window; returns whether anything is still going on."""
        busy = False
        for desk in self.desks.values():
            busy |= self._desk_step(desk)
        self.clock.advance(TICK)
        return busy

    def _desk_step(self, desk: Desk) -> bool:
        now = self.clock.now()
        if desk.resume_at is not None:
            if now >= desk.resume_at:
                self.c.posts.resume(desk.number)
                desk.resume_at = None
            return True
        if desk.ticket is not None:
            if desk.done_at is not None and now >= desk.done_at:
                self._end_visit(desk)
            return True
        if desk.number in self.handovers:
            self.c.posts.handover(desk.number, self.handovers.pop(desk.number), "A岗下午外出办事")
        if self.rng.random() < 0.002:
            self.c.posts.pause(desk.number, self.rng.choice(PAUSE_REASONS))
            desk.resume_at = now + dt.timedelta(minutes=self.rng.randrange(5, 20))
            return True
        if desk.number in self.idle:
            return False
        called = self.c.calls.call_next(desk.number)
        if called is None:
            self.idle.add(desk.number)
            return False
        svc = self.cfg.services_by_code[called.service]
        minutes = max(1.0, self.rng.lognormvariate(0, 0.4) * svc.expected_minutes)
        roll = self.rng.random()
        desk.plan = "no_show" if roll < 0.04 else "transfer" if roll < 0.07 else "serve"
        desk.ticket, desk.service, desk.recalled = called.display, called.service, False
        desk.done_at = now + dt.timedelta(minutes=2 if desk.plan == "no_show" else minutes)
        return True

    def _end_visit(self, desk: Desk) -> None:
        number = desk.number
        if desk.plan == "no_show":
            if not desk.recalled:
                self.c.calls.recall(number)
                desk.recalled, desk.done_at = True, self.clock.now() + dt.timedelta(minutes=1)
                return
            self.c.calls.skip(number)
        elif desk.plan == "transfer":
            others = [s for s in self.cfg.services if s.code != desk.service]
            self.c.calls.transfer(number, to_service=self.rng.choice(others).code)
            self.idle.clear()
        else:
            self._register_case(number, self.cfg.services_by_code[desk.service])
            self.c.calls.finish(number)
            if self.rng.random() < 0.85:
                self.c.ratings.rate_at_window(number, self.rng.choices(LEVELS, LEVEL_WEIGHTS)[0])
        desk.ticket = desk.done_at = None

    def _register_case(self, number: int, svc: Service) -> None:
        if self.rng.random() > 0.7:
            return
        kind = self.rng.choices(KINDS, KIND_WEIGHTS)[0]
        try:
            if kind == "awaiting_documents":
                self.c.cases.register(
                    number, kind=kind, pending_documents=["申请表原件", "身份证复印件"]
                )
            elif kind == "returned":
                self.c.cases.register(number, kind=kind, reason="主要申请材料不齐全")
            elif kind == "immediate":
                info = self.c.cases.register(number, kind=kind, materials=["申请表"])
                self.c.cases.complete(info.case_no, "当场办结", f"window:{number}")
                self.c.cases.issue_result(info.case_no, f"window:{number}")
            else:
                days = None if svc.promised_days is not None else 5
                self.c.cases.register(number, kind=kind, working_days=days)
        except HallqError as exc:
            log.info("case not registered at window %s: %s", number, exc.message)

    def _late_qr_ratings(self) -> None:
        from sqlalchemy import select

        from center.db.tables import evaluations

        with self.c.store.read() as conn:
            ids = (
                conn.execute(
                    select(evaluations.c.ticket_id).where(evaluations.c.status == "not_rated")
                )
                .scalars()
                .all()
            )
        for ticket_id in ids:
            if self.rng.random() < 0.2:
                self.c.ratings.rate_ticket(
                    ticket_id, self.rng.choices(LEVELS, LEVEL_WEIGHTS)[0], channel=Channel.QR
                )


def format_summary(cfg: HallConfig, fig: DayFigures, refused: int) -> str:
    """The readable summary."""

    def mins(seconds: float | None) -> str:
        return "—" if seconds is None else f"{seconds / 60:.1f}"

    def pct(x: float | None) -> str:
        return "—" if x is None else f"{x * 100:.1f}%"

    names = {s.code: s.name for s in cfg.services}
    out = [f"{cfg.hall.name} — {fig.hall_day.isoformat()}", ""]
    out.append(
        f"tickets issued {fig.tickets_issued}, served {fig.tickets_served}, refused at the kiosk {refused}"
    )
    out.append(
        f"average wait {mins(fig.mean_wait_seconds)} min, average handling {mins(fig.mean_handling_seconds)} min"
    )
    out += [
        "",
        f"{'service':<22}{'issued':>7}{'served':>7}{'no-show':>8}{'transf.':>8}{'wait':>7}{'handle':>7}",
    ]
    for s in sorted(fig.services, key=lambda s: -s.issued):
        if s.issued or s.served:
            out.append(
                f"{names.get(s.code, s.code)[:10]:<{22 - _wide(names.get(s.code, s.code)[:10])}}"
                f"{s.issued:>7}{s.served:>7}{s.no_show:>8}{s.transferred_out:>8}"
                f"{mins(s.mean_wait_seconds):>7}{mins(s.mean_handling_seconds):>7}"
            )
    out += [
        "",
        "cases by kind: "
        + ", ".join(f"{cfg.case_kinds.get(k, k)} {n}" for k, n in fig.cases_by_kind.items()),
    ]
    out.append(f"immediate-case rate {pct(fig.immediate_case_rate)}")
    labels = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
    out.append(
        "ratings: "
        + ", ".join(f"{labels[k]} {n}" for k, n in fig.ratings_by_level.items())
        + f", 未评价 {fig.not_rated}"
    )
    out.append(
        f"good-rating rate {pct(fig.good_rating_rate)}, not-rated rate {pct(fig.not_rated_rate)}"
    )
    out.append(f"events logged {fig.events_logged}")
    return "\n".join(out)


def _wide(text: str) -> int:
    """Extra columns taken by wide (CJK) characters, for aligned tables."""
    return sum(1 for ch in text if ord(ch) > 0x2E80)


def main(argv: list[str] | None = None) -> int:
    """``hallq demo``."""
    parser = argparse.ArgumentParser(prog="hallq demo", description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config/examples/county.toml", help="hall TOML file")
    parser.add_argument("--out", default="var/demo", help="folder for the database and the summary")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--day", type=dt.date.fromisoformat, default=dt.date(2026, 11, 23), help="a working day"
    )
    opts = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    cfg = load(opts.config)
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    db = out / "hallq.db"
    for stale in (db, db.with_suffix(".db-wal"), db.with_suffix(".db-shm")):
        stale.unlink(missing_ok=True)
    key_file = out / "data.key"
    if not key_file.exists():
        key_file.write_text(new_key() + "\n", encoding="ascii")
        key_file.chmod(0o600)
    clock = ManualClock(dt.datetime.combine(opts.day, dt.time(6), ZoneInfo(cfg.hall.timezone)))
    center = Center.open(
        cfg, f"sqlite:///{db.resolve()}", clock=clock, data_key=load_key(key_file=key_file)
    )
    try:
        day = HallDay(center, cfg, clock, opts.day, opts.seed)
        day.run()
        with center.store.read() as conn:
            fig = day_figures(conn, opts.day, [s.code for s in cfg.services])
    finally:
        center.close()
    (out / "summary.json").write_text(
        json.dumps(fig.as_json(), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    print(format_summary(cfg, fig, day.refused))
    print(f"\ndatabase: {db}\nsummary:  {out / 'summary.json'}")
    return 0
