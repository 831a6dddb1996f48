/*
 * What netplumb-cni-client and `netplumb cni-daemon` say to each other over
 * the unix socket (SOCK_STREAM, host byte order: both ends run on one machine).
 * The client writes a request; the daemon answers one byte, 'A' (it has the
 * whole request and may act on it) or 'R' (it refuses this peer), then a reply.
 */
#ifndef NETPLUMB_CNI_PROTOCOL_H
#define NETPLUMB_CNI_PROTOCOL_H

#include <stdint.h>

#define NPC_REQUEST_MAGIC "NPCq"
#define NPC_REPLY_MAGIC "NPCr"
#define NPC_VERSION 1u
#define NPC_ACK 'A'
#define NPC_REFUSE 'R'

/* Limits on what one request or reply carries. */
#define NPC_MAX_ENV (1u << 20)
#define NPC_MAX_STDIN (64u << 20)
#define NPC_MAX_REPLY (64u << 20)
#define NPC_MAX_FDS 2u

/* Then env_len bytes of KEY=VALUE\0 entries, then stdin_len bytes of configuration.
   SCM_RIGHTS on the header: nfds descriptors, the client's own network namespace
   first, then CNI_NETNS (ADD and CHECK only). */
struct npc_request_header {
  char magic[4];
  uint32_t version;
  uint32_t nfds;
  uint32_t env_len;
  uint32_t stdin_len;
};

enum npc_reply_kind {
  /* stdout bytes follow; status is the exit status. */
  NPC_OUTCOME = 0,
  /* The daemon hands the request back (why follows): the client runs the plugin itself. */
  NPC_FALLBACK = 1,
  /* The peer is not root (why follows); sent after NPC_REFUSE instead of NPC_ACK. */
  NPC_REFUSED = 2,
};

/* Then len bytes. */
struct npc_reply_header {
  char magic[4];
  uint32_t kind;
  int32_t status;
  uint32_t len;
};

#endif
