"""
test_cli: the command line (README.md, "Command line" and "Campaign file"):
`campaign apply` (invalid files refused as a whole with every error listed,
--dry-run, idempotence), `campaign list|show`, usage errors, `target close`,
and `stats`; stored text reaches a terminal with its control characters
neutralised.
"""
import json
import os
import pty
import re
import select
import signal
import subprocess
import time
import urllib.parse

import pytest

from conftest import BACKEND, MUSTER_BIN, ROOT, make_campaign, sanitizer_lines, wait_until


def snapshot(m):
    """What the organizer can see of the stored campaigns, and what the store keeps
    of them: each campaign's stored file, launch moment, revision and targets."""
    code1, shown, err1 = m.cli("campaign", "show", m.slug)
    code2, listed, err2 = m.cli("campaign", "list")
    assert code1 == 0 and code2 == 0, err1 + err2
    stored = m.inspect("campaigns")
    return shown, listed, stored


def error_lines(stderr):
    return [line for line in stderr.splitlines() if line.strip()]


# ----------------------------------------------------------------------------- invalid files


def test_apply_json_syntax_error_reports_file_line_column_and_changes_nothing(make_muster):
    m = make_muster(start=False)
    before = snapshot(m)
    (m.dir / "broken.json").write_text('{\n  "slug": "docs-day",\n  "title": \n}\n')
    code, out, err = m.cli("campaign", "apply", "broken.json")
    assert code == 2, (code, out, err)
    lines = error_lines(err)
    assert len(lines) == 1, err
    assert re.match(r"^broken\.json:4:\d+: \S", lines[0]), lines[0]
    assert snapshot(m) == before


def test_apply_invalid_values_lists_every_error_with_its_path_and_changes_nothing(make_muster):
    m = make_muster(start=False)
    before = snapshot(m)
    bad = make_campaign({"title": "An edited title that must not be stored"})
    bad["launch"]["timezone"] = "Mars/Base"
    bad["targets"][1] = {"id": "gh2", "kind": "github_issue", "repo": "not a repo!"}
    bad["fallback"] = ["handbook-github", "gh2", "maintainers"]
    bad["statement"]["max_chars"] = "many"
    m.write_campaign(bad, name="bad.json")
    code, out, err = m.cli("campaign", "apply", "bad.json")
    assert code == 2, (code, out, err)
    lines = error_lines(err)
    for path in ("$.launch.timezone", "$.targets[1].repo", "$.statement.max_chars"):
        assert any(line.startswith(f"bad.json: {path}: ") and len(line) > len(path) + 12
                   for line in lines), (path, err)
    assert len(lines) == 3, err
    assert snapshot(m) == before


def test_apply_template_error_reports_line_and_column_in_the_string(make_muster):
    m = make_muster(start=False)
    before = snapshot(m)
    bad = make_campaign()
    bad["message"]["body"] = "Hello,\n  {{nmae}} wants offline docs."
    m.write_campaign(bad, name="tpl.json")
    code, out, err = m.cli("campaign", "apply", "tpl.json")
    assert code == 2, (code, out, err)
    lines = error_lines(err)
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("tpl.json: $.message.body"), line
    # line 2, column 3 of the template (where "{{nmae}}" starts)
    assert re.search(r"\b2:3\b|line 2\D+column 3\b", line), line
    assert "nmae" in line
    assert snapshot(m) == before


def test_invalid_file_of_a_new_campaign_creates_nothing(make_muster):
    m = make_muster(start=False)
    before = snapshot(m)
    bad = make_campaign({"slug": "other-day"})
    bad["targets"] = []
    m.write_campaign(bad, name="new.json")
    code, out, err = m.cli("campaign", "apply", "new.json")
    assert code == 2, (code, out, err)
    assert any(line.startswith("new.json: $.targets") for line in error_lines(err)), err
    assert snapshot(m) == before
    assert m.cli("campaign", "show", "other-day")[0] == 2


def test_launch_moment_in_a_daylight_saving_gap_is_refused_naming_the_field_and_the_gap(
        make_muster):
    m = make_muster(start=False)
    before = snapshot(m)
    bad = make_campaign({"slug": "gap-day"})
    bad["launch"] = {"at": "2031-03-09T02:30:00", "timezone": "America/New_York"}
    m.write_campaign(bad, name="gap.json")
    code, out, err = m.cli("campaign", "apply", "gap.json")
    assert code == 2, (code, out, err)
    lines = error_lines(err)
    assert len(lines) == 1, err
    assert lines[0].startswith("gap.json: $.launch.at: "), lines[0]
    assert "does not exist" in lines[0] and "from 02:00 to 03:00" in lines[0], lines[0]
    assert snapshot(m) == before
    assert m.cli("campaign", "apply", "gap.json", "--dry-run")[0] == 2


def test_launch_moment_that_occurs_twice_is_applied_with_a_warning_naming_the_first(make_muster):
    m = make_muster(start=False)
    twice = make_campaign({"slug": "twice-day"})
    twice["launch"] = {"at": "2031-11-02T01:30:00", "timezone": "America/New_York"}
    m.write_campaign(twice, name="twice.json")
    code, out, err = m.cli("campaign", "apply", "twice.json")
    assert code == 0, (code, out, err)
    warning = [line for line in error_lines(err) if "$.launch.at" in line]
    assert len(warning) == 1, err
    assert "occurs twice" in warning[0] and "using the first" in warning[0], warning[0]
    assert "2031-11-02T05:30:00Z" in warning[0], warning[0]  # 01:30 EDT, not EST
    stored = {c["slug"]: c for c in m.inspect("campaigns")}["twice-day"]
    assert stored["launch_utc"] == 1951363800, stored  # 2031-11-02T05:30:00Z


def test_launch_moment_in_the_past_is_applied_with_a_warning(make_muster):
    m = make_muster(start=False)
    past = make_campaign({"slug": "past-day"})
    past["launch"] = {"at": "2020-06-01T10:00:00", "timezone": "UTC"}
    m.write_campaign(past, name="past.json")
    code, out, err = m.cli("campaign", "apply", "past.json")
    assert code == 0, (code, out, err)
    assert "created" in out, out
    warning = [line for line in error_lines(err) if "$.launch.at" in line]
    assert len(warning) == 1 and "has passed" in warning[0], err
    # a moment ahead gets no warning
    code, out, err = m.cli("campaign", "apply", "campaign.json")
    assert code == 0 and "$.launch.at" not in err, err


# ----------------------------------------------------------------------------- apply


def test_apply_dry_run_changes_nothing(make_muster):
    m = make_muster(start=False)
    before = snapshot(m)
    edited = make_campaign({"title": "Dry run title"})
    m.write_campaign(edited, name="edited.json")
    code, out, err = m.cli("campaign", "apply", "edited.json", "--dry-run")
    assert code == 0, err
    assert snapshot(m) == before
    new = make_campaign({"slug": "dry-day"})
    m.write_campaign(new, name="new.json")
    code, out, err = m.cli("campaign", "apply", "--dry-run", "new.json")
    assert code == 0, err
    assert snapshot(m) == before
    assert m.cli("campaign", "show", "dry-day")[0] == 2


def test_applying_the_same_file_twice_prints_unchanged(make_muster):
    m = make_muster(start=False)
    before = snapshot(m)
    code, out, err = m.apply()
    assert code == 0, err
    assert "unchanged" in out, out
    assert snapshot(m) == before


def test_applying_an_edited_file_updates_the_campaign(make_muster):
    m = make_muster(start=False)
    code, out, err = m.apply(make_campaign({"title": "A better title"}))
    assert code == 0, err
    assert "updated" in out, out
    code, shown, err = m.cli("campaign", "show", m.slug)
    assert "A better title" in shown


def test_campaign_list_and_show(make_muster):
    m = make_muster(start=False)
    second = make_campaign({"slug": "second-day", "title": "The second day"})
    code, out, err = m.apply(second, name="second.json")
    assert code == 0, err
    code, listed, err = m.cli("campaign", "list")
    assert code == 0, err
    lines = [l for l in listed.splitlines() if l.strip()]
    assert len(lines) == 2, listed
    assert any(l.split()[0] == "docs-day" and "Ask for offline documentation" in l for l in lines)
    assert any(l.split()[0] == "second-day" and "The second day" in l for l in lines)
    code, shown, err = m.cli("campaign", "show", "docs-day")
    assert code == 0, err
    assert "docs-day" in shown and "Ask for offline documentation" in shown
    assert "America/New_York" in shown
    for target in ("handbook-github", "handbook-gitlab", "maintainers"):
        assert target in shown
    code, out, err = m.cli("campaign", "show", "no-such-day")
    assert code == 2
    assert len(error_lines(err)) == 1 and "no-such-day" in err


# ----------------------------------------------------------------------------- usage errors

USAGE_ERRORS = [
    # argv, a word the error must name (None: any)
    (["frobnicate"], "frobnicate"),
    (["--bogus", "init"], "--bogus"),
    (["campaign"], None),
    (["campaign", "frob"], None),
    (["campaign", "show"], None),
    (["campaign", "apply"], None),
    (["campaign", "apply", "missing.json"], "missing.json"),
    (["campaign", "apply", "x.json", "--wat"], "--wat"),
    (["target", "close", "docs-day"], None),
    (["target", "shut", "docs-day", "handbook-github"], None),
    (["target", "close", "docs-day", "no-such-target"], "no-such-target"),
    (["target", "close", "no-such-day", "handbook-github"], "no-such-day"),
    (["launch"], None),
    (["launch", "no-such-day"], "no-such-day"),
    (["stats"], None),
    (["stats", "no-such-day"], "no-such-day"),
    (["stats", "docs-day", "--yaml"], None),
    (["init", "extra"], None),
]


@pytest.mark.parametrize("argv,word", USAGE_ERRORS, ids=[" ".join(a) for a, _ in USAGE_ERRORS])
def test_bad_usage_exits_2_with_one_line_error_on_stderr(make_muster, argv, word):
    m = make_muster(start=False)
    before = snapshot(m)
    code, out, err = m.cli(*argv)
    assert code == 2, (code, out, err)
    lines = error_lines(err)
    assert len(lines) == 1, err
    if word:
        assert word in lines[0], lines[0]
    assert snapshot(m) == before


# ----------------------------------------------------------------------------- targets


def launch_with_supporters(m, smtp, addrs):
    for a in addrs:
        m.confirm_supporter(a)
    m.launch()
    return {a: urllib.parse.urlsplit(smtp.wait_one(a, "reminder").link("/a/")).path
            for a in addrs}


def host_of(response):
    assert response.status == 302, response
    return urllib.parse.urlsplit(response.header("Location")).netloc


def test_target_close_sends_the_next_new_supporter_elsewhere(muster, smtp):
    links = launch_with_supporters(muster, smtp, ["ada@example.org"])
    code, out, err = muster.cli("target", "close", muster.slug, "handbook-github",
                                "--reason", "issues restricted")
    assert code == 0, err
    r = muster.get(links["ada@example.org"])
    assert host_of(r) == "gitlab.example.org"
    stats = muster.stats()
    by_id = {t["id"]: t for t in stats["targets"]}
    assert by_id["handbook-github"]["state"] == "closed"
    assert by_id["handbook-github"]["reason"] == "issues restricted"
    assert by_id["handbook-github"]["clicks"] == 0


def test_supporter_whose_target_closed_is_rerouted_on_next_click(muster, smtp):
    links = launch_with_supporters(muster, smtp, ["ada@example.org"])
    first = muster.get(links["ada@example.org"])
    assert host_of(first) == "github.com"
    assert host_of(muster.get(links["ada@example.org"])) == "github.com"  # sticky
    assert muster.cli("target", "close", muster.slug, "handbook-github")[0] == 0
    assert host_of(muster.get(links["ada@example.org"])) == "gitlab.example.org"
    assert muster.cli("target", "open", muster.slug, "handbook-github")[0] == 0
    # the new assignment is sticky too
    assert host_of(muster.get(links["ada@example.org"])) == "gitlab.example.org"


def test_all_targets_closed_shows_the_closed_message(muster, smtp):
    links = launch_with_supporters(muster, smtp, ["ada@example.org"])
    for t in ("handbook-github", "handbook-gitlab", "maintainers"):
        assert muster.cli("target", "close", muster.slug, t)[0] == 0
    r = muster.get(links["ada@example.org"])
    assert r.status == 200, r
    assert muster.campaign["closed_message"] in r.text


# ----------------------------------------------------------------------------- stats


def test_stats_plain_and_json(muster, smtp):
    muster.confirm_supporter("ada@example.org")
    muster.pledge("bob@example.org")
    smtp.wait_one("bob@example.org", "confirm")
    code, plain, err = muster.cli("stats", muster.slug)
    assert code == 0, err
    assert muster.slug in plain
    assert re.search(r"^\s*pledges\D*\b2\b", plain, re.M), plain
    assert re.search(r"^\s*confirmed\D*\b1\b", plain, re.M), plain
    for target in ("handbook-github", "handbook-gitlab", "maintainers"):
        assert target in plain
    code, out, err = muster.cli("stats", muster.slug, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["pledges"] == 2 and doc["confirmed"] == 1, doc
    assert doc["reminders"] == {"sent": 0, "failed": 0, "pending": 0}, doc
    assert doc["clicks"] == 0
    assert [t["id"] for t in doc["targets"]] == ["handbook-github", "handbook-gitlab",
                                                 "maintainers"]


# ----------------------------------------------------------------------------- edits after launch


def test_launched_campaign_message_is_frozen_but_other_fields_change(muster, smtp):
    launch_with_supporters(muster, smtp, ["ada@example.org"])
    before = snapshot(muster)
    edited = make_campaign({"message": {"body": "A different message -- {{name}}"}})
    edited["launch"] = muster.campaign["launch"]
    muster.write_campaign(edited, name="frozen.json")
    code, out, err = muster.cli("campaign", "apply", "frozen.json")
    assert code == 2, (code, out, err)
    lines = error_lines(err)
    assert len(lines) == 1 and "frozen.json" in lines[0] and "frozen" in lines[0], err
    assert snapshot(muster) == before
    retitled = dict(muster.campaign, title="Renamed after launch")
    code, out, err = muster.apply(retitled, name="retitled.json")
    assert code == 0, err
    assert "Renamed after launch" in muster.get(f"/c/{muster.slug}").text


def test_target_added_by_apply_is_used_by_the_running_server_at_once(muster, smtp):
    links = launch_with_supporters(muster, smtp, ["ada@example.org", "bob@example.org"])
    assert host_of(muster.get(links["ada@example.org"])) == "github.com"
    for t in ("handbook-github", "handbook-gitlab", "maintainers"):
        assert muster.cli("target", "close", muster.slug, t)[0] == 0
    r = muster.get(links["bob@example.org"])
    assert r.status == 200 and muster.campaign["closed_message"] in r.text, r
    grown = dict(muster.campaign)
    grown["targets"] = muster.campaign["targets"] + [
        {"id": "petition", "kind": "web",
         "url": "https://petition.example/sign/{{target.id}}?name={{name}}"}]
    grown["fallback"] = muster.campaign["fallback"] + ["petition"]
    code, out, err = muster.apply(grown, name="grown.json")
    assert code == 0, err
    for path in (links["bob@example.org"], links["ada@example.org"]):
        r = muster.get(path)
        assert r.status == 302, r
        url = urllib.parse.urlsplit(r.header("Location"))
        assert (url.netloc, url.path) == ("petition.example", "/sign/petition"), url


# ----------------------------------------------------------------------------- the database's location


@pytest.mark.skipif(BACKEND != "postgres", reason="PostgreSQL only: a location with a password")
def test_a_password_in_muster_db_is_never_printed(make_muster):
    """`init` shows where the database is, and a failed open says which database failed,
    both without the password; the PostgreSQL forms of MUSTER_DB (key=value pairs and a
    URL) carry it in different places."""
    m = make_muster(start=False)
    secret = "hunter2-not-for-logs"
    # The throw-away cluster trusts local connections: a password given is not checked.
    code, out, err = m.cli("init", env={"MUSTER_DB": f"{m.db_path} password={secret}"})
    assert code == 0, err
    assert secret not in out + err and "password=***" in out, out
    missing = f"{m.db_path} dbname=muster_no_such_database password='{secret}'"
    code, out, err = m.cli("stats", m.slug, env={"MUSTER_DB": missing})
    assert code == 1, (code, out, err)
    assert secret not in out + err, err
    assert "muster_no_such_database" in err and "***" in err, err
    url = f"postgresql://muster:{secret}@127.0.0.1:1/muster?connect_timeout=2"
    code, out, err = m.cli("stats", m.slug, env={"MUSTER_DB": url})
    assert code == 1, (code, out, err)
    assert secret not in out + err, err
    assert "postgresql://muster:***@127.0.0.1:1/muster" in err, err


# ----------------------------------------------------------------------------- terminal escapes

# What stored text could make a terminal do, by the ways it can still get stored:
# campaign files and pledges refuse C0 and C1 controls (test_injection.py), but not
# the right-to-left overrides and isolates that disguise the text around them; a
# target's --reason refuses C0 only, so DEL and C1 controls (U+009B CSI, U+009D OSC)
# reach the store; and a file name the organizer typed carries anything, ESC
# sequences included (clear the screen, set the window title, an OSC 8 hyperlink).
HOSTILE_TITLE = "Docs day \u202egnp.exe\u202c \u2066x\u2069 \u202aA\u202bB\u202dC"
HOSTILE_NAME = "Mallory \u202eevil\u2067"
HOSTILE_REASON = "gone \u009b2J\u009d8;;https://evil.example/\u009c\x7f \u202eesrever"
HOSTILE_FILE = ("day \x1b[2J\x1b[H\x1b]0;pwned\x07 "
                "\x1b]8;;evil.example\x1b\\click\x1b]8;;\x1b\\.json")


def terminal_safe(text):
    """No ESC or other C0 control but line breaks and tabs, no DEL, no C1 control
    (as a character or as a raw byte) and no bidi override or isolate."""
    raw = text.encode("utf-8", "surrogateescape")
    assert b"\x1b" not in raw, text
    bad = [c for c in text if (ord(c) < 0x20 and c not in "\r\n\t") or ord(c) == 0x7f or
           0x80 <= ord(c) <= 0x9f or 0x202a <= ord(c) <= 0x202e or 0x2066 <= ord(c) <= 0x2069]
    assert not bad, (bad, text)
    # nor raw C1 bytes or other invalid UTF-8 (decoded as surrogates)
    assert not any(0xdc80 <= ord(c) <= 0xdcff for c in text), text
    return True


def on_terminal(m, *args):
    """Runs `muster ARGS` with stdout on a pseudo-terminal: (code, what it showed)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([MUSTER_BIN, *args], cwd=m.dir, env=m.env, stdout=slave,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    os.close(slave)
    shown = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 20)
            assert ready, f"`muster {' '.join(args)}` printed nothing for 20 s"
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the other side closed
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(master)
    err = proc.stderr.read().decode("utf-8", "replace")
    proc.stderr.close()
    code = proc.wait(timeout=20)
    assert not sanitizer_lines(err), err
    return code, shown.decode("utf-8", "surrogateescape")


def test_stored_escape_sequences_reach_the_terminal_neutralised(make_muster):
    m = make_muster(campaign=make_campaign({"title": HOSTILE_TITLE}))
    r = m.pledge("mallory@example.org", name=HOSTILE_NAME)
    assert r.status == 202, r
    code, out, err = m.cli("target", "close", m.slug, "maintainers", "--reason", HOSTILE_REASON)
    assert code == 0, err
    (m.dir / HOSTILE_FILE).write_text(json.dumps(m.campaign), encoding="utf-8")
    outputs = {}
    for args in (("campaign", "list"), ("campaign", "show", m.slug), ("stats", m.slug),
                 ("stats", m.slug, "--json"), ("campaign", "apply", HOSTILE_FILE, "--dry-run"),
                 ("campaign", "apply", HOSTILE_FILE + ".missing")):
        code, out, err = m.cli(*args)
        assert code in (0, 2), (args, err)
        if "--json" not in args:  # JSON to a pipe is for programs: checked below
            outputs[args] = out + err
        else:
            piped_json = out
        code, shown = on_terminal(m, *args)
        outputs[("terminal",) + args] = shown
    code, shown = on_terminal(m, "export", m.slug, "supporters")
    assert code == 0, shown
    outputs[("terminal", "export")] = shown
    for args, out in outputs.items():
        assert terminal_safe(out), args
    # the escapes are shown, visibly, where the title, the reason and the name were
    assert "Docs day \\u202Egnp.exe\\u202C \\u2066x\\u2069" in outputs[("campaign", "list")]
    show = outputs[("campaign", "show", m.slug)]
    assert "\\u202Egnp.exe\\u202C" in show, show
    assert "gone \\u009B2J\\u009D8;;https://evil.example/\\u009C\\x7F \\u202Eesrever" in show, show
    dry_run = outputs[("campaign", "apply", HOSTILE_FILE, "--dry-run")]
    assert "day \\x1B[2J\\x1B[H\\x1B]0;pwned\\x07" in dry_run, dry_run
    assert "\\x1B]8;;evil.example\\x1B\\click" in outputs[("campaign", "apply", HOSTILE_FILE + ".missing")]
    assert "Mallory \\u202Eevil\\u2067" in outputs[("terminal", "export")]
    # --json to a pipe stays what it was: JSON, the exact title
    assert json.loads(piped_json)["title"] == HOSTILE_TITLE
    assert json.loads(outputs[("terminal", "stats", m.slug, "--json")])["title"] == HOSTILE_TITLE
    # export to a file or a pipe stays the exact CSV
    assert m.supporter("mallory@example.org")["name"] == HOSTILE_NAME
    code, piped, err = m.cli("export", m.slug, "supporters")
    assert code == 0, err
    assert HOSTILE_NAME in piped


# ----------------------------------------------------------------------------- demo


def test_demo_campaign_moment_is_two_days_ahead_on_the_hour(make_muster):
    """`muster demo` applies the bundled campaign with its moment moved to two days
    from now, on the hour in the campaign's zone: a first visit does not find a
    moment that has passed while the mails promise a reminder."""
    m = make_muster(start=False, apply=False)
    env = dict(m.env, MUSTER_DEMO_FILE=str(ROOT / "examples" / "docs-day.json"))
    err_path = m.dir / "demo.stderr"
    with open(m.dir / "demo.stdout", "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen([MUSTER_BIN, "demo"], cwd=m.dir, env=env, stdout=out,
                                stderr=err, stdin=subprocess.DEVNULL)
    try:
        started = time.time()

        def up():
            try:
                return m.get("/healthz", timeout=2).status == 200
            except OSError:
                return proc.poll() is not None

        wait_until(up, 15, what="muster demo answering")
        assert proc.poll() is None, err_path.read_text()
        page = m.get("/c/docs-day")
        assert page.status == 200, page
        assert "has passed" not in page.text
        stored = {c["slug"]: c for c in m.inspect("campaigns")}["docs-day"]
        at = stored["launch_utc"]
        assert started + 2 * 86400 <= at <= time.time() + 2 * 86400 + 3600, (started, at)
        assert at % 3600 == 0, at  # America/New_York is a whole number of hours off UTC
        assert "$.launch.at" not in err_path.read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    assert not sanitizer_lines(err_path.read_text()), err_path.read_text()[-4000:]


# ----------------------------------------------------------------------------- import


def test_import_keeps_the_good_rows_exits_0_and_reports_each_refusal(make_muster):
    m = make_muster(start=False)
    (m.dir / "people.csv").write_text(
        "email,name,consent,timezone\n"
        "ok1@example.org,One,yes,UTC\n"
        "no@example.org,No,no,UTC\n"
        "ok2@example.org,Two,yes,Europe/Berlin\n"
        "bad-address,Bad,yes,UTC\n", encoding="utf-8")
    code, out, err = m.cli("import", m.slug, "people.csv")
    assert code == 0, (code, out, err)
    assert "imported 2 supporters, refused 2" in out, out
    lines = error_lines(err)
    assert any(line.startswith("people.csv:3: refused: ") and "consent" in line
               for line in lines), err
    assert any(line.startswith("people.csv:5: refused: ") and "email" in line
               for line in lines), err
    assert m.supporter("ok1@example.org")["status"] == "confirmed"
    assert m.supporter("ok2@example.org") is not None
    assert m.supporter("no@example.org") is None


def test_import_strict_refuses_the_whole_file_when_a_row_is_refused(make_muster):
    m = make_muster(start=False)
    (m.dir / "people.csv").write_text(
        "email,consent\nok1@example.org,yes\nno@example.org,no\n", encoding="utf-8")
    code, out, err = m.cli("import", m.slug, "people.csv", "--strict")
    assert code == 2, (code, out, err)
    assert "people.csv:3: refused: " in err, err
    assert "nothing was imported" in err, err
    assert m.supporter("ok1@example.org") is None
    assert m.supporter_count() == 0
    # a clean file imports under --strict too
    (m.dir / "clean.csv").write_text("email,consent\nok1@example.org,yes\n", encoding="utf-8")
    code, out, err = m.cli("import", "--strict", m.slug, "clean.csv")
    assert code == 0, (code, out, err)
    assert m.supporter("ok1@example.org") is not None
