"""Stand-in for torchaudio in the LLaMA-Factory loader test, and only there (tests/test_llamafactory.py puts
this folder on that subprocess's PYTHONPATH).

LLaMA-Factory 0.9.5 imports torchaudio at module level (llamafactory/data/mm_plugin.py) but calls it only to
decode audio inputs; no torchaudio wheel loads against the CPU torch 2.13 build here. Our rows are text only,
so the loader never reaches it; if it ever did, this raises instead of pretending.
"""


def __getattr__(name: str):
    raise RuntimeError(f"torchaudio.{name}: torchaudio is stubbed in this test (text-only datasets)")
