"""
test_launch: the launch and the one click beyond the happy path (README.md,
"The flow" steps 4 and 5, "Targets"): launching with or without a running
server, --dry-run, concurrent senders, the scheduled launch, confirming during
the window, SMTP temporary and permanent failures, the action page, and the
exact prefilled URL of each kind of target in the example campaign.
"""
import concurrent.futures
import datetime
import html
import http.client
import re
import subprocess
import threading
import time
import urllib.parse

import pytest

from conftest import MUSTER_BIN, make_campaign, render_template

NAME = "Zoë O'Brien"
STATEMENT = "Offline & on trains: 100% #docs + more.\nSecond line \"quoted\" 🎉"


def path_of(url):
    return urllib.parse.urlsplit(url).path


def confirm_many(m, smtp, addrs):
    """Pledges all, then confirms all (faster than one by one)."""
    for a in addrs:
        assert m.pledge(a, name=a.split("@")[0]).status == 202
    for a in addrs:
        url = smtp.wait_one(a, "confirm").link("/confirm/")
        assert m.post(path_of(url)).status == 200
    for a in addrs:
        smtp.wait_one(a, "welcome")


def expected_message(m, name, statement, target_id):
    c = m.campaign
    values = {"name": name, "statement": statement, "campaign.title": c["title"],
              "target.id": target_id}
    return (render_template(c["message"]["title"], values),
            render_template(c["message"]["body"], values))


# ----------------------------------------------------------------------------- launching


def test_launch_without_a_running_server_sends_the_reminders(make_muster, smtp):
    m = make_muster()
    confirm_many(m, smtp, ["ada@example.org", "bob@example.org"])
    code, secs = m.stop()
    assert code == 0
    m.launch()
    for a in ("ada@example.org", "bob@example.org"):
        smtp.wait_one(a, "reminder", timeout=2)
    assert m.stats()["reminders"]["sent"] == 2


def test_launch_dry_run_counts_and_changes_nothing(muster, smtp):
    confirm_many(muster, smtp, ["ada@example.org", "bob@example.org"])
    code, out, err = muster.cli("launch", muster.slug, "--dry-run")
    assert code == 0, err
    assert re.search(r"\b2\b", out), out
    smtp.settle(1.5)
    assert smtp.select(kind="reminder") == []
    stats = muster.stats()
    assert stats["launched"] is False and stats["reminders"]["sent"] == 0, stats
    code, shown, err = muster.cli("campaign", "show", muster.slug)
    assert code == 0, err
    assert re.search(r"^state:\s+waiting for the moment$", shown, re.M), shown  # not launched


def test_two_concurrent_launches_and_serve_send_each_reminder_once(muster, smtp):
    addrs = [f"p{i}@example.org" for i in range(20)]
    confirm_many(muster, smtp, addrs)
    procs = [subprocess.Popen([MUSTER_BIN, "launch", muster.slug], cwd=muster.dir,
                              env=muster.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, out + err
        assert "ERROR: AddressSanitizer" not in err and "runtime error:" not in err, err
    smtp.wait_for(len(addrs), kind="reminder")
    smtp.settle(2)
    reminders = smtp.select(kind="reminder")
    got = sorted(r.rcpt_tos[0] for r in reminders)
    assert got == sorted(addrs), f"duplicates or gaps: {got}"
    assert muster.stats()["reminders"]["sent"] == len(addrs)


def test_server_launches_by_itself_at_the_launch_moment(make_muster, smtp):
    m = make_muster(campaign=make_campaign({"launch": {"timezone": "UTC"}}))
    confirm_many(m, smtp, ["ada@example.org"])
    # move the (not yet launched) moment to a few seconds from now
    at = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + \
        datetime.timedelta(seconds=4)
    soon = dict(m.campaign,
                launch=dict(m.campaign["launch"], at=at.strftime("%Y-%m-%dT%H:%M:%S")))
    code, out, err = m.apply(soon)
    assert code == 0, err
    assert datetime.datetime.now(datetime.timezone.utc) < at, "apply took too long"
    assert smtp.select(kind="reminder") == []
    mail = smtp.wait_one("ada@example.org", "reminder", timeout=20)
    arrived = datetime.datetime.now(datetime.timezone.utc)
    assert arrived >= at, "the reminder came before the launch moment"
    assert arrived - at < datetime.timedelta(seconds=10), arrived - at
    assert m.get(path_of(mail.link("/a/"))).status == 302


def test_supporter_confirming_during_the_window_gets_the_reminder_at_once(muster, smtp):
    confirm_many(muster, smtp, ["ada@example.org"])
    muster.launch()
    smtp.wait_one("ada@example.org", "reminder")
    late = "late@example.org"
    assert muster.pledge(late, name="Late").status == 202
    url = smtp.wait_one(late, "confirm").link("/confirm/")
    t0 = time.monotonic()
    assert muster.post(path_of(url)).status == 200
    mail = smtp.wait_one(late, "reminder", timeout=10)
    assert time.monotonic() - t0 < 10
    assert muster.get(path_of(mail.link("/a/"))).status == 302
    smtp.settle(1.5)
    assert len(smtp.select(late, "reminder")) == 1


# ----------------------------------------------------------------------------- SMTP failures


def test_temporary_smtp_failure_is_retried_within_seconds(muster, smtp):
    addr = "slow@example.org"
    seen = []
    lock = threading.Lock()

    def tempfail_first(mail):
        with lock:
            if mail.rcpt_tos == [addr] and not seen:
                seen.append(time.monotonic())
                return "451 4.3.0 try again later"
        return None

    smtp.rules.append(tempfail_first)
    assert muster.pledge(addr).status == 202
    smtp.wait_one(addr, "confirm", timeout=20)
    assert seen, "the relay never saw the first attempt"
    assert time.monotonic() - seen[0] < 15
    assert len(smtp.refused_for(addr)) == 1


def test_permanent_smtp_failure_is_recorded_per_supporter_with_the_relay_reply(muster, smtp):
    bounce = "bounce@example.org"
    smtp.rules.append(lambda mail: "550 5.1.1 <bounce@example.org>: no such mailbox here"
                      if mail.rcpt_tos == [bounce] and mail.kind() == "reminder" else None)
    confirm_many(muster, smtp, ["ada@example.org", bounce])
    muster.launch()
    smtp.wait_one("ada@example.org", "reminder")
    stats = muster.stats()
    assert stats["reminders"]["sent"] == 1, stats
    assert stats["reminders"]["failed"] == 1, stats
    assert stats["reminders"]["pending"] == 0, stats
    assert len(smtp.refused_for(bounce)) == 1, "a permanent failure must not be retried"
    replies = [(o["state"], o["last_reply"])
               for o in muster.inspect("outbox", "--kind", "reminder", "--email", bounce)]
    assert len(replies) == 1 and replies[0][0] == "failed", replies
    assert "no such mailbox here" in (replies[0][1] or ""), replies


# ----------------------------------------------------------------------------- the action


def launch_and_links(m, smtp, people):
    """people: [(email, name, statement)]. Confirms them, launches, returns /a/ paths."""
    for addr, name, statement in people:
        m.confirm_supporter(addr, name=name, statement=statement)
    m.launch()
    return [path_of(smtp.wait_one(addr, "reminder").link("/a/")) for addr, _, _ in people]


def test_each_target_kind_gets_the_exact_message_in_its_url(muster, smtp):
    people = [(f"p{i}@example.org", f"{NAME} {i}", f"{STATEMENT} {i}") for i in range(3)]
    links = launch_and_links(muster, smtp, people)
    locations = []
    for path in links:  # balanced: one supporter per target, in file order
        r = muster.get(path)
        assert r.status == 302, r
        locations.append(r.header("Location"))
    for loc in locations:
        assert all(0x21 <= ord(ch) <= 0x7e for ch in loc), loc

    gh = urllib.parse.urlsplit(locations[0])
    title, body = expected_message(muster, people[0][1], people[0][2], "handbook-github")
    q = urllib.parse.parse_qs(gh.query, keep_blank_values=True, strict_parsing=True)
    assert (gh.scheme, gh.netloc, gh.path) == ("https", "github.com",
                                               "/example-docs/handbook/issues/new")
    assert (q["title"], q["body"], q["labels"]) == ([title], [body], ["docs"])

    gl = urllib.parse.urlsplit(locations[1])
    title, body = expected_message(muster, people[1][1], people[1][2], "handbook-gitlab")
    q = urllib.parse.parse_qs(gl.query, keep_blank_values=True, strict_parsing=True)
    assert (gl.scheme, gl.netloc, gl.path) == ("https", "gitlab.example.org",
                                               "/docs/handbook/-/issues/new")
    assert (q["issue[title]"], q["issue[description]"]) == ([title], [body])

    mt = urllib.parse.urlsplit(locations[2])
    title, body = expected_message(muster, people[2][1], people[2][2], "maintainers")
    q = urllib.parse.parse_qs(mt.query, keep_blank_values=True, strict_parsing=True)
    assert (mt.scheme, mt.path) == ("mailto", "maintainers@example.org"), locations[2]
    assert q["subject"] == [title]
    # RFC 6068 section 5: line breaks in the body are CRLF (%0D%0A)
    assert q["body"] == [body.replace("\n", "\r\n")]
    assert "%0A" in mt.query and "%0A" not in mt.query.replace("%0D%0A", "")
    muster.wait_clicks(3)


def test_review_link_shows_the_action_page_with_the_whole_message(muster, smtp):
    [path] = launch_and_links(muster, smtp, [("ada@example.org", NAME, STATEMENT)])
    r = muster.get(path + "?review=1")
    assert r.status == 200, r
    assert r.header("Location") is None
    title, body = expected_message(muster, NAME, STATEMENT, "handbook-github")
    page = html.unescape(r.text)
    assert title in page
    assert body in page
    assert "https://github.com/example-docs/handbook/issues/new?" in page
    assert "copy" in r.text.lower()


def test_a_redirect_just_under_the_url_limit_arrives_whole(make_muster, smtp):
    """A GitHub link may be 8,000 bytes (targets/github_issue.c); the server must
    still fit the whole Location header in a connection's memory (16 KiB in
    libmicrohttpd's pool, next to the request it keeps) and answer it."""
    title = "Please publish an offline edition of the handbook"
    head = ("https://github.com/example-docs/handbook/issues/new?title="
            + urllib.parse.quote(title, safe="-._~") + "&body=")
    tail = "&labels=docs"
    body = "a" * (7999 - len(head) - len(tail))
    m = make_muster(make_campaign({"message": {"title": title, "body": body}}))
    [link] = launch_and_links(m, smtp, [("ada@example.org", "Ada", "")])
    r = m.get(link)
    assert r.status == 302, r.text[:300]
    assert r.header("Location") == head + body + tail
    assert len(r.header("Location")) == 7999


def test_message_too_long_for_the_url_gets_the_action_page_not_a_truncated_link(make_muster,
                                                                                 smtp):
    m = make_muster()
    # 1000 CJK characters: 9 bytes each once percent-encoded, past GitHub's 8000 bytes
    statement = "東京" * 500
    [path] = launch_and_links(m, smtp, [("ada@example.org", "Ada", statement)])
    r = m.get(path)
    assert r.status == 200, r
    assert r.header("Location") is None
    title, body = expected_message(m, "Ada", statement, "handbook-github")
    page = html.unescape(r.text)
    assert body in page, "the action page must hold the whole message"
    m.wait_clicks(1)


def test_action_link_stays_with_its_target_on_later_clicks(muster, smtp):
    links = launch_and_links(muster, smtp, [("ada@example.org", "Ada", ""),
                                            ("bob@example.org", "Bob", "")])
    first = [urllib.parse.urlsplit(muster.get(p).header("Location")).netloc for p in links]
    assert first == ["github.com", "gitlab.example.org"]
    again = [urllib.parse.urlsplit(muster.get(p).header("Location")).netloc for p in links]
    assert again == first
    muster.wait_clicks(4)
    stats = muster.stats()
    by_id = {t["id"]: t for t in stats["targets"]}
    assert by_id["handbook-github"]["assigned"] == 1 and by_id["handbook-gitlab"]["assigned"] == 1


def test_one_click_redirect_carries_the_navigation_headers_and_pages_the_document_ones(
        muster, smtp):
    """A bare redirect is never rendered (server.c, queue): it carries Location,
    Referrer-Policy (the token must not reach the target site in a Referer) and
    Cache-Control, and none of the document headers; a page carries those."""
    [path] = launch_and_links(muster, smtp, [("ada@example.org", "Ada", "")])
    r = muster.get(path)
    assert r.status == 302, r
    assert r.header("Location").startswith("https://github.com/")
    assert r.header("Referrer-Policy") == "no-referrer"
    assert r.header("Cache-Control") == "no-store"
    for name in ("Content-Security-Policy", "X-Frame-Options", "Content-Type",
                 "X-Content-Type-Options"):
        assert r.header(name) is None, (name, r.header(name))
    assert r.header("Content-Length") == "0"
    page = muster.get(path + "?review=1")
    assert page.status == 200, page
    assert page.header("Content-Type") == "text/html; charset=utf-8"
    assert page.header("X-Content-Type-Options") == "nosniff"
    assert page.header("X-Frame-Options") == "DENY"
    assert "frame-ancestors 'none'" in page.header("Content-Security-Policy")
    assert page.header("Referrer-Policy") == "no-referrer"
    assert page.header("Cache-Control") == "no-store"


def test_a_quiet_server_keeps_no_read_snapshot_open(muster, smtp):
    """Clicks on one HTTP thread share a read snapshot for up to 1 ms (app.h).
    When no further click comes, the server must still end it: an open read
    transaction would keep every later commit in the WAL, where no checkpoint
    could move it (and an erased supporter's rows would stay in the WAL file).
    The click's connection stays open and silent, so no later event on it can be
    what ends the snapshot: the thread must end it before it waits."""
    [link] = launch_and_links(muster, smtp, [("ada@example.org", "Ada", "")])
    conn = http.client.HTTPConnection("127.0.0.1", muster.port, timeout=5)
    try:
        conn.request("GET", link)
        response = conn.getresponse()
        response.read()
        assert response.status == 302
        muster.wait_clicks(1)  # committed after the click's snapshot began
        time.sleep(0.1)
        checkpoint = muster.inspect("checkpoint")
    finally:
        conn.close()
    if not checkpoint["applies"]:
        pytest.skip("the store has no write-ahead log to keep from a checkpoint")
    assert not checkpoint["busy"], (f"a reader still holds a snapshot: "
                                    f"{checkpoint['log_frames']} WAL frames, "
                                    f"{checkpoint['moved_frames']} moved")
    assert checkpoint["log_bytes"] == 0, checkpoint


def test_target_cap_holds_under_concurrent_clicks(make_muster, smtp):
    campaign = make_campaign()
    campaign["targets"][0]["cap"] = 1
    m = make_muster(campaign=campaign)
    addrs = [f"p{i}@example.org" for i in range(8)]
    confirm_many(m, smtp, addrs)
    m.launch()
    links = [path_of(smtp.wait_one(a, "reminder").link("/a/")) for a in addrs]
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(m.get, links))
    hosts = [urllib.parse.urlsplit(r.header("Location") or "").netloc for r in responses]
    assert all(r.status == 302 for r in responses), responses
    assert hosts.count("github.com") == 1, hosts
    m.wait_clicks(len(addrs))
    by_id = {t["id"]: t for t in m.stats()["targets"]}
    assert by_id["handbook-github"]["assigned"] == 1, by_id
    assert sum(t["assigned"] for t in by_id.values()) == len(addrs), by_id


def test_concurrent_clicks_of_one_supporter_assign_one_target(muster, smtp):
    [path] = launch_and_links(muster, smtp, [("ada@example.org", "Ada", "")])
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: muster.get(path), range(8)))
    assert {r.status for r in responses} == {302}, responses
    assert len({r.header("Location") for r in responses}) == 1
    muster.wait_clicks(8)
    targets = muster.stats()["targets"]
    assert sum(t["assigned"] for t in targets) == 1, targets
