"""The array helpers the stages share."""

from __future__ import annotations

import numpy as np
import pytest

from newsvariants.arrays import budget_ranges


@pytest.mark.parametrize("seed", range(6))
def test_budget_ranges_cover_every_item_within_both_limits(seed: int) -> None:
    rng = np.random.default_rng(seed)
    costs = rng.integers(0, 50, int(rng.integers(0, 300)))
    budget, most = int(rng.integers(1, 120)), int(rng.integers(1, 20))
    ranges = budget_ranges(costs, budget, most)
    # consecutive, from the first item to the last, none empty
    assert [start for start, _ in ranges] == [0] + [stop for _, stop in ranges[:-1]]
    assert ranges[-1][1] == len(costs) if len(costs) else ranges == []
    for start, stop in ranges:
        assert 0 < stop - start <= most
        total = int(costs[start:stop].sum())
        assert total <= budget or stop - start == 1  # an item over budget alone
        if stop < len(costs) and stop - start < most:
            assert total + int(costs[stop]) > budget  # the range stopped at the budget


def test_an_item_over_budget_gets_a_range_of_its_own() -> None:
    assert budget_ranges(np.array([1, 100, 1, 1]), 10, 10) == [(0, 1), (1, 2), (2, 4)]
