/*
 * test_template: the message templates of a campaign (src/campaign/template.c):
 * each placeholder, sections, escaping of values only, no re-expansion of a
 * supporter's text, and parse errors with their line and column.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "campaign/template.h"
#include "core/escape.h"

static const struct template_vars vars_full = {
    .name = "Ada",
    .statement = "I work offline.",
    .campaign_title = "Offline docs",
    .target_id = "core",
};

/* Renders src with vars and escaper; the test fails when it does not parse. */
static char *render(const char *src, const struct template_vars *vars, template_escape_fn esc)
{
    struct template_error err;
    struct template *t = template_parse(src, &err);
    if (!t)
        fail_msg("parse of \"%s\" failed: %d:%d: %s", src, err.line, err.column, err.message);
    struct buf out = BUF_INIT;
    assert_int_equal(template_render(t, vars, esc, &out), 0);
    template_free(t);
    return buf_detach(&out);
}

static void assert_renders(const char *src, const struct template_vars *vars, const char *want)
{
    char *got = render(src, vars, NULL);
    assert_string_equal(got, want);
    free(got);
}

/* Parses src expecting an error at line:column whose message is want. */
static void assert_parse_error(const char *src, int line, int column, const char *want)
{
    struct template_error err;
    struct template *t = template_parse(src, &err);
    assert_null(t);
    assert_string_equal(err.message, want);
    assert_int_equal(err.line, line);
    assert_int_equal(err.column, column);
}

static void name_placeholder_is_replaced(void **state)
{
    assert_renders("Hello {{name}}!", &vars_full, "Hello Ada!");
}

static void statement_placeholder_is_replaced(void **state)
{
    assert_renders("[{{statement}}]", &vars_full, "[I work offline.]");
}

static void campaign_title_placeholder_is_replaced(void **state)
{
    assert_renders("Re: {{campaign.title}}", &vars_full, "Re: Offline docs");
}

static void target_id_placeholder_is_replaced(void **state)
{
    assert_renders("to {{target.id}}", &vars_full, "to core");
}

static void every_placeholder_in_one_template(void **state)
{
    assert_renders("{{campaign.title}}/{{target.id}}: {{statement}} -- {{name}}", &vars_full,
                   "Offline docs/core: I work offline. -- Ada");
}

static void whitespace_inside_braces_is_allowed(void **state)
{
    assert_renders("{{ name }}|{{\tstatement\t}}|{{ #name }}x{{ / name }}", &vars_full,
                   "Ada|I work offline.|x");
}

static void missing_values_render_as_empty(void **state)
{
    struct template_vars none = {0};
    assert_renders("a{{name}}b{{statement}}c{{campaign.title}}d{{target.id}}e", &none, "abcde");
    assert_renders("a{{name}}b", NULL, "ab");
}

static void statement_section_is_shown_when_a_statement_was_written(void **state)
{
    assert_renders("Hi.{{#statement}}\n\n{{statement}}\n{{/statement}}-- {{name}}", &vars_full,
                   "Hi.\n\nI work offline.\n-- Ada");
}

static void statement_section_is_hidden_when_the_statement_is_empty(void **state)
{
    struct template_vars v = vars_full;
    v.statement = "";
    assert_renders("Hi.{{#statement}}\n\n{{statement}}\n{{/statement}}-- {{name}}", &v,
                   "Hi.-- Ada");
    v.statement = NULL;
    assert_renders("Hi.{{#statement}}\n\n{{statement}}\n{{/statement}}-- {{name}}", &v,
                   "Hi.-- Ada");
}

static void name_section_follows_the_name(void **state)
{
    struct template_vars v = vars_full;
    assert_renders("Thanks{{#name}}, {{name}}{{/name}}.", &v, "Thanks, Ada.");
    v.name = "";
    assert_renders("Thanks{{#name}}, {{name}}{{/name}}.", &v, "Thanks.");
}

static void different_sections_may_nest(void **state)
{
    struct template_vars v = vars_full;
    const char *src = "{{#statement}}S{{#name}}N{{/name}}{{/statement}}.";
    assert_renders(src, &v, "SN.");
    v.name = NULL;
    assert_renders(src, &v, "S.");
    v.statement = NULL;
    v.name = "Ada";
    assert_renders(src, &v, ".");
}

static void section_may_be_used_twice_in_sequence(void **state)
{
    struct template_vars v = vars_full;
    v.statement = NULL;
    assert_renders("{{#statement}}a{{/statement}}b{{#statement}}c{{/statement}}", &v, "b");
}

static int escape_upper_marked(struct buf *out, const char *value)
{
    buf_putc(out, '<');
    for (const char *p = value; *p; p++)
        buf_putc(out, (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p));
    buf_putc(out, '>');
    return buf_failed(out) ? -1 : 0;
}

static void escaper_is_applied_to_values_only(void **state)
{
    char *got = render("<b>hi</b> {{name}} & {{target.id}}", &vars_full, escape_upper_marked);
    assert_string_equal(got, "<b>hi</b> <ADA> & <CORE>");
    free(got);
}

static void html_escaper_escapes_a_hostile_value(void **state)
{
    struct template_vars v = {.name = "<script>alert(1)</script>"};
    char *got = render("<p>{{name}}</p>", &v, escape_html);
    assert_string_equal(got, "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>");
    free(got);
}

static void url_escaper_encodes_values(void **state)
{
    struct template_vars v = {.name = "A B&C"};
    char *got = render("https://example.org/?who={{name}}", &v, escape_url);
    assert_string_equal(got, "https://example.org/?who=A%20B%26C");
    free(got);
}

static void without_an_escaper_values_are_copied_raw(void **state)
{
    struct template_vars v = {.name = "<b>&"};
    assert_renders("{{name}}", &v, "<b>&");
}

static void a_value_is_never_expanded_again(void **state)
{
    struct template_vars v = vars_full;
    v.statement = "{{name}} {{#name}}x{{/name}} {{bogus";
    v.name = "{{statement}}";
    assert_renders("{{statement}}|{{name}}", &v,
                   "{{name}} {{#name}}x{{/name}} {{bogus|{{statement}}");
}

static void literal_text_is_copied_as_is(void **state)
{
    assert_renders("", &vars_full, "");
    assert_renders("plain", &vars_full, "plain");
    assert_renders("{ single } }} {name} é 日本 \t\r\n", &vars_full,
                   "{ single } }} {name} é 日本 \t\r\n");
    assert_renders("ends with {", &vars_full, "ends with {");
}

static void unknown_placeholder_names_the_known_ones(void **state)
{
    assert_parse_error("Hi {{nme}}", 1, 4,
                       "unknown placeholder {{nme}}; known: name, statement, campaign.title, "
                       "target.id");
}

static void error_line_and_column_on_a_later_line(void **state)
{
    assert_parse_error("Dear all,\n\nwe ask {{campaign.titel}}\n", 3, 8,
                       "unknown placeholder {{campaign.titel}}; known: name, statement, "
                       "campaign.title, target.id");
}

static void error_column_counts_characters_not_bytes(void **state)
{
    /* "Grüße, 日本 " is 10 characters and 16 bytes: the tag is at column 11. */
    assert_parse_error("Grüße, 日本 {{x}}", 1, 11,
                       "unknown placeholder {{x}}; known: name, statement, campaign.title, "
                       "target.id");
}

static void unclosed_tag_is_an_error(void **state)
{
    assert_parse_error("ok {{name}}\nthen {{name", 2, 6,
                       "unclosed {{ (every {{ needs a matching }})");
}

static void tag_opened_inside_a_tag_is_unclosed(void **state)
{
    assert_parse_error("{{ name {{name}}", 1, 1, "unclosed {{ (every {{ needs a matching }})");
}

static void unclosed_section_is_reported_at_its_opening(void **state)
{
    assert_parse_error("a\n  {{#statement}}\n{{statement}}", 2, 3,
                       "unclosed section {{#statement}}; close it with {{/statement}}");
}

static void mismatched_close_is_an_error(void **state)
{
    assert_parse_error("{{#statement}}{{#name}}x{{/statement}}{{/name}}", 1, 25,
                       "{{/statement}} does not close the open section {{#name}}");
}

static void close_without_open_is_an_error(void **state)
{
    assert_parse_error("x {{/statement}}", 1, 3, "{{/statement}} without an open {{#statement}}");
}

static void same_section_cannot_nest(void **state)
{
    assert_parse_error("{{#statement}}a{{#statement}}b{{/statement}}{{/statement}}", 1, 16,
                       "section {{#statement}} is already open (a section cannot nest inside "
                       "itself)");
}

static void unknown_section_is_an_error(void **state)
{
    assert_parse_error("{{#target.id}}x{{/target.id}}", 1, 1,
                       "unknown section {{#target.id}}; known: name, statement");
    assert_parse_error("{{/foo}}", 1, 1, "unknown section {{/foo}}; known: name, statement");
}

static void empty_placeholder_is_an_error(void **state)
{
    assert_parse_error("a {{  }}", 1, 3,
                       "empty placeholder {{}}; known: name, statement, campaign.title, "
                       "target.id");
}

static void triple_braces_are_not_a_placeholder(void **state)
{
    assert_parse_error("{{{name}}}", 1, 1,
                       "unknown placeholder {{{name}}; known: name, statement, campaign.title, "
                       "target.id");
}

static void error_message_quotes_a_long_tag_shortened(void **state)
{
    struct template_error err;
    char src[400];
    memset(src, 'a', sizeof src);
    memcpy(src, "{{", 2);
    memcpy(src + sizeof src - 3, "}}", 3);
    assert_null(template_parse(src, &err));
    assert_non_null(strstr(err.message, "aaa...}}"));
    assert_true(strlen(err.message) < sizeof err.message);
}

static void error_message_stays_printable(void **state)
{
    struct template_error err;
    assert_null(template_parse("{{na\x01me\xff}}", &err));
    assert_string_equal(err.message, "unknown placeholder {{na?me?}}; known: name, statement, "
                                     "campaign.title, target.id");
    assert_null(template_parse("{{ na\nme }}", &err));
    assert_string_equal(err.message, "unknown placeholder {{na?me}}; known: name, statement, "
                                     "campaign.title, target.id");
}

static void parse_without_an_error_struct_still_fails(void **state)
{
    assert_null(template_parse("{{nope}}", NULL));
    assert_null(template_parse(NULL, NULL));
}

static void render_fails_when_the_output_is_full(void **state)
{
    struct template *t = template_parse("{{name}} and more text", NULL);
    assert_non_null(t);
    struct buf out;
    buf_init(&out, 8);
    assert_int_equal(template_render(t, &vars_full, NULL, &out), -1);
    buf_release(&out);
    buf_init(&out, 8);
    assert_int_equal(template_render(t, &vars_full, escape_html, &out), -1);
    buf_release(&out);
    template_free(t);
}

static void render_text_parses_and_renders(void **state)
{
    struct buf out = BUF_INIT;
    assert_int_equal(template_render_text("{{#name}}Hi {{name}}{{/name}}", &vars_full, &out), 0);
    assert_string_equal(buf_cstr(&out), "Hi Ada");
    assert_int_equal(template_render_text("{{oops}}", &vars_full, &out), -1);
    buf_release(&out);
}

static void template_is_reusable_for_many_renders(void **state)
{
    struct template *t =
        template_parse("{{#statement}}[{{statement}}]{{/statement}}{{name}}", NULL);
    assert_non_null(t);
    for (int i = 0; i < 3; i++) {
        struct template_vars v = {.name = i ? "B" : "A", .statement = i == 1 ? "s" : NULL};
        struct buf out = BUF_INIT;
        assert_int_equal(template_render(t, &v, NULL, &out), 0);
        assert_string_equal(buf_cstr(&out), i == 0 ? "A" : i == 1 ? "[s]B" : "B");
        buf_release(&out);
    }
    template_free(t);
    template_free(NULL);
}

static void hostile_input_never_crashes(void **state)
{
    static const char *const pieces[] = {
        "{{",        "}}", "{",  "}",    "#",    "/", "name",
        "statement", " ",  "\n", "\xff", "\xc3", "é", "campaign.title",
        "x"};
    unsigned seed = 12345;
    char src[256];
    for (int round = 0; round < 20000; round++) {
        size_t len = 0;
        int n = (int)((seed >> 16) % 24);
        for (int k = 0; k < n; k++) {
            seed = seed * 1103515245u + 12345u;
            const char *p = pieces[(seed >> 16) % (sizeof pieces / sizeof pieces[0])];
            size_t pl = strlen(p);
            if (len + pl >= sizeof src)
                break;
            memcpy(src + len, p, pl);
            len += pl;
        }
        src[len] = '\0';
        seed = seed * 1103515245u + 12345u;
        struct template_error err;
        struct template *t = template_parse(src, &err);
        if (t) {
            struct buf out = BUF_INIT;
            assert_int_equal(template_render(t, &vars_full, escape_html, &out), 0);
            buf_release(&out);
            template_free(t);
        } else {
            assert_true(err.line >= 1);
            assert_true(err.column >= 1);
            assert_true(memchr(err.message, '\0', sizeof err.message) != NULL);
            for (const char *p = err.message; *p; p++)
                assert_true((unsigned char)*p >= 0x20);
        }
    }
}

static void many_braces_parse_quickly(void **state)
{
    size_t n = 1 << 20;
    char *src = malloc(n + 1);
    assert_non_null(src);
    memset(src, '{', n);
    src[n] = '\0';
    assert_null(template_parse(src, NULL));
    for (size_t i = 0; i + 8 <= n; i += 8)
        memcpy(src + i, "{{name}}", 8);
    struct template *t = template_parse(src, NULL);
    assert_non_null(t);
    template_free(t);
    free(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(name_placeholder_is_replaced),
        cmocka_unit_test(statement_placeholder_is_replaced),
        cmocka_unit_test(campaign_title_placeholder_is_replaced),
        cmocka_unit_test(target_id_placeholder_is_replaced),
        cmocka_unit_test(every_placeholder_in_one_template),
        cmocka_unit_test(whitespace_inside_braces_is_allowed),
        cmocka_unit_test(missing_values_render_as_empty),
        cmocka_unit_test(statement_section_is_shown_when_a_statement_was_written),
        cmocka_unit_test(statement_section_is_hidden_when_the_statement_is_empty),
        cmocka_unit_test(name_section_follows_the_name),
        cmocka_unit_test(different_sections_may_nest),
        cmocka_unit_test(section_may_be_used_twice_in_sequence),
        cmocka_unit_test(escaper_is_applied_to_values_only),
        cmocka_unit_test(html_escaper_escapes_a_hostile_value),
        cmocka_unit_test(url_escaper_encodes_values),
        cmocka_unit_test(without_an_escaper_values_are_copied_raw),
        cmocka_unit_test(a_value_is_never_expanded_again),
        cmocka_unit_test(literal_text_is_copied_as_is),
        cmocka_unit_test(unknown_placeholder_names_the_known_ones),
        cmocka_unit_test(error_line_and_column_on_a_later_line),
        cmocka_unit_test(error_column_counts_characters_not_bytes),
        cmocka_unit_test(unclosed_tag_is_an_error),
        cmocka_unit_test(tag_opened_inside_a_tag_is_unclosed),
        cmocka_unit_test(unclosed_section_is_reported_at_its_opening),
        cmocka_unit_test(mismatched_close_is_an_error),
        cmocka_unit_test(close_without_open_is_an_error),
        cmocka_unit_test(same_section_cannot_nest),
        cmocka_unit_test(unknown_section_is_an_error),
        cmocka_unit_test(empty_placeholder_is_an_error),
        cmocka_unit_test(triple_braces_are_not_a_placeholder),
        cmocka_unit_test(error_message_quotes_a_long_tag_shortened),
        cmocka_unit_test(error_message_stays_printable),
        cmocka_unit_test(parse_without_an_error_struct_still_fails),
        cmocka_unit_test(render_fails_when_the_output_is_full),
        cmocka_unit_test(render_text_parses_and_renders),
        cmocka_unit_test(template_is_reusable_for_many_renders),
        cmocka_unit_test(hostile_input_never_crashes),
        cmocka_unit_test(many_braces_parse_quickly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
