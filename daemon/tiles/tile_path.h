/*
 * tile_path: the C2SP tlog-tiles resource paths (proto/PROTOCOL.md,
 * "Tiles"), parsed strictly, and which of them a tree of a given size
 * holds.  No I/O: the listener (tiles.c) and the tests call these.
 *
 *   /checkpoint
 *   /tile/<L>/<N>[.p/<W>]          hash tile, L 0..63
 *   /tile/entries/<N>[.p/<W>]      entry bundle, uint16 lengths
 *   /tile/entries32/<N>[.p/<W>]    Scope Ledger's extension: uint32 lengths
 *
 * N is zero-padded 3-digit elements, all but the last prefixed "x", with
 * no leading "x000" element (one spelling per index); L and W decimal
 * without leading zeros, W 1..255.
 */
#ifndef SCOPE_TILE_PATH_H
#define SCOPE_TILE_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TILE_WIDTH 256
#define TILE_HASH 32

enum tile_kind { TILE_CHECKPOINT, TILE_HASH_TILE, TILE_ENTRIES, TILE_ENTRIES32 };

struct tile_ref {
	enum tile_kind kind;
	unsigned level;		/* hash tiles: L */
	uint64_t index;		/* N */
	unsigned width;		/* W, or TILE_WIDTH for a full tile */
};

/* Parses path (without query).  0, or -1 with why (a static text naming
 * what is wrong) when the path is no tiles resource. */
int tile_path_parse(const char *path, struct tile_ref *out, const char **why);

/* Whether a tree of size holds every hash of the tile (entry bundles are
 * level 0): its hashes are the stored nodes at tree level 8*L, indices
 * N*256 .. N*256+W-1, of which the tree has floor(size / 256^L). */
bool tile_exists(const struct tile_ref *t, uint64_t size);

#endif
