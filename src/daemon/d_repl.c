/*
 * d_repl.c - the estate's replication section as an rsvc (see d_repl.h).
 *
 * The link's bandwidth: --rate when given; otherwise, when an on-premises site replicates
 * over ExpressRoute (private or Microsoft peering), the bandwidth of the site's fastest
 * enabled circuit, so replication never takes more than the circuit carries; Azure-to-Azure
 * replication stays on the backbone and is not limited.
 */
#include "daemon/d_repl.h"

#include "lib/lib.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* path, or base/path when it is relative (heap). */
static char *
abs_path(const char *base, const char *path)
{
	struct lib_buf b = {0};
	if (path[0] == '/')
		lib_buf_puts(&b, path);
	else
		lib_buf_printf(&b, "%s/%s", base, path);
	return b.s;
}

/* The disks of one VM that have a source path, appended as rsvc disks; their seeds (after a
 * failover, for reprotect) as tgt seeds. */
static void
vm_disks(const struct est_vm *vm, const char *base, struct lib_vec *disks, struct lib_vec *names,
         struct lib_vec *seeds)
{
	for (uint32_t k = 0; k < vm->disks.n; k++) {
		const struct est_disk *dk = &vm->disks.v[k];
		if (!dk->path)
			continue;
		struct lib_buf name = {0};
		lib_buf_printf(&name, "%s-%s", vm->name, dk->name);
		char *path = abs_path(base, dk->path);
		*(char **)lib_vec_push(names) = name.s;
		*(char **)lib_vec_push(names) = path;
		*(struct rsvc_disk *)lib_vec_push(disks) = (struct rsvc_disk){name.s, path};
		if (dk->seed) {
			char *seed = abs_path(base, dk->seed);
			*(char **)lib_vec_push(names) = seed;
			*(struct tgt_seed *)lib_vec_push(seeds) = (struct tgt_seed){name.s, seed};
		}
	}
}

/* Bytes/s the estate's replication path allows; 0: no limit. */
uint64_t
d_repl_rate(const struct estate *e)
{
	const struct est_replication *rp = e->replication;
	if (!rp || rp->source_site.i == EST_NONE ||
	    (rp->path != EST_RP_PRIVATE_PEERING && rp->path != EST_RP_MICROSOFT_PEERING))
		return 0;
	uint64_t mbps = 0;
	for (uint32_t i = 0; i < e->circuits.n; i++) {
		const struct est_circuit *c = &e->circuits.v[i];
		if (c->site.i == rp->source_site.i && c->state == EST_CS_ENABLED &&
		    c->bandwidth > mbps)
			mbps = c->bandwidth;
	}
	return mbps * 1000000 / 8;
}

int
d_repl_start(const struct estate *e, const struct d_repl_opts *o, struct rsvc **out, char *err,
             size_t errlen)
{
	*out = NULL;
	const struct est_replication *rp = e->replication;
	if (!rp)
		return 0;
	char *dir = lib_xstrdup(o->estate_path);
	const char *base = dirname(dir);
	struct lib_vec disks = {0}, names = {0}, groups = {0}, members = {0}, seeds = {0};
	lib_vec_init(&disks, sizeof(struct rsvc_disk));
	lib_vec_init(&seeds, sizeof(struct tgt_seed));
	lib_vec_init(&names, sizeof(char *));
	lib_vec_init(&groups, sizeof(struct rsvc_group));
	lib_vec_init(&members, sizeof(size_t)); /* per group: first member, count */
	for (uint32_t i = 0; i < rp->protect.n; i++) {
		const struct est_ref *ref = &rp->protect.v[i];
		if (ref->i != EST_NONE)
			vm_disks(&e->vms.v[ref->i], base, &disks, &names, &seeds);
	}
	/* Groups name the disks protected above, by the same names. */
	struct lib_vec gnames = {0}; /* const char *, all groups' members in a row */
	lib_vec_init(&gnames, sizeof(const char *));
	for (uint32_t g = 0; g < rp->groups.n; g++) {
		const struct est_repl_group *rg = &rp->groups.v[g];
		size_t first = gnames.n;
		for (uint32_t v = 0; v < rg->vms.n; v++) {
			const struct est_ref *ref = &rg->vms.v[v];
			if (ref->i == EST_NONE)
				continue;
			const struct est_vm *vm = &e->vms.v[ref->i];
			for (size_t d = 0; d < disks.n; d++) {
				const char *n = ((struct rsvc_disk *)disks.v)[d].name;
				size_t vl = strlen(vm->name);
				if (!strncmp(n, vm->name, vl) && n[vl] == '-')
					*(const char **)lib_vec_push(&gnames) = n;
			}
		}
		*(size_t *)lib_vec_push(&members) = first;
		*(size_t *)lib_vec_push(&members) = gnames.n - first;
	}
	for (uint32_t g = 0; g < rp->groups.n; g++) {
		size_t first = ((size_t *)members.v)[2 * g], n = ((size_t *)members.v)[2 * g + 1];
		if (n)
			*(struct rsvc_group *)lib_vec_push(&groups) = (struct rsvc_group){
			    rp->groups.v[g].name, (const char *const *)gnames.v + first, n};
	}
	int rc = 0;
	if (disks.n) {
		struct lib_buf store = {0}, sock = {0};
		lib_buf_printf(&store, "%s/store", o->work);
		lib_buf_printf(&sock, "%s/nbd.sock", o->work);
		struct rsvc_opts ro = {
		    .work = o->work,
		    .store = o->target  ? NULL
		             : o->store ? o->store
		                        : store.s,
		    .target = o->target,
		    .socket = o->socket ? o->socket : sock.s,
		    .tcp = o->tcp,
		    .interval = rp->policy.crash_consistent_every,
		    .app_every = rp->policy.app_consistent_every,
		    .retention = rp->policy.retention,
		    .tls = o->tls.ca_file ? &o->tls : NULL,
		    .rate = o->rate ? o->rate : d_repl_rate(e),
		    .journal_max = o->journal_max,
		    .al_extents = o->al_extents,
		    .map_cache = o->map_cache,
		    .nbd_tls = o->nbd_tls.cert ? &o->nbd_tls : NULL,
		    .seeds = o->target ? NULL : seeds.v,
		    .nseeds = o->target ? 0 : seeds.n,
		};
		/* With --target the receiver takes the seeds itself (receive DISK=SEED). */
		rc = rsvc_start(&ro, disks.v, disks.n, groups.v, groups.n, out, err, errlen);
		lib_buf_free(&store);
		lib_buf_free(&sock);
	}
	for (size_t i = 0; i < names.n; i++)
		free(((char **)names.v)[i]);
	lib_vec_free(&names);
	lib_vec_free(&disks);
	lib_vec_free(&seeds);
	lib_vec_free(&groups);
	lib_vec_free(&members);
	lib_vec_free(&gnames);
	free(dir);
	return rc;
}
