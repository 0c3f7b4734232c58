"""
test_migrate: `muster migrate --to` moves a SQLite database into an empty PostgreSQL
database (docs/DEPLOYMENT.md, "Moving from SQLite to PostgreSQL").

A campaign lives on SQLite first: confirmed and pending pledges (the mails at the test's
aiosmtpd sink), a launch with its reminders sent, a click, a webhook that cannot be
delivered (its events stay queued), an organizer with an API token. The server stops,
`muster migrate` copies the file into a fresh database of the PostgreSQL cluster
MUSTER_TEST_PG names (conftest starts one when it is unset), and then:
- every table arrives: the command's own check (rows and a checksum per table), and
  what users and `store-inspect` see on both sides is equal (stats, both exports, the
  counts, every outbox and webhook row, the campaigns, each supporter's token material,
  the secret);
- `muster serve` on PostgreSQL honours the links mailed before the move (confirm, /a/,
  /u/, the calendar), the organizer's password and the API token, and new rows get
  new ids;
- a second migrate into the now non-empty database is refused with exit 2 and changes
  nothing; so is a database holding a table of another program; a source that a
  server still holds is refused (exit 1) before the target is touched; a missing
  source is not made.

The source is SQLite, so the tests run in the sqlite family (the postgres family skips
them: the same test again, with nothing of its own to add).

Run: /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e/test_migrate.py
"""
import itertools
import json
import os
import re
import subprocess
import urllib.parse

import pytest

import conftest
from conftest import BACKEND, STORE_INSPECT, make_campaign, sanitizer_lines, wait_until

pytestmark = pytest.mark.skipif(
    BACKEND != "sqlite", reason="the source of a migration is SQLite: runs in the sqlite family")

ORG_EMAIL = "lead@example.org"
ORG_PASSWORD = "correct horse battery staple"
TABLES = ["meta", "campaigns", "targets", "target_events", "supporters", "target_reports",
          "outbox", "clicks", "organizers", "sessions", "api_tokens", "webhook_events",
          "campaign_grants", "suppressions", "suppression_temporary",
          "suppression_campaign_counts"]

_made = itertools.count(1)


def _psql_rows(sql, database):
    location = conftest._pg_admin_location() + f" dbname={database}"
    proc = subprocess.run(["psql", location, "-qXAtv", "ON_ERROR_STOP=1", "-c", sql],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"psql {sql!r}: {proc.stderr}"
    return [line for line in proc.stdout.splitlines() if line]


@pytest.fixture
def pg_target():
    """A new, empty PostgreSQL database: (MUSTER_DB location, name). Dropped afterwards."""
    name = f"muster_migrate_{os.getpid()}_{next(_made)}"
    conftest._psql(f"CREATE DATABASE {name}")
    yield f"{conftest._pg_admin_location()} dbname={name}", name
    conftest._psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def relations(database):
    """The tables and sequences in the database's public schema."""
    return _psql_rows("SELECT relname FROM pg_class c JOIN pg_namespace n ON "
                      "n.oid = c.relnamespace WHERE nspname = 'public' AND relkind IN "
                      "('r', 'S') ORDER BY relname", database)


def inspect(m, db, *args):
    proc = subprocess.run([STORE_INSPECT, "--db", db, *map(str, args)], cwd=m.dir, env=m.env,
                          capture_output=True, text=True, timeout=60)
    assert not sanitizer_lines(proc.stderr), proc.stderr
    assert proc.returncode == 0, f"store-inspect {args}: {proc.stderr}"
    return json.loads(proc.stdout)


def migrate(m, to, source=None):
    env = {"MUSTER_DB": source} if source else None
    return m.cli("migrate", "--to", to, env=env, timeout=120)


def state(m, db, emails):
    """Everything a user or store-inspect sees of the campaign, read from db."""
    env = {"MUSTER_DB": db}
    code, stats, err = m.cli("stats", m.slug, "--json", env=env)
    assert code == 0, err
    exports = {}
    for what in ("supporters", "clicks"):
        out = m.dir / f"export-{what}.csv"
        code, _, err = m.cli("export", m.slug, what, "--out", out, env=env)
        assert code == 0, err
        exports[what] = out.read_text(encoding="utf-8")
    return {
        "stats": stats,
        "exports": exports,
        "count": inspect(m, db, "count"),
        "campaigns": inspect(m, db, "campaigns"),
        "outbox": inspect(m, db, "outbox"),
        "webhook-events": inspect(m, db, "webhook-events"),
        "secret": inspect(m, db, "secret-hex"),
        "supporters": {e: inspect(m, db, "supporter", e) for e in emails},
    }


def add_organizer_with_token(m):
    code, out, err = m.cli("organizer", "add", ORG_EMAIL, input=ORG_PASSWORD + "\n")
    assert code == 0, err
    code, out, err = m.cli("organizer", "token", ORG_EMAIL)
    assert code == 0, err
    return out.strip().split()[-1]


def login(m):
    """Logs in as a browser does (the CSRF field of the login page with its cookie)."""
    page = m.get("/login")
    assert page.status == 200, page
    field = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    cookies = "; ".join(c.split(";")[0] for c in page.headers.get_all("Set-Cookie") or [])
    return m.post_form("/login", {"email": ORG_EMAIL, "password": ORG_PASSWORD, "csrf": field},
                       cookie=cookies)


def test_migrate_moves_every_row_and_every_mailed_link_keeps_working(make_muster, smtp,
                                                                     pg_target):
    to, database = pg_target
    # An undeliverable webhook: its events stay queued, with their attempts.
    campaign = make_campaign({"webhook": {"url": "http://127.0.0.1:1/hook",
                                          "secret": "whsec_migrate_0123456789"}})
    m = make_muster(campaign, env={"MUSTER_WEBHOOK_ALLOW_PRIVATE": "1"})
    sqlite_db = m.db_path
    confirmed = ["ada@example.org", "bob@example.org", "cy@example.org"]
    flows = {a: m.confirm_supporter(a, name=a.split("@")[0]) for a in confirmed}
    pending = "pending@example.org"
    assert m.pledge(pending, name="Pending").status == 202
    pending_confirm = m.smtp.wait_one(pending, "confirm").link("/confirm/")
    token = add_organizer_with_token(m)
    assert login(m).status == 303  # a session row
    m.launch()
    reminders = {a: smtp.wait_one(a, "reminder") for a in confirmed}
    action = urllib.parse.urlsplit(reminders["ada@example.org"].link("/a/")).path
    r = m.get(action)
    assert r.status in (302, 303), r
    m.wait_clicks(1)
    wait_until(lambda: inspect(m, sqlite_db, "count", "webhook-events") >= 3, timeout=10,
               what="the webhook events queued")
    code, out, err = m.cli("suppression", "add", "gone@example.org", "--reason", "moved away")
    assert code == 0, (out, err)
    code, _ = m.stop()
    assert code == 0

    emails = confirmed + [pending]
    before = state(m, sqlite_db, emails)
    assert before["stats"] and before["count"]["supporters"] == 4
    assert before["count"]["outbox"] >= 7  # 4 confirmations, 3 welcomes, 3 reminders

    code, out, err = migrate(m, to)
    assert code == 0, f"migrate failed ({code}): {out}{err}"
    lines = {line.split()[0]: line.split() for line in out.splitlines()[1:-1]}
    assert sorted(lines) == sorted(TABLES), out
    for table, (name, source_rows, target_rows, check) in lines.items():
        assert source_rows == target_rows and check == "ok", out
    assert int(lines["supporters"][2]) == 4 and int(lines["api_tokens"][2]) == 1, out
    assert int(lines["sessions"][2]) == 1 and int(lines["clicks"][2]) == 1, out
    assert int(lines["suppressions"][2]) == 1, out
    assert re.search(r"^migrated \d+ rows in %d tables from " % len(TABLES), out.splitlines()[-1],
                     re.M), out

    # What users and store-inspect see is the same on both sides, row for row.
    after = state(m, to, emails)
    for key in before:
        assert after[key] == before[key], f"{key} differs after the move"
    assert before["supporters"][pending]["email"] == pending

    # Serving on PostgreSQL: every link mailed before the move still works.
    m.env["MUSTER_DB"] = to
    m.db_path = to
    m.start()
    assert m.get(action + "x").status == 404  # a wrong token is still wrong
    r = m.get(action)
    assert r.status in (302, 303), r
    m.wait_clicks(2)
    r = m.post(urllib.parse.urlsplit(pending_confirm).path)
    assert r.status == 200, r
    smtp.wait_one(pending, "welcome")  # the sender works on PostgreSQL too
    assert m.supporter(pending)["status"] == "confirmed"
    thank_you = flows["bob@example.org"]["thank_you"].text
    calendar = re.search(r'href="(/c/' + re.escape(m.slug) + r'/calendar/[A-Za-z0-9_-]+\.ics)"',
                         thank_you).group(1)
    r = m.get(calendar)
    assert r.status == 200 and r.header("Content-Type").split(";")[0] == "text/calendar", r
    unsubscribe = urllib.parse.urlsplit(flows["cy@example.org"]["unsubscribe_url"]).path
    assert m.get(unsubscribe).status == 200
    r = m.post(unsubscribe, body="List-Unsubscribe=One-Click",
               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 200, r
    assert m.supporter("cy@example.org")["unsubscribed_at"] != ""
    # The suppression list moved, and its entry is found by its keyed hash under the
    # moved secret (remove looks the address up by that hash; exit 2 when not found).
    code, out, err = m.cli("suppression", "list", "--json")
    assert code == 0 and "gone@example.org" in out, (out, err)
    code, out, err = m.cli("suppression", "remove", "gone@example.org")
    assert code == 0, (code, out, err)
    # The organizer's password and API token.
    assert login(m).status == 303
    api = f"/api/v1/campaigns/{m.slug}/stats"
    assert m.get(api, headers={"Authorization": f"Bearer {token}"}).status == 200
    assert m.get(api, headers={"Authorization": f"Bearer {token[:-2]}xx"}).status == 401
    # New rows get ids after the copied ones.
    assert m.pledge("new@example.org").status == 202
    smtp.wait_one("new@example.org", "confirm")
    assert m.supporter_count() == 5
    new_id = inspect(m, to, "supporter", "new@example.org")["id"]
    assert new_id > max(s["id"] for s in before["supporters"].values())

    # A second migrate into the now non-empty database: refused, nothing changed.
    m.stop()
    counts = inspect(m, to, "count")
    code, out, err = migrate(m, to, source=sqlite_db)
    assert code == 2, (code, out, err)
    assert "not empty" in err and "nothing copied" in err, err
    assert inspect(m, to, "count") == counts


def test_migrate_refuses_a_database_holding_a_table_of_another_program(make_muster,
                                                                       pg_target):
    to, database = pg_target
    conftest._psql("CREATE TABLE invoices (id int); INSERT INTO invoices VALUES (7)",
                   database=database)
    m = make_muster(start=False)
    code, out, err = migrate(m, to)
    assert code == 2, (code, out, err)
    assert "is not empty" in err and "invoices" in err, err
    assert relations(database) == ["invoices"]  # no schema was made
    assert _psql_rows("SELECT id FROM invoices", database) == ["7"]


def test_migrate_refuses_a_source_a_server_holds_before_touching_the_target(make_muster,
                                                                            pg_target):
    to, database = pg_target
    m = make_muster()  # serving on the SQLite file
    code, out, err = migrate(m, to)
    assert code == 1, (code, out, err)
    assert "stop it first" in err and "nothing copied" in err, err
    assert relations(database) == []
    m.stop()
    code, out, err = migrate(m, to)
    assert code == 0, err


def test_migrate_of_a_missing_source_makes_no_file(make_muster, pg_target, tmp_path):
    to, database = pg_target
    m = make_muster(start=False)
    missing = tmp_path / "nothing-here.db"
    code, out, err = migrate(m, to, source=str(missing))
    assert code == 2, (code, out, err)
    assert "no database at" in err, err
    assert not missing.exists()
    assert relations(database) == []
    code, out, err = m.cli("migrate")
    assert code == 2 and "usage: muster migrate --to" in err, err
