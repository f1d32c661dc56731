/*
 * cpm_mms - message/imdn+xml (RFC 5438) reading and writing, and IMDN
 * notification MESSAGE bodies (message/cpim wrapping an IMDN).
 *
 * Copyright (C) 2026 cpm_mms authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Pure: no XML library, no Kamailio header. */
#ifndef CPM_MMS_IMDN_H
#define CPM_MMS_IMDN_H

#include "cm_str.h"

typedef enum imdn_kind {
	IMDN_KIND_NONE = 0,
	IMDN_KIND_DELIVERY,     /* <delivery-notification> */
	IMDN_KIND_DISPLAY,      /* <display-notification> */
	IMDN_KIND_PROCESSING,   /* <processing-notification> */
} imdn_kind;

typedef enum imdn_status {
	IMDN_ST_NONE = 0,
	IMDN_ST_DELIVERED,
	IMDN_ST_FAILED,
	IMDN_ST_FORBIDDEN,
	IMDN_ST_ERROR,
	IMDN_ST_DISPLAYED,
	IMDN_ST_PROCESSED,
	IMDN_ST_STORED,
} imdn_status;

typedef struct imdn_doc {
	cm_str message_id;             /* <message-id>, raw (xml_decode()) */
	cm_str datetime;               /* <datetime> */
	cm_str recipient_uri;          /* optional */
	cm_str original_recipient_uri; /* optional */
	imdn_kind kind;
	imdn_status status;
} imdn_doc;

/* Parse an IMDN XML document (zero-copy into xml, values raw: xml_decode()
 * gives their text). Takes namespace prefixes (<imdn:message-id>),
 * whitespace, comments, an XML declaration; elements of another namespace
 * are extensions. 0, or -1 when it is not well formed (xml_scan.h), not an
 * IMDN, or lacks message-id / a notification. */
int imdn_parse(cm_str xml, imdn_doc *out);

/* Is this SIP body an IMDN? content_type is the SIP Content-Type; for
 * message/cpim the CPIM payload must be message/imdn+xml. On success
 * fills out (pointers into body) and the CPIM From/To/imdn.Message-ID of
 * the notification itself. 0 / -1 */
typedef struct imdn_request {
	imdn_doc doc;
	cm_str cpim_from;      /* CPIM From of the IMDN (the recipient) */
	cm_str cpim_to;        /* CPIM To (the original sender) */
	cm_str imdn_message_id;/* the IMDN's own imdn.Message-ID */
	cm_str datetime;       /* the IMDN's CPIM DateTime */
} imdn_request;
int imdn_from_sip_body(cm_str content_type, cm_str body, imdn_request *out);

/* what an IMDN MESSAGE we send carries */
typedef struct imdn_out {
	cm_str from_uri;       /* CPIM From: the reporting recipient */
	cm_str to_uri;         /* CPIM To: the original sender */
	cm_str imdn_message_id;/* new id of this notification */
	cm_str datetime;       /* ISO 8601 now / report Date */
	cm_str orig_message_id;/* <message-id>: the original imdn.Message-ID */
	cm_str orig_datetime;  /* <datetime>: the original DateTime */
	cm_str recipient_uri;  /* <recipient-uri> */
	cm_str original_recipient_uri; /* optional */
	cm_str imdn_route;     /* optional imdn.IMDN-Route value(s) */
	imdn_kind kind;
	imdn_status status;
} imdn_out;

/* Whole message/cpim body of an IMDN (CRLF lines): CPIM headers (From, To,
 * NS: imdn, imdn.Message-ID, DateTime, imdn.IMDN-Route if any; never an
 * imdn.Disposition-Notification), blank line, Content-Type:
 * message/imdn+xml, Content-Disposition: notification, Content-Length,
 * blank line, the XML (values XML-escaped). 0 / -1 */
int imdn_write_cpim(cm_buf *b, const imdn_out *o);

const char *imdn_status_name(imdn_status st);

#endif
