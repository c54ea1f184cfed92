() => {
  // Image inputs (apps.common.image_input / editor_input, class "checked-image") send to the server's hidden
  // image check (apps/image_check.py) every file that would otherwise never reach it, and the server answers with
  // the sentence every tab gives a bad image (ref id, one log line):
  //  - a file whose type is not image/*: Gradio refused it in the browser in its own words ("Invalid file type …",
  //    no ref, no log line);
  //  - a file the image editor cannot draw (text renamed .png, a truncated PNG, SVG named .png): the editor
  //    dropped it without a word and blanked the picture it had.
  // Either way the input keeps what it had. A file the editor can draw is handed on to it unchanged, once the
  // editor is ready for it: the editor ignored a file that came before its blank canvas was set up (a quick drop
  // right after the section opened showed nothing); it is held until the canvas's zoom read-out is there.
  //  - "Paste from clipboard" with no image on the clipboard (text, say): Gradio did nothing at all. The clipboard's
  //    content goes to the image check like any refused file. Ctrl+V with files over an image input is taken as
  //    a drop (Gradio ignored paste events), so a pasted file gets the same checks as a dropped one; after
  //    "Paste from clipboard" too, when gr.Image has no file input (the drop goes to its upload area).
  const passing = new WeakSet();  // events this script re-sends: let them through
  const transfer = (files) => {
    const dt = new DataTransfer();
    for (const f of files) dt.items.add(f);
    return dt;
  };
  const send = (file) => {
    const input = document.querySelector("#image-check input[type=file]");
    if (!input) return;
    input.files = transfer([file]).files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  };
  // createImageBitmap, like the editor's canvas library, refuses a truncated PNG that an <img> would show in
  // part; it cannot take SVG at all, so an SVG is tried as an <img>.
  const drawable = (file) => file.type === "image/svg+xml" ? new Promise((resolve) => {
    const url = URL.createObjectURL(file);
    const img = new Image();
    img.onload = () => { URL.revokeObjectURL(url); resolve(true); };
    img.onerror = () => { URL.revokeObjectURL(url); resolve(false); };
    img.src = url;
  }) : createImageBitmap(file).then((bmp) => { bmp.close(); return true; }, () => false);
  const EDITOR_WAIT_MS = 30000;
  const editorReady = (block) => {
    const zoom = block.querySelector(".zoom-number");
    return !!(zoom && zoom.innerText.trim());
  };
  const whenReady = (block) => new Promise((resolve) => {
    if (editorReady(block)) { resolve(); return; }
    const start = Date.now();
    const timer = setInterval(() => {
      if (editorReady(block) || Date.now() - start > EDITOR_WAIT_MS) { clearInterval(timer); resolve(); }
    }, 100);
  });
  const handle = (ev, files) => {
    if (passing.has(ev)) return;
    const block = ev.target instanceof Element ? ev.target.closest(".checked-image") : null;
    if (!block || !files || !files.length) return;
    const list = Array.from(files);
    const image = (list[0].type || "").startsWith("image/");
    const editor = block.classList.contains("checked-editor");
    if (image && !editor) return;  // gr.Image takes it; the server opens it when it is used
    ev.preventDefault();
    ev.stopImmediatePropagation();
    const target = ev.target;
    const refuse = () => {
      if (ev.type === "change") target.value = "";  // choosing the same file again fires change again
      send(list[0]);
    };
    if (!image) { refuse(); return; }
    drawable(list[0]).then((ok) => ok ? whenReady(block).then(() => true) : false).then((ok) => {
      if (!ok) { refuse(); return; }
      let again;
      if (ev.type === "change") {
        target.files = transfer(list).files;
        again = new Event("change", { bubbles: true });
      } else {
        again = new DragEvent("drop", { bubbles: true, cancelable: true, dataTransfer: transfer(list) });
      }
      passing.add(again);
      target.dispatchEvent(again);
    });
  };
  document.addEventListener("change", (ev) => {
    if (ev.target instanceof HTMLInputElement && ev.target.type === "file") handle(ev, ev.target.files);
  }, true);
  document.addEventListener("drop", (ev) => handle(ev, ev.dataTransfer && ev.dataTransfer.files), true);
  document.addEventListener("paste", (ev) => {
    const block = ev.target instanceof Element ? ev.target.closest(".checked-image") : null;
    const files = ev.clipboardData && ev.clipboardData.files;
    if (!block || !files || !files.length) return;
    ev.preventDefault();
    // after "Paste from clipboard", gr.Image has no file input (its clipboard mode): its upload container still
    // takes a drop, and switches the input back to upload
    const input = block.querySelector("input[type=file]");
    const target = input ? input.parentElement : (block.querySelector(".upload-container") || block);
    target.dispatchEvent(new DragEvent("drop", {
      bubbles: true, cancelable: true, dataTransfer: transfer(Array.from(files)) }));
  }, true);
  document.addEventListener("click", (ev) => {
    const button = ev.target instanceof Element  // gr.Image's source button; the editor's image tool
      ? ev.target.closest("button[aria-label='Paste from clipboard'], button[aria-label='Paste']")
      : null;
    if (!button || !button.closest(".checked-image") || !(navigator.clipboard && navigator.clipboard.read)) return;
    navigator.clipboard.read().then(async (items) => {
      if (items.some((item) => item.types.some((t) => t.startsWith("image/")))) return;  // the input takes it
      const item = items.find((it) => it.types.length);
      const type = item ? (item.types.includes("text/plain") ? "text/plain" : item.types[0]) : "";
      const blob = item ? await item.getType(type) : new Blob([]);
      send(new File([blob], type === "text/plain" ? "pasted text" : "clipboard", { type: blob.type }));
    }, () => {});  // reading refused: the browser says so itself
  }, true);
}
