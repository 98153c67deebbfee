/*
 * gen.c - strait-gen: writes a synthetic, valid estate of any size as YAML.
 *
 * The shape follows examples/seed-two-circuits.yaml, repeated: every hub
 * VNet has a GatewaySubnet with an ErGw3AZ gateway, an NVA and N spokes
 * peered both ways with the hub flags; spokes route 0.0.0.0/0 to the hub
 * NVA; every hub connects to two premium circuits at two different peering
 * locations; sites advertise their prefixes over those circuits. A
 * replication section protects the VMs of hub 0's spokes to hub 1's
 * spokes in the next region (at most 100 VMs, in replication groups of 16),
 * and a recovery plan fails them over, one plan group per replication
 * group (so at most 7).
 *
 * Address plan (nothing overlaps anything else):
 *   VNets      /24s from 10.0.0.0/8, then 172.16.0.0/12 (69,632 in all);
 *              each hub owns an aligned power-of-two block holding itself
 *              and its spokes, which it also advertises as a summary
 *   sites      on-premises prefixes from 100.64.0.0/10
 *   circuits   two /30s each (one /29) from 192.168.0.0/16
 * Output depends only on the options: --seed varies VM sizes, disk sizes,
 * circuit bandwidth and billing, never the structure.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gen {
	uint32_t hubs, spokes, circuits, sites, prefixes, vms, regions, subnets;
	uint32_t plans;      /* recovery plans; more than one: 50 VMs each, groups of 10 */
	uint32_t group_size; /* VMs per replication group and plan group */
	uint64_t seed, rng;
	uint32_t block;     /* /24s per hub block (power of two) */
	uint32_t block_len; /* its prefix length */
	uint32_t pfx_len;   /* on-premises prefix length */
	uint32_t nprotect;  /* VMs replicated: those of hub 0's spokes, at most 100 */
};

#define POOL10         65536u /* /24s in 10.0.0.0/8 */
#define POOL172        4096u  /* /24s in 172.16.0.0/12 */
#define MAX_PLAN_VMS   100u
#define MAX_REPL_GROUP 16u

static const struct {
	const char *name, *geo;
} known_regions[] = {
    {"eastasia", "asia"},
    {"southeastasia", "asia"},
    {"japaneast", "japan"},
    {"japanwest", "japan"},
    {"westeurope", "europe"},
    {"northeurope", "europe"},
    {"eastus", "us"},
    {"westus", "us"},
    {"australiaeast", "australia"},
    {"australiasoutheast", "australia"},
};

static const char *const vm_sizes[] = {"Standard_D2s_v5", "Standard_D4s_v5", "Standard_E4s_v5",
                                       "Standard_E8s_v5", "Standard_F4s_v2"};

static _Noreturn void
die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("strait-gen: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* splitmix64: a small, well-mixed, portable generator */
static uint64_t
rnd(struct gen *g)
{
	uint64_t z = (g->rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static const char *
ip4(char *buf, uint32_t a)
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
	return buf;
}

/* Base address of the idx-th /24 of the VNet pool. */
static uint32_t
vnet24(uint64_t idx)
{
	if (idx < POOL10)
		return 0x0a000000u + (uint32_t)idx * 256u;
	return 0xac100000u + (uint32_t)(idx - POOL10) * 256u;
}

static uint32_t
hub_base(const struct gen *g, uint32_t h)
{
	return vnet24((uint64_t)h * g->block);
}

static uint32_t
spoke_base(const struct gen *g, uint32_t h, uint32_t k)
{
	return vnet24((uint64_t)h * g->block + 1 + k);
}

static const char *
region_name(char *buf, uint32_t r)
{
	if (r < sizeof(known_regions) / sizeof(known_regions[0]))
		return known_regions[r].name;
	snprintf(buf, 32, "region-%u", r);
	return buf;
}

static const char *
region_geo(char *buf, uint32_t r)
{
	if (r < sizeof(known_regions) / sizeof(known_regions[0]))
		return known_regions[r].geo;
	snprintf(buf, 32, "geo-%u", r / 4);
	return buf;
}

/* The circuits hub h connects to: two neighbours, at two locations. */
static uint32_t
hub_circuit(const struct gen *g, uint32_t h, uint32_t which)
{
	return (uint32_t)(((uint64_t)h * 2 + which) % g->circuits);
}

static uint32_t
hub_ncircuits(const struct gen *g)
{
	return g->circuits >= 2 ? 2 : 1;
}

static void
emit_geography(const struct gen *g)
{
	char b1[32], b2[32];
	puts("regions:");
	for (uint32_t r = 0; r < g->regions; r++)
		printf("  - {name: %s, geo: %s, zones: true}\n", region_name(b1, r),
		       region_geo(b2, r));
	/* one peering location per circuit, near the region of the same index */
	puts("locations:");
	for (uint32_t i = 0; i < g->circuits; i++) {
		uint32_t r = i % g->regions;
		printf("  - {name: pl-%u, geo: %s, metro: metro-%u, local_regions: [%s]}\n", i,
		       region_geo(b2, r), i, region_name(b1, r));
	}
	puts("providers:");
	for (uint32_t p = 0; p < 2 && p < g->circuits; p++) {
		printf("  - name: provider-%c\n    locations: [", 'a' + p);
		for (uint32_t i = p; i < g->circuits; i += 2)
			printf("%spl-%u", i == p ? "" : ", ", i);
		puts("]");
	}
}

static void
emit_site_links(const struct gen *g, uint32_t s, const char *side)
{
	for (uint32_t i = s, first = 1; i < g->circuits; i += g->sites, first = 0)
		printf("%ser-%u/%s", first ? "" : ", ", i, side);
}

static void
emit_sites(const struct gen *g)
{
	char b[16];
	uint64_t step = 1ull << (32 - g->pfx_len);
	puts("sites:");
	for (uint32_t s = 0; s < g->sites; s++) {
		printf("  - name: site-%u\n    asn: %u\n    prefixes: [", s, 4200000000u + s + 1);
		for (uint32_t p = 0; p < g->prefixes; p++) {
			uint64_t k = (uint64_t)s * g->prefixes + p;
			printf("%s%s/%u", p ? ", " : "", ip4(b, 0x64400000u + (uint32_t)(k * step)),
			       g->pfx_len);
		}
		puts("]");
		if (s >= g->circuits)
			continue; /* no circuit lands here */
		printf("    routers:\n      - {name: site-%u-edge1, links: [", s);
		emit_site_links(g, s, "primary");
		printf("]}\n      - {name: site-%u-edge2, links: [", s);
		emit_site_links(g, s, "secondary");
		puts("]}\n    circuits:");
		for (uint32_t i = s; i < g->circuits; i += g->sites)
			printf("      - {circuit: er-%u, local_pref: %u}\n", i, i == s ? 200 : 100);
	}
}

/* The smallest premium bandwidth whose VNet-link limit covers the links. */
static uint32_t
circuit_gbps(struct gen *g)
{
	static const uint32_t gbps[] = {1, 2, 5, 10}, links[] = {50, 60, 75, 100};
	uint64_t need = ((uint64_t)g->hubs * hub_ncircuits(g) + g->circuits - 1) / g->circuits;
	uint32_t i = 0;
	while (i < 3 && links[i] < need)
		i++;
	i += (uint32_t)(rnd(g) % (4 - i)); /* any size at least that large */
	return gbps[i];
}

static void
emit_circuits(struct gen *g)
{
	char b1[16], b2[16];
	puts("circuits:");
	for (uint32_t i = 0; i < g->circuits; i++) {
		uint32_t s = i % g->sites, net = 0xc0a80000u + i * 8u;
		printf("  - name: er-%u\n    site: site-%u\n    provider: provider-%c\n"
		       "    location: pl-%u\n    bandwidth: %uGbps\n    tier: premium\n"
		       "    billing: %s\n",
		       i, s, 'a' + (i & 1), i, circuit_gbps(g),
		       rnd(g) & 1 ? "unlimited" : "metered");
		printf("    private_peering:\n      peer_asn: %u\n      primary: %s/30\n"
		       "      secondary: %s/30\n      vlan: %u\n",
		       4200000000u + s + 1, ip4(b1, net), ip4(b2, net + 4), 100 + i % 3900);
	}
}

static void
emit_hub(const struct gen *g, uint32_t h)
{
	char b1[16], b2[16], b3[16], rb[32];
	uint32_t a = hub_base(g, h);
	printf("  - name: hub-%u\n    region: %s\n    address_space: [%s/24]\n"
	       "    subnets:\n      - {name: nva, prefix: %s/26}\n"
	       "      - {name: GatewaySubnet, prefix: %s/27, route_table: rt-gw-hub-%u}\n"
	       "    gateways:\n      - {name: gw-hub-%u, type: expressroute, sku: ErGw3AZ}\n"
	       "    summarized_prefixes: [%s/%u]\n",
	       h, region_name(rb, h % g->regions), ip4(b1, a), ip4(b2, a), ip4(b3, a + 224), h, h,
	       ip4(b1, a), g->block_len);
}

static void
emit_vnets(const struct gen *g)
{
	char b1[16], b2[16], rb[32];
	puts("vnets:");
	for (uint32_t h = 0; h < g->hubs; h++) {
		emit_hub(g, h);
		for (uint32_t k = 0; k < g->spokes; k++) {
			uint32_t a = spoke_base(g, h, k);
			printf("  - name: hub-%u-spoke-%u\n    region: %s\n"
			       "    address_space: [%s/24]\n    subnets:\n"
			       "      - {name: app, prefix: %s/25, route_table: rt-hub-%u, "
			       "service_endpoints: [Microsoft.Storage]}\n",
			       h, k, region_name(rb, h % g->regions), ip4(b1, a), ip4(b2, a), h);
			/* more subnets: /29s in the upper half of the /24 */
			for (uint32_t n = 1; n < g->subnets; n++)
				printf(
				    "      - {name: s%u, prefix: %s/29, route_table: rt-hub-%u}\n",
				    n, ip4(b2, a + 128 + 8 * (n - 1)), h);
		}
	}
	/* the isolated drill network, in the recovery region */
	uint32_t a = vnet24((uint64_t)g->hubs * g->block);
	printf("  - name: drill\n    region: %s\n    address_space: [%s/24]\n"
	       "    subnets:\n      - {name: app, prefix: %s/25}\n",
	       region_name(rb, 1), ip4(b1, a), ip4(b2, a));
}

static void
emit_links(const struct gen *g)
{
	puts("connections:");
	for (uint32_t h = 0; h < g->hubs; h++)
		for (uint32_t w = 0; w < hub_ncircuits(g); w++)
			printf("  - {gateway: gw-hub-%u, circuit: er-%u, weight: %u}\n", h,
			       hub_circuit(g, h, w), w ? 0 : 100);
	if (!g->spokes)
		return;
	puts("peerings:");
	for (uint32_t h = 0; h < g->hubs; h++)
		for (uint32_t k = 0; k < g->spokes; k++)
			printf("  - {from: hub-%u-spoke-%u, to: hub-%u, allow_forwarded_traffic: "
			       "true, "
			       "use_remote_gateways: true}\n"
			       "  - {from: hub-%u, to: hub-%u-spoke-%u, allow_forwarded_traffic: "
			       "true, "
			       "allow_gateway_transit: true}\n",
			       h, k, h, h, h, k);
}

static void
emit_routing(const struct gen *g)
{
	char b1[16], b2[16], rb[32];
	puts("route_tables:");
	for (uint32_t h = 0; h < g->hubs; h++) {
		uint32_t a = hub_base(g, h);
		const char *r = region_name(rb, h % g->regions);
		/* 0.0.0.0/0 alone loses to the system None routes of the private
		 * ranges (azure-facts 2.1): route those to the NVA too */
		printf("  - name: rt-hub-%u\n    region: %s\n    routes:\n"
		       "      - {name: default-via-nva, prefix: 0.0.0.0/0, "
		       "next_hop: virtual_appliance, ip: %s}\n"
		       "      - {name: private10-via-nva, prefix: 10.0.0.0/8, "
		       "next_hop: virtual_appliance, ip: %s}\n"
		       "      - {name: private172-via-nva, prefix: 172.16.0.0/12, "
		       "next_hop: virtual_appliance, ip: %s}\n",
		       h, r, ip4(b1, a + 4), b1, b1);
		printf("  - name: rt-gw-hub-%u\n    region: %s\n    routes:\n"
		       "      - {name: spokes-via-nva, prefix: %s/%u, "
		       "next_hop: virtual_appliance, ip: %s}\n",
		       h, r, ip4(b2, a), g->block_len, ip4(b1, a + 4));
	}
	puts("appliances:");
	for (uint32_t h = 0; h < g->hubs; h++)
		printf("  - {name: nva-hub-%u, subnet: hub-%u/nva, ip: %s}\n", h, h,
		       ip4(b1, hub_base(g, h) + 4));
}

static void
emit_vms(struct gen *g)
{
	char b[16];
	if (!g->spokes || !g->vms)
		return;
	puts("vms:");
	for (uint32_t h = 0; h < g->hubs; h++)
		for (uint32_t k = 0; k < g->spokes; k++)
			for (uint32_t v = 0; v < g->vms; v++) {
				uint32_t a = spoke_base(g, h, k) + 4 + v;
				const char *size = vm_sizes[rnd(g) % 5];
				printf("  - name: vm-%u-%u-%u\n    subnet: hub-%u-spoke-%u/app\n"
				       "    ip: %s\n    allocation: static\n    size: %s\n"
				       "    disks: [{name: os, size: 32GiB}, "
				       "{name: data, size: %uGiB}]\n",
				       h, k, v, h, k, ip4(b, a), size, 64u << (rnd(g) % 5));
			}
}

/* The i-th protected VM: hub 0's spokes in order. */
static void
protected_name(const struct gen *g, uint32_t i, char *buf, size_t n)
{
	snprintf(buf, n, "vm-0-%u-%u", i / g->vms, i % g->vms);
}

static void
emit_replication(const struct gen *g)
{
	char rb1[32], rb2[32], vm[48];
	printf("replication:\n  source: %s\n  target: %s\n  path: backbone\n"
	       "  policy: {crash_consistent_every: 5m, app_consistent_every: 4h, retention: 24h}\n"
	       "  vault: {name: vault-dr}\n  protect: [",
	       region_name(rb1, 0), region_name(rb2, 1));
	for (uint32_t i = 0; i < g->nprotect; i++) {
		protected_name(g, i, vm, sizeof(vm));
		printf("%s%s", i ? ", " : "", vm);
	}
	puts("]\n  groups:");
	for (uint32_t i = 0; i < g->nprotect; i += g->group_size) {
		printf("    - {name: rg-%u, vms: [", i / g->group_size);
		for (uint32_t j = i; j < g->nprotect && j < i + g->group_size; j++) {
			protected_name(g, j, vm, sizeof(vm));
			printf("%s%s", j > i ? ", " : "", vm);
		}
		puts("]}");
	}
	if (g->hubs >= 2) {
		puts("  network_mapping:\n    - {source: hub-0, target: hub-1}");
		for (uint32_t k = 0; k < g->spokes; k++)
			printf("    - {source: hub-0-spoke-%u, target: hub-1-spoke-%u}\n", k, k);
	} else {
		puts("  auto_target_networks: true");
	}
	puts("  test_network: drill");
}

/* One plan group per replication group: a group's VMs share a recovery point. */
static void
emit_plan(const struct gen *g)
{
	char vm[48];
	uint32_t c1 = g->hubs >= 2 ? hub_circuit(g, 1, 0) : 0;
	puts("recovery_plans:");
	uint32_t per = g->plans > 1 ? 50 : g->nprotect;
	for (uint32_t p = 0; p * per < g->nprotect; p++) {
		if (g->plans > 1)
			printf("  - name: dr-plan-%u\n    before:\n", p);
		else
			puts("  - name: dr-plan\n    before:");
		puts("      - manual: Confirm the recovery region is reachable from on-premises\n"
		     "    groups:");
		uint32_t end = (p + 1) * per < g->nprotect ? (p + 1) * per : g->nprotect;
		for (uint32_t i = p * per; i < end; i += g->group_size) {
			printf("      - name: tier-%u\n        vms: [", i / g->group_size);
			for (uint32_t j = i; j < end && j < i + g->group_size; j++) {
				protected_name(g, j, vm, sizeof(vm));
				printf("%s%s", j > i ? ", " : "", vm);
			}
			puts("]");
		}
		printf("    after:\n      - set_preference: {site: site-%u, circuit: er-%u, "
		       "local_pref: 300}\n",
		       c1 % g->sites, c1);
	}
}

static uint32_t
ceil_log2(uint64_t n)
{
	uint32_t k = 0;
	while ((1ull << k) < n)
		k++;
	return k;
}

static void
plan_addresses(struct gen *g)
{
	uint32_t k = ceil_log2((uint64_t)g->spokes + 1);
	if (k > 12)
		die("at most 4095 spokes per hub");
	g->block = 1u << k;
	g->block_len = 24 - k;
	uint64_t need = (uint64_t)g->hubs * g->block + 1; /* + the drill network */
	if (need > POOL10 + POOL172)
		die("address plan needs %" PRIu64 " /24s, only %u fit in 10/8 and 172.16/12", need,
		    POOL10 + POOL172);
	uint32_t pk = ceil_log2((uint64_t)g->sites * g->prefixes);
	if (pk > 22)
		die("too many on-premises prefixes for 100.64.0.0/10");
	g->pfx_len = 10 + pk < 24 ? 24 : 10 + pk;
	if (g->circuits > 8192)
		die("at most 8192 circuits (peering /29s from 192.168.0.0/16)");
	if (g->vms > 120)
		die("at most 120 VMs per spoke (a /25 subnet)");
	if (g->subnets < 1 || g->subnets > 17)
		die("1 to 17 subnets per spoke (a /25 and up to 16 /29s)");
	uint64_t links = ((uint64_t)g->hubs * hub_ncircuits(g) + g->circuits - 1) / g->circuits;
	if (links > 100)
		fprintf(stderr,
		        "strait-gen: note: %" PRIu64 " VNet links per circuit exceed the "
		        "limit of 100 (add circuits)\n",
		        links);
	if (g->spokes > 500)
		fprintf(stderr, "strait-gen: note: %u peerings per hub exceed the limit of 500\n",
		        g->spokes);
	uint64_t np = (uint64_t)g->spokes * g->vms;
	uint64_t cap = g->plans > 1 ? (uint64_t)g->plans * 50 : MAX_PLAN_VMS;
	g->group_size = g->plans > 1 ? 10 : MAX_REPL_GROUP;
	g->nprotect = (uint32_t)(np < cap ? np : cap);
}

static uint32_t
num_arg(const char *opt, const char *s, uint32_t min)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || s[0] == '-' || v < min || v > 1000000)
		die("--%s: expected an integer from %u to 1000000, got '%s'", opt, min, s);
	return (uint32_t)v;
}

static const char usage[] =
    "usage: strait-gen [--hubs N] [--spokes-per-hub N] [--circuits N] [--sites N]\n"
    "                  [--prefixes N] [--vms-per-spoke N] [--subnets-per-spoke N]\n"
    "                  [--regions N] [--plans N] [--seed S]\n"
    "Writes a synthetic valid estate (YAML) to stdout: hubs x (1 + spokes) VNets + 1.\n";

static void
parse_args(struct gen *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"hubs", required_argument, NULL, 'H'},
	    {"spokes-per-hub", required_argument, NULL, 'S'},
	    {"circuits", required_argument, NULL, 'c'},
	    {"sites", required_argument, NULL, 's'},
	    {"prefixes", required_argument, NULL, 'p'},
	    {"subnets-per-spoke", required_argument, NULL, 'n'},
	    {"plans", required_argument, NULL, 'P'},
	    {"vms-per-spoke", required_argument, NULL, 'v'},
	    {"regions", required_argument, NULL, 'r'},
	    {"seed", required_argument, NULL, 'x'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int o, li;
	*g = (struct gen){.hubs = 2,
	                  .spokes = 2,
	                  .circuits = 2,
	                  .sites = 1,
	                  .prefixes = 4,
	                  .subnets = 1,
	                  .plans = 1,
	                  .vms = 1,
	                  .regions = 2,
	                  .seed = 1};
	while ((o = getopt_long(argc, argv, "h", opts, &li)) != -1) {
		const char *name = o == 'h' || o == '?' ? "" : opts[li].name;
		switch (o) {
		case 'H':
			g->hubs = num_arg(name, optarg, 1);
			break;
		case 'S':
			g->spokes = num_arg(name, optarg, 0);
			break;
		case 'c':
			g->circuits = num_arg(name, optarg, 1);
			break;
		case 's':
			g->sites = num_arg(name, optarg, 1);
			break;
		case 'p':
			g->prefixes = num_arg(name, optarg, 0);
			break;
		case 'n':
			g->subnets = num_arg(name, optarg, 1);
			break;
		case 'P':
			g->plans = num_arg(name, optarg, 1);
			break;
		case 'v':
			g->vms = num_arg(name, optarg, 0);
			break;
		case 'r':
			g->regions = num_arg(name, optarg, 2);
			break;
		case 'x':
			g->seed = num_arg(name, optarg, 0);
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			fputs(usage, stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		fputs(usage, stderr);
		exit(2);
	}
	g->rng = g->seed;
}

int
main(int argc, char **argv)
{
	struct gen g;
	static char obuf[1 << 16];
	parse_args(&g, argc, argv);
	plan_addresses(&g);
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	printf("# Generated by strait-gen --hubs %u --spokes-per-hub %u --circuits %u --sites %u "
	       "--prefixes %u --vms-per-spoke %u --regions %u --seed %" PRIu64 "\n",
	       g.hubs, g.spokes, g.circuits, g.sites, g.prefixes, g.vms, g.regions, g.seed);
	printf("estate: synthetic-%u-vnets\n"
	       "description: Synthetic hub-and-spoke estate for benchmarks\n",
	       g.hubs * (g.spokes + 1) + 1);
	emit_geography(&g);
	emit_sites(&g);
	emit_circuits(&g);
	emit_vnets(&g);
	emit_links(&g);
	emit_routing(&g);
	emit_vms(&g);
	if (g.nprotect) {
		emit_replication(&g);
		emit_plan(&g);
	}
	if (fflush(stdout) || ferror(stdout))
		die("write error");
	return 0;
}
