"""gr.Blocks whose own input checks speak like the rest of the app: a sentence, a ref id and one log line.

A script can send any JSON for an input (the browser never does). Gradio checks those values itself, before any app
code runs, and answered with its internals: "Could not preprocess input component at index 4 (a `slider`
component) of the event handler (named "edit3d_refine") with input components: [image, textbox, …]", a pydantic
"1 validation error for EditorData … https://errors.pydantic.dev/…", or "Value: x (type: <class 'int'>) is not in
the list of choices: […]", with no ref id, and for some a traceback on stderr.

`SuiteBlocks` overrides `Blocks.preprocess_data` (the one method every queued and /call request goes through, and
that Gradio's own subclasses leave alone; gradio is pinned in requirements.txt and
tests/unit/test_suite_blocks.py checks the signature): any error from it that is not already ours becomes
"“Yaw (°)” takes a number from -180 to 180 (input 6 of edit3d_refine, a slider). (…) (ref …)", and the detail
goes to the log under the same ref. NaN and ±Infinity (which Python's JSON parser accepts and Gradio's range check
lets through) are refused the same way, before Gradio's own checks. Errors raised in postprocessing (our bug, never the client's) get the generic
sentence.
"""
from __future__ import annotations

import html
import json
import math
import types
from typing import Any

import gradio as gr
from gradio.blocks import Blocks

from apps.common import _INVISIBLE, user_error

_SCRIPT = "(From a script: the app's “Use via API” page lists every input's type.)"


_KINDS = {"FileImage": "image", "CheckedImageEditor": "image editor", "ImageEditor": "image editor",
          "CheckedFile": "file", "CheckboxGroup": "checkbox group"}


def _kind(block: Any) -> str:
    name = type(block).__name__
    word = _KINDS.get(name, name.lower())
    return ("an " if word[0] in "aeiou" else "a ") + word


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _takes(block: Any) -> str:
    """What the input takes, in words (choices are the app's own labels, never the client's value)."""
    if isinstance(block, (gr.Dropdown, gr.Radio, gr.CheckboxGroup)):
        # the values a script sends (the browser shows the labels)
        shown = [str(c[1] if isinstance(c, (tuple, list)) else c) for c in (block.choices or [])]
        more = f" (and {len(shown) - 8} more)" if len(shown) > 8 else ""
        one = "any of" if isinstance(block, gr.CheckboxGroup) else "one of"
        return f"{one}: " + ", ".join(f"“{s}”" for s in shown[:8]) + more
    if isinstance(block, (gr.Slider, gr.Number)):
        lo, hi = getattr(block, "minimum", None), getattr(block, "maximum", None)
        has_lo, has_hi = isinstance(lo, (int, float)), isinstance(hi, (int, float))
        if has_lo and has_hi:
            return f"a number from {_num(lo)} to {_num(hi)}"
        return f"a number ≥ {_num(lo)}" if has_lo else f"a number ≤ {_num(hi)}" if has_hi else "a number"
    if isinstance(block, gr.Checkbox):
        return "true or false"
    if isinstance(block, (gr.Image, gr.ImageEditor, gr.File, gr.Model3D)):
        return "an uploaded file (the Python client: handle_file(path))"
    if isinstance(block, gr.Textbox):
        return "text"
    return "a value of its own type"


def _got(inputs: list[Any], i: int) -> str:
    """`; got …`: the value sent, short and inert (a toast renders HTML)."""
    if i >= len(inputs):
        return ""
    try:
        text = json.dumps(inputs[i], ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = type(inputs[i]).__name__
    text = " ".join(_INVISIBLE.sub("", text).split())
    return "; got " + html.escape(text[:40] + ("…" if len(text) > 40 else ""), quote=False)


def _failed_input(exc: BaseException) -> tuple[int, Any] | None:
    """(index, component) of the input Gradio was preprocessing when `exc` was raised: the loop variables of the
    Blocks.preprocess_data frame in the traceback (None when the failure came before the loop)."""
    tb: types.TracebackType | None = exc.__traceback__
    code = Blocks.preprocess_data.__code__
    while tb is not None:
        if tb.tb_frame.f_code is code:
            loc = tb.tb_frame.f_locals
            if isinstance(loc.get("i"), int) and "block" in loc:
                return loc["i"], loc["block"]
        tb = tb.tb_next
    return None


def _non_finite(value: Any) -> bool:
    """NaN or ±Infinity anywhere in a client value (Python's JSON parser takes the bare words `NaN`, `Infinity`)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, float) and not math.isfinite(v):
            return True
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


def non_finite_input(block_fn: Any, inputs: list[Any]) -> gr.Error | None:
    """Our sentence for the first input that holds NaN or ±Infinity, else None. Gradio's range check lets NaN
    through (every comparison with NaN is false): a NaN line weight was drawn and stored, a NaN mask growth reached
    OpenCV; an unbounded gr.Number took Infinity."""
    for i, block in enumerate(getattr(block_fn, "inputs", []) or []):
        if i < len(inputs) and _non_finite(inputs[i]):
            return input_error(block_fn, inputs, ValueError(f"non-finite number in input {i + 1}"), (i, block))
    return None


def input_error(block_fn: Any, inputs: list[Any], exc: BaseException,
                failed: tuple[int, Any] | None = None) -> gr.Error:
    """Our sentence (with a ref id, detail logged) for a value Gradio could not take for one of `block_fn`'s inputs
    (`failed`: the input's index and component, when known; else read from the traceback)."""
    name = block_fn.api_name if isinstance(getattr(block_fn, "api_name", None), str) else "this action"
    wanted = len(getattr(block_fn, "inputs", []) or [])
    failed = failed or _failed_input(exc)
    if failed is None and len(inputs) < wanted:
        msg = f"{name} takes {wanted} input values; this request sent {len(inputs)}. {_SCRIPT}"
    elif failed is None:
        msg = f"The values sent to {name} could not be read. {_SCRIPT}"
    else:
        i, block = failed
        label = " ".join(str(getattr(block, "label", None) or "").split())[:60]
        where = f"input {i + 1} of {name}, {_kind(block)}{_got(inputs, i)}"
        msg = (f"“{label}” takes {_takes(block)} ({where}). " if label else
               f"Input {i + 1} of {name} ({_kind(block)}) takes {_takes(block)}. ") + _SCRIPT
    return user_error(msg, action=f"input of {name}", cause=exc)


def _output_error(block_fn: Any, exc: BaseException) -> gr.Error:
    kind = type(exc.__cause__ or exc).__name__  # Gradio wraps the real error in ComponentProcessingError
    return user_error(f"Something went wrong while showing the result ({kind}); reload the page to "
                      "see what was kept.", action=f"output of {getattr(block_fn, 'name', '?')}", cause=exc)


class SuiteBlocks(gr.Blocks):
    """gr.Blocks with Gradio's input and output processing errors turned into our sentence (see module doc)."""

    async def preprocess_data(self, block_fn, inputs, state, explicit_call=False):
        refused = non_finite_input(block_fn, inputs or [])
        if refused is not None:
            raise refused
        try:
            return await super().preprocess_data(block_fn, inputs, state, explicit_call)
        except gr.Error as exc:
            if getattr(exc, "ref", None):  # already ours (e.g. a refused upload): keep its sentence
                raise
            raise input_error(block_fn, inputs, exc) from None
        except Exception as exc:
            raise input_error(block_fn, inputs, exc) from None

    async def call_function(self, block_fn, processed_input, *args, **kwargs):
        """Gradio's own event functions (gr.Examples' `load_example`, …) are not wrapped in `user_errors`: a bad
        value from a script ended in Python's words ("cannot unpack non-iterable NoneType object"), no ref."""
        try:
            return await super().call_function(block_fn, processed_input, *args, **kwargs)
        except gr.Error:
            raise
        except Exception as exc:
            fn = self.fns.get(block_fn) if isinstance(block_fn, int) else block_fn
            raise user_error(f"Something went wrong ({type(exc).__name__}). Nothing was saved from this step; "
                             "please try again.", action=getattr(fn, "name", "?"), cause=exc) from None

    async def postprocess_data(self, block_fn, predictions, state):
        try:
            return await super().postprocess_data(block_fn, predictions, state)
        except gr.Error as exc:
            if getattr(exc, "ref", None):
                raise
            raise _output_error(block_fn, exc) from None
        except Exception as exc:
            raise _output_error(block_fn, exc) from None
