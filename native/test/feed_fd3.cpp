// feed_fd3 RECORDS -- COMMAND [ARGS...]: a fake kernel for the Watcher's read
// loop (src/addon.cc), used by test/unit/watcher-fake-kernel.test.ts.
//
// Runs COMMAND with fd 3 one end of socketpair(AF_UNIX, SOCK_SEQPACKET), and
// writes the datagrams of RECORDS (u32 length, little-endian, then that many
// bytes; repeated) to the other end, blocking while the reader catches up.
// SEQPACKET keeps datagram boundaries, and an unnamed peer reads as nl_pid 0,
// so a Watcher on fd 3 takes every datagram as the kernel's. The end is kept
// open until COMMAND exits (closing it would make fd 3 readable forever at
// EOF, which a netlink socket never is). Exits with COMMAND's status, or 125
// on a setup error.
#include <errno.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 4 || std::strcmp(argv[2], "--") != 0) {
    std::fprintf(stderr, "usage: feed_fd3 RECORDS -- COMMAND [ARGS...]\n");
    return 125;
  }
  FILE* f = std::fopen(argv[1], "rb");
  if (!f) {
    std::perror("feed_fd3: open");
    return 125;
  }
  std::vector<uint8_t> in;
  uint8_t chunk[65536];
  for (size_t n; (n = std::fread(chunk, 1, sizeof chunk, f)) > 0;) in.insert(in.end(), chunk, chunk + n);
  std::fclose(f);

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    std::perror("feed_fd3: socketpair");
    return 125;
  }
  int sz = 4 << 20;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
  pid_t pid = fork();
  if (pid < 0) {
    std::perror("feed_fd3: fork");
    return 125;
  }
  if (pid == 0) {
    if (dup2(sv[1], 3) < 0) _exit(125);  // dup2 leaves fd 3 without FD_CLOEXEC
    execvp(argv[3], argv + 3);
    std::perror("feed_fd3: exec");
    _exit(125);
  }
  close(sv[1]);
  size_t off = 0, sent = 0;
  while (in.size() - off >= 4) {
    uint32_t len;
    std::memcpy(&len, in.data() + off, 4);
    off += 4;
    if (len > in.size() - off) len = static_cast<uint32_t>(in.size() - off);
    ssize_t r;
    do r = send(sv[0], in.data() + off, len, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
      std::perror("feed_fd3: send");
      break;  // the reader is gone; its status tells
    }
    off += len;
    ++sent;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  close(sv[0]);
  std::fprintf(stderr, "feed_fd3: %zu datagrams sent\n", sent);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  std::fprintf(stderr, "feed_fd3: command killed by signal %d\n", WTERMSIG(status));
  return 128 + WTERMSIG(status);
}
