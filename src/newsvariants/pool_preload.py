"""Imported by the pools' fork server before it forks any worker (`executor.boot_forkserver`),
never by the build itself: what every worker would otherwise make for itself on its first task,
made once in the server and shared by the workers forked from it (copy-on-write).

- py3langid's model: decompressing and loading it takes ~0.9 s a process, which each worker
  spent on its first extraction (both at once: ~0.9 s of a 10k-capture build's wall time);
- pandas: pyarrow imports it (~0.2 s) on the first `pa.array` of Python values when it is
  installed, so each worker imported it on its first encoded row.
"""

import pandas  # noqa: F401

from newsvariants.extract import language_identifier

language_identifier()
