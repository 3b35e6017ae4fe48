// fakelens pages: poll a running job, and let a file be dropped on the upload form.
"use strict";

// A job page shown while the job runs (only that page has the #job section) polls the job
// and reloads itself once when it ends. Not while a link or form the user followed is
// loading: the reload would cancel it and bring them back here.
function pollJob(section) {
  const url = section.dataset.statusUrl;
  const bar = document.getElementById("job-progress");
  const stage = document.getElementById("job-stage");
  let leaving = false;
  let stopped = false;
  window.addEventListener("beforeunload", () => { leaving = true; });
  window.addEventListener("pageshow", (event) => {
    if (!event.persisted) return;
    leaving = false;  // back here from the back-forward cache: poll again
    if (stopped) {
      stopped = false;
      tick();
    }
  });
  async function tick() {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const job = await response.json();
        bar.value = job.progress;
        bar.textContent = job.progress + "%";
        stage.textContent = "Status: " + job.status + " (" + job.stage + ", " + job.progress + "%)";
        if (job.status === "done" || job.status === "failed") {
          if (leaving) {
            stopped = true;
            stage.textContent += ". Reload the page to see the result.";
          } else {
            window.location.reload();
          }
          return;
        }
      } else if (response.status === 404 || response.status === 401) {
        stage.textContent = "This analysis is no longer available.";
        return;
      }
    } catch (err) {
      stage.textContent = "Connection lost; retrying…";
    }
    window.setTimeout(tick, 1500);
  }
  window.setTimeout(tick, 1000);
}

function dropZone(zone) {
  const input = zone.querySelector("input[type=file]");
  ["dragenter", "dragover"].forEach((name) => zone.addEventListener(name, (event) => {
    event.preventDefault();
    zone.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((name) => zone.addEventListener(name, () => {
    zone.classList.remove("over");
  }));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
    }
  });
}

// Send the upload form with XMLHttpRequest to show upload progress; without JavaScript
// the form posts as usual. The server answers with a redirect to the job page (followed
// here) or with the form and its errors (shown as the new page).
function uploadWithProgress(form) {
  const bar = document.getElementById("upload-progress");
  const label = document.getElementById("upload-label");
  form.addEventListener("submit", (event) => {
    if (!window.FormData || !bar) return;
    // "Check the link" posts the link (no file) to its own address: an ordinary submit
    if (event.submitter && event.submitter.hasAttribute("formaction")) return;
    event.preventDefault();
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.upload.addEventListener("progress", (e) => {
      if (!e.lengthComputable) return;
      bar.hidden = false;
      label.hidden = false;
      bar.value = Math.round((100 * e.loaded) / e.total);
      bar.textContent = bar.value + "%";
    });
    xhr.addEventListener("load", () => {
      if (xhr.status < 400 && xhr.responseURL && new URL(xhr.responseURL).pathname
          !== new URL(form.action).pathname) {
        window.location.assign(xhr.responseURL);
        return;
      }
      document.open();
      document.write(xhr.responseText);
      document.close();
      revealErrors();  // again on DOMContentLoaded, when the new page is parsed
    });
    xhr.addEventListener("error", () => {
      label.hidden = false;
      label.textContent = "The upload failed (connection lost). Please try again.";
      label.scrollIntoView({ block: "nearest" });
      form.querySelector("button[type=submit]").disabled = false;
    });
    form.querySelector("button[type=submit]").disabled = true;
    xhr.send(new FormData(form));
  });
}

// A refused upload answers with the form and its errors, written in place of the page
// where it was scrolled to (the Analyse button, far down on a phone): bring the error
// banner into view and focus it, so that it is seen and read out.
function revealErrors() {
  const banner = document.querySelector("main .alert[role=alert]");
  if (!banner || document.activeElement === banner) return;
  banner.tabIndex = -1;
  banner.scrollIntoView({ block: "start" });
  banner.focus({ preventScroll: true });
}

// A magnifier: over a thumbnail (key frames, faces, heatmaps) or an enlarged image, a
// round lens shows the picture under the pointer at its own resolution (2.5 to 4 times).
// The mouse moves it; in the enlarged view a finger drags it and the arrow keys move it
// (the image has the focus); a tap that does not drag closes the enlarged view.
const LENS_PX = 180;

function makeLens(parent) {
  const lens = document.createElement("div");
  lens.className = "lens";
  lens.hidden = true;
  lens.setAttribute("aria-hidden", "true");
  parent.appendChild(lens);
  return lens;
}

// Show ``lens`` over ``img`` centred on (x, y), in CSS pixels within the image's box.
function showLens(lens, img, x, y) {
  const box = img.getBoundingClientRect();
  if (!box.width || !img.naturalWidth) return [x, y];
  const zoom = Math.min(4, Math.max(2.5, img.naturalWidth / box.width));
  x = Math.min(Math.max(x, 0), box.width);
  y = Math.min(Math.max(y, 0), box.height);
  lens.style.backgroundImage = `url("${img.currentSrc || img.src}")`;
  lens.style.backgroundSize = `${box.width * zoom}px ${box.height * zoom}px`;
  lens.style.backgroundPosition = `${LENS_PX / 2 - x * zoom}px ${LENS_PX / 2 - y * zoom}px`;
  lens.style.left = `${box.left + x - LENS_PX / 2}px`;
  lens.style.top = `${box.top + y - LENS_PX / 2}px`;
  lens.hidden = false;
  return [x, y];
}

function magnifyOnHover(img, lens) {
  img.addEventListener("pointermove", (event) => {
    if (event.pointerType !== "mouse") return;  // a tap opens the enlarged view instead
    const box = img.getBoundingClientRect();
    showLens(lens, img, event.clientX - box.left, event.clientY - box.top);
  });
  img.addEventListener("pointerleave", () => { lens.hidden = true; });
}

const LENS_KEYS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

function magnifyEnlarged(img, lens, dialog) {
  img.tabIndex = 0;
  let at = null;
  let down = null;
  let dragged = false;
  const place = (x, y) => { at = showLens(lens, img, x, y); };
  const centre = () => {
    const box = img.getBoundingClientRect();
    return at || [box.width / 2, box.height / 2];
  };
  img.addEventListener("pointerdown", (event) => {
    down = [event.clientX, event.clientY];
    dragged = false;
    if (event.pointerType !== "mouse") img.setPointerCapture(event.pointerId);
  });
  img.addEventListener("pointermove", (event) => {
    if (down && Math.hypot(event.clientX - down[0], event.clientY - down[1]) > 8) dragged = true;
    if (event.pointerType !== "mouse" && !dragged) return;
    const box = img.getBoundingClientRect();
    place(event.clientX - box.left, event.clientY - box.top);
  });
  img.addEventListener("pointerup", (event) => {
    const tap = down && !dragged && event.pointerType !== "mouse";
    down = null;
    if (event.pointerType !== "mouse") lens.hidden = true;
    if (tap) dialog.close();
  });
  img.addEventListener("pointerleave", (event) => {
    if (event.pointerType === "mouse") lens.hidden = true;
  });
  img.addEventListener("keydown", (event) => {
    const step = LENS_KEYS[event.key];
    if (!step) return;
    event.preventDefault();
    const box = img.getBoundingClientRect();
    const [x, y] = centre();
    place(x + step[0] * box.width / 10, y + step[1] * box.height / 10);
  });
  img.addEventListener("focus", () => {
    if (img.matches(":focus-visible")) place(...centre());
  });
  img.addEventListener("blur", () => { lens.hidden = true; });
}

// Key frames, key faces and heatmaps open enlarged in a dialog (without script: the image
// itself), and magnify under the mouse.
function zoomImages(dialog) {
  const body = dialog.querySelector(".zoom-body");
  const pageLens = makeLens(document.body);
  const dialogLens = makeLens(dialog);  // a modal dialog covers everything outside it
  window.addEventListener("scroll", () => { pageLens.hidden = true; }, { passive: true });
  dialog.addEventListener("close", () => { dialogLens.hidden = true; });
  document.querySelectorAll("a.zoom").forEach((link) => {
    const img = link.querySelector("img");
    if (img) magnifyOnHover(img, pageLens);
    link.addEventListener("click", (event) => {
      event.preventDefault();
      pageLens.hidden = true;
      body.replaceChildren();
      const sources = link.dataset.face ? [link.dataset.face, link.href] : [link.href];
      body.classList.toggle("single", sources.length === 1);
      const shown = sources.map((src, i) => {
        const big = document.createElement("img");
        big.src = src;
        big.alt = i === 1 ? "heatmap: red pushed the score towards fake, blue towards real"
          : (img ? img.alt.replace(" (enlarge)", "") : "");
        magnifyEnlarged(big, dialogLens, dialog);
        body.appendChild(big);
        return big;
      });
      const caption = document.createElement("p");
      caption.className = "help";
      caption.textContent = (img ? img.alt.replace(" (enlarge)", "") + ". " : "")
        + "Magnifier: hover, drag a finger, or the arrow keys on a focused image.";
      body.appendChild(caption);
      dialog.showModal();
      if (event.detail === 0) shown[0].focus();  // opened with the keyboard: magnify at once
    });
  });
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
}

// "Use the camera" fills the one file field of the form with what was recorded.
function cameraInput(camera, input) {
  camera.closest(".camera").hidden = false;  // the input stays hidden: its label opens it
  camera.addEventListener("change", () => {
    if (!camera.files.length || !window.DataTransfer) return;
    const transfer = new DataTransfer();
    transfer.items.add(camera.files[0]);
    input.files = transfer.files;
  });
}

document.addEventListener("DOMContentLoaded", () => {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
  }
  const dialog = document.getElementById("zoom");
  if (dialog && dialog.showModal) zoomImages(dialog);
  const camera = document.getElementById("camera");
  const fileInput = document.getElementById("file");
  if (camera && fileInput) cameraInput(camera, fileInput);
  const form = document.getElementById("upload-form");
  if (form) {
    uploadWithProgress(form);
    revealErrors();
  }
  const job = document.getElementById("job");
  if (job) pollJob(job);
  const zone = document.getElementById("drop-zone");
  if (zone) dropZone(zone);
});
