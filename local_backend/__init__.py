"""Local GPU backend: GLM-V checkpoints run in-process with transformers (``pip install 'glmv-agent[local]'``).

Importing this package does not import torch or transformers; the model loads on the first generate().

    from glmv_agent.local_backend import LocalModelConfig, TransformersBackend
    backend = TransformersBackend(LocalModelConfig(model="zai-org/GLM-4.1V-9B-Thinking"))
"""

from __future__ import annotations

from .backend import TransformersBackend
from .config import LocalModelConfig

__all__ = ["LocalModelConfig", "TransformersBackend"]
