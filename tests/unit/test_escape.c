/*
 * test_escape: the encoders and the decoder of src/core/escape.c, as tables
 * of input and expected output: HTML text, URL components, CSV cells
 * (including the spreadsheet formula prefixes), percent-decoding of good and
 * malformed input, and the UTF-8 checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/escape.h"
#include "core/banned.h"

struct pair {
    const char *in;
    const char *out;
};

static void test_html_escapes_the_five(void **state)
{
    static const struct pair cases[] = {
        {"", ""},
        {"plain text", "plain text"},
        {"&<>\"'", "&amp;&lt;&gt;&quot;&#39;"},
        {"<script>alert('x')</script>", "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"},
        {"a & b", "a &amp; b"},
        {"&amp;", "&amp;amp;"},
        {"\" onmouseover=\"x", "&quot; onmouseover=&quot;x"},
        {"\xe2\x80\xae\xd7\xa9 \xf0\x9f\x98\x80", "\xe2\x80\xae\xd7\xa9 \xf0\x9f\x98\x80"},
    };
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf_reset(&b);
        assert_int_equal(escape_html(&b, cases[i].in), 0);
        assert_string_equal(buf_cstr(&b), cases[i].out);
    }
    buf_reset(&b);
    assert_int_equal(escape_html(&b, NULL), 0);
    assert_string_equal(buf_cstr(&b), "");
    buf_reset(&b);
    assert_int_equal(escape_html_n(&b, "<a>&<b>", 4), 0); /* only the first 4 bytes */
    assert_string_equal(buf_cstr(&b), "&lt;a&gt;&amp;");
    buf_release(&b);
}

static void test_url_escapes_all_but_unreserved(void **state)
{
    static const struct pair cases[] = {
        {"", ""},
        {"AZaz09-._~", "AZaz09-._~"},
        {"a b", "a%20b"},
        {"a+b", "a%2Bb"},
        {"&=?#/%:@,;", "%26%3D%3F%23%2F%25%3A%40%2C%3B"},
        {"\r\n", "%0D%0A"},
        {"\xc3\xa9", "%C3%A9"},
        {"\xf0\x9f\x98\x80", "%F0%9F%98%80"},
        {"{{name}}", "%7B%7Bname%7D%7D"},
        {"\"'<>", "%22%27%3C%3E"},
    };
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf_reset(&b);
        assert_int_equal(escape_url(&b, cases[i].in), 0);
        assert_string_equal(buf_cstr(&b), cases[i].out);
    }
    buf_reset(&b);
    assert_int_equal(escape_url(&b, NULL), 0);
    assert_string_equal(buf_cstr(&b), "");
    buf_release(&b);
}

static void test_url_every_byte(void **state)
{
    struct buf b = BUF_INIT;
    for (int c = 0; c < 256; c++) {
        char in = (char)c;
        buf_reset(&b);
        assert_int_equal(escape_url_n(&b, &in, 1), 0);
        int unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved) {
            assert_int_equal(b.len, 1);
            assert_int_equal((unsigned char)b.data[0], c);
        } else {
            char want[4];
            snprintf(want, sizeof want, "%%%02X", c);
            assert_string_equal(buf_cstr(&b), want);
        }
    }
    buf_release(&b);
}

/* Near its cap a buffer takes the byte-exact path: the same output, and an
 * encoding that fits exactly is accepted while one byte less is refused. */
static void test_url_near_the_cap_gives_the_same_bytes(void **state)
{
    /* Every byte, then 300 letters: the output (1,122 bytes) is far below 3
     * bytes per input byte (1,668), so a cap near it forces the exact path. */
    unsigned char all[256 + 300];
    for (int c = 0; c < 256; c++)
        all[c] = (unsigned char)c;
    memset(all + 256, 'a', 300);
    struct buf roomy = BUF_INIT;
    assert_int_equal(escape_url_n(&roomy, (const char *)all, sizeof all), 0);
    size_t want = 66 + 190 * 3 + 300; /* 66 of the 256 bytes are unreserved */
    assert_int_equal(roomy.len, want);
    for (size_t limit = want - 4; limit <= want + 4; limit++) {
        struct buf tight;
        buf_init(&tight, limit);
        int rc = escape_url_n(&tight, (const char *)all, sizeof all);
        if (limit < want) {
            assert_int_not_equal(rc, 0);
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(tight.len, want);
            assert_memory_equal(tight.data, roomy.data, want);
            assert_int_equal(tight.data[want], '\0');
        }
        buf_release(&tight);
    }
    buf_release(&roomy);
}

static void test_url_appends_after_what_the_buffer_holds(void **state)
{
    struct buf b = BUF_INIT;
    buf_puts(&b, "?title=");
    assert_int_equal(escape_url(&b, "a b"), 0);
    assert_int_equal(escape_url(&b, ""), 0);
    assert_int_equal(escape_url(&b, "&c"), 0);
    assert_string_equal(buf_cstr(&b), "?title=a%20b%26c");
    assert_int_equal(b.len, strlen("?title=a%20b%26c"));
    buf_release(&b);
}

static void test_csv_quotes_and_defuses_formulas(void **state)
{
    static const struct pair cases[] = {
        {"", ""},
        {"plain", "plain"},
        {"a,b", "\"a,b\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"two\nlines", "\"two\nlines\""},
        {"cr\rhere", "\"cr\rhere\""},
        {"=1+2", "\"'=1+2\""},
        {"=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\""},
        {"+1", "\"'+1\""},
        {"-1", "\"'-1\""},
        {"@SUM(A1)", "\"'@SUM(A1)\""},
        {"\tTAB", "\"'\tTAB\""},
        {"\rCR", "\"'\rCR\""},
        {"a=1", "a=1"}, /* only the start of the cell matters */
        {" =1", "\"' =1\""},
        {"  \t@SUM(A1)", "\"'  \t@SUM(A1)\""},
        {"\n=1", "\"'\n=1\""},
        {"\xef\xbc\x9dSUM(A1)", "\"'\xef\xbc\x9dSUM(A1)\""}, /* fullwidth = */
        {" \xef\xbc\x8b"
         "1",
         "\"' \xef\xbc\x8b"
         "1\""},                                 /* fullwidth + */
        {"\xef\xbc\xa0x", "\"'\xef\xbc\xa0x\""}, /* fullwidth @ */
        {" plain", " plain"},
        {"\xef\xbc\x81", "\xef\xbc\x81"}, /* fullwidth ! is no formula sign */
        {"\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d", "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d"},
    };
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf_reset(&b);
        assert_int_equal(escape_csv(&b, cases[i].in), 0);
        assert_string_equal(buf_cstr(&b), cases[i].out);
    }
    buf_reset(&b);
    assert_int_equal(escape_csv(&b, NULL), 0);
    assert_string_equal(buf_cstr(&b), "");
    buf_release(&b);
}

static void test_unescape_good(void **state)
{
    static const struct {
        const char *in;
        int plus_is_space;
        const char *out;
    } cases[] = {
        {"", 0, ""},
        {"plain", 0, "plain"},
        {"a%20b", 0, "a b"},
        {"a+b", 0, "a+b"},
        {"a+b", 1, "a b"},
        {"%2B", 1, "+"},
        {"%2b%2B", 0, "++"},
        {"%C3%A9", 0, "\xc3\xa9"},
        {"%c3%a9", 0, "\xc3\xa9"},
        {"%F0%9F%98%80", 0, "\xf0\x9f\x98\x80"},
        {"%0D%0A", 0, "\r\n"},
        {"%25zz", 0, "%zz"},
        {"%E2%80%AE", 0, "\xe2\x80\xae"},
        {"\xd7\xa9", 0, "\xd7\xa9"}, /* raw UTF-8 passes */
        {"end%41", 0, "endA"},
    };
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf_reset(&b);
        assert_int_equal(unescape_url(&b, cases[i].in, strlen(cases[i].in), cases[i].plus_is_space),
                         0);
        assert_string_equal(buf_cstr(&b), cases[i].out);
    }
    buf_release(&b);
}

static void test_unescape_bad_leaves_output_unchanged(void **state)
{
    static const char *const bad[] = {
        "%zz",          /* not hex */
        "%4",           /* truncated */
        "%",            /* truncated */
        "abc%",         /* truncated at the end */
        "a%g1",         /* one bad digit */
        "%00",          /* NUL */
        "a%00b",        /* NUL inside */
        "%C3%28",       /* invalid continuation */
        "%C3",          /* truncated sequence */
        "%C0%80",       /* overlong NUL */
        "%C1%BF",       /* overlong */
        "%E0%80%AF",    /* overlong '/' */
        "%ED%A0%80",    /* surrogate */
        "%F4%90%80%80", /* past U+10FFFF */
        "%F5%80%80%80", /* invalid lead byte */
        "%FF",          /* invalid byte */
        "%80",          /* lone continuation */
        "\xff",         /* raw invalid byte */
    };
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (int plus = 0; plus <= 1; plus++) {
            buf_reset(&b);
            buf_puts(&b, "keep");
            if (unescape_url(&b, bad[i], strlen(bad[i]), plus) != -1)
                fail_msg("accepted \"%s\"", bad[i]);
            assert_string_equal(buf_cstr(&b), "keep");
            assert_int_equal(b.len, 4);
        }
    }
    buf_release(&b);
}

static void test_unescape_appends(void **state)
{
    struct buf b = BUF_INIT;
    buf_puts(&b, "x=");
    assert_int_equal(unescape_url(&b, "a%26b", 5, 0), 0);
    assert_string_equal(buf_cstr(&b), "x=a&b");
    /* the length is honoured: no reading past it */
    assert_int_equal(unescape_url(&b, "%41%42", 3, 0), 0);
    assert_string_equal(buf_cstr(&b), "x=a&bA");
    assert_int_equal(unescape_url(&b, "%41%42", 4, 0), -1);
    assert_string_equal(buf_cstr(&b), "x=a&bA");
    buf_release(&b);
}

static void test_unescape_respects_buffer_cap(void **state)
{
    struct buf b;
    buf_init(&b, 4);
    assert_int_equal(unescape_url(&b, "abcd", 4, 0), 0);
    assert_int_equal(unescape_url(&b, "e", 1, 0), -1);
    assert_true(buf_failed(&b));
    buf_release(&b);
}

static void test_utf8_valid(void **state)
{
    static const struct {
        const char *s;
        int valid;
    } cases[] = {
        {"", 1},
        {"ascii", 1},
        {"\xc3\xa9", 1},
        {"\xe2\x82\xac", 1},
        {"\xf0\x9f\x98\x80", 1},
        {"\xf4\x8f\xbf\xbf", 1}, /* U+10FFFF */
        {"\xef\xbf\xbf", 1},     /* U+FFFF */
        {"\xed\x9f\xbf", 1},     /* U+D7FF */
        {"\xc3", 0},
        {"\xc3\x28", 0},
        {"\xc0\x80", 0},
        {"\xc1\xbf", 0},
        {"\xe0\x9f\xbf", 0}, /* overlong */
        {"\xed\xa0\x80", 0}, /* U+D800 */
        {"\xed\xbf\xbf", 0}, /* U+DFFF */
        {"\xf0\x8f\xbf\xbf", 0},
        {"\xf4\x90\x80\x80", 0},
        {"\xf5\x80\x80\x80", 0},
        {"\x80", 0},
        {"\xfe", 0},
        {"\xe2\x82", 0},
        {"ok\xf0\x9f\x98", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (utf8_valid(cases[i].s, strlen(cases[i].s)) != cases[i].valid)
            fail_msg("case %zu", i);
    assert_int_equal(utf8_valid("a\0b", 3), 1); /* NUL is a code point; callers refuse it */
}

/* ASCII is skipped 8 bytes at a time: a bad byte or a good sequence at every
 * place of a longer string, across word boundaries and in the tail. */
static void test_utf8_valid_at_every_place_of_a_long_string(void **state)
{
    static const struct {
        const char *seq;
        int valid;
    } seqs[] = {
        {"\xc3\xa9", 1}, {"\xf0\x9f\x98\x80", 1}, {"\x80", 0},
        {"\xc3\x28", 0}, {"\xed\xa0\x80", 0},     {"\xff", 0},
    };
    char s[64];
    for (size_t k = 0; k < sizeof seqs / sizeof seqs[0]; k++) {
        size_t n = strlen(seqs[k].seq);
        for (size_t len = n; len <= 40; len++)
            for (size_t at = 0; at + n <= len; at++) {
                memset(s, 'a', len);
                memcpy(s + at, seqs[k].seq, n);
                if (utf8_valid(s, len) != seqs[k].valid)
                    fail_msg("sequence %zu at %zu of %zu", k, at, len);
            }
    }
    /* a multibyte sequence cut by the end of the string, after whole words */
    memset(s, 'a', 16);
    memcpy(s + 16, "\xe2\x82\xac", 3);
    assert_int_equal(utf8_valid(s, 19), 1);
    assert_int_equal(utf8_valid(s, 18), 0);
}

/* Every byte value in one long input must escape as it does one byte at a
 * time, both when the buffer grows by the worst case (three bytes per byte)
 * and near its cap, where it grows by the measured length. */
static void test_url_long_input_matches_byte_by_byte(void **state)
{
    unsigned char in[512];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (unsigned char)(i * 7 + i / 256);
    struct buf want = BUF_INIT, got = BUF_INIT, tight;
    for (size_t i = 0; i < sizeof in; i++)
        assert_int_equal(escape_url_n(&want, (const char *)&in[i], 1), 0);
    assert_int_equal(escape_url_n(&got, (const char *)in, sizeof in), 0);
    assert_int_equal(got.len, want.len);
    assert_memory_equal(got.data, want.data, want.len);
    buf_init(&tight, want.len + 1); /* room for the result, not for 3 bytes each */
    assert_int_equal(escape_url_n(&tight, (const char *)in, sizeof in), 0);
    assert_int_equal(tight.len, want.len);
    assert_memory_equal(tight.data, want.data, want.len);
    buf_release(&want);
    buf_release(&got);
    buf_release(&tight);
}

static void test_utf8_length_counts_code_points(void **state)
{
    assert_int_equal(utf8_length(""), 0);
    assert_int_equal(utf8_length("abc"), 3);
    assert_int_equal(utf8_length("\xc3\xa9t\xc3\xa9"), 3);
    assert_int_equal(utf8_length("\xf0\x9f\x98\x80"), 1);
    assert_int_equal(utf8_length("e\xcc\x81"), 2); /* combining mark: two code points */
    assert_int_equal(utf8_length(NULL), 0);
}

static void test_utf8_find_control_names_the_first_control_character(void **state)
{
    assert_int_equal(utf8_find_control("plain text, \xc3\xa9t\xc3\xa9", 0), -1);
    assert_int_equal(utf8_find_control("tab\tis fine", 0), -1);
    assert_int_equal(utf8_find_control("a\nb", 0), 1);
    assert_int_equal(utf8_find_control("a\r\nb", 1), -1);
    assert_int_equal(utf8_find_control("\xc3\xa9\x1b[2J", 1), 1); /* ESC after one é */
    assert_int_equal(utf8_find_control("x\x7f", 1), 1);           /* DEL */
    assert_int_equal(utf8_find_control("ab\xc2\x9b"
                                       "2J",
                                       1),
                     2);                                        /* C1 CSI, U+009B */
    assert_int_equal(utf8_find_control("\xc2\xa0nbsp", 1), -1); /* U+00A0 is text */
    assert_int_equal(utf8_find_control("\x07", 1), 0);          /* BEL */
}

static void test_escape_fails_on_full_buffer(void **state)
{
    struct buf b;
    buf_init(&b, 5);
    assert_int_equal(escape_url(&b, "a b"), 0); /* "a%20b" is exactly 5 */
    assert_int_equal(escape_url(&b, "c"), -1);
    buf_release(&b);
    buf_init(&b, 4);
    assert_int_equal(escape_html(&b, "&"), -1);
    buf_release(&b);
    buf_init(&b, 2);
    assert_int_equal(escape_csv(&b, "a,b"), -1);
    buf_release(&b);
}

/* Every kind of payload a stored title or name could carry to a terminal. */
static void test_terminal_neutralises_controls_c1_bidi_and_bad_bytes(void **state)
{
    static const struct pair cases[] = {
        {"", ""},
        {"Docs day \xc3\xa9\xe2\x82\xac \xf0\x9f\x98\x80 a\\b",
         "Docs day \xc3\xa9\xe2\x82\xac \xf0\x9f\x98\x80 a\\b"},
        /* CSI: clear the screen, move the cursor, set the title */
        {"x\x1b[2Jy", "x\\x1B[2Jy"},
        {"\x1b[H\x1b]0;pwned\x07", "\\x1B[H\\x1B]0;pwned\\x07"},
        /* OSC 8 hyperlink with ST and with BEL terminators */
        {"\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\",
         "\\x1B]8;;https://evil.example/\\x1B\\click\\x1B]8;;\\x1B\\"},
        {"\x1b]8;;http://e/\x07x\x1b]8;;\x07", "\\x1B]8;;http://e/\\x07x\\x1B]8;;\\x07"},
        /* the other C0 controls, TAB, LF, CR, DEL */
        {"a\tb\nc\rd", "a\\tb\\nc\\rd"},
        {"\x01\x08\x0b\x0c\x1f\x7f", "\\x01\\x08\\x0B\\x0C\\x1F\\x7F"},
        /* C1 controls as UTF-8 (U+009B CSI, U+009D OSC, U+0085 NEL, U+0080) */
        {"\xc2\x9b"
         "2J",
         "\\u009B2J"},
        {"\xc2\x9d"
         "8;;x\xc2\x9c",
         "\\u009D8;;x\\u009C"},
        {"\xc2\x80\xc2\x85\xc2\x9f\xc2\xa0", "\\u0080\\u0085\\u009F\xc2\xa0"},
        /* raw C1 bytes and other invalid UTF-8 */
        {"\x9b"
         "2J",
         "\\x9B2J"},
        {"\x9d\x90\x80", "\\x9D\\x90\\x80"},
        {"a\xc3", "a\\xC3"},
        {"\xe2\x80", "\\xE2\\x80"},
        {"\xc0\xaf", "\\xC0\\xAF"},
        {"\xed\xa0\x80", "\\xED\\xA0\\x80"},
        {"\xff\xfe", "\\xFF\\xFE"},
        /* bidi embeddings, overrides and isolates */
        {"evil\xe2\x80\xae"
         "txt.exe",
         "evil\\u202Etxt.exe"},
        {"\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad", "\\u202A\\u202B\\u202C\\u202D"},
        {"\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9", "\\u2066\\u2067\\u2068\\u2069"},
        /* neighbours that stay: U+2029, U+202F, U+2065, U+206A */
        {"\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa",
         "\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa"},
    };
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf_reset(&b);
        assert_int_equal(escape_terminal(&b, cases[i].in), 0);
        assert_string_equal(buf_cstr(&b), cases[i].out);
        /* nothing a terminal runs is left */
        for (size_t k = 0; k < b.len; k++) {
            unsigned char ch = (unsigned char)b.data[k];
            assert_true(ch >= 0x20 && ch != 0x7f);
            if (ch == 0xc2 && k + 1 < b.len)
                assert_false((unsigned char)b.data[k + 1] >= 0x80 &&
                             (unsigned char)b.data[k + 1] <= 0x9f);
        }
        assert_true(utf8_valid(b.data ? b.data : "", b.len));
    }
    buf_reset(&b);
    assert_int_equal(escape_terminal(&b, NULL), 0);
    assert_string_equal(buf_cstr(&b), "");
    buf_reset(&b);
    assert_int_equal(escape_terminal_n(&b, "a\0\x1b", 3), 0);
    assert_string_equal(buf_cstr(&b), "a\\x00\\x1B");
    buf_release(&b);
}

static void test_terminal_lines_keeps_line_breaks_and_tabs_only(void **state)
{
    static const struct pair cases[] = {
        {"a,b\r\nc,\"d\ne\"\r\n", "a,b\r\nc,\"d\ne\"\r\n"},
        {"a\tb\n", "a\tb\n"},
        {"over\rwrite\r\n", "over\\rwrite\r\n"},
        {"end\r", "end\\r"},
        {"\x1b[2J\r\n\xc2\x9b\xe2\x80\xae\x9b", "\\x1B[2J\r\n\\u009B\\u202E\\x9B"},
    };
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf_reset(&b);
        assert_int_equal(escape_terminal_lines(&b, cases[i].in, strlen(cases[i].in)), 0);
        assert_string_equal(buf_cstr(&b), cases[i].out);
    }
    buf_release(&b);
}

static void test_redact_addresses_replaces_every_address(void **state)
{
    static const struct pair cases[] = {
        {"", ""},
        {"250 2.1.5 Ok", "250 2.1.5 Ok"},
        {"250 2.1.5 <victim@example.org> ok", "250 2.1.5 <[address]> ok"},
        {"550 5.1.1 Victim.Name+tag@Example.ORG: unknown, see a@b",
         "550 5.1.1 [address]: unknown, see [address]"},
        /* '=' may be part of an address: more goes than the address, never less */
        {"to=<x@y.z>,from=q@r", "to=<[address]>,[address]"},
        {"\"quoted\"@example.org", "\"quoted\"[address]"},
        {"@", "[address]"},
        {"\xc3\xa9l\xc3\xa8ve@\xc3\xa9"
         "cole.fr done",
         "[address] done"},
    };
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf_reset(&b);
        assert_int_equal(redact_addresses(&b, cases[i].in), 0);
        assert_string_equal(buf_cstr(&b), cases[i].out);
    }
    buf_reset(&b);
    assert_int_equal(redact_addresses(&b, NULL), 0);
    assert_string_equal(buf_cstr(&b), "");
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html_escapes_the_five),
        cmocka_unit_test(test_url_escapes_all_but_unreserved),
        cmocka_unit_test(test_url_every_byte),
        cmocka_unit_test(test_url_near_the_cap_gives_the_same_bytes),
        cmocka_unit_test(test_url_appends_after_what_the_buffer_holds),
        cmocka_unit_test(test_csv_quotes_and_defuses_formulas),
        cmocka_unit_test(test_unescape_good),
        cmocka_unit_test(test_unescape_bad_leaves_output_unchanged),
        cmocka_unit_test(test_unescape_appends),
        cmocka_unit_test(test_unescape_respects_buffer_cap),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_utf8_valid_at_every_place_of_a_long_string),
        cmocka_unit_test(test_url_long_input_matches_byte_by_byte),
        cmocka_unit_test(test_utf8_length_counts_code_points),
        cmocka_unit_test(test_utf8_find_control_names_the_first_control_character),
        cmocka_unit_test(test_escape_fails_on_full_buffer),
        cmocka_unit_test(test_terminal_neutralises_controls_c1_bidi_and_bad_bytes),
        cmocka_unit_test(test_terminal_lines_keeps_line_breaks_and_tabs_only),
        cmocka_unit_test(test_redact_addresses_replaces_every_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
