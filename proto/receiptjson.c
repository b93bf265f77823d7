#include "receiptjson.h"

#include "json.h"

void receipt_json(const struct buf *entry, const struct inclusion_proof *pr, const struct buf *note,
		  const struct buf *page, struct buf *out)
{
	buf_adds(out, "{\"scope_ledger_receipt\":1,\"entry\":");
	json_put_hex(out, entry->data, entry->len);
	buf_adds(out, ",\"proof\":");
	inclusion_to_json(pr, out);
	buf_adds(out, ",\"checkpoint\":");
	json_put_str(out, (const char *)note->data, note->len);
	if (page) {
		buf_adds(out, ",\"page\":");
		json_put_str(out, (const char *)page->data, page->len);
	}
	buf_adds(out, "}\n");
}
