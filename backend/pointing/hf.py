"""Local transformers checkpoints: Qwen2.5-VL and Molmo (weights under MODELS_DIR, never downloaded).

Both load with `local_files_only=True`, bf16 on CUDA and fp32 on CPU, greedy decoding. Qwen2.5-VL's points
are in the pixels of the processor's resized image; the exact size is read back from `image_grid_thw`
(patch 14 × grid) so the rescale to the original image cannot drift from the processor's own resize.
Molmo-7B-D-0924 ships its modelling code in the checkpoint (trust_remote_code, `generate_from_batch`);
checkpoints whose class is built into transformers (Molmo2) use the chat-template path instead.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path

import torch
from PIL import Image

from backend.pointing.base import BasePointer, PointingError, is_counting
from backend.pointing.parsers import parse, parse_qwen
from backend.pointing.prompts import TEMPLATE_VERSION, build_prompt


def _dtype(device: str):
    return torch.bfloat16 if str(device).startswith("cuda") else torch.float32


def _check_dir(entry) -> tuple[bool, str]:
    p = entry.resolved_path if entry is not None else None
    if p is None:
        return False, "no path configured"
    if not (Path(p) / "config.json").exists():
        return False, f"weights not found at {p} (no config.json)"
    return True, f"weights found at {p}"


class _HFPointer(BasePointer):
    kind = "checkpoint"
    prompt_template_version = TEMPLATE_VERSION

    def __init__(self, entry=None, device: str = "cpu", path: str | Path | None = None):
        super().__init__(entry, device)
        self.path = Path(path) if path else entry.resolved_path
        self.max_new_tokens = int(self.options.get("max_new_tokens", 200))
        self._lock = threading.Lock()  # one generate at a time per loaded model
        self.version = f"{self.path.name}"

    @classmethod
    def check_available(cls, entry=None) -> tuple[bool, str]:
        return _check_dir(entry)

    @staticmethod
    def _finish(parsed, raw: str, instruction: str):
        """Parsed points, one unless the instruction counts (PointArena's rule); failures keep the raw text."""
        if not parsed.ok:
            raise PointingError(parsed.error or "no coordinates found", raw, kind="parse")
        return parsed.points if is_counting(instruction) else parsed.points[:1]


class QwenVLPointer(_HFPointer):
    family = "qwen2.5-vl"
    label = "Qwen2.5-VL (local checkpoint)"

    def __init__(self, entry=None, device: str = "cpu", path=None):
        super().__init__(entry, device, path)
        from transformers import AutoProcessor, Qwen2_5_VLForConditionalGeneration  # noqa: PLC0415 - optional and heavy: loaded with a checkpoint

        kw = {k: int(self.options[k]) for k in ("min_pixels", "max_pixels") if self.options.get(k)}
        self.processor = AutoProcessor.from_pretrained(self.path, local_files_only=True, **kw)
        self.model = Qwen2_5_VLForConditionalGeneration.from_pretrained(
            self.path, local_files_only=True, dtype=_dtype(device)).to(device).eval()  # type: ignore[arg-type]  # transformers' .to() decorator
        self.patch = int(getattr(self.model.config.vision_config, "patch_size", 14))
        self._torch = torch

    def _predict(self, img: Image.Image, instruction: str):
        prompt = build_prompt(self.family, instruction, img.width, img.height, counting=is_counting(instruction))
        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]}]
        text = self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        inputs = self.processor(text=[text], images=[img], return_tensors="pt").to(self.device)
        _, gh, gw = (int(v) for v in inputs["image_grid_thw"][0])
        rh, rw = gh * self.patch, gw * self.patch  # the size the model saw
        with self._lock, self._torch.inference_mode():
            out = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False)
        raw = self.processor.batch_decode(out[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)[0]
        parsed = parse_qwen(raw, img.width, img.height, resized=(rh, rw))
        return raw, self._finish(parsed, raw, instruction)


class MolmoPointer(_HFPointer):
    """Molmo-7B-D-0924 (remote code in the checkpoint) or a transformers-native Molmo2 checkpoint."""

    family = "molmo"
    label = "Molmo (local checkpoint)"

    def __init__(self, entry=None, device: str = "cpu", path=None):
        super().__init__(entry, device, path)
        from transformers import AutoProcessor  # noqa: PLC0415 - optional and heavy: loaded with a checkpoint

        cfg = json.loads((self.path / "config.json").read_text())
        self.remote_code = bool(cfg.get("auto_map"))
        self._torch = torch
        if self.remote_code:  # Molmo-0924: MolmoForCausalLM + MolmoProcessor from the checkpoint folder
            from transformers import AutoModelForCausalLM  # noqa: PLC0415 - optional and heavy: loaded with a checkpoint

            self.family = "molmo"
            self.processor = AutoProcessor.from_pretrained(self.path, local_files_only=True, trust_remote_code=True)
            self.model = AutoModelForCausalLM.from_pretrained(self.path, local_files_only=True, trust_remote_code=True,
                                                              dtype=_dtype(device)).to(device).eval()  # type: ignore[arg-type]  # transformers' .to() decorator
        else:  # Molmo2 / MolmoPoint built into transformers: chat template, 0–1000 coords
            from transformers import AutoModelForImageTextToText  # noqa: PLC0415 - optional and heavy: loaded with a checkpoint

            self.family = "molmo2"
            self.processor = AutoProcessor.from_pretrained(self.path, local_files_only=True)
            self.model = AutoModelForImageTextToText.from_pretrained(self.path, local_files_only=True,
                                                                     dtype=_dtype(device)).to(device).eval()  # type: ignore[arg-type]  # transformers' .to() decorator
        self.label = self.label if self.entry and self.entry.label else f"{self.path.name} (local checkpoint)"

    def _generate_remote_code(self, img: Image.Image, prompt: str) -> str:
        from transformers import GenerationConfig  # noqa: PLC0415 - optional and heavy: loaded with a checkpoint

        inputs = self.processor.process(images=[img], text=prompt)
        inputs = {k: v.to(self.model.device).unsqueeze(0) for k, v in inputs.items()}
        if "images" in inputs:
            inputs["images"] = inputs["images"].to(self.model.dtype)
        cfg = GenerationConfig(max_new_tokens=self.max_new_tokens, stop_strings="<|endoftext|>", do_sample=False)
        out = self.model.generate_from_batch(inputs, cfg, tokenizer=self.processor.tokenizer)
        return self.processor.tokenizer.decode(out[0, inputs["input_ids"].size(1):], skip_special_tokens=True)

    def _generate_chat(self, img: Image.Image, prompt: str) -> str:
        messages = [{"role": "user", "content": [{"type": "image", "image": img}, {"type": "text", "text": prompt}]}]
        inputs = self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=True,
                                                    return_dict=True, return_tensors="pt").to(self.device)
        out = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False)
        return self.processor.batch_decode(out[:, inputs["input_ids"].shape[1]:], skip_special_tokens=False)[0]

    def _predict(self, img: Image.Image, instruction: str):
        prompt = build_prompt(self.family, instruction, img.width, img.height, counting=is_counting(instruction))
        with self._lock, self._torch.inference_mode():
            raw = (self._generate_remote_code if self.remote_code else self._generate_chat)(img, prompt)
        return raw, self._finish(parse(self.family, raw, img.width, img.height), raw, instruction)
