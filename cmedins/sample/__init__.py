"""The embedded sample corpus (data/) and the generator that writes it, at any size, from a seed.

Everything is written by this project: fake patients with valid-looking identities (which also leak into
the free text, as in real notes), department case templates filled per record, consultation dialogues,
general instructions and SPF preference annotations. See data/README.md for what each file plants.
"""
