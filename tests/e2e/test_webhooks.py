"""
test_webhooks: a campaign's webhook end to end (docs/WEBHOOKS.md).

A tiny HTTP receiver (http.server in a thread on 127.0.0.1) records every
delivery and answers from a script of statuses. `muster serve` runs with
MUSTER_WEBHOOK_ALLOW_PRIVATE=1 (the receiver is on loopback) and a short
backoff (MUSTER_WEBHOOK_BACKOFF_MS, for tests only), except in the test that
checks that loopback is refused without it. Each test verifies what a real
receiver would: the HMAC-SHA256 signature over "<timestamp>.<body>" with
Python's hmac, the timestamp header, and the payload, which carries no email.

Run: /usr/bin/python3 -m pytest tests/e2e/test_webhooks.py
"""
import hashlib
import hmac
import http.server
import json
import re
import threading
import time
import urllib.parse

import pytest

from conftest import deep_merge, make_campaign, wait_until

SECRET = "whsec_e2e_0123456789abcdef"


class Receiver:
    """An HTTP server that keeps each POST and answers with the next scripted status."""

    def __init__(self, statuses=(), delay=0.0):
        self.lock = threading.Lock()
        self.requests = []  # dicts: path, headers, body
        self.statuses = list(statuses)
        self.delay = delay  # seconds before answering
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.requests.append(
                        {"path": self.path, "headers": dict(self.headers.items()), "body": body})
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                time.sleep(receiver.delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender gave up on us

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/muster"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def received(self, event=None):
        with self.lock:
            reqs = list(self.requests)
        return [r for r in reqs if event is None or r["headers"].get("X-Muster-Event") == event]

    def wait_for(self, n, event=None, timeout=15):
        return wait_until(lambda: len(self.received(event)) >= n and self.received(event),
                          timeout=timeout, what=f"{n} webhook(s) {event or ''}")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def webhook_campaign(url, **extra):
    return make_campaign({"webhook": dict({"url": url, "secret": SECRET}, **extra)})


def verify(request, secret=SECRET):
    """Checks a delivery as docs/WEBHOOKS.md tells receivers to; returns the payload."""
    h = request["headers"]
    assert h["Content-Type"] == "application/json"
    assert h["User-Agent"] == "muster"
    ts = h["X-Muster-Timestamp"]
    assert re.fullmatch(r"[0-9]+", ts), ts
    assert abs(int(ts) - time.time()) < 300, "timestamp is not the time of sending"
    want = hmac.new(secret.encode(), ts.encode() + b"." + request["body"],
                    hashlib.sha256).hexdigest()
    assert hmac.compare_digest(h["X-Muster-Signature"], "sha256=" + want), h
    payload = json.loads(request["body"])
    assert payload["event"] == h["X-Muster-Event"]
    return payload


def events(m):
    """(event, state, attempts, last_status, last_error) of every queued webhook event,
    in order (store-inspect: no command shows the deliveries)."""
    return [(e["event"], e["state"], e["attempts"], e["last_status"], e["last_error"])
            for e in m.inspect("webhook-events")]


def test_confirmation_and_click_are_delivered_signed(make_muster, receiver, smtp):
    m = make_muster(webhook_campaign(receiver.url),
                    env={"MUSTER_WEBHOOK_ALLOW_PRIVATE": "1", "MUSTER_WEBHOOK_BACKOFF_MS": "200"})
    m.confirm_supporter("ada@example.org", name="Ada", statement="Offline matters")
    [confirmed] = receiver.wait_for(1, "pledge.confirmed")
    assert confirmed["path"] == "/hooks/muster"
    p = verify(confirmed)
    assert p["event"] == "pledge.confirmed"
    assert p["campaign"] == m.slug
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", p["occurred_at"])
    assert re.fullmatch(r"[0-9a-f]{32}", p["id"])
    supporter_id = p["supporter"]["id"]
    assert re.fullmatch(r"[0-9a-f]{32}", supporter_id)
    assert set(p) == {"id", "event", "campaign", "occurred_at", "supporter"}
    assert set(p["supporter"]) == {"id"}
    # Nothing the supporter typed, and not the row id either.
    body = confirmed["body"].decode()
    for personal in ("ada@example.org", "Ada", "Offline"):
        assert personal not in body
    assert str(m.inspect("supporter", "ada@example.org")["id"]) != supporter_id

    m.launch()
    reminder = smtp.wait_one("ada@example.org", "reminder")
    r = m.get(urllib.parse.urlsplit(reminder.link("/a/")).path)
    assert r.status == 302, r
    [clicked] = receiver.wait_for(1, "action.clicked")
    c = verify(clicked)
    assert c["campaign"] == m.slug
    assert c["supporter"]["id"] == supporter_id  # stable: the same person across events
    assert c["target"] in {t["id"] for t in m.campaign["targets"]}
    assert c["id"] != p["id"]
    assert set(c) == {"id", "event", "campaign", "occurred_at", "supporter", "target"}
    wait_until(lambda: [e[1] for e in events(m)] == ["sent", "sent"], what="both marked sent")
    assert [(e[0], e[2], e[3]) for e in events(m)] == [("pledge.confirmed", 1, 200),
                                                       ("action.clicked", 1, 200)]


def test_a_failing_receiver_gets_the_event_again_until_it_answers_2xx(make_muster, smtp):
    receiver = Receiver(statuses=[500, 500, 200])
    try:
        m = make_muster(webhook_campaign(receiver.url),
                        env={"MUSTER_WEBHOOK_ALLOW_PRIVATE": "1",
                             "MUSTER_WEBHOOK_BACKOFF_MS": "100"})
        m.confirm_supporter("bob@example.org")
        tries = receiver.wait_for(3, "pledge.confirmed", timeout=20)
        payloads = [verify(t) for t in tries]
        assert len({json.dumps(p, sort_keys=True) for p in payloads}) == 1  # the same event
        wait_until(lambda: events(m) and events(m)[0][1] == "sent", what="marked sent")
        [(event, state, attempts, status, error)] = events(m)
        assert (event, state, attempts, status, error) == ("pledge.confirmed", "sent", 3, 200,
                                                           None)
        time.sleep(1.5)
        assert len(receiver.received()) == 3  # nothing after the 2xx
    finally:
        receiver.close()


def test_loopback_is_refused_without_allow_private(make_muster, receiver, smtp):
    m = make_muster(webhook_campaign(receiver.url), env={"MUSTER_WEBHOOK_BACKOFF_MS": "100"})
    m.confirm_supporter("eve@example.org")
    wait_until(lambda: events(m) and events(m)[0][1] == "failed", what="event marked failed")
    [(event, state, attempts, status, error)] = events(m)
    assert (event, state, attempts, status) == ("pledge.confirmed", "failed", 1, 0)
    assert "refused" in error and "127.0.0.1" in error and "loopback" in error, error
    assert "MUSTER_WEBHOOK_ALLOW_PRIVATE" in error
    time.sleep(1.0)
    assert receiver.received() == []


def test_only_the_events_the_campaign_asks_for_are_queued(make_muster, receiver, smtp):
    m = make_muster(webhook_campaign(receiver.url, events=["action.clicked"]),
                    env={"MUSTER_WEBHOOK_ALLOW_PRIVATE": "1"})
    m.confirm_supporter("cy@example.org")
    time.sleep(1.0)
    assert events(m) == []
    assert receiver.received() == []


def test_a_campaign_without_a_webhook_queues_nothing(muster, smtp):
    muster.confirm_supporter("di@example.org")
    assert muster.inspect("count", "webhook-events") == 0


def test_an_invalid_webhook_is_refused_with_its_path(make_muster, receiver):
    m = make_muster(start=False, apply=False)
    bad = webhook_campaign("ftp://hooks.example.org/x")
    bad["webhook"]["secret"] = "short"
    bad["webhook"]["events"] = ["pledge.created"]
    code, out, err = m.apply(bad)
    assert code == 2, (code, out, err)
    assert "campaign.json: $.webhook.url: expected an https:// (or http://) URL" in err
    assert "campaign.json: $.webhook.secret: too short: 5 characters, at least 16" in err
    assert "campaign.json: $.webhook.events[0]: unknown event" in err


def test_a_hanging_receiver_blocks_neither_requests_nor_shutdown(make_muster, smtp):
    receiver = Receiver(delay=8.0)
    try:
        m = make_muster(webhook_campaign(receiver.url),
                        env={"MUSTER_WEBHOOK_ALLOW_PRIVATE": "1"})
        m.confirm_supporter("fay@example.org")
        receiver.wait_for(1, "pledge.confirmed")  # in flight, unanswered
        t0 = time.monotonic()
        r = m.pledge("gus@example.org")
        assert r.status == 202 and time.monotonic() - t0 < 2.0, r
        code, secs = m.stop()
        assert code == 0 and secs < 3.0, (code, secs)
        # Abandoned, not failed: the next start delivers it, the attempt not counted.
        held = [(e["state"], e["attempts"], e["owner"], e["lease_until"])
                for e in m.inspect("webhook-events")]
        assert held == [("pending", 0, None, 0)], held
    finally:
        receiver.close()


def test_a_webhook_applied_by_another_process_counts_from_the_next_click(make_muster, receiver,
                                                                         smtp):
    # The click writer reads the campaign's webhook once per batch, inside the
    # batch's transaction: an `apply` by another process between two clicks
    # must still decide the second one.
    m = make_muster(env={"MUSTER_WEBHOOK_ALLOW_PRIVATE": "1"})
    people = ["ann@example.org", "ben@example.org", "cat@example.org"]
    for who in people:
        m.confirm_supporter(who)
    m.launch()
    links = {who: urllib.parse.urlsplit(smtp.wait_one(who, "reminder").link("/a/")).path
             for who in people}

    assert m.get(links["ann@example.org"]).status == 302
    m.wait_clicks(1)
    assert events(m) == []

    code, out, err = m.apply(deep_merge(m.campaign, {"webhook": {
        "url": receiver.url, "secret": SECRET, "events": ["action.clicked"]}}))
    assert code == 0, err
    assert m.get(links["ben@example.org"]).status == 302
    m.wait_clicks(2)
    assert [e[0] for e in events(m)] == ["action.clicked"]

    code, out, err = m.apply(deep_merge(m.campaign, {"webhook": {
        "events": ["pledge.confirmed"]}}))
    assert code == 0, err
    assert m.get(links["cat@example.org"]).status == 302
    m.wait_clicks(3)
    assert [e[0] for e in events(m)] == ["action.clicked"]
