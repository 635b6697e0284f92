/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_geo.h - GeoIP enrichment from MaxMind DB files (libmaxminddb).
 *
 * Two databases, both optional for the lookup: a City (or Country)
 * database gives country, subdivision and city, an ASN database gives
 * the autonomous system.  They are opened memory-mapped when the
 * configuration is read, in the master, so every worker shares the same
 * pages; a reload opens the new files and the old cycle closes the old
 * ones.  The member added to the envelope:
 *
 *     ,"geo":{"country":"GB","subdivision":"ENG","city":"London",
 *             "asn":1221,"as_org":"Telstra Pty Ltd"}
 *
 * holds only what the databases have for the address, and is absent for
 * local addresses (xf_ip_is_local) and addresses they do not know.
 */

#ifndef XF_GEO_H
#define XF_GEO_H

#include <maxminddb.h>

#include "xf_core.h"
#include "xf_ip.h"


#define XF_GEO_STR_MAX  255         /* longer names are left out */

/* Room for the largest member: four strings of XF_GEO_STR_MAX escaped. */
#define XF_GEO_MEMBER_MAX                                                     \
    (sizeof(",\"geo\":{\"country\":\"\",\"subdivision\":\"\","                \
            "\"city\":\"\",\"asn\":4294967295,\"as_org\":\"\"}")              \
     + 4 * 6 * XF_GEO_STR_MAX)


typedef struct {
    MMDB_s      city;
    MMDB_s      asn;
    unsigned    has_city;
    unsigned    has_asn;
} xf_geo_t;


/*
 * Open the databases (either path may be NULL, not both) and check them:
 * MMDB_open() checks the metadata and the sizes of the sections; the
 * metadata's database_type must be of the parameter's kind (no ASN or
 * ISP database as city, no City or Country one as asn); then
 * every node of the search tree is read (a record that points outside
 * the file fails), and the data records of a sample of nodes spread
 * over the tree (all of them in a small file, about two thousand in a
 * large one) are decoded in full, with the metadata.  A file that
 * passes can still hold a corrupt record outside the sample: its
 * lookups fail cleanly (xf_geo_member returns XF_ERR_CORRUPT) instead of
 * failing nginx -t.
 *
 * Returns XF_OK, or XF_ERR_CORRUPT with a message in err ("city database
 * \"/path\": The MaxMind DB file contains invalid metadata") for a file
 * that cannot be opened or fails a check; nothing stays open then.
 */
xf_status_t xf_geo_open(xf_geo_t *g, const char *city, const char *asn,
    char *err, size_t err_size);

/* Unmap what xf_geo_open() opened. */
void xf_geo_close(xf_geo_t *g);

/*
 * Render the "geo" member of the address into dst (cap bytes;
 * XF_GEO_MEMBER_MAX always suffices).  *out_len is 0 when there is
 * nothing to say.  Returns XF_OK, XF_ERR_BUFFER, or XF_ERR_CORRUPT when a
 * database failed on this address (then nothing is written; the caller
 * counts it and sends the event without geo).
 */
xf_status_t xf_geo_member(const xf_geo_t *g, const xf_ip_t *ip, u_char *dst,
    size_t cap, size_t *out_len);

/*
 * The autonomous system number of the address, from the ASN database:
 * XF_OK with *asn set (0: no database, a local address, or none known),
 * or XF_ERR_CORRUPT when the database failed on this address.
 */
xf_status_t xf_geo_asn(const xf_geo_t *g, const xf_ip_t *ip, uint32_t *asn);

#endif /* XF_GEO_H */
