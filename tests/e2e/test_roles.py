"""
test_roles: who may do what (docs/DASHBOARD.md, "Roles", "API tokens").

The role matrix takes every /admin and /api route `muster routes` prints and
tries it as: nobody, a server administrator, the campaign's owner, editor and
viewer, a plain organizer whose only role is on ANOTHER campaign, and an API
token of each of those five. EXPECTED below says, route by route, what each
must get; a route the table does not list fails the test, so a new route
cannot go unchecked. Then API tokens (expiry, listing without the secret,
revocation, a password change, a token acting with its organizer's current
roles) and CSRF tokens bound to the session.

Run: MUSTER_BIN=build/muster /usr/bin/python3 -m pytest tests/e2e/test_roles.py
"""
import os
import re
import subprocess
import urllib.parse

import pytest

from conftest import MUSTER_BIN, make_campaign
from test_admin import Organizer, add_organizer

PASSWORD = "correct horse battery staple"
TARGET = "handbook-github"  # a target of examples/docs-day.json
OTHER = "other-day"  # the campaign the stranger has a role on

# What a request must get: OK (the handler answered: not 401/403/404 and no
# redirect to the login page), LOGIN (303 to /login), or a status code.
OK, LOGIN = "ok", "login"
SUBJECTS = ("admin", "owner", "editor", "viewer", "stranger")

# (method, pattern): what an anonymous request gets, then each organizer's
# session. A token acts like its organizer's session on /api routes and is
# no session for /admin routes (LOGIN).
EXPECTED = {
    ("GET", "/admin"):
        {"anonymous": LOGIN, "admin": OK, "owner": OK, "editor": OK, "viewer": OK,
         "stranger": OK},
    ("GET", "/admin/campaigns/new"):
        {"anonymous": LOGIN, "admin": OK, "owner": OK, "editor": OK, "viewer": OK,
         "stranger": OK},
    ("POST", "/admin/campaigns"):
        {"anonymous": LOGIN, "admin": OK, "owner": OK, "editor": OK, "viewer": OK,
         "stranger": OK},
    ("GET", "/admin/campaigns/:slug"):
        {"anonymous": LOGIN, "admin": OK, "owner": OK, "editor": OK, "viewer": OK,
         "stranger": 404},
    ("POST", "/admin/campaigns/:slug"):
        {"anonymous": LOGIN, "admin": OK, "owner": OK, "editor": OK, "viewer": 403,
         "stranger": 404},
    ("GET", "/admin/campaigns/:slug/edit"):
        {"anonymous": LOGIN, "admin": OK, "owner": OK, "editor": OK, "viewer": 403,
         "stranger": 404},
    ("GET", "/admin/campaigns/:slug/charts"):
        {"anonymous": LOGIN, "admin": OK, "owner": OK, "editor": OK, "viewer": OK,
         "stranger": 404},
    ("GET", "/admin/campaigns/:slug/export/supporters.csv"):
        {"anonymous": LOGIN, "admin": OK, "owner": OK, "editor": 403, "viewer": 403,
         "stranger": 404},
    ("GET", "/admin/campaigns/:slug/export/clicks.csv"):
        {"anonymous": LOGIN, "admin": OK, "owner": OK, "editor": 403, "viewer": 403,
         "stranger": 404},
    ("GET", "/admin/campaigns/:slug/import"):
        {"anonymous": LOGIN, "admin": OK, "owner": OK, "editor": 403, "viewer": 403,
         "stranger": 404},
    ("POST", "/admin/campaigns/:slug/import"):
        {"anonymous": LOGIN, "admin": OK, "owner": OK, "editor": 403, "viewer": 403,
         "stranger": 404},
    ("POST", "/admin/campaigns/:slug/launch/pause"):
        {"anonymous": LOGIN, "admin": OK, "owner": OK, "editor": OK, "viewer": 403,
         "stranger": 404},
    ("POST", "/admin/campaigns/:slug/launch/resume"):
        {"anonymous": LOGIN, "admin": OK, "owner": OK, "editor": OK, "viewer": 403,
         "stranger": 404},
    ("POST", "/admin/campaigns/:slug/launch/test"):
        {"anonymous": LOGIN, "admin": OK, "owner": OK, "editor": OK, "viewer": 403,
         "stranger": 404},
    ("POST", "/admin/campaigns/:slug/targets/:target/close"):
        {"anonymous": LOGIN, "admin": OK, "owner": OK, "editor": OK, "viewer": 403,
         "stranger": 404},
    ("POST", "/admin/campaigns/:slug/targets/:target/open"):
        {"anonymous": LOGIN, "admin": OK, "owner": OK, "editor": OK, "viewer": 403,
         "stranger": 404},
    # Erasing an address erases it in every campaign: administrators only.
    ("GET", "/admin/supporters/erase"):
        {"anonymous": LOGIN, "admin": OK, "owner": 403, "editor": 403, "viewer": 403,
         "stranger": 403},
    ("POST", "/admin/supporters/erase"):
        {"anonymous": LOGIN, "admin": OK, "owner": 403, "editor": 403, "viewer": 403,
         "stranger": 403},
    # The suppression list is every campaign's: administrators only.
    ("GET", "/admin/suppression"):
        {"anonymous": LOGIN, "admin": OK, "owner": 403, "editor": 403, "viewer": 403,
         "stranger": 403},
    ("POST", "/admin/suppression"):
        {"anonymous": LOGIN, "admin": OK, "owner": 403, "editor": 403, "viewer": 403,
         "stranger": 403},
    ("POST", "/admin/suppression/remove"):
        {"anonymous": LOGIN, "admin": OK, "owner": 403, "editor": 403, "viewer": 403,
         "stranger": 403},
    ("GET", "/api/v1/campaigns/:slug/stats"):
        {"anonymous": 401, "admin": OK, "owner": OK, "editor": OK, "viewer": OK,
         "stranger": 404},
    ("GET", "/api/v1/campaigns/:slug/timeseries"):
        {"anonymous": 401, "admin": OK, "owner": OK, "editor": OK, "viewer": OK,
         "stranger": 404},
}


def organizer_routes():
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
    out = subprocess.run([MUSTER_BIN, "routes"], capture_output=True, text=True, timeout=30,
                         check=True, env=env).stdout
    routes = []
    for line in out.splitlines():
        method, pattern, flags = line.split()[:3]
        kinds = flags.split(",")
        if "admin" in kinds or "api" in kinds:
            routes.append((method, pattern, "api" if "api" in kinds else "admin"))
    assert routes, "muster routes printed no /admin or /api route"
    return routes


def concrete(pattern, slug):
    return re.sub(r":([a-z]+)", lambda m: {"slug": slug, "target": TARGET}.get(m.group(1), "x"),
                  pattern)


def outcome(r):
    """What a response means for the matrix: OK, LOGIN or the status."""
    if r.status == 303 and r.header("Location") == "/login":
        return LOGIN
    if r.status in (401, 403, 404):
        return r.status
    return OK


def login(muster, email):
    org = Organizer(muster)
    r = org.login(email=email, password=PASSWORD)
    assert r.status == 303, r
    return org


def token_for(muster, email, *extra):
    code, out, err = muster.cli("organizer", "token", email, *extra)
    assert code == 0, err
    return out.strip()


@pytest.fixture
def cast(muster):
    """The campaign (muster.slug), another one, and an organizer in each role."""
    other = make_campaign({"slug": OTHER, "title": "Another day"})
    code, _, err = muster.apply(other, name="other.json")
    assert code == 0, err
    emails = {s: f"{s}@example.org" for s in SUBJECTS}
    for subject, email in emails.items():
        role = "admin" if subject == "admin" else "organizer"
        code, out, err = muster.cli("organizer", "add", email, "--role", role,
                                    input=PASSWORD + "\n")
        assert code == 0, err
        assert f"role {role}" in out, out
    for subject in ("owner", "editor", "viewer"):
        code, out, err = muster.cli("campaign", "grant", muster.slug, emails[subject], subject)
        assert code == 0, err
    code, _, err = muster.cli("campaign", "grant", OTHER, emails["stranger"], "owner")
    assert code == 0, err
    return emails


def test_every_organizer_route_answers_each_role_as_the_table_says(muster, cast):
    routes = organizer_routes()
    listed = {(m, p) for m, p, _ in routes}
    assert listed == set(EXPECTED), (
        f"routes without an expectation: {sorted(listed - set(EXPECTED))}; "
        f"expectations without a route: {sorted(set(EXPECTED) - listed)}")
    sessions = {s: login(muster, cast[s]) for s in SUBJECTS}
    tokens = {s: token_for(muster, cast[s]) for s in SUBJECTS}
    failures, tried = [], 0
    for method, pattern, kind in routes:
        path = concrete(pattern, muster.slug)
        want = EXPECTED[(method, pattern)]
        fields = {"reason": "role matrix", "email": "", "csv": ""}

        def check(who, got, expected):
            nonlocal tried
            tried += 1
            if got != expected:
                failures.append(f"{method} {pattern} as {who}: got {got}, want {expected}")

        # nobody
        if method == "GET":
            r = muster.get(path)
        else:
            r = muster.post_form(path, dict(fields, csrf="x" * 64), cookie="muster_csrf=" + "x" * 43)
        check("anonymous", outcome(r), want["anonymous"])
        for subject in SUBJECTS:
            org = sessions[subject]
            if method == "GET":
                r = org.get(path)
            else:
                r = org.post_form(path, fields)
            check(subject, outcome(r), want[subject])
            bearer = {"Authorization": f"Bearer {tokens[subject]}"}
            if method == "GET":
                r = muster.get(path, headers=bearer)
            else:
                r = muster.post(path, body=urllib.parse.urlencode(fields),
                                headers=dict(bearer, **{
                                    "Content-Type": "application/x-www-form-urlencoded"}))
            check(f"{subject}'s token", outcome(r), want[subject] if kind == "api" else LOGIN)
    assert not failures, f"{len(failures)} of {tried} answers differ:\n" + "\n".join(failures)
    assert tried == len(routes) * (1 + 2 * len(SUBJECTS))
    print(f"role matrix: {len(routes)} routes x {1 + 2 * len(SUBJECTS)} callers = {tried} "
          "requests, all as expected")


def test_a_404_for_a_campaign_without_a_role_is_the_404_of_no_campaign(muster, cast):
    stranger = login(muster, cast["stranger"])
    hidden = stranger.get(f"/admin/campaigns/{muster.slug}")
    missing = stranger.get("/admin/campaigns/no-such-day")
    assert hidden.status == missing.status == 404
    assert hidden.text == missing.text
    token = token_for(muster, cast["stranger"])
    bearer = {"Authorization": f"Bearer {token}"}
    a = muster.get(f"/api/v1/campaigns/{muster.slug}/stats", headers=bearer)
    b = muster.get("/api/v1/campaigns/no-such-day/stats", headers=bearer)
    assert a.status == b.status == 404 and a.body == b.body


def test_the_campaign_list_shows_only_the_campaigns_one_may_see(muster, cast):
    def listed(org):
        page = org.get("/admin")
        assert page.status == 200
        return set(re.findall(r'<h2><a href="/admin/campaigns/([a-z0-9-]+)">', page.text))
    assert listed(login(muster, cast["admin"])) == {muster.slug, OTHER}
    assert listed(login(muster, cast["viewer"])) == {muster.slug}
    assert listed(login(muster, cast["stranger"])) == {OTHER}


def test_only_a_role_with_personal_data_sees_the_data_links(muster, cast):
    export = f"/admin/campaigns/{muster.slug}/export/supporters.csv"
    for subject, shown in (("owner", True), ("editor", False), ("viewer", False)):
        page = login(muster, cast[subject]).get(f"/admin/campaigns/{muster.slug}")
        assert page.status == 200
        assert (export in page.text) == shown, subject


def test_a_campaign_created_in_the_dashboard_is_owned_by_its_creator(muster, cast):
    from test_admin import new_campaign_fields
    viewer = login(muster, cast["viewer"])
    r = viewer.post_form("/admin/campaigns", new_campaign_fields(slug="viewers-own"))
    assert r.status == 303, r.text[:2000]
    assert viewer.get("/admin/campaigns/viewers-own/export/supporters.csv").status == 200
    code, out, _ = muster.cli("campaign", "show", "viewers-own")
    assert code == 0
    assert re.search(r"viewer@example\.org\s+owner", out), out
    # ... and nobody else but the administrators.
    assert login(muster, cast["stranger"]).get("/admin/campaigns/viewers-own").status == 404


def test_grant_show_and_revoke_from_the_command_line(muster, cast):
    code, out, err = muster.cli("campaign", "show", muster.slug)
    assert code == 0, err
    for subject in ("owner", "editor", "viewer"):
        assert re.search(rf"{subject}@example\.org\s+{subject}\s", out), out
    assert "stranger@example.org" not in out
    viewer = login(muster, cast["viewer"])
    assert viewer.get(f"/admin/campaigns/{muster.slug}/edit").status == 403
    code, out, err = muster.cli("campaign", "grant", muster.slug, cast["viewer"], "editor")
    assert code == 0, err
    assert viewer.get(f"/admin/campaigns/{muster.slug}/edit").status == 200
    code, out, err = muster.cli("campaign", "revoke", muster.slug, cast["viewer"])
    assert code == 0, err
    assert viewer.get(f"/admin/campaigns/{muster.slug}").status == 404
    code, _, err = muster.cli("campaign", "revoke", muster.slug, cast["viewer"])
    assert code == 2 and "has no role" in err
    code, _, err = muster.cli("campaign", "grant", muster.slug, cast["viewer"], "boss")
    assert code == 2 and "owner, editor or viewer" in err
    code, _, err = muster.cli("campaign", "grant", muster.slug, "nobody@example.org", "viewer")
    assert code == 2 and "no organizer" in err


def test_organizer_add_without_a_role_makes_an_administrator_and_says_so(muster):
    code, out, err = muster.cli("organizer", "add", "first@example.org", input=PASSWORD + "\n")
    assert code == 0, err
    assert "role admin" in out
    other = make_campaign({"slug": OTHER, "title": "Another day"})
    assert muster.apply(other, name="other.json")[0] == 0
    org = login(muster, "first@example.org")
    assert org.get(f"/admin/campaigns/{OTHER}/export/supporters.csv").status == 200
    # A new password keeps the role; --role changes it.
    code, out, _ = muster.cli("organizer", "add", "first@example.org", input="another password\n")
    assert code == 0 and "role admin" in out
    code, out, _ = muster.cli("organizer", "role", "first@example.org", "organizer")
    assert code == 0
    org = Organizer(muster)
    assert org.login(email="first@example.org", password="another password").status == 303
    assert org.get(f"/admin/campaigns/{OTHER}").status == 404
    code, _, err = muster.cli("organizer", "add", "x@example.org", "--role", "root",
                              input=PASSWORD + "\n")
    assert code == 2 and "admin or organizer" in err


# --------------------------------------------------------------------------- API tokens


def stats_with(muster, token, slug=None):
    return muster.get(f"/api/v1/campaigns/{slug or muster.slug}/stats",
                      headers={"Authorization": f"Bearer {token}"})


def test_a_token_of_zero_days_has_expired_and_one_of_a_day_works(muster, cast):
    dead = token_for(muster, cast["viewer"], "--days", "0")
    assert stats_with(muster, dead).status == 401
    live = token_for(muster, cast["viewer"], "--days", "1")
    assert stats_with(muster, live).status == 200
    code, out, _ = muster.cli("organizer", "tokens", cast["viewer"])
    assert code == 0
    rows = [line for line in out.splitlines()[1:] if line.strip()]
    assert len(rows) == 2, out
    assert rows[0].endswith("expired") and not rows[1].endswith("expired"), out
    code, _, err = muster.cli("organizer", "token", cast["viewer"], "--days", "-1")
    assert code == 2 and "--days" in err


def test_tokens_are_listed_without_their_secret_and_revoked_by_id(muster, cast):
    email = cast["owner"]
    first = token_for(muster, email)
    second = token_for(muster, email)
    assert stats_with(muster, first).status == 200  # a use is recorded
    code, out, err = muster.cli("organizer", "tokens", email)
    assert code == 0, err
    assert first not in out and second not in out
    assert first[:8] not in out and second[:8] not in out
    header, *rows = [line for line in out.splitlines() if line.strip()]
    assert header.split() == ["ID", "CREATED", "EXPIRES", "LAST", "USED"]
    assert len(rows) == 2
    ids = [row.split()[0] for row in rows]
    used = rows[0].split()[3]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", used), out
    assert rows[1].split()[3] == "never"
    # about 90 days
    created, expires = rows[0].split()[1], rows[0].split()[2]
    assert created[:4] <= expires[:4] and created != expires
    code, out, err = muster.cli("organizer", "revoke-token", email, ids[0])
    assert code == 0, err
    assert stats_with(muster, first).status == 401
    assert stats_with(muster, second).status == 200
    code, _, err = muster.cli("organizer", "revoke-token", email, ids[0])
    assert code == 2 and "no token" in err
    # Another organizer cannot revoke it by its id.
    code, _, err = muster.cli("organizer", "revoke-token", cast["viewer"], ids[1])
    assert code == 2
    assert stats_with(muster, second).status == 200


def test_a_password_change_revokes_the_organizers_tokens(muster, cast):
    mine = token_for(muster, cast["owner"])
    theirs = token_for(muster, cast["viewer"])
    code, out, err = muster.cli("organizer", "add", cast["owner"], input="a brand new password\n")
    assert code == 0, err
    assert "API tokens were revoked" in out
    assert stats_with(muster, mine).status == 401
    assert stats_with(muster, theirs).status == 200
    code, out, _ = muster.cli("organizer", "tokens", cast["owner"])
    assert "(no tokens)" in out


def test_a_token_acts_with_its_organizers_current_roles(muster, cast):
    token = token_for(muster, cast["stranger"])
    assert stats_with(muster, token).status == 404
    assert stats_with(muster, token, OTHER).status == 200
    assert muster.cli("campaign", "grant", muster.slug, cast["stranger"], "viewer")[0] == 0
    assert stats_with(muster, token).status == 200
    assert muster.cli("campaign", "revoke", OTHER, cast["stranger"])[0] == 0
    assert stats_with(muster, token, OTHER).status == 404
    assert muster.cli("organizer", "role", cast["stranger"], "admin")[0] == 0
    assert stats_with(muster, token, OTHER).status == 200


# --------------------------------------------------------------------------- CSRF


def test_a_matching_cookie_and_field_not_issued_for_this_session_are_refused(muster, cast):
    owner = login(muster, cast["owner"])
    close = f"/admin/campaigns/{muster.slug}/targets/{TARGET}/close"
    session = owner.cookies["muster_session"]
    # A pair planted by someone who can set cookies on the domain: the same
    # random value as cookie and field (what the old double submit took).
    planted = "P" * 43
    r = muster.post_form(close, {"csrf": planted, "reason": "planted"},
                         cookie=f"muster_session={session}; muster_csrf={planted}")
    assert r.status == 403, r
    # A real pair, issued by the server to the attacker's own browser.
    attacker = Organizer(muster)
    page = attacker.get("/login")
    field = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    cookie = attacker.cookies["muster_csrf"]
    r = muster.post_form(close, {"csrf": field, "reason": "transplanted"},
                         cookie=f"muster_session={session}; muster_csrf={cookie}")
    assert r.status == 403, r
    # The field of another session of the same organizer.
    other = login(muster, cast["owner"])
    r = muster.post_form(close, {"csrf": other.csrf(), "reason": "other session"},
                         cookie=f"muster_session={session}")
    assert r.status == 403, r
    code, out, _ = muster.cli("campaign", "show", muster.slug)
    assert re.search(rf"{TARGET}\s+\S+\s+open", out), out  # nothing was closed
    # The session's own field works.
    r = owner.post_form(close, {"reason": "mine"})
    assert r.status == 303 and "/login" not in r.header("Location"), r


def test_a_planted_cookie_alone_does_not_pass_the_pledge_form(muster):
    form = {"email": "someone@example.org", "name": "Some One", "timezone": "Europe/Berlin",
            "consent": "yes", "csrf": "Q" * 43}
    r = muster.post_form(f"/c/{muster.slug}/pledge", form, cookie="muster_csrf=" + "Q" * 43)
    assert r.status == 403, r
    assert muster.supporter("someone@example.org") is None
