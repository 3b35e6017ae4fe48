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

document.addEventListener("DOMContentLoaded", () => {
  const job = document.getElementById("job");
  if (job) pollJob(job);
  const zone = document.getElementById("drop-zone");
  if (zone) dropZone(zone);
});
