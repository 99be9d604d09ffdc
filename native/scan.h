/* One directory listed and lstat'ed (native/scan.c), for scandirBatchAsync (hlfs.c) and the walker. */
#ifndef HLFS_SCAN_H
#define HLFS_SCAN_H
#include <stddef.h>
#include <stdint.h>
#include <node_api.h>

/*
 * The scan of one directory (scandirBatchAsync below runs several in one job).
 *
 * One directory listed and lstat'ed in one call: readdir plus fstatat(AT_SYMLINK_NOFOLLOW) per entry,
 * sorted by name bytes (strcmp compares unsigned bytes). `names` holds the names, each followed by a
 * NUL; `stats` holds SCAN_FIELDS int64 per entry: mode, uid, gid, size, mtime ns, atime ns, rdev,
 * errno when the fstatat failed (the entry vanished) else 0, inode, device; `self` the listed
 * directory's own [device, inode], so the walk can tell it is still the directory it planned from.
 * The last component is opened with O_NOFOLLOW: a directory swapped for a symlink is not listed. The walk costs a JS lstat and a Stats
 * object per entry otherwise (measured: most of a no-op mirror's CPU).
 */
#define SCAN_FIELDS 10

struct scan_entry {
  char *name;
  int64_t f[SCAN_FIELDS];
};

struct scan_result {
  char *path;
  int err;
  const char *syscall;
  struct scan_entry *entries;
  size_t n, name_bytes;
  int64_t self_dev, self_ino;
};

/* Fills r (r->path set by the caller): touches no JS, so it runs on any thread. */
void scan(struct scan_result *r);
/* Frees r, its entries and its path. */
void scan_free(struct scan_result *r);
/* [names, stats, self] for JS, or NULL with the Error in *error; frees r either way. Main thread. */
napi_value scan_to_js(napi_env env, struct scan_result *r, napi_value *error);

#endif
