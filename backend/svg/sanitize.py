"""The one SVG sanitiser: every SVG that enters (uploads, exemplars, corpus) or leaves (generated) passes here.

Why rebuild instead of filter: the output is *re-serialised* from an allowlist (elements, attributes and a
value grammar per attribute), so anything the parser saw but we did not explicitly allow simply does not
exist in the result. That closes script, foreignObject, on* handlers, external / javascript: hrefs, CSS
with url(), <style> blocks, entities and DTDs (defusedxml refuses them), without having to enumerate
attacks. Size limits (bytes, elements, path commands, nesting) bound the work done on hostile inputs.

API: `sanitize_svg(data, limits=Limits()) -> str` (raises `SVGInputError`, a ValueError whose message is a
user-facing sentence) and `is_safe_svg(text) -> bool` (a post-condition check used by tests and the
generator's output gate).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape, quoteattr

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from backend.errors import UserError

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"


class SVGInputError(UserError):
    """The SVG cannot be used; the message says why in one sentence."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 1_000_000
    max_elements: int = 3_000
    max_path_commands: int = 40_000
    max_depth: int = 24


ELEMENTS = {"svg", "g", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "defs",
            "linearGradient", "radialGradient", "stop", "clipPath", "title", "desc"}
DROP_SILENTLY = {"metadata", "style", "script", "foreignObject", "a", "image", "use", "iframe", "animate", "set",
                 "animateTransform", "animateMotion", "filter", "mask", "pattern", "symbol", "text", "switch"}

_NUM_LIST = re.compile(r"^[0-9eE.,+\-\s%a-z]{0,2000}$")
_NUM = re.compile(r"^[+\-]?[0-9.]{1,20}(e[+\-]?\d{1,3})?(px|pt|%|em)?$", re.I)
_PAINT = re.compile(r"^(none|currentColor|transparent|#[0-9a-fA-F]{3,8}|[a-zA-Z]{1,30}|"
                    r"rgba?\(\s*[0-9.%]+\s*,\s*[0-9.%]+\s*,\s*[0-9.%]+\s*(,\s*[0-9.%]+\s*)?\)|"
                    r"url\(#[A-Za-z_][\w.\-]{0,63}\))$")
_URL_ONLY = re.compile(r"^url\(#[A-Za-z_][\w.\-]{0,63}\)$")
_PATH_D = re.compile(r"^[MmLlHhVvCcSsQqTtAaZz0-9eE.,+\-\s]*$")
_TRANSFORM = re.compile(r"^((matrix|translate|scale|rotate|skewX|skewY)\s*\([0-9eE.,+\-\s]{0,200}\)[\s,]*){0,16}$")
_ENUM = re.compile(r"^[a-zA-Z\-]{1,24}$")
_ID = re.compile(r"^[A-Za-z_][\w.\-]{0,63}$")
_HREF = re.compile(r"^#[A-Za-z_][\w.\-]{0,63}$")
_PATH_CMD = re.compile(r"[MmLlHhVvCcSsQqTtAaZz]")

# attribute -> validator. Anything not listed is dropped.
_GEOM = ("x", "y", "width", "height", "rx", "ry", "cx", "cy", "r", "x1", "y1", "x2", "y2", "fx", "fy", "offset")
ATTRS: dict[str, re.Pattern] = {
    **{a: _NUM for a in _GEOM},
    "viewBox": _NUM_LIST, "points": _NUM_LIST, "stroke-dasharray": _NUM_LIST,
    "d": _PATH_D, "transform": _TRANSFORM, "gradientTransform": _TRANSFORM,
    "fill": _PAINT, "stroke": _PAINT, "stop-color": _PAINT, "color": _PAINT,
    "clip-path": _URL_ONLY,
    "stroke-width": _NUM, "stroke-miterlimit": _NUM, "stroke-dashoffset": _NUM, "opacity": _NUM,
    "fill-opacity": _NUM, "stroke-opacity": _NUM, "stop-opacity": _NUM,
    "fill-rule": _ENUM, "clip-rule": _ENUM, "stroke-linecap": _ENUM, "stroke-linejoin": _ENUM,
    "gradientUnits": _ENUM, "clipPathUnits": _ENUM, "preserveAspectRatio": re.compile(r"^[a-zA-Z\s]{1,40}$"),
    "id": _ID, "href": _HREF, "version": re.compile(r"^[0-9.]{1,6}$"),
    "display": _ENUM, "visibility": _ENUM,
}
STYLE_PROPS = {"fill", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin", "stroke-miterlimit",
               "fill-rule", "clip-rule", "opacity", "fill-opacity", "stroke-opacity", "stop-color", "stop-opacity",
               "stroke-dasharray", "stroke-dashoffset", "display", "visibility"}
ATTR_ORDER = ["id", "viewBox", "width", "height", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry",
              "fx", "fy", "offset", "points", "d", "transform"]


def _local(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        return ns, name
    return "", tag


def _style_pairs(style: str) -> list[tuple[str, str]]:
    out = []
    for decl in style.split(";"):
        if ":" not in decl:
            continue
        k, _, v = decl.partition(":")
        out.append((k.strip().lower(), v.strip()))
    return out


def _clean_attrs(el: Element) -> dict[str, str]:
    raw: dict[str, str] = {}
    for k, v in el.attrib.items():
        ns, name = _local(k)
        if ns == XLINK_NS and name == "href":
            name = "href"
        elif ns:
            continue
        raw[name] = v
    # Presentation properties from style="" become attributes (style itself is never emitted).
    for k, v in _style_pairs(raw.pop("style", "")):
        if k in STYLE_PROPS:
            raw.setdefault(k, v)
    out = {}
    for name, value in raw.items():
        check = ATTRS.get(name)
        if check is None:
            continue
        value = value.strip()
        limit = 200_000 if name in ("d", "points") else 2_000
        if len(value) > limit or not check.match(value):
            continue
        if name == "href" and _local(el.tag)[1] not in ("linearGradient", "radialGradient"):
            continue
        out[name] = value
    return out


def _serialise(el: Element, depth: int, counter: list[int], limits: Limits) -> str:
    ns, name = _local(el.tag)
    if ns not in ("", SVG_NS) or name not in ELEMENTS:
        return ""
    counter[0] += 1
    if counter[0] > limits.max_elements:
        raise SVGInputError(f"This SVG has more than {limits.max_elements} elements; icons need far fewer.")
    if depth > limits.max_depth:
        raise SVGInputError(f"This SVG is nested more than {limits.max_depth} levels deep.")
    attrs = _clean_attrs(el)
    if "d" in attrs:
        counter[1] += len(_PATH_CMD.findall(attrs["d"]))
        if counter[1] > limits.max_path_commands:
            raise SVGInputError(f"This SVG has more than {limits.max_path_commands} path commands.")
    keys = sorted(attrs, key=lambda a: (ATTR_ORDER.index(a) if a in ATTR_ORDER else len(ATTR_ORDER), a))
    head = name + (f' xmlns="{SVG_NS}"' if name == "svg" and depth == 0 else "")
    head += "".join(f" {k}={quoteattr(attrs[k])}" for k in keys)
    if name in ("title", "desc"):
        text = (el.text or "").strip()[:200]
        return f"<{head}>{escape(text)}</{name}>" if text else ""
    body = "".join(_serialise(child, depth + 1, counter, limits) for child in list(el))
    return f"<{head}>{body}</{name}>" if body else f"<{head}/>"


def _ensure_viewbox(root: Element) -> None:
    if root.get("viewBox"):
        parts = re.split(r"[\s,]+", root.get("viewBox", "").strip())
        try:
            vals = [float(p) for p in parts]
        except ValueError:
            vals = []
        if len(vals) == 4 and vals[2] > 0 and vals[3] > 0:
            return
    try:
        w = float(re.sub(r"(px|pt)$", "", root.get("width", "")))
        h = float(re.sub(r"(px|pt)$", "", root.get("height", "")))
    except ValueError:
        raise SVGInputError("This SVG has no usable viewBox or width/height, so its size is unknown.") from None
    if w <= 0 or h <= 0:
        raise SVGInputError("This SVG has a zero or negative size.")
    root.set("viewBox", f"0 0 {w:g} {h:g}")


def sanitize_svg(data: str | bytes, limits: Limits = Limits()) -> str:
    """Return a safe, re-serialised SVG string, or raise SVGInputError with a clear sentence."""
    if data is None:
        raise SVGInputError("No SVG was given.")
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if not raw.strip():
        raise SVGInputError("The SVG is empty.")
    if len(raw) > limits.max_bytes:
        raise SVGInputError(f"This SVG is {len(raw) / 1e6:.1f} MB; the limit is {limits.max_bytes / 1e6:.1f} MB.")
    if raw[:8].startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"RIFF", b"BM")):
        raise SVGInputError("This file is a raster image, not an SVG (trace it to vectors first).")
    try:
        root = DET.fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise SVGInputError("This SVG declares a DTD or entities, which are not allowed.") from None
    except (ParseError, ValueError, UnicodeDecodeError) as exc:
        raise SVGInputError(f"This is not well-formed SVG/XML ({str(exc)[:80]}).") from None
    ns, name = _local(root.tag)
    if name != "svg" or ns not in ("", SVG_NS):
        raise SVGInputError("The file's root element is not <svg>.")
    _ensure_viewbox(root)
    return _serialise(root, 0, [0, 0], limits)


_BAD = re.compile(r"<\s*(script|foreignObject|style|image|use|a|iframe)\b|\son\w+\s*=|javascript:|data:|"
                  r"url\((?!#)|<!ENTITY|<!DOCTYPE|@import|expression\(", re.I)


def is_safe_svg(text: str) -> bool:
    """Post-condition: nothing executable or external survives (used by tests and the output gate)."""
    return isinstance(text, str) and text.startswith("<svg") and _BAD.search(text) is None
