/*
 * fuzz_i18n: language tags and the catalog lookup on arbitrary bytes. A tag
 * is valid exactly when it has a canonical form; the canonical form is
 * valid, at most I18N_TAG_MAX bytes, its own canonical form, and has the
 * same direction; the lookup never returns NULL or an empty string for a
 * non-empty msgid, and returns the msgid itself when it is not in a catalog;
 * a moment is written in any tag, as valid UTF-8 within the buffer, or
 * refused. Any violation abort()s.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/escape.h"
#include "core/i18n.h"
#include "core/banned.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[64];
    size_t n = 0;
    for (size_t i = 0; i < size && n < sizeof s - 1; i++)
        if (data[i])
            s[n++] = (char)data[i];
    s[n] = '\0';

    char canonical[I18N_TAG_MAX + 1], again[I18N_TAG_MAX + 1];
    int valid = i18n_tag_valid(s);
    CHECK(valid == (i18n_tag_canonical(s, canonical) == 0));
    if (valid) {
        CHECK(strlen(canonical) <= I18N_TAG_MAX);
        CHECK(i18n_tag_valid(canonical));
        CHECK(i18n_tag_canonical(canonical, again) == 0 && strcmp(again, canonical) == 0);
        CHECK(i18n_is_rtl(s) == i18n_is_rtl(canonical));
    }
    const char *dir = i18n_dir(s);
    CHECK(strcmp(dir, "rtl") == 0 || strcmp(dir, "ltr") == 0);

    /* the input as a tag, then as a msgid */
    const char *pledge = i18n(s, "Pledge");
    CHECK(pledge && pledge[0]);
    CHECK(valid || strcmp(pledge, "Pledge") == 0);
    if (n) {
        const char *text = i18n("ar", s);
        CHECK(text && text[0]);
        CHECK(text == s || utf8_valid(text, strlen(text)));
    }

    int64_t t = 0;
    memcpy(&t, data, size < sizeof t ? size : sizeof t);
    t = (int64_t)((uint64_t)t % 253402300799ull); /* up to 9999-12-31 */
    char out[160];
    size_t cap = 1 + (size % sizeof out);
    if (i18n_format_moment(t, "Europe/Berlin", s, out, cap) == 0) {
        CHECK(strlen(out) < cap);
        CHECK(utf8_valid(out, strlen(out)));
    }
    return 0;
}
