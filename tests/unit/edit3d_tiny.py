"""Tiny random-initialised models for testing the edit3d model adapters without any weights.

They exercise the real loading code (`from_pretrained(dir, local_files_only=True)`, SamPredictor)
on CPU in seconds; their outputs are noise, so tests only check shapes, plumbing and that
pixels outside an edit's mask are never touched.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path


def tiny_sam():
    import torch
    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

    torch.manual_seed(0)
    enc = ImageEncoderViT(depth=1, embed_dim=16, img_size=256, mlp_ratio=2, num_heads=1, patch_size=16,
                          norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), qkv_bias=True, use_rel_pos=False,
                          global_attn_indexes=(), window_size=4, out_chans=256)
    dec = MaskDecoder(num_multimask_outputs=3, transformer=TwoWayTransformer(depth=1, embedding_dim=256, mlp_dim=64,
                                                                             num_heads=2),
                      transformer_dim=256, iou_head_depth=1, iou_head_hidden_dim=32)
    return Sam(image_encoder=enc, prompt_encoder=PromptEncoder(embed_dim=256, image_embedding_size=(16, 16),
                                                               input_image_size=(256, 256), mask_in_chans=16),
               mask_decoder=dec, pixel_mean=[123.675, 116.28, 103.53], pixel_std=[58.395, 57.12, 57.375]).eval()


def tiny_depth_anything(d: Path) -> Path:
    import torch
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config, DPTImageProcessor

    bb = Dinov2Config(hidden_size=32, num_hidden_layers=4, num_attention_heads=2, intermediate_size=64, patch_size=14,
                      image_size=70, out_features=["stage1", "stage2", "stage3", "stage4"], reshape_hidden_states=False)
    cfg = DepthAnythingConfig(backbone_config=bb, neck_hidden_sizes=[8, 16, 32, 32], fusion_hidden_size=16,
                              head_hidden_size=8, reassemble_hidden_size=32, patch_size=14)
    torch.manual_seed(0)
    DepthAnythingForDepthEstimation(cfg).eval().save_pretrained(d)
    DPTImageProcessor(size={"height": 70, "width": 70}, keep_aspect_ratio=False, ensure_multiple_of=14,
                      do_pad=False).save_pretrained(d)
    return d


def _tiny_tokenizer():
    """A character-level CLIP BPE tokenizer (no merges) over the byte alphabet."""
    from transformers import CLIPTokenizer
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    chars = list(bytes_to_unicode().values())
    tokens = chars + [c + "</w>" for c in chars] + ["<|startoftext|>", "<|endoftext|>"]
    vocab = {t: i for i, t in enumerate(tokens)}
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=16), len(vocab)


def tiny_sd_inpaint(d: Path) -> Path:
    """A StableDiffusionInpaintPipeline (9-channel UNet) with random weights, saved to `d`."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionInpaintPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    tok, n = _tiny_tokenizer()
    unet = UNet2DConditionModel(sample_size=16, in_channels=9, out_channels=4, layers_per_block=1,
                                block_out_channels=(16, 32), down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                                up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=16,
                                attention_head_dim=4, norm_num_groups=8)
    vae = AutoencoderKL(in_channels=3, out_channels=3, block_out_channels=(16, 32), latent_channels=4,
                        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                        norm_num_groups=8, sample_size=32)
    text = CLIPTextModel(CLIPTextConfig(hidden_size=16, intermediate_size=32, num_attention_heads=2,
                                        num_hidden_layers=1, vocab_size=n, max_position_embeddings=16,
                                        bos_token_id=n - 2, eos_token_id=n - 1, pad_token_id=n - 1))
    pipe = StableDiffusionInpaintPipeline(vae=vae, text_encoder=text, tokenizer=tok, unet=unet,
                                          scheduler=DDIMScheduler(), safety_checker=None, feature_extractor=None,
                                          requires_safety_checker=False)
    pipe.save_pretrained(d / "sd")
    return d / "sd"
