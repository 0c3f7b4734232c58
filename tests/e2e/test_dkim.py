"""
test_dkim: muster signs every mail itself (docs/DELIVERABILITY.md, "SPF, DKIM
and DMARC"). The mails a real SMTP server received are verified by an
independent verifier, Debian's python3-dkim, whose DNS lookup is replaced by
the record `muster dkim-record` prints, for an RSA and an Ed25519 key made here
with openssl: as received, after a relay re-folds every header (relaxed
canonicalization must survive that), and not after a change to the body or a
signed header. The record itself is checked against openssl's public key, and
bad settings are refused at start with the setting named.
"""
import base64
import re
import subprocess

import dkim
import pytest

from conftest import FROM_ADDR

SELECTOR = "muster2026"
DOMAIN = "example.org"
SIGNED = {b"from", b"to", b"subject", b"date", b"message-id", b"mime-version",
          b"content-type", b"list-id", b"list-unsubscribe", b"list-unsubscribe-post",
          b"feedback-id"}


def make_key(tmp_path, kind):
    path = tmp_path / f"dkim-{kind}.pem"
    algorithm = ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"] if kind == "rsa" \
        else ["-algorithm", "ED25519"]
    subprocess.run(["openssl", "genpkey", *algorithm, "-out", str(path)], check=True,
                   capture_output=True)
    return path


def openssl_public_key(path, kind):
    """The p= value, from openssl rather than muster."""
    der = subprocess.run(["openssl", "pkey", "-in", str(path), "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    # RSA: the SubjectPublicKeyInfo; Ed25519: the raw key, its last 32 octets.
    return base64.b64encode(der if kind == "rsa" else der[-32:]).decode()


def dkim_env(key):
    return {"MUSTER_DKIM_KEY": str(key), "MUSTER_DKIM_SELECTOR": SELECTOR,
            "MUSTER_DKIM_DOMAIN": DOMAIN}


def dns_record(m):
    """(owner name, TXT value) from `muster dkim-record`."""
    code, out, err = m.cli("dkim-record")
    assert code == 0, err
    line = out.strip()
    assert "\n" not in line, out
    match = re.fullmatch(r'(\S+) IN TXT((?: "[^"]{1,255}")+)', line)
    assert match, line
    strings = re.findall(r'"([^"]*)"', match.group(2))
    assert all(len(s) <= 255 for s in strings)
    return match.group(1), "".join(strings)


def resolver(record):
    name = f"{SELECTOR}._domainkey.{DOMAIN}."

    def dnsfunc(qname, timeout=5):
        qname = qname.decode() if isinstance(qname, bytes) else qname
        return record.encode() if qname.rstrip(".") == name.rstrip(".") else None
    return dnsfunc


def refold(raw, width=30):
    """What a relay may do to the header: unfold each field, then fold it again
    before every space past `width` columns, continuing with a tab."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    fields = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += line
        else:
            fields.append(line)
    out = []
    for field in fields:
        words = field.split(b" ")
        lines, current = [], words[0]
        for w in words[1:]:
            if len(current) + 1 + len(w) > width:
                lines.append(current)
                current = b"\t" + w
            else:
                current += b" " + w
        lines.append(current)
        out.append(b"\r\n".join(lines))
    return b"\r\n".join(out) + sep + body


def signed_headers(raw):
    sig = dkim.util.parse_tag_value(
        re.search(rb"^DKIM-Signature:(.*?)\r\n(?=\S)", raw, re.S | re.M).group(1)
        .replace(b"\r\n", b""))
    return sig, {h.strip().lower() for h in sig[b"h"].split(b":")}


@pytest.mark.parametrize("kind", ["rsa", "ed25519"])
def test_every_mail_verifies_with_an_independent_verifier(make_muster, smtp, tmp_path, kind):
    key = make_key(tmp_path, kind)
    m = make_muster(env=dkim_env(key))
    name, record = dns_record(m)
    assert name == f"{SELECTOR}._domainkey.{DOMAIN}."
    assert record == f"v=DKIM1; k={kind}; p={openssl_public_key(key, kind)}"
    dnsfunc = resolver(record)

    m.confirm_supporter("ada@example.org", name="Ada")
    code, _ = m.stop()
    assert code == 0
    m.launch()
    mails = [smtp.wait_one("ada@example.org", k) for k in ("confirm", "welcome", "reminder")]
    for mail in mails:
        raw = mail.raw
        assert raw.count(b"DKIM-Signature:") == 1, raw[:400]
        sig, headers = signed_headers(raw)
        assert sig[b"a"] == (b"rsa-sha256" if kind == "rsa" else b"ed25519-sha256")
        assert sig[b"c"] == b"relaxed/relaxed"
        assert sig[b"d"] == DOMAIN.encode() and sig[b"s"] == SELECTOR.encode()
        expected = SIGNED if mail.kind() != "confirm" else \
            SIGNED - {b"list-id", b"list-unsubscribe", b"list-unsubscribe-post"}
        assert expected <= headers, (mail.kind(), headers)
        assert dkim.verify(raw, dnsfunc=dnsfunc), (mail.kind(), raw[:600])
        # A relay re-folds the header: relaxed/relaxed still verifies.
        refolded = refold(raw)
        assert refolded != raw
        assert dkim.verify(refolded, dnsfunc=dnsfunc), refolded[:800]
        # A change to the body or to a signed header does not.
        head, sep, body = raw.partition(b"\r\n\r\n")
        changed_body = head + sep + body.replace(b"=", b"-", 1)
        assert changed_body != raw
        assert not dkim.verify(changed_body, dnsfunc=dnsfunc)
        changed_subject = re.sub(rb"^Subject: ", b"Subject: Re: ", raw, count=1, flags=re.M)
        assert changed_subject != raw
        assert not dkim.verify(changed_subject, dnsfunc=dnsfunc)
        # A second From added on the way breaks it too (From is over-signed).
        added = b"From: someone@evil.example\r\n" + raw
        assert not dkim.verify(added, dnsfunc=dnsfunc)
    reminder = mails[2]
    assert reminder.msg["Feedback-ID"] == f"{m.slug}:reminder:muster:{FROM_ADDR.split('@')[1]}"
    assert mails[0].msg["Feedback-ID"] == f"{m.slug}:confirm:muster:{FROM_ADDR.split('@')[1]}"


def test_without_the_settings_nothing_is_signed(muster, smtp):
    muster.pledge("bob@example.org")
    mail = smtp.wait_one("bob@example.org", "confirm")
    assert b"DKIM-Signature:" not in mail.raw
    assert mail.msg["Feedback-ID"] is not None


def test_bad_settings_are_refused_at_start_naming_the_setting(make_muster, tmp_path):
    key = make_key(tmp_path, "ed25519")
    m = make_muster(start=False)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    small = tmp_path / "small.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:512",
                    "-out", str(small)], check=True, capture_output=True)
    cases = [
        (dict(dkim_env(tmp_path / "missing.pem")), "MUSTER_DKIM_KEY", "cannot read"),
        (dict(dkim_env(garbage)), "MUSTER_DKIM_KEY", "not an unencrypted PEM private key"),
        (dict(dkim_env(small)), "MUSTER_DKIM_KEY", "at least 1024"),
        ({"MUSTER_DKIM_KEY": str(key), "MUSTER_DKIM_DOMAIN": DOMAIN},
         "MUSTER_DKIM_SELECTOR", "is not set"),
        (dict(dkim_env(key), MUSTER_DKIM_DOMAIN="example"), "MUSTER_DKIM_DOMAIN", "expected"),
        (dict(dkim_env(key), MUSTER_DKIM_SELECTOR="a b"), "MUSTER_DKIM_SELECTOR", "expected"),
    ]
    for env, setting, words in cases:
        for args in (("launch", m.slug), ("serve",), ("dkim-record",)):
            code, out, err = m.cli(*args, env=env, timeout=20)
            assert code != 0, (args, env, out, err)
            assert setting in err and words in err, (args, env, err)
