"""The aggregated group update against brute force: every ordered group, verl's aggregation applied to per-token
losses, differentiated by finite differences; and the sign of the length drift in the Dr. GRPO setting."""

import itertools
import math

import numpy as np
import pytest

from alignsim import rlvr

THETA = np.array([0.3, -0.2, 0.1])
REWARDS = np.array([1.0, 0.0, 0.0])
LENGTHS = np.array([2, 3, 5])


def _advantages(r, estimator):
    r = np.asarray(r, float)
    if estimator == "dr_grpo":
        return r - r.mean()
    if estimator == "rloo":
        return r - (r.sum() - r) / (r.size - 1)
    s = r.std(ddof=1)
    return (r - r.mean()) / s if s > 0 else np.zeros(r.size)


def _brute(theta0, estimator, aggregation, g=3):
    """d/dtheta of E_group[aggregate(-A_i log pi_theta(token))] with the advantages and the sampling law held at
    theta0 (the surrogate's gradient); each response's log-probability spread over its tokens."""
    pi0 = np.exp(theta0 - theta0.max())
    pi0 /= pi0.sum()
    width = int(LENGTHS.max())

    def surrogate(theta):
        log_pi = theta - theta.max() - math.log(np.sum(np.exp(theta - theta.max())))
        total = 0.0
        for group in itertools.product(range(3), repeat=g):
            prob = math.prod(pi0[list(group)])
            adv = _advantages(REWARDS[list(group)], estimator)
            loss = np.zeros((g, width))
            mask = np.zeros((g, width))
            for i, y in enumerate(group):
                loss[i, : LENGTHS[y]] = -adv[i] * log_pi[y] / LENGTHS[y]
                mask[i, : LENGTHS[y]] = 1.0
            total += prob * rlvr.aggregate(loss, mask, aggregation)
        return total

    h = 1e-6
    grad = np.array([(surrogate(theta0 + h * e) - surrogate(theta0 - h * e)) / (2 * h) for e in np.eye(3)])
    return -grad  # the update ascends: minus the loss gradient


@pytest.mark.parametrize("estimator", ["grpo", "dr_grpo", "rloo"])
@pytest.mark.parametrize("aggregation", ["token-mean", "seq-mean-token-sum", "seq-mean-token-mean",
                                         "seq-mean-token-sum-norm"])
def test_aggregated_update_is_the_gradient_of_verls_aggregated_loss(estimator, aggregation):
    got = rlvr.aggregated_update(THETA, REWARDS, LENGTHS, 3, estimator, aggregation)
    assert np.max(np.abs(got - _brute(THETA, estimator, aggregation))) < 1e-8


def test_length_bias_of_per_response_length_normalisation():
    """Right-short, wrong-short, wrong-long (Dr. GRPO's setting): overall every aggregation shortens answers (the
    short right answer gains), but among the wrong answers dividing each response by its length
    (seq-mean-token-mean) penalises the long one least and lengthens them; token-mean does so more weakly (through
    the group's total length); the token sums leave the wrong answers' length unchanged."""
    args = ([0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [10, 10, 40], 8)
    for est in ("grpo", "dr_grpo", "rloo"):
        per_length = rlvr.length_drift(*args, est, "seq-mean-token-mean", among="incorrect")
        group_total = rlvr.length_drift(*args, est, "token-mean", among="incorrect")
        assert per_length > 5 * group_total > 0
        for agg in ("seq-mean-token-sum", "seq-mean-token-sum-norm"):
            assert abs(rlvr.length_drift(*args, est, agg, among="incorrect")) < 1e-14
        for agg in rlvr.AGGREGATIONS:
            assert rlvr.length_drift(*args, est, agg) < 0
    u = rlvr.aggregated_update(*args, "grpo", "seq-mean-token-mean")
    assert u[2] > u[1]  # the long wrong answer loses less probability than the short one
    # a long correct answer gains less than a short one under the same aggregation
    v = rlvr.aggregated_update([0.0, 0.0, 0.0], [1.0, 1.0, 0.0], [10, 40, 10], 8, "grpo", "seq-mean-token-mean")
    assert v[0] > v[1] > 0


def test_bad_input():
    with pytest.raises(ValueError, match="aggregation"):
        rlvr.aggregated_update(THETA, REWARDS, LENGTHS, 3, "grpo", "mean")
    with pytest.raises(ValueError, match="lengths"):
        rlvr.aggregated_update(THETA, REWARDS, [0, 1, 2], 3)
    with pytest.raises(ValueError, match="G"):
        rlvr.aggregated_update(THETA, REWARDS, LENGTHS, 1)
