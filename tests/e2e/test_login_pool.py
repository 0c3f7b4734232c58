"""
test_login_pool: password checks run on the server's work pool, not on the HTTP
threads (src/core/workpool.c, src/http/server.c, src/pages/login.c).

A login's Argon2id verify takes about 100 ms of CPU. It used to run inside the
libmicrohttpd event loop, so every request that loop owned waited behind it.
These tests look at the order in which answers arrive, not at times: with one
HTTP thread and one hash thread, a /healthz and a pledge sent while twelve
logins are being checked are answered before half of those logins are; a full
queue is answered 503 with Retry-After at once, counted in /metrics, and not
counted as a failed login; attempts sent at once from one address get no
further than attempts sent one by one; and SIGTERM with logins queued stops
cleanly (the fixture checks the exit code and the sanitizer's report).

The requests go over raw sockets, all written before any answer is read, and
one loop reads every answer, so the order of completion is the server's.

Run: MUSTER_BIN=build/muster /usr/bin/python3 -m pytest tests/e2e/test_login_pool.py
"""
import json
import re
import selectors
import socket
import time
import urllib.parse

ORG_EMAIL = "organizer@example.org"
ORG_PASSWORD = "correct horse battery staple"
LOGIN_FREE_FAILURES = 5  # per client address and account (src/http/app.c)


def add_organizer(m, email=ORG_EMAIL, password=ORG_PASSWORD):
    code, out, err = m.cli("organizer", "add", email, input=password + "\n")
    assert code == 0, f"organizer add failed ({code}): {out}{err}"


class Csrf:
    """A browser's CSRF cookie and the form field the login page gave for it (the
    field is an HMAC of the cookie, not the cookie)."""

    def __init__(self, cookie, field):
        self.cookie = cookie
        self.field = field


def csrf_token(m):
    r = m.get("/login")
    field = re.search(r'name="csrf" value="([^"]+)"', r.text)
    assert field, f"no csrf field in the login page: {r.text[:500]}"
    for value in r.headers.get_all("Set-Cookie") or []:
        match = re.match(r"muster_csrf=([^;]+)", value)
        if match:
            return Csrf(match.group(1), field.group(1))
    raise AssertionError(f"no CSRF cookie in {r.headers}")


def raw_request(method, path, headers, body=b""):
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close",
             f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def login_request(csrf, ip, email=ORG_EMAIL, password="a wrong guess"):
    body = urllib.parse.urlencode({"csrf": csrf.field, "email": email,
                                   "password": password}).encode()
    return raw_request("POST", "/login", {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"muster_csrf={csrf.cookie}",
        "X-Forwarded-For": ip,
    }, body)


def pledge_request(slug, email):
    body = json.dumps({"email": email, "timezone": "UTC", "consent": True}).encode()
    return raw_request("POST", f"/c/{slug}/pledge", {"Content-Type": "application/json"}, body)


HEALTHZ = raw_request("GET", "/healthz", {})


def send_all(m, requests):
    """Opens one connection per request and writes each request whole."""
    socks = []
    for req in requests:
        s = socket.create_connection(("127.0.0.1", m.port), timeout=10)
        s.sendall(req)
        socks.append(s)
    return socks


def collect(socks, timeout=60.0):
    """Reads every connection to its end. Returns, in the order the answers
    were complete (the server closed the connection), (index, status,
    headers) with status None for a connection closed without an answer."""
    sel = selectors.DefaultSelector()
    data = {}
    for i, s in enumerate(socks):
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, i)
        data[i] = b""
    order = []
    deadline = time.monotonic() + timeout
    while len(order) < len(socks):
        left = deadline - time.monotonic()
        assert left > 0, f"answers missing after {timeout}s: {sorted(set(data) - {o[0] for o in order})}"
        for key, _ in sel.select(left):
            i = key.data
            try:
                chunk = key.fileobj.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if chunk:
                data[i] += chunk
                continue
            sel.unregister(key.fileobj)
            key.fileobj.close()
            head = data[i].split(b"\r\n\r\n", 1)[0].decode("latin-1")
            if not head:
                order.append((i, None, {}))
                continue
            status_line, *header_lines = head.split("\r\n")
            headers = {}
            for line in header_lines:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            order.append((i, int(status_line.split()[1]), headers))
    sel.close()
    return order


def metric(m, name):
    text = m.get("/metrics").text
    match = re.search(rf"^{name} (\d+)$", text, re.M)
    assert match, f"{name} missing from /metrics:\n{text}"
    return int(match.group(1))


def test_a_healthz_and_a_pledge_are_answered_while_logins_are_checked(make_muster):
    m = make_muster(env={"MUSTER_HTTP_THREADS": "1", "MUSTER_HASH_THREADS": "1",
                         "MUSTER_TRUSTED_PROXIES": "127.0.0.1"})
    add_organizer(m)
    csrf = csrf_token(m)
    n = 12
    # Twelve wrong passwords, each from its own address (no login limit in
    # the way), then the two probes once every login was written.
    socks = send_all(m, [login_request(csrf, f"203.0.113.{i + 1}") for i in range(n)])
    socks += send_all(m, [HEALTHZ, pledge_request(m.slug, "probe@example.org")])
    order = collect(socks)
    statuses = {i: status for i, status, _ in order}
    assert [statuses[i] for i in range(n)] == [401] * n, order
    assert statuses[n] == 200 and statuses[n + 1] == 202, order
    # On one HTTP thread that ran the checks itself, the probes came after
    # (nearly) every login; with one hash thread the logins take 12 checks'
    # time, and the probes are answered before half of them.
    position = {i: p for p, (i, _, _) in enumerate(order)}
    logins_done = sorted(position[i] for i in range(n))
    half = logins_done[n // 2 - 1]
    assert position[n] < half and position[n + 1] < half, \
        f"completion order (index, status): {[(i, s) for i, s, _ in order]}"


def test_a_full_queue_is_answered_503_with_retry_after_at_once(make_muster):
    m = make_muster(env={"MUSTER_HASH_THREADS": "1", "MUSTER_HASH_QUEUE": "1",
                         "MUSTER_TRUSTED_PROXIES": "127.0.0.1"})
    add_organizer(m)
    csrf = csrf_token(m)
    assert metric(m, "muster_work_queue_full_total") == 0
    n = 8
    order = collect(send_all(m, [login_request(csrf, f"198.51.100.{i + 1}") for i in range(n)]))
    statuses = [status for _, status, _ in order]
    # One check runs and one waits; the others are refused at once.
    assert set(statuses) <= {401, 503}, order
    refused = [(p, h) for p, (_, status, h) in enumerate(order) if status == 503]
    checked = [p for p, (_, status, _) in enumerate(order) if status == 401]
    assert len(refused) >= n - 4 and len(checked) >= 1, order
    for _, headers in refused:
        assert headers.get("retry-after") == "1", headers
    # Refused without waiting for a check: before the last check's answer.
    assert max(p for p, _ in refused) < max(checked), order
    assert metric(m, "muster_work_queue_full_total") == len(refused)
    # The server still checks passwords after that.
    assert m.post_form("/login", {"csrf": csrf.field, "email": ORG_EMAIL,
                                  "password": ORG_PASSWORD},
                       cookie=f"muster_csrf={csrf.cookie}").status == 303


def test_a_refused_attempt_is_not_counted_as_a_failed_login(make_muster):
    m = make_muster(env={"MUSTER_HASH_THREADS": "1", "MUSTER_HASH_QUEUE": "1",
                         "MUSTER_TRUSTED_PROXIES": "127.0.0.1"})
    add_organizer(m)
    csrf = csrf_token(m)
    ip = "192.0.2.44"
    order = collect(send_all(m, [login_request(csrf, ip) for _ in range(LOGIN_FREE_FAILURES)]))
    statuses = [status for _, status, _ in order]
    failed = statuses.count(401)
    assert statuses.count(503) >= 1 and failed + statuses.count(503) == LOGIN_FREE_FAILURES, order
    # The address has exactly its free failures left that were not used.
    for _ in range(LOGIN_FREE_FAILURES - failed):
        (_, status, _), = collect(send_all(m, [login_request(csrf, ip)]))
        assert status == 401
    (_, status, _), = collect(send_all(m, [login_request(csrf, ip, password=ORG_PASSWORD)]))
    assert status == 429


def test_attempts_sent_at_once_get_no_further_than_one_by_one(make_muster):
    m = make_muster(env={"MUSTER_TRUSTED_PROXIES": "127.0.0.1"})
    add_organizer(m)
    csrf = csrf_token(m)
    ip = "192.0.2.7"
    order = collect(send_all(m, [login_request(csrf, ip) for _ in range(3 * LOGIN_FREE_FAILURES)]))
    statuses = sorted(status for _, status, _ in order)
    assert statuses == [401] * LOGIN_FREE_FAILURES + [429] * (2 * LOGIN_FREE_FAILURES), order
    (_, status, _), = collect(send_all(m, [login_request(csrf, ip, password=ORG_PASSWORD)]))
    assert status == 429
    # Another address still logs in.
    (_, status, _), = collect(send_all(m, [login_request(csrf, "192.0.2.8", password=ORG_PASSWORD)]))
    assert status == 303


def test_sigterm_with_logins_queued_stops_cleanly(make_muster):
    m = make_muster(env={"MUSTER_HASH_THREADS": "1", "MUSTER_TRUSTED_PROXIES": "127.0.0.1"})
    add_organizer(m)
    csrf = csrf_token(m)
    n = 16  # 16 checks: well over a second on one hash thread
    socks = send_all(m, [login_request(csrf, f"203.0.113.{100 + i}") for i in range(n)])
    time.sleep(0.3)  # some checked, most still queued
    code, seconds = m.stop()
    assert code == 0, f"exit {code} after {seconds:.1f}s"
    # Every connection ends: answered (checked: 401; not checked: 503) or
    # closed without an answer, never left hanging.
    order = collect(socks, timeout=5)
    assert {status for _, status, _ in order} <= {401, 503, None}, order
