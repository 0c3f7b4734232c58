import pytest
NAMES = ['Ada, Bob <bob@evil.example>', '"Quoted" \\ back', '=?UTF-8?B?RXZl?=', 'a@b.example', 'Zoë "the" <x>', '  spaced  out ', 'x' * 100, 'é' * 100, '(comment) Ada', 'Ada;Bob:', '\u2028line\u0085sep']
@pytest.mark.parametrize("name", NAMES)
def test_probe(muster, smtp, name):
    r = muster.pledge("ada@example.org", name=name)
    assert r.status == 202, r
    mail = smtp.wait_one("ada@example.org", "confirm")
    hdr = mail.raw.split(b"\r\n\r\n",1)[0]
    print(hdr.decode())
    a = mail.msg["To"].addresses
    assert len(a) == 1 and a[0].addr_spec == "ada@example.org", a
    assert a[0].display_name == name, (a[0].display_name, name)
