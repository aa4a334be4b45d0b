"""NewsVariants: news stories as republished across outlets, as a Hugging Face dataset."""

# The package is versioned with the data: the code of release X.Y.Z (tag vX.Y.Z) is version X.Y.Z,
# and MANIFEST.json's `code_version` names it. Set it to the version about to be released before
# the release build (tests/test_card.py checks the committed corpus agrees).
__version__ = "0.1.15"
