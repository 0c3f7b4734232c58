/*
 * store_private: what the SQLite store's files share (migrations, statements).
 */
#ifndef MUSTER_STORE_PRIVATE_H
#define MUSTER_STORE_PRIVATE_H

/* The migration steps; *count gets their number (= the newest version). */
const char *const *store_migrations(int *count);

#endif
