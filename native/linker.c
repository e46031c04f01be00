// The links of a large hard-link checkout, made by native threads
// (src/repo/link-worker.ts, docs/design-notes.md "Hard-link checkouts on two
// cores"). The checkout's JavaScript thread walks the trees, makes the
// directories and posts batches of files; these threads make the lstat of
// each object and its link, with no JavaScript, no strings converted and no
// error objects made per file.
//
// A batch is (id, object path, destination path) triples and the entry's
// mode, uid and gid for each. An object is linked only when its lstat fits
// the entry exactly: a regular file, the mode, and the owner when the
// checkout runs as root. A symlink (mode S_IFLNK, its target in place of the
// id) is linked from its shared copy under variants/ when that is a symlink
// of the owner, the copy made first when missing. A file that does not fit, is missing, or has no link to spare
// (EMLINK) is given back undone, whole, for the checkout to make itself. Any other failure of a link stops the linker: the batches not yet
// begun are skipped, and finish() reports the errno and the paths.
#define _GNU_SOURCE // O_PATH
#define NAPI_VERSION 8
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <node_api.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_THREADS 8

typedef struct batch {
  struct batch *next;
  uint32_t n;
  char *strings; // n triples of NUL-terminated strings: id, object, destination
  int32_t *meta; // n triples: mode, uid, gid
} batch;

typedef struct {
  pthread_mutex_t lock;
  pthread_cond_t work;
  batch *head, *tail;
  pthread_t threads[MAX_THREADS];
  int nthreads;
  int is_root;
  int ending;  // finish() or stop(): threads leave once the queue is empty
  int aborted; // stop(): threads leave at once, the queue is dropped
  pthread_mutex_t join_lock; // finish() joins on libuv's pool, stop() and the finalizer on the JavaScript thread
  int joined;
  atomic_int posted, finished, failed;
  // Results, under lock.
  double linked;
  char *undone;
  size_t undone_len, undone_cap;
  int32_t *undone_meta;
  size_t undone_n, undone_meta_cap;
  int err_no;
  char *err_object, *err_dest;
} linker;

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

static void free_batch(batch *b) {
  free(b->strings);
  free(b->meta);
  free(b);
}

// Appends a file given back to the undone list (under lock). 0, or -1 out of memory.
static int give_back(linker *l, const char *id, const char *object, const char *dest, const int32_t *meta) {
  size_t need = strlen(id) + strlen(object) + strlen(dest) + 3;
  if (l->undone_len + need > l->undone_cap) {
    size_t cap = l->undone_cap ? l->undone_cap * 2 : 4096;
    while (cap < l->undone_len + need) cap *= 2;
    char *p = realloc(l->undone, cap);
    if (!p) return -1;
    l->undone = p;
    l->undone_cap = cap;
  }
  if (l->undone_n * 3 + 3 > l->undone_meta_cap) {
    size_t cap = l->undone_meta_cap ? l->undone_meta_cap * 2 : 768;
    int32_t *p = realloc(l->undone_meta, cap * sizeof(int32_t));
    if (!p) return -1;
    l->undone_meta = p;
    l->undone_meta_cap = cap;
  }
  char *at = l->undone + l->undone_len;
  at = stpcpy(at, id) + 1;
  at = stpcpy(at, object) + 1;
  at = stpcpy(at, dest) + 1;
  l->undone_len = (size_t)(at - l->undone);
  memcpy(l->undone_meta + l->undone_n * 3, meta, 3 * sizeof(int32_t));
  l->undone_n++;
  return 0;
}

static void fail(linker *l, int err_no, const char *object, const char *dest) {
  pthread_mutex_lock(&l->lock);
  if (!atomic_load(&l->failed)) {
    l->err_no = err_no;
    l->err_object = object ? strdup(object) : NULL;
    l->err_dest = dest ? strdup(dest) : NULL;
    atomic_store(&l->failed, 1);
  }
  pthread_mutex_unlock(&l->lock);
}

// A directory kept open by a link thread, named by its path: an object's
// shard root (objects/ or a variant's key) or a destination directory. Paths
// resolved from it name one or two components instead of the whole path, and
// a destination below /proc/self/fd/N is not walked through procfs per file.
// A checkout never removes a directory after it has posted a file into it
// (the patch of a checkout started from another removes entries before it
// makes anything below them, and is not used with this linker), so a path
// names the same directory for as long as it is kept.
typedef struct {
  char path[PATH_MAX];
  size_t len;
  int fd;
} dircache;

// The descriptor of the directory named by the first `len` bytes of `path`,
// the one kept when it is the same; AT_FDCWD when it cannot be opened (the
// whole path is then used, and the call fails, if it must, with its own
// error).
static int dir_at(dircache *c, const char *path, size_t len) {
  if (c->fd >= 0 && c->len == len && memcmp(c->path, path, len) == 0) return c->fd;
  if (len == 0 || len >= PATH_MAX) return AT_FDCWD;
  char buf[PATH_MAX];
  memcpy(buf, path, len);
  buf[len] = 0;
  int fd = open(buf, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return AT_FDCWD;
  if (c->fd >= 0) close(c->fd);
  memcpy(c->path, path, len);
  c->len = len;
  c->fd = fd;
  return fd;
}

// `path` split after its `levels`-th slash from the end: the directory's
// descriptor and the rest. The whole path from AT_FDCWD when it has fewer.
static int split_at(dircache *c, const char *path, int levels, const char **rest) {
  const char *end = path + strlen(path);
  for (int k = 0; k < levels; k++) {
    while (end > path && end[-1] != '/') end--;
    if (end == path) break;
    if (k + 1 < levels) end--;
  }
  if (end == path) {
    *rest = path;
    return AT_FDCWD;
  }
  // A rest that is empty or absolute (a trailing or doubled slash) would not name the file from the
  // directory: the whole path then.
  if (*end == 0 || *end == '/') {
    *rest = path;
    return AT_FDCWD;
  }
  int fd = dir_at(c, path, (size_t)(end - path - 1));
  *rest = fd == AT_FDCWD ? path : end;
  return fd;
}

// The directories a link thread keeps open: the shard roots of objects and of
// symlinks' shared copies (each its own, as files and symlinks alternate),
// and the last destination directory.
typedef struct {
  dircache objects, symlinks, dest;
} dircaches;

static void run_batch(linker *l, batch *b, dircaches *dirs) {
  const char *p = b->strings;
  // Undone files are noted here and given back under the lock once per batch.
  uint32_t *undone = malloc((b->n + 1) * sizeof(uint32_t));
  const char **strs = malloc((3 * b->n + 1) * sizeof(char *));
  if (!undone || !strs) {
    free(undone);
    free(strs);
    fail(l, ENOMEM, NULL, NULL);
    return;
  }
  const char **ids = strs, **objects = strs + b->n, **dests = strs + 2 * b->n;
  uint32_t nundone = 0;
  uint32_t linked = 0;
  for (uint32_t i = 0; i < b->n; i++) {
    const char *id = p;
    const char *object = id + strlen(id) + 1;
    const char *dest = object + strlen(object) + 1;
    p = dest + strlen(dest) + 1;
    ids[i] = id;
    objects[i] = object;
    dests[i] = dest;
    const int32_t *m = b->meta + 3 * i;
    int symlink = (m[0] & S_IFMT) == S_IFLNK;
    // An object is <root>/<shard>/<name>, a destination <directory>/<name>.
    const char *object_rel, *dest_name;
    int ofd = split_at(symlink ? &dirs->symlinks : &dirs->objects, object, 2, &object_rel);
    int dfd = split_at(&dirs->dest, dest, 1, &dest_name);
    struct stat st;
    int found = fstatat(ofd, object_rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
    // A symlink's shared copy not made yet (the first checkout of its target and owner) is made here, in
    // place: a symlink is whole from the moment it exists, so no temp name is needed. Made only where its
    // shard directory exists (else the walk makes both). It is looked at as any other, as is one another
    // checkout made meanwhile (EEXIST); as root, one made here is given the entry's owner only when it
    // does not have it already (made with this thread's ids, or given a set-group-ID directory's group).
    // One that does not fit is given back.
    int made = 0;
    if (!found && symlink && errno == ENOENT) {
      made = symlinkat(id, ofd, object_rel) == 0;
      if (made || errno == EEXIST) found = fstatat(ofd, object_rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
    }
    int owned = found && (!l->is_root || ((int32_t)st.st_uid == m[1] && (int32_t)st.st_gid == m[2]));
    if (found && made && !owned && S_ISLNK(st.st_mode)) owned = fchownat(ofd, object_rel, (uid_t)m[1], (gid_t)m[2], AT_SYMLINK_NOFOLLOW) == 0;
    int fits = found && (symlink ? S_ISLNK(st.st_mode) : S_ISREG(st.st_mode) && (int32_t)(st.st_mode & 07777) == m[0]) && owned;
    if (fits) {
      if (linkat(ofd, object_rel, dfd, dest_name, 0) == 0) {
        linked += !symlink; // files only: the checkout counts files linked
        continue;
      }
      // EPERM for a symlink: fs.protected_hardlinks refuses to link another user's.
      if (errno != EMLINK && !(symlink && errno == EPERM)) {
        fail(l, errno, object, dest);
        break;
      }
    }
    undone[nundone++] = i;
  }
  pthread_mutex_lock(&l->lock);
  l->linked += linked;
  for (uint32_t k = 0; k < nundone; k++) {
    uint32_t i = undone[k];
    if (give_back(l, ids[i], objects[i], dests[i], b->meta + 3 * i) != 0) {
      pthread_mutex_unlock(&l->lock);
      fail(l, ENOMEM, NULL, NULL);
      pthread_mutex_lock(&l->lock);
      break;
    }
  }
  pthread_mutex_unlock(&l->lock);
  free(undone);
  free(strs);
}

static void *thread_main(void *data) {
  linker *l = data;
  dircaches dirs = {.objects = {.fd = -1}, .symlinks = {.fd = -1}, .dest = {.fd = -1}};
  for (;;) {
    pthread_mutex_lock(&l->lock);
    while (!l->head && !l->ending && !l->aborted) pthread_cond_wait(&l->work, &l->lock);
    if (l->aborted || !l->head) {
      pthread_mutex_unlock(&l->lock);
      for (dircache *c = &dirs.objects; c <= &dirs.dest; c++)
        if (c->fd >= 0) close(c->fd);
      return NULL;
    }
    batch *b = l->head;
    l->head = b->next;
    if (!l->head) l->tail = NULL;
    pthread_mutex_unlock(&l->lock);
    if (!atomic_load(&l->failed)) run_batch(l, b, &dirs);
    free_batch(b);
    atomic_fetch_add(&l->finished, 1);
  }
}

// Stops taking batches (dropping those not begun when `abort`) and joins the threads.
static void end_threads(linker *l, int abort) {
  pthread_mutex_lock(&l->lock);
  l->ending = 1;
  if (abort) l->aborted = 1;
  pthread_cond_broadcast(&l->work);
  pthread_mutex_unlock(&l->lock);
  pthread_mutex_lock(&l->join_lock);
  if (!l->joined) {
    for (int i = 0; i < l->nthreads; i++) pthread_join(l->threads[i], NULL);
    l->joined = 1;
  }
  pthread_mutex_unlock(&l->join_lock);
  pthread_mutex_lock(&l->lock);
  // Batches never begun (stop(): dropped) count as finished, and as a failure: finish() must not report
  // success for files neither linked nor given back.
  int dropped = 0;
  for (batch *b = l->head; b;) {
    batch *next = b->next;
    free_batch(b);
    b = next;
    dropped++;
  }
  l->head = l->tail = NULL;
  pthread_mutex_unlock(&l->lock);
  if (dropped > 0) {
    atomic_fetch_add(&l->finished, dropped);
    fail(l, ECANCELED, NULL, NULL);
  }
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  linker *l = data;
  end_threads(l, 1);
  pthread_mutex_destroy(&l->lock);
  pthread_mutex_destroy(&l->join_lock);
  pthread_cond_destroy(&l->work);
  free(l->undone);
  free(l->undone_meta);
  free(l->err_object);
  free(l->err_dest);
  free(l);
}

// Marks the externals create() makes, so that no other external passes for a linker.
static const napi_type_tag LINKER_TAG = {0x74726f76656c696eULL, 0x6b65722d6e617469ULL};

static linker *get_linker(napi_env env, napi_value v) {
  void *data = NULL;
  bool tagged = false;
  if (napi_check_object_type_tag(env, v, &LINKER_TAG, &tagged) != napi_ok || !tagged) return NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok) return NULL;
  return data;
}

// The arguments of a call that takes the linker first and `want` arguments in
// all: the linker, or NULL when they are not that.
static linker *linker_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  return argc == want ? get_linker(env, argv[0]) : NULL;
}

// create(isRoot, threads): a linker with its threads started.
static napi_value js_create(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  bool is_root = false;
  int32_t threads = 1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_value_bool(env, argv[0], &is_root) != napi_ok ||
      napi_get_value_int32(env, argv[1], &threads) != napi_ok || threads < 1 || threads > MAX_THREADS)
    return throw_error(env, "create(isRoot, threads)");
  linker *l = calloc(1, sizeof(linker));
  if (!l) return throw_error(env, "out of memory");
  pthread_mutex_init(&l->lock, NULL);
  pthread_mutex_init(&l->join_lock, NULL);
  pthread_cond_init(&l->work, NULL);
  l->is_root = is_root;
  for (int i = 0; i < threads; i++) {
    if (pthread_create(&l->threads[i], NULL, thread_main, l) != 0) break;
    l->nthreads++;
  }
  if (l->nthreads == 0) {
    l->joined = 1;
    finalize(env, l, NULL);
    return throw_error(env, "cannot start a link thread");
  }
  napi_value out;
  if (napi_create_external(env, l, finalize, NULL, &out) != napi_ok || napi_type_tag_object(env, out, &LINKER_TAG) != napi_ok) {
    finalize(env, l, NULL);
    return throw_error(env, "cannot make the linker");
  }
  return out;
}

// post(linker, strings, meta): queues a batch; strings holds id, object and
// destination, NUL-terminated, for each of the meta.length / 3 files.
static napi_value js_post(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  linker *l = linker_args(env, info, 3, argv);
  void *strings = NULL, *meta = NULL;
  size_t strings_len = 0, meta_len = 0, offset = 0;
  napi_typedarray_type type;
  napi_value ab;
  if (!l || napi_get_buffer_info(env, argv[1], &strings, &strings_len) != napi_ok ||
      napi_get_typedarray_info(env, argv[2], &type, &meta_len, &meta, &ab, &offset) != napi_ok ||
      type != napi_int32_array || meta_len % 3 != 0)
    return throw_error(env, "post(linker, strings, meta)");
  if (meta_len / 3 > 65536) return throw_error(env, "post: more than 65536 files in one batch");
  uint32_t n = (uint32_t)(meta_len / 3);
  // Exactly 3n strings, the last one terminated: nothing is read past the copy.
  uint32_t nul = 0;
  for (size_t i = 0; i < strings_len; i++) nul += ((char *)strings)[i] == 0;
  if (nul != 3 * n || (strings_len > 0 && ((char *)strings)[strings_len - 1] != 0))
    return throw_error(env, "post: the strings do not match the files");
  batch *b = calloc(1, sizeof(batch));
  if (!b) return throw_error(env, "out of memory");
  b->n = n;
  b->strings = malloc(strings_len ? strings_len : 1);
  b->meta = malloc(meta_len ? meta_len * sizeof(int32_t) : 1);
  if (!b->strings || !b->meta) {
    free_batch(b);
    return throw_error(env, "out of memory");
  }
  memcpy(b->strings, strings, strings_len);
  memcpy(b->meta, meta, meta_len * sizeof(int32_t));
  pthread_mutex_lock(&l->lock);
  if (l->ending) {
    pthread_mutex_unlock(&l->lock);
    free_batch(b);
    return throw_error(env, "the linker is finished");
  }
  atomic_fetch_add(&l->posted, 1);
  if (l->tail)
    l->tail->next = b;
  else
    l->head = b;
  l->tail = b;
  pthread_cond_signal(&l->work);
  pthread_mutex_unlock(&l->lock);
  return NULL;
}

// pending(linker): batches posted and not finished; -1 once a link failed.
static napi_value js_pending(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  linker *l = linker_args(env, info, 1, argv);
  if (!l) return throw_error(env, "pending(linker)");
  int32_t pending = atomic_load(&l->failed) ? -1 : atomic_load(&l->posted) - atomic_load(&l->finished);
  napi_create_int32(env, pending, &out);
  return out;
}

typedef struct {
  napi_async_work work;
  napi_ref done, handle;
  linker *l;
} finishing;

// Holds one thread of libuv's pool until the links are made (a few hundred
// ms for a system's tree): other work of the pool waits behind it only when
// the pool's threads are all taken.
static void finish_execute(napi_env env, void *data) {
  (void)env;
  finishing *f = data;
  end_threads(f->l, 0);
}

static napi_value string_or_null(napi_env env, const char *s) {
  napi_value v;
  if (s)
    napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  else
    napi_get_null(env, &v);
  return v;
}

static void finish_complete(napi_env env, napi_status status, void *data) {
  (void)status;
  finishing *f = data;
  linker *l = f->l;
  napi_value result, v, done, undefined, ab;
  napi_create_object(env, &result);
  napi_create_double(env, l->linked, &v);
  napi_set_named_property(env, result, "linked", v);
  napi_create_buffer_copy(env, l->undone_len, l->undone ? l->undone : "", NULL, &v);
  napi_set_named_property(env, result, "undone", v);
  void *meta = NULL;
  napi_create_arraybuffer(env, l->undone_n * 3 * sizeof(int32_t), &meta, &ab);
  if (l->undone_n) memcpy(meta, l->undone_meta, l->undone_n * 3 * sizeof(int32_t));
  napi_create_typedarray(env, napi_int32_array, l->undone_n * 3, ab, 0, &v);
  napi_set_named_property(env, result, "undoneMeta", v);
  napi_create_int32(env, atomic_load(&l->failed) ? l->err_no : 0, &v);
  napi_set_named_property(env, result, "errno", v);
  napi_set_named_property(env, result, "object", string_or_null(env, l->err_object));
  napi_set_named_property(env, result, "dest", string_or_null(env, l->err_dest));
  if (napi_get_reference_value(env, f->done, &done) == napi_ok && done) {
    napi_get_undefined(env, &undefined);
    if (napi_call_function(env, undefined, done, 1, &result, NULL) != napi_ok) {
      napi_value e;
      napi_get_and_clear_last_exception(env, &e);
    }
  }
  napi_delete_reference(env, f->done);
  napi_delete_reference(env, f->handle);
  napi_delete_async_work(env, f->work);
  free(f);
}

// finish(linker, done): makes what was posted, joins the threads (off the
// JavaScript thread), then calls done({ linked, undone, undoneMeta, errno,
// object, dest }).
static napi_value js_finish(napi_env env, napi_callback_info info) {
  napi_value argv[2], name;
  napi_valuetype type;
  linker *l = linker_args(env, info, 2, argv);
  if (!l || napi_typeof(env, argv[1], &type) != napi_ok || type != napi_function) return throw_error(env, "finish(linker, done)");
  finishing *f = calloc(1, sizeof(finishing));
  if (!f) return throw_error(env, "out of memory");
  f->l = l;
  napi_create_string_utf8(env, "trove-link-finish", NAPI_AUTO_LENGTH, &name);
  if (napi_create_reference(env, argv[1], 1, &f->done) != napi_ok ||
      napi_create_reference(env, argv[0], 1, &f->handle) != napi_ok ||
      napi_create_async_work(env, NULL, name, finish_execute, finish_complete, f, &f->work) != napi_ok ||
      napi_queue_async_work(env, f->work) != napi_ok) {
    if (f->work) napi_delete_async_work(env, f->work);
    if (f->handle) napi_delete_reference(env, f->handle);
    if (f->done) napi_delete_reference(env, f->done);
    free(f);
    return throw_error(env, "cannot queue the linker's finish");
  }
  return NULL;
}

// stop(linker): drops the batches not begun and joins the threads (each ends
// the batch it is making, at most a few milliseconds).
static napi_value js_stop(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  linker *l = linker_args(env, info, 1, argv);
  if (!l) return throw_error(env, "stop(linker)");
  end_threads(l, 1);
  return NULL;
}

static napi_value init_module(napi_env env, napi_value exports) {
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {{"create", js_create}, {"post", js_post}, {"pending", js_pending}, {"finish", js_finish}, {"stop", js_stop}};
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f);
    napi_set_named_property(env, exports, fns[i].name, f);
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init_module)
