/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_geo.c - libmaxminddb: open and check the databases, look up an
 * address, render the "geo" member.
 *
 * libmaxminddb has no public way to verify a whole file (its
 * MMDB_verify lives in a test tool, not in the library), so xf_geo_open
 * does the part of it that is cheap: the search tree is walked node by
 * node with MMDB_read_node(), which fails for a record past the data
 * section, and the data of nodes taken at a fixed stride is decoded in
 * full.  On the two broken test files of the MaxMind-DB repository:
 *
 *     Invalid-Node-Count     MMDB_open: invalid metadata
 *     Broken-Double-Format   opens, and a lookup of country works, but
 *                            decoding a whole record fails (a double
 *                            of the wrong size): caught by the sample
 *
 * A GeoLite2-City file has about four million nodes: reading them all
 * is a few tens of milliseconds at configuration time.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "xf_geo.h"
#include "xf_json.h"


#define XF_GEO_SAMPLE  1024         /* nodes whose data are decoded */


typedef struct {
    const char          *name;      /* in the "geo" member */
    uint32_t             type;      /* MMDB_DATA_TYPE_UTF8_STRING, UINT32 */
    const char *const   *path;      /* in the database record */
} xf_geo_field_t;

typedef struct {
    u_char     *dst;
    size_t      cap;
    size_t      o;
    unsigned    n;
} xf_geo_out_t;


static const char *const  xf_geo_country[] = { "country", "iso_code", NULL };
static const char *const  xf_geo_subdivision[] = { "subdivisions", "0",
                                                   "iso_code", NULL };
static const char *const  xf_geo_city[] = { "city", "names", "en", NULL };
static const char *const  xf_geo_asn_path[] = {
    "autonomous_system_number", NULL
};
static const char *const  xf_geo_as_org[] = {
    "autonomous_system_organization", NULL
};

static const xf_geo_field_t  xf_geo_city_fields[] = {
    { "country", MMDB_DATA_TYPE_UTF8_STRING, xf_geo_country },
    { "subdivision", MMDB_DATA_TYPE_UTF8_STRING, xf_geo_subdivision },
    { "city", MMDB_DATA_TYPE_UTF8_STRING, xf_geo_city },
};

static const xf_geo_field_t  xf_geo_asn_fields[] = {
    { "asn", MMDB_DATA_TYPE_UINT32, xf_geo_asn_path },
    { "as_org", MMDB_DATA_TYPE_UTF8_STRING, xf_geo_as_org },
};


static xf_status_t
xf_geo_check(MMDB_s *db, const char *what, const char *path, char *err,
    size_t err_size)
{
    int                      rc, side;
    uint32_t                 i, n, stride;
    MMDB_entry_s             entry;
    MMDB_search_node_s       node;
    MMDB_entry_data_list_s  *list;

    list = NULL;
    rc = MMDB_get_metadata_as_entry_data_list(db, &list);
    MMDB_free_entry_data_list(list);

    if (rc != MMDB_SUCCESS) {
        snprintf(err, err_size, "%s database \"%s\": metadata: %s", what,
                 path, MMDB_strerror(rc));
        return XF_ERR_CORRUPT;
    }

    n = db->metadata.node_count;
    stride = n / XF_GEO_SAMPLE + 1;

    for (i = 0; i < n; i++) {
        rc = MMDB_read_node(db, i, &node);

        if (rc != MMDB_SUCCESS) {
            snprintf(err, err_size, "%s database \"%s\": search tree node "
                     "%u: %s", what, path, i, MMDB_strerror(rc));
            return XF_ERR_CORRUPT;
        }

        if (node.left_record_type == MMDB_RECORD_TYPE_INVALID
            || node.right_record_type == MMDB_RECORD_TYPE_INVALID)
        {
            snprintf(err, err_size, "%s database \"%s\": search tree node "
                     "%u points outside the file", what, path, i);
            return XF_ERR_CORRUPT;
        }

        if (i % stride) {
            continue;
        }

        for (side = 0; side < 2; side++) {
            if ((side ? node.right_record_type : node.left_record_type)
                != MMDB_RECORD_TYPE_DATA)
            {
                continue;
            }

            entry = side ? node.right_record_entry : node.left_record_entry;

            list = NULL;
            rc = MMDB_get_entry_data_list(&entry, &list);
            MMDB_free_entry_data_list(list);

            if (rc != MMDB_SUCCESS) {
                snprintf(err, err_size, "%s database \"%s\": data record "
                         "of node %u: %s", what, path, i, MMDB_strerror(rc));
                return XF_ERR_CORRUPT;
            }
        }
    }

    return XF_OK;
}


/*
 * The database is of the kind its parameter says, by its metadata's
 * database_type (GeoLite2-City, GeoIP2-Country, GeoLite2-ASN,
 * GeoIP2-ISP, DBIP-City-Lite, ...): an ASN database given as city= (or
 * the other way round) opens, looks up and finds nothing to render, so
 * every event would go without its geo member, silently.
 */
static xf_status_t
xf_geo_kind_check(MMDB_s *db, const char *what, const char *path,
    char *err, size_t err_size)
{
    int          city, asn;
    const char  *type;

    type = db->metadata.database_type;

    if (type == NULL) {
        return XF_OK;
    }

    city = strstr(type, "City") != NULL || strstr(type, "Country") != NULL
           || strstr(type, "Enterprise") != NULL;
    asn = strstr(type, "ASN") != NULL || strstr(type, "ISP") != NULL;

    if (strcmp(what, "city") == 0 ? asn && !city : city && !asn) {
        snprintf(err, err_size, "%s database \"%s\" is a %s database: "
                 "give it as %s=", what, path, type,
                 strcmp(what, "city") == 0 ? "asn" : "city");
        return XF_ERR_CORRUPT;
    }

    return XF_OK;
}


static xf_status_t
xf_geo_open_one(MMDB_s *db, const char *what, const char *path, char *err,
    size_t err_size)
{
    int  rc;

    rc = MMDB_open(path, MMDB_MODE_MMAP, db);

    if (rc != MMDB_SUCCESS) {
        if (rc == MMDB_IO_ERROR || rc == MMDB_FILE_OPEN_ERROR) {
            snprintf(err, err_size, "%s database \"%s\": %s (%s)", what, path,
                     MMDB_strerror(rc), strerror(errno));

        } else {
            snprintf(err, err_size, "%s database \"%s\": %s", what, path,
                     MMDB_strerror(rc));
        }

        return XF_ERR_CORRUPT;
    }

    if (xf_geo_kind_check(db, what, path, err, err_size) != XF_OK
        || xf_geo_check(db, what, path, err, err_size) != XF_OK)
    {
        MMDB_close(db);
        return XF_ERR_CORRUPT;
    }

    return XF_OK;
}


xf_status_t
xf_geo_open(xf_geo_t *g, const char *city, const char *asn, char *err,
    size_t err_size)
{
    memset(g, 0, sizeof(xf_geo_t));

    if (city == NULL && asn == NULL) {
        snprintf(err, err_size, "no GeoIP database");
        return XF_ERR_CORRUPT;
    }

    if (city != NULL) {
        if (xf_geo_open_one(&g->city, "city", city, err, err_size) != XF_OK) {
            return XF_ERR_CORRUPT;
        }

        g->has_city = 1;
    }

    if (asn != NULL) {
        if (xf_geo_open_one(&g->asn, "asn", asn, err, err_size) != XF_OK) {
            xf_geo_close(g);
            return XF_ERR_CORRUPT;
        }

        g->has_asn = 1;
    }

    return XF_OK;
}


void
xf_geo_close(xf_geo_t *g)
{
    if (g->has_city) {
        MMDB_close(&g->city);
        g->has_city = 0;
    }

    if (g->has_asn) {
        MMDB_close(&g->asn);
        g->has_asn = 0;
    }
}


/* Find the entry of the address; 0 found, 1 not there, -1 corrupt. */
static int
xf_geo_lookup(const MMDB_s *db, const xf_ip_t *ip, MMDB_entry_s *entry)
{
    int                   rc;
    MMDB_lookup_result_s  r;
    struct sockaddr_in    sin;
    struct sockaddr_in6   sin6;

    if (ip->family == AF_INET || ip->mapped) {
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        memcpy(&sin.sin_addr, ip->mapped ? ip->addr + 12 : ip->addr, 4);

        r = MMDB_lookup_sockaddr(db, (struct sockaddr *) &sin, &rc);

    } else {
        memset(&sin6, 0, sizeof(sin6));
        sin6.sin6_family = AF_INET6;
        memcpy(&sin6.sin6_addr, ip->addr, 16);

        r = MMDB_lookup_sockaddr(db, (struct sockaddr *) &sin6, &rc);
    }

    if (rc == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR) {
        return 1;
    }

    if (rc != MMDB_SUCCESS) {
        return -1;
    }

    if (!r.found_entry) {
        return 1;
    }

    *entry = r.entry;

    return 0;
}


/* A value at path: 0 with *d, 1 absent or of another type, -1 corrupt. */
static int
xf_geo_get(MMDB_entry_s *entry, MMDB_entry_data_s *d, uint32_t type,
    const char *const *path)
{
    int  rc;

    rc = MMDB_aget_value(entry, d, path);

    if (rc == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR) {
        return 1;
    }

    if (rc != MMDB_SUCCESS) {
        return -1;
    }

    if (!d->has_data) {
        return 1;
    }

    if (type == MMDB_DATA_TYPE_UINT32) {
        /* a number of any unsigned width up to 32 bits */
        if (d->type == MMDB_DATA_TYPE_UINT16) {
            d->uint32 = d->uint16;
            d->type = MMDB_DATA_TYPE_UINT32;
        }
    }

    return d->type == type ? 0 : 1;
}


static int
xf_geo_name(xf_geo_out_t *out, const char *name)
{
    size_t  len;

    len = strlen(name);

    if (out->cap - out->o < len + 4) {
        return -1;
    }

    out->dst[out->o++] = out->n++ ? ',' : '{';
    out->dst[out->o++] = '"';
    memcpy(out->dst + out->o, name, len);
    out->o += len;
    out->dst[out->o++] = '"';
    out->dst[out->o++] = ':';

    return 0;
}


static int
xf_geo_str(xf_geo_out_t *out, const char *name, const MMDB_entry_data_s *d)
{
    if (d->data_size == 0 || d->data_size > XF_GEO_STR_MAX) {
        return 0;
    }

    if (xf_geo_name(out, name) != 0
        || out->cap - out->o < xf_json_escape_bound(d->data_size) + 2)
    {
        return -1;
    }

    out->dst[out->o++] = '"';
    out->o += xf_json_escape(out->dst + out->o,
                             (const u_char *) d->utf8_string, d->data_size);
    out->dst[out->o++] = '"';

    return 0;
}


static int
xf_geo_num(xf_geo_out_t *out, const char *name, uint32_t v)
{
    int  n;

    if (xf_geo_name(out, name) != 0 || out->cap - out->o < 11) {
        return -1;
    }

    n = snprintf((char *) out->dst + out->o, 11, "%u", v);
    out->o += n;

    return 0;
}


static xf_status_t
xf_geo_fields(const MMDB_s *db, const xf_ip_t *ip, const xf_geo_field_t *f,
    size_t n, xf_geo_out_t *out)
{
    int                 rc;
    size_t              i;
    MMDB_entry_s        entry;
    MMDB_entry_data_s   d;

    rc = xf_geo_lookup(db, ip, &entry);

    if (rc != 0) {
        return rc < 0 ? XF_ERR_CORRUPT : XF_OK;
    }

    for (i = 0; i < n; i++) {
        rc = xf_geo_get(&entry, &d, f[i].type, f[i].path);

        if (rc < 0) {
            return XF_ERR_CORRUPT;
        }

        if (rc > 0) {
            continue;
        }

        if (f[i].type == MMDB_DATA_TYPE_UINT32) {
            rc = xf_geo_num(out, f[i].name, d.uint32);

        } else {
            rc = xf_geo_str(out, f[i].name, &d);
        }

        if (rc != 0) {
            return XF_ERR_BUFFER;
        }
    }

    return XF_OK;
}


xf_status_t
xf_geo_member(const xf_geo_t *g, const xf_ip_t *ip, u_char *dst, size_t cap,
    size_t *out_len)
{
    xf_status_t   rc;
    xf_geo_out_t  out;

    static const char  head[] = ",\"geo\":";

    *out_len = 0;

    if (xf_ip_is_local(ip)) {
        return XF_OK;
    }

    if (cap < sizeof(head)) {
        return XF_ERR_BUFFER;
    }

    out.dst = dst;
    out.cap = cap - 1;              /* room for the closing brace */
    out.o = sizeof(head) - 1;
    out.n = 0;

    rc = XF_OK;

    if (g->has_city) {
        rc = xf_geo_fields(&g->city, ip, xf_geo_city_fields,
                           sizeof(xf_geo_city_fields)
                           / sizeof(xf_geo_city_fields[0]), &out);
    }

    if (rc == XF_OK && g->has_asn) {
        rc = xf_geo_fields(&g->asn, ip, xf_geo_asn_fields,
                           sizeof(xf_geo_asn_fields)
                           / sizeof(xf_geo_asn_fields[0]), &out);
    }

    if (rc != XF_OK) {
        return rc;
    }

    if (out.n == 0) {
        return XF_OK;
    }

    memcpy(dst, head, sizeof(head) - 1);
    dst[out.o++] = '}';
    *out_len = out.o;

    return XF_OK;
}


xf_status_t
xf_geo_asn(const xf_geo_t *g, const xf_ip_t *ip, uint32_t *asn)
{
    int                 rc;
    MMDB_entry_s        entry;
    MMDB_entry_data_s   d;

    *asn = 0;

    if (!g->has_asn || xf_ip_is_local(ip)) {
        return XF_OK;
    }

    rc = xf_geo_lookup(&g->asn, ip, &entry);

    if (rc == 0) {
        rc = xf_geo_get(&entry, &d, MMDB_DATA_TYPE_UINT32, xf_geo_asn_path);

        if (rc == 0) {
            *asn = d.uint32;
        }
    }

    return rc < 0 ? XF_ERR_CORRUPT : XF_OK;
}
