/*
 * target_kinds: the names of the target kinds, generated from the list in
 * target_kinds.h, and the lookup the campaign parser uses. Nothing here may
 * be written by hand per kind: a kind is added to the list, not to this file.
 */
#include "campaign/target_kinds.h"

#include <stddef.h>
#include <string.h>

#include "core/banned.h"

#define KIND_NAME(id, name) [TARGET_##id] = name,
static const char *const kind_names[] = {TARGET_KINDS(KIND_NAME)};
#undef KIND_NAME
_Static_assert(sizeof kind_names / sizeof kind_names[0] == TARGET_KIND_COUNT,
               "kind_names is generated from TARGET_KINDS: one name per kind");

/* ", github_issue, gitlab_issue, ...": joined at compile time; the leading
 * ", " is skipped by target_kind_names_joined. */
#define KIND_LIST_ITEM(id, name) ", " name
static const char kind_list[] = TARGET_KINDS(KIND_LIST_ITEM);
#undef KIND_LIST_ITEM

const char *target_kind_name(enum target_kind kind)
{
    if ((size_t)kind < TARGET_KIND_COUNT)
        return kind_names[kind];
    return "unknown";
}

int target_kind_from_name(const char *name, enum target_kind *out)
{
    for (size_t k = 0; name && k < TARGET_KIND_COUNT; k++) {
        if (strcmp(kind_names[k], name) == 0) {
            *out = (enum target_kind)k;
            return 0;
        }
    }
    return -1;
}

const char *target_kind_names_joined(void)
{
    return kind_list + 2;
}
