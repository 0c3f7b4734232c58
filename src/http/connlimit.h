/*
 * connlimit: how many connections each client address holds open, shared by
 * the server's threads, so that one address cannot take every connection
 * (MUSTER_MAX_CONNECTIONS_PER_IP). An IPv4 address counts alone; IPv6
 * addresses count per /64, the block one subscriber gets. Addresses listed
 * in MUSTER_TRUSTED_PROXIES are not limited (a reverse proxy carries many
 * clients; it limits them itself). Bounded: one entry per address that has a
 * connection open, freed with its last connection.
 */
#ifndef MUSTER_HTTP_CONNLIMIT_H
#define MUSTER_HTTP_CONNLIMIT_H

#include <sys/socket.h>

struct connlimit;
struct connlimit_entry;

/* max_per_address 0: no limit (connlimit_enter still counts nothing). The
 * exempt list is "ADDR, ADDR, ..." (MUSTER_TRUSTED_PROXIES); it is copied.
 * NULL when out of memory. */
struct connlimit *connlimit_new(int max_per_address, const char *exempt);
void connlimit_free(struct connlimit *cl);

/* 1 when the address already holds its limit of connections (a new one would
 * be refused), 0 otherwise. Does not count anything. */
int connlimit_full(struct connlimit *cl, const struct sockaddr *sa);

/* Counts a new connection from sa. Returns 0 with *entry set (NULL when the
 * address is not limited) to hand to connlimit_leave when it closes, or -1
 * when the address is at its limit (nothing counted) or out of memory. */
int connlimit_enter(struct connlimit *cl, const struct sockaddr *sa,
                    struct connlimit_entry **entry);
void connlimit_leave(struct connlimit *cl, struct connlimit_entry *entry);

/* Writes the address as text ("unknown" for another family) into out (size n). */
void connlimit_format(const struct sockaddr *sa, char *out, unsigned long n);

#endif
