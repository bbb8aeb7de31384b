"""IP addresses (a HIPAA Safe Harbor identifier: a record's audit line, a patient's upload log), judged once for
the detector (cmedins.deid.recognizers) and the residual scan (cmedins.deid.residual), on the folded view
(full-width `１９２．１６８…` reads as ASCII there).

IPv4: four octets 0-255 (no leading zeros) with dots, a port (`:8080`) or a prefix length (`/24`) kept with it;
IPv6: eight groups of 1-4 hex digits, or fewer with one `::` (`2001:db8::8a2e:370:7334`, `fe80::1ff:fe23:4567:890a`).
Not an address (`ip_ok`):
- a version (`v1.2.3.4`, `版本 1.2.3.4`, `version 10.0.1.2`; `Python 3.11.7` and dates `2023.01.02` never have
  the shape), a section or clause number (`1.2.3.4 节`, `第 2.1.3.4 条`): a letter or digit right before it, a
  version word before it, a section word after it;
- a first octet below 10 without an IP label before it (`1.2.3.4` is a section number far more often than an
  address, and real record text holds measurements whose × was lost: `巧克力囊肿5.64.52.9` in MedicalGPT's SFT
  sample; `IP：1.2.3.4` is masked);
- addresses of no one: unspecified `0.0.0.0` (and every `0.x`), loopback `127.x`, masks and broadcast `255.x`, a
  network written with its prefix length (`10.0.0.0/24`), the public resolvers and default gateways every
  router manual names (`8.8.8.8`, `114.114.114.114`, `192.168.1.1`: general instructions hold them); `::`, `::1`;
- an IPv6 shape with no group of three hex digits or more, or no digit (`a::b`, `dead::beef`, `1:2:3:4:5:6:7:8`),
  or of two groups whose first is shorter than four (C++ `ab::c1`).
"""

from __future__ import annotations

import re

OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
IPV4 = (f"(?<![0-9A-Za-z.]){OCTET}(?:\\.{OCTET}){{3}}(?::[0-9]{{1,5}}|/[0-9]{{1,2}})?"
        "(?![0-9A-Za-z]|\\.[0-9])")
_H = "[0-9A-Fa-f]{1,4}"
IPV6 = (f"(?<![0-9A-Za-z:.])(?:{_H}(?::{_H}){{7}}|(?:{_H}(?::{_H}){{0,6}})?::(?:{_H}(?::{_H}){{0,6}})?)"
        "(?![0-9A-Za-z:])")
IP = f"(?=[0-9A-Fa-f:])(?:{IPV4}|{IPV6})"  # the lead: the regex and re modules then skip other characters fast (6x, 4x)

# Labels that make a small dotted quad an address (IP：1.2.3.4, 服务器地址 2.3.4.5).
IP_LABEL = re.compile(r"(?:IP|Ip|ip|地址|服务器|主机|网关|网段|来自|访问|登录|登陆|host|Host|HOST|server|Server)"
                      r"[^。；;，,\n]{0,8}$")
VERSION_BEFORE = re.compile(r"(?:版本|版|version|Version|VERSION|ver|Ver|v|V|第)[\s.:：号为是]{0,3}$")
SECTION_AFTER = re.compile(r"\s{0,2}(?:节|章|条|款|项|部分|小节|级|版)")


WELL_KNOWN = frozenset({"8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9", "114.114.114.114", "114.114.115.115",
                        "223.5.5.5", "223.6.6.6", "119.29.29.29", "180.76.76.76", "192.168.0.1", "192.168.1.1",
                        "10.0.0.1"})


def ipv4_ok(text: str, start: int, end: int) -> bool:
    """The dotted quad at text[start:end] (an IPV4 match) is an address: see the module docstring."""
    found = text[start:end]
    value = re.split("[:/]", found, maxsplit=1)[0]
    octets = [int(part) for part in value.split(".")]
    if octets[0] in (0, 127, 255) or value in WELL_KNOWN or ("/" in found and octets[3] == 0):
        return False
    before = text[max(0, start - 12):start]
    if VERSION_BEFORE.search(before) or SECTION_AFTER.match(text, end):
        return False
    return octets[0] >= 10 or IP_LABEL.search(before) is not None


def ipv6_ok(value: str) -> bool:
    """The IPV6 match `value` is an address: see the module docstring."""
    groups = [group for group in re.split(":+", value) if group]
    if "::" not in value and len(groups) != 8:
        return False
    if len(groups) > 7 and "::" in value or not any(ch.isdigit() for ch in value):
        return False
    if not any(len(group) >= 3 for group in groups):
        return False
    return len(groups) > 2 or (len(groups) == 2 and len(groups[0]) == 4)


def ip_ok(text: str, start: int, end: int) -> bool:
    """The IP match at text[start:end] (an IP match) is an address."""
    value = text[start:end]
    return ipv6_ok(value) if value.count(":") >= 2 else ipv4_ok(text, start, end)
