/*
 * cli_fo_disks.c - the real disks of a failover: `strait failover ... --store DIR
 * --restore-dir DIR` restores each failed-over disk's recovery point as a raw image.
 *
 * The recovery engine (rec_vm.c) moves each failed-over VM's disks that name a path to
 * RESTORE_DIR/<vm>-<disk>.img and keeps the old path as the disk's seed; this file then
 * writes those images from the store, before the estate after the failover is written, so
 * the estate never names a disk that is not there. The point follows the failover's
 * --point: latest and latest-processed take the newest point, latest-app-consistent the
 * newest app-consistent one, an age the newest point at least that much older than the
 * newest. Each image is written to a temporary beside it and renamed when complete.
 * Reprotect then replicates these images back with the seeds as the starting copies.
 */
#include "cli.h"
#include "recover/rec.h"
#include "repl/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The point to restore for the failover's --point choice. */
static int
pick(struct store *st, const char *disk, int point, int64_t age, struct store_point *out)
{
	if (point != REC_PT_TIME)
		return cli_pick_point(st, disk,
		                      point == REC_PT_LATEST_APP ? "latest-app" : "latest", out);
	struct store_point *pts;
	size_t n;
	int rc = store_list_points(st, disk, &pts, &n);
	if (rc)
		return rc;
	rc = -ENOENT;
	for (size_t i = n; i-- > 0;)
		if (pts[i].time <= pts[n - 1].time - age) {
			*out = pts[i];
			rc = 0;
			break;
		}
	free(pts);
	return rc;
}

static int
restore_one(struct store *st, const char *disk, const char *img, int point, int64_t age, bool quiet)
{
	struct store_point p;
	int rc = pick(st, disk, point, age, &p);
	if (rc) {
		fprintf(stderr, "strait: disk %s: %s\n", disk,
		        rc == -ENOENT ? "no recovery point to fail over to (is it replicated?)"
		                      : strerror(-rc));
		return rc;
	}
	struct lib_buf tmp = {0};
	lib_buf_printf(&tmp, "%s.tmp", img);
	rc = store_restore(st, disk, p.seq, tmp.s);
	if (!rc && rename(tmp.s, img) < 0)
		rc = -errno;
	if (rc) {
		unlink(tmp.s);
		fprintf(stderr, "strait: disk %s: cannot restore point %llu to %s: %s\n", disk,
		        (unsigned long long)p.seq, img,
		        rc == -EBADMSG ? "stored data failed its checksum" : strerror(-rc));
	} else if (!quiet) {
		printf("restored %s point %llu (%s) to %s\n", disk, (unsigned long long)p.seq,
		       p.kind == STORE_APP ? "app-consistent" : "crash-consistent", img);
	}
	lib_buf_free(&tmp);
	return rc;
}

int
cli_fo_restore(const char *estate_yaml, const char *name, const char *store,
               const char *restore_dir, int point, int64_t age, bool quiet)
{
	struct lib_diags d;
	lib_diags_init(&d);
	struct estate *after = NULL;
	int rc = est_load_string(name, estate_yaml, strlen(estate_yaml), &d, &after);
	lib_diags_free(&d);
	if (rc || !after) {
		fprintf(stderr, "strait: the estate after the failover does not load\n");
		est_free(after);
		return CLI_BAD;
	}
	struct store *st;
	if ((rc = store_open(store, &st))) {
		fprintf(stderr, "strait: cannot open the store %s: %s\n", store, strerror(-rc));
		est_free(after);
		return CLI_UNUSABLE;
	}
	size_t dl = strlen(restore_dir), done = 0;
	int out = CLI_GOOD;
	for (uint32_t i = 0; i < after->vms.n && out == CLI_GOOD; i++) {
		const struct est_vm *vm = &after->vms.v[i];
		for (uint32_t k = 0; k < vm->disks.n && out == CLI_GOOD; k++) {
			const struct est_disk *dk = &vm->disks.v[k];
			if (!dk->seed || !dk->path || strncmp(dk->path, restore_dir, dl) ||
			    dk->path[dl] != '/')
				continue;
			struct lib_buf disk = {0};
			lib_buf_printf(&disk, "%s-%s", vm->name, dk->name);
			if (restore_one(st, disk.s, dk->path, point, age, quiet))
				out = CLI_BAD;
			else
				done++;
			lib_buf_free(&disk);
		}
	}
	if (out == CLI_GOOD && !done && !quiet)
		printf("no failed-over disk names a path: nothing restored\n");
	store_close(st);
	est_free(after);
	return out;
}
