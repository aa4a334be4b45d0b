"""NewsVariants: news stories as republished across outlets, as a Hugging Face dataset."""

__version__ = "0.1.0"
