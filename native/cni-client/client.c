/*
 * netplumb-cni-client: the CNI plugin executable a runtime execs. It hands
 * the request to a resident `netplumb cni-daemon` over a unix socket and, when
 * no daemon answers, runs the plain Node plugin itself (exec), so the outcome
 * is the same either way; only the start-up cost differs.
 *
 *   runtime --exec--> client --connect--> daemon (Node, lib/cni, warm)
 *                        \--exec (no daemon)--> bin/netplumb-cni-node
 *
 * What crosses the socket (SOCK_STREAM, host byte order; protocol.h; docs/CNI.md
 * "Fast path: the resident daemon"):
 *
 *   request  = header, env (KEY=VALUE\0 ...), stdin bytes;
 *              SCM_RIGHTS on the first byte: this process's own network
 *              namespace (/proc/self/ns/net) and, for ADD and CHECK, CNI_NETNS
 *              opened here, in the runtime's mount namespace: the daemon acts
 *              on exactly that namespace and never resolves the path itself.
 *   ack      = one byte: 'A', the daemon has the whole request and may act;
 *              'R', it refuses this peer (not root) and has read nothing.
 *   reply    = header {kind, status, len}, then len bytes: stdout (kind
 *              OUTCOME), or why the daemon hands the request back (kind
 *              FALLBACK / REFUSED: the client runs the plugin itself).
 *
 * No daemon (ENOENT, ECONNREFUSED, EACCES...), a refusal, or the daemon gone
 * before its ack: nothing was done, the client runs the plugin itself. The
 * daemon gone after its ack, before the reply: the outcome is unknown; ADD
 * answers CNI error 11 (try again later: the runtime cleans up with DEL and
 * retries), every other command (idempotent) runs the plugin itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "protocol.h"

extern char** environ;

static const char* const DEFAULT_SOCKET = "/run/netplumb/cni.sock";

/* Everything on stdin (the network configuration). */
static int read_all(int fd, char** out, size_t* len) {
  size_t cap = 4096, n = 0;
  char* buf = malloc(cap);
  if (!buf) return -1;
  for (;;) {
    if (n == cap) {
      if (cap >= NPC_MAX_STDIN) {
        free(buf);
        errno = EFBIG;
        return -1;
      }
      cap *= 2;
      char* b = realloc(buf, cap);
      if (!b) {
        free(buf);
        return -1;
      }
      buf = b;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r == 0) break;
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EBADF && n == 0) break; /* no stdin at all: an empty configuration */
      free(buf);
      return -1;
    }
    n += (size_t)r;
  }
  *out = buf;
  *len = n;
  return 0;
}

static int write_all(int fd, const void* p, size_t len) {
  const char* c = p;
  while (len) {
    ssize_t w = send(fd, c, len, MSG_NOSIGNAL);
    if (w < 0 && errno == ENOTSOCK) w = write(fd, c, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    c += w;
    len -= (size_t)w;
  }
  return 0;
}

/* 1: all read; 0: EOF (or a reset) before; -1: another error. */
static int read_exact(int fd, void* p, size_t len) {
  char* c = p;
  while (len) {
    ssize_t r = read(fd, c, len);
    if (r == 0) return 0;
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == ECONNRESET) return 0;
      return -1;
    }
    c += r;
    len -= (size_t)r;
  }
  return 1;
}

/* The plain Node plugin, in this executable's package: <root>/bin/netplumb-cni-node
   (no override: what runs as root is decided by where the client is installed). */
static int fallback_path(char* out, size_t size) {
  char exe[PATH_MAX];
  if (!realpath("/proc/self/exe", exe)) return -1;
  /* <root>/build/Release/netplumb-cni-client */
  for (int up = 0; up < 3; ++up) {
    char* slash = strrchr(exe, '/');
    if (!slash) return -1;
    *slash = '\0';
  }
  return snprintf(out, size, "%s/bin/netplumb-cni-node", exe) < (int)size ? 0 : -1;
}

/* A CNI error on stdout, exit 1 (the error JSON is all a runtime reads). */
static void cni_error(int code, const char* msg, const char* details) {
  /* msg and details are ours, ASCII without quotes or backslashes. */
  printf("{\"cniVersion\":\"1.1.0\",\"code\":%d,\"msg\":\"%s\"%s%s%s}\n", code, msg, details ? ",\"details\":\"" : "", details ? details : "",
         details ? "\"" : "");
  fflush(stdout);
  exit(1);
}

/* Runs the plugin in this process's place, the configuration given back on its stdin. */
static void run_plugin(const char* conf, size_t len) {
  char path[PATH_MAX];
  if (fallback_path(path, sizeof path) < 0) cni_error(5, "netplumb-cni-client: cannot find bin/netplumb-cni-node beside /proc/self/exe", NULL);
  int mfd = memfd_create("netplumb-cni-config", 0);
  if (mfd < 0 || write_all(mfd, conf, len) < 0 || lseek(mfd, 0, SEEK_SET) < 0 || dup2(mfd, 0) < 0)
    cni_error(5, "netplumb-cni-client: cannot hand the configuration to the plugin", strerror(errno));
  if (mfd != 0) close(mfd);
  char* argv[] = {path, NULL};
  execv(path, argv);
  cni_error(5, "netplumb-cni-client: cannot run the plugin bin/netplumb-cni-node", strerror(errno));
}

static int is_abs(const char* s) { return s && s[0] == '/'; }

int main(void) {
  char* conf = NULL;
  size_t conf_len = 0;
  if (read_all(0, &conf, &conf_len) < 0) cni_error(5, "reading the network configuration from stdin failed", strerror(errno));

  const char* off = getenv("NETPLUMB_CNI_DAEMON");
  if (off && strcmp(off, "0") == 0) run_plugin(conf, conf_len);

  const char* sock_path = getenv("NETPLUMB_CNI_SOCKET");
  if (!sock_path || !*sock_path) sock_path = DEFAULT_SOCKET;
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(sock_path) >= sizeof sa.sun_path) run_plugin(conf, conf_len);
  strcpy(sa.sun_path, sock_path);

  /* The namespaces, opened here (the runtime's view of the paths). */
  int fds[2];
  int nfds = 0;
  fds[nfds] = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (fds[nfds] < 0) run_plugin(conf, conf_len);
  ++nfds;
  const char* cmd = getenv("CNI_COMMAND");
  const char* netns = getenv("CNI_NETNS");
  if (cmd && (strcmp(cmd, "ADD") == 0 || strcmp(cmd, "CHECK") == 0) && is_abs(netns)) {
    /* As the plugin opens it: O_NONBLOCK so a FIFO cannot block. A path that
       cannot be opened at all is the plugin's to report (the precise error). */
    int fd = open(netns, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) run_plugin(conf, conf_len);
    fds[nfds++] = fd;
  }

  size_t env_len = 0;
  for (char** e = environ; *e; ++e) env_len += strlen(*e) + 1;
  if (env_len > NPC_MAX_ENV) run_plugin(conf, conf_len);

  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) run_plugin(conf, conf_len);
  if (connect(s, (struct sockaddr*)&sa, sizeof sa) < 0) {
    int e = errno;
    /* No daemon (or not ours to reach): the plugin, as if there were no daemon. */
    if (e != ENOENT && e != ECONNREFUSED && e != EACCES && e != ENOTDIR)
      fprintf(stderr, "netplumb-cni: the daemon at %s cannot be reached (%s): running the plugin itself\n", sock_path, strerror(e));
    close(s);
    run_plugin(conf, conf_len);
  }

  struct npc_request_header h;
  memset(&h, 0, sizeof h);
  memcpy(h.magic, NPC_REQUEST_MAGIC, 4);
  h.version = NPC_VERSION;
  h.nfds = (uint32_t)nfds;
  h.env_len = (uint32_t)env_len;
  h.stdin_len = (uint32_t)conf_len;

  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int) * 2)];
  } ctl;
  memset(&ctl, 0, sizeof ctl);
  struct iovec iov = {.iov_base = &h, .iov_len = sizeof h};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds)};
  struct cmsghdr* c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
  memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);

  ssize_t sent;
  do sent = sendmsg(s, &m, MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  int ok = sent >= 0 && write_all(s, (const char*)&h + sent, sizeof h - (size_t)sent) == 0;
  for (char** e = environ; ok && *e; ++e) ok = write_all(s, *e, strlen(*e) + 1) == 0;
  if (ok) ok = write_all(s, conf, conf_len) == 0;
  for (int i = 0; i < nfds; ++i) close(fds[i]);

  /* A send that failed (EPIPE): the daemon closed early, having refused this
     peer (its answer is waiting to be read) or gone; either way nothing was done. */
  char first = 0;
  int r = read_exact(s, &first, 1);
  if (r <= 0 || (first != NPC_ACK && first != NPC_REFUSE) || (!ok && first == NPC_ACK)) {
    /* Gone before it had the request (or not a netplumb daemon): nothing was done. */
    close(s);
    run_plugin(conf, conf_len);
  }

  struct npc_reply_header rh;
  r = read_exact(s, &rh, sizeof rh);
  char* body = NULL;
  if (r > 0 && memcmp(rh.magic, NPC_REPLY_MAGIC, 4) == 0 && rh.len <= NPC_MAX_REPLY) {
    body = malloc(rh.len + 1);
    if (!body) cni_error(5, "netplumb-cni-client: out of memory", NULL);
    r = read_exact(s, body, rh.len);
    body[rh.len] = '\0';
  } else if (r > 0) {
    r = -1;
  }
  close(s);
  if (r <= 0 && first == NPC_REFUSE) run_plugin(conf, conf_len);
  if (r <= 0) {
    /* The daemon had the request and is gone (or spoke garbage): it may have done part of it. */
    if (cmd && strcmp(cmd, "ADD") == 0)
      cni_error(11, "the netplumb daemon ended while it ran this ADD: its outcome is unknown; try again later (DEL first)",
                r == 0 ? "daemon closed the connection before its reply" : "malformed reply from the daemon");
    run_plugin(conf, conf_len);
  }
  switch (rh.kind) {
    case NPC_OUTCOME:
      if (write_all(1, body, rh.len) < 0) return 5;
      return rh.status;
    case NPC_REFUSED:
      fprintf(stderr, "netplumb-cni: the daemon at %s refused this process: %s; running the plugin itself\n", sock_path, body);
      run_plugin(conf, conf_len);
      break;
    case NPC_FALLBACK:
    default:
      run_plugin(conf, conf_len);
  }
  return 0;
}
