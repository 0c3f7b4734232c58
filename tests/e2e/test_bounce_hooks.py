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


# ---- SendGrid: the signed Event Webhook (ECDSA P-256 over timestamp + body) ----

import time  # noqa: E402

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402
import datetime  # noqa: E402

SENDGRID_KEY = ec.generate_private_key(ec.SECP256R1())
SENDGRID_PUBLIC = base64.b64encode(SENDGRID_KEY.public_key().public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
SIG_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TS_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"


def sendgrid_post(m, events, key=SENDGRID_KEY, timestamp=None, tamper=None, headers=None):
    raw = json.dumps(events).encode() if not isinstance(events, bytes) else events
    ts = str(int(time.time()) if timestamp is None else timestamp)
    sig = base64.b64encode(key.sign(ts.encode() + raw, ec.ECDSA(hashes.SHA256()))).decode()
    h = {"Content-Type": "application/json", SIG_HEADER: sig, TS_HEADER: ts}
    h.update(headers or {})
    h = {k: v for k, v in h.items() if v is not None}
    return m.post("/hooks/bounces/sendgrid", body=tamper(raw) if tamper else raw, headers=h)


def sg_event(event, email, **kw):
    return dict({"email": email, "timestamp": int(time.time()), "smtp-id": "<14c5d75ce93@x>",
                 "event": event, "sg_event_id": "sg_event_id", "sg_message_id": "sg_message_id",
                 "category": ["docs-day"]}, **kw)


SENDGRID_BATCH = [
    sg_event("processed", "fine@example.org"),
    sg_event("delivered", "fine@example.org", response="250 OK"),
    sg_event("bounce", "Gone@Example.org", type="bounce", status="5.1.1",
             reason="550 5.1.1 The email account that you tried to reach does not exist",
             bounce_classification="Invalid Address"),
    sg_event("bounce", "blocked@example.org", type="blocked", status="4.0.0",
             reason="421 4.7.0 Try again later", bounce_classification="Reputation"),
    sg_event("dropped", "known-bad@example.org", reason="Bounced Address", status="5.0.0"),
    sg_event("dropped", "unsub@example.org", reason="Unsubscribed Address", status="5.0.0"),
    sg_event("dropped", "fine@example.org", reason="Invalid SMTPAPI header", status="5.0.0"),
    sg_event("spamreport", "angry@example.org"),
    sg_event("deferred", "slow@example.org", response="400 try again later", attempt="1"),
]


def test_sendgrid_events_feed_the_suppression_list(make_muster):
    m = make_muster(env={"MUSTER_SENDGRID_KEY": SENDGRID_PUBLIC})
    r = sendgrid_post(m, SENDGRID_BATCH)
    assert r.status == 200, r
    assert r.json()["result"] == "recorded 4, suppressed 3, ignored 5", r.json()
    rows = listed(m)
    assert set(rows) == {"gone@example.org", "known-bad@example.org", "angry@example.org"}
    assert rows["gone@example.org"]["kind"] == "bounce"
    assert "550 5.1.1" in rows["gone@example.org"]["reason"]
    assert rows["known-bad@example.org"]["kind"] == "bounce"
    assert rows["angry@example.org"]["kind"] == "complaint"
    # "blocked" is a temporary failure: the third within days suppresses
    blocked = [e for e in SENDGRID_BATCH if e.get("type") == "blocked"]
    assert sendgrid_post(m, blocked).json()["result"] == "recorded 1, suppressed 0, ignored 0"
    assert sendgrid_post(m, blocked).json()["result"] == "recorded 1, suppressed 1, ignored 0"
    assert listed(m)["blocked@example.org"]["kind"] == "temporary"


def test_sendgrid_refuses_unsigned_forged_tampered_and_stale(make_muster):
    m = make_muster(env={"MUSTER_SENDGRID_KEY": SENDGRID_PUBLIC})
    bounce = [sg_event("bounce", "victim@example.org", type="bounce", reason="550 no")]
    other_key = ec.generate_private_key(ec.SECP256R1())
    cases = [
        (dict(headers={SIG_HEADER: None}), 401, SIG_HEADER),
        (dict(headers={TS_HEADER: None}), 401, TS_HEADER),
        (dict(headers={SIG_HEADER: "!!not base64!!"}), 401, SIG_HEADER),
        (dict(key=other_key), 403, "signature"),
        (dict(tamper=lambda raw: raw.replace(b"victim", b"victin")), 403, "signature"),
        (dict(headers={TS_HEADER: str(int(time.time()) + 1)}), 403, "signature"),
        (dict(timestamp=int(time.time()) - 11 * 60), 403, "10 minutes"),
        (dict(timestamp=int(time.time()) + 11 * 60), 403, "10 minutes"),
        (dict(timestamp="12ab"), 401, TS_HEADER),
    ]
    for kw, status, word in cases:
        r = sendgrid_post(m, bounce, **kw)
        assert r.status == status, (kw, r)
        assert word in r.json()["error"], (kw, r.json())
    assert listed(m) == {}
    # a timestamp 9 minutes old is still accepted
    assert sendgrid_post(m, bounce, timestamp=int(time.time()) - 9 * 60).status == 200
    assert "victim@example.org" in listed(m)


def test_sendgrid_refuses_bad_bodies_whole(make_muster):
    m = make_muster(env={"MUSTER_SENDGRID_KEY": SENDGRID_PUBLIC})
    good = sg_event("spamreport", "first@example.org")
    for body, word in [(b"not json", "JSON array"), ({"event": "bounce"}, "JSON array"),
                       ([good, 7], "event 1: not a JSON object"),
                       ([good, {"email": "x@example.org"}], "event 1: \"event\""),
                       ([good, sg_event("spamreport", "not an address")], "event 1: \"email\""),
                       ([good, sg_event("bounce", None)], "event 1: \"email\"")]:
        r = sendgrid_post(m, body if isinstance(body, bytes) else body)
        assert r.status == 400, (body, r)
        assert word in r.json()["error"], r.json()
    assert listed(m) == {}  # nothing of a refused batch is recorded


def test_sendgrid_is_off_without_its_key_and_a_bad_key_stops_the_start(make_muster):
    m = make_muster()
    r = sendgrid_post(m, [sg_event("spamreport", "a@example.org")])
    assert r.status == 404 and "MUSTER_SENDGRID_KEY" in r.json()["error"]
    assert listed(m) == {}
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_public = base64.b64encode(rsa_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
    p384 = base64.b64encode(ec.generate_private_key(ec.SECP384R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
    for value, word in [("not-base64!", "base64"), (base64.b64encode(b"junk").decode(), "DER"),
                        (rsa_public, "P-256"), (p384, "secp384r1")]:
        code, out, err = m.cli("suppression", "list", env={"MUSTER_SENDGRID_KEY": value})
        assert code != 0 and "MUSTER_SENDGRID_KEY" in err and word in err, (value, err)


# ---- Amazon SES through SNS: the message signature against MUSTER_SES_CERT ----

SNS_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
TOPIC = "arn:aws:sns:eu-west-1:123456789012:muster-bounces"


def self_signed_cert(key, name="sns.eu-west-1.amazonaws.com"):
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))


def sns_time(delta_seconds=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=delta_seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def sns_sign(doc, key=SNS_KEY, version="1"):
    """Signs DOC as SNS does: the canonical "Name\\nvalue\\n" string of its Type's fields."""
    if doc["Type"] == "Notification":
        fields = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        fields = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    text = "".join(f"{f}\n{doc[f]}\n" for f in fields if f in doc)
    digest = hashes.SHA1() if version == "1" else hashes.SHA256()
    signed = dict(doc, SignatureVersion=version, SigningCertURL=(
        "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000.pem"))
    signed["Signature"] = base64.b64encode(
        key.sign(text.encode(), padding.PKCS1v15(), digest)).decode()
    return signed


def ses_notification(message, **kw):
    return dict({"Type": "Notification", "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
                 "TopicArn": TOPIC, "Message": json.dumps(message), "Timestamp": sns_time(),
                 "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe"}, **kw)


SES_BOUNCE = {
    "notificationType": "Bounce",
    "bounce": {"bounceType": "Permanent", "bounceSubType": "General",
               "bouncedRecipients": [
                   {"emailAddress": "Nobody@Example.org", "action": "failed", "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown"},
                   {"emailAddress": "also-gone@example.org", "status": "5.1.1"}],
               "timestamp": "2026-12-05T10:00:00.000Z", "feedbackId": "0000013786031775-x"},
    "mail": {"timestamp": "2026-12-05T09:59:59.000Z", "source": "muster@example.org",
             "messageId": "00000137860315fd-x", "destination": ["nobody@example.org"]}}
SES_COMPLAINT = {
    "notificationType": "Complaint",
    "complaint": {"complainedRecipients": [{"emailAddress": "upset@example.org"}],
                  "complaintFeedbackType": "abuse", "timestamp": "2026-12-05T10:00:00.000Z",
                  "feedbackId": "000001378603177f-x"},
    "mail": {"messageId": "000001378603177f-y", "source": "muster@example.org"}}
SES_TRANSIENT = {
    "eventType": "Bounce",
    "bounce": {"bounceType": "Transient", "bounceSubType": "MailboxFull",
               "bouncedRecipients": [{"emailAddress": "full@example.org"}]}}


def ses_post(m, doc):
    raw = doc if isinstance(doc, (bytes, str)) else json.dumps(doc)
    return m.post("/hooks/bounces/ses", body=raw,
                  headers={"Content-Type": "text/plain; charset=UTF-8",
                           "x-amz-sns-message-type": "Notification"})


def ses_muster(make_muster, tmp_path, **env):
    cert = tmp_path / "sns-signing.pem"
    cert.write_bytes(self_signed_cert(SNS_KEY))
    return make_muster(env=dict({"MUSTER_SES_CERT": str(cert)}, **env))


def test_ses_bounces_and_complaints_feed_the_suppression_list(make_muster, tmp_path):
    m = ses_muster(make_muster, tmp_path)
    r = ses_post(m, sns_sign(ses_notification(SES_BOUNCE, Subject="Amazon SES bounce")))
    assert r.status == 200, r
    assert r.json()["result"] == "recorded 2, suppressed 2, ignored 0"
    r = ses_post(m, sns_sign(ses_notification(SES_COMPLAINT), version="2"))
    assert r.status == 200, r
    r = ses_post(m, sns_sign(ses_notification({"notificationType": "Delivery",
                                               "delivery": {"recipients": ["x@example.org"]}})))
    assert r.status == 200 and r.json()["result"] == "recorded 0, suppressed 0, ignored 1"
    for i in range(3):
        r = ses_post(m, sns_sign(ses_notification(SES_TRANSIENT), version="2"))
        assert r.status == 200, r
        assert r.json()["result"].startswith(f"recorded 1, suppressed {1 if i == 2 else 0}")
    rows = listed(m)
    assert set(rows) == {"nobody@example.org", "also-gone@example.org", "upset@example.org",
                         "full@example.org"}
    assert rows["nobody@example.org"]["kind"] == "bounce"
    assert "550 5.1.1 user unknown" in rows["nobody@example.org"]["reason"]
    assert rows["upset@example.org"]["kind"] == "complaint"
    assert rows["full@example.org"]["kind"] == "temporary"


def test_ses_subscription_confirmation_is_logged_not_fetched(make_muster, tmp_path):
    m = ses_muster(make_muster, tmp_path)
    url = ("https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn="
           + TOPIC + "&Token=2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92")
    doc = {"Type": "SubscriptionConfirmation", "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
           "Token": "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92",
           "TopicArn": TOPIC, "Timestamp": sns_time(), "SubscribeURL": url,
           "Message": "You have chosen to subscribe to the topic " + TOPIC + ".\n"
                      "To confirm the subscription, visit the SubscribeURL included in this "
                      "message."}
    r = ses_post(m, sns_sign(doc))
    assert r.status == 200, r
    assert "SubscribeURL" in r.json()["result"]
    assert url in m.server_stderr()
    forged = sns_sign(doc)
    forged["SubscribeURL"] = "https://attacker.example/?Action=ConfirmSubscription"
    assert ses_post(m, forged).status == 403
    assert "attacker.example" not in m.server_stderr()


def test_ses_refuses_forged_tampered_stale_and_foreign_topics(make_muster, tmp_path):
    m = ses_muster(make_muster, tmp_path, MUSTER_SES_TOPIC_ARN=TOPIC)
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    good = sns_sign(ses_notification(SES_BOUNCE))
    tampered = dict(good, Message=good["Message"].replace("Nobody@", "Somebody@"))
    no_subject = sns_sign(ses_notification(SES_BOUNCE))
    added_subject = dict(no_subject, Subject="added after signing")
    cases = [
        (sns_sign(ses_notification(SES_BOUNCE), key=other_key), 403, "signature"),
        (tampered, 403, "signature"),
        (added_subject, 403, "signature"),
        (dict(good, SignatureVersion="2"), 403, "signature"),
        (sns_sign(ses_notification(SES_BOUNCE, Timestamp=sns_time(-3700))), 403, "an hour"),
        (sns_sign(ses_notification(SES_BOUNCE, TopicArn=TOPIC + "-other")), 403, "TopicArn"),
        (dict(good, Signature="!!!"), 400, "Signature"),
        (dict(good, SignatureVersion="3"), 400, "SignatureVersion"),
        ({k: v for k, v in good.items() if k != "MessageId"}, 400, "MessageId"),
        (dict(good, Type="Other"), 400, "Type"),
        (sns_sign(ses_notification(SES_BOUNCE, Timestamp="yesterday")), 400, "Timestamp"),
        ("not json", 400, "JSON"),
    ]
    for doc, status, word in cases:
        r = ses_post(m, doc)
        assert r.status == status, (doc, r)
        assert word in r.json()["error"], r.json()
    assert listed(m) == {}
    bad_messages = [
        ("not json", "Message"),
        (json.dumps({"bounce": {}}), "notificationType"),
        (json.dumps(dict(SES_BOUNCE, bounce=dict(SES_BOUNCE["bounce"], bounceType="Sideways"))),
         "bounceType"),
        (json.dumps(dict(SES_BOUNCE, bounce=dict(SES_BOUNCE["bounce"], bouncedRecipients=[]))),
         "bouncedRecipients"),
        (json.dumps(dict(SES_BOUNCE, bounce=dict(SES_BOUNCE["bounce"], bouncedRecipients=[
            {"emailAddress": "ok@example.org"}, {"emailAddress": "not an address"}]))),
         "bouncedRecipients[1].emailAddress"),
    ]
    for message, word in bad_messages:
        r = ses_post(m, sns_sign(dict(ses_notification({}), Message=message)))
        assert r.status == 400, (message, r)
        assert word in r.json()["error"], r.json()
    assert listed(m) == {}
    assert ses_post(m, good).status == 200


def test_ses_is_off_without_a_certificate_and_a_bad_one_stops_the_start(make_muster, tmp_path):
    m = make_muster()
    r = ses_post(m, sns_sign(ses_notification(SES_BOUNCE)))
    assert r.status == 404 and "MUSTER_SES_CERT" in r.json()["error"]
    assert listed(m) == {}
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    ec_cert = tmp_path / "ec.pem"
    ec_cert.write_bytes(self_signed_cert(ec.generate_private_key(ec.SECP256R1())))
    for env, word in [({"MUSTER_SES_CERT": str(tmp_path / "missing.pem")}, "cannot read"),
                      ({"MUSTER_SES_CERT": str(junk)}, "not a PEM certificate"),
                      ({"MUSTER_SES_CERT": str(ec_cert)}, "RSA"),
                      ({"MUSTER_SES_TOPIC_ARN": TOPIC}, "MUSTER_SES_CERT")]:
        code, out, err = m.cli("suppression", "list", env=env)
        assert code != 0 and word in err, (env, err)


# ------------------------------------------------------------- events about our own mails


def test_events_about_a_sent_reminder_count_for_its_campaign(make_muster, smtp, tmp_path):
    """SendGrid's smtp-id and SES's mail.commonHeaders.messageId echo the Message-ID
    muster gave the message: the entry and the campaign's rates say which campaign it
    was; a Message-ID that is not muster's (or is forged) attributes nothing."""
    from test_launch_control import import_people
    cert = tmp_path / "sns-signing.pem"
    cert.write_bytes(self_signed_cert(SNS_KEY))
    m = make_muster(env={"MUSTER_SENDGRID_KEY": SENDGRID_PUBLIC, "MUSTER_SES_CERT": str(cert)},
                    start=False)
    first, second = import_people(m, 2)
    m.launch(timeout=60)
    m.start()
    by_addr = {r.rcpt_tos[0]: r for r in smtp.wait_for(2, kind="reminder", timeout=30)}
    first_id = by_addr[first].msg["Message-ID"]
    second_id = by_addr[second].msg["Message-ID"]
    assert first_id and second_id and first_id != second_id

    r = sendgrid_post(m, [sg_event("spamreport", first, **{"smtp-id": first_id}),
                          sg_event("bounce", "stranger@example.org", type="bounce",
                                   status="5.1.1", reason="550 no such user",
                                   **{"smtp-id": first_id.replace("reminder.", "welcome.")})])
    assert r.status == 200 and r.json()["result"] == "recorded 2, suppressed 2, ignored 0", r
    complaint = dict(SES_COMPLAINT, mail={"messageId": "0000-x", "source": "muster@example.org",
                                          "commonHeaders": {"messageId": second_id}})
    complaint["complaint"] = dict(SES_COMPLAINT["complaint"],
                                  complainedRecipients=[{"emailAddress": second}])
    r = ses_post(m, sns_sign(ses_notification(complaint)))
    assert r.status == 200 and r.json()["result"] == "recorded 1, suppressed 1, ignored 0", r

    rows = listed(m)
    assert rows[first]["campaign"] == m.slug, rows[first]
    assert rows[second]["campaign"] == m.slug, rows[second]
    assert rows["stranger@example.org"]["campaign"] == "", rows["stranger@example.org"]
    delivery = m.stats()["delivery"]
    assert delivery["complaints"] == 2, delivery
    assert delivery["bounces"] == 0, delivery
