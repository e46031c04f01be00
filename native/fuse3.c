// trove's binding of libfuse 3's high-level (path-based) API, for the view
// (src/fuse/native.ts). libfuse 2, which fuse-native binds, has no
// READDIRPLUS: the kernel then asks for every name of a directory it lists
// one by one. Through libfuse 3 a listing carries each entry's attributes,
// and a walk of a commit costs a request per directory instead of one per
// entry (docs/fuse.md, "libfuse 3 and READDIRPLUS").
//
// libfuse calls the operations below on its own threads. Each one hands its
// request to the JavaScript thread (a thread-safe function) and sleeps until
// JavaScript answers through the `reply` function it was given, which fills
// libfuse's buffers and wakes the thread. One mount per process.
#define FUSE_USE_VERSION 35
#define NAPI_VERSION 8
#include <errno.h>
#include <fuse.h>
#include <node_api.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

enum op { OP_INIT, OP_GETATTR, OP_READDIR, OP_READLINK, OP_OPEN, OP_READ, OP_STATFS, OP_GETXATTR, OP_LISTXATTR };

// The numbers of a stat as JavaScript sends them (a Float64Array per entry).
enum { ST_INO, ST_MODE, ST_NLINK, ST_UID, ST_GID, ST_SIZE, ST_BLOCKS, ST_BLKSIZE, ST_ATIME, ST_MTIME, ST_CTIME, ST_FIELDS };

// One request. Owned by the libfuse thread that made it and by the reply
// function JavaScript holds; freed when both are done with it. `abandoned`
// says the libfuse thread is gone (cancelled when the loop ends), so its
// buffers must not be touched.
typedef struct {
  int op;
  const char *path;
  const char *name;
  char *buf;
  size_t size;
  off_t off;
  int flags;
  struct stat *st;
  struct statvfs *sv;
  void *dirbuf;
  fuse_fill_dir_t filler;
  int result;
  int answered;
  int abandoned;
  int refs;
  sem_t done;
} request;

typedef struct {
  struct fuse *fuse;
  napi_threadsafe_function tsfn;
  int readdirplus;
  int closing;
} mount_state;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void unref(request *r) {
  int last;
  pthread_mutex_lock(&lock);
  last = --r->refs == 0;
  pthread_mutex_unlock(&lock);
  if (last) {
    sem_destroy(&r->done);
    free(r);
  }
}

static void abandon(void *arg) {
  request *r = arg;
  pthread_mutex_lock(&lock);
  r->abandoned = 1;
  pthread_mutex_unlock(&lock);
  unref(r);
}

// Runs on a libfuse thread: hands `r` to JavaScript and waits for its answer.
// Two references: this thread's, and the queued call's, which passes to the
// reply function (or is dropped by call_js when the queue is torn down).
static int ask(request *r) {
  mount_state *m = fuse_get_context()->private_data;
  int result;
  r->refs = 2;
  r->answered = 0;
  r->abandoned = 0;
  sem_init(&r->done, 0, 0);
  if (m->closing || napi_call_threadsafe_function(m->tsfn, r, napi_tsfn_blocking) != napi_ok) {
    unref(r);
    unref(r);
    return -EIO;
  }
  pthread_cleanup_push(abandon, r);
  while (sem_wait(&r->done) != 0 && errno == EINTR) {
  }
  pthread_cleanup_pop(0);
  result = r->result;
  unref(r);
  return result;
}

static request *make(int op, const char *path) {
  request *r = calloc(1, sizeof(request));
  if (r) {
    r->op = op;
    r->path = path;
  }
  return r;
}

// A request that answers into libfuse's buffer `buf` of `size` bytes.
static request *make_buf(int op, const char *path, char *buf, size_t size) {
  request *r = make(op, path);
  if (r) {
    r->buf = buf;
    r->size = size;
  }
  return r;
}

#define ASK(r) ((r) ? ask(r) : -ENOMEM)

static void *trove_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
  mount_state *m = fuse_get_context()->private_data;
  cfg->use_ino = 1;
  cfg->kernel_cache = 1;
  if (m->readdirplus && (conn->capable & FUSE_CAP_READDIRPLUS)) {
    conn->want |= FUSE_CAP_READDIRPLUS;
    conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
  } else {
    conn->want &= ~(FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO);
  }
  request *r = make(OP_INIT, "/");
  ASK(r);
  return m;
}

static int trove_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
  (void)fi;
  request *r = make(OP_GETATTR, path);
  if (r) r->st = st;
  return ASK(r);
}

// Entries are given with offsets (the nth entry's is n + 1), and only as
// many as libfuse's buffer takes: libfuse 3.14 drops the attributes of a
// READDIRPLUS listing that is filled whole at offset 0.
static int trove_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off, struct fuse_file_info *fi,
                         enum fuse_readdir_flags flags) {
  (void)fi;
  request *r = make(OP_READDIR, path);
  if (r) {
    r->dirbuf = buf;
    r->filler = filler;
    r->off = off;
    r->flags = (flags & FUSE_READDIR_PLUS) ? 1 : 0;
  }
  return ASK(r);
}

static int trove_readlink(const char *path, char *buf, size_t size) {
  request *r = make_buf(OP_READLINK, path, buf, size);
  return ASK(r);
}

static int trove_open(const char *path, struct fuse_file_info *fi) {
  request *r = make(OP_OPEN, path);
  if (r) r->flags = fi->flags;
  return ASK(r);
}

static int trove_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)fi;
  request *r = make_buf(OP_READ, path, buf, size);
  if (r) r->off = off;
  return ASK(r);
}

static int trove_statfs(const char *path, struct statvfs *sv) {
  request *r = make(OP_STATFS, path);
  if (r) r->sv = sv;
  return ASK(r);
}

static int trove_getxattr(const char *path, const char *name, char *buf, size_t size) {
  request *r = make_buf(OP_GETXATTR, path, buf, size);
  if (r) r->name = name;
  return ASK(r);
}

static int trove_listxattr(const char *path, char *buf, size_t size) {
  request *r = make_buf(OP_LISTXATTR, path, buf, size);
  return ASK(r);
}

// Directories under this prefix never change (the view's commits): the
// kernel may keep their listings for as long as it keeps their inodes.
static char immutable_prefix[256];

static int trove_opendir(const char *path, struct fuse_file_info *fi) {
  size_t n = strlen(immutable_prefix);
  if (n > 0 && strncmp(path, immutable_prefix, n) == 0 && path[n] != '\0') {
    fi->cache_readdir = 1;
    fi->keep_cache = 1;
  }
  return 0;
}

static const struct fuse_operations operations = {
    .init = trove_init,
    .opendir = trove_opendir,
    .getattr = trove_getattr,
    .readdir = trove_readdir,
    .readlink = trove_readlink,
    .open = trove_open,
    .read = trove_read,
    .statfs = trove_statfs,
    .getxattr = trove_getxattr,
    .listxattr = trove_listxattr,
};

// ---- JavaScript's side ----

static int stat_from(napi_env env, napi_value arr, size_t index, struct stat *st) {
  void *data;
  size_t length;
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, arr, &type, &length, &data, NULL, NULL) != napi_ok || type != napi_float64_array ||
      length < (index + 1) * ST_FIELDS)
    return -EIO;
  const double *s = (const double *)data + index * ST_FIELDS;
  memset(st, 0, sizeof(*st));
  st->st_ino = (ino_t)s[ST_INO];
  st->st_mode = (mode_t)s[ST_MODE];
  st->st_nlink = (nlink_t)s[ST_NLINK];
  st->st_uid = (uid_t)s[ST_UID];
  st->st_gid = (gid_t)s[ST_GID];
  st->st_size = (off_t)s[ST_SIZE];
  st->st_blocks = (blkcnt_t)s[ST_BLOCKS];
  st->st_blksize = (blksize_t)s[ST_BLKSIZE];
  const double times[3] = {s[ST_ATIME], s[ST_MTIME], s[ST_CTIME]};
  struct timespec *ts[3] = {&st->st_atim, &st->st_mtim, &st->st_ctim};
  for (int i = 0; i < 3; i++) {
    int64_t ms = (int64_t)times[i];
    ts[i]->tv_sec = ms / 1000;
    ts[i]->tv_nsec = (long)((ms % 1000) * 1000000);
  }
  return 0;
}

// Copies `bytes` into libfuse's buffer the way getxattr(2) and listxattr(2) answer.
static int sized_answer(request *r, const char *bytes, size_t length) {
  if (r->size == 0) return (int)length;
  if (length > r->size) return -ERANGE;
  memcpy(r->buf, bytes, length);
  return (int)length;
}

static int answer(napi_env env, request *r, size_t argc, napi_value *argv) {
  int32_t result = -EIO;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &result) != napi_ok) return -EIO;
  if (result < 0 || r->op == OP_INIT || r->op == OP_OPEN || r->op == OP_READ) return result;
  switch (r->op) {
    case OP_GETATTR:
      return argc < 2 ? -EIO : stat_from(env, argv[1], 0, r->st);
    case OP_READDIR: {
      uint32_t n;
      if (argc < 3 || napi_get_array_length(env, argv[1], &n) != napi_ok) return -EIO;
      bool plus = r->flags != 0;
      if (argc >= 4 && plus) napi_get_value_bool(env, argv[3], &plus);
      for (uint32_t i = 0; i < n; i++) {
        napi_value v;
        char name[1024];
        size_t len;
        struct stat st;
        if (napi_get_element(env, argv[1], i, &v) != napi_ok ||
            napi_get_value_string_utf8(env, v, name, sizeof(name), &len) != napi_ok || len >= sizeof(name) - 1)
          return -EIO;
        if (stat_from(env, argv[2], i, &st) != 0) return -EIO;
        // Full: the kernel asks again from the first offset not given.
        if (r->filler(r->dirbuf, name, &st, r->off + i + 1, plus ? FUSE_FILL_DIR_PLUS : 0)) break;
      }
      return 0;
    }
    case OP_READLINK: {
      size_t len;
      if (argc < 2 || r->size == 0 || napi_get_value_string_utf8(env, argv[1], r->buf, r->size, &len) != napi_ok)
        return -EIO;
      return 0;
    }
    case OP_STATFS: {
      void *data;
      size_t length;
      napi_typedarray_type type;
      if (argc < 2 || napi_get_typedarray_info(env, argv[1], &type, &length, &data, NULL, NULL) != napi_ok ||
          type != napi_float64_array || length < 11)
        return -EIO;
      const double *s = data;
      memset(r->sv, 0, sizeof(*r->sv));
      r->sv->f_bsize = (unsigned long)s[0];
      r->sv->f_frsize = (unsigned long)s[1];
      r->sv->f_blocks = (fsblkcnt_t)s[2];
      r->sv->f_bfree = (fsblkcnt_t)s[3];
      r->sv->f_bavail = (fsblkcnt_t)s[4];
      r->sv->f_files = (fsfilcnt_t)s[5];
      r->sv->f_ffree = (fsfilcnt_t)s[6];
      r->sv->f_favail = (fsfilcnt_t)s[7];
      r->sv->f_fsid = (unsigned long)s[8];
      r->sv->f_flag = (unsigned long)s[9];
      r->sv->f_namemax = (unsigned long)s[10];
      return 0;
    }
    case OP_GETXATTR:
    case OP_LISTXATTR: {
      void *data;
      size_t length;
      bool is;
      if (argc < 2 || napi_is_buffer(env, argv[1], &is) != napi_ok || !is ||
          napi_get_buffer_info(env, argv[1], &data, &length) != napi_ok)
        return -EIO;
      return sized_answer(r, data, length);
    }
  }
  return -EIO;
}

static napi_value on_reply(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  request *r;
  napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&r);
  pthread_mutex_lock(&lock);
  if (!r->answered) {
    r->answered = 1;
    if (!r->abandoned) {
      r->result = answer(env, r, argc, argv);
      sem_post(&r->done);
    }
  }
  pthread_mutex_unlock(&lock);
  return NULL;
}

static void reply_gone(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  unref(data);
}

static napi_value str(napi_env env, const char *s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

static napi_value num(napi_env env, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  return v;
}

// Answers EIO for a request JavaScript will not answer, unless it was
// answered or its libfuse thread is gone already.
static void fail_request(request *r) {
  pthread_mutex_lock(&lock);
  if (!r->answered && !r->abandoned) {
    r->answered = 1;
    r->result = -EIO;
    sem_post(&r->done);
  }
  pthread_mutex_unlock(&lock);
}

// Runs on the JavaScript thread: dispatch(op, path, ...args, reply).
static void call_js(napi_env env, napi_value dispatch, void *context, void *data) {
  (void)context;
  request *r = data;
  if (env == NULL) {
    // The mount is going away.
    fail_request(r);
    unref(r);
    return;
  }
  napi_value argv[6];
  size_t argc = 0;
  napi_value reply, undefined;
  argv[argc++] = num(env, r->op);
  argv[argc++] = str(env, r->path);
  switch (r->op) {
    case OP_READDIR:
      argv[argc++] = num(env, r->flags);
      argv[argc++] = num(env, (double)r->off);
      break;
    case OP_OPEN:
      argv[argc++] = num(env, r->flags);
      break;
    case OP_READ: {
      napi_value b;
      napi_create_external_buffer(env, r->size, r->buf, NULL, NULL, &b);
      argv[argc++] = b;
      argv[argc++] = num(env, (double)r->off);
      break;
    }
    case OP_GETXATTR:
      argv[argc++] = str(env, r->name);
      break;
  }
  // The queued call's reference passes to the reply function, dropped when it is collected.
  napi_create_function(env, "reply", NAPI_AUTO_LENGTH, on_reply, r, &reply);
  napi_add_finalizer(env, reply, r, reply_gone, NULL, NULL);
  argv[argc++] = reply;
  napi_get_undefined(env, &undefined);
  if (napi_call_function(env, undefined, dispatch, argc, argv, NULL) != napi_ok) {
    napi_value e;
    napi_get_and_clear_last_exception(env, &e);
    fail_request(r);
  }
}

static void *loop_main(void *arg) {
  mount_state *m = arg;
  struct fuse_loop_config config = {.clone_fd = 0, .max_idle_threads = 10};
  fuse_loop_mt(m->fuse, &config);
  return NULL;
}

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

// mount(mountpoint, args: string[], dispatch, readdirplus: boolean, immutablePrefix: string) → handle
static napi_value js_mount(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5) return throw_error(env, "mount(mountpoint, args, dispatch, readdirplus, immutablePrefix)");
  size_t plen;
  if (napi_get_value_string_utf8(env, argv[4], immutable_prefix, sizeof(immutable_prefix), &plen) != napi_ok ||
      plen >= sizeof(immutable_prefix) - 1)
    return throw_error(env, "immutablePrefix: expected a short string");
  char mountpoint[4096];
  size_t len;
  if (napi_get_value_string_utf8(env, argv[0], mountpoint, sizeof(mountpoint), &len) != napi_ok ||
      len >= sizeof(mountpoint) - 1)
    return throw_error(env, "mount point: expected a path shorter than 4095 bytes");
  uint32_t n;
  if (napi_get_array_length(env, argv[1], &n) != napi_ok || n > 64) return throw_error(env, "args: expected an array");
  char **args = calloc(n + 1, sizeof(char *));
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    char s[4096];
    napi_get_element(env, argv[1], i, &v);
    if (napi_get_value_string_utf8(env, v, s, sizeof(s), &len) != napi_ok) {
      for (uint32_t j = 0; j < i; j++) free(args[j]);
      free(args);
      return throw_error(env, "args: expected strings");
    }
    args[i] = strdup(s);
  }
  bool plus = false;
  napi_get_value_bool(env, argv[3], &plus);

  mount_state *m = calloc(1, sizeof(mount_state));
  m->readdirplus = plus;
  napi_value name = str(env, "trove-fuse3");
  if (napi_create_threadsafe_function(env, argv[2], NULL, name, 0, 1, NULL, NULL, NULL, call_js, &m->tsfn) != napi_ok)
    return throw_error(env, "cannot make a thread-safe function");
  struct fuse_args fargs = FUSE_ARGS_INIT((int)n, args);
  m->fuse = fuse_new(&fargs, &operations, sizeof(operations), m);
  fuse_opt_free_args(&fargs);
  if (m->fuse == NULL) {
    napi_release_threadsafe_function(m->tsfn, napi_tsfn_abort);
    free(m);
    return throw_error(env, "fuse_new failed");
  }
  if (fuse_mount(m->fuse, mountpoint) != 0) {
    fuse_destroy(m->fuse);
    napi_release_threadsafe_function(m->tsfn, napi_tsfn_abort);
    free(m);
    return throw_error(env, "fuse_mount failed");
  }
  pthread_t thread;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (pthread_create(&thread, &attr, loop_main, m) != 0) {
    fuse_unmount(m->fuse);
    fuse_destroy(m->fuse);
    napi_release_threadsafe_function(m->tsfn, napi_tsfn_abort);
    free(m);
    return throw_error(env, "cannot start libfuse's thread");
  }
  pthread_attr_destroy(&attr);
  napi_value handle;
  napi_create_external(env, m, NULL, NULL, &handle);
  return handle;
}

// unmount(handle): ends the loop and detaches the mount (lazily, as
// `umount -l`: a busy mount goes away once its last user leaves). The loop's
// threads end when the kernel closes the connection, at the latest when the
// process exits; nothing waits for them here, since one may be waiting for a
// reply that only this thread could give.
static napi_value js_unmount(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  mount_state *m;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_external(env, argv[0], (void **)&m) != napi_ok || m == NULL)
    return throw_error(env, "unmount(handle)");
  if (m->closing) return NULL;
  m->closing = 1;
  fuse_exit(m->fuse);
  fuse_unmount(m->fuse);
  napi_release_threadsafe_function(m->tsfn, napi_tsfn_abort);
  return NULL;
}

static napi_value init_module(napi_env env, napi_value exports) {
  napi_value f;
  napi_create_function(env, "mount", NAPI_AUTO_LENGTH, js_mount, NULL, &f);
  napi_set_named_property(env, exports, "mount", f);
  napi_create_function(env, "unmount", NAPI_AUTO_LENGTH, js_unmount, NULL, &f);
  napi_set_named_property(env, exports, "unmount", f);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init_module)
