"""E-mail addresses spelled with words, as people write them to dodge scrapers, in one place for the detector
(cmedins.deid.recognizers) and the residual scan (cmedins.deid.residual): `zhangsan at 163 dot com`,
`zhang.san AT qq DOT com`, `lisi 艾特 126 点 com`, `liwei艾特163点com`, `wangwu#163.com`, `li (at) sina (dot) com`,
`wang@qq点com`, `li@163。com`; full-width `ａｔ` / `ｄｏｔ` / `＃` read as ASCII on the folded view (cmedins.deid.normalise).

A bare ` at ` is English prose (`look at the data`, `arrive at 5 pm`), so the domain after it must look like a mail
domain: a known mail provider (`163`, `qq`, `gmail` ... then `com` / `net` / `cn`, the dots written any way) or
a domain whose dots are, at least once, spelled as a word (`pumch dot cn`, `hospital dot com dot cn`) and which
ends in a real top-level domain; a label of digits alone is no domain (`meet at 5 dot com`). `#` for `@` only
before a known provider (`#` is a heading, a tag, an issue number). After `艾特`, a bracketed `(at)` or an `@`
any dotted domain ending in a real top-level domain will do, with a word for a dot after `@` (a plain `@` address
is the ordinary e-mail pattern's). Letters are matched in either case one character at a time (`[aA][tT]`), not
with a case-insensitive flag: the Hyperscan prefilter compiles every pattern case-sensitively.

The pattern strings hold nothing that the `re` module, the `regex` module and the prefilter's superset read
differently (no `\\w`, no `\\b`, no `\\s`: spaces are spaces on the folded view).
"""

from __future__ import annotations


def cased(word: str) -> str:
    """`word` with each ASCII letter matched in either case: `com` -> `[cC][oO][mM]`."""
    return "".join(f"[{ch.lower()}{ch.upper()}]" if ch.isascii() and ch.isalpha() else ch for ch in word)


def _either(*words: str) -> str:
    return "(?:" + "|".join(map(cased, words)) + ")"


# Mail providers Chinese users write most (and the international ones they use).
PROVIDERS = ("163", "126", "qq", "gmail", "sina", "sohu", "foxmail", "yeah", "139", "189", "outlook", "hotmail",
             "yahoo", "icloud", "aliyun", "21cn", "msn")
TLDS = ("com", "net", "org", "edu", "gov", "mil", "info", "biz", "io", "me", "cc", "co", "cn", "hk", "tw", "mo",
        "uk", "us", "jp", "kr", "sg", "de", "fr", "au", "ca")
_SP = " {0,2}"
AT_WORD = f" {{1,2}}{_either('at')} {{1,2}}"  # spaces on both sides: `cat`, `at5` are no `at`
AT_OTHER = (f"{_SP}(?:艾特|[(\\[（【]{_SP}(?:{_either('at')}|艾特){_SP}[)\\]）】]){_SP}")
AT_SIGN = f"{_SP}@{_SP}"
# a Chinese full stop too: a Chinese input method types 。 for the dot (li 艾特 163。com, wang@qq。com)
DOT_WORD = (f"(?: {{1,2}}{_either('dot')} {{1,2}}|{_SP}[点。]{_SP}"
            f"|{_SP}[(\\[（【]{_SP}(?:{_either('dot')}|点){_SP}[)\\]）】]{_SP})")
DOT_ANY = f"(?: ?\\. ?|{DOT_WORD})"
USER = "(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+"
LABEL = "[A-Za-z0-9-]*[A-Za-z][A-Za-z0-9-]*"  # a domain label holds a letter (`5` in `meet at 5 dot com` does not)
TLD = _either(*TLDS)
END = "(?![A-Za-z0-9-])"
# provider domains: 163 dot com, vip.qq.com, sina.com.cn, yeah 点 net
PROVIDER_DOMAIN = (f"(?:{_either('vip', 'mail')}{DOT_ANY})?{_either(*PROVIDERS)}"
                   f"(?:{DOT_ANY}{_either('com', 'net', 'cn')}){{1,2}}")
# any domain, a dot spelled as a word at least once: pumch dot cn, dept.hospital dot com dot cn
WORDED_DOMAIN = f"(?:{LABEL}{DOT_ANY})*{LABEL}{DOT_WORD}(?:{LABEL}{DOT_ANY})*{TLD}"
ANY_DOMAIN = f"(?:{LABEL}{DOT_ANY})+{TLD}"

EMAIL_WORDS = (f"{USER}(?:{AT_WORD}(?:{PROVIDER_DOMAIN}|{WORDED_DOMAIN})"
               f"|{AT_OTHER}(?:{PROVIDER_DOMAIN}|{ANY_DOMAIN})"
               f"|{AT_SIGN}(?:{PROVIDER_DOMAIN}|{WORDED_DOMAIN})"
               f"|#{PROVIDER_DOMAIN}){END}")
# What every match holds (a cheap test before the pattern): the `at` of one of its forms, or # / @.
HINT = f"{_either('at')}|艾特|[#@]"
