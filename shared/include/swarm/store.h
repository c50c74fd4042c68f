/* What a node keeps on disk in its data directory: its node id and its peer table (peers.json).
 * Writes are atomic (temporary file, fsync, rename); a corrupt file is set aside, never fatal. */
#ifndef SWARM_STORE_H
#define SWARM_STORE_H

#include <stddef.h>

#include "swarm/node.h"

/* Creates dir (and parents) if missing. Returns 0, or -1 with err. */
int swarm_store_ensure_dir(const char *dir, char *err, size_t errlen);

/* Reads DATA_DIR/node-id, or creates it as "<type lowercase>-<12 hex>" from the system's random
 * source. Returns 0, or -1 with err. */
int swarm_store_node_id(const char *dir, const char *node_type, char out[SWARM_NODE_ID_MAX],
                        char *err, size_t errlen);

/* Saves the node's peer table to dir/peers.json. Returns 0, or -1 with err. */
int swarm_store_save_peers(const char *dir, swarm_node *node, char *err, size_t errlen);

/* Loads dir/peers.json into the node (entries keep their source). A missing file loads nothing.
 * A corrupt file is renamed to peers.json.corrupt-<ms> and reported in err; returns the number
 * of peers loaded, or -1 when the file was corrupt. */
int swarm_store_load_peers(const char *dir, swarm_node *node, swarm_time now, char *err, size_t errlen);

#endif
