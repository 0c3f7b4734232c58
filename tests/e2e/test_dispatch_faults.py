"""
test_dispatch_faults: reminders against a misbehaving relay (tests/e2e/smtp_fault.py;
PRODUCT.md flow step 4 "Launch" and "Promises"; docs/ARCHITECTURE.md "Data flow of
a launch").

(a) 4xx twice (at RCPT or at the final dot), then accepted: `muster launch` exits
    with the reminder deferred (backoff of seconds), a `muster serve` delivers it
    later; the outbox row ends sent after 3 attempts.
(b) 5xx (at RCPT or at the final dot) is permanent: failed, the relay's reply kept
    in outbox.last_reply, counted in `stats --json`, never tried again.
(c) the connection dropped after the message, before the reply: temporary, retried
    by a second launch after the backoff; delivered once, or (when the relay had
    queued it) twice with the same Message-ID.
(d) a final reply that takes 3 s is waited for: one copy, one attempt.
(e) 421 to everything: the launch pauses and says so with the relay's reply.
(f) envelope safety: an address with CR/LF is refused on the pledge form and on
    import, and one already in the database injects no SMTP command.
"""
import email
import email.policy
import json
import signal
import subprocess
import time
import urllib.parse

import pytest

from conftest import MUSTER_BIN, sanitizer_lines
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
    conn_rows = m.query(
        "SELECT o.state, o.attempts, o.next_at, o.last_reply, o.sent_at FROM outbox o "
        "JOIN supporters s ON s.id = o.supporter_id WHERE s.email_norm = ? AND o.kind = 3",
        addr.lower())
    assert len(conn_rows) == 1, conn_rows
    state, attempts, next_at, last_reply, sent_at = conn_rows[0]
    return {"state": state, "attempts": attempts, "next_at": next_at,
            "last_reply": last_reply or "", "sent_at": sent_at}


@pytest.fixture
def relay():
    r = FaultRelay()
    with FaultServer(r) as srv:
        r.url = srv.url
        yield r


@pytest.fixture
def setup(make_muster, relay):
    """A database with the campaign and the given supporters imported; serve not started."""
    def make(addrs, env=None):
        m = make_muster(env=dict({"MUSTER_SMTP": relay.url}, **(env or {})), start=False)
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
    wait = row["next_at"] - first.at
    assert 1 <= wait <= 10, f"first retry scheduled {wait:.1f}s after the failed attempt"
    stats = m.stats()["reminders"]
    assert (stats["sent"], stats["pending"], stats["failed"]) == (1, 1, 0), stats
    assert "retry" in out.lower() or "deferred" in out.lower(), out

    m.start()
    relay.wait(lambda: relay.delivered("reminder", flaky), timeout=40,
               what="the deferred reminder")
    attempts = relay.attempts_for(flaky)
    assert len(attempts) == 3, attempts
    gaps = [b.at - a.at for a, b in zip(attempts, attempts[1:])]
    assert 1 <= gaps[0] <= 10, f"first retry after {gaps[0]:.1f}s: {gaps}"
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
    code, out, err = m.cli("import", m.slug, path.name)
    assert code == 2, (code, out, err)
    assert m.supporter_count() == 0
    time.sleep(1.5)
    assert relay.attempts == [] and relay.delivered() == []


def test_address_with_crlf_already_in_the_database_injects_no_smtp_command(setup, relay):
    m = setup(["ada@example.org", "bob@example.org"])
    bad = "ada@example.org\r\nRCPT TO:<evil@evil.example>"
    # as an older version or a hand edit might have left it
    import sqlite3
    conn = sqlite3.connect(m.db_path)
    with conn:
        conn.execute("UPDATE supporters SET email = ? WHERE email_norm = 'ada@example.org'", (bad,))
    conn.close()
    code, out, err, _ = launch(m)
    assert code == 0, out + err
    assert not any("evil" in d.rcpt for d in relay.delivered()), relay.delivered()
    assert not any(a.rcpt and "evil" in a.rcpt for a in relay.attempts), relay.attempts
    assert len(relay.delivered("reminder", "bob@example.org")) == 1
    row = reminder_row(m, "ada@example.org")
    assert row["state"] == "failed", row
    assert m.stats()["reminders"]["failed"] == 1
