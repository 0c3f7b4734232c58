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

import pytest

from conftest import make_campaign
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


def test_without_mails_the_default_words_stay(make_muster, smtp):
    m = make_muster()
    confirm_mail = None
    assert m.pledge("plain@example.org", name="Plain").status == 202
    confirm_mail = smtp.wait_one("plain@example.org", "confirm")
    assert confirm_mail.msg["Subject"].startswith("Confirm your pledge: ")
    assert text_of(confirm_mail).startswith("Hello Plain,")


def test_only_a_subject_keeps_musters_opening(make_muster, smtp):
    m = make_muster(campaign=make_campaign({"mails": {"confirm": {"subject": "Yes? {{name}}"}}}))
    assert m.pledge("half@example.org", name="Half").status == 202
    mail = smtp.wait_one("half@example.org", "confirm")
    assert mail.msg["Subject"] == "Yes? Half"
    assert text_of(mail).startswith("Hello Half,")


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
