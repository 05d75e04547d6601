"""The theory chapter's checks: exact float64 simulations against closed forms (Theorems 3.1, 3.3, 3.4,
Lemmas E.5 and E.6, Proposition 2.1, Figure 8). Each is an integrity check of the claim it bears on, named by
its prefix (:data:`CLAIM_OF`); a failure is an error of the code or of the paper's algebra, at every profile.
"""

from __future__ import annotations

from typing import Any

from ..claims import Check, integrity

__all__ = ["CLAIM_OF", "exact"]

#: each check's prefix -> the paper claim it bears on (``""``: a finding of the simulations, no paper claim)
CLAIM_OF: dict[str, str] = {
    "Thm 3.1": "thm31_sgd_nc0_decay",
    "Lemma E.5": "thm31_sgd_nc0_decay",
    "Lemma E.6": "thm31_sgd_nc0_decay",
    "Thm 3.3": "thm33_signgd_decoupled",
    "Thm 3.4": "thm34_signgd_coupled",
    "Prop 2.1": "prop21_nc0_necessary",
    "Fig 8": "fig8_mlp_split",
    "Finding": "",
}


def exact(text: str, value: Any, passed: bool) -> Check:
    """A theory check ``"<prefix>: <statement>"``, attached to the claim of its prefix (:data:`CLAIM_OF`).

    Raises:
        KeyError: a prefix without a claim in :data:`CLAIM_OF`.
    """
    return integrity(text, value, passed, CLAIM_OF[text.split(":")[0]])
