(names) => {
  // Screen-reader names Gradio does not give (apps/a11y.py).
  // gr.Examples draws an image example as a thumbnail
  // with alt="" inside a button (gallery) or a grid cell (table): a screen reader announced "button" and nothing
  // more. Each registered examples block (`names`: elem_id -> one caption per example, in order) gets its captions
  // as the thumbnails' alt text, which also names the button around each. Re-applied whenever the page changes
  // (a tab drawn later, the examples' own re-render).
  // gr.Image shows a picture as <button><div class="image-frame"><img alt=""></div></button>: every result image
  // (the two battle outputs, previews, maps) was announced as "button" and nothing more. It gets its block's
  // visible label ("Model A (orange ●)") as alt text, which names the button too.
  const nameImages = () => {
    for (const img of document.querySelectorAll(".block .image-frame img:not([alt]), .block .image-frame img[alt='']")) {
      const label = img.closest(".block").querySelector("[data-testid='block-label']");
      const text = label ? label.textContent.trim() : "";
      if (text) img.alt = text;
    }
  };
  // Gradio's "More tabs" menu (the tabs that do not fit, on a phone six of seven) told a screen reader neither that
  // it opens a menu nor whether it is open, and Escape left it open over the page. It now says both, and Escape
  // closes it and puts the focus back on its button.
  const menuState = () => {
    for (const button of document.querySelectorAll(".overflow-menu > button")) {
      const menu = button.parentElement.querySelector(".overflow-dropdown");
      if (!menu) continue;
      const open = String(!menu.classList.contains("hide"));
      if (button.getAttribute("aria-haspopup") !== "true") button.setAttribute("aria-haspopup", "true");
      if (button.getAttribute("aria-expanded") !== open) button.setAttribute("aria-expanded", open);
    }
  };
  document.addEventListener("keydown", (ev) => {
    if (ev.key !== "Escape") return;
    const menu = document.querySelector(".overflow-menu > .overflow-dropdown:not(.hide)");
    const button = menu && menu.parentElement.querySelector(":scope > button");
    if (!button) return;
    button.click();
    button.focus();
  });
  const apply = () => {
    nameImages();
    menuState();
    for (const [id, captions] of Object.entries(names)) {
      const block = document.getElementById(id);
      if (!block) continue;
      const items = block.querySelectorAll(".gallery-item, tr.tr-body");
      items.forEach((item, i) => {
        const caption = captions[i];
        if (!caption) return;
        for (const img of item.querySelectorAll("img")) {
          if (img.alt !== caption) img.alt = caption;
        }
        if (item.tagName === "BUTTON" && item.getAttribute("aria-label") !== caption) {
          item.setAttribute("aria-label", caption);
        }
      });
    }
  };
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; apply(); });
  }).observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ["class"] });
  apply();
}
