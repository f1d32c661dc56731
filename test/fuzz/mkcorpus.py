#!/usr/bin/env python3
# cpm_mms - (re)write the seed corpora of the fuzz harnesses
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Seeds are small and meaningful: the examples of
# ../shared/spec/CPIM_IMDN_ENUM.md and MM4.md sec. 6, SMTP sessions, NAPTR
# regexps, SIP fields, IMDN fields and the mails of test/e2e/mm4_vectors. Run from the repository root:
#   python3 test/fuzz/mkcorpus.py
# It only (re)writes test/fuzz/corpus/<harness>/seed-*; the fuzzers
# themselves never write into the repository.
import gzip
import os
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def crlf(s):
    return s.replace("\r\n", "\n").replace("\n", "\r\n")


def write(harness, name, data):
    d = os.path.join(ROOT, harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


# ---- CPIM (CPIM_IMDN_ENUM.md 3.1, 3.2) ----
CPIM_31 = crlf("""From: <tel:+4712345678>
To: <tel:+358401234567>
NS: imdn <urn:ietf:params:imdn>
imdn.Message-ID: Ab12Cd34
DateTime: 2024-05-01T10:15:00.000Z
imdn.Disposition-Notification: positive-delivery, negative-delivery, display

Content-Type: text/plain; charset=utf-8

Hi there""")

CPIM_IMDN = crlf("""From: <tel:+358401234567>
To: <tel:+4712345678>
NS: imdn <urn:ietf:params:imdn>
imdn.Message-ID: Zz99Yy88
DateTime: 2024-05-01T10:16:40.000Z

Content-Type: message/imdn+xml
Content-Disposition: notification

<?xml version="1.0" encoding="UTF-8"?>
<imdn xmlns="urn:ietf:params:xml:ns:imdn">
  <message-id>Ab12Cd34</message-id>
  <datetime>2024-05-01T10:15:00.000Z</datetime>
  <recipient-uri>tel:+358401234567</recipient-uri>
  <delivery-notification><status><delivered/></status></delivery-notification>
</imdn>
""")

CPIM_RICH = crlf("""From: "Alice \\"A\\" Smith" <sip:+4712345678@ims.example.net>
To: <sip:+358401234567@ims.example.net;user=phone>
To: Bob <tel:+358-40-123-4567>
cc: <tel:+4798765432>
NS: i <urn:ietf:params:imdn>
NS: <urn:example:default>
i.Message-ID: id-1
i.Disposition-Notification: display,
  processing
i.IMDN-Record-Route: <sip:iwf.example.net>
Subject: ;lang=fr Bonjour
Subject: Hello
DateTime: 2026-11-24T17:10:02+01:00
Require: i.Disposition-Notification

Content-Type: text/plain;
 charset=utf-8
Content-Transfer-Encoding: base64
Content-ID: <1@x>

SGkgdGhlcmU=
""")

# payload right after the CPIM headers (no MIME block), bare LF
CPIM_NOMIME = "From: <tel:+4712345678>\nTo: <tel:+358401234567>\n\nNote: hi\nsecond line"

RL_XML = crlf("""<?xml version="1.0" encoding="UTF-8"?>
<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"
  xmlns:cp="urn:ietf:params:xml:ns:copycontrol">
  <list>
    <!-- <entry uri="sip:+1000@x"/> -->
    <entry cp:copyControl="to" uri="sip:+358401234567@ims.example.net"/>
    <entry uri='tel:+4798765432' cp:anonymize="true"/>
    <rl:entry xmlns:rl="urn:x" uri = "tel:+4711111111"/>
    <![CDATA[ <entry uri="tel:+1"/> ]]>
  </list>
</resource-lists>
""")

MULTI = crlf("""--b1
Content-Type: message/cpim

""") + CPIM_31 + crlf("""
--b1
Content-Type: application/resource-lists+xml
Content-Disposition: recipient-list

""") + RL_XML + crlf("""
--b1--
epilogue""")

write("cpim", "imdn-request", CPIM_31)
write("cpim", "imdn-notification", CPIM_IMDN)
write("cpim", "rich-headers", CPIM_RICH)
write("cpim", "no-mime-block", CPIM_NOMIME)
write("cpim", "resource-lists", "x\r\n" + RL_XML)
write("cpim", "multipart-urilist",
      'multipart/mixed; boundary="b1"\r\n' + MULTI)
write("cpim", "multipart-bare",
      "simple\n--simple \nContent-Type: text/plain\n\nA\n--simple\n\nB\n--simple--\n")

# ---- MM4 (MM4.md 6.1 - 6.6, the DATA part) ----
MM4 = {}
MM4["forward-req"] = crlf("""X-Mms-3GPP-MMS-Version: 6.16.0
X-Mms-Message-Type: MM4_forward.REQ
X-Mms-Transaction-ID: "iwf-tx-000123"
X-Mms-Message-ID: "iwf-7f3a9c@mms.mnc001.mcc242.gprs"
X-Mms-Ack-Request: Yes
X-Mms-Originator-System: system-user@mms.mnc001.mcc242.gprs
Sender: system-user@mms.mnc001.mcc242.gprs
Message-ID: <20240501101500.7f3a9c@mms.mnc001.mcc242.gprs>
From: +4712345678/TYPE=PLMN@mms.mnc001.mcc242.gprs
To: +358401234567/TYPE=PLMN@mms.mnc009.mcc244.gprs
Date: Wed, 01 May 2024 10:15:00 +0000
Subject: Hello
X-Mms-Message-Class: Personal
X-Mms-Priority: Normal
X-Mms-Delivery-Report: Yes
X-Mms-Read-Reply: Yes
X-Mms-Sender-Visibility: Show
X-Mms-Forward-Counter: 1
X-Mms-Expiry: Wed, 08 May 2024 10:15:00 +0000
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8
Content-ID: <text1>

Hi there
--b1--
""")
MM4["forward-res"] = crlf("""X-Mms-3GPP-MMS-Version: 6.16.0
X-Mms-Message-Type: MM4_forward.RES
X-Mms-Transaction-ID: "iwf-tx-000123"
X-Mms-Message-ID: "iwf-7f3a9c@mms.mnc001.mcc242.gprs"
X-Mms-Request-Status-Code: Ok
X-Mms-Status-Text: Accepted
Sender: system-user@mms.mnc009.mcc244.gprs
To: system-user@mms.mnc001.mcc242.gprs
Message-ID: <res-88812@mms.mnc009.mcc244.gprs>
Date: Wed, 01 May 2024 10:15:02 +0000

""")
MM4["delivery-report-req"] = crlf("""X-Mms-3GPP-MMS-Version: 6.16.0
X-Mms-Message-Type: MM4_delivery_report.REQ
X-Mms-Transaction-ID: "b-dr-5521"
X-Mms-Message-ID: "iwf-7f3a9c@mms.mnc001.mcc242.gprs"
From: +358401234567/TYPE=PLMN@mms.mnc009.mcc244.gprs
To: +4712345678/TYPE=PLMN@mms.mnc001.mcc242.gprs
Date: Wed, 01 May 2024 10:16:40 +0000
X-Mms-MM-Status-Code: Retrieved
X-Mms-Forward-To-Originator-UA: Yes
X-Mms-Ack-Request: Yes
X-Mms-Originator-System: system-user@mms.mnc009.mcc244.gprs
Sender: system-user@mms.mnc009.mcc244.gprs
Message-ID: <dr-5521@mms.mnc009.mcc244.gprs>

""")
MM4["delivery-report-res"] = crlf("""X-Mms-3GPP-MMS-Version: 6.16.0
X-Mms-Message-Type: MM4_delivery_report.RES
X-Mms-Transaction-ID: "b-dr-5521"
X-Mms-Message-ID: "iwf-7f3a9c@mms.mnc001.mcc242.gprs"
X-Mms-Request-Status-Code: Ok
Sender: system-user@mms.mnc001.mcc242.gprs
To: system-user@mms.mnc009.mcc244.gprs
Message-ID: <drres-77@mms.mnc001.mcc242.gprs>
Date: Wed, 01 May 2024 10:16:41 +0000

""")
MM4["read-reply-req"] = crlf("""X-Mms-3GPP-MMS-Version: 6.16.0
X-Mms-Message-Type: MM4_read_reply_report.REQ
X-Mms-Transaction-ID: "b-rr-0091"
X-Mms-Message-ID: "iwf-7f3a9c@mms.mnc001.mcc242.gprs"
From: +358401234567/TYPE=PLMN@mms.mnc009.mcc244.gprs
To: +4712345678/TYPE=PLMN@mms.mnc001.mcc242.gprs
Date: Wed, 01 May 2024 10:20:05 +0000
X-Mms-Read-Status: Read
X-Mms-Ack-Request: Yes
X-Mms-Originator-System: system-user@mms.mnc009.mcc244.gprs
Sender: system-user@mms.mnc009.mcc244.gprs
Message-ID: <rr-0091@mms.mnc009.mcc244.gprs>

""")
MM4["read-reply-res"] = crlf("""X-Mms-3GPP-MMS-Version: 6.16.0
X-Mms-Message-Type: MM4_read_reply_report.RES
X-Mms-Transaction-ID: "b-rr-0091"
X-Mms-Request-Status-Code: Ok
Sender: system-user@mms.mnc001.mcc242.gprs
To: system-user@mms.mnc009.mcc244.gprs
Message-ID: <rrres-12@mms.mnc001.mcc242.gprs>
Date: Wed, 01 May 2024 10:20:06 +0000

""")
for k, v in MM4.items():
    write("mm4", k, v)
write("mm4", "folded-lf",
      "x-mms-message-type:  mm4_forward.res \nSubject: a\n\tfolded\n  twice\n"
      "X-Mms-Transaction-ID:\"q\\\"x\"\nBad\rCR: y\n\nbody\n")
write("mm4", "address-list",
      "+4790000001/TYPE=PLMN@mms.b.example, \"Ann, A.\" <+4790000002/TYPE=PLMN@c>,"
      " bob@mail.example (x, (y) \\) z), f@[1,2], friends: a@b, \"q:\" <c@d>;"
      " undisclosed-recipients:;")
write("mm4", "rfc2047",
      "Subject: =?UTF-8?B?SMOpbGzDtg==?= caf\u00e9 \u00fcber =?x\r\n"
      "X-Mms-Status-Text: " + "long " * 40 + "\r\n\r\n")

# ---- SMTP sessions: 4 set-up bytes, then the client's bytes ----
def session(body):
    return crlf(body)


FWD = MM4["forward-req"].replace("\r\n.", "\r\n..")  # dot-stuffed
S_FULL = (session("EHLO mmsc.example.net\nMAIL FROM:<+4712345678/TYPE=PLMN@mms.mnc001.mcc242.gprs> SIZE=1200 BODY=8BITMIME\n"
                  "RCPT TO:<+358401234567/TYPE=PLMN@mms.mnc009.mcc244.gprs>\nDATA\n")
          + FWD + ".\r\n" + session("QUIT\n"))
write("smtp", "forward-req", b"\x00\x03\x00\x01" + S_FULL.encode())
write("smtp", "forward-req-bytewise", b"\x00\x00\x12\x34" + S_FULL.encode())
write("smtp", "pipelined-small-limits", b"\x05\x02\x77\x01" + session(
    "HELO x\nMAIL FROM:<>\nRCPT TO:<a@b>\nRCPT TO:<@r1,@r2:c@d>\nRCPT TO:<a@b>\n"
    "RCPT TO:<e@f>\nRCPT TO:<g@h>\nDATA\n..dot\n.\nline\n.\nQUIT\n").encode())
write("smtp", "errors", b"\x01\x01\x00\x07" + session(
    "MAIL FROM:<a@b>\nEHLO\nehlo ok\nmail from: <a@b> SIZE=99999999999\n"
    "MAIL FROM:<a@b> FOO=1\nRCPT TO:<>\nDATA\nEXPN x\nVRFY\nVRFY u\nHELP\n"
    "NOOP\nRSET x\nRSET\nXYZZY\n" + "A" * 600 + "\nQUIT\n").encode())
write("smtp", "smuggling", b"\x00\x02\x10\x20" + (
    "EHLO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"
    "Subject: x\r\n\r\nbody\n.\r\nMAIL FROM:<evil@x>\r\n.\n\r\n.\r\n"
    "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n" + "L" * 1200 + "\r\n.\r\n"
    "QUIT\r\n").encode())
write("smtp", "nul-and-failing-alloc", b"\x32\x03\x00\x00" + (
    "EHLO a\r\nNO\x00OP\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"
    "a\x00b\r\n.\r\n").encode())

# ---- E.164 / ENUM / NAPTR: lines ----
write("e164", "naptr-regexp",
      "!^\\+?(.*)$!mailto:+\\1/TYPE=PLMN@mms.mnc001.mcc242.gprs!\n+4712345678")
write("e164", "naptr-regexp-2",
      "/^\\+47(.*)$/mailto:\\0@mms.example.net/i\n+4712345678\n"
      "|^(\\+?)([0-9]{1,15})$|mailto:\\2\\|x@\\\\y|\n+1\n")
write("e164", "naptr-select",
      "u\nE2U+mms:mailto\n!^.*$!mailto:a@b!\n.\n"
      "U\nE2U+sip\n!^.*$!sip:a@b!\n.\n"
      "u\nmms+E2U\n!^(.*)$!mailto:\\1@c!\n.\n"
      "u\nE2U+email+mms:tel:mailto\n!^.*$!mailto:d@e!\n.\n")
write("e164", "uris",
      "tel:+47-123-45678;ext=1\n"
      "sip:+4712345678:pw@ims.example.net;user=phone\n"
      "\"Bob <x>\" <sips:+358401234567@example.net>;tag=1\n"
      "tel:1234;phone-context=+47\n"
      "+4712345678\n")
write("e164", "mm4-addresses",
      "+358401234567/TYPE=PLMN@mms.mnc009.mcc244.gprs\n"
      "<4712345678/type=plmn>\n"
      "mailto:+4712345678/TYPE=PLMN@mms.example.net?subject=x\n")
write("e164", "static-routes",
      "+4779=>mmsc.example.net:25\n*=>[2001:db8::1]:2525\n"
      "358 => 192.0.2.1\n4=>2001:db8::2\n")
write("e164", "static-routes-via",
      "+4779=>mms.mnc002.mcc242.gprs;via=192.0.2.5:2525,46=>mms.se;via=[mx.se]\n"
      "*=>[IPv6:2001:db8::1]\n47=>[10.0.0.1];VIA=mmsc.x\n")
write("e164", "national-numbers",
      "00,0,47\ntel:0412345678\n0412345678/TYPE=PLMN@mms.peer\n"
      "sip:004712345678@h;user=phone\ntel:412345678;phone-context=+47\n"
      "+0412345678\n[192.0.2.1]\n")
write("e164", "naptr-walk-tel",
      "u\nE2U+mms:tel\n!^.*$!tel:+4798765432!\n.\n"
      "u\nE2U+mms:mailto\n!^\\+46(.*)$!mailto:x@y!\n.\n"
      "u\nE2U+email:mailto+mms:mailto\n!^(.*)$!mailto:\\1@c!\n.\n")

# ---- mapping: fields separated by 0x1e ----
def rec(*fields):
    return "\x1e".join(fields)


RURI = "sip:+358401234567@ims.example.net;user=phone"
FROM = "<tel:+4712345678>;tag=abc"
write("mapping", "text", rec(RURI, FROM, "", "", "Hello", "urgent",
                             "Tue, 24 Nov 2026 17:10:02 GMT",
                             "text/plain; charset=utf-8", "3600,69,0,0,0",
                             "Hi there"))
write("mapping", "cpim", rec("tel:+358401234567", FROM, "", "", "", "", "",
                             "message/cpim", ",,,,1", CPIM_31))
write("mapping", "urilist", rec("sip:list@iwf.example.net", FROM, "", "", "",
                                "", "", 'multipart/mixed;boundary="b1"',
                                ",,2,,1", MULTI))
write("mapping", "header-injection",
      rec(RURI, FROM + "\r\nBcc: a@b", "", "", "Hi\r\nBcc: evil@x\r\n\r\nbody",
          "normal\nX-Mms-Priority: High", "", "text/plain\r\nX: y", "", "x"))
write("mapping", "anonymous",
      rec(RURI, '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=1',
          "<tel:+4712345678>", "id;header", "=?x Sub\r\nTo: evil\r\n\r\nj",
          "emergency", "Mon, 1 Jan (c) 99 00:00 EST",
          "application/octet-stream", "-1,-1,0,10,0", "\x00\xff\x10bin"))
write("mapping", "qp-text",
      rec("tel:+358401234567", FROM, "", "", "caf\u00e9 " * 30, "non-urgent",
          "", "text/plain", "", "caf\u00e9\r\n" + "x" * 1100 + " \r\n.\r\n"))
write("mapping", "cpim-base64",
      rec(RURI, FROM, "", "", "", "", "", "Message/CPIM", ",,,,",
          crlf("From: <tel:+4712345678>\nDateTime: 2026-11-24t17:10:02.5-01:30\n"
               "Subject: s\n\nContent-Type: image/jpeg\n"
               "Content-Transfer-Encoding: base64\n\n/9j/4AAQSkZJRg==\n")))
write("mapping", "short-number",
      rec("tel:1234;phone-context=example.net", FROM, "", "", "", "", "",
          "", "", "x"))
write("mapping", "status-tokens",
      rec("Error-permanent-content-not-accepted", "message size too large",
          "Error-transient-foo", "", "2026-02-29T00:00:00Z",
          "Sat, 29 Feb 2020 23:59:60 +1400"))

# ---- IMDN: a selector byte (bit 0: 0 message/cpim, 1 message/imdn+xml;
# bits 1-2 kind, 3-5 status of the IMDN written), then the body, which
# split at 0x1e is also the imdn_out fields ----
def imdn_sel(xml, kind, status):
    return bytes([(1 if xml else 0) | (kind << 1) | (status << 3)])


IMDN_XML = CPIM_IMDN[CPIM_IMDN.index("<?xml"):]
# CPIM_IMDN_ENUM.md 3.2, the example IMDN (delivered)
write("imdn", "cpim-delivered", imdn_sel(0, 1, 1) + CPIM_IMDN.encode())
write("imdn", "xml-delivered", imdn_sel(1, 1, 1) + IMDN_XML.encode())
write("imdn", "xml-prefixed-display", imdn_sel(1, 2, 5) + crlf(
    """\ufeff<?xml version="1.0"?>
<!-- read report -->
<i:imdn xmlns:i="urn:ietf:params:xml:ns:imdn">
  <i:message-id> Ab12Cd34 </i:message-id>
  <i:datetime>2024-05-01T10:15:00.000Z</i:datetime>
  <i:original-recipient-uri>tel:+358401234567</i:original-recipient-uri>
  <i:display-notification><i:status><i:displayed/></i:status></i:display-notification>
  <x:ext xmlns:x="urn:x" a='>'><![CDATA[ <status> ]]></x:ext>
</i:imdn>
""").encode())
write("imdn", "cpim-processing-stored", imdn_sel(0, 3, 7) + crlf(
    """From: <sip:+358401234567@ims.example.net>
To: <sip:+4712345678@ims.example.net>
NS: im <urn:ietf:params:imdn>
im.Message-ID: Pq77
DateTime: 2024-05-01T10:16:40Z

Content-type: Message/IMDN+XML; charset=utf-8
Content-Disposition: notification

<imdn xmlns="urn:ietf:params:xml:ns:imdn"><message-id>Ab12Cd34</message-id><datetime>2024-05-01T10:15:00Z</datetime><processing-notification><status><stored/></status></processing-notification></imdn>""").encode())


def imdn_fields(*f):
    return "\x1e".join(f).encode("utf-8", "surrogateescape")


# what report.c writes for an MM4 delivery report (Table 6)
write("imdn", "write-delivered", imdn_sel(0, 1, 1) + imdn_fields(
    "tel:+358401234567", "tel:+4712345678", "Zz99Yy88",
    "2024-05-01T10:16:40.000Z", "Ab12Cd34", "2024-05-01T10:15:00.000Z",
    "tel:+358401234567", "", "<sip:iwf@iwf.example.net>, <sip:b@c>"))
write("imdn", "write-hostile", imdn_sel(0, 2, 5) + imdn_fields(
    "<sip:a@b>\r\nimdn.Disposition-Notification: display",
    "\"Bob\" <tel:+4712345678>", " id\r\n\r\nContent-Type: x ",
    "2024-05-01T10:16:40Z\n", "a&b<c>\"d'e\x01", "  x  ",
    "sip:r@x;a=\"<y>\"", "\ttel:+1 ", ",\"a,b\" <sip:x,y>,, <sip:z>,"))
write("imdn", "write-failed-no-route", imdn_sel(0, 1, 2) + imdn_fields(
    "sip:+4712345678@ims.example.net", "mailto:x@y", "n1", "now", "m",
    "d", "tel:+1"))

# ---- MM4 in (Table 4): a set-up byte (bit 0: uri_form sip:), then the
# mail as received after DATA ----
write("mm4_in", "forward-req", b"\x00" + MM4["forward-req"].encode())
write("mm4_in", "forward-req-sip", b"\x01" + MM4["forward-req"].encode())
VEC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e",
                   "mm4_vectors")
for i, name in enumerate(sorted(os.listdir(VEC))):
    if name.endswith(".eml"):
        with open(os.path.join(VEC, name), "rb") as f:
            write("mm4_in", name[:-4], bytes([i & 1]) + f.read())
write("mm4_in", "hidden-base64-text", b"\x00" + crlf(
    """X-Mms-3GPP-MMS-Version: 6.16.0
X-Mms-Message-Type: MM4_forward.REQ
X-Mms-Transaction-ID: "tx-b64"
X-Mms-Message-ID: "mid-b64@mms.peer.test"
From: someone@example.com
To: +4711111111/TYPE=PLMN@mms.iwf.test
X-Mms-Sender-Visibility: Hide
X-Mms-Read-Report: 1
X-Mms-Expiry: 3600
X-Mms-Forward-Counter: 3
X-Mms-Priority: High
Subject: =?ISO-8859-1?Q?Gr=FC=DFe?= =?UTF-8?B?w6k=?=
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: base64

R3L832U=
""").encode())
write("mm4_in", "multipart-smil-qp", b"\x01" + crlf(
    """X-Mms-3GPP-MMS-Version: 6.16.0
X-Mms-Message-Type: MM4_forward.REQ
X-Mms-Transaction-ID: "tx-qp"
X-Mms-Message-ID: "mid-qp@mms.peer.test"
From: +4730000100/TYPE=PLMN@mms.peer.test
X-Mms-Delivery-Report: Yes
X-Mms-Originator-R/S-Delivery-Report: Yes
Content-Type: application/vnd.wap.multipart.related; type="application/smil"; boundary=qq

--qq
Content-Type: application/smil

<smil/>
--qq
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

caf=C3=A9 =
soft
--qq--
""").encode())
# charset cases (set-up bit 1): a byte picking the charset of fz_charsets
# in fuzz_mm4_in.c (bit 7: output limit 16), then the text
for idx, cs, text in ((0, "", "K\u00f8ln"), (3, "cp1252", "Gr\u00fc\u00dfe \u20ac"),
                      (12, "gb2312", "\u4e2d\u6587"), (16, "shift_jis", "\u65e5\u672c\u8a9e"),
                      (17, "euc_kr", "\uc548\ub155"), (11, "koi8_r", "\u041f\u0440\u0438"),
                      (20, "utf-16", "Hi \u2713"), (21, "utf-16-be", "\U0001f600"),
                      (19, "iso2022_jp", "\u65e5\u672c")):
    write("mm4_in", "charset-%d" % idx, bytes([2, idx]) + text.encode(cs or "latin1"))
write("mm4_in", "charset-2047", b"\x02\x00" + b"K\xf8ln =?KOI8-R?B?8NLJ18XU?= "
      b"=?UTF-16BE?Q?=00H=00?= =?UTF-16BE?Q?i?= =?x-no?Q?a?=")
write("mm4_in", "multipart-charsets", b"\x00" + crlf(
    """X-Mms-3GPP-MMS-Version: 6.16.0
X-Mms-Message-Type: MM4_forward.REQ
X-Mms-Transaction-ID: "tx-cs"
X-Mms-Message-ID: "mid-cs@mms.peer.test"
From: +4730000100/TYPE=PLMN@mms.peer.test
Subject: =?GB2312?B?1tDOxA==?= =?Big5?B?wrKwVA==?=
Content-Type: application/vnd.wap.multipart.mixed; boundary=o

--o
Content-Type: application/vnd.wap.multipart.alternative; boundary=i

--i
Content-Type: text/plain; charset=UTF-16
Content-Transfer-Encoding: base64

/v8ASABpACAnEw==
--i
Content-Type: text/plain; charset=ISO-8859-1
Content-Transfer-Encoding: quoted-printable

Hei p=E5 deg
--i--
--o
Content-Type: image/gif

GIF
--o--
""").encode())

# ---- Content-Encoding (content_coding.c): byte 0 = coding and limit ----
_imdn = crlf("""From: <sip:+4712345678@ims.test>
To: <sip:+4798765432@ims.test>
NS: imdn <urn:ietf:params:imdn>
imdn.Message-ID: 34jk324j~1

Content-type: message/imdn+xml
Content-Disposition: notification

<?xml version="1.0" encoding="UTF-8"?>
<imdn xmlns="urn:ietf:params:xml:ns:imdn"><message-id>x</message-id>
<delivery-notification><status><delivered/></status></delivery-notification>
</imdn>
""").encode()
write("content_coding", "zlib", b"\x00" + zlib.compress(_imdn))
_raw = zlib.compressobj(wbits=-15)
write("content_coding", "raw", b"\x00" + _raw.compress(_imdn) + _raw.flush())
write("content_coding", "gzip", b"\x01" + gzip.compress(_imdn, mtime=0))
write("content_coding", "gzip-small-limit",
      b"\x03" + gzip.compress(_imdn, mtime=0))

# ---- the XML scanner (xml_scan.c): IMDN, resource lists, the odd parts ----
write("xml_scan", "imdn", IMDN_XML)
write("xml_scan", "resource-lists", RL_XML)
write("xml_scan", "namespaces-entities", crlf(
    """\ufeff<?xml version="1.0"?>
<!-- c --><r xmlns="urn:d" xmlns:p="urn:p"><p:e p:a='x&amp;y' b="&#x20AC;"/>
<e xmlns="urn:e">t &lt;&#65;&gt;<![CDATA[<raw>&]]></e><q:e/></r>
"""))
