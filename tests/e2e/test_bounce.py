"""
test_bounce: bounces and complaints (docs/DELIVERABILITY.md, "Bounces"): each
message's own return path (MUSTER_BOUNCE_ADDRESS, VERP) and `muster bounce`
on stdin and on a Maildir. The reports are real: every bounce of Debian's
python3-flufl.bounce test data (collected by Mailman over the years), with the
addresses that package's own tests expect read from its table, and the
examples of RFC 3464 and RFC 5965 (tests/e2e/data/bounces/).
"""
import ast
import collections
import os
import re
from pathlib import Path

import pytest

FLUFL = Path("/usr/lib/python3/dist-packages/flufl/bounce")
DATA = Path(__file__).parent / "data" / "bounces"
BOUNCE_ADDRESS = "bounces@example.org"

# The flufl bounces muster does not read as flufl's tests expect, and why. The
# test fails when one of them starts to be read right (then remove it here).
KNOWN_MISSES = {
    "aol_01.txt": "names a bare screen name without a domain; muster does not guess one",
    "yahoo_12.txt": "names the address only in a quoted To: header of the returned message",
    "llnl_01.txt": "a directory lookup's text names other addresses too (they would be reported)",
    "yale_01.txt": "a directory lookup's text names example addresses instead of the failed one",
}


def flufl_expectations():
    """flufl's own table (testing/helpers.py, DATA), read as data: per file, the
    addresses its detectors must find as permanent and as temporary failures."""
    tree = ast.parse((FLUFL / "testing" / "helpers.py").read_text())
    table = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "DATA"
                                                for t in node.targets):
            table = ast.literal_eval(node.value)
    assert table, "flufl.bounce's DATA table not found"
    permanent, temporary = collections.defaultdict(set), collections.defaultdict(set)
    for row in table:
        _module, filename, expected = row[:3]
        is_temporary = len(row) > 3 and row[3]
        for addr in expected:
            (temporary if is_temporary else permanent)[filename].add(addr.decode().lower())
        permanent[filename] |= set()
        temporary[filename] |= set()
    return permanent, temporary


def parse_lines(out):
    """`muster bounce` stdout: one line per address: KIND ADDRESS RESULT ..."""
    found = []
    for line in out.splitlines():
        m = re.match(r"(permanent|temporary|complaint) (\S+) (\S+) campaign=(\d+) by=(\S+) "
                     r"reason: (.*)$", line)
        assert m, f"unexpected output line: {line!r}"
        found.append(dict(kind=m[1], address=m[2], result=m[3], campaign=int(m[4]), by=m[5],
                          reason=m[6]))
    return found


def bounce(m, path_or_bytes, *args, env=None):
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    # text=True in Muster.cli: hand the bytes over as latin-1 so every byte passes
    code, out, err = m.cli("bounce", *args, input=data.decode("latin-1"), env=env)
    return code, parse_lines(out) if code == 0 else [], err


def suppressions(m):
    """The suppression list as the store keeps it: {address: entry}."""
    return {e["address"]: e for e in m.inspect("suppressions")}


@pytest.mark.skipif(not (FLUFL / "tests" / "data").is_dir(),
                    reason="python3-flufl.bounce is not installed (make deps-test)")
def test_every_flufl_bounce_suppresses_exactly_the_expected_permanent_failures(make_muster):
    """Each bounce fed to `muster bounce` (recording, one database): per file,
    the permanent failures flufl's tests expect are suppressed and the
    temporary ones counted; at the end the list holds exactly those addresses
    (and the ones whose temporary failures reached the limit)."""
    m = make_muster(start=False)
    permanent, temporary = flufl_expectations()
    files = sorted(p for p in (FLUFL / "tests" / "data").iterdir() if p.suffix == ".txt")
    assert len(files) > 100
    hits, misses, unlisted = [], {}, {}
    temporary_counts = collections.Counter()
    expected_list = set()
    for path in files:
        known_miss = path.name in KNOWN_MISSES
        # a known miss would put a wrong address on the list: read, not recorded
        code, found, err = bounce(m, path, *(["--dry-run"] if known_miss else []))
        assert code in (0, 2), f"{path.name}: exit {code}: {err}"
        got_perm = {f["address"].lower() for f in found if f["kind"] == "permanent"}
        got_temp = {f["address"].lower() for f in found if f["kind"] == "temporary"}
        if not known_miss:
            assert all(f["result"] == "suppressed" for f in found if f["kind"] == "permanent")
            assert all(f["result"] in ("counted", "suppressed") for f in found
                       if f["kind"] == "temporary")
            expected_list |= got_perm & permanent.get(path.name, set())
            temporary_counts.update(got_temp)
        if path.name not in permanent:
            unlisted[path.name] = got_perm | got_temp
            continue
        want_perm, want_temp = permanent[path.name], temporary[path.name]
        if got_perm == want_perm and want_temp <= got_temp:
            hits.append(path.name)
        else:
            misses[path.name] = (want_perm, want_temp, got_perm, got_temp, err.strip())
    listed = len(permanent)
    print(f"flufl.bounce: {len(hits)} of {listed} bounces read as its tests expect; "
          f"misses: {sorted(misses)}; not in its table: {unlisted}")
    unexpected = {k: v for k, v in misses.items() if k not in KNOWN_MISSES}
    assert not unexpected, f"bounces read wrong: {unexpected}"
    now_right = set(KNOWN_MISSES) - set(misses)
    assert not now_right, f"read right now, remove from KNOWN_MISSES: {now_right}"
    # The two files flufl's table leaves out name no address: a Microsoft
    # notice without one, a mailbox-full notice naming a bare local part.
    assert all(not v for v in unlisted.values()), unlisted
    # What the list holds: the expected permanent failures, and the addresses
    # whose temporary failures reached the limit (3 in 7 days), nothing else.
    limit_reached = {a for a, n in temporary_counts.items() if n >= 3}
    listed_now = suppressions(m)
    assert set(listed_now) == expected_list | limit_reached
    for address, entry in listed_now.items():
        assert entry["kind"] == ("bounce" if address in expected_list else "temporary"), entry
        assert entry["campaign_id"] == 0  # no return path: the campaign is unknown
    assert len(expected_list) >= 50  # 55 distinct addresses when this was written


def test_rfc3464_examples(make_muster):
    m = make_muster(start=False)
    code, found, err = bounce(m, DATA / "rfc3464_simple.eml", "--dry-run")
    assert code == 0, err
    assert [(f["kind"], f["address"]) for f in found] == \
        [("permanent", "louisl@larry.slip.umd.edu")]
    assert found[0]["reason"].startswith("4.0.0 smtp; 426 connection timed out")
    assert suppressions(m) == {}, "--dry-run records nothing"
    code, found, err = bounce(m, DATA / "rfc3464_multi.eml")
    assert code == 0, err
    assert sorted(suppressions(m)) == ["arathib@vnet.ibm.com", "wsnell@sdcc13.ucsd.edu"]
    assert sorted((f["kind"], f["address"]) for f in found) == [
        ("permanent", "arathib@vnet.ibm.com"), ("permanent", "wsnell@sdcc13.ucsd.edu"),
        ("temporary", "johnh@hpnjld.njd.hp.com")]
    # a folded Diagnostic-Code is one line, folded blanks one space
    assert "5.0.0 smtp; 550 'arathib@vnet.IBM.COM' is not a registered gateway user" in \
        [f["reason"] for f in found]
    # A delay is counted; the third within the window suppresses.
    for result in ("counted", "counted", "suppressed"):
        code, found, err = bounce(m, DATA / "rfc3464_delayed.eml")
        assert code == 0, err
        assert [(f["kind"], f["address"], f["result"]) for f in found] == \
            [("temporary", "fred@yoyodyne.example", result)]
    assert suppressions(m)["fred@yoyodyne.example"]["kind"] == "temporary"


def test_rfc5965_examples(make_muster):
    m = make_muster(start=False)
    code, found, err = bounce(m, DATA / "rfc5965_full.eml")
    assert code == 0, err
    assert [(f["kind"], f["address"], f["result"]) for f in found] == \
        [("complaint", "user@example.com", "suppressed")]
    assert found[0]["reason"] == "feedback-type abuse"
    entry = suppressions(m)["user@example.com"]
    assert (entry["kind"], entry["reason"]) == ("complaint", "feedback-type abuse")
    # No Original-Rcpt-To, no return path: kept and said, never guessed.
    code, found, err = bounce(m, DATA / "rfc5965_minimal.eml", "--dry-run")
    assert code == 2
    assert "unattributed" in err and "complaint" in err


def test_not_a_bounce_exits_2_with_a_line(make_muster):
    m = make_muster(start=False)
    plain = (b"From: Ann <ann@example.net>\r\nTo: bounces@example.org\r\nSubject: hello\r\n\r\n"
             b"Lunch on Tuesday? Write to bob@example.com about it.\r\n")
    code, found, err = bounce(m, plain)
    assert code == 2 and found == []
    assert err.count("\n") == 1 and "not a bounce" in err
    code, _, err = bounce(m, b"")
    assert code == 2 and "not a" in err
    code, out, err = m.cli("bounce", "--frobnicate")
    assert code == 2 and "usage: muster bounce" in err


def test_invalid_bounce_address_is_refused(make_muster):
    m = make_muster(start=False)
    for bad, why in [("bounces", "one '@'"), ("a+b@example.org", "'+'"),
                     ("bounces@exa mple.org", "domain"), ("@example.org", "1 to 32")]:
        code, out, err = m.cli("bounce", "--dry-run", input="",
                               env={"MUSTER_BOUNCE_ADDRESS": bad})
        assert code == 2, (bad, err)
        assert "MUSTER_BOUNCE_ADDRESS" in err and why in err, (bad, err)


def dsn_to(return_path, recipient, status="5.1.1", action="failed"):
    """A DSN as Postfix writes one, sent back to return_path about recipient."""
    return (
        f"Return-Path: <>\r\nDelivered-To: {return_path}\r\n"
        f"From: MAILER-DAEMON@relay.example (Mail Delivery System)\r\n"
        f"To: {return_path}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"MIME-Version: 1.0\r\n"
        f"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n"
        f"--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you that your "
        f"message could not\r\nbe delivered to one or more recipients.\r\n\r\n"
        f"<{recipient}>: host mx.example[192.0.2.1] said: 550 {status} no such user\r\n\r\n"
        f"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; relay.example\r\n"
        f"\r\nFinal-Recipient: rfc822; {recipient}\r\nOriginal-Recipient: rfc822;{recipient}\r\n"
        f"Action: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; 550 {status} no such user\r\n\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nReturn-Path: <{return_path}>\r\n"
        f"From: muster@example.org\r\nTo: {recipient}\r\nSubject: reminder\r\n\r\n--B--\r\n"
    ).encode()


def test_each_message_has_its_own_return_path_and_a_bounce_to_it_names_its_supporter(
        make_muster, smtp):
    m = make_muster(env={"MUSTER_BOUNCE_ADDRESS": BOUNCE_ADDRESS})
    m.confirm_supporter("ann@example.net")
    m.confirm_supporter("bob@example.net")
    m.launch()
    mails = smtp.wait_for(6)
    pattern = re.compile(r"bounces\+(\d+)-(\d+)-([0-9a-f]{20})@example\.org")
    paths = [mail.mail_from for mail in mails]
    assert all(pattern.fullmatch(p) for p in paths), paths
    assert len(set(paths)) == len(paths), "one return path per message"
    ann_reminder = smtp.wait_one("ann@example.net", "reminder")
    rp = ann_reminder.mail_from
    # The report names a forwarded address: the return path decides who it was.
    code, found, err = bounce(m, dsn_to(rp, "ann.forwarded@elsewhere.example"))
    assert code == 0, err
    assert [(f["kind"], f["address"], f["by"], f["result"]) for f in found] == \
        [("permanent", "ann@example.net", "return-path", "suppressed")]
    campaign_id = m.inspect("supporter", "ann@example.net")["campaign_id"]
    assert found[0]["campaign"] == campaign_id
    entry = suppressions(m)["ann@example.net"]
    assert (entry["kind"], entry["campaign_id"]) == ("bounce", campaign_id)
    assert entry["reason"] == "5.1.1 smtp; 550 5.1.1 no such user"
    assert list(suppressions(m)) == ["ann@example.net"]
    # An MTA that upper-cases the local part changes nothing.
    code, found, err = bounce(m, dsn_to(rp.upper(), "x@elsewhere.example"), "--dry-run")
    assert code == 0 and [f["address"] for f in found] == ["ann@example.net"], err
    # A forged token (one digit of its MAC changed) names nobody: the report's
    # own recipient is all there is.
    local, domain = rp.split("@")
    forged = local[:-1] + ("0" if local[-1] != "0" else "1") + "@" + domain
    code, found, err = bounce(m, dsn_to(forged, "x@elsewhere.example"), "--dry-run")
    assert code == 0, err
    assert [(f["address"], f["by"]) for f in found] == [("x@elsewhere.example", "report")]
    # Another supporter's ids under ann's MAC: refused as well.
    ob, sup, mac = pattern.fullmatch(rp).groups()
    bob_id = m.inspect("supporter", "bob@example.net")["id"]
    swapped = f"bounces+{ob}-{bob_id}-{mac}@example.org"
    code, found, err = bounce(m, dsn_to(swapped, "y@elsewhere.example"), "--dry-run")
    assert [f["by"] for f in found] == ["report"], err
    # --require-token keeps what no valid token attributes.
    code, found, err = bounce(m, dsn_to(forged, "x@elsewhere.example"), "--dry-run",
                              "--require-token")
    assert code == 2 and "unattributed" in err


def test_without_a_bounce_address_the_sender_is_muster_from(muster, smtp):
    muster.confirm_supporter("ann@example.net")
    for mail in smtp.select():
        assert mail.mail_from == muster.env["MUSTER_FROM"]


def test_maildir_mode_moves_each_message_by_outcome(make_muster):
    m = make_muster(start=False)
    md = m.dir / "bounces"
    for sub in ("new", "cur", "tmp"):
        (md / sub).mkdir(parents=True)
    (md / "new" / "1.dsn").write_bytes((DATA / "rfc3464_multi.eml").read_bytes())
    (md / "cur" / "2.arf:2,S").write_bytes((DATA / "rfc5965_full.eml").read_bytes())
    (md / "new" / "3.minimal").write_bytes((DATA / "rfc5965_minimal.eml").read_bytes())
    (md / "new" / "4.plain").write_bytes(b"From: a@example.net\r\nSubject: hi\r\n\r\nhello\r\n")
    # --dry-run: prints, moves nothing
    code, out, err = m.cli("bounce", "--maildir", md, "--dry-run")
    assert code == 0, err
    assert "2 processed, 1 unattributed, 1 not bounces (dry run" in err
    assert sorted(p.name for p in (md / "new").iterdir()) == ["1.dsn", "3.minimal", "4.plain"]
    assert len(parse_lines(out)) == 4
    assert suppressions(m) == {}
    code, out, err = m.cli("bounce", "--maildir", md)
    assert code == 0, err
    assert "2 processed, 1 unattributed, 1 not bounces\n" in err
    assert list((md / "new").iterdir()) == [] and list((md / "cur").iterdir()) == []
    assert sorted(p.name for p in (md / ".Processed" / "cur").iterdir()) == \
        ["1.dsn:2,", "2.arf:2,S"]
    assert sorted(p.name for p in (md / ".Unattributed" / "cur").iterdir()) == \
        ["3.minimal:2,", "4.plain:2,"]
    assert sorted(suppressions(m)) == ["arathib@vnet.ibm.com", "user@example.com",
                                       "wsnell@sdcc13.ucsd.edu"]
    # A second run finds nothing left to read.
    code, out, err = m.cli("bounce", "--maildir", md)
    assert code == 0 and "0 processed, 0 unattributed, 0 not bounces" in err


def test_a_store_failure_is_a_temporary_failure_for_the_pipe(make_muster, tmp_path):
    """Postfix's pipe transport keeps a message the command exits 75 for
    (EX_TEMPFAIL) and tries again; any other failure would bounce it."""
    m = make_muster(start=False)
    if m.db_path.startswith(("postgres", "host=")):
        pytest.skip("a SQLite path that cannot be opened stands for the failure")
    code, out, err = m.cli("bounce", input=(DATA / "rfc3464_multi.eml").read_text(),
                           env={"MUSTER_DB": str(tmp_path / "no" / "such" / "dir" / "x.db")})
    assert code == 75, (code, err)


# --------------------------------------------------------------------------- a real Postfix

POSTFIX_MASTER = Path("/usr/lib/postfix/sbin/master")
POSTFIX_SERVICES = """\
{smtp_port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
muster-bounce unix -    n       n       -       -       pipe
  flags=Rq user=nobody argv=/usr/bin/env MUSTER_DB={db} MUSTER_BOUNCE_ADDRESS={bounce_address} ASAN_OPTIONS=detect_leaks=0 {muster} bounce
"""


class RejectReminders:
    """dead.example's server: takes the confirmation and the welcome mail (so
    the supporter can confirm) and refuses every other message after its
    DATA with 550 5.1.1: Postfix accepted it from muster, and must bounce it."""

    def __init__(self):
        self.accepted = []

    async def handle_DATA(self, server, session, envelope):
        import email as email_lib
        msg = email_lib.message_from_bytes(envelope.content)
        text = "\n".join(part.get_payload(decode=True).decode("utf-8", "replace")
                         for part in msg.walk() if not part.is_multipart())
        if not re.search(r"/a/[A-Za-z0-9_-]{10,}", text):  # not a reminder
            self.accepted.append(text)
            return "250 2.0.0 OK"
        return "550 5.1.1 <zed@dead.example>: Recipient address rejected: User unknown"


@pytest.mark.skipif(os.geteuid() != 0 or not POSTFIX_MASTER.exists(),
                    reason="a private Postfix needs root and Debian's postfix (make deps-test)")
def test_a_reminder_bounced_by_a_real_postfix_suppresses_its_address(make_muster, smtp, tmp_path):
    """muster -> Postfix on loopback (its own main.cf/master.cf) -> dead.example's
    server refuses the reminder -> Postfix bounces it to the message's return
    path -> its pipe transport runs `muster bounce` -> the address is suppressed."""
    import shutil
    import subprocess
    import tempfile
    import time

    from aiosmtpd.controller import Controller

    from conftest import free_port, wait_until

    m = make_muster(start=False)
    if not m.db_path.startswith("/"):
        pytest.skip("the pipe reaches the database as a file (SQLite)")
    # Postfix's queue wants root-owned directories it can reach: its own tree.
    root = Path(tempfile.mkdtemp(prefix="muster-postfix-"))
    root.chmod(0o755)
    conf, queue, data = root / "conf", root / "queue", root / "data"
    for d in (conf, queue, data):
        d.mkdir()
        d.chmod(0o755)
    for d in ("active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming",
              "private", "saved", "trace"):
        (queue / d).mkdir(mode=0o700)
        shutil.chown(queue / d, "postfix")
    (queue / "pid").mkdir(mode=0o755)
    for d, mode in (("public", 0o710), ("maildrop", 0o730)):
        (queue / d).mkdir()
        (queue / d).chmod(mode)
        shutil.chown(queue / d, "postfix", "postdrop")
    shutil.chown(data, "postfix")
    data.chmod(0o700)
    # The pipe runs as nobody: the database and the binary must be theirs to use.
    from conftest import MUSTER_BIN
    binary = root / "muster"
    shutil.copy(MUSTER_BIN, binary)
    binary.chmod(0o755)
    p = Path(m.db_path)
    for parent in [p.parent, *p.parent.parents]:
        if str(parent) in ("/", "/tmp"):
            break
        parent.chmod(parent.stat().st_mode | 0o711)
    p.parent.chmod(0o777)
    for f in p.parent.glob(p.name + "*"):
        f.chmod(0o666)

    rejecter = RejectReminders()
    rej = Controller(rejecter, hostname="127.0.0.1", port=free_port())
    rej.start()
    smtp_port = free_port()
    sink_host, sink_port = smtp.url.split("://")[1].rsplit(":", 1)
    (conf / "transport").write_text(
        f"{BOUNCE_ADDRESS} muster-bounce:\n"
        f"dead.example smtp:[127.0.0.1]:{rej.port}\n"
        f"example.net smtp:[{sink_host}]:{sink_port}\n")
    (conf / "main.cf").write_text(f"""\
compatibility_level = 3.6
queue_directory = {queue}
data_directory = {data}
meta_directory = /etc/postfix
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = no
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = relay.muster.test
mydomain = muster.test
myorigin = muster.test
mydestination = example.org
mynetworks = 127.0.0.0/8
recipient_delimiter = +
transport_maps = texthash:{conf}/transport
alias_maps =
alias_database =
local_recipient_maps =
biff = no
maillog_file = /dev/stdout
smtputf8_enable = no
smtp_tls_security_level = none
""")
    (conf / "master.cf").write_text(POSTFIX_SERVICES.format(
        smtp_port=f"127.0.0.1:{smtp_port}", db=m.db_path, bounce_address=BOUNCE_ADDRESS,
        muster=binary))
    log = open(root / "maillog", "w")
    master = subprocess.Popen([str(POSTFIX_MASTER), "-c", str(conf), "-d"], stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: "daemon started" in (root / "maillog").read_text(), timeout=10,
                   what="Postfix's master to start")
        m.env["MUSTER_SMTP"] = f"smtp://127.0.0.1:{smtp_port}"
        m.env["MUSTER_BOUNCE_ADDRESS"] = BOUNCE_ADDRESS
        m.start()
        # zed confirms (dead.example's server takes that much), ann is fine.
        m.confirm_supporter("ann@example.net")
        r = m.pledge("zed@dead.example")
        assert r.status == 202, r
        wait_until(lambda: rejecter.accepted, timeout=15, what="zed's confirmation mail")
        url = re.search(r"https?://[^\s\"<>]+/confirm/[A-Za-z0-9_-]+", rejecter.accepted[0])[0]
        r = m.post(url.split(m.base_url, 1)[1])
        assert r.status == 200, r
        wait_until(lambda: len(rejecter.accepted) >= 2, timeout=15, what="zed's welcome mail")
        assert suppressions(m) == {}
        m.launch()
        smtp.wait_one("ann@example.net", "reminder")
        wait_until(lambda: "zed@dead.example" in suppressions(m), timeout=30,
                   what="the bounce to pass through Postfix and muster bounce")
        entry = suppressions(m)["zed@dead.example"]
        zed = m.inspect("supporter", "zed@dead.example")
        assert (entry["kind"], entry["campaign_id"]) == ("bounce", zed["campaign_id"])
        assert "5.1.1" in entry["reason"]
        assert list(suppressions(m)) == ["zed@dead.example"]
        maillog = (root / "maillog").read_text()
        assert re.search(r"to=<bounces\+\d+-\d+-[0-9a-f]{20}@example\.org>, relay=muster-bounce,"
                         r".*status=sent", maillog), maillog[-3000:]
    finally:
        master.terminate()
        try:
            master.wait(10)
        except subprocess.TimeoutExpired:
            master.kill()
        log.close()
        rej.stop()
        print((root / "maillog").read_text()[-4000:])
        shutil.rmtree(root, ignore_errors=True)
