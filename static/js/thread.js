// Pictures in the ticket thread (and the requester card's avatar) come from X's CDN (avatars, photos, video stills) and may fail
// to load: an old avatar URL after the user changed theirs, a deleted photo, a blocked host.
// A failed avatar is taken away so the initials drawn under it show; a failed media thumbnail
// gives way to a short text, its link (to the full size or the post on X) still there.
// The CSP forbids inline handlers (onerror=…), hence this file: one capturing listener sees the
// error events of every image, those of comments the live workspace adds later too.
(() => {
  function failed(img) {
    if (img.matches("[data-avatar]")) {
      img.remove();
    } else if (img.closest(".media__item")) {
      const note = document.createElement("span");
      note.className = "media__missing";
      note.textContent = `${img.alt || "Picture"} could not be loaded`;
      img.replaceWith(note);
    }
  }
  document.addEventListener("error", (event) => {
    if (event.target instanceof HTMLImageElement) failed(event.target);
  }, true);
  // Errors that happened before this script ran (it is deferred) were not heard: look.
  for (const img of document.querySelectorAll(".thread img, img[data-avatar]")) {
    if (img.complete && img.naturalWidth === 0 && img.getAttribute("src")) failed(img);
  }
})();
