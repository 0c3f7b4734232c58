"""
test_flow: the supporter's whole path through the real server (README.md,
"The flow", steps 2 to 5, and "Email"): pledge as JSON, the confirmation mail,
the double opt-in, the "you're in" mail with its calendar file, `muster launch`,
the reminder and the one-click link, and who gets no reminder.
"""
import concurrent.futures
import datetime
import html
import json
import re
import socket
import struct
import urllib.parse
from zoneinfo import ZoneInfo

from conftest import launch_utc, render_template

# A statement that exercises every escaping layer: newlines, URL syntax (& # + %),
# quotes, HTML, non-ASCII and an emoji outside the BMP.
STATEMENT = ("I read the handbook on trains & in the field: 100% offline #docs + more.\n"
             "It's \"essential\" <b>really</b> = true?\n\n"
             "Zürich, Kraków, 東京 — ✓ 🎉")
NAME = "Zoë O'Brien-Ångström"


def assert_rfc5322(mail, to_addr):
    """Parses with email.policy.default and checks the structure every muster mail has."""
    raw = mail.raw
    # CRLF line ends only
    assert b"\n" not in raw.replace(b"\r\n", b""), "bare LF in the raw message"
    assert b"\r" not in raw.replace(b"\r\n", b""), "bare CR in the raw message"
    header_block = raw.split(b"\r\n\r\n", 1)[0]
    assert all(b < 0x80 for b in header_block), "raw 8-bit bytes in the header section"
    for line in raw.split(b"\r\n"):
        assert len(line) <= 998, "line longer than 998 octets"
    msg = mail.msg
    assert not msg.defects, msg.defects
    for part in msg.walk():
        assert not part.defects, (part.get_content_type(), part.defects)
    for name in ("Date", "From", "To", "Subject", "Message-ID"):
        assert msg[name] is not None, f"missing {name}"
        assert len(msg.get_all(name)) == 1, f"{name} appears more than once"
    assert msg["Date"].datetime is not None
    assert re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", str(msg["Message-ID"]).strip())
    to = msg["To"].addresses
    assert len(to) == 1 and to[0].addr_spec == to_addr, to
    assert mail.rcpt_tos == [to_addr]
    assert msg["From"].addresses[0].addr_spec == "team@example.org"
    assert msg.get_body(preferencelist=("plain",)) is not None, "no text/plain part"
    assert msg.get_body(preferencelist=("html",)) is not None, "no text/html part"


def assert_links_absolute(mail, base_url):
    links = mail.links() + mail.html_links()
    assert links, "no links at all"
    for url in links:
        assert url.startswith(base_url + "/"), f"link not absolute from MUSTER_BASE_URL: {url}"


def paths(urls):
    return [urllib.parse.urlsplit(u).path for u in urls]


def ics_dtstart(ics_bytes):
    m = re.search(rb"\r\nDTSTART:(\d{8}T\d{6}Z)\r\n", ics_bytes)
    assert m, ics_bytes
    return datetime.datetime.strptime(m.group(1).decode(), "%Y%m%dT%H%M%SZ").replace(
        tzinfo=datetime.timezone.utc)


def assert_ics(ics_bytes, launch_moment):
    assert ics_bytes.startswith(b"BEGIN:VCALENDAR\r\n"), ics_bytes[:80]
    assert ics_bytes.rstrip(b"\r\n").endswith(b"END:VCALENDAR")
    assert b"\n" not in ics_bytes.replace(b"\r\n", b""), "ICS lines must end in CRLF"
    assert b"BEGIN:VEVENT\r\n" in ics_bytes and b"END:VEVENT\r\n" in ics_bytes
    assert re.search(rb"\r\nUID:", ics_bytes)
    assert re.search(rb"\r\nDTSTAMP:\d{8}T\d{6}Z\r\n", ics_bytes)
    assert ics_dtstart(ics_bytes) == launch_moment


# ----------------------------------------------------------------------------- pledge


def test_json_pledge_answers_202_with_json(muster):
    r = muster.pledge("ada@example.org", name="Ada")
    assert r.status == 202, r
    assert r.header("Content-Type").startswith("application/json")
    body = r.json()
    assert isinstance(body, dict)
    assert muster.supporter("ada@example.org")["status"] == "pending"


def test_confirmation_mail_is_valid_and_holds_only_the_confirm_link(muster, smtp):
    addr = "ada@example.org"
    assert muster.pledge(addr, name=NAME, statement=STATEMENT).status == 202
    mail = smtp.wait_one(addr, "confirm")
    assert_rfc5322(mail, addr)
    assert_links_absolute(mail, muster.base_url)
    text_links = mail.links()
    assert len(text_links) == 1, text_links
    assert re.fullmatch(re.escape(muster.base_url) + r"/confirm/[A-Za-z0-9_-]{22,}",
                        text_links[0]), text_links
    # the HTML part links to the same place and nowhere else
    assert set(mail.html_links()) == {text_links[0]}
    for p in paths(mail.links() + mail.html_links()):
        assert not p.startswith("/a/") and not p.startswith("/u/"), p
    assert "/a/" not in mail.text() and "/a/" not in mail.html()


def test_get_confirm_shows_a_button_and_confirms_nothing(muster, smtp):
    addr = "ada@example.org"
    muster.pledge(addr, name="Ada")
    url = smtp.wait_one(addr, "confirm").link("/confirm/")
    path = urllib.parse.urlsplit(url).path
    for _ in range(2):  # a link scanner may fetch twice
        r = muster.get(path)
        assert r.status == 200, r
        assert re.search(r"<form[^>]*method=\"post\"", r.text, re.I), r.text
        assert "<button" in r.text
    assert muster.head(path).status == 200
    assert muster.supporter(addr)["status"] == "pending"
    smtp.settle(1.5)
    assert smtp.select(addr, "welcome") == []


def test_post_confirm_confirms_and_is_idempotent(muster, smtp):
    addr = "ada@example.org"
    muster.pledge(addr, name="Ada")
    path = urllib.parse.urlsplit(smtp.wait_one(addr, "confirm").link("/confirm/")).path
    r1 = muster.post(path)
    assert r1.status == 200, r1
    assert muster.supporter(addr)["status"] == "confirmed"
    smtp.wait_one(addr, "welcome")
    r2 = muster.post(path)
    assert r2.status == 200, r2
    assert muster.supporter(addr)["status"] == "confirmed"
    assert muster.supporter_count() == 1
    smtp.settle(2)
    assert len(smtp.select(addr, "welcome")) == 1, smtp.select(addr)


def test_concurrent_confirms_send_one_welcome_mail(muster, smtp):
    addr = "ada@example.org"
    muster.pledge(addr, name="Ada")
    path = urllib.parse.urlsplit(smtp.wait_one(addr, "confirm").link("/confirm/")).path
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: muster.post(path).status, range(8)))
    assert statuses == [200] * 8, statuses
    smtp.wait_one(addr, "welcome")
    smtp.settle(2)
    assert len(smtp.select(addr, "welcome")) == 1


def test_welcome_mail_carries_the_calendar_file_and_the_unsubscribe_link(muster, smtp):
    addr = "ada@example.org"
    s = muster.confirm_supporter(addr, name=NAME, statement=STATEMENT)
    mail = s["welcome"]
    assert_rfc5322(mail, addr)
    assert_links_absolute(mail, muster.base_url)
    cals = mail.calendars()
    assert len(cals) == 1, "want exactly one text/calendar part"
    part, data = cals[0]
    assert part.is_attachment() or part.get_filename(), "the .ics is not an attachment"
    assert_ics(data, launch_utc(muster.campaign))
    p = paths(mail.links())
    assert any(x.startswith("/u/") for x in p), p
    assert not any(x.startswith("/a/") or x.startswith("/confirm/") for x in p), p


def test_thank_you_page_calendar_link_serves_text_calendar(muster, smtp):
    s = muster.confirm_supporter("ada@example.org", name="Ada")
    page = s["thank_you"].text
    m = re.search(r'href="(/c/' + re.escape(muster.slug) + r'/calendar/[A-Za-z0-9_-]+\.ics)"',
                  page)
    assert m, page
    r = muster.get(m.group(1))
    assert r.status == 200, r
    assert r.header("Content-Type").split(";")[0].strip() == "text/calendar"
    assert_ics(r.body, launch_utc(muster.campaign))


# ----------------------------------------------------------------------------- launch


def test_launch_sends_one_reminder_per_confirmed_supporter(muster, smtp):
    addrs = ["ada@example.org", "bob@example.org", "cy@example.org"]
    for a in addrs:
        muster.confirm_supporter(a, name=a.split("@")[0])
    muster.launch()
    for a in addrs:
        smtp.wait_one(a, "reminder")
    smtp.settle(1.5)
    reminders = smtp.select(kind="reminder")
    assert sorted(r.rcpt_tos[0] for r in reminders) == sorted(addrs)
    # stable Message-IDs, one per supporter
    ids = [str(r.msg["Message-ID"]) for r in reminders]
    assert len(set(ids)) == len(ids)


def test_reminder_has_action_and_unsubscribe_links_and_list_unsubscribe_headers(muster, smtp):
    addr = "ada@example.org"
    s = muster.confirm_supporter(addr, name=NAME, statement=STATEMENT)
    muster.launch()
    mail = smtp.wait_one(addr, "reminder")
    assert_rfc5322(mail, addr)
    assert_links_absolute(mail, muster.base_url)
    a_link = mail.link("/a/")
    u_link = mail.link("/u/")
    assert re.fullmatch(re.escape(muster.base_url) + r"/a/[A-Za-z0-9_-]{22,}", a_link)
    assert u_link == s["unsubscribe_url"]
    lu = mail.msg.get_all("List-Unsubscribe")
    assert lu and len(lu) == 1
    assert f"<{u_link}>" in str(lu[0]).replace("\r\n", "").replace(" ", "")
    assert str(mail.msg["List-Unsubscribe-Post"]).strip() == "List-Unsubscribe=One-Click"
    assert mail.msg["Message-ID"] is not None
    assert not any(p.startswith("/confirm/") for p in paths(mail.links()))


def test_action_link_redirects_to_the_prefilled_issue_with_the_exact_message(muster, smtp):
    addr = "ada@example.org"
    muster.confirm_supporter(addr, name=NAME, statement=STATEMENT)
    muster.launch()
    a_path = urllib.parse.urlsplit(smtp.wait_one(addr, "reminder").link("/a/")).path
    r = muster.get(a_path)
    assert r.status == 302, r
    location = r.header("Location")
    assert location and all(0x21 <= ord(ch) <= 0x7e for ch in location), location
    url = urllib.parse.urlsplit(location)
    # balanced assignment: the first click goes to the first target in file order
    assert (url.scheme, url.netloc, url.path) == (
        "https", "github.com", "/example-docs/handbook/issues/new")
    query = urllib.parse.parse_qs(url.query, keep_blank_values=True, strict_parsing=True)
    c = muster.campaign
    values = {"name": NAME, "statement": STATEMENT, "campaign.title": c["title"],
              "target.id": "handbook-github"}
    assert query["title"] == [render_template(c["message"]["title"], values)]
    assert query["body"] == [render_template(c["message"]["body"], values)]
    assert query["labels"] == ["docs"]
    muster.wait_clicks(1)


def test_links_clicked_together_each_open_their_own_message(muster, smtp):
    # On PostgreSQL the supporters of the links that reach a server together
    # are read in one statement (pages/action.c): every answer must still be
    # its own supporter's, and a forged link among them must still be 404.
    count = 40
    path = muster.dir / "together.csv"
    path.write_text("email,name,consent,timezone\n" +
                    "".join(f"s{i}@example.org,Supporter {i},yes,Europe/Berlin\n"
                            for i in range(count)), encoding="utf-8")
    code, out, err = muster.cli("import", muster.slug, path.name)
    assert code == 0, out + err
    muster.launch()
    links = {}
    for i in range(count):
        addr = f"s{i}@example.org"
        links[i] = urllib.parse.urlsplit(smtp.wait_one(addr, "reminder").link("/a/")).path
    # the same key with another MAC: well-formed, not valid
    forged = [p[:-1] + ("A" if p[-1] != "A" else "B") for p in list(links.values())[:8]]
    requests = [(i, p) for i, p in links.items()] + [(None, p) for p in forged]
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(requests)) as pool:
        answers = list(pool.map(lambda job: (job[0], muster.get(job[1])), requests))
    for i, r in answers:
        if i is None:
            assert r.status == 404, r
            continue
        assert r.status == 302, (i, r)
        # mailto: bodies end their lines with CRLF (RFC 6068)
        location = urllib.parse.unquote(r.header("Location")).replace("\r\n", "\n")
        assert f"-- Supporter {i}\n(sent as part of" in location, (i, location)
    muster.wait_clicks(count)


def test_links_whose_clients_leave_at_once_leave_the_server_answering(muster, smtp):
    # Clients that reset their connection right after sending a one-click
    # link (on PostgreSQL the link waits for the read it shares with the
    # links that came with it): the server, under ASan here, must go on
    # answering everyone else.
    for i in range(4):
        muster.confirm_supporter(f"s{i}@example.org", name=f"S{i}")
    muster.launch()
    paths = [urllib.parse.urlsplit(smtp.wait_one(f"s{i}@example.org", "reminder").link("/a/")).path
             for i in range(4)]
    linger_reset = struct.pack("ii", 1, 0)

    def leave_at_once(k):
        with socket.create_connection(("127.0.0.1", muster.port), timeout=5) as c:
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger_reset)
            c.sendall(f"GET {paths[k % 4]} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        return k

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        assert len(list(pool.map(leave_at_once, range(400)))) == 400
    for p in paths:
        r = muster.get(p)
        assert r.status == 302, r


def test_one_click_sees_an_erase_and_an_apply_by_another_process_at_once(muster, smtp):
    # serve reads the supporter and the campaign's revision in one read
    # transaction per click: nothing may be served from before a command that
    # has returned.
    for addr in ("ada@example.org", "bob@example.org"):
        muster.confirm_supporter(addr, name="Ada" if addr[0] == "a" else "Bob")
    muster.launch()
    links = {a: urllib.parse.urlsplit(smtp.wait_one(a, "reminder").link("/a/")).path
             for a in ("ada@example.org", "bob@example.org")}
    first = muster.get(links["ada@example.org"])  # balanced: the first target
    assert first.status == 302 and "/example-docs/handbook/" in first.header("Location"), first
    assert muster.get(links["bob@example.org"]).status == 302
    code, out, err = muster.cli("supporter", "erase", "bob@example.org")
    assert code == 0, err
    assert muster.get(links["bob@example.org"]).status == 404
    muster.wait_clicks(2)

    changed = json.loads(json.dumps(muster.campaign))
    changed["targets"][0]["labels"] = ["docs", "applied-later"]
    code, out, err = muster.apply(changed)
    assert code == 0, err
    r = muster.get(links["ada@example.org"])
    assert r.status == 302, r
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(r.header("Location")).query)
    assert query["labels"] == ["docs,applied-later"], r.header("Location")
    muster.wait_clicks(3)


def test_second_launch_sends_nothing_more(muster, smtp):
    for a in ("ada@example.org", "bob@example.org"):
        muster.confirm_supporter(a)
    muster.launch()
    smtp.wait_for(2, kind="reminder")
    before = len(smtp.select())
    muster.launch()
    smtp.settle(2)
    assert len(smtp.select()) == before, smtp.select()
    assert len(smtp.select(kind="reminder")) == 2


def test_stats_json_counts_the_sent_reminder_and_the_click(muster, smtp):
    addr = "ada@example.org"
    muster.confirm_supporter(addr, name="Ada")
    muster.launch()
    a_path = urllib.parse.urlsplit(smtp.wait_one(addr, "reminder").link("/a/")).path
    assert muster.get(a_path).status == 302
    muster.wait_clicks(1)
    stats = muster.stats()
    assert stats["reminders"]["sent"] == 1, stats
    assert stats["clicks"] == 1, stats
    assert stats["confirmed"] == 1 and stats["pledges"] == 1, stats
    by_id = {t["id"]: t for t in stats["targets"]}
    assert by_id["handbook-github"]["clicks"] == 1, stats


# ----------------------------------------------------------------------------- who gets none


def test_supporter_who_unsubscribed_before_launch_gets_no_reminder(muster, smtp):
    stay = "ada@example.org"
    leave = "bob@example.org"
    muster.confirm_supporter(stay)
    s = muster.confirm_supporter(leave)
    # RFC 8058 one-click: a bare POST, no cookie, no CSRF token, no redirect
    r = muster.post(urllib.parse.urlsplit(s["unsubscribe_url"]).path,
                    body=b"List-Unsubscribe=One-Click",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 200, r
    assert r.header("Location") is None
    assert muster.supporter(leave)["unsubscribed_at"] != ""  # a time: unsubscribed
    again = muster.post(urllib.parse.urlsplit(s["unsubscribe_url"]).path)
    assert again.status == 200, again
    muster.launch()
    smtp.wait_one(stay, "reminder")
    smtp.settle(1.5)
    assert smtp.select(leave, "reminder") == []


def test_supporter_who_never_confirmed_gets_no_reminder(muster, smtp):
    muster.confirm_supporter("ada@example.org")
    assert muster.pledge("bob@example.org", name="Bob").status == 202
    smtp.wait_one("bob@example.org", "confirm")
    muster.launch()
    smtp.wait_one("ada@example.org", "reminder")
    smtp.settle(1.5)
    assert smtp.select("bob@example.org", "reminder") == []
    assert muster.stats()["reminders"]["sent"] == 1


def test_get_on_unsubscribe_link_unsubscribes_nobody(muster, smtp):
    addr = "ada@example.org"
    s = muster.confirm_supporter(addr)
    path = urllib.parse.urlsplit(s["unsubscribe_url"]).path
    r = muster.get(path)
    assert r.status == 200, r
    assert "<form" in r.text and "<button" in r.text
    assert muster.head(path).status == 200
    assert muster.supporter(addr)["unsubscribed_at"] == ""  # never unsubscribed
    muster.launch()
    smtp.wait_one(addr, "reminder")


# ----------------------------------------------------------------------------- time zones


def test_mails_show_the_launch_moment_in_the_supporters_time_zone(muster, smtp):
    addr = "kenji@example.org"
    zone = "Asia/Tokyo"
    local = launch_utc(muster.campaign).astimezone(ZoneInfo(zone))
    organizer = launch_utc(muster.campaign).astimezone(
        ZoneInfo(muster.campaign["launch"]["timezone"]))
    assert local.strftime("%H:%M") != organizer.strftime("%H:%M")
    s = muster.confirm_supporter(addr, timezone=zone)
    for mail in (s["confirm_mail"], s["welcome"]):
        text = mail.text()
        assert local.strftime("%H:%M") in text or local.strftime("%-I:%M %p") in text, text
        assert re.search(rf"\b{local.day}\b", text), text
        assert local.strftime("%B") in text or local.strftime("%b") in text, text


def test_pledge_page_shows_the_moment_and_counts_only_confirmed_pledges(muster, smtp):
    muster.confirm_supporter("ada@example.org")
    assert muster.pledge("bob@example.org").status == 202
    r = muster.get(f"/c/{muster.slug}")
    assert r.status == 200, r
    text = html.unescape(re.sub(r"<[^>]+>", " ", r.text))
    m = re.search(r"Pledges so far:\s+(\d[\d,]*)", text)
    assert m and m.group(1) == "1", text
    # the organizer's time zone and the moment in it
    assert muster.campaign["launch"]["timezone"] in text
    organizer = launch_utc(muster.campaign).astimezone(
        ZoneInfo(muster.campaign["launch"]["timezone"]))
    assert organizer.strftime("%H:%M") in text or organizer.strftime("%-I:%M %p") in text, text
