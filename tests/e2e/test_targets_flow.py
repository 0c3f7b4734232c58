"""
test_targets_flow: the one-click link against every kind of target, and the
assignment rules around it (docs/CAMPAIGN.md "Targets", "Assignment", "Noticing
closure", flow step 5 "Act"; docs/TARGETS.md; docs/ARCHITECTURE.md "The
one-click link").

Every test starts its own `muster serve` (conftest's make_muster) with
MUSTER_PLEDGE_LIMIT=0 and no MUSTER_SMTP, so mail goes to the Maildir: the
links each supporter got are read from the messages there (the To header says
whose they are). Supporters come from `muster import` (fast, confirmed, no
statement) or from a JSON pledge plus its confirmation (when a statement is
needed). Campaigns launch earlier today, so every click is after the moment.
"""
import csv
import datetime
import html as htmllib
import json
import re
import threading
import types
import urllib.parse
from zoneinfo import ZoneInfo

import pytest

from conftest import Mail, derive_link_token, link_material, render_template, wait_until

ENV = {"MUSTER_SMTP": "", "MUSTER_PLEDGE_LIMIT": "0"}
CAMPAIGN_TITLE = "Docs day & more #1"
CLOSED = "Every target is full or closed for now. Thank you for turning up!"
TITLE_T = "{{name}}: offline docs"
BODY_T = "{{#statement}}{{statement}}\n{{/statement}}-- {{name}}"

# Hostile supporter text: markup, URL syntax, quotes, emoji, Hebrew and a
# right-to-left override. The pledge form refuses line breaks in names, so
# the line breaks are in the statement (which also holds a literal {{name}}).
NAME = 'Zoë "Z" O\'Brien & <script>x</script> #1 50% a+b 🚀 \u202eשלום'
STATEMENT = ('1 & 2 # 3 % 4 + 5 = 6?\n"Quoted" \'single\' <script>alert("x")</script>\n'
             '🚀 עברית \u202e{{name}} stays; a/b')


# --------------------------------------------------------------------------- helpers


def enc(s):
    """escape_url: everything but the RFC 3986 unreserved characters as %XX."""
    return urllib.parse.quote(s, safe="")


def ago(minutes):
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=minutes)
    return t.strftime("%Y-%m-%dT%H:%M:%S")


def campaign(slug, targets, **extra):
    c = {
        "slug": slug,
        "title": CAMPAIGN_TITLE,
        "organizer": {"name": "Docs Collective", "email": "team@example.org"},
        "launch": {"at": ago(10), "timezone": "UTC", "window_minutes": 600},
        "message": {"title": TITLE_T, "body": BODY_T},
        "statement": {"enabled": True, "max_chars": 10000, "prompt": "Why?"},
        "assignment": "balanced",
        "targets": targets,
        "closed_message": CLOSED,
    }
    c.update(extra)
    return c


def gh(tid, repo, **extra):
    return dict({"id": tid, "kind": "github_issue", "repo": repo}, **extra)


def server(make_muster, camp, start=True):
    return make_muster(campaign=camp, env=ENV, start=start)


def apply_more(m, camp, name):
    """Applies another campaign (or an edited one) without changing m.campaign."""
    path = m.write_campaign(camp, name=name)
    code, out, err = m.cli("campaign", "apply", path.name)
    assert code == 0, f"apply {name} failed ({code}): {out}{err}"


def cli_ok(m, *args):
    code, out, err = m.cli(*args)
    assert code == 0, f"muster {' '.join(map(str, args))} failed ({code}): {out}{err}"
    return out


def import_supporters(m, emails, name="", timezone="UTC", slug=None):
    path = m.dir / f"import-{len(list(m.dir.glob('import-*.csv')))}.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["email", "name", "consent", "timezone"])
        for e in emails:
            w.writerow([e, name, "yes", timezone])
    cli_ok(m, "import", slug or m.slug, path.name)


def maildir(m):
    """Every message in the Maildir so far, parsed (cached per file)."""
    cache = m.__dict__.setdefault("_targets_flow_mail", {})
    d = m.dir / "mail" / "new"
    if d.is_dir():
        for p in d.iterdir():
            if p.name in cache:
                continue
            raw = p.read_bytes()
            mail = Mail(types.SimpleNamespace(mail_from=None, rcpt_tos=[], original_content=raw,
                                              content=raw))
            mail.rcpt_tos = [a.addr_spec.lower() for a in mail.msg["To"].addresses]
            cache[p.name] = mail
    return list(cache.values())


def links_for(m, emails, kind, prefix, timeout=20):
    """{email: path} of the one `prefix` link in each email's message of `kind`."""
    want = {e.lower() for e in emails}

    def found():
        got = {}
        for mail in maildir(m):
            to = mail.rcpt_tos[0]
            if to in want and mail.kind() == kind:
                got[to] = urllib.parse.urlsplit(mail.link(prefix)).path
        return got if len(got) == len(want) else None

    return wait_until(found, timeout, what=f"{kind} mail for {len(want)} supporter(s)")


def launch(m, slug=None):
    cli_ok(m, "launch", slug or m.slug)


def action_paths(m, emails):
    return links_for(m, emails, "reminder", "/a/")


def pledge_and_confirm(m, emails, name, statement, slug=None, **extra):
    """JSON pledges, then the confirmations; returns {email: /a/ path} once the
    reminders (queued at once during the window) are in the Maildir."""
    for e in emails:
        r = m.pledge(e, name=name, statement=statement, timezone="UTC", slug=slug, **extra)
        assert r.status == 202, r
    for e, path in links_for(m, emails, "confirm", "/confirm/").items():
        r = m.post(path)
        assert r.status == 200, r
    return action_paths(m, emails)


def stats(m, slug=None):
    return json.loads(cli_ok(m, "stats", slug or m.slug, "--json"))


def targets_of(st):
    return {t["id"]: t for t in st["targets"]}


def wait_clicks(m, n, slug=None, timeout=10):
    """Waits until the stats count n clicks (the server writes them in batches)."""
    return wait_until(lambda: (lambda s: s if s["clicks"] >= n else None)(stats(m, slug)),
                      timeout, interval=0.1, what=f"{n} clicks in the stats")


def location(r):
    assert r.status == 302, f"wanted a 302, got {r}"
    loc = r.header("Location")
    assert loc, r
    return loc


def repo_of(loc):
    """'o/a' from https://github.com/o/a/issues/new?..."""
    m = re.match(r"https://github\.com/([^/]+/[^/]+)/issues/new\?", loc or "")
    return m.group(1) if m else None


def query_params(url):
    """name -> value of a URL's query, split on '&' and the first '=', values
    percent-decoded exactly (a '+' is a plus, never a space)."""
    query = url.split("?", 1)[1]
    out = {}
    for part in query.split("&"):
        k, _, v = part.partition("=")
        out[k] = urllib.parse.unquote(v, errors="strict")
    return out


def textarea(page, ident):
    m = re.search(r'<textarea[^>]*id="%s"[^>]*>(.*?)</textarea>' % re.escape(ident), page, re.S)
    return htmllib.unescape(m.group(1)) if m else None


def input_value(page, ident):
    m = re.search(r'<input[^>]*id="%s"[^>]*value="([^"]*)"' % re.escape(ident), page, re.S) or \
        re.search(r'<textarea[^>]*id="%s"[^>]*>([^<]*)</textarea>' % re.escape(ident), page, re.S)
    return htmllib.unescape(m.group(1)) if m else None


def hrefs(page):
    return [htmllib.unescape(h) for h in re.findall(r'href="([^"]*)"', page)]


def expected(name, statement, target_id, title_t=TITLE_T, body_t=BODY_T):
    values = {"name": name, "statement": statement, "campaign.title": CAMPAIGN_TITLE,
              "target.id": target_id}
    return render_template(title_t, values), render_template(body_t, values)


def instance_form(r):
    """(cookie header, csrf field) of the instance form on an action page r: a
    browser sends back the muster_csrf cookie the page set and the hidden field."""
    assert 'name="instance"' in r.text, f"no instance form: {r}"
    field = re.search(r'<form[^>]*action="/a/[^"]*/instance".*?name="csrf" value="([^"]*)"',
                      r.text, re.S)
    assert field, "the instance form carries no csrf field"
    cookie = re.search(r"muster_csrf=([^;]*)", r.header("Set-Cookie") or "")
    assert cookie, f"the action page set no muster_csrf cookie: {r.headers}"
    return "muster_csrf=" + cookie.group(1), field.group(1)


def assert_no_raw_markup(page):
    assert "<script>x" not in page and "<script>alert" not in page, \
        "supporter text reached the page unescaped"


def is_closed_page(r):
    return r.status == 200 and r.header("Location") is None and "closed-message" in r.text \
        and CLOSED in r.text


# --------------------------------------------------------------------------- every kind

ALL_KINDS = [
    gh("gh", "example-org/handbook", labels=["needs triage", "docs"], cap=1),
    {"id": "gl", "kind": "gitlab_issue", "project_url": "https://gitlab.example.org/docs/handbook",
     "cap": 1},
    {"id": "mail", "kind": "email", "to": ["list@example.org", "a+b@example.org"],
     "cc": ["cc@example.org"], "bcc": ["bcc@example.org"], "cap": 1},
    {"id": "phone", "kind": "call", "number": "+4930123456",
     "script": "Hello, this is {{name}}.\n{{#statement}}{{statement}}{{/statement}}", "cap": 1},
    {"id": "masto", "kind": "mastodon", "cap": 1},
    {"id": "fosstodon", "kind": "mastodon", "instance": "fosstodon.org", "cap": 1},
    {"id": "sky", "kind": "bluesky", "cap": 1},
    {"id": "bird", "kind": "x", "cap": 1},
    {"id": "form", "kind": "web",
     "url": "https://example.org/sign/{{target.id}}/{{name}}?n={{name}}&s={{statement}}"
            "&c={{campaign.title}}", "cap": 1},
]


def classify(r):
    """Which target of ALL_KINDS a first click's answer belongs to."""
    if r.status == 302:
        loc = r.header("Location") or ""
        for prefix, tid in (("https://github.com/", "gh"), ("https://gitlab.example.org/", "gl"),
                            ("mailto:", "mail"), ("https://fosstodon.org/", "fosstodon"),
                            ("https://bsky.app/", "sky"), ("https://x.com/", "bird"),
                            ("https://example.org/sign/", "form")):
            if loc.startswith(prefix):
                return tid
    if r.status == 200 and 'href="tel:' in r.text:
        return "phone"
    if r.status == 200 and 'name="instance"' in r.text:
        return "masto"
    return None


def test_every_kind_of_target_gets_the_supporters_exact_text_through_the_one_click_link(
        make_muster):
    m = server(make_muster, campaign("every-kind", ALL_KINDS))
    emails = [f"kind{i}@example.org" for i in range(len(ALL_KINDS))]
    paths = pledge_and_confirm(m, emails, NAME, STATEMENT)

    by_target = {}
    for e in emails:
        r = m.get(paths[e])
        tid = classify(r)
        assert tid is not None, f"first click of {e}: unexpected answer {r} {r.headers}"
        assert tid not in by_target, f"two supporters on {tid} although its cap is 1"
        by_target[tid] = (paths[e], r)
    assert set(by_target) == {t["id"] for t in ALL_KINDS}

    problems = []

    def check(what, got, want):
        if got != want:
            problems.append(f"{what}:\n   got  {got!r}\n   want {want!r}")

    # github_issue: exact URL, and each parameter decodes to the exact text
    title, body = expected(NAME, STATEMENT, "gh")
    loc = by_target["gh"][1].header("Location")
    check("github_issue Location", loc,
          f"https://github.com/example-org/handbook/issues/new?title={enc(title)}&body={enc(body)}"
          f"&labels=needs%20triage,docs")
    q = query_params(loc)
    check("github_issue title", q.get("title"), title)
    check("github_issue body", q.get("body"), body)
    check("github_issue labels", q.get("labels", "").split(","), ["needs triage", "docs"])

    # gitlab_issue
    title, body = expected(NAME, STATEMENT, "gl")
    loc = by_target["gl"][1].header("Location")
    check("gitlab_issue Location", loc,
          "https://gitlab.example.org/docs/handbook/-/issues/new"
          f"?issue[title]={enc(title)}&issue[description]={enc(body)}")
    q = query_params(loc)
    check("gitlab_issue title", q.get("issue[title]"), title)
    check("gitlab_issue description", q.get("issue[description]"), body)

    # email: RFC 6068, '+' in an address encoded, subject on one line, body CRLF
    title, body = expected(NAME, STATEMENT, "mail")
    subject = re.sub(r"\r\n|\r|\n", " ", title)
    crlf_body = re.sub(r"\r\n|\r|\n", "\r\n", body)
    loc = by_target["mail"][1].header("Location")
    check("mailto Location", loc,
          "mailto:list@example.org,a%2Bb@example.org?cc=cc@example.org&bcc=bcc@example.org"
          f"&subject={enc(subject)}&body={enc(crlf_body)}")
    if loc:
        check("mailto addresses", urllib.parse.unquote(loc[len("mailto:"):].split("?")[0]),
              "list@example.org,a+b@example.org")
        q = query_params(loc)
        check("mailto body", q.get("body"), crlf_body)
        check("mailto subject", q.get("subject"), subject)
        check("mailto cc/bcc", (q.get("cc"), q.get("bcc")), ("cc@example.org", "bcc@example.org"))

    # call: the action page with a tel: link and the rendered script (escaped)
    page = by_target["phone"][1].text
    check("call tel: link", "tel:+4930123456" in hrefs(page), True)
    pre = re.search(r'<pre class="message"[^>]*>(.*?)</pre>', page, re.S)
    values = {"name": NAME, "statement": STATEMENT, "campaign.title": CAMPAIGN_TITLE,
              "target.id": "phone"}
    check("call script", htmllib.unescape(pre.group(1)) if pre else None,
          render_template(ALL_KINDS[3]["script"], values))
    check("call page has no raw supporter markup",
          "<script>x" in page or "<script>alert" in page, False)

    # social networks: title, blank line, body
    def share_text(tid):
        t, b = expected(NAME, STATEMENT, tid)
        return t + "\n\n" + b

    for tid in ("sky", "bird", "fosstodon", "masto"):
        assert len(share_text(tid)) <= 280, "test text must fit the smallest post limit"
    check("bluesky Location", by_target["sky"][1].header("Location"),
          f"https://bsky.app/intent/compose?text={enc(share_text('sky'))}")
    check("x Location", by_target["bird"][1].header("Location"),
          f"https://x.com/intent/post?text={enc(share_text('bird'))}")
    check("mastodon (target's instance) Location", by_target["fosstodon"][1].header("Location"),
          f"https://fosstodon.org/share?text={enc(share_text('fosstodon'))}")
    loc = by_target["sky"][1].header("Location") or "?"
    check("bluesky text decoded", query_params(loc).get("text"), share_text("sky"))

    # web: placeholders filled and percent-encoded in the path and the query
    loc = by_target["form"][1].header("Location")
    check("web Location", loc,
          f"https://example.org/sign/form/{enc(NAME)}?n={enc(NAME)}&s={enc(STATEMENT)}"
          f"&c={enc(CAMPAIGN_TITLE)}")

    # mastodon without an instance: the page asks, the choice is remembered
    path, r = by_target["masto"]
    token = path.rsplit("/", 1)[1]
    check("mastodon form posts to /instance", f'action="/a/{token}/instance"' in r.text, True)
    cookie, csrf = instance_form(r)
    bad = m.post_form(f"{path}/instance", {"instance": "evil.example/share?text=x", "csrf": csrf},
                      cookie=cookie)
    check("invalid instance status", bad.status, 422)
    r = m.post_form(f"{path}/instance", {"instance": "mastodon.social", "csrf": csrf},
                    cookie=cookie)
    check("instance POST status", r.status, 303)
    check("instance POST goes back to the link",
          urllib.parse.urlsplit(r.header("Location") or "").path, path)
    want = f"https://mastodon.social/share?text={enc(share_text('masto'))}"
    for attempt in ("after choosing", "a later click"):
        r = m.get(path)
        check(f"mastodon {attempt}", (r.status, r.header("Location")), (302, want))

    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- mastodon instance

REFUSED_INSTANCES = ["evil..example", "-evil.example", "evil.example:8080", "user@evil.example",
                     "evil.example/share?text=x", "127.0.0.1", "169.254.169.254", "0x7f.1",
                     "2130706433", "0177.0.0.1", "[::1]", "localhost", "nas.local",
                     "metadata.google.internal", "a" * 60 + "." + "b" * 60 + "." + "c" * 60 + "."
                     + "d" * 60 + "." + "e" * 52 + ".org"]


def masto_supporter(make_muster, slug):
    m = server(make_muster, campaign(slug, [{"id": "masto", "kind": "mastodon"}]))
    path = pledge_and_confirm(m, ["toot@example.org"], "Tess", "")["toot@example.org"]
    r = m.get(path)
    assert r.status == 200 and 'name="instance"' in r.text, r
    return m, path, r


def test_instance_that_is_no_public_host_name_is_refused_and_never_redirected_to(make_muster):
    m, path, page = masto_supporter(make_muster, "instance-refused")
    cookie, csrf = instance_form(page)
    assert len(REFUSED_INSTANCES[-1]) == 300
    for host in REFUSED_INSTANCES:
        r = m.post_form(f"{path}/instance", {"instance": host, "csrf": csrf}, cookie=cookie)
        assert r.status == 422, (host, r)
        assert 'name="instance"' in r.text and 'class="error"' in r.text, (host, r)
        after = m.get(path)
        assert after.status == 200 and 'name="instance"' in after.text, (host, after)
        assert not after.header("Location"), (host, after.header("Location"))
    r = m.post_form(f"{path}/instance", {"instance": REFUSED_INSTANCES[-1], "csrf": csrf},
                    cookie=cookie)
    assert "253" in r.text, r


def test_bad_instance_stored_before_the_check_is_asked_again_not_redirected_to(make_muster):
    m, path, _ = masto_supporter(make_muster, "instance-stored")
    for host in ("169.254.169.254", "0x7f.1", "localhost"):
        assert m.inspect("set-instance", "toot@example.org", host) == {"changed": 1}
        r = m.get(path)
        assert r.status == 200 and 'name="instance"' in r.text, (host, r)
        assert not r.header("Location"), (host, r.header("Location"))


def test_instance_post_without_the_csrf_token_is_refused(make_muster):
    m, path, page = masto_supporter(make_muster, "instance-csrf")
    cookie, csrf = instance_form(page)
    for fields, cookie_header in (({"instance": "mastodon.social"}, None),
                                  ({"instance": "mastodon.social"}, cookie),
                                  ({"instance": "mastodon.social", "csrf": csrf}, None),
                                  ({"instance": "mastodon.social", "csrf": "x" * 43}, cookie)):
        r = m.post_form(f"{path}/instance", fields, cookie=cookie_header)
        assert r.status == 403, (fields, cookie_header, r)
        after = m.get(path)
        assert after.status == 200 and 'name="instance"' in after.text, after


def test_instance_with_the_csrf_token_is_remembered_and_the_next_click_goes_there(make_muster):
    m, path, page = masto_supporter(make_muster, "instance-ok")
    cookie, csrf = instance_form(page)
    r = m.post_form(f"{path}/instance", {"instance": "https://Fosstodon.org/", "csrf": csrf},
                    cookie=cookie)
    assert r.status == 303, r
    loc = location(m.get(path))
    assert loc.startswith("https://fosstodon.org/share?text="), loc


def test_message_over_the_kinds_limit_gives_the_action_page_with_the_whole_text(make_muster):
    targets = [gh("gh", "o/long", cap=1),
               {"id": "bird", "kind": "x", "cap": 1},
               {"id": "mail", "kind": "email", "to": ["list@example.org"], "cap": 1}]
    m = server(make_muster, campaign("too-long", targets))
    long_statement = (STATEMENT + "\n") * 200
    long_statement = long_statement[:10000]
    emails = [f"long{i}@example.org" for i in range(3)]
    paths = pledge_and_confirm(m, emails, NAME, long_statement)
    seen = set()
    for e in emails:
        r = m.get(paths[e])
        assert r.status == 200, f"{e}: wanted the action page, got {r} {r.headers}"
        assert r.header("Location") is None
        page = r.text
        tid = re.search(r'name="target" value="([^"]+)"', page).group(1)
        seen.add(tid)
        title, body = expected(NAME, long_statement, tid)
        assert textarea(page, "message-body") == body, f"{tid}: body not whole"
        assert input_value(page, "message-title") == title
        assert 'data-copy="message-body"' in page, "no copy button for the message"
        assert "too long" in page.lower()
        assert_no_raw_markup(page)
    assert seen == {"gh", "bird", "mail"}


def test_x_post_of_exactly_280_characters_redirects_and_281_gives_the_page(make_muster):
    """Limits are inclusive and counted in code points (an emoji is one)."""
    m = server(make_muster, campaign("x-limit", [{"id": "bird", "kind": "x"}]))
    title, body = expected(NAME, "", "bird")
    fixed = len(title + "\n\n" + body) + 1  # + the line break after the statement
    filler = "é🚀 x&" * 100
    fits, over = filler[:280 - fixed], filler[:281 - fixed]
    paths = {}
    paths.update(pledge_and_confirm(m, ["fits@example.org"], NAME, fits))
    paths.update(pledge_and_confirm(m, ["over@example.org"], NAME, over))

    t, b = expected(NAME, fits, "bird")
    assert len(t + "\n\n" + b) == 280
    assert location(m.get(paths["fits@example.org"])) == \
        f"https://x.com/intent/post?text={enc(t + chr(10) + chr(10) + b)}"

    t, b = expected(NAME, over, "bird")
    assert len(t + "\n\n" + b) == 281
    r = m.get(paths["over@example.org"])
    assert r.status == 200 and r.header("Location") is None, r
    assert textarea(r.text, "message-body") == b, "the text is whole, not cut"
    assert 'data-copy="message-body"' in r.text


def test_review_always_shows_the_action_page_with_the_text_html_escaped(make_muster):
    m = server(make_muster, campaign("review", [gh("gh", "o/review")]), start=False)
    import_supporters(m, ["rev@example.org"], name=NAME)
    launch(m)
    m.start()
    path = action_paths(m, ["rev@example.org"])["rev@example.org"]
    title, body = expected(NAME, "", "gh")
    r = m.get(path + "?review=1")
    assert r.status == 200 and r.header("Location") is None, r
    page = r.text
    assert_no_raw_markup(page)
    assert textarea(page, "message-body") == body
    assert input_value(page, "message-title") == title
    assert 'data-copy="message-body"' in page
    link = f"https://github.com/o/review/issues/new?title={enc(title)}&body={enc(body)}"
    assert link in hrefs(page), "the page links the same prefilled issue"
    # without review, the same link redirects
    assert location(m.get(path)) == link
    assert m.get(path + "?review=1").status == 200


# --------------------------------------------------------------------------- assignment


def test_balanced_assignment_never_exceeds_caps_under_concurrent_first_clicks(make_muster):
    caps = {"o/a": 10, "o/b": 20, "o/c": 5}
    targets = [gh("a", "o/a", cap=10), gh("b", "o/b", cap=20), gh("c", "o/c", cap=5)]
    m = server(make_muster, campaign("caps", targets), start=False)
    emails = [f"c{i:03d}@example.org" for i in range(100)]
    import_supporters(m, emails, name="Sam")
    launch(m)
    m.start()
    paths = action_paths(m, emails)

    clickers = emails[:64]
    results = {}
    barrier = threading.Barrier(len(clickers))

    def click(e):
        try:
            barrier.wait(timeout=20)
            results[e] = m.get(paths[e], timeout=30)
        except Exception as ex:  # kept for the assertion below
            results[e] = ex

    threads = [threading.Thread(target=click, args=(e,)) for e in clickers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(not t.is_alive() for t in threads), "clicks did not finish"
    errors = {e: r for e, r in results.items() if isinstance(r, Exception)}
    assert not errors, errors

    counts = {repo: 0 for repo in caps}
    closed = []
    for e, r in results.items():
        if r.status == 302:
            counts[repo_of(r.header("Location"))] += 1
        else:
            assert is_closed_page(r), f"{e}: neither a redirect nor the closed message: {r}"
            closed.append(e)
    for repo, cap in caps.items():
        assert counts[repo] <= cap, f"{repo} got {counts[repo]} supporters, cap {cap}"
    assert sum(counts.values()) == sum(caps.values()), \
        f"64 clicks should fill every cap exactly: {counts}"
    assert len(closed) == 64 - sum(caps.values())

    st = wait_clicks(m, 64)
    ts = targets_of(st)
    for tid, repo in (("a", "o/a"), ("b", "o/b"), ("c", "o/c")):
        assert ts[tid]["assigned"] <= caps[repo], ts[tid]
        assert ts[tid]["assigned"] == counts[repo], (ts[tid], counts)

    # sticky: a repeat click goes where the first one went
    for e, r in results.items():
        again = m.get(paths[e])
        if r.status == 302:
            assert location(again) == r.header("Location"), e
        else:
            assert is_closed_page(again), e
    # a supporter who had not clicked yet finds every target full
    assert is_closed_page(m.get(paths[emails[80]]))


def test_closing_a_target_reroutes_its_supporters_in_fallback_order(make_muster):
    targets = [gh("a", "o/a"), gh("b", "o/b", cap=6), gh("c", "o/c")]
    m = server(make_muster, campaign("closing", targets, fallback=["a", "b", "c"]), start=False)
    emails = [f"r{i:02d}@example.org" for i in range(22)]
    import_supporters(m, emails, name="Ria")
    launch(m)
    cli_ok(m, "target", "close", m.slug, "b")
    cli_ok(m, "target", "close", m.slug, "c")
    m.start()
    paths = action_paths(m, emails)
    first, second, third, spare = emails[:10], emails[10:15], emails[15:20], emails[20:]

    for e in first:
        assert repo_of(location(m.get(paths[e]))) == "o/a", "only A was open"
    cli_ok(m, "target", "open", m.slug, "b")
    cli_ok(m, "target", "open", m.slug, "c")
    cli_ok(m, "target", "close", m.slug, "a", "--reason", "issues restricted")

    rerouted = {e: repo_of(location(m.get(paths[e]))) for e in first}
    assert rerouted[first[0]] == "o/b", "the next open target after A in fallback order is B"
    assert list(rerouted.values()).count("o/b") == 6, f"B has room for 6: {rerouted}"
    assert list(rerouted.values()).count("o/c") == 4, f"the rest go on to C: {rerouted}"

    for e in second:
        assert repo_of(location(m.get(paths[e]))) == "o/c", "A is closed and B is full"

    st = wait_clicks(m, 25)
    ts = targets_of(st)
    assert st["reroutes"] > 0, st
    assert ts["a"]["state"] == "closed" and ts["a"]["reason"] == "issues restricted", ts["a"]
    assert ts["b"]["assigned"] <= 6, ts["b"]

    # reopened, A takes new supporters again; the rerouted stay where they are
    cli_ok(m, "target", "open", m.slug, "a")
    got = [repo_of(location(m.get(paths[e]))) for e in third]
    assert "o/a" in got, f"a reopened A gets none of the new supporters: {got}"
    assert "o/b" not in got, "B is at its cap"
    for e in first:
        assert repo_of(location(m.get(paths[e]))) == rerouted[e], "assignment is sticky"

    # every target closed: the organizer's closed_message, for old and new supporters
    for t in ("a", "b", "c"):
        cli_ok(m, "target", "close", m.slug, t)
    for e in (first[0], second[0], third[0], spare[0]):
        assert is_closed_page(m.get(paths[e])), e

    clicks = 10 + 10 + 5 + 5 + 10 + 4
    ts = targets_of(wait_clicks(m, clicks))
    assert ts["b"]["assigned"] <= 6, ts["b"]


def test_choose_mode_offers_open_targets_with_room_and_sends_the_pick_there(make_muster):
    targets = [gh("x", "o/x", label="Project X"), gh("y", "o/y"), gh("z", "o/z"),
               gh("w", "o/w", cap=1)]
    m = server(make_muster, campaign("choose", targets, assignment="choose"))
    # w fills up with one supporter who picked it
    w_path = pledge_and_confirm(m, ["w@example.org"], "Wil", "", target="w")["w@example.org"]
    assert repo_of(location(m.get(w_path))) == "o/w"
    wait_until(lambda: targets_of(stats(m))["w"]["assigned"] == 1, 10, interval=0.1,
               what="w assigned")
    cli_ok(m, "target", "close", m.slug, "z")

    page = m.get(f"/c/{m.slug}")
    assert page.status == 200
    select = re.search(r'<select[^>]*name="target"[^>]*>(.*?)</select>', page.text, re.S)
    assert select, "the pledge form has no target choice"
    offered = [v for v in re.findall(r'<option value="([^"]*)"', select.group(1)) if v]
    assert sorted(offered) == ["x", "y"], offered

    x_path = pledge_and_confirm(m, ["pick@example.org"], "Pia", "", target="x")["pick@example.org"]
    assert repo_of(location(m.get(x_path))) == "o/x"

    for tid in ("z", "w", "no-such-target"):
        r = m.pledge(f"bad-{tid}@example.org", name="b", timezone="UTC", target=tid)
        assert r.status == 422, (tid, r)
        assert "target" in r.json().get("errors", {}), (tid, r.text)


def test_all_mode_action_page_lists_every_open_target(make_muster):
    targets = [gh("gh", "o/all", label="Issue tracker"),
               {"id": "mail", "kind": "email", "to": ["list@example.org"], "label": "The list"},
               {"id": "phone", "kind": "call", "number": "+4930123456", "script": "Hi"},
               {"id": "sky", "kind": "bluesky", "label": "Bluesky"},
               gh("gone", "o/gone", label="Closed one")]
    m = server(make_muster, campaign("all-mode", targets, assignment="all"), start=False)
    import_supporters(m, ["all@example.org"], name="Al")
    launch(m)
    cli_ok(m, "target", "close", m.slug, "gone")
    m.start()
    path = action_paths(m, ["all@example.org"])["all@example.org"]
    r = m.get(path)
    assert r.status == 200 and r.header("Location") is None, r
    page = r.text
    links = hrefs(page)
    assert any(h.startswith("https://github.com/o/all/issues/new?") for h in links), links
    assert any(h.startswith("mailto:list@example.org?") for h in links), links
    assert "tel:+4930123456" in links, links
    assert any(h.startswith("https://bsky.app/intent/compose?text=") for h in links), links
    for label in ("Issue tracker", "The list", "phone", "Bluesky"):
        assert f"<h2 dir=\"auto\">{label}</h2>" in page, label  # a label an organizer typed
    assert "Closed one" not in page and "o/gone" not in page
    assert page.count('class="target"') == 4


# --------------------------------------------------------------------------- reports


def report(m, path, target):
    return m.post_form(f"{path}/report", {"target": target})


def test_reports_close_a_target_at_the_threshold_and_its_supporters_reroute(make_muster):
    targets = [gh("a", "o/a"), gh("b", "o/b")]
    m = server(make_muster, campaign("reports", targets, close_after_reports=3), start=False)
    emails = [f"rep{i}@example.org" for i in range(4)]
    import_supporters(m, emails, name="Rex")
    launch(m)
    cli_ok(m, "target", "close", m.slug, "b")
    m.start()
    paths = action_paths(m, emails)
    for e in emails:
        assert repo_of(location(m.get(paths[e]))) == "o/a"
    cli_ok(m, "target", "open", m.slug, "b")

    for i, e in enumerate(emails[:3]):
        r = report(m, paths[e], "a")
        assert r.status == 200, r
        a = targets_of(stats(m))["a"]
        if i < 2:
            assert a["state"] == "open", f"closed after {i + 1} report(s): {a}"
    a = targets_of(stats(m))["a"]
    assert a["state"] == "closed", a
    assert "report" in a["reason"].lower(), a
    assert repo_of(location(m.get(paths[emails[3]]))) == "o/b", "A closed: reroute to B"


def test_reports_without_a_threshold_are_counted_and_the_target_stays_open(make_muster):
    m = server(make_muster, campaign("counted", [gh("a", "o/a"), gh("b", "o/b")]), start=False)
    emails = [f"cnt{i}@example.org" for i in range(3)]
    import_supporters(m, emails, name="Cy")
    launch(m)
    cli_ok(m, "target", "close", m.slug, "b")
    m.start()
    paths = action_paths(m, emails)
    for e in emails:  # only supporters sent to A may report it
        assert repo_of(location(m.get(paths[e]))) == "o/a"
    cli_ok(m, "target", "open", m.slug, "b")
    for e in emails:
        assert report(m, paths[e], "a").status == 200
    # the same supporter reporting again counts nothing: the first report moved
    # them on to b, so a is no longer theirs to report
    assert report(m, paths[emails[0]], "a").status == 403
    a = targets_of(stats(m))["a"]
    assert a["reports"] == 3, a
    assert a["state"] == "open", a


def test_reports_count_only_from_the_supporters_sent_to_that_target(make_muster):
    targets = [gh("a", "o/a"), gh("b", "o/b")]
    m = server(make_muster, campaign("only-sent", targets, close_after_reports=2), start=False)
    on_a = [f"on-a{i}@example.org" for i in range(2)]
    on_b = [f"on-b{i}@example.org" for i in range(2)]
    idle = [f"idle{i}@example.org" for i in range(3)]
    import_supporters(m, on_a + on_b + idle, name="Rex")
    launch(m)
    cli_ok(m, "target", "close", m.slug, "b")
    m.start()
    paths = action_paths(m, on_a + on_b + idle)
    for e in on_a:
        assert repo_of(location(m.get(paths[e]))) == "o/a"
    cli_ok(m, "target", "open", m.slug, "b")
    cli_ok(m, "target", "close", m.slug, "a")
    for e in on_b:
        assert repo_of(location(m.get(paths[e]))) == "o/b"
    cli_ok(m, "target", "open", m.slug, "a")

    # supporters who never followed their link, and supporters sent to B, cannot
    # close A: each is told so, and nothing is counted
    for e in idle + on_b:
        r = report(m, paths[e], "a")
        assert r.status == 403, (e, r)
        assert "not counted" in r.text, r.text
    a = targets_of(stats(m))["a"]
    assert a["reports"] == 0 and a["state"] == "open", a
    # a supporter sent to B may report B
    assert report(m, paths[on_b[0]], "b").status == 200
    assert targets_of(stats(m))["b"]["reports"] == 1

    # the two sent to A reach the threshold
    for e in on_a:
        assert report(m, paths[e], "a").status == 200
    a = targets_of(stats(m))["a"]
    assert a["reports"] == 2 and a["state"] == "closed", a


def test_a_reporter_goes_to_the_next_open_target_at_their_next_click(make_muster):
    """Whoever reports "this target did not accept my action" is not sent back to
    it while it stays open: their next click goes to the next open target in the
    fallback order; the others stay where they are."""
    targets = [gh("a", "o/a"), gh("b", "o/b"), gh("c", "o/c")]
    m = server(make_muster, campaign("moved", targets, fallback=["a", "c", "b"]), start=False)
    emails = ["mv0@example.org", "mv1@example.org"]
    import_supporters(m, emails, name="Mo")
    launch(m)
    cli_ok(m, "target", "close", m.slug, "b")
    cli_ok(m, "target", "close", m.slug, "c")
    m.start()
    paths = action_paths(m, emails)
    for e in emails:
        assert repo_of(location(m.get(paths[e]))) == "o/a"
    cli_ok(m, "target", "open", m.slug, "b")
    cli_ok(m, "target", "open", m.slug, "c")
    wait_clicks(m, 2)
    r = report(m, paths[emails[0]], "a")
    assert r.status == 200, r
    assert repo_of(location(m.get(paths[emails[0]]))) == "o/c", "fallback after a is c"
    assert repo_of(location(m.get(paths[emails[0]]))) == "o/c", "and it stays there"
    assert repo_of(location(m.get(paths[emails[1]]))) == "o/a", "nobody else moves"
    wait_clicks(m, 5)
    st = targets_of(stats(m))
    assert st["a"]["state"] == "open" and st["a"]["reports"] == 1, st["a"]
    assert st["c"]["clicks"] == 2, st["c"]
    # the move survives a restart (it was written, not only kept in memory)
    m.stop()
    m.start()
    assert repo_of(location(m.get(paths[emails[0]]))) == "o/c"


def test_report_for_a_target_the_campaign_lacks_is_refused(make_muster):
    m = server(make_muster, campaign("bad-report", [gh("a", "o/a")]), start=False)
    import_supporters(m, ["br@example.org"], name="Bo")
    launch(m)
    m.start()
    path = action_paths(m, ["br@example.org"])["br@example.org"]
    assert report(m, path, "nope").status == 400
    assert m.post_form(f"{path}/report", {}).status == 400
    assert targets_of(stats(m))["a"]["reports"] == 0


# --------------------------------------------------------------------------- before and after


def test_action_link_before_the_moment_shows_a_countdown_in_the_supporters_zone(make_muster):
    """The product sends /a/ links only at the launch moment; the token is derived
    here from the store's token material (conftest.link_material) and checked
    against the reminder the launch mails afterwards."""
    tomorrow = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    camp = campaign("early", [gh("a", "o/a")])
    camp["launch"]["at"] = tomorrow.strftime("%Y-%m-%dT%H:00:00")
    m = server(make_muster, camp, start=False)
    import_supporters(m, ["early@example.org"], name="Eve", timezone="Asia/Tokyo")
    m.start()
    secret, key, epoch = link_material(m, "early@example.org")
    token = derive_link_token(secret, "a", key, epoch)
    early = m.get(f"/a/{token}")
    st = stats(m)

    launch(m)
    mailed = action_paths(m, ["early@example.org"])["early@example.org"]
    if mailed != f"/a/{token}":
        pytest.skip("cannot obtain an /a/ token before the moment: the product mails none, and "
                    "the derivation from the store's material does not match the mailed link")
    assert early.status == 200 and early.header("Location") is None, early
    assert "countdown" in early.text.lower()
    moment = datetime.datetime.strptime(camp["launch"]["at"], "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc).astimezone(ZoneInfo("Asia/Tokyo"))
    assert moment.strftime("%H:%M JST") in early.text, "moment not shown in the supporter's zone"
    assert st["clicks"] == 0 and all(t["assigned"] == 0 for t in st["targets"]), st
    assert repo_of(location(m.get(mailed))) == "o/a"


def test_action_link_after_the_window_still_works_and_says_the_moment_passed(make_muster):
    """`muster launch` moves the moment to now, so the window is closed by a real
    launch of a campaign whose moment was 30 minutes ago (the server launches it
    without moving it) and then an edit of window_minutes to 10, which a launched
    campaign allows (only its message is frozen)."""
    targets = [gh("a", "o/a", cap=1), {"id": "phone", "kind": "call", "number": "+4930123456",
                                        "script": "Hi", "cap": 1}]
    camp = campaign("late", targets)
    camp["launch"] = {"at": ago(30), "timezone": "UTC", "window_minutes": 60}
    m = server(make_muster, camp, start=False)
    emails = ["late1@example.org", "late2@example.org"]
    import_supporters(m, emails, name="Lou")
    m.start()
    paths = action_paths(m, emails)  # sent by the server's own launch
    edited = json.loads(json.dumps(camp))
    edited["launch"]["window_minutes"] = 10
    apply_more(m, edited, "late-edited.json")
    assert stats(m)["launch_at"] == camp["launch"]["at"] + "Z", "the launched moment moved"

    # After the window every link answers with the action page: it says the
    # moment has passed and still offers the action (the prefilled link, the call).
    answers = {e: m.get(paths[e]) for e in emails}
    assert all(r.status == 200 for r in answers.values()), answers
    assert all("moment has passed" in r.text for r in answers.values()), answers
    texts = [r.text for r in answers.values()]
    assert any("https://github.com/o/a/issues/new?" in t for t in texts), "late click still works"
    assert any("tel:+4930123456" in t for t in texts), "call page after the window"
    review = m.get(paths[emails[0]] + "?review=1")
    assert review.status == 200 and "moment has passed" in review.text, review


def test_imported_name_with_a_line_break_still_gets_its_action_link(make_muster):
    """`muster import` takes the name column as it is; a name with a line break
    must either be refused at import or still reach the supporter's action."""
    m = server(make_muster, campaign("nl-name", [gh("a", "o/a")]), start=False)
    path = m.dir / "nl.csv"
    path.write_text('email,name,consent,timezone\nnl@example.org,"Ada\nLovelace",yes,UTC\n',
                    encoding="utf-8")
    code, out, err = m.cli("import", m.slug, path.name)
    assert code == 0, (code, out, err)
    if "refused" in err:
        assert "nl.csv:2: refused: " in err, err  # the row, with its line and why
        return
    launch(m)
    st = stats(m)
    assert st["reminders"]["failed"] == 0, f"the reminder was not sent: {st['reminders']}"
    m.start()
    link = action_paths(m, ["nl@example.org"])["nl@example.org"]
    loc = location(m.get(link))
    assert query_params(loc)["title"] == "Ada\nLovelace: offline docs"
