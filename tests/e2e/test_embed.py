"""
test_embed: the banner other sites carry (GET /c/SLUG/embed.js and its iframe form
GET /c/SLUG/embed): what it answers over HTTP, what it must never do (set a cookie,
load anything, grow past its size budget, let the rest of the site be framed), and
the campaign file's `embed.after`. Its look and states in a browser are
tests/browser/embed.test.mjs.

Run: /usr/bin/python3 -m pytest -q tests/e2e/test_embed.py
"""
import json
import re

from conftest import make_campaign

# docs/EMBED.md: the script with the demo campaign's data stays under 4 KiB.
SCRIPT_BUDGET = 4096


def script_data(body):
    """The data object the script is called with: the JSON after the code."""
    text = body.decode("ascii")  # the script is ASCII only (JSON_ENSURE_ASCII)
    start = text.rindex("})(") + 3
    assert text.endswith(");\n"), text[-40:]
    return json.loads(text[start:-3])


def test_the_script_is_small_cacheable_and_sets_no_cookie(muster):
    r = muster.get("/c/docs-day/embed.js")
    assert r.status == 200, r
    assert r.header("Content-Type") == "text/javascript; charset=utf-8"
    assert r.header("Cache-Control") == "public, max-age=60"
    assert r.header("Cross-Origin-Resource-Policy") == "cross-origin"
    assert r.headers.get_all("Set-Cookie") is None
    assert len(r.body) <= SCRIPT_BUDGET, f"{len(r.body)} bytes, budget {SCRIPT_BUDGET}"
    assert re.search(rb"https?://", r.body.split(b"})(")[0]) is None, \
        "the script's code names no address: it loads nothing"
    d = script_data(r.body)
    assert d["title"] == muster.campaign["title"]
    assert d["url"] == f"{muster.base_url}/c/docs-day"
    assert d["count"] == 0 and d["thanks"] is False
    assert (d["lang"], d["dir"]) == ("en", "ltr")
    assert d["end"] - d["start"] == muster.campaign["launch"]["window_minutes"] * 60_000


def test_the_count_is_of_confirmed_pledges(muster, smtp):
    muster.confirm_supporter("one@example.org")
    assert muster.pledge("two@example.org").status == 202  # not confirmed
    assert script_data(muster.get("/c/docs-day/embed.js").body)["count"] == 1


def test_a_title_cannot_end_the_script(make_muster):
    m = make_muster(make_campaign({"title": "Day</script><script>alert(1)//\u2028"}))
    body = m.get("/c/docs-day/embed.js").body
    assert b"</script>" not in body and b"\xe2\x80\xa8" not in body
    assert script_data(body)["title"] == "Day</script><script>alert(1)//\u2028"


def test_only_the_iframe_form_may_be_framed(muster):
    frame = muster.get("/c/docs-day/embed")
    assert frame.status == 200, frame
    assert "frame-ancestors *" in frame.header("Content-Security-Policy")
    assert "script-src" not in frame.header("Content-Security-Policy")  # default-src 'none'
    assert frame.header("X-Frame-Options") is None
    assert frame.headers.get_all("Set-Cookie") is None
    assert "Pledge to take part" in frame.text and 'target="_top"' in frame.text
    for path in ("/c/docs-day", "/login", "/c/docs-day/embed.js"):
        r = muster.get(path)
        assert r.header("X-Frame-Options") == "DENY", path
        assert "frame-ancestors 'none'" in r.header("Content-Security-Policy"), path


def test_unknown_campaign_is_404_and_head_matches_get(muster):
    assert muster.get("/c/nope/embed.js").status == 404
    assert muster.get("/c/nope/embed").status == 404
    get = muster.get("/c/docs-day/embed.js")
    head = muster.head("/c/docs-day/embed.js")
    assert head.status == 200 and head.body == b""
    assert head.header("Content-Length") == get.header("Content-Length")


def test_after_the_window_the_iframe_says_thanks_only_when_asked(make_muster):
    past = {"launch": {"at": "2020-01-01T10:00:00", "timezone": "UTC"}}
    m = make_muster(make_campaign({**past, "embed": {"after": "thanks"}}))
    assert "Thank you to everyone who took part." in m.get("/c/docs-day/embed").text
    assert script_data(m.get("/c/docs-day/embed.js").body)["thanks"] is True
    m2 = make_muster(make_campaign({**past, "slug": "quiet"}))
    page = m2.get("/c/quiet/embed").text
    assert "Thank you" not in page and "<a " not in page


def test_an_unknown_embed_setting_is_refused_with_its_path(make_muster):
    m = make_muster(apply=False)
    code, out, err = m.apply(make_campaign({"embed": {"after": "forever"}}))
    assert code == 2
    assert "$.embed.after: unknown value" in err and '"hide" or "thanks"' in err, err
    code, out, err = m.apply(make_campaign({"embed": {"colour": "red"}}))
    assert code == 2 and "$.embed.colour: unknown field" in err, err
