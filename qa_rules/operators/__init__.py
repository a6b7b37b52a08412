"""Every rule operator, registered by decorator in ``operators`` (importing this package registers them)."""

from qa_rules.operators import semantic, speech, structure, text  # noqa: F401  (registration side effect)
from qa_rules.operators.base import Operator, OpParams, Registry, operators

__all__ = ["OpParams", "Operator", "Registry", "operators"]
