/*
 * Hostile evidence uploads against a real scoped, over raw mutual TLS:
 * chunks out of order, too large, past the announced size, on another
 * connection's upload; bytes that fail their announced SHA-256; a file
 * over max_evidence_mib; more uploads at once than allowed; a connection
 * that closes mid-upload.  Each is refused by name and leaves no partial
 * file; an honest upload still goes through and reads back.
 */
#include "harness.h"
#include "tap.h"

#include <dirent.h>
#include <openssl/evp.h>

static uint64_t next_id = 1;

/* Sends the request in b (wire_request already packed) and reads the reply:
 * "ok", the error code, or "closed". */
static const char *call(struct cl *c, struct buf *b)
{
	static char code[32];
	uint64_t id;
	int rc = send_frame(c, b) ? -1 : cl_read(c, &id, code, sizeof code);
	buf_reset(b);
	if (rc < 0)
		snprintf(code, sizeof code, "closed");
	else if (rc == 1)
		snprintf(code, sizeof code, "ok");
	return code;
}

static const char *begin(struct cl *c, uint64_t size, const uint8_t sha[32], uint64_t *upload, uint64_t *chunk)
{
	struct buf b;
	buf_init(&b);
	wire_request(&b, next_id++, "upload_begin", 3);
	mp_pack_cstr(&b, "project");
	mp_pack_cstr(&b, "big");
	mp_pack_cstr(&b, "size");
	mp_pack_uint(&b, size);
	mp_pack_cstr(&b, "sha256");
	mp_pack_bin(&b, sha, 32);
	const char *code = call(c, &b);
	struct mp_cur v;
	if (strcmp(code, "ok") == 0 && mp_map_find(cl_result, cl_result_len, "upload", &v, NULL) == 1)
		mp_get_uint(&v, upload, NULL);
	if (strcmp(code, "ok") == 0 && chunk && mp_map_find(cl_result, cl_result_len, "chunk", &v, NULL) == 1)
		mp_get_uint(&v, chunk, NULL);
	buf_free(&b);
	return code;
}

static const char *chunk(struct cl *c, uint64_t upload, uint64_t off, const uint8_t *p, size_t n)
{
	struct buf b;
	buf_init(&b);
	wire_request(&b, next_id++, "upload_chunk", 3);
	mp_pack_cstr(&b, "upload");
	mp_pack_uint(&b, upload);
	mp_pack_cstr(&b, "offset");
	mp_pack_uint(&b, off);
	mp_pack_cstr(&b, "data");
	mp_pack_bin(&b, p, n);
	const char *code = call(c, &b);
	buf_free(&b);
	return code;
}

static const char *end(struct cl *c, uint64_t upload)
{
	struct buf b;
	buf_init(&b);
	wire_request(&b, next_id++, "upload_end", 1);
	mp_pack_cstr(&b, "upload");
	mp_pack_uint(&b, upload);
	const char *code = call(c, &b);
	buf_free(&b);
	return code;
}

/* Files under DATA/files/PREFIX whose names start with start. */
static int count(const char *sub, const char *start)
{
	char path[600];
	snprintf(path, sizeof path, "%s/inst/data/files/%s", dir, sub);
	DIR *d = opendir(path);
	int n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL)
		n += strncmp(de->d_name, start, strlen(start)) == 0 && strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

int main(void)
{
	if (harness_init("'idle_timeout_s = 60'")) {
		printf("Bail out! scoped init failed\n");
		return 1;
	}
	start_daemon();
	ok(port > 0, "scoped is listening on port %d", port);
	static uint8_t good[1000], bad[1000], big[(256u << 10) + 1];
	uint8_t sha[32], other[32];
	char sub[3], hex[65];
	memset(good, 'a', sizeof good);
	memset(bad, 'b', sizeof bad);
	EVP_Digest(good, sizeof good, sha, NULL, EVP_sha256(), NULL);
	memset(other, 7, sizeof other);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", sha[i]);
	snprintf(sub, sizeof sub, "%.2s", hex);

	struct cl a, b2;
	uint64_t up = 0, cs = 0, up2 = 0, up3 = 0;
	ok(cl_open(&a, "lead") == 0, "a lead connects");
	is_str(begin(&a, sizeof good, sha, &up, &cs), "ok", "upload_begin gives an upload id");
	is_int(cs, 256 << 10, "  and the chunk size (256 KiB, under max_frame)");
	is_str(chunk(&a, up, 500, good, 10), "bad_request", "a chunk out of order is refused");
	is_str(chunk(&a, up, 0, big, sizeof big), "bad_request", "a chunk over the chunk size is refused");
	is_str(chunk(&a, up, 0, big, 1001), "bad_request", "a chunk past the announced size is refused");
	ok(cl_open(&b2, "lead") == 0, "a second connection");
	is_str(chunk(&b2, up, 0, good, 10), "not_found", "  cannot write to the first one's upload");
	is_str(chunk(&a, up, 0, bad, sizeof bad), "ok", "other bytes than announced are received");
	is_int(count(sub, ".upload-"), 1, "  into a temporary file");
	is_str(end(&a, up), "invalid", "upload_end refuses bytes that fail their SHA-256");
	is_int(count(sub, ""), 0, "  leaving no file, partial or whole");
	is_str(end(&a, up), "not_found", "  and the upload is gone");
	is_str(begin(&a, (32ull << 20) + 1, other, &up, NULL), "invalid", "a file over max_evidence_mib is refused");
	is_str(begin(&a, 10, other, &up, NULL), "ok", "two uploads at once on a connection");
	is_str(begin(&a, 10, other, &up2, NULL), "ok", "  are allowed");
	is_str(begin(&a, 10, other, &up3, NULL), "unavailable", "  a third is refused");
	is_str(chunk(&a, up, 0, good, 5), "ok", "a chunk of one");
	cl_close(&a);
	ok(log_has("upload [0-9]+ into big dropped: its connection closed"), "closing the connection drops its uploads");
	is_int(count("07", ".upload-"), 0, "  and their temporary files");

	is_str(begin(&b2, sizeof good, sha, &up, NULL), "ok", "an honest upload");
	is_str(chunk(&b2, up, 0, good, 600), "ok", "  in two chunks");
	is_str(chunk(&b2, up, 600, good + 600, 400), "ok", "  in order");
	is_str(end(&b2, up), "ok", "  is stored");
	is_int(count(sub, hex), 1, "  under its hash");
	struct buf b;
	buf_init(&b);
	wire_request(&b, next_id++, "file_get", 4);
	mp_pack_cstr(&b, "project");
	mp_pack_cstr(&b, "big");
	mp_pack_cstr(&b, "sha256");
	mp_pack_bin(&b, sha, 32);
	mp_pack_cstr(&b, "offset");
	mp_pack_uint(&b, 0);
	mp_pack_cstr(&b, "length");
	mp_pack_uint(&b, 1u << 30);
	is_str(call(&b2, &b), "ok", "file_get with a huge length");
	struct mp_cur v;
	const uint8_t *data = NULL;
	size_t n = 0;
	if (mp_map_find(cl_result, cl_result_len, "data", &v, NULL) == 1)
		mp_get_bin(&v, &data, &n, NULL);
	ok(n == sizeof good && memcmp(data, good, n) == 0, "  returns the file, at most a chunk");
	wire_request(&b, next_id++, "file_get", 4);
	mp_pack_cstr(&b, "project");
	mp_pack_cstr(&b, "big");
	mp_pack_cstr(&b, "sha256");
	mp_pack_bin(&b, sha, 31);
	mp_pack_cstr(&b, "offset");
	mp_pack_uint(&b, 0);
	mp_pack_cstr(&b, "length");
	mp_pack_uint(&b, 10);
	is_str(call(&b2, &b), "bad_request", "a sha256 that is not 32 bytes is refused");
	buf_free(&b);
	cl_close(&b2);
	kill(daemon_pid, SIGTERM);
	waitpid(daemon_pid, NULL, 0);
	harness_cleanup();
	return done_testing();
}
