"""
test_deploy_two_servers: the two-server deployment of docs/DEPLOYMENT.md, run
as written. Two `muster serve` on one PostgreSQL database, behind nginx started
with contrib/nginx/muster.conf itself (only its ports, its certificate paths and
its listen addresses changed, each checked to be there once), TLS with a
self-signed certificate made here, MUSTER_TRUSTED_PROXIES=127.0.0.1 and the
real SMTP sink of the suite. PostgreSQL only: two servers cannot share SQLite.

Clients are told apart by their source address: any of 127.0.0.0/8 is this
machine, so a client bound to 127.0.0.7 reaches nginx as 127.0.0.7, and nginx
sends it, by the hash of that address, to one server. Which server answered is
read from nginx's access log ($upstream_addr), written by the wrapper
nginx.conf of this test around the included file.
"""
import http.client
import json
import os
import shutil
import ssl
import subprocess
import urllib.parse

import pytest

from conftest import BACKEND, ROOT, free_port, make_campaign, wait_until

pytestmark = pytest.mark.skipif(BACKEND != "postgres",
                                reason="two servers share one PostgreSQL database")

CONF = ROOT / "contrib" / "nginx" / "muster.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def deployed_conf(text, a_port, b_port, http_port, https_port, crt, key):
    """contrib/nginx/muster.conf with this test's ports and certificate: every
    line replaced must be in the file exactly once, so a change of the file that
    this test would no longer run fails here."""
    for old, new in [("server 127.0.0.1:8080 ", f"server 127.0.0.1:{a_port} "),
                     ("server 127.0.0.1:8081 ", f"server 127.0.0.1:{b_port} "),
                     ("listen 80;", f"listen 127.0.0.1:{http_port};"),
                     ("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"),
                     ("/etc/ssl/muster/act.example.org.crt", str(crt)),
                     ("/etc/ssl/muster/act.example.org.key", str(key))]:
        assert text.count(old) == 1, f"contrib/nginx/muster.conf: expected {old!r} once"
        text = text.replace(old, new)
    return text


class Deployment:
    """nginx (contrib/nginx/muster.conf) in front of servers a and b."""

    def __init__(self, workdir, a, b, http_port, https_port):
        self.dir = workdir
        self.a, self.b = a, b
        self.http_port, self.https_port = http_port, https_port
        self.crt, self.key = workdir / "act.crt", workdir / "act.key"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", str(self.key), "-out", str(self.crt)],
                       check=True, capture_output=True, timeout=60)
        (workdir / "tmp").mkdir()
        (workdir / "muster.conf").write_text(deployed_conf(
            CONF.read_text(), a.port, b.port, http_port, https_port, self.crt, self.key))
        self.access_log = workdir / "access.log"
        temp = "".join(f"    {kind}_temp_path {workdir}/tmp/{kind};\n"
                       for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        # As root, nginx's workers would run as nobody, who cannot write the
        # access log in the test's private directory: they stay root here.
        (workdir / "nginx.conf").write_text(
            "user root;\n" * (os.geteuid() == 0) +
            f"worker_processes 1;\npid {workdir}/nginx.pid;\nerror_log {workdir}/error.log;\n"
            "events { worker_connections 256; }\n"
            "http {\n"
            "    log_format upstream '$remote_addr|$upstream_addr|$status|$request_method $uri';\n"
            f"    access_log {self.access_log} upstream;\n{temp}"
            f"    include {workdir}/muster.conf;\n"
            "}\n")
        self.proc = subprocess.Popen([NGINX, "-p", str(workdir), "-c", str(workdir / "nginx.conf"),
                                      "-e", str(workdir / "error.log"), "-g", "daemon off;"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_until(lambda: self._answers(), 10, what="nginx on its TLS port")
        self.context = ssl.create_default_context(cafile=str(self.crt))

    def _answers(self):
        assert self.proc.poll() is None, f"nginx exited: {self.proc.stderr.read().decode()}"
        try:
            http.client.HTTPConnection("127.0.0.1", self.https_port, timeout=1).connect()
            return True
        except OSError:
            return False

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)

    def log_lines(self):
        return self.access_log.read_text().splitlines() if self.access_log.exists() else []

    def request(self, client, method, path, body=None, headers=None, tls=True):
        """One request from source address CLIENT: (status, headers, body, the
        upstream that answered it as "127.0.0.1:PORT", or "" if nginx answered)."""
        before = len(self.log_lines())
        if tls:
            conn = http.client.HTTPSConnection("127.0.0.1", self.https_port, context=self.context,
                                               source_address=(client, 0), timeout=15)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.http_port,
                                              source_address=(client, 0), timeout=15)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            status, hdrs, data = r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()
        wait_until(lambda: len(self.log_lines()) > before, 5, what="nginx's access log line")
        line = [x for x in self.log_lines()[before:] if x.startswith(client + "|")][-1]
        # every server tried, in order: "127.0.0.1:P1, 127.0.0.1:P2"
        upstream = line.split("|")[1]
        return status, hdrs, data, ("" if upstream == "-" else upstream)

    def pledge(self, client, email_addr, slug, headers=None):
        body = json.dumps({"email": email_addr, "timezone": "Europe/Berlin", "consent": True})
        return self.request(client, "POST", f"/c/{slug}/pledge", body=body,
                            headers=dict({"Content-Type": "application/json"}, **(headers or {})))

    def server_of(self, client):
        """The server nginx sends CLIENT to: "a" or "b"."""
        upstream = self.request(client, "GET", "/healthz")[3]
        return {f"127.0.0.1:{self.a.port}": "a", f"127.0.0.1:{self.b.port}": "b"}[upstream]

    def clients(self, count_each):
        """COUNT_EACH client addresses that nginx sends to a, and as many to b."""
        found = {"a": [], "b": []}
        for last in range(2, 120):
            client = f"127.0.0.{last}"
            side = self.server_of(client)
            if len(found[side]) < count_each:
                found[side].append(client)
            if all(len(v) == count_each for v in found.values()):
                return found
        pytest.fail(f"nginx sent 118 client addresses to one server only: {found}")


@pytest.fixture
def deployment(make_muster, tmp_path):
    made = []

    def make(env=None):
        https_port, http_port = free_port(), free_port()
        env = dict({"MUSTER_BASE_URL": f"https://127.0.0.1:{https_port}",
                    "MUSTER_TRUSTED_PROXIES": "127.0.0.1"}, **(env or {}))
        campaign = make_campaign()
        a = make_muster(campaign=campaign, env=env)
        b = make_muster(campaign=campaign, env=env, start=False, apply=False)
        b.env["MUSTER_DB"] = b.db_path = a.db_path  # the one database; b's own goes back unused
        b.start()
        nginx_dir = tmp_path / "nginx"
        nginx_dir.mkdir()
        d = Deployment(nginx_dir, a, b, http_port, https_port)
        made.append(d)
        return d

    yield make
    for d in made:
        d.stop()


def confirm_path(mail, base):
    url = mail.link("/confirm/")
    assert url.startswith(base + "/confirm/"), url
    return urllib.parse.urlsplit(url).path


def test_pledge_through_one_server_confirm_through_the_other_over_tls(deployment, smtp):
    d = deployment()
    clients = d.clients(1)
    x, y = clients["a"][0], clients["b"][0]
    a_up, b_up = f"127.0.0.1:{d.a.port}", f"127.0.0.1:{d.b.port}"

    status, _, body, upstream = d.pledge(x, "ada@example.org", d.a.slug)
    assert (status, upstream) == (202, a_up), body
    mail = smtp.wait_one("ada@example.org", "confirm", timeout=15)
    path = confirm_path(mail, f"https://127.0.0.1:{d.https_port}")
    status, _, body, upstream = d.request(y, "POST", path)
    assert (status, upstream) == (200, b_up), body
    # b confirmed what a stored: one database
    assert d.a.supporter("ada@example.org")["status"] == "confirmed"
    smtp.wait_one("ada@example.org", "welcome", timeout=15)

    # plain HTTP is only a redirect to HTTPS, answered by nginx itself
    status, hdrs, _, upstream = d.request(y, "GET", "/c/" + d.a.slug, tls=False)
    assert status == 301 and upstream == "", (status, upstream)
    assert hdrs["Location"].startswith("https://"), hdrs


def test_pledge_limit_counts_each_client_behind_nginx_and_holds_in_total(deployment, smtp):
    d = deployment(env={"MUSTER_PLEDGE_LIMIT": "2"})
    clients = d.clients(2)
    z, w = clients["a"]  # two clients that nginx sends to the same server
    answers = [d.pledge(z, f"z{i}@example.org", d.a.slug) for i in range(4)]
    # a client that names another address itself is not believed: nginx replaces the header
    answers.append(d.pledge(z, "z4@example.org", d.a.slug, headers={"X-Forwarded-For": "10.9.9.9"}))
    assert [a[0] for a in answers] == [202, 202, 429, 429, 429], [a[:1] + a[3:] for a in answers]
    # pinned: every pledge of z reached one server, so its limit holds in total
    assert len({a[3] for a in answers}) == 1, [a[3] for a in answers]
    # another client on that same server is counted on its own, not as nginx's 127.0.0.1
    status, _, body, upstream = d.pledge(w, "w0@example.org", d.a.slug)
    assert (status, upstream) == (202, answers[0][3]), body
    # and so is a client of the other server
    assert d.pledge(clients["b"][0], "v0@example.org", d.a.slug)[0] == 202
    assert d.a.supporter_count() == 4


def test_a_stopped_server_moves_its_clients_to_the_other_and_loses_nothing(deployment, smtp):
    d = deployment()
    clients = d.clients(3)
    everyone = clients["a"] + clients["b"]
    for i, c in enumerate(everyone):
        status, _, body, _ = d.pledge(c, f"before{i}@example.org", d.a.slug)
        assert status == 202, body
    code, _ = d.a.stop()
    assert code == 0, "muster serve a did not exit 0 on SIGTERM"
    b_up = f"127.0.0.1:{d.b.port}"
    for i, c in enumerate(everyone):
        status, _, body, upstream = d.pledge(c, f"after{i}@example.org", d.a.slug)
        # nginx found a closed and answered from b
        assert status == 202, (c, body)
        assert upstream.split(", ")[-1] == b_up, (c, upstream)
    addresses = [f"{when}{i}@example.org" for when in ("before", "after")
                 for i in range(len(everyone))]
    # every pledge is stored once, and every confirmation mail arrives once,
    # those a queued before it stopped too (sent by a, or left to b)
    assert d.b.supporter_count() == len(addresses)
    for addr in addresses:
        mail = smtp.wait_one(addr, "confirm", timeout=30)
        status, _, body, upstream = d.request(everyone[0], "POST",
                                              confirm_path(mail, f"https://127.0.0.1:{d.https_port}"))
        assert (status, upstream.split(", ")[-1]) == (200, b_up), body
    smtp.settle(1.0)
    for addr in addresses:
        assert len(smtp.select(to=addr, kind="confirm")) == 1, addr
    assert d.b.stats()["confirmed"] == len(addresses)
