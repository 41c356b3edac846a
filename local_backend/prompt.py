"""From ChatMessages to model inputs, the way an OpenAI-compatible server builds them: the checkpoint's chat
template renders the conversation with one ``<|image|>`` per image, the image processor turns each image into
patches, and each ``<|image|>`` token is expanded to grid_t*grid_h*grid_w/merge_size**2 tokens.

This replaces ``Glm4vProcessor``, which cannot be built without torchvision (it insists on a video processor):
tokenizer + image processor + chat template are all an image-only agent needs.
"""

from __future__ import annotations

from typing import Any

from PIL import Image
from pydantic import BaseModel, ConfigDict

from glmv_agent.errors import BackendError, ConfigError
from glmv_agent.types import ChatMessage, GenerationParams, ImagePart

from .family import IMAGE_TOKEN


def to_hf_messages(messages: list[ChatMessage]) -> tuple[list[dict[str, Any]], list[Image.Image]]:
    """Chat-template messages and the images in the order their placeholders appear.

    A message with images keeps its parts in order (``{"type": "image"}`` / ``{"type": "text"}``); a text-only
    message becomes one string, which every GLM template renders the same way as a list of text parts and which
    templates that print ``msg.content`` directly (GLM-4.1V's system and assistant turns) need.
    """
    converted: list[dict[str, Any]] = []
    images: list[Image.Image] = []
    for message in messages:
        if any(isinstance(part, ImagePart) for part in message.content):
            parts: list[dict[str, Any]] = []
            for part in message.content:
                if isinstance(part, ImagePart):
                    parts.append({"type": "image"})
                    images.append(part.image)
                else:
                    parts.append({"type": "text", "text": part.text})
            converted.append({"role": message.role, "content": parts})
        else:
            converted.append({"role": message.role, "content": message.text()})
    return converted, images


class PreparedPrompt(BaseModel):
    """Model inputs for one request (tensors stay on the CPU until the engine moves them)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    text: str  # the rendered template, one <|image|> per image
    input_ids: list[int]
    mm_token_type_ids: list[int]  # 1 on image tokens, 0 elsewhere
    pixel_values: Any = None  # torch.Tensor (patches, channels*patch*patch*temporal)
    image_grid_thw: Any = None  # torch.Tensor (images, 3)


class PromptBuilder:
    """Chat template + image processor of one checkpoint."""

    def __init__(self, tokenizer: Any, image_processor: Any, image_token_id: int, size: dict[str, int]) -> None:
        if not getattr(tokenizer, "chat_template", None):
            raise ConfigError("the checkpoint has no chat template (chat_template.jinja or tokenizer_config.json)")
        found = tokenizer.convert_tokens_to_ids(IMAGE_TOKEN)
        if found != image_token_id:
            raise ConfigError(
                f"tokenizer maps {IMAGE_TOKEN} to {found} but the model expects {image_token_id}; "
                "tokenizer and weights come from different checkpoints"
            )
        self.tokenizer = tokenizer
        self.image_processor = image_processor
        self.image_token_id = image_token_id
        self.size = size

    def render(self, messages: list[dict[str, Any]], params: GenerationParams) -> str:
        """The chat template's text with the generation prompt (``enable_thinking`` when params set it)."""
        extra: dict[str, Any] = {}
        if params.thinking is not None:
            extra["enable_thinking"] = params.thinking  # GLM-4.5V/4.6V templates; GLM-4.1V's ignores it
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True, **extra)

    def process_images(self, images: list[Image.Image]) -> tuple[Any, Any, list[int]]:
        """(pixel_values, image_grid_thw, tokens per image) for the images of one request."""
        kwargs: dict[str, Any] = {"return_tensors": "pt"}
        if self.size:
            current = self.image_processor.size
            kwargs["size"] = {
                "shortest_edge": self.size.get("shortest_edge", current.shortest_edge),
                "longest_edge": self.size.get("longest_edge", current.longest_edge),
            }
        out = self.image_processor(images=[image.convert("RGB") for image in images], **kwargs)
        grid = out["image_grid_thw"]
        merge = int(self.image_processor.merge_size) ** 2
        counts = [int(row.prod()) // merge for row in grid]
        return out["pixel_values"], grid, counts

    def build(self, messages: list[ChatMessage], params: GenerationParams) -> PreparedPrompt:
        hf_messages, images = to_hf_messages(messages)
        text = self.render(hf_messages, params)
        ids = self.tokenizer.encode(text, add_special_tokens=False)
        placeholders = [i for i, token in enumerate(ids) if token == self.image_token_id]
        if len(placeholders) != len(images):
            raise BackendError(
                f"the rendered prompt has {len(placeholders)} {IMAGE_TOKEN} tokens for {len(images)} images "
                f"(does a text part contain the literal {IMAGE_TOKEN}?)"
            )
        if not images:
            return PreparedPrompt(text=text, input_ids=ids, mm_token_type_ids=[0] * len(ids))
        pixel_values, grid, counts = self.process_images(images)
        expanded: list[int] = []
        start = 0
        for position, count in zip(placeholders, counts, strict=True):
            expanded.extend(ids[start:position])
            expanded.extend([self.image_token_id] * count)
            start = position + 1
        expanded.extend(ids[start:])
        types = [1 if token == self.image_token_id else 0 for token in expanded]
        return PreparedPrompt(
            text=text, input_ids=expanded, mm_token_type_ids=types, pixel_values=pixel_values, image_grid_thw=grid
        )
