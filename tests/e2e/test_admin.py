"""
test_admin: the organizer's dashboard over HTTP (docs/API.md, "HTTP routes" and
"Promises": an organizer's dashboard and data are reachable only after login).

The access rules are checked for every route `muster routes` prints, so a new
/admin or /api route is covered without being listed here: anonymous requests
to admin routes get 303 to /login, to api routes 401; a logged-in POST without
the CSRF field gets 403. Then login, sessions and tokens, the campaign form
(the validator's errors next to their fields), the CSV export (the CLI's own
bytes, formula-safe), the import (refusals by line), the erase (two steps) and
the live data (time series, charts fragment).

Run: MUSTER_BIN=build/muster /usr/bin/python3 -m pytest tests/e2e/test_admin.py
"""
import csv
import html
import io
import json
import os
import re
import statistics
import subprocess
import time
import urllib.parse

import pytest

from conftest import MUSTER_BIN, make_campaign, token_of, wait_until

ORG_EMAIL = "organizer@example.org"
ORG_PASSWORD = "correct horse battery staple"
TARGET = "handbook-github"  # a target of examples/docs-day.json


def route_table():
    # Only the table is wanted here; leaks of a sanitized binary are the other
    # tests' business (their teardown looks for sanitizer reports).
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
    out = subprocess.run([MUSTER_BIN, "routes"], capture_output=True, text=True, timeout=30,
                         check=True, env=env).stdout
    rows = [line.split() for line in out.splitlines() if line.strip()]
    assert rows, "muster routes printed nothing"
    return [(method, pattern, flags.split(",")) for method, pattern, flags, _access in rows]


ROUTES = route_table()
ADMIN_ROUTES = [(m, p) for m, p, f in ROUTES if "admin" in f]
API_ROUTES = [(m, p) for m, p, f in ROUTES if "api" in f]
ADMIN_POSTS = [(m, p) for m, p, f in ROUTES if "admin" in f and m == "POST"]
ADMIN_GETS = [(m, p) for m, p, f in ROUTES if "admin" in f and m == "GET"]


def concrete(pattern, slug="docs-day"):
    """A real path for a route pattern: the campaign's slug and a target of it."""
    def fill(m):
        name = m.group(1)
        return {"slug": slug, "target": TARGET}.get(name, "x")
    return re.sub(r":([a-z]+)", fill, pattern)


def route_id(route):
    return f"{route[0]} {route[1]}"


class Organizer:
    """A browser's worth of state: the cookie jar, and forms that repeat the CSRF cookie."""

    def __init__(self, muster):
        self.m = muster
        self.cookies = {}

    def cookie_header(self):
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def remember(self, resp):
        for header in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";")[0]
            if not value or "Max-Age=0" in header:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    def request(self, method, path, body=None, headers=None):
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = self.cookie_header()
        r = self.m.request(method, path, body=body, headers=h)
        self.remember(r)
        return r

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def csrf(self):
        """The CSRF field a page gives this browser: bound to its session when
        logged in, else to its muster_csrf cookie (both HMACs under the
        server's secret, so the cookie alone is not the field)."""
        page = self.get("/admin" if "muster_session" in self.cookies else "/login")
        if page.status != 200:  # the session ended: the login page's token
            page = self.get("/login")
        m = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert m, f"no csrf field on the page: {page}"
        return m.group(1)

    def post_form(self, path, fields, with_csrf=True):
        fields = dict(fields)
        if with_csrf:
            fields["csrf"] = self.csrf()
        return self.request("POST", path, body=urllib.parse.urlencode(fields),
                            headers={"Content-Type": "application/x-www-form-urlencoded"})

    def login(self, email=ORG_EMAIL, password=ORG_PASSWORD):
        return self.post_form("/login", {"email": email, "password": password})


def add_organizer(muster, email=ORG_EMAIL, password=ORG_PASSWORD):
    code, out, err = muster.cli("organizer", "add", email, input=password + "\n")
    assert code == 0, f"organizer add failed ({code}): {out}{err}"


@pytest.fixture
def organizer(muster):
    """A logged-in organizer on the default campaign's server."""
    add_organizer(muster)
    org = Organizer(muster)
    r = org.login()
    assert r.status == 303 and r.header("Location") == "/admin", r
    assert "muster_session" in org.cookies
    return org


def form_fields(page):
    """The named fields of the first form with a csrf field, as a browser would send them."""
    fields = {}
    for m in re.finditer(r'<input type="(?!checkbox)[\w-]+"[^>]*?name="(\w+)"[^>]*?value="([^"]*)"',
                         page):
        fields[m.group(1)] = html.unescape(m.group(2))
    for m in re.finditer(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page):
        fields[m.group(1)] = html.unescape(m.group(2))
    for m in re.finditer(r'<textarea id="\w+" name="(\w+)"[^>]*>(.*?)</textarea>', page, re.S):
        fields[m.group(1)] = html.unescape(m.group(2))
    for m in re.finditer(r'<input type="checkbox"[^>]*name="(\w+)" value="(\w+)" checked', page):
        fields[m.group(1)] = m.group(2)
    for m in re.finditer(r'<select id="\w+" name="(\w+)"[^>]*>(.*?)</select>', page, re.S):
        sel = re.search(r'<option value="([^"]*)" selected', m.group(2))
        if sel:
            fields[m.group(1)] = html.unescape(sel.group(1))
    return fields


def new_campaign_fields(slug="new-day", **overrides):
    fields = {
        "slug": slug,
        "title": "Ask for a changelog",
        "description": "One message each, at the same moment.\r\n\r\nhttps://example.org/",
        "organizer_name": "Changelog Friends",
        "organizer_email": "friends@example.org",
        "launch_at": "2031-05-04T09:30",
        "timezone": "Europe/Berlin",
        "window_minutes": "90",
        "message_title": "Please keep a changelog",
        "message_body": "Hello,\r\n\r\n{{#statement}}{{statement}}\r\n{{/statement}}-- {{name}}",
        "statement_enabled": "on",
        "statement_max_chars": "500",
        "statement_prompt": "Why it matters to you",
        "assignment": "balanced",
        "targets": json.dumps([
            {"id": "core", "kind": "github_issue", "repo": "example/core"},
            {"id": "office", "kind": "email", "to": ["maintainers@example.org"]},
        ]),
        "fallback": "office, core",
        "close_after_reports": "3",
        "closed_message": "All closed. Thank you.",
    }
    fields.update(overrides)
    return fields


def export(org, slug, what):
    return org.get(f"/admin/campaigns/{slug}/export/{what}.csv")


def csv_rows(text):
    return list(csv.reader(io.StringIO(text, newline="")))


def campaign_slugs(muster):
    """The slugs `muster campaign list` shows."""
    code, out, err = muster.cli("campaign", "list")
    assert code == 0, err
    return [line.split("\t", 1)[0] for line in out.splitlines() if line]


def stored_campaign(muster, slug):
    """The store's row of a campaign: its stored file (spec_json) and revision."""
    [row] = [c for c in muster.inspect("campaigns") if c["slug"] == slug]
    return row


# --------------------------------------------------------------------------- access rules


@pytest.mark.parametrize("route", ADMIN_ROUTES, ids=route_id)
def test_every_admin_route_sends_an_anonymous_request_to_login(muster, route):
    method, pattern = route
    path = concrete(pattern)
    if method == "GET":
        r = muster.get(path)
    else:
        r = muster.post_form(path, {"csrf": "x" * 43, "reason": "r"},
                             cookie="muster_csrf=" + "x" * 43)
    assert r.status == 303, r
    assert r.header("Location") == "/login"


@pytest.mark.parametrize("route", API_ROUTES, ids=route_id)
def test_every_api_route_answers_an_anonymous_request_401(muster, route):
    method, pattern = route
    r = muster.request(method, concrete(pattern))
    assert r.status == 401, r
    assert r.json() == {"error": "authentication required"}
    assert "Bearer" in (r.header("WWW-Authenticate") or "")


@pytest.mark.parametrize("route", ADMIN_POSTS, ids=route_id)
def test_every_admin_post_without_the_csrf_field_is_403(organizer, route):
    _, pattern = route
    path = concrete(pattern)
    r = organizer.post_form(path, {"reason": "no token", "email": "a@example.org"},
                            with_csrf=False)
    assert r.status == 403, r
    wrong = organizer.post_form(path, {"csrf": "A" * 43, "reason": "wrong token"},
                                with_csrf=False)
    assert wrong.status == 403, wrong


@pytest.mark.parametrize("route", ADMIN_GETS, ids=route_id)
def test_every_admin_page_answers_a_logged_in_organizer(organizer, route):
    r = organizer.get(concrete(route[1]))
    assert r.status == 200, r
    assert "no-store" in r.header("Cache-Control")


def test_the_campaign_list_without_campaigns_says_how_to_make_one(make_muster):
    m = make_muster(apply=False)
    add_organizer(m)
    org = Organizer(m)
    assert org.login().status == 303
    r = org.get("/admin")
    assert r.status == 200
    assert "No campaigns yet" in r.text and 'href="/admin/campaigns/new"' in r.text


def test_an_admin_page_for_an_unknown_campaign_is_404(organizer):
    assert organizer.get("/admin/campaigns/no-such-day").status == 404
    assert organizer.get("/admin/campaigns/no-such-day/edit").status == 404
    assert organizer.get("/admin/campaigns/no-such-day/export/clicks.csv").status == 404
    assert organizer.get("/api/v1/campaigns/no-such-day/timeseries").status == 404


# --------------------------------------------------------------------------- login and sessions


def test_login_form_without_the_csrf_field_is_403(muster):
    add_organizer(muster)
    org = Organizer(muster)
    r = org.post_form("/login", {"email": ORG_EMAIL, "password": ORG_PASSWORD}, with_csrf=False)
    assert r.status == 403
    assert "muster_session" not in org.cookies


def test_wrong_password_is_401_and_sets_no_session_cookie(muster):
    add_organizer(muster)
    org = Organizer(muster)
    r = org.login(password="not the password")
    assert r.status == 401
    assert "Wrong email or password" in r.text
    cookies = r.headers.get_all("Set-Cookie") or []
    assert not [c for c in cookies if c.startswith("muster_session=")], cookies
    assert org.get("/admin").status == 303


LOGIN_FREE_FAILURES = 5  # per client address and account (src/http/app.c)


class OrganizerAt(Organizer):
    """An organizer whose requests come, through a trusted proxy, from ip."""

    def __init__(self, muster, ip):
        super().__init__(muster)
        self.ip = ip

    def request(self, method, path, body=None, headers=None):
        return super().request(method, path, body=body,
                               headers=dict(headers or {}, **{"X-Forwarded-For": self.ip}))


def behind_a_proxy(make_muster):
    return make_muster(env={"MUSTER_TRUSTED_PROXIES": "127.0.0.1"})


def test_after_5_failures_the_next_attempt_from_that_address_is_429(muster):
    add_organizer(muster)
    org = Organizer(muster)
    for i in range(LOGIN_FREE_FAILURES):
        assert org.login(password=f"guess {i}").status == 401
    r = org.login()  # even the right password: the address must wait
    assert r.status == 429
    assert "Too many login attempts" in r.text
    assert "muster_session" not in org.cookies


def test_the_login_limit_holds_for_the_address_in_another_case(muster):
    add_organizer(muster, email="admin@example.org")
    org = Organizer(muster)
    for i in range(LOGIN_FREE_FAILURES):
        assert org.login(email="Admin@Example.org", password=f"guess {i}").status == 401
    assert org.login(email="admin@example.org", password="guess again").status == 429
    assert org.login(email="ADMIN@EXAMPLE.ORG", password=ORG_PASSWORD).status == 429


def test_a_60_character_address_is_limited_like_a_short_one(muster):
    email = "a" * (60 - len("@example.org")) + "@example.org"
    assert len(email) == 60
    add_organizer(muster, email=email)
    org = Organizer(muster)
    # Another long address with the same first 57 characters is another key:
    # the limit hashes long keys instead of cutting them.
    twin = email[:-3] + "net"
    add_organizer(muster, email=twin)
    for i in range(LOGIN_FREE_FAILURES):
        assert org.login(email=email, password=f"guess {i}").status == 401
    assert org.login(email=email).status == 429
    assert org.login(email=twin).status == 303


def test_successful_logins_do_not_count_against_the_limit(muster):
    add_organizer(muster)
    for _ in range(21):  # more than any budget, the old one of 20 included
        assert Organizer(muster).login().status == 303
    r = Organizer(muster).login(password="a wrong one")
    assert r.status == 401


def test_failures_from_one_address_do_not_lock_the_account_out_from_another(make_muster):
    m = behind_a_proxy(make_muster)
    add_organizer(m)
    attacker = OrganizerAt(m, "203.0.113.7")
    statuses = [attacker.login(password=f"guess {i}").status for i in range(21)]
    assert OrganizerAt(m, "198.51.100.9").login().status == 303
    assert statuses[:LOGIN_FREE_FAILURES] == [401] * LOGIN_FREE_FAILURES
    assert set(statuses[LOGIN_FREE_FAILURES:]) == {429}
    assert attacker.login().status == 429


def test_an_unknown_address_takes_as_long_as_a_wrong_password(muster):
    add_organizer(muster)

    def median_seconds(email):
        times = []
        for i in range(5):
            org = Organizer(muster)
            org.csrf()
            start = time.monotonic()
            r = org.login(email=email, password=f"guess {i}")
            times.append(time.monotonic() - start)
            assert r.status == 401
        return statistics.median(times)

    known = median_seconds(ORG_EMAIL)
    unknown = median_seconds("nobody@example.org")
    assert unknown >= known / 2, f"unknown {unknown:.4f} s, known {known:.4f} s"


def test_logout_ends_the_session(organizer):
    old = organizer.cookies["muster_session"]
    assert organizer.get("/admin").status == 200
    r = organizer.post_form("/logout", {})
    assert r.status == 303 and r.header("Location") == "/login"
    assert "muster_session" not in organizer.cookies  # the cookie was expired
    replay = organizer.m.get("/admin", headers={"Cookie": f"muster_session={old}"})
    assert replay.status == 303 and replay.header("Location") == "/login"


def test_a_password_change_ends_every_session(organizer, muster):
    assert organizer.get("/admin").status == 200
    add_organizer(muster, password="a brand new password")
    r = organizer.get("/admin")
    assert r.status == 303 and r.header("Location") == "/login"
    fresh = Organizer(muster)
    assert fresh.login(password=ORG_PASSWORD).status == 401
    assert fresh.login(password="a brand new password").status == 303


def test_cookies_are_httponly_and_samesite_lax(muster):
    add_organizer(muster)
    org = Organizer(muster)
    page = org.get("/login")
    r = org.login()
    cookies = (page.headers.get_all("Set-Cookie") or []) + (r.headers.get_all("Set-Cookie") or [])
    names = {c.split("=")[0] for c in cookies}
    assert {"muster_csrf", "muster_session"} <= names, cookies
    for c in cookies:
        attrs = [a.strip().lower() for a in c.split(";")[1:]]
        assert "httponly" in attrs, c
        assert "samesite=lax" in attrs, c


def test_a_bearer_token_reads_the_api_and_a_wrong_one_is_401(muster):
    add_organizer(muster)
    code, out, err = muster.cli("organizer", "token", ORG_EMAIL)
    assert code == 0, err
    token = out.strip().split()[-1]
    for path in (f"/api/v1/campaigns/{muster.slug}/stats",
                 f"/api/v1/campaigns/{muster.slug}/timeseries"):
        ok = muster.get(path, headers={"Authorization": f"Bearer {token}"})
        assert ok.status == 200, ok
        assert ok.json()["campaign"] == muster.slug
        wrong = muster.get(path, headers={"Authorization": f"Bearer {token[:-2]}xx"})
        assert wrong.status == 401
    # A token is for the API, not a session for the pages.
    page = muster.get("/admin", headers={"Authorization": f"Bearer {token}"})
    assert page.status == 303


# --------------------------------------------------------------------------- the campaign form


def test_a_bad_slug_is_refused_with_422_and_the_message_next_to_the_slug_field(organizer, muster):
    r = organizer.post_form("/admin/campaigns", new_campaign_fields(slug="Bad Slug!"))
    assert r.status == 422, r
    page = r.text
    m = re.search(r'<input type="text" id="slug" name="slug" value="([^"]*)"[^>]*>\s*'
                  r'<div class="error" id="slug-error"><p>([^<]*)</p>', page)
    assert m, page
    assert html.unescape(m.group(1)) == "Bad Slug!"  # the value is kept
    assert "lowercase letters, digits and" in html.unescape(m.group(2))
    slug_input = re.search(r'<input[^>]*id="slug"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in slug_input and "slug-error" in slug_input
    # every other value is kept too
    assert 'value="Ask for a changelog"' in page
    assert "Please keep a changelog" in page
    assert muster.cli("campaign", "show", "Bad Slug!")[0] == 2  # no such campaign
    assert campaign_slugs(muster) == [muster.slug]


def test_errors_under_targets_go_next_to_the_targets_textarea(organizer):
    targets = json.dumps([{"id": "core", "kind": "github_issue", "repo": "not a repo"}])
    r = organizer.post_form("/admin/campaigns", new_campaign_fields(
        targets=targets, fallback="", timezone="Mars/Olympus", message_body="{{#name}}open"))
    assert r.status == 422
    page = html.unescape(r.text)
    assert re.search(r'</textarea>\s*<div class="error" id="targets-error"><p>targets\[0\]\.repo: ',
                     page), page
    assert re.search(r'id="timezone-error"><p>Unknown time zone "Mars/Olympus"', page)
    assert re.search(r'id="message_body-error"><p>Line 1, column 1: ', page)
    assert "Please fix 3 problems" in page


def test_targets_that_are_not_json_are_reported_at_the_targets_field(organizer):
    r = organizer.post_form("/admin/campaigns", new_campaign_fields(targets='[{"id": '))
    assert r.status == 422
    assert re.search(r'id="targets-error"><p>Not valid JSON: line 1', r.text), r.text
    assert "Please fix 1 problem below" in r.text


def test_the_form_creates_a_campaign_like_campaign_apply(organizer, muster):
    r = organizer.post_form("/admin/campaigns", new_campaign_fields())
    assert r.status == 303, r
    assert r.header("Location") == "/admin/campaigns/new-day?saved=created"
    view = organizer.get("/admin/campaigns/new-day?saved=created")
    assert view.status == 200 and "The campaign was created" in view.text
    code, out, err = muster.cli("campaign", "show", "new-day")
    assert code == 0, err
    public = muster.get("/c/new-day")
    assert public.status == 200 and "Ask for a changelog" in public.text
    spec = json.loads(stored_campaign(muster, "new-day")["spec_json"])
    assert spec["launch"] == {"at": "2031-05-04T09:30:00", "timezone": "Europe/Berlin",
                              "window_minutes": 90}
    assert spec["message"]["body"] == "Hello,\n\n{{#statement}}{{statement}}\n{{/statement}}-- {{name}}"
    assert spec["fallback"] == ["office", "core"]
    assert spec["statement"] == {"enabled": True, "max_chars": 500, "prompt": "Why it matters to you"}
    # the same slug again is not silently overwritten
    again = organizer.post_form("/admin/campaigns", new_campaign_fields(title="Other"))
    assert again.status == 422
    assert re.search(r'id="slug-error"><p>A campaign with this short name exists', again.text)


def test_saving_the_edit_form_unchanged_changes_nothing(organizer, muster):
    before = stored_campaign(muster, muster.slug)["revision"]
    page = organizer.get(f"/admin/campaigns/{muster.slug}/edit")
    assert page.status == 200
    fields = form_fields(page.text)
    assert fields["title"] == muster.campaign["title"]
    r = organizer.post_form(f"/admin/campaigns/{muster.slug}", fields)
    assert r.status == 303, r
    assert r.header("Location").endswith("?saved=unchanged")
    assert stored_campaign(muster, muster.slug)["revision"] == before


def test_editing_changes_the_campaign_and_the_public_page_at_once(organizer, muster):
    fields = form_fields(organizer.get(f"/admin/campaigns/{muster.slug}/edit").text)
    fields["title"] = "Ask for offline docs, please"
    fields["slug"] = "renamed"  # ignored: the address names the campaign
    r = organizer.post_form(f"/admin/campaigns/{muster.slug}", fields)
    assert r.status == 303 and r.header("Location").endswith("?saved=updated"), r
    assert "Ask for offline docs, please" in muster.get(f"/c/{muster.slug}").text
    assert campaign_slugs(muster) == [muster.slug]


def test_the_edit_page_previews_the_message_and_links_escaped(make_muster):
    m = make_muster(campaign=make_campaign({
        "title": "Docs <day> & co",
        "message": {"title": "<b>{{name}}</b> asks", "body": "{{statement}} -- {{name}}"},
    }))
    add_organizer(m)
    org = Organizer(m)
    assert org.login().status == 303
    page = org.get(f"/admin/campaigns/{m.slug}/edit").text
    assert "&lt;b&gt;Sample Supporter&lt;/b&gt; asks" in page
    assert "<b>Sample Supporter" not in page
    assert "https://github.com/example-docs/handbook/issues/new?title=" in page
    assert "%3Cb%3ESample%20Supporter%3C%2Fb%3E" in page  # the URL carries the message
    assert "mailto:maintainers@example.org?" in page
    assert "Docs &lt;day&gt; &amp; co" in org.get("/admin").text


# --------------------------------------------------------------------------- data out


def test_the_supporters_csv_is_the_clis_and_neutralises_formulas(organizer, muster):
    evil = '=HYPERLINK("http://evil.example/","click")'
    muster.confirm_supporter("formula@example.org", name=evil)
    muster.confirm_supporter("plain@example.org", name="Plain Person")
    r = export(organizer, muster.slug, "supporters")
    assert r.status == 200
    assert r.header("Content-Type") == "text/csv; charset=utf-8"
    assert r.header("Content-Disposition") == f'attachment; filename="{muster.slug}-supporters.csv"'
    code, out, err = muster.cli("export", muster.slug, "supporters", "--out", "cli.csv")
    assert code == 0, err
    assert r.body == (muster.dir / "cli.csv").read_bytes()
    assert r.body.endswith(b"\r\n")
    rows = csv_rows(r.text)
    assert rows[0][:3] == ["email", "name", "statement"]
    by_email = {row[0]: row for row in rows[1:]}
    assert by_email["formula@example.org"][1] == "'" + evil
    assert by_email["plain@example.org"][1] == "Plain Person"
    assert by_email["plain@example.org"][4] == "confirmed"


def test_the_clicks_csv_lists_each_click(organizer, muster, smtp):
    muster.confirm_supporter("clicker@example.org", name="Clicker")
    muster.launch()
    reminder = smtp.wait_one("clicker@example.org", "reminder")
    link = reminder.link("/a/")
    r = muster.get(urllib.parse.urlsplit(link).path)
    assert r.status in (302, 200), r
    wait_until(lambda: muster.click_count() == 1, what="the click to be recorded")
    r = export(organizer, muster.slug, "clicks")
    assert r.status == 200
    rows = csv_rows(r.text)
    assert rows[0] == ["at", "target", "rerouted", "email"]
    assert len(rows) == 2 and rows[1][3] == "clicker@example.org" and rows[1][2] == "no"
    code, out, err = muster.cli("export", muster.slug, "clicks", "--out", "clicks.csv")
    assert code == 0, err
    assert r.body == (muster.dir / "clicks.csv").read_bytes()


# --------------------------------------------------------------------------- data in


def test_the_import_refuses_rows_without_consent_and_reports_them_by_line(organizer, muster):
    data = ("email,name,consent,timezone\r\n"
            "ada@example.org,Ada,yes,Europe/London\r\n"
            "bob@example.org,Bob,no,UTC\r\n"
            "\"multi\nline\",Carol,yes,UTC\r\n"
            "dan@example.org,Dan,,UTC\r\n"
            "erin@example.org,Erin,TRUE,Mars/Base\r\n")
    r = organizer.post_form(f"/admin/campaigns/{muster.slug}/import", {"csv": data})
    assert r.status == 200, r
    page = html.unescape(r.text)
    assert re.search(r'id="import-imported">1<', page)
    assert re.search(r'id="import-refused">4<', page)
    refused = re.findall(r'<tr><th scope="row">(\d+)</th><td><span class="badge [\w-]+">Refused'
                         r'</span></td><td>([^<]*)</td></tr>', page)
    assert refused == [("3", "no consent (the consent column must say yes)"),
                       ("4", "not a valid email address"),
                       ("6", "no consent (the consent column must say yes)"),
                       ("7", "unknown time zone")], refused
    imported = muster.supporter("ada@example.org")
    assert imported and imported["status"] == "confirmed" and imported["source"] == "import"
    assert muster.supporter("bob@example.org") is None
    # the same file again: Ada is skipped, not duplicated
    again = organizer.post_form(f"/admin/campaigns/{muster.slug}/import", {"csv": data})
    assert re.search(r'id="import-skipped">1<', again.text)
    assert [r["email"].lower() for r in muster.export("supporters")].count("ada@example.org") == 1


def test_an_import_that_is_not_csv_imports_nothing(organizer, muster):
    bad = 'email,consent\r\nok@example.org,yes\r\n"unclosed,yes\r\n'
    r = organizer.post_form(f"/admin/campaigns/{muster.slug}/import", {"csv": bad})
    assert r.status == 422
    assert "Nothing was imported" in r.text
    assert muster.supporter("ok@example.org") is None
    no_header = organizer.post_form(f"/admin/campaigns/{muster.slug}/import",
                                    {"csv": "a,b\r\n1,2\r\n"})
    assert no_header.status == 422 and "header row" in no_header.text


# --------------------------------------------------------------------------- erase


def test_erase_asks_first_then_removes_the_address_from_every_export(organizer, muster):
    muster.confirm_supporter("gone@example.org", name="Soon Gone")
    assert b"gone@example.org" in export(organizer, muster.slug, "supporters").body
    ask = organizer.post_form("/admin/supporters/erase", {"email": "Gone@Example.org"})
    assert ask.status == 200
    assert "This cannot be undone" in ask.text and 'name="confirm" value="yes"' in ask.text
    assert b"gone@example.org" in export(organizer, muster.slug, "supporters").body
    done = organizer.post_form("/admin/supporters/erase",
                               {"email": "Gone@Example.org", "confirm": "yes"})
    assert done.status == 200 and "was erased" in done.text
    body = export(organizer, muster.slug, "supporters").body
    assert b"gone@example.org" not in body and b"Soon Gone" not in body
    assert len(csv_rows(body.decode())) == 2  # the row stays, anonymous
    assert b"gone@example.org" not in export(organizer, muster.slug, "clicks").body
    again = organizer.post_form("/admin/supporters/erase",
                                {"email": "gone@example.org", "confirm": "yes"})
    assert "nothing was erased" in again.text


# --------------------------------------------------------------------------- live view


def test_closing_a_target_with_a_reason_shows_in_stats_and_history(organizer, muster):
    r = organizer.post_form(f"/admin/campaigns/{muster.slug}/targets/{TARGET}/close",
                            {"reason": "repository locked <for now>"})
    assert r.status == 303
    stats = organizer.get(f"/api/v1/campaigns/{muster.slug}/stats").json()
    target = next(t for t in stats["targets"] if t["id"] == TARGET)
    assert target["state"] == "closed" and target["reason"] == "repository locked <for now>"
    page = organizer.get(f"/admin/campaigns/{muster.slug}").text
    assert "repository locked &lt;for now&gt;" in page
    assert f"by {ORG_EMAIL}" in page  # the history names who did it
    assert f"/targets/{TARGET}/open" in page and "Reopen target" in page
    r = organizer.post_form(f"/admin/campaigns/{muster.slug}/targets/{TARGET}/open", {})
    assert r.status == 303
    stats = organizer.get(f"/api/v1/campaigns/{muster.slug}/stats").json()
    assert next(t for t in stats["targets"] if t["id"] == TARGET)["state"] == "open"


def test_the_time_series_counts_pledges_and_confirmations(organizer, muster):
    empty = organizer.get(f"/api/v1/campaigns/{muster.slug}/timeseries").json()
    assert empty["pledging"] is None and empty["launch"] is None
    muster.confirm_supporter("one@example.org")
    assert muster.pledge("two@example.org").status == 202
    doc = organizer.get(f"/api/v1/campaigns/{muster.slug}/timeseries").json()
    p = doc["pledging"]
    assert p["bucket_seconds"] == 60 and p["points"] == len(p["pledged"]) >= 2
    assert p["pledged"][-1] == 2 and p["confirmed"][-1] == 1
    assert p["pledged"] == sorted(p["pledged"])  # cumulative
    assert doc["timezone"] == muster.campaign["launch"]["timezone"]


def test_the_charts_are_accessible_svg_with_a_table(organizer, muster):
    muster.confirm_supporter("chart@example.org")
    r = organizer.get(f"/admin/campaigns/{muster.slug}/charts")
    assert r.status == 200
    svg = re.search(r'<svg class="chart"[^>]*>', r.text).group(0)
    assert 'role="img"' in svg and 'aria-labelledby="chart-pledging-title chart-pledging-desc"' in svg
    assert '<title id="chart-pledging-title">Pledges and confirmations over time</title>' in r.text
    assert re.search(r'<desc id="chart-pledging-desc">[^<]*1 pledged, 1 confirmed', r.text)
    assert "<table>" in r.text and "<polyline" in r.text


def test_dashboard_pages_have_no_inline_script_or_style(organizer, muster):
    for path in ("/admin", f"/admin/campaigns/{muster.slug}", f"/admin/campaigns/{muster.slug}/edit",
                 "/admin/campaigns/new", "/login", "/admin/supporters/erase",
                 f"/admin/campaigns/{muster.slug}/import"):
        page = organizer.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), path
        assert not re.search(r"\sstyle=", page), path
        assert not re.search(r"\son[a-z]+=", page), path
    css = organizer.get("/static/admin.css")
    js = organizer.get("/static/admin.js")
    assert css.status == 200 and css.header("Content-Type").startswith("text/css")
    assert js.status == 200 and js.header("Content-Type").startswith("text/javascript")
