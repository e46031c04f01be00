// trove's binding of libfuse 3's low-level API, for the view
// (src/fuse/native.ts). libfuse 2, which fuse-native binds, has no
// READDIRPLUS, one timeout for every absent name of the mount, and no way to
// let the kernel keep a directory's listing; through the low-level API of
// libfuse 3 the view answers listings with their entries' attributes, gives
// each answer its own timeouts, and lets the kernel keep the listings of
// commits (docs/fuse.md, "libfuse 3").
//
// The JavaScript thread reads the requests itself: Node's event loop polls
// the FUSE device (a libuv poll handle), and when it is readable the requests
// waiting there are read and handed to JavaScript one after another, in one
// callback scope. A request handed from a reading thread of libfuse's
// instead (a thread-safe function) cost two thread wake-ups more, a
// round trip the kernel's reader waits for (docs/design-notes.md, "The view
// reads its requests on the JavaScript thread"). JavaScript answers through
// reply(id, ...), at once or later. A request is named by an id
// (slot and generation): an answer for a request already answered, or one
// whose mount is gone, finds no slot and does nothing. One mount per process.
#define FUSE_USE_VERSION 35
#define NAPI_VERSION 8
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <node_api.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

// libuv, as Node exports it to addons (stable within libuv 1.x): the little
// the poll of the FUSE device needs, declared here because the Node-API
// headers do not ship uv.h. A handle's size is asked of libuv at run time.
struct uv_poll_s;
struct uv_handle_s;
extern size_t uv_handle_size(int type);
extern int uv_poll_init(struct uv_loop_s *loop, struct uv_poll_s *handle, int fd);
extern int uv_poll_start(struct uv_poll_s *handle, int events, void (*cb)(struct uv_poll_s *handle, int status, int events));
extern int uv_poll_stop(struct uv_poll_s *handle);
extern void uv_close(struct uv_handle_s *handle, void (*cb)(struct uv_handle_s *handle));
#define TROVE_UV_POLL 8  // UV_POLL in uv_handle_type
#define TROVE_UV_READABLE 1
// Requests read in one turn of the event loop at most, so that timers and other I/O get their turn.
#define BATCH 64

enum op {
  OP_INIT,
  OP_LOOKUP,
  OP_FORGET,
  OP_GETATTR,
  OP_READLINK,
  OP_OPENDIR,
  OP_READDIR,
  OP_OPEN,
  OP_READ,
  OP_STATFS,
  OP_GETXATTR,
  OP_LISTXATTR,
  OP_RELEASEDIR
};

// The numbers of an entry as JavaScript sends them (a Float64Array, ST_FIELDS
// per entry): its stat, then the seconds the kernel may keep its name and its
// attributes.
enum {
  ST_INO,
  ST_MODE,
  ST_NLINK,
  ST_UID,
  ST_GID,
  ST_SIZE,
  ST_BLOCKS,
  ST_BLKSIZE,
  ST_ATIME,
  ST_MTIME,
  ST_CTIME,
  ST_ENTRY_TIMEOUT,
  ST_ATTR_TIMEOUT,
  ST_FIELDS
};

typedef struct {
  int op;
  uint32_t slot;
  uint32_t gen;
  fuse_req_t req;
  fuse_ino_t ino;
  char *name;  // lookup: the name; getxattr: the attribute
  size_t size;
  off_t off;
  uint64_t nlookup;
  int flags;
  uint64_t fh;  // readdir, releasedir: the handle JavaScript gave the directory's open (0: none)
  char *buf;  // read: where JavaScript reads to
  size_t cap;  // its size, at least `size`
} request;

// Requests waiting for JavaScript's answer, by slot. Guarded by `lock`.
#define SLOTS 65536
static request *slots[SLOTS];
static uint32_t generations[SLOTS];
static uint32_t free_slots[SLOTS];
static uint32_t free_count;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct {
  struct fuse_session *se;
  napi_env env;
  napi_ref dispatch;
  napi_async_context context;
  struct uv_poll_s *poll;
  struct fuse_buf buf;
  int readdirplus;
  int closing;
  // The connection's descriptor as invalidations write to it: a copy of libfuse's, which unmount
  // closes while a pool thread may be about to write (its number could by then be another file's).
  // Closed once the mount is closing and no invalidation is under way. Guarded by `lock`.
  int notify_fd;
  int invalidating;
} mount_state;

static mount_state *current;

// Closes the mount's copy of the device descriptor once it is closing and no invalidation is under
// way. Called holding `lock`.
static void close_notify_if_idle(mount_state *m) {
  if (m->closing && m->invalidating == 0 && m->notify_fd >= 0) {
    close(m->notify_fd);
    m->notify_fd = -1;
  }
}

// Read buffers, kept for the next reads: a fresh one of 128 KiB or more is
// mapped and faulted in page by page on every read. Guarded by `lock`.
#define KEPT_BUFFERS 8
static struct {
  char *buf;
  size_t size;
} kept_buffers[KEPT_BUFFERS];

static char *take_buffer(size_t size, size_t *cap) {
  pthread_mutex_lock(&lock);
  for (int i = 0; i < KEPT_BUFFERS; i++) {
    if (kept_buffers[i].buf && kept_buffers[i].size >= size) {
      char *b = kept_buffers[i].buf;
      *cap = kept_buffers[i].size;
      kept_buffers[i].buf = NULL;
      pthread_mutex_unlock(&lock);
      return b;
    }
  }
  pthread_mutex_unlock(&lock);
  *cap = size < 4096 ? 4096 : size;
  return malloc(*cap);
}

static void give_buffer(char *buf, size_t size) {
  pthread_mutex_lock(&lock);
  for (int i = 0; i < KEPT_BUFFERS; i++) {
    if (!kept_buffers[i].buf) {
      kept_buffers[i].buf = buf;
      kept_buffers[i].size = size;
      pthread_mutex_unlock(&lock);
      return;
    }
  }
  pthread_mutex_unlock(&lock);
  free(buf);
}

static void drop(request *r) {
  free(r->name);
  if (r->buf) give_buffer(r->buf, r->cap);
  free(r);
}

// Gives `r` a slot; false when every slot is taken.
static int enlist(request *r) {
  pthread_mutex_lock(&lock);
  if (free_count == 0) {
    pthread_mutex_unlock(&lock);
    return 0;
  }
  r->slot = free_slots[--free_count];
  r->gen = ++generations[r->slot];
  slots[r->slot] = r;
  pthread_mutex_unlock(&lock);
  return 1;
}

// Takes the request named by `id` out of its slot (it is then the caller's),
// or NULL when there is none: answered already, or never there.
static request *claim(double id) {
  if (!(id >= 0)) return NULL;
  uint64_t n = (uint64_t)id;
  uint32_t slot = (uint32_t)(n % SLOTS), gen = (uint32_t)(n / SLOTS);
  request *r = NULL;
  pthread_mutex_lock(&lock);
  if (slots[slot] && slots[slot]->gen == gen) {
    r = slots[slot];
    slots[slot] = NULL;
    free_slots[free_count++] = slot;
  }
  pthread_mutex_unlock(&lock);
  return r;
}

static double id_of(request *r) { return (double)r->gen * SLOTS + r->slot; }

// Answers request `id` EIO if it is still in its slot, and frees it.
static void answer_eio(double id) {
  request *r = claim(id);
  if (!r) return;
  if (r->req) fuse_reply_err(r->req, EIO);
  drop(r);
}

// Forgets and the init take no answer: they need no slot, and are done once JavaScript has seen them.
static int answered(const request *r) { return r->op != OP_FORGET && r->op != OP_INIT; }

static void call_js(napi_env env, napi_value dispatch, request *r);

// Hands `r` to JavaScript; false once the mount is closing.
static int queue(request *r) {
  mount_state *m = current;
  napi_value dispatch;
  if (m->closing || napi_get_reference_value(m->env, m->dispatch, &dispatch) != napi_ok || dispatch == NULL) return 0;
  call_js(m->env, dispatch, r);
  return 1;
}

// Runs on the JavaScript thread, inside libfuse's processing of a request: hands `r` to JavaScript,
// or answers EIO at once.
static void ask(request *r) {
  if (!answered(r)) {
    if (!queue(r)) drop(r);
    return;
  }
  if (!enlist(r)) {
    fuse_reply_err(r->req, EIO);
    drop(r);
    return;
  }
  if (!queue(r)) answer_eio(id_of(r));
}

static request *make(int op, fuse_req_t req, fuse_ino_t ino) {
  request *r = calloc(1, sizeof(request));
  if (!r) {
    fuse_reply_err(req, ENOMEM);
    return NULL;
  }
  r->op = op;
  r->req = req;
  r->ino = ino;
  return r;
}

static void trove_init(void *userdata, struct fuse_conn_info *conn) {
  mount_state *m = userdata;
  if (m->readdirplus && (conn->capable & FUSE_CAP_READDIRPLUS)) {
    conn->want |= FUSE_CAP_READDIRPLUS;
    conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
  } else {
    conn->want &= ~(FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO);
  }
  // Nothing is written: no need for the kernel to fetch attributes before writes, nor to check data.
  conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
  // Symlink targets kept by the kernel: those of commits never change, and a ref or profile that
  // moves is invalidated by the daemon when it sees it move (invalidate() below).
  if (conn->capable & FUSE_CAP_CACHE_SYMLINKS) conn->want |= FUSE_CAP_CACHE_SYMLINKS;
  request *r = calloc(1, sizeof(request));
  if (r) {
    r->op = OP_INIT;
    ask(r);
  }
}

// A request that names something (an entry, an attribute): the name is copied, libfuse's is gone once the op returns.
static request *make_named(int op, fuse_req_t req, fuse_ino_t ino, const char *name) {
  request *r = make(op, req, ino);
  if (!r) return NULL;
  r->name = strdup(name);
  if (!r->name) {
    fuse_reply_err(req, ENOMEM);
    free(r);
    return NULL;
  }
  return r;
}

static void trove_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
  request *r = make_named(OP_LOOKUP, req, parent, name);
  if (r) ask(r);
}

static void forget_one(fuse_ino_t ino, uint64_t nlookup) {
  request *r = calloc(1, sizeof(request));
  if (!r) return;
  r->op = OP_FORGET;
  r->ino = ino;
  r->nlookup = nlookup;
  ask(r);
}

static void trove_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  forget_one(ino, nlookup);
  fuse_reply_none(req);
}

static void trove_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets) {
  for (size_t i = 0; i < count; i++) forget_one(forgets[i].ino, forgets[i].nlookup);
  fuse_reply_none(req);
}

static void trove_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  (void)fi;
  request *r = make(OP_GETATTR, req, ino);
  if (r) ask(r);
}

static void trove_readlink(fuse_req_t req, fuse_ino_t ino) {
  request *r = make(OP_READLINK, req, ino);
  if (r) ask(r);
}

// An open of a file or directory: JavaScript answers with the open's flags.
static void ask_open(int op, fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  request *r = make(op, req, ino);
  if (r) {
    r->flags = fi->flags;
    ask(r);
  }
}

static void trove_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  ask_open(OP_OPENDIR, req, ino, fi);
}

// The release of a file: nothing is kept per open.
static void trove_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  (void)ino;
  (void)fi;
  fuse_reply_err(req, 0);
}

// The release of a directory: JavaScript drops the listing it kept for the open's handle, if any.
static void trove_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  if (fi->fh == 0) {
    fuse_reply_err(req, 0);
    return;
  }
  request *r = make(OP_RELEASEDIR, req, ino);
  if (r) {
    r->fh = fi->fh;
    ask(r);
  }
}

static void readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, int plus, uint64_t fh) {
  request *r = make(OP_READDIR, req, ino);
  if (!r) return;
  r->fh = fh;
  r->size = size;
  r->off = off;
  r->flags = plus;
  ask(r);
}

static void trove_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  readdir_common(req, ino, size, off, 0, fi->fh);
}

static void trove_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  readdir_common(req, ino, size, off, 1, fi->fh);
}

static void trove_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  ask_open(OP_OPEN, req, ino, fi);
}

static void trove_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)fi;
  request *r = make(OP_READ, req, ino);
  if (!r) return;
  r->size = size;
  r->off = off;
  r->buf = take_buffer(size, &r->cap);
  if (!r->buf) {
    fuse_reply_err(req, ENOMEM);
    free(r);
    return;
  }
  ask(r);
}

static void trove_statfs(fuse_req_t req, fuse_ino_t ino) {
  request *r = make(OP_STATFS, req, ino);
  if (r) ask(r);
}

static void trove_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size) {
  request *r = make_named(OP_GETXATTR, req, ino, name);
  if (!r) return;
  r->size = size;
  ask(r);
}

static void trove_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  request *r = make(OP_LISTXATTR, req, ino);
  if (!r) return;
  r->size = size;
  ask(r);
}

static const struct fuse_lowlevel_ops operations = {
    .init = trove_init,
    .lookup = trove_lookup,
    .forget = trove_forget,
    .forget_multi = trove_forget_multi,
    .getattr = trove_getattr,
    .readlink = trove_readlink,
    .opendir = trove_opendir,
    .readdir = trove_readdir,
    .readdirplus = trove_readdirplus,
    .releasedir = trove_releasedir,
    .open = trove_open,
    .release = trove_release,
    .read = trove_read,
    .statfs = trove_statfs,
    .getxattr = trove_getxattr,
    .listxattr = trove_listxattr,
};

// ---- JavaScript's side ----

static const double *numbers(napi_env env, napi_value arr, size_t at_least) {
  void *data;
  size_t length;
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, arr, &type, &length, &data, NULL, NULL) != napi_ok || type != napi_float64_array ||
      length < at_least)
    return NULL;
  return data;
}

static void stat_from(const double *s, struct stat *st) {
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
}

static void entry_from(const double *s, struct fuse_entry_param *e) {
  memset(e, 0, sizeof(*e));
  stat_from(s, &e->attr);
  e->ino = (fuse_ino_t)s[ST_INO];
  e->generation = 1;
  e->entry_timeout = s[ST_ENTRY_TIMEOUT];
  e->attr_timeout = s[ST_ATTR_TIMEOUT];
}

static int get_string(napi_env env, napi_value v, char **out) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return -EIO;
  *out = malloc(len + 1);
  if (!*out) return -ENOMEM;
  napi_get_value_string_utf8(env, v, *out, len + 1, &len);
  return 0;
}

// A listing's part: entries of the whole listing from index `from` (the part at r->off) as fit in r->size bytes.
// Returns how many the kernel took (0 when it took none), or -errno.
static int reply_dir(napi_env env, request *r, napi_value names, napi_value stats, bool plus, uint32_t from) {
  uint32_t n;
  if (napi_get_array_length(env, names, &n) != napi_ok) return -EIO;
  const double *s = numbers(env, stats, (size_t)n * ST_FIELDS);
  if (!s) return -EIO;
  char *buf = malloc(r->size ? r->size : 1);
  if (!buf) return -ENOMEM;
  size_t used = 0;
  uint32_t i = 0;
  // Entries from index `from` of the whole listing, as many as fit: a part costs what it sends.
  for (; from < n && i < n - from; i++) {
    napi_value v;
    char name[1024];
    size_t len;
    if (napi_get_element(env, names, from + i, &v) != napi_ok ||
        napi_get_value_string_utf8(env, v, name, sizeof(name), &len) != napi_ok || len >= sizeof(name) - 1) {
      free(buf);
      return -EIO;
    }
    size_t need;
    off_t next = r->off + i + 1;
    if (r->flags) {
      struct fuse_entry_param e;
      entry_from(s + ((size_t)from + i) * ST_FIELDS, &e);
      // An entry the kernel is not to keep (names only) goes with node 0.
      int dot = strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
      if (!plus || dot) e.ino = 0;
      need = fuse_add_direntry_plus(r->req, buf + used, r->size - used, name, &e, next);
    } else {
      struct stat st;
      stat_from(s + ((size_t)from + i) * ST_FIELDS, &st);
      need = fuse_add_direntry(r->req, buf + used, r->size - used, name, &st, next);
    }
    if (need > r->size - used) break;
    used += need;
  }
  int sent = fuse_reply_buf(r->req, buf, used) == 0 ? (int)i : 0;
  free(buf);
  return sent;
}

// reply(id, result, ...): answers the request named by `id`; a negative
// result is an errno. Returns, for a listing, how many entries the kernel
// took; for a lookup, 0 or the -errno of a reply the kernel did not take.
static napi_value js_reply(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  double id = -1;
  int32_t result = -EIO;
  if (argc < 2 || napi_get_value_double(env, argv[0], &id) != napi_ok) return NULL;
  request *r = claim(id);
  if (!r) return NULL;
  napi_value out = NULL;
  if (!r->req) {
    // Answered EIO by unmount already: the kernel takes nothing more for it.
    drop(r);
    napi_create_int32(env, -ENOTCONN, &out);
    return out;
  }
  napi_get_value_int32(env, argv[1], &result);
  if (result < 0 && !(r->op == OP_LOOKUP && result == -ENOENT)) {
    fuse_reply_err(r->req, -result);
    drop(r);
    return NULL;
  }
  int err = 0;
  switch (r->op) {
    case OP_LOOKUP: {
      struct fuse_entry_param e;
      memset(&e, 0, sizeof(e));
      double negative = 0;
      if (result == -ENOENT) {
        // Absent: remembered for argv[2] seconds.
        if (argc >= 3) napi_get_value_double(env, argv[2], &negative);
        e.entry_timeout = negative;
        fuse_reply_entry(r->req, &e);
        break;
      }
      const double *s = argc >= 3 ? numbers(env, argv[2], ST_FIELDS) : NULL;
      if (!s) {
        err = EIO;
        break;
      }
      entry_from(s, &e);
      // 0, or -errno when the kernel did not take it (the request was interrupted, the mount is
      // gone): then the kernel holds no lookup of it, and JavaScript counts none.
      napi_create_int32(env, fuse_reply_entry(r->req, &e), &out);
      break;
    }
    case OP_GETATTR: {
      const double *s = argc >= 3 ? numbers(env, argv[2], ST_FIELDS) : NULL;
      if (!s) {
        err = EIO;
        break;
      }
      struct stat st;
      stat_from(s, &st);
      fuse_reply_attr(r->req, &st, s[ST_ATTR_TIMEOUT]);
      break;
    }
    case OP_READLINK: {
      char *target = NULL;
      if (argc < 3 || (err = -get_string(env, argv[2], &target)) != 0) {
        if (!err) err = EIO;
        break;
      }
      fuse_reply_readlink(r->req, target);
      free(target);
      break;
    }
    case OP_OPENDIR: {
      // result 1: the directory never changes, so the kernel may keep its listing.
      struct fuse_file_info fi;
      memset(&fi, 0, sizeof(fi));
      fi.flags = r->flags;
      if (result == 1) {
        fi.cache_readdir = 1;
        fi.keep_cache = 1;
      }
      // A handle for this open's listing (a directory that changes: each open reads its own).
      int64_t fh = 0;
      if (argc >= 3 && napi_get_value_int64(env, argv[2], &fh) == napi_ok && fh > 0) fi.fh = (uint64_t)fh;
      fuse_reply_open(r->req, &fi);
      break;
    }
    case OP_READDIR: {
      bool plus = false;
      if (argc < 4) {
        err = EIO;
        break;
      }
      uint32_t from = 0;
      if (argc >= 5) napi_get_value_bool(env, argv[4], &plus);
      if (argc >= 6) napi_get_value_uint32(env, argv[5], &from);
      int sent = reply_dir(env, r, argv[2], argv[3], plus, from);
      if (sent < 0) {
        err = -sent;
        break;
      }
      napi_create_int32(env, sent, &out);
      break;
    }
    case OP_OPEN: {
      struct fuse_file_info fi;
      memset(&fi, 0, sizeof(fi));
      fi.flags = r->flags;
      fi.keep_cache = 1;
      fuse_reply_open(r->req, &fi);
      break;
    }
    case OP_READ:
      fuse_reply_buf(r->req, r->buf, (size_t)result <= r->size ? (size_t)result : r->size);
      break;
    case OP_STATFS: {
      const double *s = argc >= 3 ? numbers(env, argv[2], 11) : NULL;
      if (!s) {
        err = EIO;
        break;
      }
      struct statvfs sv;
      memset(&sv, 0, sizeof(sv));
      sv.f_bsize = (unsigned long)s[0];
      sv.f_frsize = (unsigned long)s[1];
      sv.f_blocks = (fsblkcnt_t)s[2];
      sv.f_bfree = (fsblkcnt_t)s[3];
      sv.f_bavail = (fsblkcnt_t)s[4];
      sv.f_files = (fsfilcnt_t)s[5];
      sv.f_ffree = (fsfilcnt_t)s[6];
      sv.f_favail = (fsfilcnt_t)s[7];
      sv.f_fsid = (unsigned long)s[8];
      sv.f_flag = (unsigned long)s[9];
      sv.f_namemax = (unsigned long)s[10];
      fuse_reply_statfs(r->req, &sv);
      break;
    }
    case OP_GETXATTR:
    case OP_LISTXATTR: {
      void *data;
      size_t length;
      bool is = false;
      if (argc < 3 || napi_is_buffer(env, argv[2], &is) != napi_ok || !is ||
          napi_get_buffer_info(env, argv[2], &data, &length) != napi_ok) {
        err = EIO;
        break;
      }
      // As getxattr(2) and listxattr(2): size 0 asks for the length.
      if (r->size == 0)
        fuse_reply_xattr(r->req, length);
      else if (length > r->size)
        err = ERANGE;
      else
        fuse_reply_buf(r->req, data, length);
      break;
    }
    case OP_RELEASEDIR:
      fuse_reply_err(r->req, 0);
      break;
    default:
      err = ENOSYS;
  }
  if (err) fuse_reply_err(r->req, err);
  drop(r);
  return out;
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

// Runs on the JavaScript thread: dispatch(op, id, ino, ...args).
static void call_js(napi_env env, napi_value dispatch, request *r) {
  // A forget or the init is this call's own: seen by JavaScript, then dropped. Any other request
  // is JavaScript's to answer, by its id, and may be gone once the call below returns.
  request *done = answered(r) ? NULL : r;
  double id = done ? -1 : id_of(r);
  napi_value argv[6];
  size_t argc = 0;
  napi_value undefined;
  argv[argc++] = num(env, r->op);
  argv[argc++] = num(env, id);
  argv[argc++] = num(env, (double)r->ino);
  switch (r->op) {
    case OP_LOOKUP:
    case OP_GETXATTR:
      argv[argc++] = str(env, r->name);
      break;
    case OP_FORGET:
      argv[argc++] = num(env, (double)r->nlookup);
      break;
    case OP_READDIR:
      argv[argc++] = num(env, (double)r->off);
      argv[argc++] = num(env, r->flags);
      argv[argc++] = num(env, (double)r->fh);
      break;
    case OP_RELEASEDIR:
      argv[argc++] = num(env, (double)r->fh);
      break;
    case OP_OPEN:
    case OP_OPENDIR:
      argv[argc++] = num(env, r->flags);
      break;
    case OP_READ: {
      // The buffer is this request's until it is answered; JavaScript reads into it before it replies.
      napi_value b;
      napi_create_external_buffer(env, r->size, r->buf, NULL, NULL, &b);
      argv[argc++] = b;
      argv[argc++] = num(env, (double)r->off);
      break;
    }
  }
  napi_get_undefined(env, &undefined);
  // `r` may be answered, and freed, by the time the call returns: only its id is used after it.
  if (napi_call_function(env, undefined, dispatch, argc, argv, NULL) != napi_ok) {
    napi_value e;
    napi_get_and_clear_last_exception(env, &e);
    if (id >= 0) answer_eio(id);
  }
  if (done) drop(done);
}

static void free_handle(struct uv_handle_s *handle) { free(handle); }

static void stop_polling(mount_state *m) {
  if (!m->poll) return;
  uv_poll_stop(m->poll);
  uv_close((struct uv_handle_s *)m->poll, free_handle);
  m->poll = NULL;
}

// The FUSE device is readable: the requests waiting there, up to BATCH, each read and processed by
// libfuse, which calls the operations above, which call JavaScript. One callback scope for them
// all: promises they settle run when it closes, as after any callback from the event loop.
static void on_readable(struct uv_poll_s *handle, int status, int events) {
  (void)handle;
  (void)events;
  mount_state *m = current;
  if (!m || m->closing) return;
  napi_env env = m->env;
  napi_handle_scope hs;
  napi_callback_scope cs;
  napi_value resource;
  napi_open_handle_scope(env, &hs);
  napi_create_object(env, &resource);
  napi_open_callback_scope(env, resource, m->context, &cs);
  for (int i = 0; i < BATCH && status == 0 && !m->closing && !fuse_session_exited(m->se); i++) {
    int res = fuse_session_receive_buf(m->se, &m->buf);
    if (res == -EINTR) continue;
    if (res == -EAGAIN) break;
    if (res <= 0) {
      // 0: unmounted (ENODEV) or the session was ended; below 0, the device failed: no more requests come.
      fuse_session_exit(m->se);
      break;
    }
    fuse_session_process_buf(m->se, &m->buf);
  }
  if (status != 0 || fuse_session_exited(m->se)) stop_polling(m);
  napi_close_callback_scope(env, cs);
  napi_close_handle_scope(env, hs);
}

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

// mount(mountpoint, args: string[], dispatch, readdirplus: boolean) → handle
static napi_value js_mount(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4) return throw_error(env, "mount(mountpoint, args, dispatch, readdirplus)");
  if (current) return throw_error(env, "one mount per process");
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
    napi_get_element(env, argv[1], i, &v);
    if (get_string(env, v, &args[i]) != 0) {
      for (uint32_t j = 0; j < i; j++) free(args[j]);
      free(args);
      return throw_error(env, "args: expected strings");
    }
  }
  bool plus = false;
  napi_get_value_bool(env, argv[3], &plus);

  for (uint32_t i = 0; i < SLOTS; i++) free_slots[i] = SLOTS - 1 - i;
  free_count = SLOTS;
  mount_state *m = calloc(1, sizeof(mount_state));
  struct uv_loop_s *loop = NULL;
  napi_value name;
  m->readdirplus = plus;
  m->env = env;
  napi_create_string_utf8(env, "trove-fuse3", NAPI_AUTO_LENGTH, &name);
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || napi_create_reference(env, argv[2], 1, &m->dispatch) != napi_ok ||
      napi_async_init(env, NULL, name, &m->context) != napi_ok || !(m->poll = calloc(1, uv_handle_size(TROVE_UV_POLL)))) {
    free(m->poll);
    free(m);
    return throw_error(env, "cannot prepare the mount's event source");
  }
  struct fuse_args fargs = FUSE_ARGS_INIT((int)n, args);
  m->se = fuse_session_new(&fargs, &operations, sizeof(operations), m);
  fuse_opt_free_args(&fargs);
  if (m->se == NULL) {
    free(m->poll);
    free(m);
    return throw_error(env, "fuse_session_new failed");
  }
  if (fuse_session_mount(m->se, mountpoint) != 0) {
    fuse_session_destroy(m->se);
    free(m->poll);
    free(m);
    return throw_error(env, "fuse_session_mount failed");
  }
  // Read without blocking: the event loop says when there is something, and a read finding nothing
  // (another request taken meanwhile, an interrupted one) must come back at once.
  int fd = fuse_session_fd(m->se);
  int fl = fcntl(fd, F_GETFL);
  m->notify_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (fl < 0 || m->notify_fd < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 || uv_poll_init(loop, m->poll, fd) != 0 ||
      uv_poll_start(m->poll, TROVE_UV_READABLE, on_readable) != 0) {
    if (m->notify_fd >= 0) close(m->notify_fd);
    fuse_session_unmount(m->se);
    fuse_session_destroy(m->se);
    free(m->poll);
    free(m);
    return throw_error(env, "cannot poll the FUSE device");
  }
  current = m;
  napi_value handle;
  napi_create_external(env, m, NULL, NULL, &handle);
  return handle;
}

// unmount(handle): stops polling the device and detaches the mount (lazily,
// as `umount -l`: a busy mount goes away once its last user leaves).
// Requests read but not answered yet are answered EIO; those still queued in
// the kernel are never read, so their readers wait until the connection ends:
// when the process exits, which the daemon does right after (daemon.ts).
static napi_value js_unmount(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  mount_state *m;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_external(env, argv[0], (void **)&m) != napi_ok || m == NULL)
    return throw_error(env, "unmount(handle)");
  pthread_mutex_lock(&lock);
  int was = m->closing;
  m->closing = 1;
  close_notify_if_idle(m);
  // Requests JavaScript has not answered yet are answered EIO now, while libfuse's descriptor is
  // open: their readers need not wait for the process to exit, and a readlink among them no longer
  // holds its symlink's page, which an invalidation under way waits for (its copy of the descriptor
  // keeps the connection, and so that wait, alive). Each stays in its slot, without its libfuse
  // request, until JavaScript answers it too: a read's buffer may still be being filled.
  fuse_req_t *waiting = NULL;
  size_t n = 0;
  if (!was && (waiting = calloc(SLOTS, sizeof(fuse_req_t))) != NULL) {
    for (uint32_t i = 0; i < SLOTS; i++) {
      if (slots[i] && slots[i]->req) {
        waiting[n++] = slots[i]->req;
        slots[i]->req = NULL;
      }
    }
  }
  pthread_mutex_unlock(&lock);
  if (was) return NULL;
  for (size_t i = 0; i < n; i++) fuse_reply_err(waiting[i], EIO);
  free(waiting);
  fuse_session_exit(m->se);
  stop_polling(m);
  fuse_session_unmount(m->se);
  return NULL;
}

// invalidate(ino, done): the kernel drops what it keeps of the inode's
// content (a symlink's target), then done(0 or -errno) is called (-ENOENT:
// the kernel held nothing of it). The kernel waits for the inode's pages,
// which a read still waiting for its answer from this thread holds locked,
// so it is done on a thread of libuv's pool, never on this one. It writes to
// the mount's own copy of the device descriptor (notify_fd), which unmount
// leaves open while an invalidation is under way: libfuse's descriptor is
// closed by unmount at any moment, and a write to its number after that
// could land in whatever file the process opened next.
typedef struct {
  napi_async_work work;
  napi_ref done;
  fuse_ino_t ino;
  int result;
} invalidation;

static void invalidate_execute(napi_env env, void *data) {
  (void)env;
  invalidation *j = data;
  pthread_mutex_lock(&lock);
  mount_state *m = current;
  int fd = m && !m->closing ? m->notify_fd : -1;
  if (fd >= 0) m->invalidating++;
  pthread_mutex_unlock(&lock);
  if (fd < 0) {
    j->result = -ENOTCONN;
    return;
  }
  // FUSE_NOTIFY_INVAL_INODE of the whole inode, as fuse_lowlevel_notify_inval_inode sends it, but
  // through our own descriptor, which stays open until this write is done.
  struct fuse_notify_inval_inode_out arg = {.ino = j->ino, .off = 0, .len = 0};
  struct fuse_out_header out = {.len = sizeof out + sizeof arg, .error = FUSE_NOTIFY_INVAL_INODE, .unique = 0};
  struct iovec iov[2] = {{&out, sizeof out}, {&arg, sizeof arg}};
  ssize_t n = writev(fd, iov, 2);
  j->result = n < 0 ? -errno : 0;
  pthread_mutex_lock(&lock);
  m->invalidating--;
  close_notify_if_idle(m);
  pthread_mutex_unlock(&lock);
}

static void invalidate_complete(napi_env env, napi_status status, void *data) {
  (void)status;
  invalidation *j = data;
  napi_value done, undefined, result;
  if (napi_get_reference_value(env, j->done, &done) == napi_ok && done) {
    napi_get_undefined(env, &undefined);
    napi_create_int32(env, j->result, &result);
    if (napi_call_function(env, undefined, done, 1, &result, NULL) != napi_ok) {
      napi_value e;
      napi_get_and_clear_last_exception(env, &e);
    }
  }
  napi_delete_reference(env, j->done);
  napi_delete_async_work(env, j->work);
  free(j);
}

static napi_value js_invalidate(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  double ino = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_value_double(env, argv[0], &ino) != napi_ok) return throw_error(env, "invalidate(ino, done)");
  invalidation *j = calloc(1, sizeof(invalidation));
  if (!j) return throw_error(env, "out of memory");
  j->ino = (fuse_ino_t)ino;
  if (napi_create_reference(env, argv[1], 1, &j->done) != napi_ok ||
      napi_create_async_work(env, NULL, str(env, "trove-invalidate"), invalidate_execute, invalidate_complete, j,
                             &j->work) != napi_ok ||
      napi_queue_async_work(env, j->work) != napi_ok) {
    free(j);
    return throw_error(env, "cannot queue an invalidation");
  }
  return NULL;
}

// redirectOutput(path): the process's stdout and stderr become `path`, opened
// for appending (created 0644 when missing). A daemon started before its
// repository was known (src/fuse/main.ts, --prewarm) logs to the
// repository's mount.log from then on, its own writes and those of libfuse
// and Node alike. Returns 0 or a negative errno.
static napi_value js_redirect_output(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  char path[4096];
  size_t len = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok || len == 0 || len >= sizeof path - 1)
    return throw_error(env, "redirectOutput(path)");
  int result = 0;
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) result = -errno;
  if (fd > 2) close(fd);
  napi_create_int32(env, result, &out);
  return out;
}

static napi_value init_module(napi_env env, napi_value exports) {
  napi_value f;
  napi_create_function(env, "redirectOutput", NAPI_AUTO_LENGTH, js_redirect_output, NULL, &f);
  napi_set_named_property(env, exports, "redirectOutput", f);
  napi_create_function(env, "mount", NAPI_AUTO_LENGTH, js_mount, NULL, &f);
  napi_set_named_property(env, exports, "mount", f);
  napi_create_function(env, "unmount", NAPI_AUTO_LENGTH, js_unmount, NULL, &f);
  napi_set_named_property(env, exports, "unmount", f);
  napi_create_function(env, "reply", NAPI_AUTO_LENGTH, js_reply, NULL, &f);
  napi_set_named_property(env, exports, "reply", f);
  napi_create_function(env, "invalidate", NAPI_AUTO_LENGTH, js_invalidate, NULL, &f);
  napi_set_named_property(env, exports, "invalidate", f);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init_module)
