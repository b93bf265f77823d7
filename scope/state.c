#include "state.h"

#include <stddef.h>
#include <string.h>

#include "mp.h"
#include "text.h"

#define RU(st, f) { #f, R_U64, offsetof(struct st, f), 0 }
#define RB(st, f) { #f, R_BOOL, offsetof(struct st, f), 0 }
#define RS(st, f) { #f, R_STR, offsetof(struct st, f), sizeof(((struct st *)0)->f) }

const struct rfield PROJ[] = {
	RU(proj, seq), RU(proj, amount), RU(proj, exp), RU(proj, baseline), RU(proj, next_cr),
	RB(proj, baseline_confirmed), RS(proj, currency),
	RU(proj, payment_days), RU(proj, contract_invoiced), RU(proj, contract_paid),
	RU(proj, amendments), RU(proj, signatories),
	RU(proj, next_case),
	RU(proj, acceptance_days), RU(proj, deliveries), RB(proj, acceptance_set),
	RU(proj, agreements), RU(proj, notices), RU(proj, links),
};
const size_t PROJ_N = sizeof PROJ / sizeof PROJ[0];

const struct rfield CHG[] = {
	RU(chg, seq), RU(chg, number), RU(chg, quote_rev), RU(chg, quote_seq), RU(chg, fee),
	RU(chg, tax), RU(chg, approved), RU(chg, invoiced), RU(chg, paid), RU(chg, raised_at),
	RU(chg, approved_at), RU(chg, response_seq), RB(chg, proceeding), RB(chg, assessed),
	RS(chg, status), RS(chg, cls), RS(chg, title),
	RU(chg, approved_tax), RU(chg, invoiced_tax),
	RU(chg, amendment), RU(chg, quoted_at), RB(chg, amended), RS(chg, valid_until),
};
const size_t CHG_N = sizeof CHG / sizeof CHG[0];

const struct rfield BASE[] = { RU(base, seq), RB(base, confirmed) };
const size_t BASE_N = sizeof BASE / sizeof BASE[0];

const struct rfield INV[] = { RU(inv, seq), RU(inv, total), RU(inv, paid),
	RU(inv, tax), RS(inv, issued), RS(inv, due),
};
const size_t INV_N = sizeof INV / sizeof INV[0];

const struct rfield AMD[] = { RU(amd, seq), RU(amd, number), RU(amd, total), RU(amd, response_seq),
			      RS(amd, state), RS(amd, effective) };
const size_t AMD_N = sizeof AMD / sizeof AMD[0];

const struct rfield SIG[] = { RU(sig, seq), RU(sig, limit), RB(sig, has_limit), RS(sig, title) };
const size_t SIG_N = sizeof SIG / sizeof SIG[0];

const struct rfield RESP[] = { RU(resp, seq), RS(resp, respondent), RS(resp, answered), RS(resp, decision) };
const size_t RESP_N = sizeof RESP / sizeof RESP[0];

const struct rfield CAS[] = { RU(cas, seq), RU(cas, number), RU(cas, opened_at), RU(cas, stage_at),
			      RU(cas, stage_seq), RU(cas, change), RS(cas, stage), RS(cas, outcome), RS(cas, title) };
const size_t CAS_N = sizeof CAS / sizeof CAS[0];
const struct rfield DLV[] = { RU(dlv, seq), RU(dlv, number), RU(dlv, delivered_at), RU(dlv, deadline_us),
			      RU(dlv, outcome_seq), RS(dlv, outcome), RS(dlv, deliverable) };
const size_t DLV_N = sizeof DLV / sizeof DLV[0];
const struct rfield AGR[] = { RU(agr, seq), RU(agr, number), RU(agr, confirm_seq), RU(agr, contest_seq),
			      RS(agr, state), RS(agr, date), RS(agr, type), RS(agr, summary) };
const size_t AGR_N = sizeof AGR / sizeof AGR[0];

const struct rfield NTC[] = { RU(ntc, seq), RU(ntc, number), RU(ntc, at), RU(ntc, response_seq), RU(ntc, change),
			      RU(ntc, fee), RU(ntc, days), RB(ntc, has_fee), RB(ntc, fee_down), RB(ntc, has_days),
			      RB(ntc, gain), RS(ntc, type), RS(ntc, state), RS(ntc, respond_by), RS(ntc, text) };
const size_t NTC_N = sizeof NTC / sizeof NTC[0];

void state_excerpt(char out[STATE_EXCERPT + 1], const char *s, size_t n)
{
	if (n > STATE_EXCERPT) {
		n = STATE_EXCERPT;
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;	/* never half a character */
	}
	memcpy(out, s, n);
	out[n] = '\0';
}

void rec_pack(const struct rfield *f, size_t n, const void *obj, struct buf *out)
{
	const char *o = obj;
	mp_pack_map(out, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		mp_pack_cstr(out, f[i].name);
		if (f[i].t == R_U64)
			mp_pack_uint(out, *(const uint64_t *)(const void *)(o + f[i].off));
		else if (f[i].t == R_BOOL)
			mp_pack_bool(out, *(const bool *)(const void *)(o + f[i].off));
		else
			mp_pack_cstr(out, o + f[i].off);
	}
}

int rec_unpack(const struct rfield *f, size_t n, const uint8_t *p, size_t len, void *obj,
		      struct err *e)
{
	char *o = obj;
	for (size_t i = 0; i < n; i++) {
		struct mp_cur c;
		struct mp_item it;
		if (mp_map_find(p, len, f[i].name, &c, e) != 1 || mp_next(&c, &it, e))
			return err_setc(e, SCOPE_E_CORRUPT, "derived state record lacks %s (run scoped reindex)",
					f[i].name);
		if (f[i].t == R_U64 && it.type == MP_UINT)
			*(uint64_t *)(void *)(o + f[i].off) = it.u;
		else if (f[i].t == R_BOOL && it.type == MP_BOOL)
			*(bool *)(void *)(o + f[i].off) = it.b;
		else if (f[i].t == R_STR && it.type == MP_STR && it.n < f[i].size) {
			memcpy(o + f[i].off, it.p, it.n);
			o[f[i].off + it.n] = '\0';
		} else
			return err_setc(e, SCOPE_E_CORRUPT, "derived state record: bad %s", f[i].name);
	}
	return 0;
}

void key_init(struct key *k, char type, const char *project, size_t plen)
{
	k->b[0] = (uint8_t)type;
	k->b[1] = 0;
	memcpy(k->b + 2, project, plen);
	k->n = 2 + plen;
}

void key_u64(struct key *k, uint64_t v)
{
	k->b[k->n++] = 0;
	for (int i = 7; i >= 0; i--)
		k->b[k->n++] = (uint8_t)(v >> (8 * i));
}

void key_str(struct key *k, const char *s, size_t n)
{
	k->b[k->n++] = 0;
	memcpy(k->b + k->n, s, n);
	k->n += n;
}

int state_signatory(struct scope_kv *t, const char *project, size_t plen, const char *name, size_t n,
		    struct sig *out, struct err *e)
{
	struct key k;
	struct sig s;
	if (n > STATE_NAME_MAX || plen > ENTRY_PROJECT_MAX)
		return 0;
	key_init(&k, 'g', project, plen);
	key_str(&k, name, n);
	return state_load(t, &k, SIG, SIG_N, out ? out : &s, sizeof s, e);
}

int state_load(struct scope_kv *t, const struct key *k, const struct rfield *f, size_t nf,
		void *obj, size_t objsize, struct err *e)
{
	const uint8_t *v;
	size_t vn;
	memset(obj, 0, objsize);
	int rc = kv_get(t, k->b, k->n, &v, &vn, e);
	if (rc != 1)
		return rc;
	return rec_unpack(f, nf, v, vn, obj, e) ? -1 : 1;
}

int state_save(struct scope_kv *t, const struct key *k, const struct rfield *f, size_t nf,
		const void *obj, struct err *e)
{
	struct buf b;
	buf_init(&b);
	rec_pack(f, nf, obj, &b);
	int rc = buf_failed(&b) ? err_set(e, "out of memory") : kv_put(t, k->b, k->n, b.data, b.len, e);
	buf_free(&b);
	return rc;
}

int state_put_seq(struct scope_kv *t, const struct key *k, uint64_t seq, struct err *e)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(seq >> (56 - 8 * i));
	return kv_put(t, k->b, k->n, b, 8, e);
}

int state_get_seq(struct scope_kv *t, const struct key *k, uint64_t *seq, struct err *e)
{
	const uint8_t *v;
	size_t vn;
	int rc = kv_get(t, k->b, k->n, &v, &vn, e);
	if (rc != 1)
		return rc;
	if (vn != 8)
		return err_setc(e, SCOPE_E_CORRUPT, "derived state: a sequence number record is damaged");
	*seq = 0;
	for (int i = 0; i < 8; i++)
		*seq = *seq << 8 | v[i];
	return 1;
}

static uint64_t be64_at(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* The record types of state.h: parts after the project, u = u64, s = text
 * (always last). */
static const struct {
	char type;
	const char *name, *parts;
} STATE_KEYS[] = {
	{ 'p', "project", "" }, { 'b', "baseline", "u" }, { 'k', "baseline item", "us" },
	{ 'c', "change", "u" }, { 'i', "invoice", "s" }, { 'l', "invoice line", "su" },
	{ 'u', "unconfirmed response", "u" }, { 'e', "evidence in force", "uu" }, { 'v', "voided entry", "u" },
	{ 'a', "amendment", "u" }, { 'n', "amendment line", "uu" }, { 'g', "signatory", "s" },
	{ 'r', "response in force", "u" },
	{ 'x', "correction", "uu" }, { 's', "assessment in force", "u" }, { 'o', "cancelled invoice", "s" },
	{ 'z', "closure", "" },
	{ 'h', "complaint case", "u" },
	{ 'd', "delivery", "u" }, { 'w', "inspection deadline", "uus" },
	{ 'm', "agreement", "u" },
	{ 't', "notice", "u" },
	{ 'q', "link", "u" }, { 'j', "link token", "s" },
	{ 'y', "quote revision", "uuu" },
};

bool state_key_name(const uint8_t *k, size_t n, struct buf *out)
{
	size_t start = out->len;
	for (size_t i = 0; i < sizeof STATE_KEYS / sizeof STATE_KEYS[0]; i++) {
		if (n < 2 || k[0] != (uint8_t)STATE_KEYS[i].type || k[1] != 0)
			continue;
		const uint8_t *p = k + 2, *end = k + n, *nul = memchr(p, 0, (size_t)(end - p));
		const uint8_t *pe = nul ? nul : end;
		buf_printf(out, "%s %c/", STATE_KEYS[i].name, STATE_KEYS[i].type);
		text_put_shown(out, p, (size_t)(pe - p));
		p = pe;
		bool good = true;
		for (const char *part = STATE_KEYS[i].parts; *part && good; part++) {
			if (p >= end || *p++ != 0) {
				good = false;
			} else if (*part == 'u') {
				good = end - p >= 8;
				if (good)
					buf_printf(out, "/%llu", (unsigned long long)be64_at(p));
				p += good ? 8 : 0;
			} else {
				buf_addc(out, '/');
				text_put_shown(out, p, (size_t)(end - p));
				p = end;
			}
		}
		if (good && p == end)
			return true;
		out->len = start;
	}
	return false;
}

int state_scan_prefix(struct scope_kv *t, char type, const char *project, size_t plen, struct key *k,
		      struct err *e)
{
	if (project == NULL) {
		k->b[0] = (uint8_t)type;
		k->b[1] = 0;
		k->n = 2;
		return 0;
	}
	struct proj p;
	key_init(k, 'p', project, plen);
	int rc = LOAD(t, k, PROJ, &p, e);
	if (rc == 0)
		err_set(e, "project %.*s does not exist", (int)plen, project);
	if (rc != 1)
		return -1;
	key_init(k, type, project, plen);
	k->b[k->n++] = 0;
	return 0;
}
