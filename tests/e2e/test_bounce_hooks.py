"""The providers' bounce webhooks (docs/API.md, "Bounce webhooks"): Postmark's bounce
and spam-complaint events, authenticated by MUSTER_HOOK_SECRET (basic auth or the
`secret` query parameter), feed the suppression list; wrong or missing secrets, bodies
and fields are refused with a clear 4xx and change nothing."""
import base64
import json

SECRET = "hook-secret-0123456789abcdef"


def listed(m):
    code, out, err = m.cli("suppression", "list", "--json")
    assert code == 0, err
    return {r["address"]: r for r in json.loads(out)}


def post(m, body, auth=SECRET, query=None):
    headers = {"Content-Type": "application/json"}
    if auth is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(
            f"postmark:{auth}".encode()).decode()
    path = "/hooks/bounces/postmark" + (f"?secret={query}" if query else "")
    raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return m.post(path, body=raw, headers=headers)


HARD = {"RecordType": "Bounce", "ID": 42, "Type": "HardBounce", "TypeCode": 1,
        "Name": "Hard bounce", "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Description": "The server was unable to deliver your message (ex: unknown user, "
                       "mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": "Hard@Example.org", "From": "muster@example.org",
        "BouncedAt": "2026-12-05T10:00:00Z", "Inactive": True, "CanActivate": True,
        "Subject": "Today", "ServerID": 1, "MessageStream": "outbound", "Tag": "",
        "Metadata": {}}
SPAM = {"RecordType": "SpamComplaint", "ID": 43, "Type": "SpamComplaint", "TypeCode": 512,
        "Email": "angry@example.org", "Details": "Test spam complaint details",
        "BouncedAt": "2026-12-05T10:00:00Z", "MessageStream": "outbound"}


def test_postmark_hard_bounce_and_complaint_suppress(make_muster):
    m = make_muster(env={"MUSTER_HOOK_SECRET": SECRET})
    r = post(m, HARD)
    assert r.status == 200, r
    assert r.json()["result"] == "recorded: suppressed"
    r = post(m, SPAM, auth=None, query=SECRET)
    assert r.status == 200, r
    rows = listed(m)
    assert rows["hard@example.org"]["kind"] == "bounce"
    assert "HardBounce" in rows["hard@example.org"]["reason"]
    assert "550 5.1.1" in rows["hard@example.org"]["reason"]
    assert rows["angry@example.org"]["kind"] == "complaint"


def test_postmark_soft_bounces_suppress_on_the_third(make_muster):
    m = make_muster(env={"MUSTER_HOOK_SECRET": SECRET})
    soft = dict(HARD, Type="SoftBounce", TypeCode=4096, Email="full@example.org",
                Details="452 4.2.2 mailbox full")
    for i in range(2):
        r = post(m, soft)
        assert r.status == 200 and r.json()["result"] == "recorded", r
        assert "full@example.org" not in listed(m)
    r = post(m, soft)
    assert r.json()["result"] == "recorded: suppressed"
    assert listed(m)["full@example.org"]["kind"] == "temporary"


def test_postmark_events_about_nothing_are_ignored(make_muster):
    m = make_muster(env={"MUSTER_HOOK_SECRET": SECRET})
    for event in [dict(HARD, Type="AutoResponder", TypeCode=32),
                  {"RecordType": "Open", "Email": "x@example.org"},
                  {"RecordType": "Delivery", "Email": "x@example.org"}]:
        r = post(m, event)
        assert r.status == 200 and r.json()["result"].startswith("ignored"), r
    assert listed(m) == {}


def test_postmark_refuses_bad_secrets_and_bad_bodies(make_muster):
    m = make_muster(env={"MUSTER_HOOK_SECRET": SECRET})
    for kw in [dict(auth=None), dict(auth="wrong-secret-0123456789"), dict(auth=SECRET + "x"),
               dict(auth=None, query="wrong")]:
        r = post(m, HARD, **kw)
        assert r.status == 401, (kw, r)
        assert "secret" in r.json()["error"]
    r = m.post("/hooks/bounces/postmark", body=json.dumps(HARD),
               headers={"Authorization": "Basic !!!notbase64"})
    assert r.status == 401
    for body, field in [("not json", "JSON"), ("[1]", "JSON"), ({"Email": "a@example.org"},
                                                                 "RecordType"),
                        (dict(HARD, Email="not an address"), "Email"),
                        (dict(HARD, Email=None), "Email"),
                        ({"RecordType": "Bounce", "Type": "HardBounce"}, "Email")]:
        r = post(m, body)
        assert r.status == 400, (body, r)
        assert field in r.json()["error"], r.json()
    assert listed(m) == {}


def test_hooks_are_off_without_a_secret(make_muster):
    m = make_muster()
    r = post(m, HARD)
    assert r.status == 404
    assert "MUSTER_HOOK_SECRET" in r.json()["error"]
    assert listed(m) == {}


def test_a_short_secret_is_refused_at_start(make_muster):
    m = make_muster(start=False)
    code, out, err = m.cli("suppression", "list", env={"MUSTER_HOOK_SECRET": "short"})
    assert code != 0 and "MUSTER_HOOK_SECRET" in err
