#define _GNU_SOURCE	/* O_TMPFILE, mkostemp, pipe2 */
#include "backup.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conn.h"
#include "fileio.h"
#include "logger.h"
#include "server.h"
#include "stats.h"
#include "store.h"

struct backup_job {
	struct server *srv;
	struct conn *conn;	/* NULL once its connection has gone */
	int fd;			/* the copy: an unlinked file in the data directory */
	int pipe_fd[2];		/* the copying thread writes one byte when it is done */
	struct event *done_ev;
	pthread_t thread;
	bool running;
	uint64_t started_us;
	/* written by the copying thread, read after it has been joined */
	bool failed;
	uint64_t size;
	uint8_t sha256[32];
	char why[ERR_MSG_MAX];
};

static void job_free(struct backup_job *b)
{
	if (b->done_ev)
		event_free(b->done_ev);
	for (int i = 0; i < 2; i++)
		if (b->pipe_fd[i] >= 0)
			close(b->pipe_fd[i]);
	if (b->fd >= 0)
		close(b->fd);
	free(b);
}

static void *copy_thread(void *arg)
{
	struct backup_job *b = arg;
	struct err e = { 0 };
	if (store_copy(ledger_store(b->srv->ledger), b->fd, &e) || fsync(b->fd) != 0 ||
	    sha256_fd(b->fd, b->sha256, &b->size, &e)) {
		b->failed = true;
		snprintf(b->why, sizeof b->why, "%s", e.msg[0] ? e.msg : strerror(errno));
	}
	ssize_t w;
	do
		w = write(b->pipe_fd[1], "x", 1);
	while (w < 0 && errno == EINTR);
	return NULL;
}

static void finish(struct backup_job *b)
{
	pthread_join(b->thread, NULL);
	b->running = false;
	store_set_copying(ledger_store(b->srv->ledger), false);
	if (b->failed) {
		log_msg(LOG_ERROR, "backup for %s failed: %s", b->conn ? b->conn->author : "a closed connection",
			b->why);
	} else {
		char hex[65];
		for (int i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", b->sha256[i]);
		log_msg(LOG_INFO, "backup for %s: %llu bytes, sha256 %s, in %llu ms",
			b->conn ? b->conn->author : "a closed connection", (unsigned long long)b->size, hex,
			(unsigned long long)((stats_now_us() - b->started_us) / 1000));
	}
	if (b->conn == NULL) {
		b->srv->backup = NULL;
		job_free(b);
	}
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	finish(arg);
}

/* An unlinked file in the data directory: the copy never shows up as a
 * file, and disappears with its descriptor. */
static int temp_file(const char *dir, struct err *e)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	char path[CONFIG_PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/.backup-XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return err_set(e, "cannot create a file for the backup in %s: %s", dir, strerror(errno));
	unlink(path);
	return fd;
}

static int start(struct server *s, struct conn *c, struct err *e)
{
	struct backup_job *b = calloc(1, sizeof *b);
	if (b == NULL)
		return err_set(e, "out of memory");
	b->srv = s;
	b->conn = c;
	b->fd = b->pipe_fd[0] = b->pipe_fd[1] = -1;
	b->started_us = stats_now_us();
	if ((b->fd = temp_file(s->cfg.data_dir, e)) < 0)
		goto fail;
	if (pipe2(b->pipe_fd, O_CLOEXEC) != 0) {
		err_set(e, "cannot create a pipe: %s", strerror(errno));
		goto fail;
	}
	b->done_ev = event_new(s->base, b->pipe_fd[0], EV_READ, on_done, b);
	if (b->done_ev == NULL || event_add(b->done_ev, NULL) != 0) {
		err_set(e, "cannot watch the backup");
		goto fail;
	}
	store_set_copying(ledger_store(s->ledger), true);
	if (pthread_create(&b->thread, NULL, copy_thread, b) != 0) {
		store_set_copying(ledger_store(s->ledger), false);
		err_set(e, "cannot start the backup thread");
		goto fail;
	}
	b->running = true;
	s->backup = b;
	log_msg(LOG_INFO, "conn %llu: %s: backup started", (unsigned long long)c->id, c->author);
	return 0;
fail:
	job_free(b);
	return -1;
}

int backup_request(struct server *s, struct conn *c, struct backup_status *st, struct err *e)
{
	struct backup_job *b = s->backup;
	memset(st, 0, sizeof *st);
	if (b && b->conn != c) {
		err_set(e, "another backup (for %s) is being taken or read; retry when it has finished",
			b->conn ? b->conn->author : "a connection that has closed");
		return -2;
	}
	if (b == NULL) {
		if (start(s, c, e))
			return -1;
		st->state = BACKUP_COPYING;
		return 0;
	}
	if (b->running) {
		st->state = BACKUP_COPYING;
	} else if (b->failed) {
		st->state = BACKUP_FAILED;
		snprintf(st->why, sizeof st->why, "%s", b->why);
		s->backup = NULL;	/* reported once; the next request starts afresh */
		job_free(b);
	} else {
		st->state = BACKUP_READY;
		st->size = b->size;
		memcpy(st->sha256, b->sha256, 32);
	}
	return 0;
}

int backup_read(struct server *s, struct conn *c, uint64_t off, void *p, size_t n, size_t *got,
		struct err *e)
{
	struct backup_job *b = s->backup;
	*got = 0;
	if (b == NULL || b->conn != c || b->running || b->failed)
		return err_set(e, "no finished backup on this connection: ask for one with backup first");
	if (off > b->size)
		return err_set(e, "offset %llu is beyond the backup's %llu bytes", (unsigned long long)off,
			       (unsigned long long)b->size);
	if (n > b->size - off)
		n = (size_t)(b->size - off);
	size_t done = 0;
	while (done < n) {
		ssize_t r = pread(b->fd, (uint8_t *)p + done, n - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return err_set(e, "reading the backup: %s", r < 0 ? strerror(errno) : "file shorter than expected");
		done += (size_t)r;
	}
	*got = done;
	return 0;
}

void backup_conn_gone(struct server *s, struct conn *c)
{
	struct backup_job *b = s->backup;
	if (b == NULL || b->conn != c)
		return;
	b->conn = NULL;
	if (!b->running) {
		s->backup = NULL;
		job_free(b);
	}
}

void backup_shutdown(struct server *s)
{
	struct backup_job *b = s->backup;
	if (b == NULL)
		return;
	if (b->running) {
		log_msg(LOG_INFO, "waiting for the running backup to finish");
		b->conn = NULL;
		finish(b);	/* frees it: conn is NULL */
	} else {
		job_free(b);
	}
	s->backup = NULL;
}
