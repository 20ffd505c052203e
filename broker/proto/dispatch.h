/*
 * dispatch.h - from a received frame to a handled request: header decoding,
 * API and version lookup, body decoding, the handler call, and the response.
 * The request lifecycle functions of api.h live here too.
 */
#ifndef STRAIT_PROTO_DISPATCH_H
#define STRAIT_PROTO_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

struct broker;
struct conn;
struct broker_request;

/* Handles one request frame (without its size prefix); takes ownership of
 * frame (malloc'ed). Returns 0 to keep the connection, -1 to close it now. */
int proto_dispatch_frame(struct broker *b, struct conn *c, uint8_t *frame, size_t len);

/* The connection of a parked or running request is closing: drop it. */
void proto_dispatch_abandon(struct broker_request *req);

#endif
