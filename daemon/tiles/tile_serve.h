/*
 * tile_serve: one request of the tiles listener (proto/PROTOCOL.md,
 * "Tiles"): the method, the per-address rate, the path (tile_path), who
 * may read it (the client certificate's grant), then the resource from a
 * read transaction of the ledger: the latest checkpoint, a hash tile (256
 * stored nodes at most), an entry bundle (256 stored entries at most).
 */
#ifndef SCOPE_TILE_SERVE_H
#define SCOPE_TILE_SERVE_H

struct tiles;
struct evhttp_request;

void tile_serve(struct tiles *t, struct evhttp_request *req);

#endif
