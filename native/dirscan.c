// The lstat of every entry of a directory in one call (src/util/stat-at.ts,
// docs/design-notes.md "A directory's entries stated in one call"). A commit
// of a directory stats each of its entries to compare it with the stat cache;
// from JavaScript that is an lstat of `/proc/self/fd/N/<name>` per entry (a
// path through procfs, so that the entry is looked up below the directory the
// import holds open) and a Stats object made for each. Here it is one
// statx(dirfd, name) per entry, relative to the descriptor itself, into one
// Float64Array.
//
// warm(paths, maxBytes) asks the kernel to read the first maxBytes of each
// file into the page cache, off the JavaScript thread (a libuv pool thread:
// open, posix_fadvise WILLNEED, close), and resolves to the number of files it
// could open. The FUSE view uses it to read ahead the object files of a
// directory whose files are being read one after another (src/fuse/warm.ts):
// the open brings the inode in, the advice starts the data's read without
// waiting for it. readFiles(paths, maxBytes), below, reads files whole the
// same way (src/util/file-batches.ts).
//
// lstatAt(dirFd, names) returns FIELDS numbers per name, in the order of
// `names`: mode, uid, gid, size, mtimeMs, ctimeMs, ino, dev, computed as Node
// computes its Stats from libuv's statx (the same makedev, and milliseconds
// as sec * 1e3 + nsec / 1e6 in doubles), so that they compare equal with
// values a Stats gave. An entry that cannot be stated has mode -1: the caller
// asks Node for it, and meets Node's own error.
//
// xattrNames(fd) returns the names of the xattrs of the file open at fd,
// each followed by a NUL ("" for none, and where the filesystem has no
// xattrs), or a negative errno: one flistxattr on the descriptor the import
// holds, where a list by name walks a path through /proc/self/fd and asks for
// the list's size before the list (20 us a file from JavaScript, most files
// having none).
//
// readAt(dirFd, name, flags, expect, into, stat, xattrs) reads a small file
// of a commit whole in one call: openat below the directory's descriptor
// (where Node opens `/proc/self/fd/N/name`), its statx into `stat` (FIELDS
// numbers, as put_stat), a check that it is the inode `expect` states (dev,
// ino, file type: an lstat made before), reads filling `into` and one more
// byte to see the end, with `xattrs` an flistxattr, and the close. It returns
// the bytes read, or a negative number for anything else (an error, another
// inode, a file longer than `into`, a file with xattrs): the caller then
// takes its usual way, which meets the same condition and deals with it.
//
// scanTree(root, exclude, maxEntries) lists and states a whole tree on a libuv
// pool thread (src/util/stat-at.ts): a commit starts it before it opens the
// index and loads the stat cache, so that the walk's syscalls (openat,
// getdents, one statx per entry) overlap that work instead of following it,
// and the walk itself makes no call into the addon or Node per directory. It
// answers the tree as blocks of directories in the order the import visits
// them (a directory's block, then each subdirectory's in name order); a block
// is its entry count, device and inode, the count a negative errno for a
// directory it did not list (could not open or state it, a name that is not
// UTF-8, the entry budget spent), which the import then reads itself.
#define _GNU_SOURCE // statx
#define NAPI_VERSION 8
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#define FIELDS 8
// Names up to this length (bytes, UTF-8) are converted into the stack buffer; longer ones are refused by the kernel anyway (NAME_MAX).
#define NAME_BYTES 1024

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

static double ms(struct statx_timestamp t) { return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6; }

static void put_stat(double *v, const struct statx *sx) {
  v[0] = sx->stx_mode;
  v[1] = sx->stx_uid;
  v[2] = sx->stx_gid;
  v[3] = (double)sx->stx_size;
  v[4] = ms(sx->stx_mtime);
  v[5] = ms(sx->stx_ctime);
  v[6] = (double)sx->stx_ino;
  v[7] = (double)makedev(sx->stx_dev_major, sx->stx_dev_minor);
}

static napi_value js_lstat_at(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t dirfd;
  uint32_t n;
  bool is_array = false;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_value_int32(env, argv[0], &dirfd) != napi_ok || napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[1], &n) != napi_ok)
    return throw_error(env, "lstatAt(dirFd, names)");
  napi_value buffer, out;
  double *v;
  if (napi_create_arraybuffer(env, (size_t)n * FIELDS * sizeof(double), (void **)&v, &buffer) != napi_ok ||
      napi_create_typedarray(env, napi_float64_array, (size_t)n * FIELDS, buffer, 0, &out) != napi_ok)
    return throw_error(env, "out of memory");
  char name[NAME_BYTES];
  for (uint32_t i = 0; i < n; i++, v += FIELDS) {
    napi_value item;
    size_t len = 0;
    struct statx sx;
    v[0] = -1;
    if (napi_get_element(env, argv[1], i, &item) != napi_ok) return throw_error(env, "lstatAt: names must be strings");
    napi_status s = napi_get_value_string_utf8(env, item, name, sizeof name, &len);
    if (s != napi_ok) return throw_error(env, "lstatAt: names must be strings");
    // A name that filled the buffer may have been cut: Node states it instead.
    if (len + 1 >= sizeof name) continue;
    // The flags libuv's lstat passes: no AT_NO_AUTOMOUNT, so that an automount point is stated as
    // the import's open of it will find it (mounted), as Node's lstat states it.
    if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) != 0) continue;
    put_stat(v, &sx);
  }
  return out;
}

// A call on many files (warm, readFiles): their paths, copied for a pool
// thread, and what it found of each.
typedef struct {
  char *data;
  size_t size;
  int err;
} read_result;

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  char **paths;  // NULL for a path with a NUL in it, which would name another file
  uint32_t n;
  int64_t max_bytes;
  uint32_t opened;  // warm: files it could open
  read_result *results;  // readFiles: one per path
} path_job;

static void job_free(path_job *j) {
  for (uint32_t i = 0; i < j->n; i++) {
    free(j->paths[i]);
    if (j->results) free(j->results[i].data);
  }
  free(j->paths);
  free(j->results);
  free(j);
}

// The job of a call `name(paths, maxBytes)`, with a result per path when `results`; NULL once it has thrown.
static path_job *job_new(napi_env env, napi_callback_info info, const char *usage, bool results) {
  size_t argc = 2;
  napi_value argv[2];
  bool is_array = false;
  uint32_t n;
  int64_t max_bytes;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[0], &n) != napi_ok ||
      napi_get_value_int64(env, argv[1], &max_bytes) != napi_ok || max_bytes < 0) {
    throw_error(env, usage);
    return NULL;
  }
  path_job *j = calloc(1, sizeof(path_job));
  if (!j || !(j->paths = calloc(n ? n : 1, sizeof(char *))) || (results && !(j->results = calloc(n ? n : 1, sizeof(read_result))))) {
    if (j) free(j->paths);
    free(j);
    throw_error(env, "out of memory");
    return NULL;
  }
  j->n = n;
  j->max_bytes = max_bytes;
  for (uint32_t i = 0; i < n; i++) {
    napi_value item;
    size_t len = 0;
    if (napi_get_element(env, argv[0], i, &item) != napi_ok || napi_get_value_string_utf8(env, item, NULL, 0, &len) != napi_ok ||
        !(j->paths[i] = malloc(len + 1))) {
      job_free(j);
      throw_error(env, usage);
      return NULL;
    }
    napi_get_value_string_utf8(env, item, j->paths[i], len + 1, &len);
    if (strlen(j->paths[i]) != len) {
      free(j->paths[i]);
      j->paths[i] = NULL;
    }
  }
  return j;
}

// The job's work is done and its promise settled: both go.
static void job_done(napi_env env, path_job *j) {
  napi_delete_async_work(env, j->work);
  job_free(j);
}

// Queues `data`'s work on libuv's pool (its handle and promise stored in *work and *deferred);
// the promise, or NULL once it has thrown (`data` freed by `free_data`).
static napi_value queue_work(napi_env env, void *data, void (*free_data)(void *), napi_async_work *work, napi_deferred *deferred, const char *name,
                             napi_async_execute_callback execute, napi_async_complete_callback complete) {
  napi_value promise, label;
  if (napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &label) != napi_ok ||
      napi_create_async_work(env, NULL, label, execute, complete, data, work) != napi_ok) {
    free_data(data);
    return throw_error(env, "cannot make the work");
  }
  if (napi_create_promise(env, deferred, &promise) != napi_ok) {
    napi_delete_async_work(env, *work);
    free_data(data);
    return throw_error(env, "cannot make the work's promise");
  }
  if (napi_queue_async_work(env, *work) != napi_ok) {
    // The call throws; its promise, which nobody holds, is dropped unsettled (a rejection would be unhandled).
    napi_delete_async_work(env, *work);
    free_data(data);
    return throw_error(env, "cannot queue the work");
  }
  return promise;
}

static void job_free_any(void *j) { job_free(j); }

// Queues the job on libuv's pool; its promise, or NULL once it has thrown (the job freed).
static napi_value job_queue(napi_env env, path_job *j, const char *name, napi_async_execute_callback execute, napi_async_complete_callback complete) {
  return queue_work(env, j, job_free_any, &j->work, &j->deferred, name, execute, complete);
}

// The largest range given to one WILLNEED (see warm_execute).
#define WARM_CHUNK ((off_t)128 << 10)

// On a pool thread: nothing here touches JavaScript.
static void warm_execute(napi_env env, void *data) {
  (void)env;
  path_job *j = data;
  for (uint32_t i = 0; i < j->n; i++) {
    if (!j->paths[i]) continue;
    // O_NONBLOCK: a FIFO put where an object belongs must not hold the thread.
    int fd = open(j->paths[i], O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) continue;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
      j->opened++;
      off_t len = st.st_size < j->max_bytes ? st.st_size : (off_t)j->max_bytes;
      // One WILLNEED reads at most max(read_ahead_kb, max_sectors_kb) of the
      // device (force_page_cache_ra): with 128 and 1020, a 1 MiB advice left
      // the last page out. So the range is advised in WARM_CHUNK pieces, the
      // kernel's default read-ahead window, which no common device goes below.
      for (off_t off = 0; off < len; off += WARM_CHUNK) posix_fadvise(fd, off, len - off < WARM_CHUNK ? len - off : WARM_CHUNK, POSIX_FADV_WILLNEED);
    }
    close(fd);
  }
}

static void warm_complete(napi_env env, napi_status status, void *data) {
  path_job *j = data;
  napi_value v;
  napi_create_uint32(env, status == napi_ok ? j->opened : 0, &v);
  napi_resolve_deferred(env, j->deferred, v);
  job_done(env, j);
}

static napi_value js_warm(napi_env env, napi_callback_info info) {
  path_job *j = job_new(env, info, "warm(paths, maxBytes)", false);
  return j ? job_queue(env, j, "trove.warm", warm_execute, warm_complete) : NULL;
}

// readFiles(paths, maxBytes) reads each file whole on a libuv pool thread
// and resolves to one entry per path: a Buffer of its bytes, or a negative
// errno (-EFBIG when it holds more than maxBytes, -EINVAL when it is not a
// regular file). The view reads the trees it fetches ahead this way, 16 to
// a call: through fs.promises each tree was four calls through the pool
// (open, fstat, read, close), each a completion on the serving thread.
static int read_whole(const char *path, int64_t max_bytes, read_result *r) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return -errno;
  struct stat st;
  int err = 0;
  if (fstat(fd, &st) != 0)
    err = -errno;
  else if (!S_ISREG(st.st_mode))
    err = -EINVAL;
  else if (st.st_size > max_bytes)
    err = -EFBIG;
  else if (!(r->data = malloc(st.st_size ? (size_t)st.st_size : 1)))
    err = -ENOMEM;
  while (!err && r->size < (size_t)st.st_size) {
    ssize_t got = pread(fd, r->data + r->size, (size_t)st.st_size - r->size, (off_t)r->size);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      err = -errno;  // An I/O error is one, not a short (corrupt-looking) object.
      break;
    }
    if (got == 0) break;  // Shorter than its size said: what was read is given, the caller's hash judges it.
    r->size += (size_t)got;
  }
  close(fd);
  return err;
}

static void read_execute(napi_env env, void *data) {
  (void)env;
  path_job *j = data;
  for (uint32_t i = 0; i < j->n; i++) j->results[i].err = j->paths[i] ? read_whole(j->paths[i], j->max_bytes, &j->results[i]) : -EINVAL;
}

static void free_bytes(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

static void read_complete(napi_env env, napi_status status, void *data) {
  path_job *j = data;
  napi_value out;
  if (status != napi_ok || napi_create_array_with_length(env, j->n, &out) != napi_ok) {
    napi_value e;
    napi_create_string_utf8(env, "readFiles failed", NAPI_AUTO_LENGTH, &e);
    napi_reject_deferred(env, j->deferred, e);
  } else {
    for (uint32_t i = 0; i < j->n; i++) {
      napi_value v;
      read_result *r = &j->results[i];
      // The bytes are handed over, not copied (a tree may be 64 MiB); their memory goes with the Buffer.
      if (r->err != 0) napi_create_int32(env, r->err, &v);
      else if (napi_create_external_buffer(env, r->size, r->data, free_bytes, NULL, &v) == napi_ok) r->data = NULL;
      else napi_create_int32(env, -ENOMEM, &v);
      napi_set_element(env, out, i, v);
    }
    napi_resolve_deferred(env, j->deferred, out);
  }
  job_done(env, j);
}

static napi_value js_read_files(napi_env env, napi_callback_info info) {
  path_job *j = job_new(env, info, "readFiles(paths, maxBytes)", true);
  return j ? job_queue(env, j, "trove.readFiles", read_execute, read_complete) : NULL;
}

// scanTree: what one tree's walk has found so far.
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  char *root;
  double *exclude;  // dev, ino pairs of directories left out
  uint32_t n_exclude;
  uint64_t max_entries, entries;
  char *names;  // every entry's name, each followed by a NUL
  size_t names_len, names_cap;
  double *stats;  // FIELDS per entry, the root's own first
  size_t stats_len, stats_cap;  // in doubles
  double *blocks;  // per directory: its entry count or a negative errno, its device and inode
  size_t blocks_len, blocks_cap;  // in doubles
  bool failed;  // out of memory: the whole answer is dropped
} tree_job;

// Grows *buf (of *cap items of `size` bytes) to hold `need` items; false when out of memory.
static bool grow(void **buf, size_t *cap, size_t need, size_t size) {
  if (need <= *cap) return true;
  size_t cap2 = *cap ? *cap : 1024;
  while (cap2 < need) cap2 *= 2;
  void *b = realloc(*buf, cap2 * size);
  if (!b) return false;
  *buf = b;
  *cap = cap2;
  return true;
}

static void push_block(tree_job *j, double count, double dev, double ino) {
  if (!grow((void **)&j->blocks, &j->blocks_cap, j->blocks_len + 3, sizeof(double))) {
    j->failed = true;
    return;
  }
  j->blocks[j->blocks_len++] = count;
  j->blocks[j->blocks_len++] = dev;
  j->blocks[j->blocks_len++] = ino;
}

// Well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF): what Node decodes without loss.
static bool utf8_ok(const unsigned char *s) {
  while (*s) {
    unsigned c = *s;
    int n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;
    if (n < 0 || (n == 1 && c < 0xc2)) return false;
    uint32_t cp = n == 0 ? c : c & (0x3f >> n);
    for (int k = 1; k <= n; k++) {
      if ((s[k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (s[k] & 0x3f);
    }
    if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff))) return false;
    s += n + 1;
  }
  return true;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static bool excluded(const tree_job *j, const double *v) {
  for (uint32_t i = 0; i < j->n_exclude; i++)
    if (j->exclude[2 * i] == v[7] && j->exclude[2 * i + 1] == v[6]) return true;
  return false;
}

// Lists and states the directory open at `fd` (closed here; device `dev`, inode `ino`), then its subdirectories.
static void scan_dir(tree_job *j, int fd, double dev, double ino, int depth) {
  DIR *d = depth > 255 ? NULL : fdopendir(fd);
  if (!d) {
    push_block(j, depth > 255 ? -ELOOP : -errno, dev, ino);
    close(fd);
    return;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  int err = 0;
  struct dirent *e;
  for (errno = 0; (e = readdir(d)) != NULL; errno = 0) {
    const char *s = e->d_name;
    if (s[0] == '.' && (s[1] == 0 || (s[1] == '.' && s[2] == 0))) continue;
    if (!utf8_ok((const unsigned char *)s)) err = -EILSEQ;
    // Past the budget already: the import lists this one itself, without holding its names twice.
    else if (j->entries + n + 1 > j->max_entries) err = -E2BIG;
    if (err || !grow((void **)&names, &cap, n + 1, sizeof(char *)) || !(names[n] = strdup(s))) {
      if (!err) err = -ENOMEM;
      break;
    }
    n++;
  }
  if (!err && errno) err = -errno;
  size_t names_at = j->names_len, stats_at = j->stats_len;
  if (!err) {
    if (n) qsort(names, n, sizeof(char *), by_name);
    for (size_t i = 0; i < n && !err; i++) {
      size_t len = strlen(names[i]) + 1;
      struct statx sx;
      if (!grow((void **)&j->names, &j->names_cap, j->names_len + len, 1) ||
          !grow((void **)&j->stats, &j->stats_cap, j->stats_len + FIELDS, sizeof(double)))
        err = -ENOMEM;
      else if (statx(dirfd(d), names[i], AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) != 0)
        err = -errno;
      else {
        memcpy(j->names + j->names_len, names[i], len);
        j->names_len += len;
        put_stat(j->stats + j->stats_len, &sx);
        j->stats_len += FIELDS;
      }
    }
  }
  if (err == -ENOMEM) j->failed = true;
  if (err) {
    // The directory is left to the import, whole: what was gathered of it goes.
    j->names_len = names_at;
    j->stats_len = stats_at;
    push_block(j, err, dev, ino);
  } else {
    push_block(j, (double)n, dev, ino);
    j->entries += n;
    for (size_t i = 0; i < n && !j->failed; i++) {
      const double *v = j->stats + stats_at + i * FIELDS;
      if (!S_ISDIR((mode_t)v[0]) || excluded(j, v)) continue;
      int child = openat(dirfd(d), names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      struct stat st;
      if (child < 0)
        push_block(j, -errno, v[7], v[6]);
      else if (fstat(child, &st) != 0 || (double)st.st_ino != v[6] || (double)st.st_dev != v[7]) {
        // Swapped since it was stated: the import finds out for itself.
        push_block(j, -ESTALE, v[7], v[6]);
        close(child);
      } else
        scan_dir(j, child, v[7], v[6], depth + 1);
    }
  }
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
  closedir(d);
}

static void tree_free(tree_job *j) {
  free(j->root);
  free(j->exclude);
  free(j->names);
  free(j->stats);
  free(j->blocks);
  free(j);
}

static void tree_free_any(void *j) { tree_free(j); }

static void tree_execute(napi_env env, void *data) {
  (void)env;
  tree_job *j = data;
  // The root may be a symlink to the directory, as the import opens it.
  int fd = open(j->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct statx sx;
  if (fd < 0 || statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx) != 0 ||
      !grow((void **)&j->stats, &j->stats_cap, FIELDS, sizeof(double))) {
    if (fd >= 0) close(fd);
    j->failed = true;
    return;
  }
  put_stat(j->stats, &sx);
  j->stats_len = FIELDS;
  scan_dir(j, fd, j->stats[7], j->stats[6], 0);
}

static void tree_complete(napi_env env, napi_status status, void *data) {
  tree_job *j = data;
  napi_value out, names, stats, blocks, ab;
  void *mem;
  // Any step that fails (no memory for the copies) gives null: the import lists each directory itself.
  bool ok = status == napi_ok && !j->failed && napi_create_object(env, &out) == napi_ok &&
            napi_create_string_utf8(env, j->names ? j->names : "", j->names_len, &names) == napi_ok &&
            napi_create_arraybuffer(env, j->stats_len * sizeof(double), &mem, &ab) == napi_ok;
  if (ok) {
    memcpy(mem, j->stats, j->stats_len * sizeof(double));
    ok = napi_create_typedarray(env, napi_float64_array, j->stats_len, ab, 0, &stats) == napi_ok &&
         napi_create_arraybuffer(env, j->blocks_len * sizeof(double), &mem, &ab) == napi_ok;
  }
  if (ok) {
    if (j->blocks_len) memcpy(mem, j->blocks, j->blocks_len * sizeof(double));
    ok = napi_create_typedarray(env, napi_float64_array, j->blocks_len, ab, 0, &blocks) == napi_ok &&
         napi_set_named_property(env, out, "names", names) == napi_ok && napi_set_named_property(env, out, "stats", stats) == napi_ok &&
         napi_set_named_property(env, out, "blocks", blocks) == napi_ok;
  }
  if (!ok) napi_get_null(env, &out);
  napi_resolve_deferred(env, j->deferred, out);
  napi_delete_async_work(env, j->work);
  tree_free(j);
}

static napi_value js_scan_tree(napi_env env, napi_callback_info info) {
  size_t argc = 3, len = 0;
  napi_value argv[3];
  bool is_typed = false;
  napi_typedarray_type type;
  size_t n_exclude = 0;
  void *exclude = NULL;
  double max_entries;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  const char *usage = "scanTree(root, exclude: Float64Array of dev, ino pairs, maxEntries)";
  if (argc < 3 || napi_get_value_string_utf8(env, argv[0], NULL, 0, &len) != napi_ok || napi_is_typedarray(env, argv[1], &is_typed) != napi_ok ||
      !is_typed || napi_get_typedarray_info(env, argv[1], &type, &n_exclude, &exclude, NULL, NULL) != napi_ok || type != napi_float64_array ||
      napi_get_value_double(env, argv[2], &max_entries) != napi_ok || !(max_entries >= 0) || !(max_entries <= 9007199254740992.0))
    return throw_error(env, usage);
  tree_job *j = calloc(1, sizeof(tree_job));
  if (!j || !(j->root = malloc(len + 1)) || !(j->exclude = malloc(n_exclude ? n_exclude * sizeof(double) : 1))) {
    if (j) tree_free(j);
    return throw_error(env, "out of memory");
  }
  napi_get_value_string_utf8(env, argv[0], j->root, len + 1, &len);
  if (n_exclude) memcpy(j->exclude, exclude, n_exclude * sizeof(double));
  j->n_exclude = (uint32_t)(n_exclude / 2);
  j->max_entries = (uint64_t)max_entries;
  if (strlen(j->root) != len) {
    tree_free(j);
    return throw_error(env, usage);
  }
  return queue_work(env, j, tree_free_any, &j->work, &j->deferred, "trove.scanTree", tree_execute, tree_complete);
}

static napi_value js_xattr_names(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  int32_t fd;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok)
    return throw_error(env, "xattrNames(fd)");
  char small[4096];
  char *buf = small;
  ssize_t n = flistxattr(fd, buf, sizeof small);
  int err = n < 0 ? errno : 0;
  while (err == ERANGE) {
    // More names than the stack buffer holds: as many bytes as the list now takes (it may change meanwhile).
    if (buf != small) free(buf);
    buf = small;
    ssize_t want = flistxattr(fd, NULL, 0);
    if (want <= 0) {
      n = want;
      err = want < 0 ? errno : 0;
      break;
    }
    if (!(buf = malloc((size_t)want))) return throw_error(env, "out of memory");
    n = flistxattr(fd, buf, (size_t)want);
    err = n < 0 ? errno : 0;
  }
  napi_status st;
  if (err == 0 || err == ENOTSUP)
    st = napi_create_string_utf8(env, buf, err ? 0 : (size_t)n, &out);
  else
    st = napi_create_int32(env, -err, &out);
  if (buf != small) free(buf);
  return st == napi_ok ? out : throw_error(env, "xattrNames: cannot make its answer");
}

static napi_value js_read_at(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7], out;
  int32_t dirfd, flags;
  bool want_xattrs = false;
  char name[NAME_BYTES];
  size_t len = 0, expect_len = 0, stat_len = 0, cap = 0;
  double *expect, *stat;
  void *into;
  napi_typedarray_type t1, t2, t3;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 7 || napi_get_value_int32(env, argv[0], &dirfd) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], name, sizeof name, &len) != napi_ok || napi_get_value_int32(env, argv[2], &flags) != napi_ok ||
      napi_get_typedarray_info(env, argv[3], &t1, &expect_len, (void **)&expect, NULL, NULL) != napi_ok || t1 != napi_float64_array || expect_len < 3 ||
      napi_get_typedarray_info(env, argv[4], &t2, &cap, &into, NULL, NULL) != napi_ok || t2 != napi_uint8_array ||
      napi_get_typedarray_info(env, argv[5], &t3, &stat_len, (void **)&stat, NULL, NULL) != napi_ok || t3 != napi_float64_array || stat_len < FIELDS ||
      napi_get_value_bool(env, argv[6], &want_xattrs) != napi_ok)
    return throw_error(env, "readAt(dirFd, name, flags, expect: Float64Array [dev, ino, type], into: Uint8Array, stat: Float64Array, xattrs)");
  ssize_t result = -1;
  // A name that filled the buffer may have been cut: the caller's way opens it.
  int fd = len + 1 >= sizeof name ? -1 : openat(dirfd, name, flags | O_CLOEXEC);
  if (fd < 0) return napi_create_double(env, -1, &out) == napi_ok ? out : NULL;
  struct statx sx;
  if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx) == 0) {
    put_stat(stat, &sx);
    if (stat[7] == expect[0] && stat[6] == expect[1] && ((mode_t)stat[0] & S_IFMT) == ((mode_t)expect[2] & S_IFMT) && S_ISREG((mode_t)stat[0])) {
      size_t n = 0;
      ssize_t r = 0;
      while (n < cap && (r = read(fd, (char *)into + n, cap - n)) != 0) {
        if (r > 0) n += (size_t)r;
        else if (errno != EINTR) break;
      }
      char probe;
      if (r >= 0) {
        do r = read(fd, &probe, 1);
        while (r < 0 && errno == EINTR);
      }
      // Read to its end (the probe found nothing more), and no xattrs to read.
      if (r == 0) {
        char names[1];
        ssize_t x = want_xattrs ? flistxattr(fd, names, 0) : 0;
        if (x == 0 || (x < 0 && errno == ENOTSUP)) result = (ssize_t)n;
      }
    }
  }
  close(fd);
  return napi_create_double(env, (double)result, &out) == napi_ok ? out : NULL;
}

static napi_value init_module(napi_env env, napi_value exports) {
  napi_value f;
  napi_create_function(env, "readAt", NAPI_AUTO_LENGTH, js_read_at, NULL, &f);
  napi_set_named_property(env, exports, "readAt", f);
  napi_create_function(env, "xattrNames", NAPI_AUTO_LENGTH, js_xattr_names, NULL, &f);
  napi_set_named_property(env, exports, "xattrNames", f);
  napi_create_function(env, "lstatAt", NAPI_AUTO_LENGTH, js_lstat_at, NULL, &f);
  napi_set_named_property(env, exports, "lstatAt", f);
  napi_create_function(env, "warm", NAPI_AUTO_LENGTH, js_warm, NULL, &f);
  napi_set_named_property(env, exports, "warm", f);
  napi_create_function(env, "readFiles", NAPI_AUTO_LENGTH, js_read_files, NULL, &f);
  napi_set_named_property(env, exports, "readFiles", f);
  napi_create_function(env, "scanTree", NAPI_AUTO_LENGTH, js_scan_tree, NULL, &f);
  napi_set_named_property(env, exports, "scanTree", f);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init_module)
