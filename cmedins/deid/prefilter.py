"""Which pattern may match in which text, from one native multi-pattern pass (Hyperscan), so the exact `regex`
scans run only on the texts that can hold a match.

Most record text holds no phone, ID, e-mail or record label, yet each of the ~35 patterns used to be scanned over
every text. Hyperscan compiles all of them into one automaton and tells, per text, which may match: the exact
pattern is then run only there (tests/test_deid_fast.py holds the result to presidio's full scan).

It must never miss a text that holds a match, so every expression given to Hyperscan is a superset of its pattern
(`superset_expression`), and Hyperscan's PREFILTER mode is a superset again (its documented guarantee: no false
negatives):
- lookarounds are dropped (a condition removed matches more), except a short positive lookahead that ends the
  pattern, which becomes part of the match (what it reads then lies inside the text: none crosses a newline);
- `\\K` is dropped (the whole match is the same string), a named group's back-reference becomes the group itself;
- a class difference (`[\\p{Han}--[...]]`) keeps its first operand; bounded repeats lose their upper bound;
- `\\s` and `\\p{Han}` become the exact code point ranges their module (`regex`, `re`) gives them (Hyperscan's Unicode
  tables are older); `\\d` becomes `[0-9]`, and a text holding any other digit (Arabic-Indic, Devanagari ...)
  or that is not valid UTF-8 is flagged for every pattern.
Without Hyperscan (it ships wheels for x86-64 only) every text is flagged for every pattern: the same findings.

Compiling the engine's database takes ~2 CPU-s (the residual pre-checks' ~1 more), in every process that builds an
engine; loading a serialised one takes milliseconds. So a compiled database is kept in a per-user cache folder
(`cache_folder`), under a key that is the sha256 of everything that determines it (`cache_key`). A cache file is
used only if it holds its key and the sha256 of its content; anything else (damaged, truncated, written for other
patterns, or one Hyperscan refuses to load) is compiled again and rewritten, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import re
import tempfile
import time
from collections.abc import Sequence
from contextlib import suppress
from functools import cache, lru_cache
from pathlib import Path

import regex

from cmedins.deid.normalise import FOLD_TRIGGERS, fold
from cmedins.deid.simplified import holds_traditional

log = logging.getLogger(__name__)

LOOKAROUNDS = ("(?=", "(?!", "(?<=", "(?<!")
OTHER_DIGIT = regex.compile(r"[\d--[0-9]]", flags=regex.VERSION1)  # digits `[0-9]` does not cover
CLASS_DIFFERENCE = regex.compile(r"--\[(?:\\.|[^\]\\])*\]")
BOUNDED_REPEAT = regex.compile(r"\{(\d+),\d+\}\??")
NAMED_GROUP = regex.compile(r"\(\?P<(\w+)>")
# A longer final lookahead (the names' role rule: any of ~400 surnames) is dropped, not read: it would cost more to
# compile (0.2 s) than it saves in scanning.
MAX_READ_LOOKAHEAD = 200
Window = tuple[int, int]  # [start, end) of a region of the joined batch


def _closing(pattern: str, opening: int) -> int:
    """Index of the parenthesis closing the group that opens at `opening` (escapes and classes skipped)."""
    depth, i, in_class = 0, opening, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if pattern.startswith("[^]", i) or pattern.startswith("[]", i):
                i += 1  # a leading ] is a member
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError("unbalanced parentheses")


def _without_lookarounds(pattern: str) -> str:
    out: list[str] = []
    i, in_class, depth = 0, False, 0
    while i < len(pattern):
        if not in_class and pattern.startswith(LOOKAROUNDS, i):
            end = _closing(pattern, i)
            body = pattern[i + (4 if pattern.startswith("(?<", i) else 3):end]
            trailing = depth == 0 and (end == len(pattern) - 1 or pattern[end + 1] == "|")  # ends an alternative
            readable = "[^" not in body and "." not in body.replace("\\.", "")  # cannot read a separator's \x00
            if pattern.startswith("(?=", i) and trailing and readable and len(body) <= MAX_READ_LOOKAHEAD:
                out.append(f"(?:{_without_lookarounds(body)})")  # a lookahead ending the pattern: read it
            i = end + 1
            continue
        if not in_class and pattern[i] in "()":
            depth += 1 if pattern[i] == "(" else -1
        text, i, in_class = _plain_step(pattern, i, in_class)
        out.append(text)
    return "".join(out)


def _plain_step(pattern: str, i: int, in_class: bool) -> tuple[str, int, bool]:
    """One escape (two characters) or one character of `pattern` at i, the next position, and whether a
    character class is open after it."""
    ch = pattern[i]
    if ch == "\\":
        return pattern[i:i + 2], i + 2, in_class
    if in_class and ch == "]":
        return ch, i + 1, False
    if not in_class and ch == "[":
        return ch, i + 1, True
    return ch, i + 1, in_class


@lru_cache(maxsize=1)
def _every_code_point() -> str:
    """Every code point in order (0.1 CPU-s to build: once per Prefilter, not once per class)."""
    return "".join(map(chr, range(0x110000)))


def _ranges(runs) -> str:
    """Hyperscan ranges of the code points that matches of a class's run (`runs`: over _every_code_point) cover."""
    parts = []
    for run in runs:
        first, last = run.start(), run.end() - 1
        parts.append(f"\\x{{{first:x}}}" + (f"-\\x{{{last:x}}}" if last > first else ""))
    return "".join(parts)


@cache
def _code_point_ranges(char_class: str, module: str) -> str:
    """The code points `module` (`regex` or `re`: their \\s differ) puts in `char_class`, as Hyperscan ranges."""
    return _ranges((regex if module == "regex" else re).finditer(f"{char_class}+", _every_code_point()))


@lru_cache(maxsize=1)
def _other_digit_class() -> str:
    """OTHER_DIGIT as a Hyperscan class: the code points it matches."""
    return f"[{_ranges(regex.finditer(f'{OTHER_DIGIT.pattern}+', _every_code_point(), flags=regex.VERSION1))}]"


def _explicit_classes(pattern: str, module: str) -> str:
    classes = {r"\p{Han}": lambda: _code_point_ranges(r"\p{Han}", module),
               r"\s": lambda: _code_point_ranges(r"\s", module), r"\d": lambda: "0-9"}
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        token = next((t for t in classes if pattern.startswith(t, i)), None)
        if token:
            ranges = classes[token]()
            out.append(ranges if in_class else f"[{ranges}]")
            i += len(token)
            continue
        ch = pattern[i]
        if pattern.startswith("\\u", i):  # \uXXXX (re, regex) is \x{XXXX} for Hyperscan
            out.append(f"\\x{{{pattern[i + 2:i + 6]}}}")
            i += 6
            continue
        if ch == "\\" and pattern[i + 1].isalpha() and pattern[i + 1] not in "nxK":
            raise ValueError(f"no superset known for \\{pattern[i + 1]}")  # \w, \b ...: say so, do not guess
        text, i, in_class = _plain_step(pattern, i, in_class)
        out.append(text)
    return "".join(out)


def _back_references_expanded(pattern: str) -> str:
    for name in NAMED_GROUP.findall(pattern):
        opening = pattern.index(f"(?P<{name}>")
        body = pattern[opening + len(name) + 5:_closing(pattern, opening)]  # after "(?P<name>"
        pattern = pattern.replace(f"(?P={name})", f"(?:{body})")
    return NAMED_GROUP.sub("(?:", pattern)


def superset_expression(pattern: str, module: str = "regex") -> str:
    """A Hyperscan expression matching every string `pattern` (compiled by `module`, `regex` or `re`) matches
    (module docstring)."""
    expression = _back_references_expanded(_without_lookarounds(pattern)).replace(r"\K", "")
    expression = BOUNDED_REPEAT.sub(r"{\1,}", CLASS_DIFFERENCE.sub("", expression))
    return _explicit_classes(expression, module)


# --- the cache of compiled databases ---------------------------------------------------------------------------
# A cache file holds compiled patterns only (the superset expressions of the recognizers' own patterns), never a
# text or a value from the data: nothing in it is private. The folder is cmedins' own; nothing else is written.
CACHE_ENV = "CMEDINS_CACHE_DIR"
CACHE_MAGIC = b"cmedins hyperscan cache 1\n"
CACHE_KEEP = 16  # databases kept (the most recently used): each pattern edit or entity choice makes a new one
DIGEST_LENGTH = 64  # hex sha256


def cache_folder() -> Path:
    """$CMEDINS_CACHE_DIR/hyperscan, else $XDG_CACHE_HOME/cmedins/hyperscan, else ~/.cache/cmedins/hyperscan."""
    root = os.environ.get(CACHE_ENV)
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        root = os.path.join(xdg if os.path.isabs(xdg) else os.path.expanduser(os.path.join("~", ".cache")),
                            "cmedins")
    return Path(root) / "hyperscan"


@cache
def _host() -> str:
    """What Hyperscan compiles for: it targets the CPU it runs on (features such as AVX2), so the machine and, on
    Linux, the CPU flags are part of the key (a home folder may be shared by different machines)."""
    flags = ""
    with suppress(OSError), open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
        flags = next((line.split(":", 1)[-1].strip() for line in cpuinfo if line.startswith("flags")), "")
    return f"{platform.system()} {platform.machine()} {platform.processor()} {flags}"


def cache_key(hyperscan, expressions: Sequence[str], ids: Sequence[int], flags: Sequence[int]) -> str:
    """sha256 of everything that determines a database: the binding's version (and its library's file size),
    the host, the mode, every expression with its id and flags, and this cache's format."""
    extension = Path(getattr(hyperscan._hs_ext, "__file__", "") or "")
    size = extension.stat().st_size if extension.is_file() else -1
    determinants = {"format": CACHE_MAGIC.decode().strip(), "hyperscan": hyperscan.__version__, "library": size,
                    "host": _host(), "mode": hyperscan.HS_MODE_BLOCK, "expressions": list(expressions),
                    "ids": list(ids), "flags": list(flags)}
    return hashlib.sha256(json.dumps(determinants, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _compile(hyperscan, expressions: Sequence[str], ids: Sequence[int], flags: Sequence[int]):
    database = hyperscan.Database()
    database.compile(expressions=[e.encode() for e in expressions], ids=list(ids), flags=list(flags))
    return database


def _load(hyperscan, path: Path, key: str):
    """The database in `path` when it is a whole cache file for `key`; None otherwise."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    header = CACHE_MAGIC + key.encode() + b"\n"
    digest, payload = data[len(header):len(header) + DIGEST_LENGTH], data[len(header) + DIGEST_LENGTH + 1:]
    if not data.startswith(header) or digest != hashlib.sha256(payload).hexdigest().encode():
        log.info("hyperscan cache file %s is damaged or not for these patterns: compiling again", path.name)
        return None
    try:
        database = hyperscan.loadb(payload, hyperscan.HS_MODE_BLOCK)
        database.scratch = hyperscan.Scratch(database)  # loadb gives none; scan needs one
    except hyperscan.error as error:  # another Hyperscan build or CPU (a version or platform error)
        log.info("hyperscan cache file %s not loaded (%s): compiling again", path.name, type(error).__name__)
        return None
    with suppress(OSError):
        os.utime(path)  # recently used: kept by _prune
    return database


def _store(hyperscan, folder: Path, key: str, database) -> None:
    """Write the cache file atomically (a temporary file renamed over it: a concurrent reader sees all of it or
    none), then drop the least recently used beyond CACHE_KEEP. A folder that cannot be written is no error."""
    payload = hyperscan.dumpb(database)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(CACHE_MAGIC + key.encode() + b"\n" + hashlib.sha256(payload).hexdigest().encode()
                          + b"\n" + payload)
            os.replace(temporary, folder / f"{key}.hsdb")
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as error:
        log.info("hyperscan cache not written (%s): the next engine compiles again", type(error).__name__)
        return
    with suppress(OSError):  # a file another process removed meanwhile: pruned next time
        _prune(folder)


def _prune(folder: Path) -> None:
    files = sorted(folder.glob("*.hsdb"), key=lambda p: p.stat().st_mtime, reverse=True)
    stale = [p for p in folder.glob(".*.tmp") if p.stat().st_mtime < time.time() - 86400]  # a killed writer's
    for path in files[CACHE_KEEP:] + stale:
        path.unlink(missing_ok=True)


def cached_database(expressions: Sequence[str], ids: Sequence[int], flags: Sequence[int]):
    """The Hyperscan block-mode database of these expressions: loaded from the cache when it holds a whole one,
    compiled (and stored) otherwise. Either way the same database: the serialised bytes of the compiled one."""
    import hyperscan

    key = cache_key(hyperscan, expressions, ids, flags)
    folder = cache_folder()
    database = _load(hyperscan, folder / f"{key}.hsdb", key)
    if database is None:
        database = _compile(hyperscan, expressions, ids, flags)
        _store(hyperscan, folder, key, database)
    return database


def _flag_text(pattern_id: int, start: int, end: int, flags: int, found: set[int]) -> None:
    found.add(pattern_id)


class Prefilter:
    """`windows(texts, starts, end)`: per pattern, the regions of a joined batch its exact scan must cover.
    `patterns`: regex-module pattern strings, or (pattern string, "re") for patterns the `re` module compiles.
    `folded(text)`: the folded view (cmedins.deid.normalise.fold) and the patterns that may match in it, from one
    pass over the text when it needs no folding (the usual case), two when it does.

    The same pass flags the fold triggers (one id, `fold_id`, for all of them: only whether any fires is asked) and
    a digit `[0-9]` does not cover (OTHER_DIGIT, its own id: such a text is flagged for every pattern), where a
    `regex` search of its own per text cost a fifth as much as the pass itself."""

    def __init__(self, patterns: Sequence[str | tuple[str, str]]):
        self.count = len(patterns)
        self.database = None
        self.fold_id = self.count
        self.other_digit_id = self.count + 1
        self.every = range(self.count + 1)  # every pattern and the fold triggers: what cannot be told
        try:
            import hyperscan
        except ImportError:  # no wheel for this machine: every pattern scans every text (same findings)
            log.info("hyperscan unavailable: de-identification scans every pattern over every text")
            return
        flags = (hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_UTF8 | hyperscan.HS_FLAG_DOTALL
                 | hyperscan.HS_FLAG_MULTILINE | hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_ALLOWEMPTY)
        self.busy = hyperscan.ScratchInUseError
        expressions = [superset_expression(*((p, "regex") if isinstance(p, str) else p)) for p in patterns]
        expressions += [superset_expression(p, "re") for p in FOLD_TRIGGERS] + [_other_digit_class()]
        ids = [*range(self.count), *[self.fold_id] * len(FOLD_TRIGGERS), self.other_digit_id]
        _every_code_point.cache_clear()  # 4 MB; the ranges it gave stay cached
        self.database = cached_database(expressions, ids, [flags] * len(expressions))

    def possible(self, text: str) -> set[int] | range:
        """Ids of the patterns that may match in `text` (all of them when that cannot be told); `fold_id` among
        them when a fold trigger may match."""
        if self.database is None:
            return self.every
        try:
            data = b"\n" + text.encode("utf-8") + b"\n"  # the newlines of the separators around it (windows)
        except UnicodeEncodeError:  # a lone surrogate: not UTF-8, Hyperscan's behaviour would be undefined
            return self.every
        found: set[int] = set()
        try:
            self.database.scan(data, match_event_handler=_flag_text, context=found)
        except self.busy:  # another thread is scanning with this database's scratch space: scan every pattern
            return self.every
        return self.every if self.other_digit_id in found else found

    def folded(self, text: str) -> tuple[str, set[int] | range]:
        """`fold(text)` and the ids of the patterns that may match in it."""
        found = self.possible(text)
        if self.fold_id in found or holds_traditional(text):
            folded = fold(text)
            if folded != text:
                found = self.possible(folded)
            return folded, found
        return text, found  # no fold trigger: the text is its own folded view

    def windows(self, texts: Sequence[str], starts: Sequence[int], end: int,
                possible: Sequence | None = None) -> list[list[Window]]:
        """Per pattern id, the regions of the joined batch (`starts`: the texts' offsets in it, `end` its length)
        of the texts it may match in, neighbours merged. A text's region runs from the last newline of the separator
        before it to the \\x00 of the one after it: a match never holds a \\x00 (no pattern reads one), so every
        match of the whole batch lies in one region, and one may start at that newline (`\\s*（`)."""
        out: list[list[Window]] = [[] for _ in range(self.count)]
        lows = [0, *(start - 1 for start in starts[1:])][:len(starts)]
        if possible is None:
            possible = [self.possible(text) for text in texts]
        for found, lo, hi in zip(possible, lows, [*lows[1:], end][:len(lows)], strict=True):
            for pattern_id in found:
                if pattern_id >= self.count:
                    continue  # a fold trigger
                regions = out[pattern_id]
                if regions and regions[-1][1] == lo:
                    regions[-1] = (regions[-1][0], hi)
                else:
                    regions.append((lo, hi))
        return out
