"""Exact and near-duplicate removal (MinHash-LSH, array banding) and decontamination against evaluation sets.

Modules, one concept each:
- normalise: Chinese text normalisation (NFKC, punctuation/whitespace removal, optional t2s);
- shingles: character n-gram hashes, vectorised over a batch of texts;
- signatures: MinHash signatures as numpy array ops (bit-identical to datasketch's affine32 MinHash);
- lsh: near-duplicate clusters by array banding of the signatures (sort by band key, verify, components);
- engine: the exact + near-duplicate passes (per source, then global) with the keep rule;
- select: which text of an SFT row counts;
- decontam: n-gram containment against evaluation sets;
- stage / commands: the `dedup` and `decontaminate` stages and `cmedins dedup`.
"""
