/*
 * rec_gen.h - generated recovery plans (strait plan ESTATE --generate).
 *
 * rec_generate reads an estate's replication (source and target region,
 * network mapping or <vnet>-asr mirrors, protected VMs, replication groups),
 * its source hubs with their gateways, connections, peerings and route
 * tables, and the site's circuits, recognises which of the seeds'
 * ExpressRoute topologies it is (two circuits at two peering locations, two
 * at one location, a single circuit with the same or a different address
 * space in the target) and writes the recovery plan that follows the seeds'
 * choreography for it, plus a report that explains the choices and the RTO.
 */
#ifndef STRAIT_REC_GEN_H
#define STRAIT_REC_GEN_H

#include "../estate/est.h"

struct rec_gen_opts {
	/* Gateway, connection, peerings and UDRs made before failover (the
	 * seeds' recommendation): listed as "before failover" prerequisites
	 * instead of plan steps. */
	bool preprovision;
	const char *name; /* plan name; NULL: "<estate>-failover" */
};

/* The topology rec_generate recognised for a source hub. */
enum rec_topology {
	REC_TOPO_NONE,                /* the source hub is not on ExpressRoute */
	REC_TOPO_TWO_LOCATIONS,       /* two circuits at two peering locations */
	REC_TOPO_ONE_LOCATION,        /* two circuits at one peering location */
	REC_TOPO_SINGLE_SAME_IP,      /* one circuit, target overlaps the source */
	REC_TOPO_SINGLE_DIFFERENT_IP, /* one circuit, target in its own space */
};

/* "two circuits at two peering locations", ... */
const char *rec_topology_name(enum rec_topology t);

/*
 * Appends to yaml_out one `recovery_plans:` entry (indented to follow a
 * "recovery_plans:" line, with a short comment header) and to report a
 * human explanation: the topology recognised, what is done before failover
 * with --preprovision, the steps with their durations and the estimated RTO
 * with and without pre-provisioning ("Estimated RTO: N minutes").
 * o may be NULL (defaults). Problems go to d: an error when the estate has
 * no replication to plan for (returns -EINVAL), warnings for what the plan
 * cannot fix (a circuit that needs Premium, more groups than allowed).
 */
int rec_generate(const struct estate *e, const struct rec_gen_opts *o, struct lib_buf *yaml_out,
                 struct lib_buf *report, struct lib_diags *d);

#endif
