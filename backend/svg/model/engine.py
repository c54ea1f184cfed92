"""The learned generator as a studio engine (registry capability "svg-engine", name "svg-pathdiffusion").

StyleSpec handling (see backend.svg.engines):
    "set/variant"            -> that style's trained token; the output is left as the model drew it
    "library:<id>"           -> a few-shot token from the style library, then its style card is applied
    StyleCard (exemplars)    -> the "any style" token, then the card is applied (attributes only)
    None / ""                -> the "any style" token, no card
Every candidate goes through `finish_candidate` (sanitiser gate, render, copying check, metrics) like the
retrieval engine's, so the studio shows the same fields for both. The engine never silently falls back to
retrieval: if the checkpoint is missing it is reported unavailable with the command that makes it.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import threading
from functools import lru_cache
from pathlib import Path

from backend.config import REPO_ROOT
from backend.svg.engines import check_request, finish_candidate
from backend.svg.extent import fit_note, fit_viewbox
from backend.svg.model.generator import PathDiffusionGenerator
from backend.svg.model.library import load_library_style
from backend.svg.paths import parse_svg_paths, paths_to_svg
from backend.svg.style import StyleCard, apply_style, extract_style

DEFAULT_CKPT = REPO_ROOT / "static" / "svg" / "model" / "svgdit.pt"
SAMPLER_DEFAULTS = {"steps": 10, "guidance": 1.5}  # as models.toml (bench/results/svg_sampler_decision.json)


def measured_summary(report: Path | None = None) -> str:
    """The generator's measured figures beside its untrained floor, from the committed evaluation report
    (static/svg/eval/legibility_report.json), for the engine label the studio shows."""
    p = report or REPO_ROOT / "static" / "svg" / "eval" / "legibility_report.json"
    try:
        s = json.loads(p.read_text())["summary"]
        g, f = s["learned generator"]["all"], s["generator, untrained"]["all"]
    except (OSError, ValueError, KeyError):
        return ""
    return (f"; measured: concept top-5 {g['concept_top5']:.0%} (untrained network {f['concept_top5']:.0%}), "
            f"target style {g['style_acc']:.0%} (untrained {f['style_acc']:.0%})")


@lru_cache(maxsize=8)
def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _ckpt_path(entry) -> Path:
    opt = (entry.options if entry is not None else {}) or {}
    p = Path(opt.get("checkpoint") or DEFAULT_CKPT)
    return p if p.is_absolute() else REPO_ROOT / p


class PathDiffusionEngine:
    name = "svg-pathdiffusion"
    kind = "embedded"
    novelty = ("Experimental: its concept and style accuracy stay far below retrieval + restyle (figures in the "
               "engine label and static/svg/eval/legibility_report.json). Draws new path sets from noise (no corpus "
               "icon is copied), so it can produce concepts and "
               "style/concept pairs the corpus lacks; shapes are simple and often rough — check the nearest-icon "
               "similarity and the evaluation report.")

    def __init__(self, entry=None, device: str = "cpu"):
        opt = (entry.options if entry is not None else {}) or {}
        self.device = device if device.startswith("cuda") else "cpu"
        self.path = _ckpt_path(entry)
        self.gen = PathDiffusionGenerator(self.path, self.device, threads=opt.get("threads"))
        self.steps = int(opt.get("steps", SAMPLER_DEFAULTS["steps"]))
        self.guidance = float(opt.get("guidance", SAMPLER_DEFAULTS["guidance"]))
        info = self.gen.train_info
        base = (entry.label if entry is not None and entry.label else
                f"Path diffusion (IconDiT-S, {self.gen.n_params / 1e6:.1f} M params)")
        self.label = (f"EXPERIMENTAL — {base} — trained on {info.get('device', '?')} for {info.get('minutes', '?')} "
                      f"min, {info.get('steps', '?')} steps" + measured_summary())
        self.model_sha = file_sha256(str(self.path))
        self._lock = threading.Lock()

    @staticmethod
    def label_note(label: str) -> str:
        """Experimental: the studio shows its measured figures beside its name."""
        return f"EXPERIMENTAL — {label}{measured_summary()}"

    @classmethod
    def check_available(cls, entry=None) -> tuple[bool, str]:
        p = _ckpt_path(entry)
        if not p.exists():
            return False, f"checkpoint missing at {p} (python -m backend.svg.offline.train … --out {p.parent})"
        if importlib.util.find_spec("torch") is None:
            return False, "torch is not installed"
        return True, f"checkpoint {p.name} ({p.stat().st_size / 1e6:.1f} MB)"

    @property
    def styles(self) -> list[str]:
        return self.gen.styles[1:]

    def _resolve(self, style):
        """-> (style name for the token or None, style vector or None, card to apply or None, label)."""
        if style is None or style == "":
            return None, None, None, "any style"
        if isinstance(style, StyleCard):
            if style.name in self.gen.styles:
                return style.name, None, None, style.name
            style.validate()
            return None, None, style, style.source or style.name
        style = str(style)
        if style.startswith("library:"):
            row = load_library_style(int(style.split(":", 1)[1]), self.model_sha)
            card = StyleCard.from_dict(row["card"]) if row.get("card") else None
            return None, row["token"], card, f"library style “{row['name']}”"
        self.gen.style_index(style)  # raises ValueError for unknown styles
        return style, None, None, style

    def generate(self, prompt: str, style=None, n: int = 4, seed: int = 0, steps: int | None = None,
                 guidance: float | None = None) -> list:
        prompt = check_request(prompt, n)
        name, vec, card, label = self._resolve(style)
        samples = self.gen.generate(prompt, n=int(n), seed=int(seed), style=name, style_vec=vec,
                                    steps=int(steps or self.steps), guidance=float(guidance or self.guidance))
        out = []
        for i, s in enumerate(samples):
            svg, notes = s.svg, [f"sampled: DDIM {steps or self.steps} steps, guidance {guidance or self.guidance}, "
                                 f"seed {seed}, #{i + 1}; {s.n_paths} path(s)"]
            if card is not None:
                svg, changed = self._apply_card(svg, card)
                notes.append(f"style card “{card.name}” applied ({card.summary()})")
                notes += [f"Legibility: {c}." for c in changed]
            else:
                svg, fitted = self._inside_viewbox(svg)
                notes += [fitted] if fitted else []
            out.append(finish_candidate(svg, engine=self.name, prompt=prompt, style=label, concept=prompt,
                                        notes=notes))
        return out

    @staticmethod
    def _inside_viewbox(svg: str) -> tuple[str, str | None]:
        """The sample with everything it paints inside the viewBox (extent.fit_viewbox), and the note saying how."""
        paths, grid = parse_svg_paths(svg)
        if not paths:
            return svg, None
        said = fit_note(*fit_viewbox(paths, grid), grid)
        return (paths_to_svg(paths, grid=grid) if said else svg), said

    @staticmethod
    def _apply_card(svg: str, card) -> tuple[str, list[str]]:
        paths, _ = parse_svg_paths(svg)
        if not paths:
            return svg, []
        notes: list[str] = []
        try:
            out = apply_style(paths, card, extract_style([paths]), adapt=True, notes=notes)
            return paths_to_svg(out, grid=card.grid), notes
        except ValueError:
            return svg, []  # a card that cannot apply to this shape leaves the model's drawing unchanged
