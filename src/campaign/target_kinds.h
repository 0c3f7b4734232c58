/*
 * target_kinds: the one list of target kinds. Each kind is one line of
 * TARGET_KINDS: its enum value and its name as written in the campaign file
 * (and stored, and shown). The enum, the name table and the name lookup are
 * generated from it here and in target_kinds.c; the tables that describe a
 * kind further are indexed by the enum and refuse to compile without a row
 * for every kind: its file syntax in campaign.c (kind_syntax) and its
 * one-click behaviour in targets/target.c (kind_table). docs/TARGETS.md,
 * "Adding a kind", is the checklist. This file knows nothing else about any
 * kind; campaign/ is below targets/, so behaviour never comes here.
 */
#ifndef MUSTER_CAMPAIGN_TARGET_KINDS_H
#define MUSTER_CAMPAIGN_TARGET_KINDS_H

/* KIND(ID, "name"): the enum value is TARGET_ID. The order is the order of
 * the enum, of the error message that lists the kinds, and of the dashboard's
 * examples. (The parameter is not called X: X is a kind.) */
#define TARGET_KINDS(KIND)                                                                         \
    KIND(GITHUB_ISSUE, "github_issue")                                                             \
    KIND(GITLAB_ISSUE, "gitlab_issue")                                                             \
    KIND(EMAIL, "email")                                                                           \
    KIND(CALL, "call")                                                                             \
    KIND(MASTODON, "mastodon")                                                                     \
    KIND(BLUESKY, "bluesky")                                                                       \
    KIND(X, "x")                                                                                   \
    KIND(WEB, "web")

#define TARGET_KIND_ENUM_VALUE(id, name) TARGET_##id,
enum target_kind { TARGET_KINDS(TARGET_KIND_ENUM_VALUE) };
#undef TARGET_KIND_ENUM_VALUE

/* The number of kinds, for tables and loops; not itself a kind, so a switch
 * over enum target_kind still has to name every kind. */
#define TARGET_KIND_PLUS_ONE(id, name) +1
enum { TARGET_KIND_COUNT = 0 TARGET_KINDS(TARGET_KIND_PLUS_ONE) };
#undef TARGET_KIND_PLUS_ONE

/* The kind's name as in the campaign file ("github_issue"), or "unknown". */
const char *target_kind_name(enum target_kind kind);
/* Sets *out to the kind named name and returns 0, or returns -1 when no kind
 * has that name (names are case-sensitive). */
int target_kind_from_name(const char *name, enum target_kind *out);
/* Every name, in order, joined by ", " (for error messages). */
const char *target_kind_names_joined(void);

#endif
