/* Fuzz target: signed notes, checkpoints and verifier keys. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "note.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the PeterNeumann key of the Go reference, and example.com/foo */
	static const char *keys[] = {
		"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
	};
	struct note_verifier vs[2];
	struct err e;
	for (int i = 0; i < 2; i++)
		note_verifier_parse(keys[i], strlen(keys[i]), &vs[i], &e);
	const char *s = (const char *)data;
	size_t tl, by;
	struct checkpoint cp;
	struct note_verifier v;
	note_open(s, size, vs, 2, &tl, &by, &e);
	checkpoint_open(s, size, vs, 2, &cp, &e);
	checkpoint_parse(s, size, &cp, &e);
	note_verifier_parse(s, size, &v, &e);
	return 0;
}
