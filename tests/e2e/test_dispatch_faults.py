"""
test_dispatch_faults: reminders against a misbehaving relay (tests/e2e/smtp_fault.py;
README.md flow step 4 "Launch" and "Promises"; docs/ARCHITECTURE.md "Data flow of
a launch").

(a) 4xx twice (at RCPT or at the final dot), then accepted: `muster launch` exits
    with the reminder deferred (backoff of seconds), a `muster serve` delivers it
    later; the outbox row ends sent after 3 attempts.
(b) 5xx (at RCPT or at the final dot) is permanent: failed, the relay's reply kept
    in outbox.last_reply, counted in `stats --json`, never tried again.
(c) the connection dropped after the message, before the reply: temporary, retried
    by a second launch after the backoff; delivered once, or (when the relay had
    queued it) twice with the same Message-ID.
(d) a final reply that takes 3 s is waited for: one copy, one attempt; final replies
    of 1 s are awaited in parallel (MUSTER_SEND_CONCURRENCY), not one at a time.
(e) 421 to everything: the launch pauses and says so with the relay's reply; a
    serve pauses, logs the reply, and still stops promptly on SIGTERM.
(f) envelope safety: an address with CR/LF is refused on the pledge form and on
    import, and one already in the database injects no SMTP command.
(g) a sender still working through a batch when its lease runs out: no second copy.
(h) a 5xx to MAIL FROM (credentials, sender address) does not fail every reminder
    for good: once the relay is fixed they go.
(i) a relay that takes 3 messages per connection, or closes idle connections:
    nothing lost, nothing repeated.
(j) a relay whose replies echo the recipient's address: the server's log never
    shows it, and `muster supporter erase` leaves it nowhere in the store.
"""
import datetime
import json
import signal
import subprocess
import time

import pytest

from conftest import MUSTER_BIN, make_campaign, sanitizer_lines, wait_until
from smtp_fault import (FaultRelay, FaultServer, accept, at_data, at_mail, at_rcpt,
                        drop_after_data, slow_reply)


def import_supporters(m, addrs):
    path = m.dir / "supporters.csv"
    path.write_text("email,name,consent,timezone\n" +
                    "".join(f"{a},Supporter {i},yes,Europe/Berlin\n" for i, a in enumerate(addrs)),
                    encoding="utf-8")
    code, out, err = m.cli("import", m.slug, path.name)
    assert code == 0, out + err


def reminder_row(m, addr):
    """The outbox row of the supporter's reminder (store-inspect: no command shows
    attempts, the next attempt's time or the relay's stored reply)."""
    rows = m.inspect("outbox", "--kind", "reminder", "--email", addr)
    assert len(rows) == 1, rows
    row = rows[0]
    return {"state": row["state"], "attempts": row["attempts"], "next_at": row["next_at"],
            "last_reply": row["last_reply"] or "", "sent_at": row["sent_at"]}


# Each test runs against three clients: muster's own with a relay that announces
# PIPELINING (the usual case), muster's own waiting for each reply (a relay without
# it), and libcurl (MUSTER_SMTP_CLIENT=curl, the client for smtps:// and logins).
@pytest.fixture(params=["pipelining", "plain", "curl"])
def relay(request):
    r = FaultRelay(pipelining=request.param == "pipelining")
    r.client = request.param
    with FaultServer(r) as srv:
        r.url = srv.url
        yield r


@pytest.fixture
def setup(make_muster, relay):
    """A database with the campaign and the given supporters imported; serve not started."""
    def make(addrs, env=None):
        base = {"MUSTER_SMTP": relay.url}
        if relay.client == "curl":
            base["MUSTER_SMTP_CLIENT"] = "curl"
        m = make_muster(env=dict(base, **(env or {})), start=False)
        if addrs:
            import_supporters(m, addrs)
        return m
    return make


def launch(m, timeout=60):
    t0 = time.monotonic()
    code, out, err = m.cli("launch", m.slug, timeout=timeout)
    return code, out, err, time.monotonic() - t0


# ----------------------------------------------------------------------------- (a)


@pytest.mark.parametrize("stage", ["rcpt", "data"])
def test_temporary_failures_are_deferred_by_launch_and_delivered_by_serve(setup, relay, stage):
    flaky, steady = "flaky@example.org", "steady@example.org"
    reply = f"451 4.3.0 muster-test: greylisted at {stage}, try again"
    refuse = at_rcpt(reply) if stage == "rcpt" else at_data(reply)
    relay.plan(flaky, refuse, refuse, accept())
    m = setup([flaky, steady])

    code, out, err, secs = launch(m)
    assert code == 0, out + err
    assert secs < 10, f"launch waited {secs:.1f}s for a deferred retry instead of exiting"
    assert len(relay.delivered("reminder", steady)) == 1
    assert relay.delivered("reminder", flaky) == []
    [first] = relay.attempts_for(flaky)
    row = reminder_row(m, flaky)
    assert row["state"] == "pending" and row["attempts"] == 1, row
    assert "greylisted" in row["last_reply"], row
    # next_at is whole seconds from the sending round's clock, read before the
    # attempt: the first backoff of 2 to 3 s (sender_backoff_seconds) can land
    # less than a second after the attempt itself (0.9992 s was seen on a busy
    # machine). In the future, and not by much, is what holds.
    wait = row["next_at"] - first.at
    assert 0 < wait <= 10, f"first retry scheduled {wait:.1f}s after the failed attempt"
    stats = m.stats()["reminders"]
    assert (stats["sent"], stats["pending"], stats["failed"]) == (1, 1, 0), stats
    assert "retry" in out.lower() or "deferred" in out.lower(), out

    m.start()
    relay.wait(lambda: relay.delivered("reminder", flaky), timeout=40,
               what="the deferred reminder")
    attempts = relay.attempts_for(flaky)
    assert len(attempts) == 3, attempts
    gaps = [b.at - a.at for a, b in zip(attempts, attempts[1:])]
    assert wait <= gaps[0] <= 10, f"first retry after {gaps[0]:.1f}s: {gaps}"
    assert gaps[1] <= 20, f"second retry after {gaps[1]:.1f}s: {gaps}"
    time.sleep(1.5)
    assert len(relay.delivered("reminder", flaky)) == 1
    row = reminder_row(m, flaky)
    assert row["state"] == "sent" and row["attempts"] >= 3, row
    stats = m.stats()["reminders"]
    assert (stats["sent"], stats["pending"], stats["failed"]) == (2, 0, 0), stats


# ----------------------------------------------------------------------------- (b)


@pytest.mark.parametrize("stage", ["rcpt", "data"])
def test_permanent_failure_is_recorded_with_the_relay_reply_and_not_retried(setup, relay, stage):
    bounce, ok = "bounce@example.org", "ok@example.org"
    text = f"mailbox policy refuses this reminder (muster-test {stage} 7f3a)"
    reply = f"550 5.7.1 {text}"
    relay.plan(bounce, at_rcpt(reply) if stage == "rcpt" else at_data(reply))
    m = setup([bounce, ok])

    code, out, err, _ = launch(m)
    assert code == 0, out + err
    assert len(relay.delivered("reminder", ok)) == 1
    assert len(relay.attempts_for(bounce)) == 1
    row = reminder_row(m, bounce)
    assert row["state"] == "failed", row
    assert text in row["last_reply"], row
    stats = m.stats()["reminders"]
    assert (stats["sent"], stats["failed"], stats["pending"]) == (1, 1, 0), stats

    # neither a second launch nor a serve tries it again
    code, out, err, _ = launch(m)
    assert code == 0, out + err
    m.start()
    time.sleep(3)
    assert len(relay.attempts_for(bounce)) == 1, relay.attempts_for(bounce)
    assert reminder_row(m, bounce)["state"] == "failed"


# ----------------------------------------------------------------------------- (c)


@pytest.mark.parametrize("kept", [False, True], ids=["not-queued", "queued-then-dropped"])
def test_connection_dropped_after_data_is_retried_with_the_same_message_id(setup, relay, kept):
    addr = "dropped@example.org"
    relay.plan(addr, drop_after_data(kept=kept), accept())
    m = setup([addr, "other@example.org"])

    code, out, err, _ = launch(m)
    assert code == 0, out + err
    row = reminder_row(m, addr)
    assert row["state"] == "pending", f"a dropped connection is temporary: {row}"
    assert row["last_reply"], "the reason of the temporary failure is recorded"
    # a second launch once the retry is due
    deadline = time.monotonic() + 15
    while time.time() < row["next_at"] + 0.2 and time.monotonic() < deadline:
        time.sleep(0.2)
    code, out, err, _ = launch(m)
    assert code == 0, out + err
    copies = relay.delivered("reminder", addr)
    assert len(copies) == (2 if kept else 1), copies
    assert len({c.message_id for c in copies}) == 1, [c.message_id for c in copies]
    row = reminder_row(m, addr)
    assert row["state"] == "sent" and row["attempts"] == 2, row
    assert len(relay.delivered("reminder", "other@example.org")) == 1


# ----------------------------------------------------------------------------- (d)


def test_slow_final_reply_is_waited_for_and_not_sent_twice(setup, relay):
    addr = "slowrelay@example.org"
    relay.plan(addr, slow_reply(3.0))
    m = setup([addr])
    code, out, err, secs = launch(m)
    assert code == 0, out + err
    assert secs >= 3
    row = reminder_row(m, addr)
    assert row["state"] == "sent" and row["attempts"] == 1, row
    m.start()
    time.sleep(2)
    assert len(relay.delivered("reminder", addr)) == 1
    assert len(relay.attempts_for(addr)) == 1, relay.attempts_for(addr)


def test_slow_final_replies_are_awaited_in_parallel(setup, relay, request):
    """MUSTER_SEND_CONCURRENCY (default 20) is the number of SMTP transfers in flight
    (README). A relay that takes 1 s to answer the final dot (queueing, content scanning)
    must then cost about 1 s per 20 reminders, not 1 s per reminder."""
    if relay.client == "curl":
        request.applymarker(pytest.mark.xfail(
            strict=True, reason="libcurl 7.88 waits for each final 250 inside smtp_done, "
            "blocking the whole multi handle (curl/curl#8555); the reason plain smtp:// "
            "uses muster's own client"))
    relay.default = slow_reply(1.0)
    addrs = [f"par{i}@example.org" for i in range(20)]
    m = setup(addrs)
    code, out, err, secs = launch(m, timeout=120)
    assert code == 0, out + err
    assert len(relay.delivered("reminder")) == len(addrs)
    at = sorted(d.at for d in relay.delivered("reminder"))
    assert secs < 8, (f"20 reminders with a 1 s final reply took {secs:.1f}s at concurrency "
                      f"20: the final replies were awaited one after another (arrivals at "
                      f"{[round(t - at[0], 1) for t in at]} s)")


# ----------------------------------------------------------------------------- (e)


def test_relay_refusing_everything_makes_the_launch_pause_and_say_why(setup, relay):
    text = "muster-test relay: too busy, slow down (e91)"
    relay.default = at_mail(f"421 4.7.0 {text}")
    addrs = [f"busy{i}@example.org" for i in range(60)]
    m = setup(addrs)
    err_path = m.dir / "launch-paused.stderr"
    with open(err_path, "wb") as errf:
        p = subprocess.Popen([MUSTER_BIN, "launch", m.slug], cwd=m.dir, env=m.env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errf)
    try:
        deadline = time.monotonic() + 25
        stderr = ""
        while time.monotonic() < deadline and p.poll() is None:
            stderr = err_path.read_text(errors="replace")
            if "paused" in stderr.lower() and text in stderr:
                break
            time.sleep(0.1)
        exited = p.poll()
        stderr = err_path.read_text(errors="replace")
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
        p.wait(timeout=10)
        p.stdout.close()
    assert exited is None, f"launch exited ({exited}) instead of pausing:\n{stderr}"
    assert "paused" in stderr.lower(), stderr
    assert text in stderr, f"the pause message does not carry the relay's reply:\n{stderr}"
    assert not sanitizer_lines(stderr), stderr
    assert relay.delivered() == []
    assert len(relay.attempts) >= 50
    stats = m.stats()["reminders"]
    assert stats["failed"] == 0 and stats["pending"] == len(addrs), stats


def test_serve_pauses_on_a_refusing_relay_says_why_and_still_stops_on_sigterm(make_muster,
                                                                             relay):
    text = "muster-test relay: too busy, slow down (serve e92)"
    relay.default = at_mail(f"421 4.7.0 {text}")
    at = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + \
        datetime.timedelta(seconds=3)
    campaign = make_campaign({"launch": {"at": at.strftime("%Y-%m-%dT%H:%M:%S"),
                                         "timezone": "UTC"}})
    env = {"MUSTER_SMTP": relay.url}
    if relay.client == "curl":
        env["MUSTER_SMTP_CLIENT"] = "curl"
    m = make_muster(campaign=campaign, env=env, start=False)
    import_supporters(m, [f"busy{i}@example.org" for i in range(60)])
    m.start()
    deadline = time.monotonic() + 25
    while "sender.paused" not in m.server_stderr() and time.monotonic() < deadline:
        time.sleep(0.1)
    log = m.server_stderr()
    paused = [line for line in log.splitlines() if "sender.paused" in line]
    assert paused, f"serve did not say it paused:\n{log[-3000:]}"
    assert text in paused[0], paused
    code, secs = m.stop(timeout=6)
    assert code == 0 and secs < 5, \
        f"serve took {secs:.1f}s to stop on SIGTERM while its sender was paused (exit {code})"


# ----------------------------------------------------------------------------- (f)


CRLF_ADDRESSES = [
    "ada@example.org\r\nRCPT TO:<evil@evil.example>",
    "ada@example.org\nRCPT TO:<evil@evil.example>",
    "ada@example.org\rRCPT TO:<evil@evil.example>",
    "<ada@example.org>\r\nDATA",
]


def test_address_with_cr_or_lf_cannot_be_pledged_or_imported(setup, relay):
    m = setup([])
    m.start()
    for addr in CRLF_ADDRESSES:
        r = m.pledge(addr, name="Ada")
        assert 400 <= r.status < 500, (addr, r)
        assert "email" in r.json()["errors"], (addr, r)
    path = m.dir / "crlf.csv"
    path.write_bytes(b"email,name,consent,timezone\r\n" +
                     b"".join(b'"' + a.encode() + b'",Ada,yes,UTC\r\n' for a in CRLF_ADDRESSES))
    # every row refused, each reported with its line (import exits 0 with the
    # refusals listed; --strict makes a refusal fail the whole file)
    code, out, err = m.cli("import", m.slug, path.name)
    assert code == 0, (code, out, err)
    assert err.count("crlf.csv:") == len(CRLF_ADDRESSES), err
    assert m.supporter_count() == 0
    code, out, err = m.cli("import", "--strict", m.slug, path.name)
    assert code == 2, (code, out, err)
    assert m.supporter_count() == 0
    time.sleep(1.5)
    assert relay.attempts == [] and relay.delivered() == []


def test_address_with_crlf_already_in_the_database_injects_no_smtp_command(setup, relay):
    m = setup(["ada@example.org", "bob@example.org"])
    bad = "ada@example.org\r\nRCPT TO:<evil@evil.example>"
    # as an older version or a hand edit might have left it
    assert m.inspect("set-email", "ada@example.org", bad) == {"changed": 1}
    code, out, err, _ = launch(m)
    assert code == 0, out + err
    assert not any("evil" in d.rcpt for d in relay.delivered()), relay.delivered()
    assert not any(a.rcpt and "evil" in a.rcpt for a in relay.attempts), relay.attempts
    assert len(relay.delivered("reminder", "bob@example.org")) == 1
    row = reminder_row(m, "ada@example.org")
    assert row["state"] == "failed", row
    assert m.stats()["reminders"]["failed"] == 1


# ----------------------------------------------------------------------------- (g)


def test_sender_still_sending_when_its_lease_expires_does_not_get_its_reminders_sent_twice(
        setup, relay):
    """A sender claims a whole batch (up to 256) with one 10-minute lease and never renews
    it. With a slow relay the batch outlives its lease while its sender is alive and still
    working through it: final replies are awaited one at a time (see the test below), so
    256 messages whose 250 takes 2.4 s each need more than 600 s at any concurrency. Here the 10 minutes are simulated by
    moving the lease of the claimed rows into the past (what the clock would have done);
    no process crashes, so no supporter may get a second copy."""
    relay.default = slow_reply(1.0)
    addrs = [f"lease{i}@example.org" for i in range(8)]
    m = setup(addrs, env={"MUSTER_SEND_CONCURRENCY": "1"})
    err_a = m.dir / "launch-a.stderr"
    with open(err_a, "wb") as errf:
        a = subprocess.Popen([MUSTER_BIN, "launch", m.slug], cwd=m.dir, env=m.env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errf)
    try:
        relay.wait(lambda: len(relay.delivered()) >= 1, timeout=20, what="launch A's first mail")
        assert a.poll() is None
        held = m.inspect("set-leases", int(time.time()) - 1)["changed"]
        assert held >= 5, f"launch A held only {held} claims"
        code, out, err, _ = launch(m, timeout=60)
        assert code == 0, out + err
        assert a.wait(timeout=30) == 0, err_a.read_text()
    finally:
        if a.poll() is None:
            a.kill()
            a.wait(timeout=10)
    copies = {}
    for d in relay.delivered("reminder"):
        copies.setdefault(d.rcpt, []).append(d.message_id)
    assert sorted(copies) == sorted(addrs)
    twice = {r: ids for r, ids in copies.items() if len(ids) > 1}
    # The one message A had on the wire when the test moved every lease into the
    # past may go twice: that cannot happen with a real clock, because a lease is
    # renewed just before its message starts and outlasts the longest transfer
    # (lease_budget_of in src/mail/outbox.c bounds the transport below it). Every other
    # row must be left to B (concurrency 1: at most one message in flight).
    assert len(twice) <= 1, (f"{len(twice)} of {len(addrs)} supporters got their reminder twice "
                             f"without any crash (launch A kept sending rows whose lease had "
                             f"passed to launch B): {sorted(twice)}")
    for ids in twice.values():
        assert len(set(ids)) == 1, ids


# ----------------------------------------------------------------------------- (h)


@pytest.mark.parametrize("reply", ["530 5.7.0 Authentication required",
                                   "550 5.7.1 <team@example.org>: sender address rejected"],
                         ids=["530-auth", "550-sender"])
def test_relay_refusing_the_sender_does_not_burn_every_reminder(setup, relay, reply):
    """A 5xx to MAIL FROM is about the sender (credentials, MUSTER_FROM), not about a
    supporter: once the organizer fixes the relay or the setting, the reminders must
    still go (README.md: permanent failures are recorded *per supporter*; every owed
    reminder arrives; transport_smtp.c: login and setting failures are temporary)."""
    relay.default = at_mail(reply)
    addrs = [f"owed{i}@example.org" for i in range(20)]
    m = setup(addrs)
    m.cli("launch", m.slug, timeout=60)
    states = m.stats()["reminders"]
    relay.default = accept()  # the organizer fixed it
    m.start()
    if m.stats()["reminders"]["pending"]:
        try:
            relay.wait(lambda: len(relay.delivered("reminder")) >= len(addrs), timeout=20,
                       what="the reminders after the relay was fixed")
        except TimeoutError:
            pass
    got = sorted(d.rcpt for d in relay.delivered("reminder"))
    assert got == sorted(addrs), (
        f"after the relay answered '{reply}' to MAIL FROM and was then fixed, "
        f"{len(set(got))} of {len(addrs)} supporters got their reminder; outbox states "
        f"after the first launch: {states}")


# ----------------------------------------------------------------------------- (i)


@pytest.mark.parametrize("how", ["3-per-connection", "idle-timeout"])
def test_relay_closing_connections_loses_and_repeats_nothing(setup, relay, how):
    """A relay that takes 3 messages per connection (421 to the next MAIL FROM, then
    closes) or closes idle connections: a pooled connection the relay closed costs at
    most a retry, never a lost or repeated reminder."""
    if how == "3-per-connection":
        relay.max_per_connection = 3
    else:
        relay.close_idle_after = 0.05
    addrs = [f"onepercx{i}@example.org" for i in range(100)]
    m = setup(addrs)
    code, out, err, _ = launch(m)
    assert code == 0, out + err
    m.start()
    try:
        relay.wait(lambda: len(relay.delivered("reminder")) >= len(addrs), timeout=30,
                   what="every reminder")
    except TimeoutError:
        pass
    time.sleep(1)
    got = [d.rcpt for d in relay.delivered("reminder")]
    assert sorted(set(got)) == sorted(addrs), f"{len(set(got))} of {len(addrs)} delivered"
    assert len(got) == len(addrs), f"{len(got) - len(set(got))} repeats without a crash"
    assert m.stats()["reminders"]["sent"] == len(addrs)
    print(f"\n{how}: launch said: {out.strip().splitlines()[-1]}")


# ----------------------------------------------------------------------------- (j)


def test_an_address_echoed_by_the_relay_is_never_logged_and_erase_leaves_no_trace(setup, relay):
    victim = "Victim.Person+day@example.org"
    echoed = victim.lower()
    relay.plan(victim, at_rcpt(f"451 4.2.0 <{victim}>: greylisted, try again"),
               at_rcpt(f"550 5.1.1 <{echoed}>: recipient rejected; see {echoed}"))
    m = setup([], env={"MUSTER_SEND_CONCURRENCY": "1"})
    m.start()
    r = m.pledge(victim, name="Victim")
    assert r.status == 202, r

    def confirm_rows():
        return m.inspect("outbox", "--kind", "confirm", "--email", victim)

    wait_until(lambda: [row for row in confirm_rows() if row["state"] == "failed"], 40,
               interval=0.2, what="the confirmation mail refused for good")
    [row] = confirm_rows()
    assert row["attempts"] == 2, row
    # kept for the organizer until the person is erased
    assert echoed in row["last_reply"], row

    def traces(text):
        return victim.lower() in text.lower()

    log = m.server_stderr()
    assert "event=mail.failed" in log, log[-3000:]
    assert "[address]" in log, log[-3000:]
    assert not traces(log), log[-3000:]

    code, out, err = m.cli("supporter", "erase", victim)
    assert code == 0, out + err
    assert "erased 1 pledge" in out, out
    assert not traces(out + err)
    everything = json.dumps([m.inspect("outbox"), m.inspect("webhook-events"),
                             m.inspect("supporter", victim), m.inspect("campaigns"),
                             m.inspect("count")])
    assert not traces(everything), everything
    assert "<[address]>: recipient rejected" in everything, everything
    assert m.supporter(victim) is None
    code, out, err = m.cli("export", m.slug, "supporters")
    assert code == 0 and not traces(out), out
    assert not traces(m.server_stderr()), m.server_stderr()[-3000:]
