/* Fuzz target: one request payload, as dispatch() handles it before the
 * ledger: decode, canonicalise the body, check its shape for the kind. */
#include <stdint.h>
#include <stddef.h>

#include "domain.h"
#include "entry.h"
#include "json.h"
#include "mp.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_req r;
	struct err e;
	uint64_t id;
	if (wire_parse_request(data, size, &r, &id, &e) || r.body == NULL)
		return 0;
	static const struct mp_limits lim = { ENTRY_BODY_DEPTH, 65536 };
	struct buf body, json;
	buf_init(&body);
	buf_init(&json);
	if (mp_canonicalize(r.body, r.body_len, &lim, MP_NO_BIN, &body, &e) == 0) {
		/* canonical output must pass the canonical check */
		if (mp_check(body.data, body.len, &lim, MP_CANONICAL | MP_NO_BIN, &e) != 0)
			__builtin_trap();
		msgpack_to_json(body.data, body.len, &json, &e);
		if (entry_check_body(body.data, body.len, &e) == 0 && r.kind)
			domain_check_shape(r.kind, r.kind_len, body.data, body.len, NULL, &e);
	}
	buf_free(&body);
	buf_free(&json);
	return 0;
}
