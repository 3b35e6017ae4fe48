// Live check: camera or shared screen -> JPEG frames over a WebSocket -> boxes, scores,
// a rolling timeline and an alert banner. The server analyses the newest frame and says
// when it drops frames; nothing is stored until "Stop and save".
(function () {
  "use strict";
  const root = document.getElementById("live");
  if (!root) return;
  const maxFps = Math.min(parseFloat(root.dataset.maxFps) || 8, 8);
  const maxSide = Math.min(parseInt(root.dataset.maxSide, 10) || 640, 640);
  // the app's one wording of a verdict ("Likely manipulated", "No face found", ...)
  const words = JSON.parse(root.dataset.verdictWords || "{}");
  const $ = (id) => document.getElementById(id);
  const video = $("live-video"), overlay = $("live-overlay"), timeline = $("live-timeline");
  const statusEl = $("live-status"), verdictEl = $("live-verdict"), statsEl = $("live-stats");
  const alertEl = $("live-alert"), savedEl = $("live-saved");
  const buttons = { camera: $("live-camera"), screen: $("live-screen"), stop: $("live-stop") };
  const grab = document.createElement("canvas");
  const colours = ["#0b57d0", "#b3261e", "#146c2e", "#8e24aa", "#e65100", "#00838f"];
  let ws = null, stream = null, timer = null, threshold = 0.5, sending = false;
  let latencies = [], points = {}, lastFaces = [], frameSize = [1, 1], dropped = 0;
  let t0 = 0;

  function say(text) { statusEl.textContent = text; }

  async function start(kind) {
    try {
      stream = kind === "screen"
        ? await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false })
        : await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 },
                                                      audio: false });
    } catch (err) {
      say("Could not get the " + (kind === "screen" ? "screen" : "camera") + ": " + err.message);
      return;
    }
    video.srcObject = stream;
    stream.getVideoTracks()[0].addEventListener("ended", () => stop(true));
    buttons.camera.disabled = buttons.screen.disabled = true;
    buttons.stop.disabled = false;
    savedEl.hidden = true;
    alertEl.hidden = true;
    points = {}; latencies = []; dropped = 0; t0 = performance.now();
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    ws = new WebSocket(scheme + "://" + location.host + "/live/ws?source=" + kind);
    ws.binaryType = "arraybuffer";
    ws.onmessage = (ev) => handle(JSON.parse(ev.data));
    ws.onclose = () => { finish(); };
    ws.onerror = () => say("The connection to the server failed.");
    say("Connecting…");
  }

  function sendFrame() {
    if (!ws || ws.readyState !== WebSocket.OPEN || sending || !video.videoWidth) return;
    // a link that has not sent the last frame yet gets no new one: queued frames would
    // reach the server late and in a burst, and only the newest is analysed anyway
    if (ws.bufferedAmount > 0) return;
    const scale = Math.min(1, maxSide / Math.max(video.videoWidth, video.videoHeight));
    grab.width = Math.round(video.videoWidth * scale);
    grab.height = Math.round(video.videoHeight * scale);
    grab.getContext("2d").drawImage(video, 0, 0, grab.width, grab.height);
    const t = performance.now();
    sending = true;
    grab.toBlob(async (blob) => {
      sending = false;
      if (!blob || !ws || ws.readyState !== WebSocket.OPEN) return;
      const jpeg = new Uint8Array(await blob.arrayBuffer());
      const msg = new Uint8Array(8 + jpeg.length);
      new DataView(msg.buffer).setFloat64(0, t, false);
      msg.set(jpeg, 8);
      ws.send(msg.buffer);
    }, "image/jpeg", 0.8);
  }

  function handle(m) {
    if (m.type === "ready") {
      threshold = m.threshold;
      say("Live: sending " + maxFps + " frames a second.");
      timer = setInterval(sendFrame, 1000 / maxFps);
    } else if (m.type === "frame") {
      const latency = performance.now() - m.t;
      latencies.push(latency);
      if (latencies.length > 30) latencies.shift();
      frameSize = [m.width, m.height];
      lastFaces = m.faces;
      root.dataset.frames = String((parseInt(root.dataset.frames, 10) || 0) + 1);
      root.dataset.latencyMs = String(Math.round(latency));
      drawBoxes();
    } else if (m.type === "update") {
      const score = m.score === null ? "" : " " + m.score.toFixed(2);
      verdictEl.textContent = "Now: " + (words[m.verdict] || m.label || m.verdict) + score +
        " (threshold " + m.threshold.toFixed(2) + ")";
      root.dataset.verdict = m.verdict;
      const t = (performance.now() - t0) / 1000;
      for (const f of m.faces) {
        (points[f.track_id] = points[f.track_id] || []).push([t, f.score]);
      }
      drawTimeline(t);
      const mean = latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length);
      statsEl.textContent = m.analysed_fps.toFixed(1) + " frames analysed a second; " +
        "latency " + Math.round(mean) + " ms; " + m.frames_dropped + " dropped";
      if (m.alerting.length) {
        alertEl.hidden = false;
        alertEl.textContent = m.faces.filter((f) => f.alert).map((f) =>
          "ALERT: face " + (f.track_id + 1) + " has stayed above the threshold (" +
          m.threshold.toFixed(2) + ") for " + f.above_for_s.toFixed(1) + " s.").join(" ") ||
          "ALERT: a face has stayed above the threshold.";
      } else {
        alertEl.hidden = true;
      }
    } else if (m.type === "dropping") {
      dropped = m.dropped;
      say("The server is dropping frames (" + m.dropped + " of " + m.received +
          " skipped): it analyses the newest one, " + m.analysed_fps.toFixed(1) + " a second.");
    } else if (m.type === "saved") {
      savedEl.hidden = false;
      savedEl.innerHTML = "";
      const a = document.createElement("a");
      a.href = m.url;
      a.id = "live-saved-link";
      a.textContent = "Saved: open the analysis";
      savedEl.appendChild(a);
      say("Saved in your history.");
    } else if (m.type === "error") {
      say(m.message);
    }
  }

  // Where a face's label goes: above its box (inside the box's top when there is no room
  // above), moved left so it ends inside the video; {x, y, w, h} of its background.
  function placeLabel(box, textWidth, textHeight, w, h) {
    const lw = Math.min(textWidth + 8, w), lh = textHeight + 4;
    const x = Math.max(0, Math.min(box.x, w - lw));
    let y = box.y - lh - 2;
    if (y < 0) y = Math.min(Math.max(0, box.y + 2), Math.max(0, h - lh));
    return { x: x, y: y, w: lw, h: lh };
  }
  window.fakelensLivePlaceLabel = placeLabel;  // for the browser tests

  function drawBoxes() {
    const w = overlay.clientWidth, h = overlay.clientHeight;
    overlay.width = w; overlay.height = h;
    const ctx = overlay.getContext("2d");
    ctx.clearRect(0, 0, w, h);
    const sx = w / frameSize[0], sy = h / frameSize[1];
    const size = w < 480 ? 13 : 16;  // phones: smaller labels
    ctx.lineWidth = w < 480 ? 2 : 3;
    ctx.font = "bold " + size + "px sans-serif";
    ctx.textBaseline = "top";
    const placed = [];
    for (const f of lastFaces) {
      if (!f.box) continue;
      const hot = f.score >= threshold;
      const box = { x: f.box.x * sx, y: f.box.y * sy, w: f.box.w * sx, h: f.box.h * sy };
      ctx.strokeStyle = hot ? "#ff3b30" : "#34c759";
      ctx.strokeRect(box.x, box.y, box.w, box.h);
      const label = "face " + (f.track_id + 1) + " " + f.score.toFixed(2) + (f.alert ? " ALERT" : "");
      const at = placeLabel(box, ctx.measureText(label).width, size, w, h);
      ctx.fillStyle = "rgba(0,0,0,0.6)";
      ctx.fillRect(at.x, at.y, at.w, at.h);
      ctx.fillStyle = "#fff";
      ctx.fillText(label, at.x + 4, at.y + 2, at.w - 8);
      placed.push([Math.round(at.x), Math.round(at.y), Math.round(at.w), Math.round(at.h)]);
    }
    root.dataset.labels = JSON.stringify({ width: w, height: h, boxes: placed });
  }

  function drawTimeline(now) {
    const ctx = timeline.getContext("2d"), W = timeline.width, H = timeline.height;
    const span = Math.max(30, now), x = (t) => 30 + (W - 40) * (t / span);
    const y = (s) => 10 + (H - 30) * (1 - s);
    ctx.clearRect(0, 0, W, H);
    ctx.strokeStyle = "#999"; ctx.setLineDash([4, 4]);
    ctx.beginPath(); ctx.moveTo(30, y(threshold)); ctx.lineTo(W - 10, y(threshold)); ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = "#444"; ctx.font = "11px sans-serif";
    ctx.fillText("1", 10, y(1) + 4); ctx.fillText("0", 10, y(0) + 4);
    ctx.fillText(Math.round(span) + " s", W - 40, H - 4);
    Object.keys(points).forEach((id, i) => {
      ctx.strokeStyle = colours[i % colours.length]; ctx.lineWidth = 2; ctx.beginPath();
      points[id].forEach(([t, s], j) => (j ? ctx.lineTo(x(t), y(s)) : ctx.moveTo(x(t), y(s))));
      ctx.stroke();
      ctx.fillStyle = colours[i % colours.length];
      points[id].forEach(([t, s]) => ctx.fillRect(x(t) - 2, y(s) - 2, 4, 4));
      const last = points[id][points[id].length - 1];
      ctx.fillText("face " + (Number(id) + 1), Math.min(W - 50, x(last[0]) + 6), y(last[1]) - 4);
    });
  }

  function stop(save) {
    if (timer) { clearInterval(timer); timer = null; }
    if (stream) { stream.getTracks().forEach((t) => t.stop()); stream = null; }
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({ type: "stop", save: save }));
      say("Saving…");
    }
    buttons.stop.disabled = true;
  }

  function finish() {
    if (timer) { clearInterval(timer); timer = null; }
    buttons.camera.disabled = buttons.screen.disabled = false;
    buttons.stop.disabled = true;
    ws = null;
  }

  buttons.camera.addEventListener("click", () => start("camera"));
  buttons.screen.addEventListener("click", () => start("screen"));
  buttons.stop.addEventListener("click", () => stop(true));
})();
