"""Offline pointers composed from models that ship inside pip packages (the defaults on a fresh machine).

These are *tool-composed* pointers, not pointing models, and are labelled as such in the UI:
- `Lite0CamPointer`: instructions naming a colour or a simple shape use colour/foreground regions
  (regions.py); otherwise the instruction's noun phrase is embedded with all-MiniLM-L6-v2 and matched to the
  1000 ImageNet class names (embeddings cached once per process); EfficientNet-Lite0's class-activation
  map (CAM = fc weights · last conv features) for the best-matching classes gives candidate peaks/regions.
- `OCRPointer`: PP-OCRv4 reads the text; words the instruction names are pointed at (inside their line),
  otherwise it falls back to the CAM pointer.
Both hand candidates to `spatial.select`, which applies left/right/top/…/largest and counting words.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import threading
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from scipy import ndimage
from torchvision.models import EfficientNet_B0_Weights

from backend.config import get_settings
from backend.embedded import PPOCR, Lite0Encoder, MiniLMEmbedder
from backend.pointing.base import BasePointer, PointingError
from backend.pointing.regions import colour_word, region_candidates, wants_regions
from backend.pointing.spatial import NUMBER_WORDS, RELATIONS, Candidate, select, split_reference
from backend.registry import get_registry

CAM_SIDE = 384          # long side fed to Lite0 (stride 32 → 12 cells)
TOP_CLASSES = 5         # classes blended into the CAM
PRIOR_WEIGHT = 0.04     # how much the image's own class probability counts next to text similarity
OCR_MAX_SIDE = 1024
STOP = set("""point points pointing to at on in of the a an please show me find locate where is are which that this
those these with where's whats what all every each any some count how many there here image picture photo
one""".split()) | set(NUMBER_WORDS) | {w for syns in RELATIONS.values() for w in syns} | {"side", "most", "corner"}
TEXT_WORDS = {"word", "words", "text", "sign", "label", "saying", "says", "say", "written", "letter", "letters",
              "reads", "read", "title", "writing", "character", "characters", "number"}

_class_lock = threading.Lock()
_class_cache: dict = {}


def imagenet_classes() -> list[str]:
    """The 1000 ImageNet-1k class names, from torchvision's offline metadata (same order as Lite0's fc)."""
    return list(EfficientNet_B0_Weights.DEFAULT.meta["categories"])


def _cache_file(names: list[str], embedder) -> Path:
    key = hashlib.sha256(("\n".join(names) + "|" + getattr(embedder, "weights_source", "")).encode()).hexdigest()[:16]
    return Path(get_settings().data_dir) / "cache" / f"imagenet_minilm_{key}.npy"


def class_embeddings(embedder) -> tuple[list[str], np.ndarray]:
    """MiniLM embeddings of the class names: once per process, and kept in DATA_DIR/cache across processes.

    Encoding 1000 names takes seconds (tens of seconds on a busy 2-core box); the cache makes every later
    process start in milliseconds. The file name hashes the names and the model source, so it cannot go stale.
    """
    with _class_lock:
        if "emb" not in _class_cache:
            names = imagenet_classes()
            f = _cache_file(names, embedder)
            emb = None
            if f.exists():
                try:
                    emb = np.load(f)
                    emb = emb if emb.shape == (len(names), getattr(embedder, "dim", emb.shape[1])) else None
                except (OSError, ValueError):
                    emb = None
            if emb is None:
                emb = embedder.encode([f"a photo of a {n}" for n in names])
                try:
                    f.parent.mkdir(parents=True, exist_ok=True)
                    tmp = f.with_suffix(f".{os.getpid()}.tmp.npy")
                    np.save(tmp, emb)
                    os.replace(tmp, f)
                except OSError:
                    pass  # read-only data dir: recompute next process
            _class_cache["names"], _class_cache["emb"] = names, np.asarray(emb, dtype=np.float32)
        return _class_cache["names"], _class_cache["emb"]


def query_phrase(instruction: str, drop: set[str] = STOP) -> str:
    """The object words of an instruction: "Point to the two leftmost red cups" → "red cups"."""
    instruction = split_reference(instruction)[0]
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", instruction.lower())
    kept = [w for w in words if w not in drop and not w.isdigit()]
    return " ".join(kept) or instruction.strip()


def _regions(cam: np.ndarray, sx: float, sy: float, rel: float = 0.45) -> list[Candidate]:
    """One candidate per connected region above rel × max, placed at the region's peak."""
    peak = float(cam.max())
    if not np.isfinite(peak) or peak <= 0:
        return []
    lab, n = ndimage.label(cam >= rel * peak)
    out = []
    for i in range(1, n + 1):
        m = lab == i
        idx = np.argmax(np.where(m, cam, -np.inf))
        yy, xx = np.unravel_index(idx, cam.shape)
        out.append(Candidate(x=(xx + 0.5) * sx, y=(yy + 0.5) * sy, score=float(cam[yy, xx]),
                             area=float(m.sum() * sx * sy)))
    return out


class Lite0CamPointer(BasePointer):
    kind = "embedded"
    family = "embedded"
    label = "Tool-composed pointer, ImageNet classes only (MiniLM → EfficientNet-Lite0 CAM; colour/shape regions)"
    version = "lite0-cam-1"

    def __init__(self, entry=None, device: str = "cpu"):
        super().__init__(entry, device)
        reg = get_registry()
        self.encoder = reg.get("lite0-imagenet")
        self.embedder = reg.get("minilm-l6")
        self.device = getattr(self.encoder, "device", device)

    @classmethod
    def check_available(cls, entry=None) -> tuple[bool, str]:
        for part in (Lite0Encoder, MiniLMEmbedder):
            ok, why = part.check_available(None)
            if not ok:
                return ok, why
        return True, "weights ship in pip packages"

    def classes_for(self, phrase: str, probs: np.ndarray) -> list[tuple[int, float]]:
        """(class index, blend weight) for the classes best matching the phrase, helped by the image prior."""
        names, emb = class_embeddings(self.embedder)
        q = self.embedder.encode([f"a photo of a {phrase}"])[0]
        sim = emb @ q
        score = sim + PRIOR_WEIGHT * np.log(np.clip(probs, 1e-6, 1.0))
        top = np.argsort(-score)[:TOP_CLASSES]
        w = np.exp((score[top] - score[top].max()) / 0.03)
        return [(int(i), float(v)) for i, v in zip(top, w / w.sum(), strict=True)]

    def cam(self, img: Image.Image) -> tuple[np.ndarray, np.ndarray, torch.nn.Linear]:
        """(probabilities over the 1000 classes, features h×w×1280, fc) at CAM_SIDE resolution."""
        s = CAM_SIDE / max(img.size)
        w = max(32, int(round(img.width * s / 32)) * 32)
        h = max(32, int(round(img.height * s / 32)) * 32)
        x = self.encoder.preprocess(img, (w, h))
        m = self.encoder.model
        with self.encoder._lock, torch.no_grad():
            feats = m.extract_features(x)[0]                      # 1280 × h/32 × w/32
            logits = m._fc(feats.mean(dim=(1, 2)))
        probs = torch.softmax(logits, -1).cpu().numpy()
        return probs, feats.cpu().numpy(), m._fc

    def candidates(self, img: Image.Image, instruction: str) -> tuple[list[Candidate], dict]:
        phrase = query_phrase(instruction)
        if wants_regions(split_reference(instruction)[0]):  # "orange circle", "the shape above …"
            regs = region_candidates(img, split_reference(instruction)[0])
            if regs:
                return regs, {"phrase": phrase, "regions": len(regs), "colour": colour_word(instruction)}
        probs, feats, fc = self.cam(img)
        picks = self.classes_for(phrase, probs)
        W = fc.weight.detach().cpu().numpy()
        cam = sum(wt * np.tensordot(W[c], feats, axes=(0, 0)) for c, wt in picks)
        cam = np.maximum(cam, 0)
        up = 4  # bilinear upsampling so peaks are not stuck on the 32-pixel grid
        camt = torch.from_numpy(np.ascontiguousarray(cam, dtype=np.float32))[None, None]
        cam_up = torch.nn.functional.interpolate(camt, scale_factor=up, mode="bilinear",
                                                 align_corners=False)[0, 0].numpy()
        sx, sy = img.width / cam_up.shape[1], img.height / cam_up.shape[0]
        names = imagenet_classes()
        info = {"phrase": phrase, "classes": [[names[c], round(wt, 3)] for c, wt in picks]}
        return _regions(cam_up, sx, sy), info

    def _predict(self, img: Image.Image, instruction: str):
        cands, info = self.candidates(img, instruction)
        pts = select(cands, instruction, img.width, img.height)
        info["points"] = [[round(x, 1), round(y, 1)] for x, y in pts]
        return json.dumps(info), pts


def _norm(s: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", s.lower())


class OCRPointer(BasePointer):
    kind = "embedded"
    family = "embedded"
    label = "Tool-composed pointer: PP-OCRv4 text finder, else Lite0 CAM (ImageNet classes only)"
    version = "ocr-1"

    def __init__(self, entry=None, device: str = "cpu"):
        super().__init__(entry, device)
        self.ocr = get_registry().get("pp-ocrv4")
        self._fallback: Lite0CamPointer | None = None
        self._fb_lock = threading.Lock()

    @classmethod
    def check_available(cls, entry=None) -> tuple[bool, str]:
        ok, why = PPOCR.check_available(None)
        return (ok, why) if not ok else Lite0CamPointer.check_available(entry)

    @property
    def fallback(self) -> Lite0CamPointer:
        with self._fb_lock:
            if self._fallback is None:
                self._fallback = Lite0CamPointer(None, self.device)
            return self._fallback

    @staticmethod
    def targets(instruction: str) -> tuple[list[str], bool]:
        """Text the instruction names (quoted strings first), and whether it is about text at all."""
        quoted = re.findall(r"[\"“'‘]([^\"”'’]{1,60})[\"”'’]", instruction)
        words = set(re.findall(r"[a-z]+", instruction.lower()))
        about_text = bool(quoted) or bool(words & TEXT_WORDS)
        if quoted:
            return [q for q in quoted if _norm(q)], True
        single = re.findall(r"\b(?:letter|digit|number|character)\s+([A-Za-z0-9]{1,3})\b", instruction)
        if single:
            return single, True
        phrase = query_phrase(instruction, STOP | TEXT_WORDS)
        return [w for w in phrase.split() if len(_norm(w)) >= 2] or [], about_text

    def read(self, img: Image.Image):
        s = min(1.0, OCR_MAX_SIDE / max(img.size))
        work_size = (max(1, int(img.width * s)), max(1, int(img.height * s)))
        small = img if s >= 1.0 else img.resize(work_size, Image.Resampling.BILINEAR)
        return [(box / s, text, score) for box, text, score in self.ocr.read(small)]

    def _predict(self, img: Image.Image, instruction: str):
        targets, about_text = self.targets(instruction)
        lines = self.read(img)
        cands = []
        for box, text, conf in lines:
            line = _norm(text)
            if not line:
                continue
            left, right = (box[0] + box[3]) / 2, (box[1] + box[2]) / 2  # mid-points of the left/right edges
            area = float(abs(np.cross(box[1] - box[0], box[3] - box[0])))
            for t in targets:
                tn = _norm(t)
                pos = line.find(tn)
                if len(tn) <= 2:  # a single letter or digit must be a whole word, not part of one
                    words = [_norm(w) for w in re.findall(r"[0-9A-Za-z]+", text)]
                    if tn in words:
                        cands.append(Candidate(float(box.mean(axis=0)[0]), float(box.mean(axis=0)[1]),
                                               score=conf, area=area, label=text))
                    continue
                if pos >= 0:
                    sim, frac = 1.0, (pos + len(tn) / 2) / len(line)
                else:
                    sim = difflib.SequenceMatcher(None, tn, line).ratio()
                    frac = 0.5
                    for w in re.findall(r"[0-9A-Za-z]+", text):  # best single word in the line
                        r = difflib.SequenceMatcher(None, tn, _norm(w)).ratio()
                        if r > sim:
                            sim, frac = r, (line.find(_norm(w)) + len(_norm(w)) / 2) / len(line)
                if sim >= 0.75:
                    p = left + frac * (right - left)
                    cands.append(Candidate(float(p[0]), float(p[1]), score=sim * conf, area=area, label=text))
            if about_text and not targets:
                c = box.mean(axis=0)
                cands.append(Candidate(float(c[0]), float(c[1]), score=conf, area=area, label=text))
        info: dict[str, object] = {"ocr_lines": [t for _, t, _ in lines][:30], "targets": targets}
        if not cands:
            sub = self.fallback.point(img, instruction)
            info["fallback"] = "lite0-cam"
            if not sub.parse_ok:
                raise PointingError(sub.error or "fallback pointer failed", json.dumps(info),
                                    kind=sub.error_kind or "model")
            return json.dumps(info), sub.points
        pts = select(cands, instruction, img.width, img.height, min_rel_score=0.0)
        info["matched"] = sorted({c.label for c in cands})[:20]
        info["points"] = [[round(x, 1), round(y, 1)] for x, y in pts]
        return json.dumps(info), pts
