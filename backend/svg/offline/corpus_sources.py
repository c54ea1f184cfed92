"""Where each npm icon package keeps its SVGs and metadata, and what licence it carries.

Only permissively licensed sets are read (MIT / ISC / Apache-2.0); the licence is re-checked against the
installed package.json at build time so a future relicensing (remixicon >= 4.8 moved to a custom
non-permissive licence, so 4.6.0 is pinned) fails loudly instead of shipping. Brand/logo categories are
skipped where the metadata marks them (trademarks are not ours to redistribute as style exemplars).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class SourceIcon:
    set: str
    variant: str
    name: str  # file stem, unique within set/variant
    concept: str
    tags: list[str]
    path: Path
    licence: str
    source: str
    categories: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class IconSet:
    set: str
    package: str
    licences: tuple[str, ...]
    homepage: str
    attribution: str


SETS = {
    "tabler": IconSet("tabler", "@tabler/icons", ("MIT",), "https://tabler.io/icons", "Tabler Icons © Paweł Kuna, MIT"),
    "lucide": IconSet("lucide", "lucide-static", ("ISC",), "https://lucide.dev", "Lucide © Lucide Contributors, ISC"),
    "phosphor": IconSet("phosphor", "@phosphor-icons/core", ("MIT",), "https://phosphoricons.com",
                        "Phosphor Icons © Phosphor Icons, MIT"),
    "heroicons": IconSet("heroicons", "heroicons", ("MIT",), "https://heroicons.com",
                         "Heroicons © Tailwind Labs, MIT"),
    "remix": IconSet("remix", "remixicon", ("Apache-2.0",), "https://remixicon.com",
                     "Remix Icon 4.6.0 © Remix Design, Apache-2.0"),
    "ionicons": IconSet("ionicons", "ionicons", ("MIT",), "https://ionic.io/ionicons", "Ionicons © Ionic, MIT"),
    "bootstrap": IconSet("bootstrap", "bootstrap-icons", ("MIT",), "https://icons.getbootstrap.com",
                         "Bootstrap Icons © The Bootstrap Authors, MIT"),
    "mdi": IconSet("mdi", "@mdi/svg", ("Apache-2.0",), "https://pictogrammers.com/library/mdi/",
                   "Material Design Icons © Pictogrammers, Apache-2.0 (icons)"),
    "feather": IconSet("feather", "feather-icons", ("MIT",), "https://feathericons.com",
                       "Feather © Cole Bemis, MIT"),
}


def words(name: str) -> str:
    return re.sub(r"[-_]+", " ", name).strip()


def package_dir(npm_dir: Path, s: IconSet) -> Path:
    return npm_dir / "node_modules" / s.package


def check_licence(npm_dir: Path, s: IconSet) -> str:
    pj = package_dir(npm_dir, s) / "package.json"
    meta = json.loads(pj.read_text())
    lic = str(meta.get("license", ""))
    if lic not in s.licences:
        raise ValueError(f"{s.package} {meta.get('version')} declares licence {lic!r}, expected {s.licences}; "
                         "refusing to include it.")
    return f"{lic} ({s.package}@{meta.get('version')})"


def _tabler(d: Path, lic: str) -> Iterator[SourceIcon]:
    meta = json.loads((d / "icons.json").read_text())
    for variant in ("outline", "filled"):
        for f in sorted((d / "icons" / variant).glob("*.svg")):
            m = meta.get(f.stem, {})
            cat = m.get("category") or ""
            if cat.lower() == "brand" or f.stem.startswith("brand-"):
                continue
            yield SourceIcon("tabler", variant, f.stem, words(f.stem), [str(t) for t in m.get("tags", [])], f,
                             lic, SETS["tabler"].homepage, [cat] if cat else [])


def _lucide(d: Path, lic: str) -> Iterator[SourceIcon]:
    tags = json.loads((d / "tags.json").read_text())
    for f in sorted((d / "icons").glob("*.svg")):
        yield SourceIcon("lucide", "regular", f.stem, words(f.stem), list(tags.get(f.stem, [])), f, lic,
                         SETS["lucide"].homepage)


def _phosphor_meta(d: Path) -> dict[str, tuple[list[str], list[str]]]:
    js = (d / "dist" / "index.mjs").read_text()
    enum = dict(re.findall(r"i\.([A-Z_]+) = \"([^\"]+)\"", js.split("const n =")[0]))
    out = {}
    for block in re.findall(r"\{\s*name: \"([^\"]+)\",(.*?)\n  \}", js, flags=re.S):
        name, body = block
        cats = re.search(r"categories: \[([^\]]*)\]", body)
        tags = re.search(r"tags: \[([^\]]*)\]", body)
        cat_list = [enum.get(c.split(".")[-1].strip(), "") for c in cats.group(1).split(",")] if cats else []
        tag_list = re.findall(r"\"([^\"]+)\"", tags.group(1)) if tags else []
        out[name] = ([t for t in tag_list if not t.startswith("*")], [c for c in cat_list if c])
    return out


def _phosphor(d: Path, lic: str) -> Iterator[SourceIcon]:
    meta = _phosphor_meta(d)
    for weight in ("thin", "light", "regular", "bold", "fill", "duotone"):
        for f in sorted((d / "assets" / weight).glob("*.svg")):
            concept = f.stem if weight == "regular" else f.stem[: -len(weight) - 1]
            tags, cats = meta.get(concept, ([], []))
            if "brands" in cats:
                continue
            yield SourceIcon("phosphor", weight, concept, words(concept), tags, f, lic, SETS["phosphor"].homepage,
                             cats)


def _heroicons(d: Path, lic: str) -> Iterator[SourceIcon]:
    for sub, variant in (("24/outline", "outline"), ("24/solid", "solid"), ("20/solid", "mini"),
                         ("16/solid", "micro")):
        for f in sorted((d / sub).glob("*.svg")):
            yield SourceIcon("heroicons", variant, f.stem, words(f.stem), [], f, lic, SETS["heroicons"].homepage)


def _split_suffix(stem: str, suffixes: dict[str, str], default: str) -> tuple[str, str]:
    for suf, variant in suffixes.items():
        if stem.endswith("-" + suf):
            return stem[: -len(suf) - 1], variant
    return stem, default


def _remix(d: Path, lic: str) -> Iterator[SourceIcon]:
    for cat_dir in sorted((d / "icons").iterdir()):
        if not cat_dir.is_dir() or cat_dir.name.lower() == "logos":
            continue
        for f in sorted(cat_dir.glob("*.svg")):
            concept, variant = _split_suffix(f.stem, {"fill": "fill", "line": "line"}, "line")
            yield SourceIcon("remix", variant, f.stem, words(concept), [], f, lic, SETS["remix"].homepage,
                             [cat_dir.name])


def _ionicons(d: Path, lic: str) -> Iterator[SourceIcon]:
    meta = {m["name"]: m.get("tags", []) for m in json.loads((d / "dist" / "ionicons.json").read_text())["icons"]}
    for f in sorted((d / "dist" / "svg").glob("*.svg")):
        if f.stem.startswith("logo-"):
            continue
        concept, variant = _split_suffix(f.stem, {"outline": "outline", "sharp": "sharp"}, "filled")
        tags = [t for t in meta.get(f.stem, []) if t not in ("outline", "sharp")]
        yield SourceIcon("ionicons", variant, f.stem, words(concept), tags, f, lic, SETS["ionicons"].homepage)


def _bootstrap(d: Path, lic: str) -> Iterator[SourceIcon]:
    for f in sorted((d / "icons").glob("*.svg")):
        concept, variant = _split_suffix(f.stem, {"fill": "fill"}, "regular")
        yield SourceIcon("bootstrap", variant, f.stem, words(concept), [], f, lic, SETS["bootstrap"].homepage)


def _mdi(d: Path, lic: str) -> Iterator[SourceIcon]:
    meta = {m["name"]: m for m in json.loads((d / "meta.json").read_text())}
    for f in sorted((d / "svg").glob("*.svg")):
        m = meta.get(f.stem, {})
        cats = [str(t) for t in m.get("tags", [])]
        if m.get("deprecated") or any("brand" in c.lower() or "logo" in c.lower() for c in cats):
            continue
        concept, variant = _split_suffix(f.stem, {"outline": "outline"}, "filled")
        tags = [words(a) for a in m.get("aliases", [])]
        yield SourceIcon("mdi", variant, f.stem, words(concept), tags, f, lic, SETS["mdi"].homepage, cats)


def _feather(d: Path, lic: str) -> Iterator[SourceIcon]:
    for f in sorted((d / "dist" / "icons").glob("*.svg")):
        yield SourceIcon("feather", "regular", f.stem, words(f.stem), [], f, lic, SETS["feather"].homepage)


READERS = {"tabler": _tabler, "lucide": _lucide, "phosphor": _phosphor, "heroicons": _heroicons, "remix": _remix,
           "ionicons": _ionicons, "bootstrap": _bootstrap, "mdi": _mdi, "feather": _feather}


def iter_sources(npm_dir: Path, sets: list[str] | None = None) -> Iterator[SourceIcon]:
    """Every icon of every installed, licence-checked set (missing packages are skipped with a note)."""
    for name in sets or list(SETS):
        s = SETS[name]
        d = package_dir(npm_dir, s)
        if not d.exists():
            print(f"[corpus] {s.package} is not installed under {npm_dir}; skipping {name}")
            continue
        lic = check_licence(npm_dir, s)
        yield from READERS[name](d, lic)
