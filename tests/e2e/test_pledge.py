"""
test_pledge: the rules of POST /c/SLUG/pledge (docs/API.md, "The flow" step 2,
"HTTP routes", "Email"): one supporter per address, the same answer whether or
not the address pledged before, a confirmed pledge changed only by a new
confirmation, field errors as JSON, CSRF for forms, the per-IP limit, and
nothing a supporter types reaching a mail header.
"""
import concurrent.futures
import html
import http.client
import json
import re
import socket
import urllib.parse
from email.header import decode_header, make_header
from http.cookies import SimpleCookie

import pytest


def path_of(url):
    return urllib.parse.urlsplit(url).path


# ----------------------------------------------------------------------------- one supporter


def test_repledge_with_same_email_in_other_case_creates_no_second_supporter(muster, smtp):
    assert muster.pledge("Ada.Lovelace@Example.org", name="Ada").status == 202
    assert muster.pledge("ada.lovelace@EXAMPLE.ORG", name="Ada L").status == 202
    assert muster.pledge("ADA.LOVELACE@example.org").status == 202
    assert muster.supporter_count() == 1


def test_pledge_answer_is_identical_whether_or_not_the_address_pledged_before(muster, smtp):
    fresh = muster.pledge("new@example.org", name="New", statement="Hi")
    # an address that pledged and is still pending
    muster.pledge("pending@example.org", name="P")
    again_pending = muster.pledge("Pending@example.org", name="New", statement="Hi")
    # an address that pledged and confirmed
    muster.confirm_supporter("done@example.org", name="D")
    again_confirmed = muster.pledge("DONE@example.org", name="New", statement="Hi")
    for r in (again_pending, again_confirmed):
        assert (r.status, r.body) == (fresh.status, fresh.body)
        assert r.header("Content-Type") == fresh.header("Content-Type")
        assert r.header("Set-Cookie") == fresh.header("Set-Cookie")
    assert muster.supporter_count() == 3


def test_repledge_of_confirmed_pledge_changes_name_only_after_new_confirmation(muster, smtp):
    addr = "ada@example.org"
    s = muster.confirm_supporter(addr, name="Old Name", statement="old statement")
    assert muster.pledge(addr.upper(), name="New Name", statement="new statement").status == 202
    assert muster.supporter(addr)["name"] == "Old Name"
    assert muster.supporter(addr)["statement"] == "old statement"
    mails = smtp.wait_for(2, to=addr, kind="confirm")
    new_link = mails[-1].link("/confirm/")
    # a link scanner fetching the new link changes nothing
    assert muster.get(path_of(new_link)).status == 200
    assert muster.supporter(addr)["name"] == "Old Name"
    r = muster.post(path_of(new_link))
    assert r.status == 200, r
    row = muster.supporter(addr)
    assert (row["name"], row["statement"]) == ("New Name", "new statement")
    assert row["status"] == "confirmed"
    assert muster.supporter_count() == 1
    assert s["confirm_url"]  # the first link was used before


def test_a_stranger_cannot_rewrite_an_unconfirmed_pledge(muster, smtp):
    """Hold under attack, item 1: a re-pledge never changes what an earlier link
    confirms; its details wait for the link mailed with them."""
    victim = "victim@example.org"
    assert muster.pledge(victim, name="Victim", statement="my words",
                         timezone="Europe/Berlin").status == 202
    first = smtp.wait_one(victim, "confirm")
    assert "Name: Victim" in first.text() and "Statement: my words" in first.text()
    assert muster.pledge("Victim@Example.org", name="Attacker", statement="attacker words",
                         timezone="Asia/Tokyo").status == 202
    mails = smtp.wait_for(2, to=victim, kind="confirm")
    second = mails[-1]
    assert "Name: Attacker" in second.text() and "Time zone: Asia/Tokyo" in second.text()
    first_link, second_link = first.link("/confirm/"), second.link("/confirm/")
    assert first_link != second_link

    # The first link shows, and confirms, exactly the victim's words.
    page = muster.get(path_of(first_link))
    assert page.status == 200
    assert "Victim" in page.text and "my words" in page.text and "Europe/Berlin" in page.text
    assert "Attacker" not in page.text and "attacker words" not in page.text
    assert muster.post(path_of(first_link)).status == 200
    row = muster.supporter(victim)
    assert (row["status"], row["name"], row["statement"], row["timezone"]) == \
        ("confirmed", "Victim", "my words", "Europe/Berlin")
    welcome = smtp.wait_one(victim, "welcome")
    assert "Hello Victim" in welcome.text() and "Attacker" not in welcome.text()

    # The second link shows the attacker's details; only it would apply them.
    page = muster.get(path_of(second_link))
    assert page.status == 200 and "Attacker" in page.text and "Asia/Tokyo" in page.text
    assert muster.supporter(victim)["name"] == "Victim"


def test_only_the_newest_change_link_confirms_a_change(muster, smtp):
    addr = "ada@example.org"
    muster.confirm_supporter(addr, name="Ada")
    assert muster.pledge(addr, name="Change One").status == 202
    # A mail shows the change held when it is composed: let the first change's mail
    # go before the second change replaces it (a slower sender, as on PostgreSQL
    # under load, composed both after the second pledge, both showing "Change Two").
    smtp.wait_for(2, to=addr, kind="confirm")
    assert muster.pledge(addr, name="Change Two").status == 202
    mails = smtp.wait_for(3, to=addr, kind="confirm")
    one = [m for m in mails if "Change One" in m.text()][0].link("/confirm/")
    two = [m for m in mails if "Change Two" in m.text()][0].link("/confirm/")
    assert muster.get(path_of(one)).status == 404
    assert muster.post(path_of(one)).status == 404
    assert muster.supporter(addr)["name"] == "Ada"
    assert muster.post(path_of(two)).status == 200
    assert muster.supporter(addr)["name"] == "Change Two"


def test_a_repledge_with_the_same_details_mails_the_first_link_again(muster, smtp):
    addr = "same@example.org"
    assert muster.pledge(addr, name="Sam", statement="s").status == 202
    assert muster.pledge(addr, name="Sam", statement="s").status == 202
    mails = smtp.wait_for(2, to=addr, kind="confirm")
    assert mails[0].link("/confirm/") == mails[1].link("/confirm/")


# ----------------------------------------------------------------------------- invalid input

INVALID = [
    # id, JSON body (or raw text), the field the error must name (None: any field)
    ("bad-email", {"email": "not-an-address", "consent": True, "timezone": "UTC"}, "email"),
    ("bad-email-two-ats", {"email": "a@b@example.org", "consent": True}, "email"),
    ("missing-email", {"consent": True, "timezone": "UTC"}, "email"),
    ("missing-consent", {"email": "ada@example.org", "timezone": "UTC"}, "consent"),
    ("consent-false", {"email": "ada@example.org", "consent": False}, "consent"),
    ("consent-string", {"email": "ada@example.org", "consent": "yes"}, "consent"),
    ("timezone-mars", {"email": "ada@example.org", "consent": True, "timezone": "Mars/Base"},
     "timezone"),
    ("statement-too-long", {"email": "ada@example.org", "consent": True, "statement": "x" * 1001},
     "statement"),
    ("name-with-crlf", {"email": "ada@example.org", "consent": True, "name": "Ada\r\nLovelace"},
     "name"),
    ("name-with-lf", {"email": "ada@example.org", "consent": True, "name": "Ada\nLovelace"},
     "name"),
    ("email-number", {"email": 5, "consent": True}, "email"),
    ("name-list", {"email": "ada@example.org", "consent": True, "name": ["Ada"]}, "name"),
    ("timezone-number", {"email": "ada@example.org", "consent": True, "timezone": 1}, "timezone"),
    ("statement-object", {"email": "ada@example.org", "consent": True, "statement": {}},
     "statement"),
    ("non-object-array", "[1, 2, 3]", None),
    ("non-object-string", '"ada@example.org"', None),
    ("malformed-json", '{"email": "ada@example.org", "consent": tru', None),
    ("empty-body", "", None),
]


@pytest.mark.parametrize("body,field", [(b, f) for _, b, f in INVALID],
                         ids=[i for i, _, _ in INVALID])
def test_invalid_json_pledge_answers_4xx_with_field_errors_and_writes_nothing(muster, smtp, body,
                                                                              field):
    raw = body if isinstance(body, str) else json.dumps(body)
    r = muster.post_json(f"/c/{muster.slug}/pledge", raw=raw)
    assert 400 <= r.status < 500, r
    assert r.header("Content-Type").startswith("application/json"), r.header("Content-Type")
    doc = r.json()
    assert isinstance(doc, dict) and isinstance(doc.get("errors"), dict), doc
    assert doc["errors"], doc
    assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in doc["errors"].items())
    if field:
        assert field in doc["errors"], doc
    assert muster.supporter_count() == 0
    assert muster.inspect("count", "outbox") == 0  # no mail queued


def test_statement_of_exactly_max_chars_is_accepted(muster, smtp):
    # the limit counts characters, not bytes: 1000 two-byte characters fit
    r = muster.pledge("ada@example.org", statement="ü" * 1000)
    assert r.status == 202, r
    assert muster.supporter_count() == 1


# ----------------------------------------------------------------------------- forms and CSRF


def csrf_from_page(muster):
    page = muster.get(f"/c/{muster.slug}")
    assert page.status == 200, page
    cookie = SimpleCookie()
    for header in page.headers.get_all("Set-Cookie") or []:
        cookie.load(header)
    m = re.search(r'<input[^>]*name="csrf"[^>]*value="([^"]*)"', page.text) or \
        re.search(r'<input[^>]*value="([^"]*)"[^>]*name="csrf"', page.text)
    assert m, "no csrf field on the pledge page"
    assert len(cookie) == 1, page.headers.get_all("Set-Cookie")
    name, morsel = next(iter(cookie.items()))
    return name, morsel.value, html.unescape(m.group(1))


FORM = {"email": "ada@example.org", "name": "Ada", "timezone": "Europe/Berlin",
        "consent": "yes", "statement": "Because."}


@pytest.mark.parametrize("variant", ["none", "cookie-only", "field-only", "mismatch", "empty",
                                     "cookie-as-field"])
def test_form_pledge_without_valid_csrf_is_403_and_writes_nothing(muster, smtp, variant):
    name, cookie_value, field_value = csrf_from_page(muster)
    fields = dict(FORM)
    cookie = None
    if variant == "cookie-only":
        cookie = f"{name}={cookie_value}"
    elif variant == "field-only":
        fields["csrf"] = field_value
    elif variant == "mismatch":
        other = csrf_from_page(muster)[1]
        cookie = f"{name}={cookie_value}"
        fields["csrf"] = other
        assert other != cookie_value
    elif variant == "empty":
        cookie = f"{name}="
        fields["csrf"] = ""
    elif variant == "cookie-as-field":  # what a cookie planted from a sibling domain could pair
        cookie = f"{name}={cookie_value}"
        fields["csrf"] = cookie_value
    r = muster.post_form(f"/c/{muster.slug}/pledge", fields, cookie=cookie)
    assert r.status == 403, r
    assert muster.supporter_count() == 0
    smtp.settle(1)
    assert smtp.select() == []


def test_form_pledge_with_csrf_token_from_the_page_works(muster, smtp):
    name, cookie_value, field_value = csrf_from_page(muster)
    # The field is an HMAC of the cookie under the server's secret, not the cookie.
    assert cookie_value != field_value
    fields = dict(FORM, csrf=field_value)
    r = muster.post_form(f"/c/{muster.slug}/pledge", fields, cookie=f"{name}={cookie_value}")
    assert 200 <= r.status < 400, r
    row = muster.supporter("ada@example.org")
    assert row and row["status"] == "pending"
    assert (row["name"], row["timezone"], row["statement"]) == ("Ada", "Europe/Berlin", "Because.")
    smtp.wait_one("ada@example.org", "confirm")


@pytest.mark.parametrize("change", ["no-consent", "bad-email", "bad-timezone"])
def test_form_pledge_with_invalid_fields_is_refused_and_writes_nothing(muster, smtp, change):
    name, cookie_value, field_value = csrf_from_page(muster)
    fields = dict(FORM, csrf=field_value)
    if change == "no-consent":
        del fields["consent"]
    elif change == "bad-email":
        fields["email"] = "ada at example"
    else:
        fields["timezone"] = "Mars/Base"
    r = muster.post_form(f"/c/{muster.slug}/pledge", fields, cookie=f"{name}={cookie_value}")
    assert 400 <= r.status < 500, r
    assert "<form" in r.text, "the form comes back with the errors"
    assert muster.supporter_count() == 0


# ----------------------------------------------------------------------------- limits


def test_third_pledge_from_same_ip_gets_429_when_limit_is_2(make_muster, smtp):
    m = make_muster(env={"MUSTER_PLEDGE_LIMIT": "2"})
    assert m.pledge("a@example.org").status == 202
    assert m.pledge("b@example.org").status == 202
    r = m.pledge("c@example.org")
    assert r.status == 429, r
    assert m.supporter_count() == 2
    assert m.supporter("c@example.org") is None


# ----------------------------------------------------------------------------- headers


def test_header_injection_in_name_is_refused(muster, smtp):
    r = muster.pledge("ada@example.org", name="Eve\r\nBcc: x@evil.example")
    assert 400 <= r.status < 500, r
    assert "name" in r.json()["errors"], r
    assert muster.supporter_count() == 0
    smtp.settle(1.5)
    assert smtp.select() == []
    assert not any("evil.example" in rc for m in smtp.select() for rc in m.rcpt_tos)


def raw_header(mail, name):
    """The unfolded raw value of a header, as bytes decoded as ASCII."""
    block = mail.raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    m = re.search(r"^" + name + r":[ \t]*([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", block,
                  re.M | re.I)
    assert m, block
    return m.group(1)


LONG_NAME = "Zoë Ångström-Øresund 東京, the Third of Many Names é 🎉"


@pytest.mark.parametrize("name", ["Zoë Ångström 東京", LONG_NAME], ids=["short", "long"])
def test_non_ascii_name_is_rfc2047_encoded_in_to(muster, smtp, name):
    addr = "zoe@example.org"
    assert muster.pledge(addr, name=name).status == 202
    mail = smtp.wait_one(addr, "confirm")
    header_block = mail.raw.split(b"\r\n\r\n", 1)[0]
    assert all(b < 0x80 for b in header_block), "raw 8-bit bytes in the header section"
    to_raw = raw_header(mail, "To")
    assert re.search(r"=\?utf-8\?[bq]\?", to_raw, re.I), to_raw
    # RFC 2047 decoding (email.header joins adjacent encoded-words as the RFC says;
    # policy.default's address parser keeps the space between them)
    assert str(make_header(decode_header(to_raw))) == f"{name} <{addr}>"
    addresses = mail.msg["To"].addresses
    assert len(addresses) == 1 and addresses[0].addr_spec == addr


@pytest.mark.parametrize("name", ['Ada, Bob <bob@evil.example>', 'Eve <eve@evil.example>',
                                  '"Quoted" \\ back', 'a@b.example', 'Ada;Bob: x',
                                  '(comment) Ada', '=?UTF-8?B?RXZl?=', 'Zoë, <x@evil.example>'])
def test_name_with_address_syntax_adds_no_recipient(muster, smtp, name):
    addr = "ada@example.org"
    assert muster.pledge(addr, name=name).status == 202
    mail = smtp.wait_one(addr, "confirm")
    assert mail.rcpt_tos == [addr]
    addresses = mail.msg["To"].addresses
    assert len(addresses) == 1, addresses
    assert addresses[0].addr_spec == addr
    assert addresses[0].display_name == name
    assert "evil.example" not in str(mail.msg["To"]).split("<")[-1]


def test_spoofed_x_forwarded_for_does_not_escape_the_limit(make_muster, smtp):
    # MUSTER_TRUSTED_PROXIES is empty by default: X-Forwarded-For is not believed
    m = make_muster(env={"MUSTER_PLEDGE_LIMIT": "2"})
    statuses = []
    for i in range(3):
        r = m.post(f"/c/{m.slug}/pledge",
                   body=json.dumps({"email": f"p{i}@example.org", "consent": True}),
                   headers={"Content-Type": "application/json",
                            "X-Forwarded-For": f"203.0.113.{i + 1}"})
        statuses.append(r.status)
    assert statuses == [202, 202, 429], statuses
    assert m.supporter_count() == 2


def test_pledge_limit_0_means_no_limit(make_muster, smtp):
    m = make_muster(env={"MUSTER_PLEDGE_LIMIT": "0"})
    statuses = [m.pledge(f"p{i}@example.org").status for i in range(70)]
    assert statuses == [202] * 70, statuses
    assert m.supporter_count() == 70


# ----------------------------------------------------------------------------- races and sizes


def test_concurrent_pledges_of_one_address_create_one_supporter(muster, smtp):
    variants = ["Ada@example.org", "ada@example.org", "ADA@example.org", "ada@EXAMPLE.org",
                "aDa@example.org"] * 4
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(variants)) as pool:
        responses = list(pool.map(lambda a: muster.pledge(a, name="Ada"), variants))
    assert {r.status for r in responses} == {202}, responses
    assert len({r.body for r in responses}) == 1
    assert muster.supporter_count() == 1


def test_oversized_json_pledge_answers_4xx_with_json_errors(muster, smtp):
    """The answer comes as soon as the head announces too large a body (the server
    may close before the 2 MB are sent: the client stops sending and reads it)."""
    body = json.dumps({"email": "ada@example.org", "consent": True,
                       "statement": "x" * (2 * 1024 * 1024)}).encode()
    head = (f"POST /c/{muster.slug}/pledge HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", muster.port), timeout=10) as sock:
        sock.sendall(head)
        try:
            sock.sendall(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before the body: what is wanted
        resp = http.client.HTTPResponse(sock)
        resp.begin()
        status, ctype, text = resp.status, resp.getheader("Content-Type"), resp.read()
    assert 400 <= status < 500, (status, text[:200])
    assert ctype.startswith("application/json"), (status, ctype, text[:200])
    doc = json.loads(text)
    assert isinstance(doc.get("errors"), dict) and doc["errors"], doc
    assert muster.supporter_count() == 0


# ----------------------------------------------------------------------------- erase


def test_supporter_erase_revokes_links_and_skips_the_reminder(muster, smtp):
    keep = muster.confirm_supporter("ada@example.org", name="Ada")
    gone = muster.confirm_supporter("Bob@Example.org", name="Bob Secret", statement="private")
    code, out, err = muster.cli("supporter", "erase", "bob@example.org")
    assert code == 0, err
    assert muster.supporter("bob@example.org") is None
    rows = [(r["name"], r["statement"]) for r in muster.export("supporters")
            if "secret" in r["name"].lower() or r["statement"] == "private"]
    assert rows == [], rows
    assert muster.supporter_count() == 2, "the anonymous row stays for the counts"
    for url in (gone["confirm_url"], gone["unsubscribe_url"]):
        assert muster.get(path_of(url)).status == 404, url
    muster.launch()
    smtp.wait_one("ada@example.org", "reminder")
    smtp.settle(1.5)
    assert smtp.select("bob@example.org", "reminder") == []
    assert keep["unsubscribe_url"]
