"""cmedins: Chinese medical LLM training data toolkit."""
__version__ = "0.1.0"
