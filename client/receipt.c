#include "receipt.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "fileio.h"
#include "offline.h"
#include "online.h"
#include "receiptjson.h"
#include "show.h"

int receipt_write(const char *path, const struct buf *entry, const struct inclusion_proof *pr,
		  const struct buf *note)
{
	struct buf r;
	struct err e = { 0 };
	buf_init(&r);
	receipt_json(entry, pr, note, NULL, &r);
	int rc = write_file_atomic(path, r.data, r.len, 0644, &e);
	if (rc)
		fprintf(stderr, "scopectl: receipt: %s\n", e.msg);
	buf_free(&r);
	return rc;
}

static int usage(const char *msg)
{
	fprintf(stderr, "scopectl receipt: %s (see scopectl help receipt)\n", msg);
	return CTL_EXIT_USAGE;
}

/* Entry seq as the server gives it, checked to be entry seq and proven in
 * the latest verified checkpoint, then written as a receipt. */
/* Entry seq, proven in the latest verified checkpoint, as a receipt. */
static int receipt_of(struct session *s, uint64_t seq, const char *path)
{
	struct err e = { 0 };
	struct buf raw, note;
	struct entry en;
	struct inclusion_proof pr;
	struct checkpoint cp;
	uint8_t leaf[HASH_LEN];
	buf_init(&raw);
	buf_init(&note);
	int rc = CTL_EXIT_OK;
	if (get_proven(s, seq, &raw, &en, leaf, &pr, &cp, &note, &e))
		rc = ctl_report(&e);
	else if (receipt_write(path, &raw, &pr, &note))
		rc = CTL_EXIT_USAGE;
	else
		printf("receipt for entry %llu (%s in %s), proven in the checkpoint of size %llu: %s\n",
		       (unsigned long long)seq, show(en.kind, en.kind_len), show(en.project, en.project_len),
		       (unsigned long long)cp.size, showz(path));
	buf_free(&raw);
	buf_free(&note);
	return rc;
}

int cmd_receipt(int argc, char **argv)
{
	struct profile p;
	const char *out;
	char *end;
	int rc = conn_parse_output("receipt", argc, argv, &p, &out);
	if (rc)
		return rc;
	if (optind + 1 != argc || argv[optind][0] < '0' || argv[optind][0] > '9')
		return usage("expected: receipt SEQ -o FILE");
	unsigned long long seq = strtoull(argv[optind], &end, 10);
	if (*end)
		return usage("SEQ is an entry's sequence number");
	if (out == NULL)
		return usage("-o FILE names the receipt to write");
	struct session s;
	if ((rc = ctl_session_open(&s, &p)) == CTL_EXIT_OK)
		rc = receipt_of(&s, seq, out);
	sess_close(&s);
	return rc;
}
