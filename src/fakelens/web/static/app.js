// fakelens pages: poll a running job, and let a file be dropped on the upload form.
"use strict";

function pollJob(section) {
  const url = section.dataset.statusUrl;
  const bar = document.getElementById("job-progress");
  const stage = document.getElementById("job-stage");
  async function tick() {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const job = await response.json();
        bar.value = job.progress;
        bar.textContent = job.progress + "%";
        stage.textContent = "Status: " + job.status + " (" + job.stage + ", " + job.progress + "%)";
        if (job.status === "done" || job.status === "failed") {
          window.location.reload();
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

// Key frames and key faces open enlarged in a dialog (without script: the image itself).
function zoomImages(dialog) {
  const body = dialog.querySelector(".zoom-body");
  document.querySelectorAll("a.zoom").forEach((link) => link.addEventListener("click", (event) => {
    event.preventDefault();
    body.replaceChildren();
    const img = link.querySelector("img");
    const sources = link.dataset.face ? [link.dataset.face, link.href] : [link.href];
    sources.forEach((src, i) => {
      const big = document.createElement("img");
      big.src = src;
      big.alt = i === 1 ? "heatmap: red pushed the score towards fake, blue towards real"
        : (img ? img.alt.replace(" (enlarge)", "") : "");
      body.appendChild(big);
    });
    if (img) {
      const caption = document.createElement("p");
      caption.textContent = img.alt.replace(" (enlarge)", "");
      body.appendChild(caption);
    }
    dialog.showModal();
  }));
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
