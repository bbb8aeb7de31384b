"""The de-identification engine: the Chinese recognizers (presidio recognizer types, no model download) plus
the operators. Build one `Deidentifier` per process: importing presidio takes seconds.

Speed: the recognizers' patterns are compiled once and run by one loop over a batch of texts joined by a
separator no pattern can cross (`detect`), with presidio's result rules (score threshold, then
`EntityRecognizer.remove_duplicates`) applied to plain tuples: presidio's AnalyzerEngine builds explanation
objects, timers and log records per match, which cost more than the matching on real text. `build_analyzer`
still gives a presidio AnalyzerEngine over the same recognizers (tests hold the two to the same findings).
Replacement follows presidio's AnonymizerEngine step for step on tuples (cmedins.deid.splice).
Each text is folded and passed through the Hyperscan prefilter once (`PatternGate.batch`): its folded view and
what the pass flagged go on to name propagation and, for a text left as it was, to the residual scan.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from cmedins.deid.config import ENTITY_TYPES, DeidConfig
from cmedins.deid.normalise import fold
from cmedins.deid.operators import Replacer
from cmedins.deid.recognizers import remove_duplicates
from cmedins.deid.residual import PRECHECKS as RESIDUAL_PRECHECKS
from cmedins.deid.residual import prechecks as residual_prechecks
from cmedins.deid.residual import residual_hits
from cmedins.deid.results import Finding, TextResult, Unit
from cmedins.deid.splice import splice

# No pattern crosses it: \x00 is not whitespace, Han, digit or letter, and value classes stop at newlines.
SEPARATOR = "\n\x00\n"
PRIORITY = {entity: rank for rank, entity in enumerate(ENTITY_TYPES)}
# Book and article titles (《雷公炮炙论》, 《黄帝内经》) name works, not people or places.
TITLE = re.compile(r"《[^《》\n]{1,40}》")
NOT_IN_TITLES = {"PERSON", "CN_ADDRESS", "INSTITUTION"}


def merge_overlaps(findings: list[Finding]) -> list[Finding]:
    """Overlapping findings become one span (masking more is the safe side), typed by the strongest member:
    higher score, then longer, then the more specific type."""
    merged: list[Finding] = []
    group: list[Finding] = []
    for finding in sorted(findings, key=lambda f: (f.start, -f.end)):
        if group and finding.start >= max(f.end for f in group):
            merged.append(_combine(group))
            group = []
        group.append(finding)
    if group:
        merged.append(_combine(group))
    return merged


def _combine(group: list[Finding]) -> Finding:
    best = max(group, key=lambda f: (f.score, f.end - f.start, -PRIORITY[f.entity_type]))
    return Finding(min(f.start for f in group), max(f.end for f in group), best.entity_type, best.score)


def outside_titles(text: str, findings: list[Finding]) -> list[Finding]:
    """Drop name, address and institution findings inside a book title (《…》)."""
    if "《" not in text:
        return findings
    titles = [m.span() for m in TITLE.finditer(text)]
    return [f for f in findings if f.entity_type not in NOT_IN_TITLES
            or not any(lo < f.start and f.end < hi for lo, hi in titles)]


def with_propagated_names(texts: Sequence[str], findings: list[list[Finding]],
                          folded: Sequence[str] | None = None) -> list[list[Finding]]:
    """Findings plus every other occurrence, in these texts (one record or dialogue), of a name found in them
    (`folded`: the texts' folded views, when the caller has them)."""
    if not any(f.entity_type == "PERSON" for found in findings for f in found):
        return findings  # no name to propagate (most texts)
    from cmedins.deid.names import propagate

    extra = propagate(list(texts), findings, folded)
    if not any(extra):
        return findings
    score = min((f.score for found in findings for f in found if f.entity_type == "PERSON"), default=1.0)
    return [merge_overlaps(found + [Finding(lo, hi, "PERSON", score) for lo, hi in spans])
            for found, spans in zip(findings, extra, strict=True)]


Hit = tuple[str, int, int, float]  # (entity type, start, end, score)


def detect(recognizers: Sequence, text: str, threshold: float, regions: Sequence | None = None) -> list[Hit]:
    """What presidio's AnalyzerEngine.analyze returns for these recognizers (no context enhancer, no allow
    list), as tuples: every recognizer's hits, those under the threshold dropped, then deduplicated. `regions`
    (from `PatternGate.regions`, one entry per recognizer) limits each pattern's scan to where it may match."""
    hits = [hit for index, recognizer in enumerate(recognizers)
            for hit in (recognizer.hits(text) if regions is None or regions[index] is None
                        else recognizer.hits(text, regions[index]))
            if hit[3] >= threshold]
    return remove_duplicates(hits, lambda hit: hit[0])


def joined_batch(texts: Sequence[str], folded: Sequence[str] | None = None) -> tuple[list[str], str, list[int]]:
    """The folded texts (`folded` when given), joined by SEPARATOR, and where each starts in the joined string.
    Detection runs on the folded view (full-width digits, ＠, －: ASCII), which has the original's length: every
    offset found there is an offset in the original text."""
    folded = [fold(text) for text in texts] if folded is None else list(folded)
    starts, offset = [], 0
    for text in folded:
        starts.append(offset)
        offset += len(text) + len(SEPARATOR)
    return folded, SEPARATOR.join(folded), starts


class PatternGate:
    """The prefilter (cmedins.deid.prefilter) over every pattern of the regex recognizers and the name rules'
    scans: `regions` tells, per recognizer and pattern, which texts of a joined batch its exact scan must cover
    (None for a recognizer that scans everything: the proper-name hospitals' one literal search).

    The residual scan's pre-checks (cmedins.deid.residual.PRECHECKS) ride on the same pass (`residual_possible`):
    a text the engine leaves as it was (most texts) is then residual-scanned without a Hyperscan pass of its own,
    which cost a quarter of the engine's (the pass costs no more with them)."""

    def __init__(self, recognizers: Sequence):
        from cmedins.deid.prefilter import Prefilter
        from cmedins.deid.recognizers import CompiledRecognizer

        # per recognizer: its patterns' ids in the prefilter (None for one its exact scan covers every text of)
        self.slots: list[list[int | None] | None] = []
        # the residual pre-checks first: ids 0-5 of the pass are their indices in PRECHECKS (residual_possible)
        patterns: list = [(pattern, "re") for pattern in RESIDUAL_PRECHECKS]
        for recognizer in recognizers:
            if isinstance(recognizer, CompiledRecognizer):
                scanned = [p.regex for p in recognizer.patterns]
            elif hasattr(recognizer, "scans"):  # rules of their own over `re` scans (names)
                unfiltered = getattr(recognizer, "unfiltered", frozenset())
                scanned = [None if p in unfiltered else (p.pattern, "re") for p in recognizer.scans]
            else:
                self.slots.append(None)
                continue
            slot: list[int | None] = []
            for pattern in scanned:
                slot.append(None if pattern is None else len(patterns))
                patterns += [] if pattern is None else [pattern]
            self.slots.append(slot)
        self.prefilter = Prefilter(patterns)

    @staticmethod
    def residual_possible(found: set[int] | range) -> set[int] | range:
        """The residual pre-checks (their indices in PRECHECKS) that may match in a text the pass flagged `found`
        for: `found` itself, as they hold the pass's first ids and the residual scan asks about those only."""
        return found

    def regions(self, texts: Sequence[str], starts: Sequence[int], end: int, possible=None) -> list | None:
        """Per recognizer, per pattern: the regions of the joined batch of the folded `texts` to scan."""
        if self.prefilter.database is None:
            return None
        windows = self.prefilter.windows(texts, starts, end, possible)
        whole = [(0, end)]  # (what the windows of a pattern flagged in every text merge into)
        return [None if slot is None else [whole if i is None else windows[i] for i in slot] for slot in self.slots]

    def batch(self, texts: Sequence[str]) -> tuple[list[str], str, list[int], list | None, list | None]:
        """The folded texts, their joined batch, where each starts, the regions, and per text the ids its folded
        view was flagged for (None without Hyperscan): one prefilter pass per text also tells whether it needs
        folding at all."""
        if self.prefilter.database is None:
            folded, joined, starts = joined_batch(texts)
            return folded, joined, starts, None, None
        flagged = [self.prefilter.folded(text) for text in texts]
        folded, joined, starts = joined_batch(texts, [text for text, _ in flagged])
        possible = [found for _, found in flagged]
        return folded, joined, starts, self.regions(folded, starts, len(joined), possible), possible


def recognizers_for(entities: Sequence[str]) -> list:
    """The Chinese recognizers, loaded, that detect any of `entities` (presidio's registry selection)."""
    from cmedins.deid.institutions import ProperNameHospitalRecognizer
    from cmedins.deid.names import ChineseNameRecognizer
    from cmedins.deid.recognizers import pattern_recognizers
    from cmedins.deid.romanized import RomanizedNameRecognizer

    wanted = set(entities)
    chosen = [r for r in [*pattern_recognizers(), ChineseNameRecognizer(), RomanizedNameRecognizer(),
                          ProperNameHospitalRecognizer()]
              if wanted & set(r.supported_entities)]
    for recognizer in chosen:
        recognizer.load()
        recognizer.is_loaded = True
    return chosen


class _NoContextEnhancer:
    """Context words are part of the Chinese patterns themselves (lookbehind labels), so presidio's
    lemma-based enhancer, which needs lemmas a blank Chinese pipeline lacks, is skipped."""

    def enhance_using_context(self, text, raw_results, nlp_artifacts, recognizers, context=None):
        return raw_results


def build_analyzer():
    """A presidio AnalyzerEngine for language `zh` with the Chinese recognizers; no model download. The engine
    does not use it (see the module doc); it serves presidio users and the parity tests."""
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NoOpNlpEngine

    from cmedins.deid.config import ENTITY_TYPES
    from cmedins.deid.recognizers import LANGUAGE

    registry = RecognizerRegistry(recognizers=recognizers_for(ENTITY_TYPES), supported_languages=[LANGUAGE])
    nlp_engine = NoOpNlpEngine(models=[{"lang_code": LANGUAGE, "model_name": "none"}])
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=[LANGUAGE],
                              context_aware_enhancer=_NoContextEnhancer())
    return analyzer


class Deidentifier:
    """`deidentify(text, scope)` -> (new text, findings); `deidentify_many` for batches."""

    def __init__(self, config: DeidConfig | None = None):
        from presidio_anonymizer import AnonymizerEngine

        self.config = config or DeidConfig()
        self.entities = self.config.active_entities()
        self.recognizers = recognizers_for(self.entities)
        self.gate = PatternGate(self.recognizers)
        residual_prechecks()  # compiled here, with the rest of the engine, not on the first residual scan
        self.anonymizer = AnonymizerEngine()

    def prepare(self) -> None:
        """Build what recognizers otherwise build on first use (the names tagger, cmedins.deid.names): a process
        that exists to de-identify rows (a pool worker, a benchmark's warm-up) pays it at start-up, not inside
        its first chunk. The free-text engine of a build's main process skips this, and the tagger with it
        when no rule needs it."""
        for recognizer in self.recognizers:
            getattr(recognizer, "tagger", None)

    def analyze(self, text: str) -> list[Finding]:
        return self.analyze_many([text])[0]

    def analyze_many(self, texts: Sequence[str]) -> list[list[Finding]]:
        """Findings per text, from one detection pass over the joined batch."""
        return self._analyze(texts)[0]

    def _analyze(self, texts: Sequence[str]) -> tuple[list[list[Finding]], list, list]:
        """Findings per text, the folded views they were found in, and the residual pre-checks that may match in
        those (None: not known, nothing detected): name propagation and the residual scan read the same views,
        which are then neither folded nor prefiltered again."""
        if not self.entities:
            return [[] for _ in texts], [None] * len(texts), [None] * len(texts)
        folded, joined, starts, regions, possible = self.gate.batch(texts)
        residual = [None] * len(texts) if possible is None else list(map(self.gate.residual_possible, possible))
        results = detect(self.recognizers, joined, self.config.score_threshold, regions)
        per_text: list[list[Finding]] = [[] for _ in texts]
        index = 0
        for entity_type, lo, hi, score in sorted(results, key=lambda r: r[1]):
            while index + 1 < len(texts) and lo >= starts[index + 1]:
                index += 1
            base = starts[index]
            start, end = lo - base, min(hi - base, len(texts[index]))
            if start < end:
                per_text[index].append(Finding(start, end, entity_type, round(score, 4)))
        return [with_propagated_names([text], [outside_titles(text, findings)], [view])[0]
                for text, findings, view in zip(texts, per_text, folded, strict=True)], folded, residual

    def anonymize(self, text: str, findings: list[Finding], replacer: Replacer) -> str:
        """Apply the operators: presidio's AnonymizerEngine steps (conflicts, merges, order) on plain tuples
        (cmedins.deid.splice), without its per-finding objects."""
        return splice(text, findings, replacer) if findings else text

    def anonymize_with_presidio(self, text: str, findings: list[Finding], replacer: Replacer) -> str:
        """The same through presidio's AnonymizerEngine (one custom operator per entity type): the reference."""
        from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

        operators = {entity: OperatorConfig("custom", {"lambda": lambda value, e=entity: replacer(e, value)})
                     for entity in {f.entity_type for f in findings}}
        results = [RecognizerResult(f.entity_type, f.start, f.end, f.score) for f in findings]
        return self.anonymizer.anonymize(text=text, analyzer_results=results, operators=operators).text

    def deidentify(self, text: str, scope: str = "") -> tuple[str, list[Finding]]:
        return self.deidentify_many([text], [scope])[0]

    def deidentify_many(self, texts: Sequence[str], scopes: Sequence[str]) -> list[tuple[str, list[Finding]]]:
        """De-identify texts; texts sharing a scope (one record, one dialogue) share pseudonyms."""
        replacers: dict[str, Replacer] = {}
        found = self.analyze_many(texts)
        by_scope: dict[str, list[int]] = {}
        for index, scope in enumerate(scopes):
            by_scope.setdefault(scope, []).append(index)
        for indices in by_scope.values():
            if len(indices) > 1:
                for index, findings in zip(indices, with_propagated_names(
                        [texts[i] for i in indices], [found[i] for i in indices]), strict=True):
                    found[index] = findings
        out = []
        for text, scope, findings in zip(texts, scopes, found, strict=True):
            replacer = replacers.setdefault(scope, Replacer(self.config, scope))
            out.append((self.anonymize(text, findings, replacer), findings))
        return out

    def deidentify_units(self, units: Sequence[Unit]) -> list[list[TextResult]]:
        """De-identify whole records/dialogues: pseudonyms are consistent within a unit, and each new text is
        residual-scanned (the unit's own surrogates excepted)."""
        flat = [text for _, texts in units for text in texts]
        size = self.config.batch_size
        findings: list[list[Finding]] = []
        folded: list[str | None] = []
        residual: list[set[int] | None] = []
        for i in range(0, len(flat), size):
            found, views, possible = self._analyze(flat[i:i + size])
            findings += found
            folded += views
            residual += possible
        out, index = [], 0
        for scope, texts in units:
            replacer = Replacer(self.config, scope)
            results = []
            views, possible = folded[index:index + len(texts)], residual[index:index + len(texts)]
            unit_findings = with_propagated_names(texts, findings[index:index + len(texts)], views)
            for text, found in zip(texts, unit_findings, strict=True):
                results.append(TextResult(self.anonymize(text, found, replacer), found, []))
            index += len(texts)
            # a text left as it was is residual-scanned in the view it was detected in, with the pre-checks the
            # detection pass flagged it for: neither folded nor prefiltered again
            out.append([TextResult(r.text, r.findings, residual_hits(r.text, replacer.used, folded=view, possible=may)
                                   if r.text == text else residual_hits(r.text, replacer.used))
                        for r, text, view, may in zip(results, texts, views, possible, strict=True)])
        return out
