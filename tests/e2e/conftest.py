"""
conftest: fixtures and helpers for the end-to-end suite.

Every test gets its own temporary directory (the current directory while it
runs), its own database (MUSTER_TEST_BACKEND=sqlite, the default: a SQLite file
in that directory; =postgres: a fresh database on the PostgreSQL cluster that
MUSTER_TEST_PG names, or on one started for the session with
scripts/pg-cluster.sh when it is unset; databases are emptied and used again by
later tests), its own free 127.0.0.1 ports, its own real
SMTP server (aiosmtpd) and its own `muster serve`. The binary is $MUSTER_BIN
(default build/asan/muster: `make all asan` builds it). Only the standard
library and aiosmtpd are used; every wait is bounded.

Fixtures
  smtp          MailSink: an aiosmtpd server that keeps every message
                (envelope + parsed email.message); wait_for(...) polls.
  make_muster   factory: make_muster(campaign=..., env=..., start=True)
                inits the database, applies the campaign, starts serve and
                waits for /healthz. Teardown: SIGTERM, exit code 0 within 5 s,
                and no sanitizer report in the server's stderr.
  muster        make_muster() with the default campaign.

Helpers (methods of Muster): cli(...), apply(...), get/post/head(...),
pledge(...), confirm_supporter(...). State is read the way a user reads it
(stats(), export(...), supporter(...), the mails) and, for what no user sees,
through inspect(...): tests/tools/store_inspect.c asking the store, never SQL
here, so the suite runs against every backend (tests/README.md).
"""
import atexit
import base64
import copy
import csv
import datetime
import email
import email.policy
import hashlib
import hmac
import html as htmllib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[2]
SOURCE_BIN = os.environ.get("MUSTER_BIN", str(ROOT / "build" / "asan" / "muster"))
# The store's answers for what no command shows: the store-inspect built next to
# MUSTER_BIN (build/store-inspect, build/asan/store-inspect), or MUSTER_STORE_INSPECT.
SOURCE_INSPECT = os.environ.get("MUSTER_STORE_INSPECT",
                                str(Path(SOURCE_BIN).parent / "store-inspect"))


def _private_copy(path):
    """A copy of the binary for this run, so that a rebuild by someone else halfway
    through the suite changes nothing."""
    if not os.path.isfile(path):
        return path  # every test then fails with a clear "No such file" error
    target = Path(tempfile.mkdtemp(prefix="muster-e2e-bin-")) / Path(path).name
    shutil.copy2(path, target)
    atexit.register(shutil.rmtree, target.parent, True)
    return str(target)


MUSTER_BIN = _private_copy(SOURCE_BIN)

# --------------------------------------------------------------------------- the backend

BACKEND = os.environ.get("MUSTER_TEST_BACKEND", "sqlite")
if BACKEND not in ("sqlite", "postgres"):
    raise pytest.UsageError(f"MUSTER_TEST_BACKEND={BACKEND!r}: use sqlite or postgres")
_pg_admin = None
_pg_databases = 0


def _pg_admin_location():
    """The cluster's admin connection string (libpq key=value): MUSTER_TEST_PG, or a
    throw-away cluster started once for this session and stopped at exit."""
    global _pg_admin
    if _pg_admin is None:
        _pg_admin = os.environ.get("MUSTER_TEST_PG", "")
        if not _pg_admin:
            cluster = tempfile.mkdtemp(prefix="muster-pg-", dir="/tmp")
            proc = subprocess.run([str(ROOT / "scripts" / "pg-cluster.sh"), "start", cluster],
                                  capture_output=True, text=True, timeout=120)
            if proc.returncode != 0:
                raise RuntimeError(f"scripts/pg-cluster.sh start failed: {proc.stderr}")
            atexit.register(subprocess.run, [str(ROOT / "scripts" / "pg-cluster.sh"), "stop",
                                             cluster], capture_output=True, timeout=120)
            _pg_admin = proc.stdout.strip()
    return _pg_admin


def _psql(sql, database=None):
    location = _pg_admin_location() + (f" dbname={database}" if database else "")
    proc = subprocess.run(["psql", location, "-qXv", "ON_ERROR_STOP=1", "-c", sql],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"psql {sql!r} failed: {proc.stderr}"


# Databases no instance uses now. CREATE DATABASE and DROP DATABASE took 2 to 3 s
# together on a loaded 2-core machine; emptying a database (its one schema dropped
# and made again) takes milliseconds, so databases are kept for the session and
# each instance gets one emptied, as new. Dropped when the session ends.
_pg_free = []
_pg_all = []


def _pg_drop_all():
    for name in _pg_all:
        subprocess.run(["psql", _pg_admin_location(), "-qXc",
                        f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"],
                       capture_output=True, timeout=120)


def new_database(workdir):
    """A database of its own, empty, for one Muster instance: its MUSTER_DB location,
    and a function that gives it back (after its server stopped)."""
    if BACKEND == "sqlite":
        return str(Path(workdir) / "muster.db"), lambda: None
    global _pg_databases
    if _pg_free:
        name = _pg_free.pop()
    else:
        _pg_databases += 1
        name = f"muster_e2e_{os.getpid()}_{_pg_databases}"
        _psql(f"CREATE DATABASE {name}")
        if not _pg_all:
            atexit.register(_pg_drop_all)
        _pg_all.append(name)
    _psql("DROP SCHEMA public CASCADE; CREATE SCHEMA public", database=name)

    def give_back():
        # a process a test killed may have left its session: end it
        _psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        _pg_free.append(name)

    return f"{_pg_admin_location()} dbname={name}", give_back


def sqlite_only(reason):
    """Marks a test that checks something only SQLite has (a file, its log)."""
    return pytest.mark.skipif(BACKEND != "sqlite", reason=f"SQLite only: {reason}")
STORE_INSPECT = _private_copy(SOURCE_INSPECT)
EXAMPLE_CAMPAIGN = ROOT / "examples" / "docs-day.json"
FROM_ADDR = "team@example.org"

# A sanitizer report in any stderr of the product fails the test.
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer")

URL_RE = re.compile(r"https?://[^\s<>\"']+")
HREF_RE = re.compile(r"""href=["']([^"']*)["']""", re.I)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=10.0, interval=0.05, what="condition"):
    """Polls predicate until it returns a true value; fails after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def sanitizer_lines(text):
    return [line for line in text.splitlines() if any(m in line for m in SANITIZER_MARKERS)]


# --------------------------------------------------------------------------- mail


class Mail:
    """One message the SMTP server accepted."""

    def __init__(self, envelope):
        self.mail_from = envelope.mail_from
        self.rcpt_tos = list(envelope.rcpt_tos)
        raw = envelope.original_content
        if raw is None:
            raw = envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        self.raw = raw
        self.msg = email.message_from_bytes(raw, policy=email.policy.default)

    # parts -----------------------------------------------------------------
    def text(self):
        part = self.msg.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    def html(self):
        part = self.msg.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else ""

    def calendars(self):
        """(part, raw decoded bytes) of every text/calendar part."""
        out = []
        for part in self.msg.walk():
            if part.get_content_type() == "text/calendar":
                out.append((part, part.get_payload(decode=True)))
        return out

    # links -----------------------------------------------------------------
    def links(self):
        """Every URL in the text part, in order."""
        return URL_RE.findall(self.text())

    def html_links(self):
        """Every href in the HTML part plus every URL written out in it."""
        html = self.html()
        return [htmllib.unescape(h) for h in HREF_RE.findall(html)] + \
            [htmllib.unescape(u) for u in URL_RE.findall(html)]

    def link(self, prefix):
        """The one text-part link whose path starts with prefix (e.g. '/a/')."""
        found = [u for u in self.links() if urllib.parse.urlsplit(u).path.startswith(prefix)]
        assert len(found) == 1, f"expected one {prefix} link in {self.links()}"
        return found[0]

    def kind(self):
        # the mails around the moment (moved, upcoming, followup) say their
        # kind first in their Message-ID, as every kind does
        first = (self.msg["Message-ID"] or "").strip("<> ").split(".", 1)[0]
        if first in ("moved", "upcoming", "followup"):
            return first
        paths = [urllib.parse.urlsplit(u).path for u in self.links()]
        if any(p.startswith("/confirm/") for p in paths):
            return "confirm"
        if any(p.startswith("/a/") for p in paths):
            return "reminder"
        if self.calendars():
            return "welcome"
        return "other"

    def __repr__(self):
        return f"<Mail {self.kind()} to={self.rcpt_tos} subject={self.msg['Subject']!r}>"


def token_of(url, prefix):
    path = urllib.parse.urlsplit(url).path
    assert path.startswith(prefix), (url, prefix)
    return path[len(prefix):]


class MailSink:
    """aiosmtpd handler that keeps every message."""

    def __init__(self):
        self.cond = threading.Condition()
        self.messages = []
        self.refused = []  # (Mail, reply) the relay answered with an error
        self.errors = []
        # rules: callables Mail -> SMTP reply string (refuse) or None (accept)
        self.rules = []

    async def handle_DATA(self, server, session, envelope):
        try:
            m = Mail(envelope)
        except Exception as e:  # keep the failure for the test to see
            with self.cond:
                self.errors.append(repr(e))
            return "250 2.0.0 OK (unparseable)"
        with self.cond:
            for rule in self.rules:
                reply = rule(m)
                if reply:
                    self.refused.append((m, reply))
                    self.cond.notify_all()
                    return reply
            self.messages.append(m)
            self.cond.notify_all()
        return "250 2.0.0 OK queued"

    def refused_for(self, to):
        with self.cond:
            return [(m, r) for m, r in self.refused if [x.lower() for x in m.rcpt_tos] == [to]]

    def select(self, to=None, kind=None):
        with self.cond:
            msgs = list(self.messages)
        out = []
        for m in msgs:
            if to is not None and [r.lower() for r in m.rcpt_tos] != [to.lower()]:
                continue
            if kind is not None and m.kind() != kind:
                continue
            out.append(m)
        return out

    def wait_for(self, n=1, to=None, kind=None, timeout=10.0):
        """Waits until at least n matching messages arrived; returns them all."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.select(to, kind)
            if len(found) >= n:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(
                    f"timed out after {timeout}s waiting for {n} mail(s) to={to} kind={kind}; "
                    f"have {self.select()} parse errors {self.errors}"
                )
            with self.cond:
                self.cond.wait(min(remaining, 0.2))

    def wait_one(self, to, kind, timeout=10.0):
        return self.wait_for(1, to=to, kind=kind, timeout=timeout)[0]

    def settle(self, seconds=2.0):
        """Waits a moment so that mail which should not come has had its chance."""
        time.sleep(seconds)


@pytest.fixture
def smtp():
    sink = MailSink()
    for attempt in range(3):  # the free port may be taken by the time we bind it
        controller = Controller(sink, hostname="127.0.0.1", port=free_port())
        try:
            controller.start()
            break
        except Exception:
            if attempt == 2:
                raise
    sink.port = controller.port
    sink.url = f"smtp://127.0.0.1:{controller.port}"
    try:
        yield sink
    finally:
        controller.stop()


# --------------------------------------------------------------------------- campaign


def default_launch_local(days=30):
    """A launch moment in the future, whole hour, as local wall time."""
    now = datetime.datetime.now(ZoneInfo("America/New_York"))
    when = (now + datetime.timedelta(days=days)).replace(hour=10, minute=0, second=0,
                                                         microsecond=0)
    return when.strftime("%Y-%m-%dT%H:%M:%S")


def deep_merge(base, overrides):
    out = copy.deepcopy(base)
    for key, value in (overrides or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def make_campaign(overrides=None):
    """examples/docs-day.json with launch.at in the future, then overrides (deep merge)."""
    base = json.loads(EXAMPLE_CAMPAIGN.read_text(encoding="utf-8"))
    base["launch"]["at"] = default_launch_local()
    return deep_merge(base, overrides)


def launch_utc(campaign):
    local = datetime.datetime.strptime(campaign["launch"]["at"], "%Y-%m-%dT%H:%M:%S")
    local = local.replace(tzinfo=ZoneInfo(campaign["launch"]["timezone"]))
    return local.astimezone(datetime.timezone.utc)


def render_template(src, values):
    """The campaign's template language (docs/CAMPAIGN.md, "Campaign file"): sections
    {{#name}}..{{/name}} and {{#statement}}..{{/statement}} render their inside
    only when the value is non-empty; placeholders are replaced by the values,
    which are never read again as a template."""

    def section(m):
        return m.group(2) if values.get(m.group(1)) else ""

    src = re.sub(r"\{\{\s*#\s*(name|statement)\s*\}\}(.*?)\{\{\s*/\s*\1\s*\}\}", section, src,
                 flags=re.S)
    return re.sub(r"\{\{\s*([a-z.]+)\s*\}\}", lambda m: values[m.group(1)], src)


# --------------------------------------------------------------------------- HTTP


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def header(self, name):
        return self.headers.get(name)

    def __repr__(self):
        return f"<Response {self.status} {self.text[:300]!r}>"


# --------------------------------------------------------------------------- the server


class Muster:
    def __init__(self, workdir, smtp, campaign, env=None):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.smtp = smtp
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        # MUSTER_DB: a SQLite file here, or a fresh PostgreSQL database
        self.db_path, self.remove_database = new_database(self.dir)
        self.campaign = campaign
        self.proc = None
        self.stderr_files = []
        self.starts = 0
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("MUSTER_")
                    or k == "MUSTER_BIN"}
        self.env = dict(
            base_env,
            MUSTER_DB=self.db_path,
            MUSTER_LISTEN=f"127.0.0.1:{self.port}",
            MUSTER_BASE_URL=self.base_url,
            MUSTER_SMTP=smtp.url,
            MUSTER_FROM=FROM_ADDR,
            MUSTER_MAILDIR=str(self.dir / "mail"),
        )
        self.env.update(env or {})
        self.cli_sanitizer_reports = []

    @property
    def slug(self):
        return self.campaign["slug"]

    # CLI -------------------------------------------------------------------
    def cli(self, *args, timeout=60, input=None, env=None):
        """Runs `muster ARGS` with the server's environment: (code, stdout, stderr)."""
        proc = subprocess.run(
            [MUSTER_BIN, *[str(a) for a in args]],
            cwd=self.dir,
            env=dict(self.env, **(env or {})),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        bad = sanitizer_lines(proc.stderr)
        if bad:
            self.cli_sanitizer_reports.append((args, proc.stderr))
        assert not bad, f"sanitizer report from `muster {' '.join(map(str, args))}`:\n" + \
            proc.stderr
        return proc.returncode, proc.stdout, proc.stderr

    def write_campaign(self, campaign=None, name="campaign.json"):
        path = self.dir / name
        data = self.campaign if campaign is None else campaign
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        return path

    def apply(self, campaign=None, name="campaign.json", extra=()):
        """Writes the campaign (default: self.campaign) to NAME and runs `campaign
        apply NAME`. A campaign with this server's slug becomes self.campaign."""
        data = self.campaign if campaign is None else campaign
        self.write_campaign(data, name=name)
        result = self.cli("campaign", "apply", name, *extra)
        if result[0] == 0 and data["slug"] == self.slug and "--dry-run" not in extra:
            self.campaign = data
        return result

    def init(self):
        code, out, err = self.cli("init")
        assert code == 0, f"muster init failed ({code}): {out}{err}"

    # process ---------------------------------------------------------------
    def start(self, timeout=15):
        """Starts `muster serve` and waits for /healthz. If the port was taken by
        another process between free_port() and the bind, moves to a new port."""
        for attempt in range(3):
            if self._start(timeout) or attempt == 2:
                return
            self.port = free_port()
            self.base_url = f"http://127.0.0.1:{self.port}"
            self.env["MUSTER_LISTEN"] = f"127.0.0.1:{self.port}"
            self.env["MUSTER_BASE_URL"] = self.base_url

    def _start(self, timeout):
        assert self.proc is None
        self.starts += 1
        err_path = self.dir / f"serve-{self.starts}.stderr"
        out_path = self.dir / f"serve-{self.starts}.stdout"
        self.stderr_files.append(err_path)
        with open(err_path, "wb") as err, open(out_path, "wb") as out:
            self.proc = subprocess.Popen([MUSTER_BIN, "serve"], cwd=self.dir, env=self.env,
                                         stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.proc = None
                text = err_path.read_text(errors="replace")
                if "cannot listen" in text and not sanitizer_lines(text):
                    self.stderr_files.remove(err_path)
                    return False
                pytest.fail(f"muster serve exited with {code} at start:\n{text}")
            try:
                if self.get("/healthz", timeout=2).status == 200:
                    return True
            except OSError:
                pass
            if time.monotonic() >= deadline:
                pytest.fail(f"muster serve did not answer /healthz within {timeout}s:\n"
                            f"{err_path.read_text()}")
            time.sleep(0.05)

    def stop(self, timeout=5.0):
        """SIGTERM; returns (exit code or None if it did not stop, seconds taken)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return 0, 0.0
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
            return None, time.monotonic() - t0
        return code, time.monotonic() - t0

    def kill9(self):
        proc, self.proc = self.proc, None
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def server_stderr(self):
        return "".join(p.read_text(errors="replace") for p in self.stderr_files if p.exists())

    def teardown_problems(self):
        problems = []
        if self.proc is not None:
            code, secs = self.stop()
            if code is None:
                problems.append("muster serve did not exit within 5 s of SIGTERM")
            elif code != 0:
                problems.append(f"muster serve exited with {code} after SIGTERM (wanted 0)")
        for path in self.stderr_files:
            text = path.read_text(errors="replace") if path.exists() else ""
            if sanitizer_lines(text):
                problems.append(f"sanitizer report in {path.name}:\n{text[-6000:]}")
        return problems

    # HTTP ------------------------------------------------------------------
    def request(self, method, path, body=None, headers=None, timeout=10):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            if isinstance(body, str):
                body = body.encode("utf-8")
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return Response(resp.status, resp.headers, data)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def head(self, path, **kw):
        return self.request("HEAD", path, **kw)

    def post(self, path, body=b"", headers=None, **kw):
        return self.request("POST", path, body=body, headers=headers, **kw)

    def post_json(self, path, obj=None, raw=None):
        body = raw if raw is not None else json.dumps(obj)
        return self.post(path, body=body, headers={"Content-Type": "application/json"})

    def post_form(self, path, fields, cookie=None):
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if cookie is not None:
            headers["Cookie"] = cookie
        return self.post(path, body=urllib.parse.urlencode(fields), headers=headers)

    def pledge(self, email_addr, name=None, statement=None, timezone="Europe/Berlin",
               consent=True, slug=None, **extra):
        doc = {"email": email_addr, "timezone": timezone, "consent": consent}
        if name is not None:
            doc["name"] = name
        if statement is not None:
            doc["statement"] = statement
        doc.update(extra)
        return self.post_json(f"/c/{slug or self.slug}/pledge", doc)

    # flows -----------------------------------------------------------------
    def confirm_supporter(self, email_addr, name=None, statement=None, timezone="Europe/Berlin"):
        """Pledges, follows the confirmation mail with a POST and waits for the welcome
        mail. Returns a dict with the mails and the links."""
        r = self.pledge(email_addr, name=name, statement=statement, timezone=timezone)
        assert r.status == 202, r
        confirm_mail = self.smtp.wait_one(email_addr, "confirm")
        confirm_url = confirm_mail.link("/confirm/")
        r = self.post(urllib.parse.urlsplit(confirm_url).path)
        assert r.status == 200, r
        welcome = self.smtp.wait_one(email_addr, "welcome")
        return {
            "confirm_mail": confirm_mail,
            "confirm_url": confirm_url,
            "thank_you": r,
            "welcome": welcome,
            "unsubscribe_url": welcome.link("/u/"),
        }

    def launch(self, timeout=60):
        code, out, err = self.cli("launch", self.slug, timeout=timeout)
        assert code == 0, f"launch failed ({code}): {out}{err}"
        return out

    def stats(self):
        code, out, err = self.cli("stats", self.slug, "--json")
        assert code == 0, err
        return json.loads(out)

    # state -----------------------------------------------------------------
    def export(self, what, slug=None):
        """`muster export SLUG supporters|clicks` as a list of dicts (the CSV's header
        names the keys; times are ISO 8601 UTC, "" when unset)."""
        fd, path = tempfile.mkstemp(prefix=f"export-{what}-", suffix=".csv", dir=self.dir)
        os.close(fd)
        try:
            code, out, err = self.cli("export", slug or self.slug, what, "--out", path)
            assert code == 0, f"export {what} failed ({code}): {out}{err}"
            with open(path, newline="", encoding="utf-8") as f:
                return list(csv.DictReader(f))
        finally:
            os.unlink(path)

    def supporter(self, email_addr, slug=None):
        """The supporter's row of `muster export SLUG supporters` (email, name,
        statement, timezone, status, pledged_at, confirmed_at, unsubscribed_at,
        consent_at, consent_text, source, target), or None: the address is matched
        case-insensitively, and an erased person has none."""
        rows = [r for r in self.export("supporters", slug)
                if r["email"] and r["email"].lower() == email_addr.lower()]
        assert len(rows) <= 1, rows
        return rows[0] if rows else None

    def supporter_count(self):
        """Pledges of the campaign, erased ones included (`stats --json`)."""
        return self.stats()["pledges"]

    def click_count(self):
        return self.stats()["clicks"]

    def inspect(self, *args):
        """What no user-facing command shows (token material, outbox and webhook
        rows, the WAL) and the tests' fault injections: `store-inspect --db DB ARGS`
        (tests/tools/store_inspect.c), which asks the store through its API. Returns
        the parsed JSON answer."""
        proc = subprocess.run([STORE_INSPECT, "--db", str(self.db_path), *[str(a) for a in args]],
                              cwd=self.dir, env=self.env, capture_output=True, text=True,
                              timeout=60)
        bad = sanitizer_lines(proc.stderr)
        if bad:
            self.cli_sanitizer_reports.append((("store-inspect",) + args, proc.stderr))
        assert not bad, f"sanitizer report from `store-inspect {' '.join(map(str, args))}`:\n" + \
            proc.stderr
        assert proc.returncode == 0, \
            f"store-inspect {' '.join(map(str, args))} failed ({proc.returncode}): {proc.stderr}"
        return json.loads(proc.stdout)

    def wait_clicks(self, n, timeout=5.0):
        """Waits until the campaign holds n clicks (the server may write them in
        batches); fails if it holds more."""
        wait_until(lambda: self.click_count() >= n, timeout, what=f"{n} click(s) recorded")
        assert self.click_count() == n, f"{self.click_count()} clicks recorded, want {n}"

    def assert_clicks_stay(self, n, seconds=1.0):
        """Checks that the click count is n and stays n for a moment (batched writes)."""
        deadline = time.monotonic() + seconds
        while True:
            assert self.click_count() == n, f"{self.click_count()} clicks recorded, want {n}"
            if time.monotonic() >= deadline:
                return
            time.sleep(0.1)


@pytest.fixture
def make_muster(tmp_path, smtp, monkeypatch):
    monkeypatch.chdir(tmp_path)
    servers = []

    def make(campaign=None, env=None, start=True, apply=True):
        m = Muster(tmp_path / f"muster-{len(servers)}", smtp,
                   campaign if campaign is not None else make_campaign(), env)
        servers.append(m)
        m.init()
        if apply:
            code, out, err = m.apply()
            assert code == 0, f"campaign apply failed ({code}): {out}{err}"
        if start:
            m.start()
        return m

    yield make
    problems = []
    for m in servers:
        problems += m.teardown_problems()
        # shown by pytest only when the test failed
        print(f"--- {m.dir.name}: muster serve stderr (tail) ---\n{m.server_stderr()[-4000:]}")
    for m in servers:
        m.remove_database()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def muster(make_muster):
    return make_muster()


# --------------------------------------------------------------------------- tokens


def derive_link_token(secret, purpose, key, epoch):
    """A supporter link token as muster derives it (src/core/token.h): base64url of
    key (8 bytes LE) || HMAC-SHA256(secret, purpose || key || epoch)[:16]. Used only
    where the product offers no way to obtain a token (an /a/ link before launch);
    secret, key and epoch come from link_material()."""
    key_bytes = int(key).to_bytes(8, "little")
    msg = bytes([ord(purpose)]) + key_bytes + int(epoch).to_bytes(4, "little")
    mac = hmac.new(secret, msg, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(key_bytes + mac).rstrip(b"=").decode()


def link_material(m, email_addr):
    """(secret, token key, epoch) of a supporter, from the store (store-inspect), for
    derive_link_token."""
    row = m.inspect("supporter", email_addr)
    assert row is not None, f"no supporter {email_addr}"
    return bytes.fromhex(m.inspect("secret-hex")), row["token_key"], row["epoch"]
