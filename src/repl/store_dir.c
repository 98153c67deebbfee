/*
 * store_dir.c - the local-directory backend of the replica store (one directory per region).
 *
 * An object name is a path below the root. STORE_PUT_META objects go through
 * lib_write_atomic (temporary, fsync, rename, directory fsync): durable at return. Other
 * puts (packs) are written to a temporary beside the target (name.tmpXXXXXX) and left
 * there; sync makes the whole batch durable (an fdatasync of each temporary, or one
 * syncfs(2) for a batch of more than SYNCFS_AFTER objects), then renames each over its
 * target and fsyncs the directories. So an object is
 * whole or absent even after a power loss (its name appears only once its data is
 * durable), and a caller makes a batch of chunks durable before it writes the manifest
 * that names them. A batch's objects count as present (has_object) before the sync.
 * Temporaries a crash leaves behind are what store_gc deletes. Parent directories are created on
 * demand (and fsynced with their own parent). get_range keeps the last OPEN_OBJS objects it
 * read open (the least recently used one closed for a new one), so reading a point's chunks
 * from a pack opens it once, and the pack index's entry reads (store_pack.c) keep theirs.
 * A writer's lock (store_lock) is an flock of the root directory.
 */
#include "repl/store.h"

#include "lib/lib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define SYNCFS_AFTER 16
#define OPEN_OBJS    8 /* objects get_range keeps open (packs and their indexes) */

/* An object get_range keeps open. */
struct open_obj {
	char *name; /* NULL: a free entry */
	int fd;
	uint64_t used; /* the clock at its last read */
};

struct dirbe {
	char *root;
	struct open_obj open[OPEN_OBJS]; /* get_range's, least recently used replaced */
	uint64_t clock;
	int rootfd;                /* for syncfs */
	struct lib_map dirty;      /* directory path -> 1; keys heap, owned */
	struct lib_vec dirty_keys; /* of char *, to free */
	struct lib_map pend;       /* target path -> 1: written, waiting for sync */
	struct lib_vec pend_v;     /* of char *: temporary, then target, pairs */
};

static char *
dir_path(struct dirbe *d, const char *name)
{
	size_t n = strlen(d->root) + strlen(name) + 2;
	char *p = lib_xmalloc(n);
	snprintf(p, n, "%s/%s", d->root, name);
	return p;
}

static int
fsync_path(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

static int
sync_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fdatasync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

static void
mark_dirty(struct dirbe *d, const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return;
	char *dir = lib_xmalloc((size_t)(slash - path) + 1);
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (lib_map_put(&d->dirty, dir, 1) == -EEXIST) {
		free(dir);
		return;
	}
	*(char **)lib_vec_push(&d->dirty_keys) = dir;
}

/* mkdir -p of the parent directories of path (below the root, which exists). */
static int
make_parents(struct dirbe *d, char *path)
{
	size_t rl = strlen(d->root);
	for (char *p = path + rl + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		int rc = 0;
		if (mkdir(path, 0755) == 0) {
			char *s = strrchr(path, '/');
			*s = '\0';
			rc = fsync_path(path);
			*s = '/';
		} else if (errno != EEXIST) {
			rc = -errno;
		}
		*p = '/';
		if (rc)
			return rc;
	}
	return 0;
}

static int
dir_put(void *be, const char *name, const void *data, size_t n, unsigned flags)
{
	struct dirbe *d = be;
	char *path = dir_path(d, name);
	int rc = make_parents(d, path);
	if (rc)
		goto out;
	if (flags & STORE_PUT_META) {
		rc = lib_write_atomic(path, data, n);
		goto out;
	}
	size_t tl = strlen(path) + 16;
	char *tmp = lib_xmalloc(tl);
	snprintf(tmp, tl, "%s.tmpXXXXXX", path);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		rc = -errno;
		free(tmp);
		goto out;
	}
	rc = lib_write_all(fd, data, n);
	if (!rc && fchmod(fd, 0644) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (rc) {
		unlink(tmp);
		free(tmp);
		goto out;
	}
	/* Renamed into place by sync, once durable. */
	if (lib_map_put(&d->pend, path, 1) == -EEXIST) {
		unlink(tmp); /* the batch has it already */
		free(tmp);
		goto out;
	}
	*(char **)lib_vec_push(&d->pend_v) = tmp;
	*(char **)lib_vec_push(&d->pend_v) = path;
	return 0;
out:
	free(path);
	return rc;
}

static int
dir_get(void *be, const char *name, void **data, size_t *n)
{
	char *path = dir_path(be, name), *buf = NULL;
	int rc = lib_read_file(path, &buf, n);
	free(path);
	if (rc)
		return rc;
	*data = buf;
	return 0;
}

static void
range_close(struct open_obj *o)
{
	if (o->name) {
		close(o->fd);
		free(o->name);
		o->name = NULL;
	}
}

/* name's entry among the open objects (opened into the least recently used one when
 * it is not there); NULL with *rc set when it cannot be opened. */
static struct open_obj *
range_open(struct dirbe *d, const char *name, int *rc)
{
	struct open_obj *lru = &d->open[0];
	for (int i = 0; i < OPEN_OBJS; i++) {
		struct open_obj *o = &d->open[i];
		struct stat sb;
		if (o->name && !strcmp(o->name, name)) {
			if (fstat(o->fd, &sb) == 0 && sb.st_nlink > 0) {
				o->used = ++d->clock;
				return o;
			}
			range_close(o); /* deleted since */
		}
		if (!o->name || (lru->name && o->used < lru->used))
			lru = o;
	}
	char *path = dir_path(d, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0) {
		*rc = -errno;
		return NULL;
	}
	range_close(lru);
	lru->fd = fd;
	lru->name = lib_xstrdup(name);
	lru->used = ++d->clock;
	return lru;
}

static int
dir_get_range(void *be, const char *name, uint64_t off, void *buf, size_t n)
{
	struct dirbe *d = be;
	int rc = 0;
	struct open_obj *o = range_open(d, name, &rc);
	if (!o)
		return rc;
	uint8_t *p = buf;
	for (size_t got = 0; got < n;) {
		ssize_t r = pread(o->fd, p + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EBADMSG;
		got += (size_t)r;
	}
	return 0;
}

static int
dir_has(void *be, const char *name)
{
	struct dirbe *d = be;
	char *path = dir_path(be, name);
	uint64_t v;
	if (lib_map_get(&d->pend, path, &v)) {
		free(path);
		return 1;
	}
	struct stat sb;
	int rc = stat(path, &sb) == 0 ? 1 : (errno == ENOENT ? 0 : -errno);
	free(path);
	return rc;
}

static int
dir_delete(void *be, const char *name)
{
	struct dirbe *d = be;
	for (int i = 0; i < OPEN_OBJS; i++)
		if (d->open[i].name && !strcmp(d->open[i].name, name))
			range_close(&d->open[i]);
	char *path = dir_path(d, name);
	int rc = unlink(path) < 0 ? -errno : 0;
	if (!rc)
		mark_dirty(d, path);
	free(path);
	return rc;
}

static int
walk(struct dirbe *d, const char *rel, int (*cb)(void *, const char *), void *arg)
{
	char *path = dir_path(d, rel);
	DIR *dp = opendir(path);
	free(path);
	if (!dp)
		return errno == ENOENT ? 0 : -errno;
	int rc = 0;
	struct dirent *de;
	struct lib_buf nm = {0};
	while (!rc && (de = readdir(dp))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		nm.n = 0;
		lib_buf_printf(&nm, "%s%s", rel, de->d_name);
		bool isdir = de->d_type == DT_DIR;
		if (de->d_type == DT_UNKNOWN) {
			char *p = dir_path(d, nm.s);
			struct stat sb;
			isdir = stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
			free(p);
		}
		if (isdir) {
			lib_buf_puts(&nm, "/");
			rc = walk(d, nm.s, cb, arg);
		} else {
			rc = cb(arg, nm.s);
		}
	}
	lib_buf_free(&nm);
	closedir(dp);
	return rc;
}

static int
dir_list(void *be, const char *prefix, int (*cb)(void *, const char *), void *arg)
{
	return walk(be, prefix, cb, arg);
}

static int
dir_sync(void *be)
{
	struct dirbe *d = be;
	int rc = 0;
	/* The batch: durable, then under their names. */
	char **pv = d->pend_v.v;
	if (d->pend_v.n > 2 * SYNCFS_AFTER) {
		if (syncfs(d->rootfd) < 0)
			rc = -errno;
	} else {
		for (uint32_t i = 0; i + 1 < d->pend_v.n && !rc; i += 2)
			rc = sync_file(pv[i]);
	}
	for (uint32_t i = 0; i + 1 < d->pend_v.n; i += 2) {
		if (!rc && rename(pv[i], pv[i + 1]) < 0)
			rc = -errno;
		if (rc)
			unlink(pv[i]);
		else
			mark_dirty(d, pv[i + 1]);
		free(pv[i]);
		free(pv[i + 1]);
	}
	d->pend_v.n = 0;
	lib_map_free(&d->pend);
	lib_map_init(&d->pend);
	char **keys = d->dirty_keys.v;
	for (uint32_t i = 0; i < d->dirty_keys.n; i++) {
		int r = fsync_path(keys[i]);
		if (r && r != -ENOENT && !rc)
			rc = r;
		free(keys[i]);
	}
	d->dirty_keys.n = 0;
	lib_map_free(&d->dirty);
	lib_map_init(&d->dirty);
	return rc;
}

static void
dir_close(void *be)
{
	struct dirbe *d = be;
	dir_sync(d);
	for (int i = 0; i < OPEN_OBJS; i++)
		range_close(&d->open[i]);
	lib_vec_free(&d->dirty_keys);
	lib_map_free(&d->dirty);
	lib_vec_free(&d->pend_v);
	lib_map_free(&d->pend);
	close(d->rootfd);
	free(d->root);
	free(d);
}

/* An exclusive flock(2) of the root directory (its open file description: the kernel
 * drops it when the holder dies, however it dies). */
static int
dir_lock(void *be)
{
	struct dirbe *d = be;
	if (flock(d->rootfd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	return errno == EWOULDBLOCK ? -EBUSY : -errno;
}

static const struct store_ops dir_ops = {
    .put_object = dir_put,
    .get_object = dir_get,
    .get_range = dir_get_range,
    .has_object = dir_has,
    .delete_object = dir_delete,
    .list = dir_list,
    .sync = dir_sync,
    .close = dir_close,
    .lock = dir_lock,
};

int
store_dir_backend(const char *dir, const struct store_ops **ops, void **be)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	struct stat sb;
	if (stat(dir, &sb) < 0)
		return -errno;
	if (!S_ISDIR(sb.st_mode))
		return -ENOTDIR;
	struct dirbe *d = lib_xcalloc(1, sizeof(*d));
	d->root = lib_xstrdup(dir);
	size_t l = strlen(d->root);
	while (l > 1 && d->root[l - 1] == '/')
		d->root[--l] = '\0';
	lib_map_init(&d->dirty);
	lib_vec_init(&d->dirty_keys, sizeof(char *));
	lib_map_init(&d->pend);
	lib_vec_init(&d->pend_v, sizeof(char *));
	d->rootfd = open(d->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->rootfd < 0) {
		int e = errno;
		free(d->root);
		free(d);
		return -e;
	}
	*ops = &dir_ops;
	*be = d;
	return 0;
}
