/*
 * frame: the wire framing, no I/O.  A frame is a 4-byte big-endian length N
 * (1 <= N <= the configured maximum) followed by N bytes holding exactly one
 * msgpack value.
 */
#ifndef SCOPE_FRAME_H
#define SCOPE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_HDR	4
#define FRAME_MAX_DEFAULT (1u << 20)

enum frame_status { FRAME_NEED_MORE = 0, FRAME_READY = 1, FRAME_BAD_LENGTH = -1 };

/* Looks at the first bytes of a stream.  FRAME_READY when a whole frame is
 * there (*len = its payload length), FRAME_NEED_MORE when not yet, and
 * FRAME_BAD_LENGTH when the declared length is 0 or above max (*len is still
 * set, for the error message). */
enum frame_status frame_peek(const uint8_t *p, size_t avail, uint32_t max, uint32_t *len);
void frame_header(uint8_t out[FRAME_HDR], uint32_t len);

#endif
