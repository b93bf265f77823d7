/* Fuzz target: the export reader (hex and raw) feeding the verifier. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>

#include "export.h"
#include "verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	FILE *f = fmemopen((void *)data, size, "rb");
	if (f == NULL)
		return 0;
	struct export_reader r;
	struct lverify v;
	struct err e;
	export_reader_init(&r, f, EXPORT_AUTO);
	lverify_init(&v);
	const uint8_t *p;
	size_t n;
	for (int i = 0; i < 100000 && export_next(&r, &p, &n, &e) == 1; i++)
		if (lverify_entry(&v, p, n, NULL, NULL, &e))
			break;
	lverify_finish(&v, &e);
	export_reader_free(&r);
	fclose(f);
	return 0;
}
