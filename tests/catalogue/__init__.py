"""The bad-input catalogue: every public callable over a shared catalogue of bad and extreme inputs.

Issue #14, item 1. The package has five parts:

``model``
    the vocabulary: column kinds, call specs, cases, expectations and outcome classes;
``inputs``
    the catalogue itself: how each bad or extreme input is made from a valid call
    (missing values, infinities, 1e-300 and 1e307, values near 2**62, whole columns near the
    largest number, of one sign or alternating, so that sums of them overflow, empty frames,
    one row, duplicate and mixed-type ids, booleans as numbers, far and mixed-zone dates, nullable,
    pyarrow and categorical dtypes, unsorted rows, non-unique and MultiIndex indexes, huge
    draw counts, ...);
``specs_*``
    one call spec per public callable: a small valid call, the kind of each column and
    argument, and the function's invariants;
``runner``
    builds every case, runs it in worker processes under a timeout and a memory limit, checks
    the input for mutation and classifies the outcome;
``report``
    ``python tests/catalogue/report.py`` prints the counts per class and per function.

``test_catalogue.py`` runs it under pytest and fails on any foreign exception, silently wrong
result, wrongly refused valid input, hang or mutation.
"""
