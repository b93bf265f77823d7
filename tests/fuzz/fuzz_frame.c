/* Fuzz target: the frame reader and request decoder over a byte stream. */
#include <stdint.h>
#include <stddef.h>

#include "frame.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;
	while (off < size) {
		uint32_t len;
		enum frame_status st = frame_peek(data + off, size - off, 1u << 20, &len);
		if (st != FRAME_READY)
			break;
		struct wire_req r;
		struct err e;
		uint64_t id;
		wire_parse_request(data + off + FRAME_HDR, len, &r, &id, &e);
		off += FRAME_HDR + len;
	}
	return 0;
}
