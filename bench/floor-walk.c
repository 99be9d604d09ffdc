/*
 * The floor of a no-op mirror on this machine: list and lstat every entry of two trees, one thread a
 * tree, and nothing else (no comparing, no manifest, no process start-up beyond a C program's). Any
 * tool that does rsync's quick check on both sides does at least this much. With --no-dst-stat the
 * DST side is only listed (getdents64 and d_type): what trusting a manifest for DST's attributes
 * would leave. Not part of the build; the README's performance section quotes its figures.
 *
 *   cc -O2 -pthread -o /tmp/floor-walk bench/floor-walk.c
 *   /usr/bin/time -f '%e s, %U user, %S sys' /tmp/floor-walk SRC DST [--no-dst-stat]
 *
 * Prints the entries seen on each side.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct linux_dirent64 {
  unsigned long long d_ino;
  long long d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

struct side {
  const char *root;
  int stat_entries;
  long entries;
};

static long walk(int dfd, int stat_entries) {
  char buf[65536];
  long n = 0;
  for (;;) {
    long got = syscall(SYS_getdents64, dfd, buf, sizeof buf);
    if (got <= 0) break;
    for (long off = 0; off < got;) {
      struct linux_dirent64 *d = (void *)(buf + off);
      off += d->d_reclen;
      if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..")) continue;
      n++;
      int is_dir = d->d_type == DT_DIR;
      if (stat_entries) {
        struct stat st;
        if (fstatat(dfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        is_dir = S_ISDIR(st.st_mode);
      }
      if (!is_dir) continue;
      int sub = openat(dfd, d->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) continue;
      n += walk(sub, stat_entries);
      close(sub);
    }
  }
  return n;
}

static void *run(void *arg) {
  struct side *s = arg;
  int fd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    perror(s->root);
    return NULL;
  }
  s->entries = walk(fd, s->stat_entries);
  close(fd);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s SRC DST [--no-dst-stat]\n", argv[0]);
    return 2;
  }
  struct side sides[2] = {{argv[1], 1, 0}, {argv[2], !(argc > 3 && !strcmp(argv[3], "--no-dst-stat")), 0}};
  pthread_t threads[2];
  for (int i = 0; i < 2; i++) pthread_create(&threads[i], NULL, run, &sides[i]);
  for (int i = 0; i < 2; i++) pthread_join(threads[i], NULL);
  printf("SRC %ld entries, DST %ld entries\n", sides[0].entries, sides[1].entries);
  return 0;
}
