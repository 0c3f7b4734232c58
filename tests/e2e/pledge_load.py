"""
pledge_load: a bounded pledge load over HTTP and a sampler of the write-ahead
log's size, for tests/e2e/test_wal_bound.py and the soak tests (tests/soak/).

PledgeLoad runs THREADS threads, each with its own keep-alive connection to
127.0.0.1, POSTing JSON pledges (a new address each) to /c/SLUG/pledge until
its time or count is spent or stop() is called. It keeps every address that
was answered 202 (acknowledged: the promise is that it is stored), the count
of each status, and the connection errors (a killed server gives some; the
threads reconnect and go on). LogSampler stats DB-wal every interval and
keeps the largest size seen. Standard library only.
"""
import collections
import http.client
import json
import os
import threading
import time


class PledgeLoad:
    def __init__(self, port, slug, tag, threads=16, seconds=20.0, max_pledges=None):
        self.port = port
        self.slug = slug
        self.tag = tag
        self.threads = threads
        self.seconds = seconds
        self.max_pledges = max_pledges
        self.accepted = []  # addresses answered 202
        self.statuses = collections.Counter()
        self.errors = 0
        self.sent = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.workers = []
        self.started = None
        self.ended = None

    def start(self):
        self.started = time.monotonic()
        for i in range(self.threads):
            t = threading.Thread(target=self._run, args=(i,), daemon=True)
            t.start()
            self.workers.append(t)
        return self

    def stop(self):
        self.stopping.set()
        return self.join()

    def join(self, timeout=60.0):
        deadline = time.monotonic() + timeout
        for t in self.workers:
            t.join(max(0.1, deadline - time.monotonic()))
        alive = [t for t in self.workers if t.is_alive()]
        assert not alive, f"{len(alive)} load threads did not end within {timeout}s"
        if self.ended is None:
            self.ended = time.monotonic()
        return self

    def rate(self):
        end = self.ended or time.monotonic()
        return len(self.accepted) / max(end - self.started, 1e-6)

    def _take(self):
        with self.lock:
            if self.max_pledges is not None and self.sent >= self.max_pledges:
                return None
            self.sent += 1
            return self.sent

    def _run(self, index):
        deadline = self.started + self.seconds
        conn = None
        path = f"/c/{self.slug}/pledge"
        headers = {"Content-Type": "application/json"}
        while not self.stopping.is_set() and time.monotonic() < deadline:
            n = self._take()
            if n is None:
                break
            addr = f"{self.tag}-{index}-{n}@load.example.org"
            body = json.dumps({"email": addr, "name": f"Load {n}", "timezone": "Europe/Berlin",
                               "consent": True})
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
                conn.request("POST", path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                with self.lock:
                    self.errors += 1
                if conn is not None:
                    conn.close()
                    conn = None
                time.sleep(0.05)  # the server may be down: do not spin
                continue
            with self.lock:
                self.statuses[status] += 1
                if status == 202:
                    self.accepted.append(addr)
        if conn is not None:
            conn.close()


class LogSampler:
    """The size of the database's -wal file every interval seconds (0 when
    there is no file), in a thread: max_bytes is the largest seen."""

    def __init__(self, db_path, interval=0.1):
        self.path = str(db_path) + "-wal"
        self.interval = interval
        self.max_bytes = 0
        self.samples = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def size(self):
        try:
            return os.stat(self.path).st_size
        except FileNotFoundError:
            return 0

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stopping.set()
        self.thread.join(10)
        return self

    def _run(self):
        while not self.stopping.is_set():
            self.max_bytes = max(self.max_bytes, self.size())
            self.samples += 1
            self.stopping.wait(self.interval)
