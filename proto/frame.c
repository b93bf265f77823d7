#include "frame.h"

enum frame_status frame_peek(const uint8_t *p, size_t avail, uint32_t max, uint32_t *len)
{
	if (avail < FRAME_HDR)
		return FRAME_NEED_MORE;
	*len = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	if (*len == 0 || *len > max)
		return FRAME_BAD_LENGTH;
	return avail - FRAME_HDR >= *len ? FRAME_READY : FRAME_NEED_MORE;
}

void frame_header(uint8_t out[FRAME_HDR], uint32_t len)
{
	out[0] = (uint8_t)(len >> 24);
	out[1] = (uint8_t)(len >> 16);
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
}
