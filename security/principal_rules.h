/*
 * principal_rules.h - Kafka's ssl.principal.mapping.rules: how the subject of
 * a verified client certificate (RFC 2253 text, "CN=alice,OU=eng,O=acme")
 * becomes the name in the connection's principal ("User:<name>").
 *
 * Rules are tried in order; the first that matches gives the name:
 *   DEFAULT                          the whole subject, unchanged
 *   RULE:pattern/replacement/[L|U]   pattern must match the whole subject;
 *                                    replacement with $1..$9 for its groups,
 *                                    then L lowers or U uppers the result
 * Rules are separated by commas or blanks; '/' inside a pattern or a
 * replacement is written '\/'. Patterns are POSIX extended regular
 * expressions; Kafka's lazy idiom "(.*?)," (anything up to the first comma)
 * is understood as "([^,]*),", and any other lazy quantifier is refused.
 * No rule matching is an error: the connection is not authenticated.
 */
#ifndef STRAIT_SECURITY_PRINCIPAL_RULES_H
#define STRAIT_SECURITY_PRINCIPAL_RULES_H

#include <stddef.h>

typedef struct principal_rules principal_rules;

/* Parses text (NULL or "" = "DEFAULT"). 0, ST_ENOMEM or ST_ECONFIG with msg
 * naming the rule and the reason. */
int principal_rules_parse(const char *text, principal_rules **out, char *msg, size_t msglen);
void principal_rules_free(principal_rules *rules);

/* The name subject maps to, written to out. 0, ST_ENOTFOUND (no rule matched)
 * or ST_ETOOBIG (out too small). */
int principal_rules_apply(const principal_rules *rules, const char *subject, char *out,
                          size_t outlen);

#endif
