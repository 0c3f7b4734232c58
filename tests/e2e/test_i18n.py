"""A campaign's language: every public page carries lang and dir from it, text a
person typed carries dir="auto", the three mails are written in it (valid MIME,
Content-Language, an HTML part with lang and dir), the calendar file says it;
muster's own words come from the catalog of the language, and a language
without a catalog falls back to English."""
import email
import email.policy
import html
import re
import urllib.parse
from http.cookies import SimpleCookie

from conftest import make_campaign

ARABIC = {
    "language": "ar",
    "title": "يوم التوثيق المفتوح",
    "description": "نطلب معًا نسخة من الدليل تعمل دون اتصال.",
    "organizer": {"name": "مجموعة التوثيق", "email": "team@example.org"},
    "message": {
        "title": "نرجو نشر نسخة من الدليل تعمل دون اتصال",
        "body": "مرحبًا،\n\n{{#statement}}{{statement}}\n\n{{/statement}}شكرًا لكم.\n\n"
                "{{#name}}-- {{name}}\n{{/name}}",
    },
    "statement": {"enabled": True, "max_chars": 500, "prompt": "لماذا يهمّك هذا؟"},
}

HTML_AR = re.compile(r'<html lang="ar" dir="rtl">')


def html_tag(page):
    m = re.search(r"<html[^>]*>", page)
    assert m, page[:200]
    return m.group(0)


def form_pledge(m, fields):
    """Pledges through the HTML form (CSRF cookie and field from the page)."""
    page = m.get(f"/c/{m.slug}")
    cookie = SimpleCookie()
    for header in page.headers.get_all("Set-Cookie") or []:
        cookie.load(header)
    name, morsel = next(iter(cookie.items()))
    token = re.search(r'name="csrf" value="([^"]*)"', page.text).group(1)
    body = dict(fields, csrf=html.unescape(token))
    return m.post_form(f"/c/{m.slug}/pledge", body, cookie=f"{name}={morsel.value}")


def assert_valid_mime(mail, lang, direction):
    """The raw message parses without defects, says its language, and its HTML
    part carries lang and dir."""
    strict = email.message_from_bytes(mail.raw, policy=email.policy.strict)
    assert not strict.defects, strict.defects
    for part in strict.walk():
        assert not part.defects, (part.get_content_type(), part.defects)
    assert mail.msg["Content-Language"] == lang
    assert f'<html lang="{lang}" dir="{direction}">' in mail.html()
    assert mail.text().strip() and mail.html().strip()


def test_arabic_campaign_every_public_page_is_rtl_and_speaks_arabic(make_muster, smtp):
    m = make_muster(make_campaign(ARABIC))
    page = m.get(f"/c/{m.slug}")
    assert page.status == 200
    assert html_tag(page.text) == '<html lang="ar" dir="rtl">'
    text = page.text
    for word in ("تعهّد بالمشاركة", "أتعهّد", "البريد الإلكتروني", "التعهّدات حتى الآن:",
                 "يعمل بواسطة muster"):
        assert word in text, word
    assert "Pledge to take part" not in text
    # what the organizer and supporters type reads in its own direction
    assert re.search(r'<h1 dir="auto">', text)
    assert re.search(r'<input type="text" id="name"[^>]* dir="auto"', text)
    assert re.search(r'<textarea id="statement"[^>]* dir="auto"', text)
    assert '<p class="eyebrow" dir="auto">مجموعة التوثيق</p>' in text

    # the form's answer page
    done = form_pledge(m, {"email": "alice@example.org", "name": "Alice Smith",
                           "statement": "أعمل في القطار", "timezone": "Asia/Riyadh",
                           "consent": "yes"})
    assert done.status == 200, done
    assert html_tag(done.text) == '<html lang="ar" dir="rtl">'
    assert "تفقّد بريدك الوارد" in done.text
    assert "<b><bdi>alice@example.org</bdi></b>" in done.text

    # the confirmation mail, in Arabic
    confirm = smtp.wait_one("alice@example.org", "confirm")
    assert_valid_mime(confirm, "ar", "rtl")
    assert confirm.msg["Subject"].startswith("أكّد تعهّدك: ")
    assert "يوم التوثيق المفتوح" in confirm.msg["Subject"]
    assert "مرحبًا Alice Smith،" in confirm.text()
    assert "<bdi>Alice Smith</bdi>" in confirm.html()
    assert "الاسم: \u2068Alice Smith\u2069" in confirm.text()
    # the date is in Arabic too (weekday and month names of the table)
    assert re.search(r"(الأحد|الاثنين|الثلاثاء|الأربعاء|الخميس|الجمعة|السبت)، \d+ ", confirm.text())

    # the confirm page and the thank-you page
    path = urllib.parse.urlsplit(confirm.link("/confirm/")).path
    page = m.get(path)
    assert html_tag(page.text) == '<html lang="ar" dir="rtl">'
    assert "أكّد تعهّدك" in page.text and "أؤكّد تعهّدي" in page.text
    assert '<dd dir="auto">Alice Smith</dd>' in page.text
    thanks = m.post(path)
    assert thanks.status == 200
    assert html_tag(thanks.text) == '<html lang="ar" dir="rtl">'
    assert "أنت معنا. شكرًا لك!" in thanks.text

    # the welcome mail and its calendar file
    welcome = smtp.wait_one("alice@example.org", "welcome")
    assert_valid_mime(welcome, "ar", "rtl")
    assert welcome.msg["Subject"].startswith("أنت معنا: ")
    assert "أضِف إلى تقويمي" in welcome.html()
    (_, ics), = welcome.calendars()
    unfolded = ics.decode().replace("\r\n ", "")
    assert "SUMMARY;LANGUAGE=ar:يوم التوثيق المفتوح" in unfolded
    assert "DESCRIPTION;LANGUAGE=ar:" in unfolded

    # the calendar link's 404 under the campaign speaks Arabic, the same for every wrong token
    wrong = m.get(f"/c/{m.slug}/calendar/{'A' * 32}.ics")
    assert wrong.status == 404
    assert html_tag(wrong.text) == '<html lang="ar" dir="rtl">'
    assert "غير موجود" in wrong.text
    assert m.get(f"/c/{m.slug}/calendar/nonsense.ics").text == wrong.text

    # the reminder and the action page
    m.launch()
    reminder = smtp.wait_one("alice@example.org", "reminder")
    assert_valid_mime(reminder, "ar", "rtl")
    assert reminder.msg["Subject"].startswith("حان الوقت: ")
    assert "تحرّك الآن" in reminder.html()
    action = urllib.parse.urlsplit(reminder.link("/a/")).path
    page = m.get(action + "?review=1")
    assert page.status == 200
    assert html_tag(page.text) == '<html lang="ar" dir="rtl">'
    assert "<h1>تحرّكك</h1>" in page.text
    assert re.search(r'<textarea readonly dir="auto"[^>]*id="message-title"', page.text)
    assert re.search(r'<textarea readonly dir="auto"[^>]*id="message-body"', page.text)
    assert "-- Alice Smith" in page.text
    assert 'data-copied="تم النسخ"' in page.text
    # a refused form on the action page answers in the campaign's language too
    page = m.post_form(action + "/instance", {"instance": "mastodon.social"})
    assert page.status == 403, page
    assert html_tag(page.text) == '<html lang="ar" dir="rtl">'
    assert "انتهت صلاحية النموذج" in page.text, page.text

    # unsubscribe, before and after
    unsubscribe = urllib.parse.urlsplit(reminder.link("/u/")).path
    page = m.get(unsubscribe)
    assert html_tag(page.text) == '<html lang="ar" dir="rtl">'
    assert "إلغاء الاشتراك" in page.text
    page = m.post(unsubscribe)
    assert page.status == 200
    assert html_tag(page.text) == '<html lang="ar" dir="rtl">'
    assert "ألغيتَ اشتراكك" in page.text


def test_spanish_campaign_shows_spanish_words_and_dates(make_muster, smtp):
    m = make_muster(make_campaign({"language": "es-MX"}))
    page = m.get(f"/c/{m.slug}")
    assert html_tag(page.text) == '<html lang="es-MX" dir="ltr">'
    for word in ("Comprométete a participar", "Comprometerme", "Compromisos hasta ahora:",
                 "Tu zona horaria", "Actuamos juntos el"):
        assert word in page.text, word
    # the default prompt would be translated; this campaign names its own
    assert "Why would offline documentation help you?" in page.text
    m.pledge("bea@example.org", name="Bea", timezone="Europe/Madrid")
    confirm = smtp.wait_one("bea@example.org", "confirm")
    assert_valid_mime(confirm, "es-MX", "ltr")
    assert confirm.msg["Subject"] == "Confirma tu compromiso: Ask for offline documentation"
    assert "Hola, Bea:" in confirm.text()
    assert re.search(r"(domingo|lunes|martes|miércoles|jueves|viernes|sábado), \d+ de "
                     r"(enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|"
                     r"noviembre|diciembre) de \d{4}, \d\d:\d\d", confirm.text())
    # the JSON answer's errors are in the campaign's language too
    r = m.post_json(f"/c/{m.slug}/pledge", {"email": "nope", "consent": True})
    assert r.status == 422
    assert r.json()["errors"]["email"] == \
        "Escribe una dirección de correo válida, como nombre@example.org."


def test_a_language_without_a_catalog_falls_back_to_english(make_muster, smtp):
    m = make_muster(make_campaign({"language": "pt-BR"}))
    page = m.get(f"/c/{m.slug}")
    assert html_tag(page.text) == '<html lang="pt-BR" dir="ltr">'
    assert "Pledge to take part" in page.text
    assert '<button type="submit">Pledge</button>' in page.text
    m.pledge("caio@example.org", timezone="America/Sao_Paulo")
    confirm = smtp.wait_one("caio@example.org", "confirm")
    assert_valid_mime(confirm, "pt-BR", "ltr")
    assert confirm.msg["Subject"] == "Confirm your pledge: Ask for offline documentation"
    # no month names for this language: the date in numbers
    assert re.search(r"on \d{4}-\d\d-\d\d \d\d:\d\d -03\.", confirm.text())


def test_english_is_the_default_and_typed_text_keeps_its_own_direction(make_muster, smtp):
    m = make_muster()
    page = m.get(f"/c/{m.slug}")
    assert html_tag(page.text) == '<html lang="en" dir="ltr">'
    m.pledge("dana@example.org", name="دانة", statement="التوثيق دون اتصال يهمّني")
    confirm = smtp.wait_one("dana@example.org", "confirm")
    assert_valid_mime(confirm, "en", "ltr")
    page = m.get(urllib.parse.urlsplit(confirm.link("/confirm/")).path)
    assert '<dd dir="auto">التوثيق دون اتصال يهمّني</dd>' in page.text
    assert '<dd dir="auto">دانة</dd>' in page.text


def test_the_language_must_be_a_tag(make_muster):
    m = make_muster(start=False, apply=False)
    code, out, err = m.apply(make_campaign({"language": "Arabic"}))
    assert code != 0
    assert '$.language: "Arabic" is not a language tag' in out + err
