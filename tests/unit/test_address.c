/*
 * test_address: mail_address_valid as a table (message.h): the addresses
 * muster puts in an envelope and a header, and the ones it must refuse,
 * above all those that could add a header or an SMTP command.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "mail/message.h"

#include "core/banned.h"

static const char *const good[] = {
    "ada@example.com",
    "a@b.co",
    "first.last@example.org",
    "first.last+tag@sub.example.co.uk",
    "x_y-z@ex-ample.com",
    "o'brien@example.ie",
    "user!#$%&'*+/=?^_`{|}~-@example.com",
    "1234@123.example",
    "UPPER@EXAMPLE.ORG",
    "muster@localhost", /* muster's default sender */
    "a@xn--bcher-kva.example",
    NULL,
};

static const char *const bad[] = {
    "",
    "plain",
    "@example.com",
    "ada@",
    "ada@@example.com",
    "ada@b@example.com",
    "ada@example",       /* not dotted */
    "ada@example.",      /* empty last label */
    "ada@.example.com",  /* empty first label */
    "ada@exa..mple.com", /* empty label */
    "ada@-example.com",  /* label starts with '-' */
    "ada@example-.com",  /* label ends with '-' */
    "ada@exa_mple.com",  /* '_' not in host names */
    "ada@[127.0.0.1]",   /* no address literals */
    ".ada@example.com",  /* dot-atom */
    "ada.@example.com",
    "a..da@example.com",
    "ada lovelace@example.com", /* space */
    "ada@example.com ",
    " ada@example.com",
    "ada\t@example.com",
    "\"ada\"@example.com", /* quotes */
    "<ada@example.com>",   /* angle brackets */
    "Ada <ada@example.com>",
    "ada,bob@example.com", /* comma */
    "ada;bob@example.com", /* semicolon */
    "ada(comment)@example.com",
    "ada\\@example.com",
    "a@b.c\r\nBcc: x@y.z",    /* header injection */
    "a@b.c\nRCPT TO:<x@y.z>", /* SMTP command injection */
    "a@b.c\r",
    "ada@example.com\n",
    "adä@example.com", /* non-ASCII */
    "ada@exämple.com",
    "ada\x7f@example.com",
    "ada@ex\x01ample.com",
    NULL,
};

static void good_addresses_are_valid(void **state)
{
    for (size_t i = 0; good[i]; i++)
        if (!mail_address_valid(good[i]))
            fail_msg("refused a good address: %s", good[i]);
}

static void bad_addresses_are_refused(void **state)
{
    for (size_t i = 0; bad[i]; i++)
        if (mail_address_valid(bad[i]))
            fail_msg("accepted a bad address: %s", bad[i]);
    assert_false(mail_address_valid(NULL));
}

static void length_limits(void **state)
{
    char addr[300];
    /* local part: 64 octets at most */
    memset(addr, 'a', 64);
    memcpy(addr + 64, "@example.com", 13);
    assert_true(mail_address_valid(addr));
    memset(addr, 'a', 65);
    memcpy(addr + 65, "@example.com", 13);
    assert_false(mail_address_valid(addr));

    /* a label: 63 octets at most */
    memcpy(addr, "a@", 2);
    memset(addr + 2, 'b', 63);
    memcpy(addr + 65, ".com", 5);
    assert_true(mail_address_valid(addr));
    memset(addr + 2, 'b', 64);
    memcpy(addr + 66, ".com", 5);
    assert_false(mail_address_valid(addr));

    /* the whole address: 254 octets at most ("ab@" + 4 labels of 62 + 3 dots) */
    struct buf b = BUF_INIT;
    buf_puts(&b, "ab@");
    for (int i = 0; i < 4; i++) {
        for (int k = 0; k < 62; k++)
            buf_putc(&b, 'c');
        if (i < 3)
            buf_putc(&b, '.');
    }
    assert_int_equal(b.len, 254);
    assert_true(mail_address_valid(b.data));
    buf_reset(&b);
    buf_puts(&b, "abc@");
    for (int i = 0; i < 4; i++) {
        for (int k = 0; k < 62; k++)
            buf_putc(&b, 'c');
        if (i < 3)
            buf_putc(&b, '.');
    }
    assert_int_equal(b.len, 255);
    assert_false(mail_address_valid(b.data));
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_addresses_are_valid),
        cmocka_unit_test(bad_addresses_are_refused),
        cmocka_unit_test(length_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
