#!/usr/bin/env python3
"""Writes the seed corpora of fuzz_bgp_open and fuzz_bgp_update.

Each seed is a message as a real speaker sends it: the OPEN and UPDATE
captures of tehnerd/bgp2go's tests (a Cisco-style OPEN, iBGP UPDATEs, an
AMS-IX MP_REACH), FRR's tests/bgpd/test_mp_attr.c next hops, ze's RFC 9072
OPEN, and OPENs laid out the way BIRD, FRR, GoBGP, OpenBGPD and ExaBGP lay out
their capabilities, plus a few malformed ones for the error paths. An UPDATE
seed starts with fuzz_bgp_update's session byte (bit 0 4-octet AS, 1 eBGP,
2/3 ADD-PATH IPv4/IPv6, 4 extended messages, 5 enforce-first-as).

Usage: tests/fuzz/bgp-corpus.py [DIR]   (default: tests/fuzz beside this file)
"""
import os
import sys

MARKER = "ff" * 16


def msg(typ, body):
    body = bytes.fromhex(body.replace(" ", ""))
    return bytes.fromhex(MARKER) + (19 + len(body)).to_bytes(2, "big") + bytes([typ]) + body


def opn(asn, hold, ident, params):
    p = bytes.fromhex(params.replace(" ", ""))
    return msg(1, "04%04x%04x%08x%02x" % (asn, hold, ident, len(p)) + p.hex())


def cap(code, val=""):
    v = bytes.fromhex(val.replace(" ", ""))
    return "%02x%02x" % (code, len(v)) + v.hex()


def one_param(*caps):
    c = "".join(caps)
    return "02%02x" % (len(c) // 2) + c


def each_param(*caps):
    return "".join("02%02x" % (len(c) // 2) + c for c in caps)


def attr(flags, typ, val):
    v = bytes.fromhex(val.replace(" ", ""))
    if len(v) > 255:
        return "%02x%02x%04x" % (flags | 0x10, typ, len(v)) + v.hex()
    return "%02x%02x%02x" % (flags, typ, len(v)) + v.hex()


def upd(mode, wd="", attrs="", nlri=""):
    w = bytes.fromhex(wd.replace(" ", ""))
    a = bytes.fromhex(attrs.replace(" ", ""))
    n = bytes.fromhex(nlri.replace(" ", ""))
    body = len(w).to_bytes(2, "big") + w + len(a).to_bytes(2, "big") + a + n
    return bytes([mode]) + msg(2, body.hex())


MP4, MP6 = cap(1, "00010001"), cap(1, "00020001")
AS4 = lambda a: cap(65, "%08x" % a)

opens = {
    "cisco-bgp2go": bytes.fromhex(
        MARKER + "003b0104fde8005a0a0000021e02060104000100010202800002020200020440020078020641040000fde8"),
    "bird": opn(23456, 240, 0xC0000201, one_param(MP4, MP6, cap(2), cap(6), cap(64, "0078 00010180 00020100"),
                                                  AS4(4200000001), cap(70))),
    "frr": opn(65010, 180, 0x0A000001, each_param(MP4, MP6, cap(128), cap(2), cap(70), AS4(65010),
                                                  cap(69, "00010101 00020101"), cap(73, "04 65646765 00"),
                                                  cap(64, "4078"), cap(71), cap(6))),
    "gobgp": opn(65020, 90, 0x0A000002, one_param(MP4, cap(2), AS4(65020), cap(64, "0078 00010100"))),
    "openbgpd": opn(65030, 90, 0x0A000003, one_param(MP4, MP6, cap(2), cap(64, "0000"), AS4(65030), cap(70),
                                                     cap(6))),
    "exabgp": opn(65040, 180, 0x0A000004, one_param(MP4, MP6, AS4(65040), cap(2), cap(128))),
    "rfc9072-ze": msg(1, "045BA000B4C0000201 FF FF 0009 02 0006 4104FA56EA01"),
    "no-params": opn(65050, 90, 0x0A000005, ""),
    "hold-zero": opn(65060, 0, 0x0A000006, one_param(MP4, AS4(65060))),
    "unknown-caps": opn(65070, 90, 0x0A000007, one_param(MP4, cap(9, "03"), cap(75, "0c 42495244 20 322e3135 2e31"),
                                                         cap(200, "abcdef"))),
    "bad-version": msg(1, "03fde9005ac000020100"),
    "cve-2022-43681": msg(1, "04fde9005ac0000201ff"),
    "notification-shutdown": msg(3, "0602 16 4d61696e74656e616e636520e2809420313020 6d696e"),
    "route-refresh": msg(5, "0002 00 01"),
}

ORIGIN = attr(0x40, 1, "00")
ASP = lambda *a: attr(0x40, 2, "02%02x" % len(a) + "".join("%08x" % x for x in a))
ASP2 = lambda *a: attr(0x40, 2, "02%02x" % len(a) + "".join("%04x" % x for x in a))
NH = attr(0x40, 3, "c0000201")
PFX = "18c63364 10c0a8 20cb007101"
mp6 = lambda nh, nlri: attr(0x80, 14, "000201%02x" % (len(nh) // 2) + nh + "00" + nlri)

updates = {
    "ibgp-bgp2go": bytes([1]) + bytes.fromhex(
        MARKER + "00360200000015400101004002004003040a0000024005040000006420010101012001010102"),
    "as6-bgp2go": bytes([1]) + bytes.fromhex(
        MARKER + "005102000000364001010240021a02060000000100000002000000030000000400000005000000064003"
        "040a00000240050400000064c00804ffff000118010b01"),
    "mp6-amsix": upd(3, "", "900e001c00020110200107f800200101000000000245018000302a00bdc0e003" + ORIGIN
                     + ASP(65001)),
    "mp6-linklocal-frr": upd(3, "", mp6("fffe0102aabbccdd03040506a1a2a3a4fe80000000000000021002ff01020304",
                                        "20fffe0102 40fffe000100020003 00") + ORIGIN + ASP(65001)),
    "as4-2octet": upd(2, "", ORIGIN + ASP2(65001, 23456, 65002) + NH + attr(0xc0, 7, "5ba0c0000209")
                      + attr(0xc0, 17, "0203 0000fde9 fa56ea01 0000fdea") + attr(0xc0, 18, "fa56ea02c0000209"),
                      PFX),
    "withdraw-v4": upd(3, PFX),
    "withdraw-v6": upd(3, "", attr(0x90, 15, "000201 3020010db80001 2020010db8")),
    "eor-v4": upd(3),
    "eor-v6": upd(3, "", attr(0x90, 15, "000201")),
    "full-attrs": upd(3, "", ORIGIN + ASP(65001, 4200000001) + NH + attr(0x80, 4, "00000032")
                      + attr(0x40, 6, "") + attr(0xc0, 7, "fa56ea02c0000209")
                      + attr(0xc0, 8, "2f2cc35affffff01") + attr(0xc0, 16, "00022f2c00000064")
                      + attr(0xc0, 32, "00002f2c0000000100000002") + attr(0xe0, 99, "deadbeef"), PFX),
    "addpath-v4": upd(7, "00000001 18c63364", ORIGIN + ASP(65001) + NH, "00000002 18c63365 00000003 10c0a8"),
    "bad-origin": upd(3, "", attr(0x40, 1, "03") + ASP(65001) + NH, PFX),
    "mp-reach-twice": upd(3, "", ORIGIN + ASP(65001) + mp6("20010db8000000000000000000000001", "3020010db80001") * 2),
    "extended-msg": upd(0x13, "", ORIGIN + ASP(65001) + NH, "".join("18 0a%04x" % i for i in range(1500))),
}


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for sub, seeds in (("corpus-bgp-open", opens), ("corpus-bgp-update", updates)):
        d = os.path.join(root, sub)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
