"""Planning a campaign: how many users a test of two conversion rates needs.

The normal-approximation formula for comparing two proportions (Fleiss, Levin & Paik, *Statistical
Methods for Rates and Proportions*, 3rd ed., eq. 4.14, without continuity correction), with an
allocation ratio for unequal groups (a small holdout):

    n_c = (z_{1-a/2} sqrt(p̄ q̄ (1 + 1/k)) + z_{1-b} sqrt(p_c q_c + p_t q_t / k))² / (p_t - p_c)²,   n_t = k n_c

where k = n_t / n_c and p̄ = (p_c + k p_t) / (1 + k).
"""

from __future__ import annotations

import math
from typing import Any

from scipy.stats import norm


def sample_size(baseline: float, lift: float, *, power: float = 0.8, alpha: float = 0.05,
                relative: bool = False, control_share: float = 0.5) -> dict[str, Any]:
    """Users needed in control and treatment to detect ``lift`` over ``baseline`` (two-sided test).

    ``lift`` is absolute (0.01 = one point) unless ``relative`` (0.1 = +10%). ``control_share`` is
    the share of the audience held out as control (0.5 = equal groups).
    """
    if not 0 < baseline < 1:
        raise ValueError(f"the baseline rate must be between 0 and 1, not {baseline}")
    if not 0 < power < 1 or not 0 < alpha < 1:
        raise ValueError("power and alpha must be between 0 and 1")
    if not 0 < control_share < 1:
        raise ValueError(f"the control share must be between 0 and 1, not {control_share}")
    treated = baseline * (1 + lift) if relative else baseline + lift
    if lift == 0 or not 0 < treated < 1:
        raise ValueError(f"the lift must move the rate to another value between 0 and 1 (got {treated:g})")
    k = (1 - control_share) / control_share
    p_bar = (baseline + k * treated) / (1 + k)
    z_a, z_b = norm.ppf(1 - alpha / 2), norm.ppf(power)
    num = (z_a * math.sqrt(p_bar * (1 - p_bar) * (1 + 1 / k))
           + z_b * math.sqrt(baseline * (1 - baseline) + treated * (1 - treated) / k)) ** 2
    n_control = math.ceil(num / (treated - baseline) ** 2)
    n_treatment = math.ceil(k * n_control - 1e-9)
    return {"baseline": baseline, "treatment_rate": round(treated, 12), "lift": round(treated - baseline, 12),
            "relative_lift": round(treated / baseline - 1, 12), "alpha": alpha, "power": power,
            "control_share": control_share, "control": n_control, "treatment": n_treatment,
            "total": n_control + n_treatment}
