"""Per-domain pacing (MUSTER_DOMAIN_LIMITS, docs/DELIVERABILITY.md): two recipient
domains, each sent through its own relay (relay=), each a real aiosmtpd sink on
127.0.0.1 that keeps when each message arrived. With sink B answering 421 to
every third message for a while, a.test keeps its rate (at least 0.8 of a
control run in the same test where B never refuses), b.test backs off (it takes
longer, and the log says pacing.backoff), and every reminder arrives exactly
once. A bad limits file is refused with its file:line."""

import threading
import time

from aiosmtpd.controller import Controller

from conftest import free_port

PER_DOMAIN = 600
RATE = 100
REFUSALS = 4  # sink B refuses every third message until it has refused this many


class TimedSink:
    """Keeps (recipient, Message-ID, arrival time) of every accepted message."""

    def __init__(self, refuse_every=0, refusals=0):
        self.lock = threading.Lock()
        self.arrivals = []
        self.transactions = 0
        self.refused = 0
        self.refuse_every = refuse_every
        self.refusals = refusals

    async def handle_DATA(self, server, session, envelope):
        at = time.monotonic()
        with self.lock:
            self.transactions += 1
            if (self.refuse_every and self.refused < self.refusals
                    and self.transactions % self.refuse_every == 0):
                self.refused += 1
                return "421 4.7.0 Try again later, closing connection"
            msgid = ""
            for line in envelope.content.split(b"\r\n"):
                if not line:
                    break
                if line.lower().startswith(b"message-id:"):
                    msgid = line.split(b":", 1)[1].strip().decode()
            self.arrivals.append((envelope.rcpt_tos[0].lower(), msgid, at))
        return "250 2.0.0 OK queued"

    def count(self):
        with self.lock:
            return len(self.arrivals)

    def rate(self):
        """Messages per second from the first arrival to the last."""
        with self.lock:
            times = sorted(t for _, _, t in self.arrivals)
        return (len(times) - 1) / (times[-1] - times[0])

    def span(self):
        with self.lock:
            times = sorted(t for _, _, t in self.arrivals)
        return times[-1] - times[0]


def start_sink(handler):
    for attempt in range(3):
        controller = Controller(handler, hostname="127.0.0.1", port=free_port())
        try:
            controller.start()
            return controller
        except Exception:
            if attempt == 2:
                raise


def addresses(domain):
    return [f"s{i}@{domain}" for i in range(PER_DOMAIN)]


def import_interleaved(m):
    """Both domains' supporters, alternating, consenting (confirmed)."""
    a, b = addresses("a.test"), addresses("b.test")
    rows = "".join(f"{x},Supporter {i},yes,Europe/Berlin\n{y},Supporter {i},yes,Europe/Berlin\n"
                   for i, (x, y) in enumerate(zip(a, b)))
    (m.dir / "people.csv").write_text("email,name,consent,timezone\n" + rows, encoding="utf-8")
    code, out, err = m.cli("import", m.slug, "people.csv", timeout=120)
    assert code == 0, out + err


def launch_until_sent(m, deadline_s):
    """`muster launch` again while reminders wait for a retry (a 421's), within
    deadline_s; returns the launches' stderr."""
    logs = ""
    deadline = time.monotonic() + deadline_s
    while True:
        code, out, err = m.cli("launch", m.slug, timeout=max(5, deadline - time.monotonic()))
        assert code == 0, out + err
        logs += err
        if "wait for a retry" not in out:
            return logs
        assert time.monotonic() < deadline, f"reminders still waiting after {deadline_s}s: {out}"
        time.sleep(0.5)


def run(make_muster, tmp_path, refuse):
    """One launch of 600 + 600 reminders; returns (sink A, sink B, stderr)."""
    sink_a = TimedSink()
    sink_b = TimedSink(refuse_every=3 if refuse else 0, refusals=REFUSALS)
    ca, cb = start_sink(sink_a), start_sink(sink_b)
    try:
        limits = tmp_path / f"limits-{'refuse' if refuse else 'control'}.conf"
        limits.write_text(
            "# two domains, each through its own relay\n"
            f"a.test relay=smtp://127.0.0.1:{ca.port} connections=5 rate={RATE}\n"
            f"b.test relay=smtp://127.0.0.1:{cb.port} connections=5 rate={RATE}\n",
            encoding="utf-8")
        m = make_muster(env={"MUSTER_DOMAIN_LIMITS": str(limits)}, start=False)
        import_interleaved(m)
        logs = launch_until_sent(m, 40)
        for sink, domain in ((sink_a, "a.test"), (sink_b, "b.test")):
            got = sorted(r for r, _, _ in sink.arrivals)
            assert got == sorted(addresses(domain)), \
                f"{domain}: {len(got)} arrivals, {len(set(got))} distinct of {PER_DOMAIN}"
            ids = [i for _, i, _ in sink.arrivals]
            assert len(set(ids)) == len(ids) == PER_DOMAIN, "a Message-ID came twice"
        assert m.stats()["reminders"]["sent"] == 2 * PER_DOMAIN
        return sink_a, sink_b, logs
    finally:
        ca.stop()
        cb.stop()


def test_a_domain_backing_off_leaves_the_others_rate_alone(make_muster, tmp_path, smtp):
    ctl_a, ctl_b, ctl_log = run(make_muster, tmp_path, refuse=False)
    a, b, log = run(make_muster, tmp_path, refuse=True)
    print(f"control: a {ctl_a.rate():.0f}/s over {ctl_a.span():.1f}s, "
          f"b {ctl_b.rate():.0f}/s over {ctl_b.span():.1f}s; with 421s: a {a.rate():.0f}/s "
          f"over {a.span():.1f}s, b {b.rate():.0f}/s over {b.span():.1f}s")
    assert "pacing.backoff" not in ctl_log
    assert b.refused == REFUSALS
    # the limit holds: not above the configured rate (plus one second's burst)
    assert ctl_a.count() / (ctl_a.span() + 1) <= RATE * 1.1
    # a.test keeps its speed while b.test backs off
    assert a.rate() >= 0.8 * ctl_a.rate(), (a.rate(), ctl_a.rate())
    # b.test backed off: logged once per step, and it took longer
    steps = [line for line in log.splitlines() if "event=pacing.backoff" in line]
    assert steps and all("domain=\"b.test\"" in s and "code=421" in s for s in steps), steps
    assert "domain=\"a.test\"" not in log
    assert b.span() > ctl_b.span() + 1, (b.span(), ctl_b.span())


def test_a_bad_limits_file_is_refused_with_its_line(make_muster, tmp_path):
    limits = tmp_path / "limits.conf"
    limits.write_text("# fine\ngmail.com rate=20\nexample.org rate=fast\n", encoding="utf-8")
    m = make_muster(env={"MUSTER_DOMAIN_LIMITS": str(limits)}, start=False)
    code, out, err = m.cli("launch", m.slug)
    assert code != 0
    assert f"{limits}:3: rate: expected messages per second" in err, err
    assert "'fast'" in err, err
    # serve refuses to start too
    code, out, err = m.cli("serve", timeout=10)
    assert code != 0
    assert f"{limits}:3:" in err, err
    # relay= needs the pipelining client
    limits.write_text("a.test relay=smtp://127.0.0.1:1\n", encoding="utf-8")
    code, out, err = m.cli("launch", m.slug, env={"MUSTER_SMTP_CLIENT": "curl"})
    assert code != 0
    assert "relay=" in err and "pipelining client" in err, err
