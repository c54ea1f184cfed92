"""transformers adapters on tiny randomly initialised models of the real classes (no downloads).

A byte-level tokenizer with Qwen's special tokens and a tiny Qwen2.5-VL config are saved to a temp dir,
then loaded by the adapter exactly like a real checkpoint (local_files_only), and the whole
preprocess → generate → decode → parse path runs. Random weights produce gibberish, so the result is
parse_ok=False with the raw text kept; the rescale arithmetic is checked separately on known text.
"""
from __future__ import annotations

import pytest
from PIL import Image

from backend.pointing.parsers import parse_qwen
from backend.registry import ModelEntry

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
            "<|image_pad|>", "<|video_pad|>"]
CHAT = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% if m['content'] is string %}{{ m['content'] }}"
        "{% else %}{% for c in m['content'] %}{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
        "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def byte_tokenizer(specials=SPECIALS):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {ch: i for i, ch in enumerate(sorted(alphabet))}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    fast.add_special_tokens({"additional_special_tokens": list(specials)})
    return fast


@pytest.fixture(scope="module")
def tiny_qwen(tmp_path_factory):
    import torch
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
        Qwen2VLImageProcessor,
        Qwen2VLVideoProcessor,
    )

    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("Qwen2.5-VL-tiny")
    tok = byte_tokenizer()
    ids = {t: tok.convert_tokens_to_ids(t) for t in SPECIALS}
    text = dict(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [1, 1, 2]},
                eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"], bos_token_id=ids["<|endoftext|>"])
    vision = dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=4, out_hidden_size=32, patch_size=14,
                  spatial_merge_size=2, temporal_patch_size=2, window_size=56, fullatt_block_indexes=[1])
    cfg = Qwen2_5_VLConfig(text_config=text, vision_config=vision, image_token_id=ids["<|image_pad|>"],
                           video_token_id=ids["<|video_pad|>"], vision_start_token_id=ids["<|vision_start|>"],
                           vision_end_token_id=ids["<|vision_end|>"], eos_token_id=ids["<|im_end|>"],
                           pad_token_id=ids["<|endoftext|>"])
    Qwen2_5_VLForConditionalGeneration(cfg).save_pretrained(out)
    ip = Qwen2VLImageProcessor(min_pixels=56 * 56, max_pixels=112 * 112)
    Qwen2_5_VLProcessor(image_processor=ip, tokenizer=tok, video_processor=Qwen2VLVideoProcessor(),
                        chat_template=CHAT).save_pretrained(out)
    return out


def test_qwen_full_path_on_tiny_random_model(tiny_qwen):
    from backend.pointing.hf import QwenVLPointer

    entry = ModelEntry("qwen-tiny", "pointing", "checkpoint", "backend.pointing.hf:QwenVLPointer",
                       path=str(tiny_qwen), options={"max_new_tokens": 8, "min_pixels": 3136, "max_pixels": 12544})
    assert QwenVLPointer.check_available(entry)[0]
    p = QwenVLPointer(entry, "cpu")
    assert p.model.dtype.is_floating_point and str(p.model.dtype) == "torch.float32"
    res = p.point(Image.new("RGB", (300, 200), (10, 200, 30)), "Point to the green square")
    assert res.backend_info["kind"] == "checkpoint" and res.backend_info["family"] == "qwen2.5-vl"
    assert res.latency_s > 0
    print("tiny qwen:", res.raw_text[:60].encode(), res.error)
    if res.parse_ok:  # random weights can, rarely, emit digits
        assert all(0 <= x < 300 and 0 <= y < 200 for x, y in res.points)
    else:
        assert res.error and isinstance(res.raw_text, str)


def test_missing_checkpoint_is_unavailable(tmp_path):
    from backend.pointing.hf import MolmoPointer, QwenVLPointer

    e = ModelEntry("q", "pointing", "checkpoint", "backend.pointing.hf:QwenVLPointer", path=str(tmp_path / "nope"))
    ok, why = QwenVLPointer.check_available(e)
    assert not ok and "weights not found" in why
    assert not MolmoPointer.check_available(e)[0]


def test_qwen_rescale_uses_the_processor_size():
    # the model saw 196×280 (grid 14×20 patches of 14) for a 1000×700 original
    res = parse_qwen('[{"point_2d": [140, 98], "label": "x"}]', 1000, 700, resized=(196, 280))
    assert res.points == [(500.0, 350.0)]


def test_shipped_config_marks_big_checkpoints_unavailable():
    from backend.registry import get_registry

    reg = get_registry()
    for name in ("molmo-7b-d", "qwen2.5-vl-7b"):
        ok, why = reg.availability(name)
        assert not ok and ("disabled" in why or "not found" in why)


def test_qwen_on_cuda_loads_bf16(tiny_qwen):
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    from backend.pointing.hf import QwenVLPointer

    entry = ModelEntry("qwen-tiny-cuda", "pointing", "checkpoint", "backend.pointing.hf:QwenVLPointer",
                       path=str(tiny_qwen), options={"max_new_tokens": 8, "max_pixels": 12544})
    p = QwenVLPointer(entry, "cuda")
    assert p.model.dtype == torch.bfloat16 and p.model.device.type == "cuda"
    res = p.point(Image.new("RGB", (300, 200), (10, 200, 30)), "Point to the green square")
    assert res.backend_info["device"] == "cuda" and (res.parse_ok or res.error)
    print("tiny qwen cuda:", res.raw_text[:40].encode(), res.error, round(res.latency_s, 3))


MOLMO2_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<im_patch>", "<im_col>", "<im_start>",
                   "<low_res_im_start>", "<frame_start>", "<im_end>", "<frame_end>", "<im_low>", "<|image|>", "<|video|>"]
MOLMO2_CHAT = CHAT.replace("<|vision_start|><|image_pad|><|vision_end|>", "<|image|>")


@pytest.fixture(scope="module")
def tiny_molmo2(tmp_path_factory):
    import torch
    from transformers import (
        Molmo2Config,
        Molmo2ForConditionalGeneration,
        Molmo2ImageProcessor,
        Molmo2Processor,
        Molmo2VideoProcessor,
    )

    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("Molmo2-tiny")
    tok = byte_tokenizer(MOLMO2_SPECIALS)
    ids = {t: tok.convert_tokens_to_ids(t) for t in MOLMO2_SPECIALS}
    text = dict(hidden_size=32, num_attention_heads=4, num_key_value_heads=2, head_dim=8, vocab_size=len(tok),
                additional_vocab_size=16, num_hidden_layers=2, intermediate_size=64, max_position_embeddings=4096)
    vision = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4,
                  num_key_value_heads=4, head_dim=8, image_size=[112, 112], patch_size=14)
    adapter = dict(vision_feature_layer=[-1, -2], hidden_size=32, num_attention_heads=4, num_key_value_heads=4,
                   head_dim=8, intermediate_size=64, text_hidden_size=32)
    cfg = Molmo2Config(text_config=text, vision_config=vision, adapter_config=adapter,
                       image_start_token_id=ids["<im_start>"], low_res_image_start_token_id=ids["<low_res_im_start>"],
                       image_end_token_id=ids["<im_end>"], image_patch_id=ids["<im_patch>"],
                       frame_start_token_id=ids["<frame_start>"], frame_end_token_id=ids["<frame_end>"])
    Molmo2ForConditionalGeneration(cfg).save_pretrained(out)
    ip = Molmo2ImageProcessor(size={"height": 112, "width": 112}, max_crops=2, patch_size=14, overlap_margins=[1, 1])
    Molmo2Processor(image_processor=ip, tokenizer=tok, video_processor=Molmo2VideoProcessor(),
                    chat_template=MOLMO2_CHAT).save_pretrained(out)
    return out


def test_molmo2_full_path_on_tiny_random_model(tiny_molmo2):
    from backend.pointing.hf import MolmoPointer

    entry = ModelEntry("molmo2-tiny", "pointing", "checkpoint", "backend.pointing.hf:MolmoPointer",
                       path=str(tiny_molmo2), options={"max_new_tokens": 8})
    p = MolmoPointer(entry, "cpu")
    assert p.family == "molmo2" and not p.remote_code
    res = p.point(Image.new("RGB", (300, 200), (200, 30, 30)), "Point to the red square")
    assert res.backend_info["family"] == "molmo2"
    if res.parse_ok:
        assert all(0 <= x < 300 and 0 <= y < 200 for x, y in res.points)
    else:
        assert "no <points coords" in res.error


def test_molmo_0924_needs_its_remote_code(tmp_path, monkeypatch):
    """Molmo-7B-D-0924 folders carry their own modelling code; without it loading fails with a reason."""
    from backend.registry import Registry

    (tmp_path / "config.json").write_text('{"model_type": "molmo", "auto_map": {"AutoModelForCausalLM": "modeling_molmo.MolmoForCausalLM"}}')
    reg = Registry([ModelEntry("molmo", "pointing", "checkpoint", "backend.pointing.hf:MolmoPointer", path=str(tmp_path))])
    assert reg.availability("molmo")[0]
    from backend.pointing import service

    monkeypatch.setattr(service, "get_registry", lambda: reg)
    res = service.run_pointer("molmo", Image.new("RGB", (10, 10)), "Point to it", timeout_s=120)
    assert not res.parse_ok and "failed to load" in res.error
