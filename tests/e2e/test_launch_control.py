"""
test_launch_control: an organizer in control of launch day (docs/CAMPAIGN.md,
"Launch day"): a test reminder to one address that counts nothing, pausing and
resuming a launch that two `muster serve` on one database are sending, a missed
launch (its window ended while no server ran) said and not sent late, and the
foreground launch's progress shared with a running server.
"""
import collections
import datetime
import http.client
import os
import subprocess
import time
import urllib.parse

import pytest

from conftest import MUSTER_BIN, free_port, make_campaign, sanitizer_lines, wait_until


def at_utc(seconds_from_now):
    """A campaign's launch block whose moment is seconds_from_now away (UTC)."""
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
        seconds=seconds_from_now)
    return {"at": t.strftime("%Y-%m-%dT%H:%M:%S"), "timezone": "UTC"}


def import_people(m, count, prefix="p"):
    """count confirmed supporters through `muster import`; their addresses."""
    addrs = [f"{prefix}{i}@example.org" for i in range(count)]
    rows = "".join(f"{a},yes,UTC\n" for a in addrs)
    (m.dir / "people.csv").write_text("email,consent,timezone\n" + rows, encoding="utf-8")
    code, out, err = m.cli("import", m.slug, "people.csv")
    assert code == 0 and f"imported {count} supporters" in out, (code, out, err)
    return addrs


def reminders(smtp):
    return smtp.select(kind="reminder")


def get_raw(m, path, method="GET"):
    """One request, redirects not followed: (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", m.port, timeout=10)
    try:
        conn.request(method, path, body=b"" if method == "POST" else None)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


class SecondServer:
    """Another `muster serve` on the same database (its own port)."""

    def __init__(self, m):
        self.port = free_port()
        env = dict(m.env, MUSTER_LISTEN=f"127.0.0.1:{self.port}")
        self.err_path = m.dir / "serve-second.stderr"
        with open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen([MUSTER_BIN, "serve"], cwd=m.dir, env=env,
                                         stdout=subprocess.DEVNULL, stderr=err,
                                         stdin=subprocess.DEVNULL)

        def healthy():
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                return conn.getresponse().status == 200
            except OSError:
                return False
        wait_until(healthy, timeout=15, what="the second serve's /healthz")

    def stop(self):
        self.proc.terminate()
        code = self.proc.wait(timeout=10)
        text = self.err_path.read_text(errors="replace")
        assert not sanitizer_lines(text), text
        return code, text


# ----------------------------------------------------------------------------- test send


def test_a_test_send_arrives_as_the_reminder_with_a_link_that_counts_nothing(make_muster, smtp):
    m = make_muster()
    people = import_people(m, 2)
    stats_before = m.stats()
    counts_before = m.inspect("count")

    code, out, err = m.cli("launch", m.slug, "--test", "me@example.org")
    assert code == 0, (code, out, err)
    [mail] = smtp.wait_for(1, to="me@example.org")
    title = m.campaign["title"]
    # the reminder's template, language and headers, marked as a test
    assert mail.msg["Subject"] == f"[TEST] It's time: {title}", mail.msg["Subject"]
    assert mail.msg["Content-Language"] == "en"
    assert mail.msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/t/" in mail.msg["List-Unsubscribe"]
    assert mail.msg["List-Id"] is not None
    assert "[TEST]" in mail.text() and "counts nothing" in mail.text()
    assert "Take action:" in mail.text()
    [link] = [u for u in mail.links()
              if urllib.parse.urlsplit(u).path.startswith("/t/") and not u.endswith("/u")]
    assert mail.links().count(link + "/u") == 1  # the unsubscribe link of a test
    assert not [u for u in mail.links() if urllib.parse.urlsplit(u).path.startswith("/a/")]

    # the link goes where a supporter's goes (the first target of the example
    # campaign is a GitHub issue: a prefilled redirect), and counts nothing
    path = urllib.parse.urlsplit(link).path
    status, headers, _ = get_raw(m, path)
    assert status == 302, status
    assert urllib.parse.urlsplit(headers["location"]).hostname == "github.com", headers
    assert get_raw(m, path)[0] == 302  # again: still works, still nothing
    status, _, body = get_raw(m, path + "/u", method="POST")
    assert status == 200 and b"nobody was unsubscribed" in body
    # a forged test link is an ordinary 404
    assert get_raw(m, "/t/" + "A" * 32)[0] == 404

    smtp.settle(1.5)
    assert m.stats() == stats_before
    assert m.inspect("count") == counts_before
    for a in people:
        assert smtp.select(to=a) == [], a
    assert len(smtp.select()) == 1

    # refused: an address muster cannot send to, and --test without one
    code, out, err = m.cli("launch", m.slug, "--test", "not an address")
    assert code == 1 and "not an address muster can send to" in err, (code, err)
    code, out, err = m.cli("launch", m.slug, "--test")
    assert code == 2, (code, err)


# ----------------------------------------------------------------------------- pause, resume


def test_a_test_send_is_marked_in_the_campaigns_language(make_muster, smtp):
    # "all": the link opens the action page (with every target), not a redirect
    m = make_muster(make_campaign({"language": "es", "assignment": "all"}))
    code, out, err = m.cli("launch", m.slug, "--test", "yo@example.org")
    assert code == 0, (code, out, err)
    [mail] = smtp.wait_for(1, to="yo@example.org")
    assert mail.msg["Subject"].startswith("[PRUEBA] "), mail.msg["Subject"]
    assert mail.msg["Content-Language"] == "es"
    assert "[PRUEBA]" in mail.text() and "no cuenta nada" in mail.text()
    assert "[TEST]" not in mail.text() and "counts nothing" not in mail.text()
    # the pages its links open say it in Spanish too
    [link] = [u for u in mail.links()
              if urllib.parse.urlsplit(u).path.startswith("/t/") and not u.endswith("/u")]
    for path, words in ((urllib.parse.urlsplit(link).path, "no cuenta nada"),
                        (urllib.parse.urlsplit(link).path + "/u", "no se dio de baja a nadie")):
        status, headers, body = get_raw(m, path)
        page = body.decode()
        assert status == 200 and "[PRUEBA]" in page and words in page, (status, page[:800])
        assert "counts nothing" not in page and "nobody was unsubscribed" not in page

def test_pause_stops_two_servers_within_a_second_and_resume_sends_each_reminder_once(
        make_muster, smtp):
    total = 300
    m = make_muster(campaign=make_campaign({"launch": at_utc(3)}),
                    env={"MUSTER_SEND_RATE": "40"}, start=False)
    people = import_people(m, total)
    m.start()
    second = SecondServer(m)
    try:
        wait_until(lambda: len(reminders(smtp)) >= 20, timeout=20, what="the launch to start")
        code, out, err = m.cli("launch", m.slug, "--pause", "--reason", "checking the link")
        assert code == 0 and "paused" in out, (code, out, err)
        paused_at = time.monotonic()

        doc = m.stats()["launch"]
        assert doc["paused"] is True and doc["paused_reason"] == "checking the link", doc
        assert doc["paused_by"].startswith("command line"), doc
        code, text, err = m.cli("stats", m.slug)
        assert "PAUSED" in text and "checking the link" in text, text

        # within a second every sender has stopped taking rows
        time.sleep(max(0.0, paused_at + 1.0 - time.monotonic()))
        after_a_second = len(reminders(smtp))
        time.sleep(2.5)
        assert len(reminders(smtp)) == after_a_second, "a sender went on after the pause"
        assert after_a_second < total
        stats = m.stats()
        assert stats["reminders"]["sent"] == after_a_second
        assert stats["reminders"]["pending"] == total - after_a_second

        # the foreground launch refuses a paused launch, sending nothing
        code, out, err = m.cli("launch", m.slug)
        assert code == 1 and "is paused" in err and "checking the link" in err, (code, err)
        assert len(reminders(smtp)) == after_a_second

        code, out, err = m.cli("launch", m.slug, "--resume")
        assert code == 0 and "resumed" in out, (code, out, err)
        smtp.wait_for(total, kind="reminder", timeout=30)
        smtp.settle(1.0)
    finally:
        code, text = second.stop()
    assert code == 0, text
    got = collections.Counter(r.rcpt_tos[0] for r in reminders(smtp))
    assert set(got) == set(people) and set(got.values()) == {1}, got.most_common(3)
    doc = m.stats()
    assert doc["reminders"]["sent"] == total and doc["launch"]["paused"] is False
    assert doc["launch"]["state"] == "sent"


# ----------------------------------------------------------------------------- missed launch


def test_a_missed_launch_is_logged_shown_and_not_sent_until_launched(make_muster, smtp):
    # the window (60 minutes) ended two hours ago, while no server ran
    m = make_muster(campaign=make_campaign({"launch": dict(at_utc(-3 * 3600),
                                                           window_minutes=60)}),
                    start=False)
    people = import_people(m, 3)
    m.start()
    wait_until(lambda: "event=launch.missed" in m.server_stderr(), timeout=10,
               what="the missed launch in the log")
    line = next(x for x in m.server_stderr().splitlines() if "event=launch.missed" in x)
    assert "level=error" in line and f'slug="{m.slug}"' in line, line
    assert m.stats()["launch"]["state"] == "missed"
    code, text, err = m.cli("stats", m.slug)
    assert "missed" in text, text
    smtp.settle(2.5)  # two scheduler rounds
    assert reminders(smtp) == []
    assert m.inspect("outbox", "--kind", "reminder") == []
    # said once per server, not at every round
    assert m.server_stderr().count("event=launch.missed") == 1

    # the organizer says so: the foreground launch sends it now
    code, out, err = m.cli("launch", m.slug, timeout=60)
    assert code == 0 and "window ended" in out, (code, out, err)
    for a in people:
        smtp.wait_one(a, "reminder", timeout=10)
    assert m.stats()["launch"]["state"] == "sent"


# ----------------------------------------------------------------------------- shared progress


def test_foreground_launch_reports_what_every_sender_sent_and_exits_when_none_is_owed(
        make_muster, smtp):
    total = 160
    m = make_muster(campaign=make_campaign({"launch": at_utc(3)}),
                    env={"MUSTER_SEND_RATE": "30"}, start=False)
    people = import_people(m, total)
    m.start()
    wait_until(lambda: len(reminders(smtp)) >= 10, timeout=20, what="serve to start sending")
    code, out, err = m.cli("launch", m.slug, timeout=60)
    assert code == 0, (code, out, err)
    final = [x for x in out.splitlines() if " reminders sent" in x][-1]
    assert f"{total} of {total} reminders sent" in final, out
    mine = int(final.split("by this command: sent ")[1].split(",")[0])
    assert 0 <= mine < total, final  # the server sent the rest
    smtp.settle(1.0)
    got = collections.Counter(r.rcpt_tos[0] for r in reminders(smtp))
    assert set(got) == set(people) and set(got.values()) == {1}
    assert m.stats()["reminders"]["sent"] == total


# ----------------------------------------------------------------------------- the dashboard


def test_the_dashboard_pauses_resumes_and_sends_a_test(make_muster, smtp):
    from test_admin import Organizer, add_organizer
    m = make_muster()
    import_people(m, 2)
    add_organizer(m)
    org = Organizer(m)
    assert org.login().status == 303
    page = org.get(f"/admin/campaigns/{m.slug}")
    assert page.status == 200 and 'id="launch-pause"' in page.text
    assert 'data-state="scheduled"' in page.text

    r = org.post_form(f"/admin/campaigns/{m.slug}/launch/pause", {"reason": "<b>typo</b>"})
    assert r.status == 303, r
    doc = m.stats()["launch"]
    assert doc["paused"] and doc["paused_reason"] == "<b>typo</b>"
    assert doc["paused_by"].startswith("organizer:")
    page = org.get(f"/admin/campaigns/{m.slug}?saved=paused")
    assert 'id="launch-resume"' in page.text and "&lt;b&gt;typo&lt;/b&gt;" in page.text
    assert "<b>typo</b>" not in page.text
    # without the CSRF field: refused, still paused
    r = org.post_form(f"/admin/campaigns/{m.slug}/launch/resume", {}, with_csrf=False)
    assert r.status == 403 and m.stats()["launch"]["paused"]
    r = org.post_form(f"/admin/campaigns/{m.slug}/launch/resume", {})
    assert r.status == 303 and not m.stats()["launch"]["paused"]

    stats_before = m.stats()
    r = org.post_form(f"/admin/campaigns/{m.slug}/launch/test", {"address": "me@example.org"})
    assert r.status == 303 and "saved=test-sent" in r.header("Location"), r
    [mail] = smtp.wait_for(1, to="me@example.org")
    assert mail.msg["Subject"].startswith("[TEST] ")
    r = org.post_form(f"/admin/campaigns/{m.slug}/launch/test", {"address": "nobody"})
    assert r.status == 400, r
    smtp.settle(1.0)
    assert len(smtp.select()) == 1
    assert m.stats() == stats_before
