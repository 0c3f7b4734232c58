"""
test_mails: the organizer's words in the mails and the mails around the moment
(docs/CAMPAIGN.md, "mails", "reminders", "follow_up_after_minutes", and moving
the moment): the campaign file's subject and body of the confirmation, the
welcome and the reminder arrive as written, escaped in the HTML part, with
muster's links still in them; invalid ones are refused at apply; the
dashboard's preview shows them; earlier reminders arrive once each before the
moment; the follow-up goes once, only to those who did not follow their link;
a moved moment sends each confirmed supporter a notice whose calendar file
moves the event (same UID, higher SEQUENCE).
"""
import datetime
import urllib.parse
from zoneinfo import ZoneInfo

import icalendar
import pytest

from conftest import make_campaign, wait_until
from test_admin import Organizer, add_organizer

NAME = "Zoë <b>O'Brien</b>"

MAILS = {
    "confirm": {"subject": "Please confirm, {{name}}: {{campaign.title}}",
                "body": "Dear {{name}},\n\nthanks for stepping up <for> docs & more."},
    "welcome": {"subject": "Welcome aboard {{name}}",
                "body": "{{#name}}Hi {{name}}!{{/name}}\nSee you on the day."},
    "reminder": {"subject": "GO GO GO {{name}}",
                 "body": "Today is the day, {{name}}.\n\nYour statement: {{statement}}"},
}


def path_of(url):
    return urllib.parse.urlsplit(url).path


def text_of(mail):
    return mail.text().replace("\r\n", "\n")


def html_of(mail):
    return mail.html().replace("\r\n", "\n")


def confirm(m, smtp, addr, name=None, statement=None):
    assert m.pledge(addr, name=name, statement=statement).status == 202
    url = smtp.wait_one(addr, "confirm").link("/confirm/")
    assert m.post(path_of(url)).status == 200
    return smtp.wait_one(addr, "welcome")


# ----------------------------------------------------------------------------- the words


def test_the_organizers_words_arrive_in_the_three_mails_with_muster_links(make_muster, smtp):
    m = make_muster(campaign=make_campaign({"mails": MAILS, "statement": {"enabled": True}}))
    addr = "zoe@example.org"
    assert m.pledge(addr, name=NAME, statement="line one\nline <two>").status == 202
    confirm_mail = smtp.wait_one(addr, "confirm")
    title = m.campaign["title"]
    assert confirm_mail.msg["Subject"] == f"Please confirm, {NAME}: {title}"
    assert f"Dear {NAME},\n\nthanks for stepping up <for> docs & more." in text_of(confirm_mail)
    html = html_of(confirm_mail)
    assert "Dear Zoë &lt;b&gt;O&#39;Brien&lt;/b&gt;," in html or \
        "Dear Zoë &lt;b&gt;O'Brien&lt;/b&gt;," in html
    assert "stepping up &lt;for&gt; docs &amp; more." in html
    assert "<b>O" not in html
    # muster's parts follow the organizer's words: the link that confirms
    assert m.post(path_of(confirm_mail.link("/confirm/"))).status == 200

    welcome = smtp.wait_one(addr, "welcome")
    assert welcome.msg["Subject"] == f"Welcome aboard {NAME}"
    assert f"Hi {NAME}!\nSee you on the day." in text_of(welcome)
    assert welcome.calendars(), "the welcome mail keeps its calendar file"
    assert any(path_of(u).startswith("/u/") for u in welcome.links())

    m.launch()
    reminder = smtp.wait_one(addr, "reminder")
    # a statement's line break never reaches a header
    assert reminder.msg["Subject"] == f"GO GO GO {NAME}"
    text = text_of(reminder)
    assert f"Today is the day, {NAME}." in text
    assert "Your statement: line one\nline <two>" in text
    assert "line one<br>\nline &lt;two&gt;" in html_of(reminder)
    assert m.get(path_of(reminder.link("/a/"))).status == 302
    assert reminder.link("/u/")
    assert reminder.msg["List-Unsubscribe"] and reminder.msg["List-Unsubscribe-Post"]


def test_only_a_subject_keeps_musters_opening(make_muster, smtp):
    m = make_muster(campaign=make_campaign({"mails": {"confirm": {"subject": "Yes? {{name}}"}}}))
    assert m.pledge("half@example.org", name="Half").status == 202
    mail = smtp.wait_one("half@example.org", "confirm")
    assert mail.msg["Subject"] == "Yes? Half"
    assert text_of(mail).startswith("Hello Half,")
    # the mails the file gives no words keep muster's
    assert m.post(path_of(mail.link("/confirm/"))).status == 200
    welcome = smtp.wait_one("half@example.org", "welcome")
    assert welcome.msg["Subject"].startswith("You're in: ")


@pytest.mark.parametrize("mails, expected", [
    ({"reminder": {"body": "Hi {{nme}}"}},
     "campaign.json: $.mails.reminder.body:1:4: unknown placeholder"),
    ({"welcome": {"body": "ok\nthen {{#name}} open"}},
     "campaign.json: $.mails.welcome.body:2:6: "),
    ({"confirm": {"subject": "two\nlines"}},
     "campaign.json: $.mails.confirm.subject: must be a single line"),
    ({"confirm": {}}, "campaign.json: $.mails.confirm: needs a subject or a body"),
    ({"thanks": {"body": "x"}}, "campaign.json: $.mails.thanks: unknown field"),
    ({"reminder": {"subject": ""}}, "campaign.json: $.mails.reminder.subject: must not be empty"),
])
def test_invalid_mails_are_refused_at_apply(muster, mails, expected):
    code, out, err = muster.apply(make_campaign({"mails": mails}))
    assert code == 2, (out, err)
    assert expected in err, err


def test_the_dashboard_preview_shows_the_mails(make_muster):
    m = make_muster(campaign=make_campaign({"mails": {
        "reminder": {"subject": "<i>Now</i>, {{name}}", "body": "It is time & {{name}}"}}}))
    add_organizer(m)
    org = Organizer(m)
    assert org.login().status == 303
    page = org.get(f"/admin/campaigns/{m.slug}/edit").text
    assert "&lt;i&gt;Now&lt;/i&gt;, Sample Supporter" in page
    assert "It is time &amp; Sample Supporter" in page
    assert "<i>Now" not in page
    assert "personal one-click link and the unsubscribe link" in page


# ----------------------------------------------------------------------------- moving the moment


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def with_moment(campaign, at, **more):
    """The campaign with launch.at (UTC wall time) and more top-level fields."""
    out = dict(campaign, launch=dict(campaign["launch"], timezone="UTC",
                                     at=at.strftime("%Y-%m-%dT%H:%M:%S")))
    out.update(more)
    return out


def calendar_of(mail):
    (part, raw), = mail.calendars()
    cal = icalendar.Calendar.from_ical(raw)
    events = [c for c in cal.walk() if c.name == "VEVENT"]
    assert len(events) == 1, raw
    return cal, events[0]


def test_a_moved_moment_sends_each_confirmed_supporter_one_notice_that_moves_the_event(
        make_muster, smtp):
    m = make_muster(campaign=make_campaign({"launch": {"timezone": "UTC"}}))
    welcomes = {a: confirm(m, smtp, a, name=a[:3]) for a in ("ada@example.org", "bob@example.org")}
    assert m.pledge("unconfirmed@example.org").status == 202
    smtp.wait_one("unconfirmed@example.org", "confirm")
    later = utc_now() + datetime.timedelta(days=40)
    code, out, err = m.apply(with_moment(m.campaign, later))
    assert code == 0, err
    for addr, welcome in welcomes.items():
        notice = smtp.wait_one(addr, "moved")
        _, before = calendar_of(welcome)
        cal, after = calendar_of(notice)
        assert str(after["UID"]) == str(before["UID"])
        assert int(before.get("SEQUENCE", 0)) == 0
        assert int(after["SEQUENCE"]) == 1
        assert str(cal["METHOD"]) == "PUBLISH"
        assert after.decoded("DTSTART") == later
        assert notice.msg["List-Unsubscribe"]
        assert later.strftime("%Y") in text_of(notice)
    # the same file again moves nothing; nobody unconfirmed is told
    code, out, err = m.apply(with_moment(m.campaign, later))
    assert code == 0, err
    smtp.settle(2.0)
    assert smtp.select("unconfirmed@example.org", "moved") == []
    for addr in welcomes:
        assert len(smtp.select(addr, "moved")) == 1
    # a second move: a second notice, a higher SEQUENCE, the same UID
    again = later + datetime.timedelta(hours=3)
    code, out, err = m.apply(with_moment(m.campaign, again))
    assert code == 0, err
    wait_until(lambda: len(smtp.select("ada@example.org", "moved")) == 2, what="second notice")
    notices = smtp.select("ada@example.org", "moved")
    seqs = sorted(int(calendar_of(n)[1]["SEQUENCE"]) for n in notices)
    assert seqs == [1, 2]
    assert len({n.msg["Message-ID"] for n in notices}) == 2
    # the calendar download carries the moved moment and the new SEQUENCE
    cal_path = [path_of(u) for u in welcomes["ada@example.org"].html_links()
                if "/calendar/" in u][0]
    r = m.get(cal_path)
    assert r.status == 200
    event = [c for c in icalendar.Calendar.from_ical(r.body).walk() if c.name == "VEVENT"][0]
    assert int(event["SEQUENCE"]) == 2 and event.decoded("DTSTART") == again
    smtp.settle(1.0)
    assert len(smtp.select("bob@example.org", "moved")) == 2


# ----------------------------------------------------------------------------- earlier reminders


def test_earlier_reminders_arrive_once_each_in_the_supporters_time_zone(make_muster, smtp):
    m = make_muster(campaign=make_campaign({"launch": {"timezone": "UTC"}}))
    confirm(m, smtp, "ada@example.org", name="Ada")  # pledges with Europe/Berlin
    # the moment 70 s ahead: "-1h" is due at once, "-1m" 10 s later
    at = utc_now() + datetime.timedelta(seconds=70)
    code, out, err = m.apply(with_moment(m.campaign, at, reminders=["-1h", "-1m"]))
    assert code == 0, err
    t0 = utc_now()
    wait_until(lambda: len(smtp.select("ada@example.org", "upcoming")) == 2, timeout=30,
               what="two earlier reminders")
    first, second = smtp.select("ada@example.org", "upcoming")
    assert first.msg["Message-ID"] != second.msg["Message-ID"]
    assert ".3600." in first.msg["Message-ID"] and ".60." in second.msg["Message-ID"]
    arrived = utc_now()
    assert arrived >= at - datetime.timedelta(seconds=60), "the -1m reminder came too early"
    assert arrived < at, "the earlier reminders came after the moment"
    berlin = at.astimezone(ZoneInfo("Europe/Berlin"))
    for mail in (first, second):
        assert berlin.strftime("%H:%M") in text_of(mail)
        assert mail.msg["List-Unsubscribe"]
        assert not [u for u in mail.links() if path_of(u).startswith("/a/")]
    smtp.settle(3.0)
    assert len(smtp.select("ada@example.org", "upcoming")) == 2
    assert smtp.select("ada@example.org", "reminder") == []
    assert t0 < at


@pytest.mark.parametrize("reminders, expected", [
    (["1h"], "$.reminders[0]: \"1h\": must be before the moment"),
    (["-1w"], "$.reminders[0]: \"-1w\": expected a negative duration"),
    (["-0m"], "$.reminders[0]: \"-0m\": must be before the moment, not at it"),
    (["-1h", "-60m"], "$.reminders[1]: duplicate reminder \"-60m\""),
    (["-61d"], "$.reminders[0]: \"-61d\": too far before the moment"),
    ("-1h", "$.reminders: expected an array of strings"),
])
def test_invalid_reminders_are_refused_at_apply(muster, reminders, expected):
    code, out, err = muster.apply(make_campaign({"reminders": reminders}))
    assert code == 2, (out, err)
    assert "campaign.json: " + expected in err, err


# ----------------------------------------------------------------------------- follow-up


def test_the_follow_up_goes_once_only_to_those_who_did_not_follow_their_link(make_muster, smtp):
    m = make_muster(campaign=make_campaign({"launch": {"timezone": "UTC"}}))
    for a in ("clicker@example.org", "idle@example.org"):
        confirm(m, smtp, a, name=a[:4])
    # launched 50 s ago: the reminders go now, the follow-up after 60 s, 10 s from now
    at = utc_now() - datetime.timedelta(seconds=50)
    code, out, err = m.apply(with_moment(m.campaign, at, follow_up_after_minutes=1))
    assert code == 0, err
    clicker = smtp.wait_one("clicker@example.org", "reminder", timeout=10)
    smtp.wait_one("idle@example.org", "reminder", timeout=10)
    assert m.get(path_of(clicker.link("/a/"))).status == 302
    m.wait_clicks(1)
    follow = smtp.wait_one("idle@example.org", "followup", timeout=30)
    assert utc_now() >= at + datetime.timedelta(seconds=60)
    assert m.get(path_of(follow.link("/a/"))).status == 302
    assert follow.link("/u/") and follow.msg["List-Unsubscribe"]
    smtp.settle(3.0)
    assert smtp.select("clicker@example.org", "followup") == []
    assert len(smtp.select("idle@example.org", "followup")) == 1


def test_a_follow_up_outside_the_window_is_refused(muster):
    code, out, err = muster.apply(make_campaign({"follow_up_after_minutes": 120}))
    assert code == 2
    assert "campaign.json: $.follow_up_after_minutes: must be inside the window" in err, err
