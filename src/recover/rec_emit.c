/*
 * rec_emit.c - a recovery plan as a runbook: bash + az CLI (strait plan --emit az).
 *
 * Design: the script is written in two parts. The body (the steps in run
 * order: plan before-steps, then per group its before-steps, its VMs failed
 * over, its after-steps, then the plan's after-steps) is generated first; it
 * registers every resource-group and circuit variable it uses, and the
 * header then defines exactly those, with defaults from the estate:
 *   RG_SOURCE / RG_TARGET   rg-<region> of replication.source / .target
 *   RG_<region>             a region's resource group ($RG_SOURCE, $RG_TARGET or rg-<region>)
 *   CIRCUIT_<circuit>       the circuit's resource ID under $RG_CIRCUITS
 * Variable names are the object names with every character outside
 * [A-Za-z0-9_] turned into '_'; two names that collide get _2, _3, ...
 *
 * Invariants: a step is emitted when its direction is any or the run's, and
 * its types are empty or hold the run's type (the estate's filters, as the
 * engine reads them). Every az command blocks until Azure has finished,
 * except the gateway, which is created with --no-wait and then waited for
 * explicitly (about 45 minutes, azure-facts 1.8); so each step starts when
 * the one before has finished. Objects a plan creates have no place in the
 * estate, so their region comes from the step that creates them (a gateway
 * from its VNet; a route table from its region, or from the subnets it is
 * attached to); <vnet>-asr mirrors are in the replication target. A region
 * that cannot be found becomes $RG_UNRESOLVED, which the script demands at
 * start, and a warning.
 *
 * Failure semantics follow Site Recovery (azure-facts 3.6, 3.2): in an
 * unplanned failover a failed script or connection removal (the source
 * region may be down) is reported and the run goes on; otherwise set -e
 * stops it. Site Recovery itself is driven through the site-recovery CLI
 * extension (az site-recovery protected-item unplanned-failover /
 * test-failover, syntax from the extension's own examples), looking each
 * protected item up by the VM's friendly name; A2A offers only test and
 * (unplanned) failover, so a planned failover shuts the source down first
 * (--source-site-operations Required). A failback runs the steps the estate
 * marks failback or any, in the plan's order, and fails over the items from
 * the recovery region's fabric (after reprotect they replicate from there).
 * Fabric and container default to the portal's names (asr-a2a-default-...).
 * Other replication (on-premises sources) becomes a manual step. Route preference is on-premises:
 * Microsoft ignores customer communities (azure-facts 1.7), so set_preference is instructions for
 * the edge routers and a pause.
 *
 * Sources: az CLI network command definitions (vnet-gateway create
 * --min-scale-unit/--max-scale-unit, vnet peering create flags default
 * false, vpn-connection create --express-route-circuit2 --routing-weight),
 * the site-recovery extension README and examples; azure-facts 1.7, 1.8, 3.
 */
#include "rec_emit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { EV_RG, EV_CIRCUIT };

struct evar {
	int kind;
	const char *name; /* region or circuit name; NULL for RG_UNRESOLVED */
	char var[96];
};

struct emit {
	const struct estate *e;
	const struct est_plan *p;
	int dir, type;
	struct lib_buf b; /* the body */
	struct lib_diags *warn;
	struct lib_vec vars; /* struct evar */
	unsigned step;
	const char *src, *tgt; /* replication source and target region names, or NULL */
	bool a2a;
};

/* ---- words and quoting --------------------------------------------------- */

static bool
safe_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("._-/:,=+@%", c);
}

/* s single-quoted for the shell; line breaks kept or made spaces. */
static void
put_sq_lines(struct lib_buf *b, const char *s, bool keep_lines)
{
	lib_buf_puts(b, "'");
	for (const char *c = s; *c; c++) {
		if (*c == '\'')
			lib_buf_puts(b, "'\\''");
		else if ((*c == '\n' || *c == '\r') && !keep_lines)
			lib_buf_puts(b, " ");
		else
			lib_buf_printf(b, "%c", *c);
	}
	lib_buf_puts(b, "'");
}

/* s single-quoted on one line. */
static void
put_sq(struct lib_buf *b, const char *s)
{
	put_sq_lines(b, s, false);
}

/* s as one shell word: bare when every character is harmless, else quoted. */
static void
put_word(struct lib_buf *b, const char *s)
{
	bool safe = *s && *s != '-';
	for (const char *c = s; *c && safe; c++)
		safe = safe_char(*c);
	if (safe)
		lib_buf_puts(b, s);
	else
		put_sq(b, s);
}

/* " --flag value" */
static void
opt(struct lib_buf *b, const char *flag, const char *val)
{
	lib_buf_printf(b, " %s ", flag);
	put_word(b, val);
}

/* ---- variables ------------------------------------------------------------ */

static void warn(struct emit *em, const struct est_pos *pos, const char *fmt, ...) LIB_PRINTF(3, 4);

static void
warn(struct emit *em, const struct est_pos *pos, const char *fmt, ...)
{
	if (!em->warn)
		return;
	struct lib_buf m = {0};
	va_list ap;
	va_start(ap, fmt);
	lib_buf_vprintf(&m, fmt, ap);
	va_end(ap);
	char path[160];
	snprintf(path, sizeof(path), "recovery_plans[%s]", em->p->name ? em->p->name : "?");
	lib_diag_add(em->warn, LIB_SEV_WARNING, em->e->file, pos ? pos->line : 0,
	             pos ? pos->col : 0, path, NULL, "%s", m.s ? m.s : "");
	lib_buf_free(&m);
}

/* The variable for (kind, name), registered on first use. */
static const char *
var_of(struct emit *em, int kind, const char *name)
{
	struct evar *v = em->vars.v;
	for (uint32_t i = 0; i < em->vars.n; i++)
		if (v[i].kind == kind &&
		    ((!name && !v[i].name) || (name && v[i].name && strcmp(v[i].name, name) == 0)))
			return v[i].var;
	char base[96];
	if (!name) {
		snprintf(base, sizeof(base), "RG_UNRESOLVED");
	} else {
		snprintf(base, sizeof(base), "%s%s", kind == EV_RG ? "RG_" : "CIRCUIT_", name);
		for (char *c = base; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			      (*c >= '0' && *c <= '9') || *c == '_'))
				*c = '_';
	}
	char cand[96];
	snprintf(cand, sizeof(cand), "%s", base);
	for (unsigned k = 2;; k++) {
		bool taken = false;
		v = em->vars.v;
		for (uint32_t i = 0; i < em->vars.n && !taken; i++)
			taken = strcmp(v[i].var, cand) == 0;
		if (!taken)
			break;
		snprintf(cand, sizeof(cand), "%.80s_%u", base, k);
	}
	if (strcmp(cand, base) != 0)
		warn(em, NULL, "'%s' and another name share the variable %s: this one is %s",
		     name ? name : "(unresolved)", base, cand);
	struct evar *n = lib_vec_push(&em->vars);
	n->kind = kind;
	n->name = name;
	snprintf(n->var, sizeof(n->var), "%s", cand);
	return n->var;
}

static const char *
rg_var(struct emit *em, const char *region, const char *what, const struct est_pos *pos)
{
	if (!region)
		warn(em, pos, "no region known for %s: its resource group is left to the operator",
		     what);
	return var_of(em, EV_RG, region);
}

/* /subscriptions/${SUBSCRIPTION}/resourceGroups/${RG}/providers/Microsoft.Network/TYPE/NAME,
 * to be written between double quotes. */
static void
put_id(struct lib_buf *b, const char *rg, const char *type, const char *name)
{
	lib_buf_printf(b,
	               "/subscriptions/${SUBSCRIPTION}/resourceGroups/${%s}"
	               "/providers/Microsoft.Network/%s/",
	               rg, type);
	for (const char *c = name; *c; c++)
		lib_buf_printf(b, strchr("\\\"$`", *c) ? "\\%c" : "%c", *c);
}

/* ---- where things are ----------------------------------------------------- */

typedef bool (*act_pred)(const struct est_action *a, const char *name);

static const struct est_action *
find_in(const struct est_action *v, uint32_t n, act_pred pred, const char *name)
{
	for (uint32_t i = 0; i < n; i++)
		if (pred(&v[i], name))
			return &v[i];
	return NULL;
}

static const struct est_action *
find_in_plan(const struct est_plan *p, act_pred pred, const char *name)
{
	const struct est_action *a = find_in(p->before.v, p->before.n, pred, name);
	for (uint32_t g = 0; g < p->groups.n && !a; g++) {
		const struct est_plan_group *gr = &p->groups.v[g];
		a = find_in(gr->before.v, gr->before.n, pred, name);
		if (!a)
			a = find_in(gr->after.v, gr->after.n, pred, name);
	}
	return a ? a : find_in(p->after.v, p->after.n, pred, name);
}

/* A step of this plan, else of any plan, for which pred holds. */
static const struct est_action *
find_step(const struct emit *em, act_pred pred, const char *name)
{
	const struct est_action *a = find_in_plan(em->p, pred, name);
	for (uint32_t i = 0; i < em->e->recovery_plans.n && !a; i++)
		a = find_in_plan(&em->e->recovery_plans.v[i], pred, name);
	return a;
}

static bool
creates_gateway(const struct est_action *a, const char *name)
{
	return a->create_gateway && a->create_gateway->name &&
	       strcmp(a->create_gateway->name, name) == 0;
}

static bool
creates_connection(const struct est_action *a, const char *name)
{
	return a->connect && a->connect->name && strcmp(a->connect->name, name) == 0;
}

static bool
creates_table(const struct est_action *a, const char *name)
{
	return a->create_route_table && a->create_route_table->name &&
	       strcmp(a->create_route_table->name, name) == 0;
}

static bool
attaches_table(const struct est_action *a, const char *name)
{
	return a->attach_route_table && a->attach_route_table->route_table.name &&
	       strcmp(a->attach_route_table->route_table.name, name) == 0;
}

static const char *
vnet_region(const struct emit *em, const char *vnet)
{
	if (!vnet)
		return NULL;
	uint32_t i = est_find(em->e, EST_K_VNET, vnet);
	if (i != EST_NONE)
		return em->e->vnets.v[i].region.name;
	size_t n = strlen(vnet);
	if (em->tgt && n > 4 && strcmp(vnet + n - 4, "-asr") == 0) {
		char base[128];
		snprintf(base, sizeof(base), "%.*s", (int)(n - 4), vnet);
		if (est_find(em->e, EST_K_VNET, base) != EST_NONE)
			return em->tgt; /* Site Recovery's mirror, in the target region */
	}
	return NULL;
}

static const char *
gateway_vnet(const struct emit *em, const char *gw)
{
	uint32_t vi;
	if (!gw)
		return NULL;
	if (est_find_gateway(em->e, gw, &vi))
		return em->e->vnets.v[vi].name;
	const struct est_action *a = find_step(em, creates_gateway, gw);
	return a ? a->create_gateway->vnet.name : NULL;
}

static const char *
connection_gateway(const struct emit *em, const char *conn)
{
	uint32_t i = est_find(em->e, EST_K_CONNECTION, conn);
	if (i != EST_NONE)
		return em->e->connections.v[i].gateway.name;
	const struct est_action *a = find_step(em, creates_connection, conn);
	return a ? a->connect->gateway.name : NULL;
}

static const char *
subnet_region(const struct emit *em, const char *path)
{
	char vnet[128];
	const char *slash = path ? strchr(path, '/') : NULL;
	if (!slash || (size_t)(slash - path) >= sizeof(vnet))
		return NULL;
	snprintf(vnet, sizeof(vnet), "%.*s", (int)(slash - path), path);
	return vnet_region(em, vnet);
}

static const char *
table_region(const struct emit *em, const char *rt)
{
	const struct estate *e = em->e;
	uint32_t i = est_find(e, EST_K_ROUTE_TABLE, rt);
	if (i != EST_NONE && e->route_tables.v[i].region.name)
		return e->route_tables.v[i].region.name;
	const struct est_action *a = find_step(em, creates_table, rt);
	if (a && a->create_route_table->region.name)
		return a->create_route_table->region.name;
	for (uint32_t v = 0; v < e->vnets.n; v++) /* an estate table: where it is attached */
		for (uint32_t s = 0; s < e->vnets.v[v].subnets.n; s++) {
			const char *n = e->vnets.v[v].subnets.v[s].route_table.name;
			if (n && strcmp(n, rt) == 0)
				return e->vnets.v[v].region.name;
		}
	a = find_step(em, attaches_table, rt);
	return a ? subnet_region(em, a->attach_route_table->subnet.name) : NULL;
}

/* ---- the steps ------------------------------------------------------------ */

static void step(struct emit *em, const char *fmt, ...) LIB_PRINTF(2, 3);

static void
step(struct emit *em, const char *fmt, ...)
{
	struct lib_buf t = {0};
	va_list ap;
	va_start(ap, fmt);
	lib_buf_vprintf(&t, fmt, ap);
	va_end(ap);
	char num[16];
	snprintf(num, sizeof(num), "%u. ", ++em->step);
	struct lib_buf w = {0};
	lib_buf_printf(&w, "%s%s", num, t.s ? t.s : "");
	lib_buf_puts(&em->b, "\nstep ");
	put_sq(&em->b, w.s);
	lib_buf_puts(&em->b, "\n");
	lib_buf_free(&t);
	lib_buf_free(&w);
}

static void
emit_gateway(struct emit *em, const struct est_action *a)
{
	const struct est_act_gateway *g = a->create_gateway;
	bool er = g->type == EST_GW_EXPRESSROUTE;
	const char *vnet = g->vnet.name, *region = vnet_region(em, vnet);
	const char *rg = rg_var(em, region, g->name, &g->pos);
	struct lib_buf *b = &em->b;
	step(em, "create gateway %s in %s (%s %s)", g->name, vnet, er ? "ExpressRoute" : "VPN",
	     est_sku_name(g->sku));
	if (!er) {
		lib_buf_puts(b,
		             "# a VPN gateway needs a public IP: add --public-ip-addresses NAME\n");
		warn(em, &g->pos,
		     "gateway '%s' is a VPN gateway: the script creates it without a public IP",
		     g->name);
	}
	lib_buf_puts(b, "az network vnet-gateway create");
	opt(b, "--name", g->name);
	lib_buf_printf(b, " --resource-group \"$%s\"", rg);
	if (region)
		opt(b, "--location", region);
	opt(b, "--vnet", vnet);
	lib_buf_printf(b, " --gateway-type %s --sku %s", er ? "ExpressRoute" : "Vpn",
	               est_sku_name(g->sku));
	if (!er)
		lib_buf_puts(b, " --vpn-type RouteBased");
	if (g->sku == EST_SKU_ERGWSCALE) {
		if (g->min_scale_units)
			lib_buf_printf(b, " --min-scale-unit %u", g->min_scale_units);
		if (g->max_scale_units)
			lib_buf_printf(b, " --max-scale-unit %u", g->max_scale_units);
		if (!g->min_scale_units && !g->max_scale_units)
			warn(em, &g->pos,
			     "ErGwScale gateway '%s' has no scale units: Azure's default applies",
			     g->name);
	}
	lib_buf_puts(b, " --no-wait\n");
	lib_buf_printf(b, "# about %lld minutes (azure-facts 1.8)\n",
	               (long long)est_limit(em->e, EST_LIM_GATEWAY_CREATE_MINUTES));
	lib_buf_puts(b, "az network vnet-gateway wait");
	opt(b, "--name", g->name);
	lib_buf_printf(b, " --resource-group \"$%s\" --created\n", rg);
}

static void
emit_connect(struct emit *em, const struct est_action *a)
{
	const struct est_act_connect *c = a->connect;
	const char *gw = c->gateway.name, *region = vnet_region(em, gateway_vnet(em, gw));
	const char *rg = rg_var(em, region, c->name, &c->pos);
	const char *cv = var_of(em, EV_CIRCUIT, c->circuit.name);
	struct lib_buf *b = &em->b;
	step(em, "connect gateway %s to circuit %s (connection %s, weight %u)", gw, c->circuit.name,
	     c->name, c->weight);
	lib_buf_puts(b, "az network vpn-connection create");
	opt(b, "--name", c->name);
	lib_buf_printf(b, " --resource-group \"$%s\"", rg);
	if (region)
		opt(b, "--location", region);
	opt(b, "--vnet-gateway1", gw);
	lib_buf_printf(b, " --express-route-circuit2 \"$%s\" --routing-weight %u", cv, c->weight);
	if (c->authorization) {
		lib_buf_puts(b, " --authorization-key ");
		put_sq(b, c->authorization);
	}
	lib_buf_puts(b, "\n");
}

static void
emit_disconnect(struct emit *em, const struct est_action *a)
{
	const struct est_act_disconnect *d = a->disconnect;
	const char *conn = d->connection.name;
	const char *region = vnet_region(em, gateway_vnet(em, connection_gateway(em, conn)));
	const char *rg = rg_var(em, region, conn, &d->pos);
	struct lib_buf *b = &em->b;
	step(em, "remove connection %s", conn);
	lib_buf_puts(b, "az network vpn-connection delete");
	opt(b, "--name", conn);
	lib_buf_printf(b, " --resource-group \"$%s\"", rg);
	if (em->type == EST_FO_UNPLANNED) {
		/* the source region may be down: Site Recovery goes on (azure-facts 3.2) */
		lib_buf_puts(b, " ||\n\techo ");
		struct lib_buf m = {0};
		lib_buf_printf(&m,
		               "warning: could not remove connection %s (is %s down?); unplanned "
		               "failover goes on. Remove it when the region returns: a stale "
		               "connection drops packets.",
		               conn, region ? region : "its region");
		put_sq(b, m.s);
		lib_buf_free(&m);
		lib_buf_puts(b, " >&2");
	}
	lib_buf_puts(b, "\n");
}

static void
emit_peering(struct emit *em, const struct est_action *a)
{
	const struct est_vnet_peering *p = a->create_peering;
	const char *from = p->from.name, *to = p->to.name;
	const char *rf = vnet_region(em, from), *rt = vnet_region(em, to);
	const char *rg = rg_var(em, rf, from, &p->from.pos);
	const char *rg_to = rg_var(em, rt, to, &p->to.pos);
	struct lib_buf *b = &em->b;
	step(em, "peer %s to %s (%s)", from, to, p->name);
	lib_buf_puts(b, "az network vnet peering create");
	opt(b, "--name", p->name);
	lib_buf_printf(b, " --resource-group \"$%s\"", rg);
	opt(b, "--vnet-name", from);
	if (strcmp(rg, rg_to) == 0) {
		opt(b, "--remote-vnet", to);
	} else {
		lib_buf_puts(b, " --remote-vnet \"");
		put_id(b, rg_to, "virtualNetworks", to);
		lib_buf_puts(b, "\"");
	}
	/* the CLI defaults every flag to false: give exactly those that are set */
	if (p->allow_virtual_network_access)
		lib_buf_puts(b, " --allow-vnet-access");
	if (p->allow_forwarded_traffic)
		lib_buf_puts(b, " --allow-forwarded-traffic");
	if (p->allow_gateway_transit)
		lib_buf_puts(b, " --allow-gateway-transit");
	if (p->use_remote_gateways)
		lib_buf_puts(b, " --use-remote-gateways");
	lib_buf_puts(b, "\n");
}

static const char *const hop_types[] = {
    [EST_NH_VIRTUAL_APPLIANCE] = "VirtualAppliance",
    [EST_NH_VNET_LOCAL] = "VnetLocal",
    [EST_NH_INTERNET] = "Internet",
    [EST_NH_NONE] = "None",
    [EST_NH_VIRTUAL_NETWORK_GATEWAY] = "VirtualNetworkGateway",
};

/* The routes of a table: its own, or those of the table it copies. */
static bool
table_routes(const struct emit *em, const char *name, const struct est_route **v, uint32_t *n,
             int depth)
{
	uint32_t i = est_find(em->e, EST_K_ROUTE_TABLE, name);
	if (i != EST_NONE) {
		*v = em->e->route_tables.v[i].routes.v;
		*n = em->e->route_tables.v[i].routes.n;
		return true;
	}
	const struct est_action *a = find_step(em, creates_table, name);
	if (!a || depth > 8)
		return false;
	const struct est_act_route_table *t = a->create_route_table;
	if (t->copy_of.name)
		return table_routes(em, t->copy_of.name, v, n, depth + 1);
	*v = t->routes.v;
	*n = t->routes.n;
	return true;
}

static void
emit_route_table(struct emit *em, const struct est_action *a)
{
	const struct est_act_route_table *t = a->create_route_table;
	const char *region = t->region.name ? t->region.name : table_region(em, t->name);
	const char *rg = rg_var(em, region, t->name, &t->pos);
	struct lib_buf *b = &em->b;
	const struct est_route *rv = t->routes.v;
	uint32_t rn = t->routes.n;
	if (t->copy_of.name) {
		step(em, "create route table %s (routes of %s)", t->name, t->copy_of.name);
		if (!table_routes(em, t->copy_of.name, &rv, &rn, 0)) {
			lib_buf_printf(b, "# routes of %s: not found in the estate\n",
			               t->copy_of.name);
			warn(em, &t->copy_of.pos,
			     "route table '%s' copies '%s', whose routes are unknown", t->name,
			     t->copy_of.name);
			rn = 0;
		}
	} else {
		step(em, "create route table %s", t->name);
	}
	lib_buf_puts(b, "az network route-table create");
	opt(b, "--name", t->name);
	lib_buf_printf(b, " --resource-group \"$%s\"", rg);
	if (region)
		opt(b, "--location", region);
	if (!t->propagate_gateway_routes)
		lib_buf_puts(b, " --disable-bgp-route-propagation true");
	lib_buf_puts(b, "\n");
	for (uint32_t i = 0; i < rn; i++) {
		const struct est_route *r = &rv[i];
		char pfx[IP_STRLEN + 8], ip[IP_STRLEN];
		ip_prefix_fmt(&r->prefix, pfx);
		lib_buf_puts(b, "az network route-table route create");
		opt(b, "--name", r->name);
		lib_buf_printf(b, " --resource-group \"$%s\"", rg);
		opt(b, "--route-table-name", t->name);
		opt(b, "--address-prefix", pfx);
		int nh = r->next_hop;
		lib_buf_printf(b, " --next-hop-type %s",
		               nh >= 0 && (size_t)nh < LIB_ARRAY_LEN(hop_types) ? hop_types[nh]
		                                                                : "None");
		if (nh == EST_NH_VIRTUAL_APPLIANCE)
			opt(b, "--next-hop-ip-address", ip_addr_fmt(&r->ip, ip));
		lib_buf_puts(b, "\n");
	}
}

static void
emit_attach(struct emit *em, const struct est_action *a)
{
	const struct est_act_attach *t = a->attach_route_table;
	const char *path = t->subnet.name, *slash = strchr(path, '/');
	char vnet[128];
	snprintf(vnet, sizeof(vnet), "%.*s", slash ? (int)(slash - path) : (int)strlen(path), path);
	const char *sub = slash ? slash + 1 : path;
	const char *rg = rg_var(em, vnet_region(em, vnet), path, &t->subnet.pos);
	const char *rt = t->route_table.name;
	const char *rg_rt = rg_var(em, table_region(em, rt), rt, &t->route_table.pos);
	struct lib_buf *b = &em->b;
	step(em, "attach route table %s to %s", rt, path);
	lib_buf_puts(b, "az network vnet subnet update");
	opt(b, "--name", sub);
	opt(b, "--vnet-name", vnet);
	lib_buf_printf(b, " --resource-group \"$%s\"", rg);
	if (strcmp(rg, rg_rt) == 0) {
		opt(b, "--route-table", rt);
	} else {
		lib_buf_puts(b, " --route-table \"");
		put_id(b, rg_rt, "routeTables", rt);
		lib_buf_puts(b, "\"");
	}
	lib_buf_puts(b, "\n");
}

static void
emit_preference(struct emit *em, const struct est_action *a)
{
	const struct est_act_preference *sp = a->set_preference;
	const struct estate *e = em->e;
	const char *site = sp->site.name, *circ = sp->circuit.name;
	struct lib_buf *b = &em->b;
	char pre[48] = "";
	if (sp->prepend)
		snprintf(pre, sizeof(pre), ", %u AS-path prepends", sp->prepend);
	step(em, "on-premises: site %s prefers circuit %s (local preference %u%s)", site, circ,
	     sp->local_pref, pre);
	struct lib_buf routers = {0};
	uint32_t si = est_find(e, EST_K_SITE, site), ci = est_find(e, EST_K_CIRCUIT, circ);
	uint32_t asn = 0;
	if (si != EST_NONE) {
		const struct est_site *s = &e->sites.v[si];
		asn = s->asn;
		for (uint32_t r = 0; r < s->routers.n; r++)
			for (uint32_t l = 0; l < s->routers.v[r].links.n; l++) {
				const struct est_ref *k = &s->routers.v[r].links.v[l];
				if (k->state == EST_REF_RESOLVED && k->i == ci)
					lib_buf_printf(&routers, "%s%s (%s)", routers.n ? ", " : "",
					               s->routers.v[r].name, k->name);
			}
	}
	lib_buf_printf(b, "# ON-PREMISES, not Azure: change the edge routers of site %s", site);
	if (routers.n)
		lib_buf_printf(b, ":\n#   %s", routers.s);
	lib_buf_printf(
	    b, ".\n#   Set BGP local preference %u on the routes learned over circuit %s.\n",
	    sp->local_pref, circ);
	if (sp->prepend)
		lib_buf_printf(
		    b,
		    "#   Prepend AS %u %u times to the routes advertised to Microsoft over "
		    "%s.\n",
		    asn, sp->prepend, circ);
	else
		lib_buf_printf(
		    b, "#   No AS-path prepends on the routes advertised to Microsoft over %s.\n",
		    circ);
	lib_buf_puts(b,
	             "#   Microsoft ignores BGP communities sent by customers (azure-facts 1.7):\n"
	             "#   only the edge routers can make this choice.\n");
	struct lib_buf m = {0};
	lib_buf_printf(&m,
	               "MANUAL STEP: on the edge routers of site %s, set local preference %u for "
	               "circuit %s - press Enter when done",
	               site, sp->local_pref, circ);
	lib_buf_puts(b, "read -r -p ");
	put_sq(b, m.s);
	lib_buf_puts(b, "\n");
	lib_buf_free(&m);
	lib_buf_free(&routers);
}

static void
emit_manual(struct emit *em, const struct est_action *a)
{
	step(em, "manual step");
	struct lib_buf m = {0};
	lib_buf_printf(&m, "MANUAL STEP: %s - press Enter when done", a->manual);
	lib_buf_puts(&em->b, "read -r -p ");
	put_sq(&em->b, m.s);
	lib_buf_puts(&em->b, "\n");
	lib_buf_free(&m);
}

static void
emit_script(struct emit *em, const struct est_action *a)
{
	const struct est_act_script *s = a->script;
	struct lib_buf *b = &em->b;
	char dur[32];
	lib_fmt_duration(s->timeout, dur, sizeof(dur));
	step(em, "script (time limit %s)", s->timeout > 0 ? dur : "none");
	if (s->timeout > 0)
		lib_buf_printf(b, "timeout %lld ", (long long)s->timeout);
	lib_buf_puts(b, "sh -c ");
	put_sq_lines(b, s->run, true);    /* a script of several lines stays one */
	if (em->type == EST_FO_UNPLANNED) /* script errors: the plan goes on (azure-facts 3.6) */
		lib_buf_puts(
		    b, " ||\n\techo 'warning: the script failed; unplanned failover goes on' >&2");
	lib_buf_puts(b, "\n");
}

static bool
admitted(const struct emit *em, const struct est_action *a)
{
	if (a->direction != EST_DIR_ANY && a->direction != em->dir)
		return false;
	if (!a->types.n)
		return true;
	for (uint32_t i = 0; i < a->types.n; i++)
		if (a->types.v[i] == em->type)
			return true;
	return false;
}

static void
emit_action(struct emit *em, const struct est_action *a)
{
	if (a->create_gateway)
		emit_gateway(em, a);
	else if (a->connect)
		emit_connect(em, a);
	else if (a->disconnect)
		emit_disconnect(em, a);
	else if (a->create_peering)
		emit_peering(em, a);
	else if (a->create_route_table)
		emit_route_table(em, a);
	else if (a->attach_route_table)
		emit_attach(em, a);
	else if (a->set_preference)
		emit_preference(em, a);
	else if (a->manual)
		emit_manual(em, a);
	else if (a->script)
		emit_script(em, a);
}

static void
emit_list(struct emit *em, const struct est_action *v, uint32_t n, const char *section)
{
	bool head = false;
	for (uint32_t i = 0; i < n; i++) {
		if (!admitted(em, &v[i]))
			continue;
		if (!head && section)
			lib_buf_printf(&em->b, "\n# ---- %s ----\n", section);
		head = true;
		emit_action(em, &v[i]);
	}
}

/* "fail over VMs" and the run's name */
static const char *
fo_verb(const struct emit *em)
{
	if (em->type == EST_FO_TEST)
		return "test failover of VMs";
	return em->dir == EST_DIR_FAILBACK ? "fail back VMs" : "fail over VMs";
}

static const char *
run_name(const struct emit *em)
{
	if (em->type == EST_FO_TEST)
		return "test failover";
	return em->dir == EST_DIR_FAILBACK ? "failback" : "failover";
}

static void
emit_group(struct emit *em, uint32_t gi)
{
	const struct est_plan_group *g = &em->p->groups.v[gi];
	struct lib_buf *b = &em->b;
	lib_buf_printf(b, "\n# ---- group %u: %s ----\n", gi + 1, g->name ? g->name : "");
	emit_list(em, g->before.v, g->before.n, NULL);
	struct lib_buf vms = {0};
	for (uint32_t k = 0; k < g->vms.n; k++)
		lib_buf_printf(&vms, "%s%s", k ? ", " : "", g->vms.v[k].name);
	const char *cmd = em->type == EST_FO_TEST ? "test-failover" : "unplanned-failover";
	step(em, "group %u: %s %s", gi + 1, fo_verb(em), vms.s ? vms.s : "(none)");
	if (em->a2a)
		lib_buf_printf(b,
		               "# group %u: %s %s (Site Recovery: az site-recovery "
		               "protected-item %s, or the portal)\n",
		               gi + 1, fo_verb(em), vms.s ? vms.s : "(none)", cmd);
	else
		lib_buf_printf(
		    b,
		    "# group %u: %s %s (Site Recovery: in the portal; only Azure-to-Azure "
		    "replication is scripted here)\n",
		    gi + 1, fo_verb(em), vms.s ? vms.s : "(none)");
	if (!g->vms.n) {
		lib_buf_puts(b, ": # no VMs in this group\n");
	} else if (!em->a2a) {
		struct lib_buf m = {0};
		lib_buf_printf(&m, "MANUAL STEP: %s %s in Site Recovery - press Enter when done",
		               fo_verb(em), vms.s);
		lib_buf_puts(b, "read -r -p ");
		put_sq(b, m.s);
		lib_buf_puts(b, "\n");
		lib_buf_free(&m);
	} else if (g->vms.n == 1) {
		lib_buf_puts(b, "asr_failover ");
		put_word(b, g->vms.v[0].name);
		lib_buf_puts(b, "\n");
	} else { /* a group's VMs fail over in parallel (azure-facts 3.6) */
		lib_buf_puts(b, "pids=()\n");
		for (uint32_t k = 0; k < g->vms.n; k++) {
			lib_buf_puts(b, "asr_failover ");
			put_word(b, g->vms.v[k].name);
			lib_buf_puts(b, " & pids+=(\"$!\")\n");
		}
		lib_buf_puts(b, "for pid in \"${pids[@]}\"; do wait \"$pid\"; done\n");
	}
	lib_buf_free(&vms);
	emit_list(em, g->after.v, g->after.n, NULL);
}

/* ---- the header ------------------------------------------------------------ */

static void
emit_asr_function(struct emit *em, struct lib_buf *h)
{
	const struct est_replication *rp = em->e->replication;
	bool back = em->dir == EST_DIR_FAILBACK;
	const char *home = back ? em->tgt : em->src; /* where the protected items replicate from */
	lib_buf_puts(h, "\n# Site Recovery (the site-recovery extension: az extension add --name "
	                "site-recovery)\n");
	if (back)
		lib_buf_printf(
		    h, "# failback: after reprotect the protected items replicate from %s\n", home);
	if (rp->vault.name) {
		lib_buf_printf(h, "VAULT_NAME=\"${VAULT_NAME:-");
		put_word(h, rp->vault.name);
		lib_buf_puts(h, "}\"\n");
	} else {
		lib_buf_puts(h,
		             "VAULT_NAME=\"${VAULT_NAME:?set VAULT_NAME to the Recovery Services "
		             "vault}\"\n");
	}
	lib_buf_puts(h, "RG_VAULT=\"${RG_VAULT:-$RG_TARGET}\"\n");
	lib_buf_puts(h, "# the portal's default names; check with: az site-recovery fabric list\n");
	lib_buf_printf(h, "ASR_FABRIC=\"${ASR_FABRIC:-asr-a2a-default-%s}\"\n", home);
	lib_buf_printf(h, "ASR_CONTAINER=\"${ASR_CONTAINER:-asr-a2a-default-%s-container}\"\n",
	               home);
	if (em->type == EST_FO_TEST) {
		const char *tn = rp->test_network.name;
		if (tn) {
			const char *rg = var_of(em, EV_RG, vnet_region(em, tn));
			lib_buf_puts(h, "TEST_NETWORK_ID=\"${TEST_NETWORK_ID:-");
			put_id(h, rg, "virtualNetworks", tn);
			lib_buf_puts(h, "}\"\n");
		} else {
			lib_buf_puts(
			    h, "TEST_NETWORK_ID=\"${TEST_NETWORK_ID:?set TEST_NETWORK_ID to an "
			       "isolated VNet for the drill}\"\n");
			warn(em, &rp->pos,
			     "replication has no test_network: the drill script needs "
			     "TEST_NETWORK_ID");
		}
	}
	lib_buf_puts(
	    h, "\n# asr_failover VM: the Site Recovery protected item whose friendly name is VM\n"
	       "asr_failover() {\n"
	       "\tlocal item\n"
	       "\titem=\"$(az site-recovery protected-item list --resource-group \"$RG_VAULT\" "
	       "--vault-name \"$VAULT_NAME\" --fabric-name \"$ASR_FABRIC\" "
	       "--protection-container \"$ASR_CONTAINER\" "
	       "--query \"[?properties.friendlyName=='$1'].name | [0]\" --output tsv)\"\n"
	       "\tif [[ -z \"$item\" ]]; then\n"
	       "\t\techo \"no Site Recovery protected item for VM $1\" >&2\n"
	       "\t\treturn 1\n"
	       "\tfi\n");
	lib_buf_puts(h, "\taz site-recovery protected-item ");
	if (em->type == EST_FO_TEST)
		lib_buf_puts(h, "test-failover");
	else
		lib_buf_puts(h, "unplanned-failover");
	lib_buf_puts(h, " --resource-group \"$RG_VAULT\" --vault-name \"$VAULT_NAME\" "
	                "--fabric-name \"$ASR_FABRIC\" --protection-container \"$ASR_CONTAINER\" "
	                "--name \"$item\" --failover-direction PrimaryToRecovery "
	                "--provider-details '{a2a:{}}'");
	if (em->type == EST_FO_TEST)
		lib_buf_puts(h,
		             " --network-type VmNetworkAsInput --network-id \"$TEST_NETWORK_ID\"");
	else if (em->type == EST_FO_PLANNED) /* A2A has no planned failover: shut down first */
		lib_buf_puts(h, " --source-site-operations Required");
	else
		lib_buf_puts(h, " --source-site-operations NotRequired");
	lib_buf_puts(h, "\n}\n");
}

static const char *const type_names[] = {"test", "planned", "unplanned"};

static bool
has_vms(const struct est_plan *p)
{
	for (uint32_t g = 0; g < p->groups.n; g++)
		if (p->groups.v[g].vms.n)
			return true;
	return false;
}

static uint32_t
var_rank(const struct emit *em, const struct evar *v)
{
	if (!v->name)
		return UINT32_MAX;
	uint32_t i = est_find(em->e, v->kind == EV_RG ? EST_K_REGION : EST_K_CIRCUIT, v->name);
	return i == EST_NONE ? UINT32_MAX - 1 : i;
}

static bool
var_before(const struct emit *em, const struct evar *x, const struct evar *y)
{
	if (x->kind != y->kind)
		return x->kind < y->kind;
	return var_rank(em, x) < var_rank(em, y);
}

static void
emit_header(struct emit *em, struct lib_buf *h)
{
	const struct estate *e = em->e;
	struct lib_buf asr = {0};
	if (em->a2a && has_vms(em->p))
		emit_asr_function(em, &asr); /* first: it may register a variable */

	lib_buf_puts(h, "#!/usr/bin/env bash\n");
	lib_buf_printf(h,
	               "# Recovery plan %s of estate %s as az CLI commands, generated by strait.\n",
	               em->p->name, e->name ? e->name : "?");
	lib_buf_printf(h, "# Run: %s, %s. Steps run in order; each waits for the one before.\n",
	               em->dir == EST_DIR_FAILBACK ? "failback" : "failover", type_names[em->type]);
	lib_buf_puts(h, "# Review before running. Every variable below can be set in the "
	                "environment.\n");
	lib_buf_puts(h, "set -euo pipefail\n\n");
	lib_buf_puts(h, "if [[ -n \"${SUBSCRIPTION:-}\" ]]; then\n"
	                "\taz account set --subscription \"$SUBSCRIPTION\"\n"
	                "else\n"
	                "\tSUBSCRIPTION=\"$(az account show --query id --output tsv)\"\n"
	                "fi\n");
	if (em->src)
		lib_buf_printf(h, "RG_SOURCE=\"${RG_SOURCE:-rg-%s}\"\n", em->src);
	if (em->tgt)
		lib_buf_printf(h, "RG_TARGET=\"${RG_TARGET:-rg-%s}\"\n", em->tgt);

	uint32_t n = em->vars.n, *ord = lib_xcalloc(n ? n : 1, sizeof(*ord));
	const struct evar *v = em->vars.v;
	for (uint32_t i = 0; i < n; i++) { /* by kind, then as in the estate, unknown last */
		uint32_t k = i;
		for (; k > 0 && var_before(em, &v[i], &v[ord[k - 1]]); k--)
			ord[k] = ord[k - 1];
		ord[k] = i;
	}
	bool circuits = false;
	for (uint32_t k = 0; k < n; k++) {
		const struct evar *x = &v[ord[k]];
		if (x->kind == EV_CIRCUIT) {
			if (!circuits)
				lib_buf_puts(h, "RG_CIRCUITS=\"${RG_CIRCUITS:-rg-circuits}\"\n");
			circuits = true;
			lib_buf_printf(h, "%s=\"${%s:-", x->var, x->var);
			put_id(h, "RG_CIRCUITS", "expressRouteCircuits", x->name);
			lib_buf_puts(h, "}\"\n");
		} else if (!x->name) {
			lib_buf_printf(
			    h,
			    "%s=\"${%s:?set %s: strait could not tell the region of some "
			    "objects}\"\n",
			    x->var, x->var, x->var);
		} else if (em->src && strcmp(x->name, em->src) == 0) {
			lib_buf_printf(h, "%s=\"${%s:-$RG_SOURCE}\"\n", x->var, x->var);
		} else if (em->tgt && strcmp(x->name, em->tgt) == 0) {
			lib_buf_printf(h, "%s=\"${%s:-$RG_TARGET}\"\n", x->var, x->var);
		} else {
			lib_buf_printf(h, "%s=\"${%s:-rg-%s}\"\n", x->var, x->var, x->name);
		}
	}
	free(ord);
	if (asr.n)
		lib_buf_puts(h, asr.s);
	lib_buf_free(&asr);
	lib_buf_puts(h, "\nstep() { printf '\\n==> %s\\n' \"$*\"; }\n");
}

int
rec_emit_az(const struct estate *e, const struct est_plan *p, int direction, int type,
            struct lib_buf *out, struct lib_diags *warn_to)
{
	if (!e || !p || !out || (direction != EST_DIR_FAILOVER && direction != EST_DIR_FAILBACK) ||
	    type < EST_FO_TEST || type > EST_FO_UNPLANNED)
		return -EINVAL;
	struct emit em = {.e = e, .p = p, .dir = direction, .type = type, .warn = warn_to};
	lib_vec_init(&em.vars, sizeof(struct evar));
	const struct est_replication *rp = e->replication;
	if (rp) {
		em.src = rp->source.name; /* NULL for an on-premises source */
		em.tgt = rp->target.name;
		em.a2a = em.src && em.tgt && !rp->source_site.name;
	}

	emit_list(&em, p->before.v, p->before.n, "plan before-steps");
	for (uint32_t g = 0; g < p->groups.n; g++)
		emit_group(&em, g);
	emit_list(&em, p->after.v, p->after.n, "plan after-steps");

	struct lib_buf h = {0};
	emit_header(&em, &h);
	lib_buf_puts(out, h.s);
	if (em.b.s)
		lib_buf_puts(out, em.b.s);
	lib_buf_puts(out, "\nstep ");
	struct lib_buf done = {0};
	lib_buf_printf(&done, "recovery plan %s: %s done", p->name, run_name(&em));
	put_sq(out, done.s);
	lib_buf_puts(out, "\n");
	lib_buf_free(&done);
	lib_buf_free(&h);
	lib_buf_free(&em.b);
	lib_vec_free(&em.vars);
	return 0;
}
