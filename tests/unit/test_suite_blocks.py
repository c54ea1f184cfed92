"""apps.suite_blocks relies on two things in Gradio's Blocks; a Gradio upgrade that changes them fails here first
(the API tests in tests/api/test_review15_api.py would then only say the sentence changed)."""
from __future__ import annotations

import inspect

import gradio as gr
from gradio.blocks import Blocks

from apps.suite_blocks import SuiteBlocks, _failed_input, _takes


def test_the_overridden_methods_keep_their_signatures():
    pre = list(inspect.signature(Blocks.preprocess_data).parameters)
    post = list(inspect.signature(Blocks.postprocess_data).parameters)
    assert pre == ["self", "block_fn", "inputs", "state", "explicit_call"]
    assert post == ["self", "block_fn", "predictions", "state"]
    assert inspect.iscoroutinefunction(Blocks.preprocess_data) and inspect.iscoroutinefunction(SuiteBlocks.preprocess_data)
    call = list(inspect.signature(Blocks.call_function).parameters)
    assert call[:3] == ["self", "block_fn", "processed_input"]
    assert inspect.iscoroutinefunction(Blocks.call_function) and inspect.iscoroutinefunction(SuiteBlocks.call_function)


def test_the_failed_input_is_found_from_the_loop_variables():
    """`_failed_input` reads `i` and `block` of Blocks.preprocess_data's frame: they must still be its loop names."""
    names = Blocks.preprocess_data.__code__.co_varnames
    assert "i" in names and "block" in names
    try:
        raise ValueError("not from Gradio")
    except ValueError as exc:
        assert _failed_input(exc) is None


def test_what_each_input_takes_is_said_in_words():
    assert _takes(gr.Slider(0, 1)) == "a number from 0 to 1"
    assert _takes(gr.Number(minimum=0, maximum=2**31 - 1)) == "a number from 0 to 2147483647"
    assert _takes(gr.Slider(-0.5, 2.25)) == "a number from -0.5 to 2.25"
    assert _takes(gr.Dropdown(choices=[("Shown", "sent"), ("B", "b")])) == "one of: “sent”, “b”"
    assert _takes(gr.Checkbox()) == "true or false"
    assert _takes(gr.Number(minimum=0.01)) == "a number ≥ 0.01" and _takes(gr.Number()) == "a number"
    many = _takes(gr.Radio(choices=[str(i) for i in range(12)]))
    assert many.endswith("(and 4 more)") and "“7”" in many and "“8”" not in many


def test_the_value_sent_is_shown_short_and_inert():
    from apps.suite_blocks import _got

    shown = _got(["<img src=x onerror=alert(1)>\u202e" + "y" * 100], 0)
    assert shown.startswith("; got ") and "<img" not in shown and "&lt;img" in shown and "\u202e" not in shown
    assert shown.endswith("…") and len(shown) < 80
    assert _got([], 3) == ""



def test_pre_and_postprocessing_errors_become_our_sentence():
    """Without a server: a Slider given a dict, a Dropdown given an unknown value, and an Image output given 5.

    The coroutines run on a thread of their own: in the full suite the browser tests' Playwright (sync API) keeps an
    event loop running on the main thread, where asyncio.run() refuses to start."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    import pytest

    def run(coro):
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, coro).result()

    with SuiteBlocks() as demo:
        s = gr.Slider(0, 10, label="Strength")
        d = gr.Dropdown(["a", "b"], value="a", label="Mode")
        out = gr.Image(label="Result")
        gr.Button().click(lambda x, y: 5, [s, d], out, api_name="thing")
    fn = next(iter(demo.fns.values()))
    with pytest.raises(gr.Error) as ei:
        run(demo.preprocess_data(fn, [{"x": 1}, "a"], None))
    assert ei.value.message.startswith("“Strength” takes a number from 0 to 10 (input 1 of thing, a slider; got")
    assert getattr(ei.value, "ref", None) and "(ref " in ei.value.message
    with pytest.raises(gr.Error) as ei:
        run(demo.preprocess_data(fn, [3, "zzz"], None))
    assert "“Mode” takes one of: “a”, “b” (input 2 of thing, a dropdown; got \"zzz\")" in ei.value.message
    with pytest.raises(gr.Error) as ei:
        run(demo.postprocess_data(fn, [5], None))
    assert ei.value.message.startswith("Something went wrong while showing the result (ValueError)")
    assert "Cannot process" not in ei.value.message
