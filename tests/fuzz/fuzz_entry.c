/* Fuzz target: entry validation.  Whatever decodes must re-encode to the
 * very same bytes (one logical entry, one byte string). */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "entry.h"
#include "verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct entry en;
	struct err e;
	if (entry_decode(data, size, &en, &e) != 0)
		return 0;
	struct buf out;
	buf_init(&out);
	if (entry_encode(&en, &out, &e) != 0 || out.len != size || memcmp(out.data, data, size) != 0)
		__builtin_trap();
	buf_reset(&out);
	entry_to_json(&en, NULL, &out, &e);
	buf_free(&out);
	struct lverify v;
	lverify_init(&v);
	lverify_entry(&v, data, size, NULL, NULL, &e);
	return 0;
}
