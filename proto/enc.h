/*
 * enc: hex and standard base64 (RFC 4648 section 4, with padding), strict.
 * Decoders reject anything that is not the exact canonical text.
 */
#ifndef SCOPE_ENC_H
#define SCOPE_ENC_H

#include <stddef.h>
#include <stdint.h>

/* Lowercase hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void hex_encode(const uint8_t *p, size_t n, char *out);
/* Decodes exactly 2*outlen hex digits (either case); -1 on bad input. */
int hex_decode(const char *s, size_t slen, uint8_t *out, size_t outlen);

/* Length of the base64 text for n bytes, without the NUL. */
size_t b64_encoded_len(size_t n);
/* Writes b64_encoded_len(n)+1 bytes (NUL-terminated). */
void b64_encode(const uint8_t *p, size_t n, char *out);
/* Decodes padded base64; on success stores the byte count in *outlen.
 * Rejects bad characters, bad padding, non-zero trailing bits, and output
 * larger than cap. */
int b64_decode(const char *s, size_t slen, uint8_t *out, size_t cap, size_t *outlen);

#endif
