// The Predict page reads the character while the student draws it, or while the webcam
// films it: the image is sent to predict/live/ (nothing is stored) and the model's
// reading and its 28x28 input are shown. One request at a time, at most one every
// MIN_INTERVAL ms: strokes drawn meanwhile are read together in the next one, so a class
// drawing at once keeps the predict queue within its targets. A drawing the busy worker
// could not read is asked again a few times, waiting longer each time, so the last
// stroke is read without a busy class asking all at once again.
(function () {
  const box = document.querySelector("[data-live-reading]");
  const canvas = document.querySelector("[data-canvas]");
  if (!box || !canvas) return;
  const form = canvas.closest("form");
  const MIN_INTERVAL = 700;
  const FRAME_INTERVAL = 1200;
  const MAX_RETRIES = 3;
  const RETRY_DELAY = 1500;
  let inFlight = false;
  let waiting = false;
  let lastSent = 0;
  let timer = null;
  let retries = 0;
  let generation = 0; // a reading of a drawing since cleared is not shown

  function field(name) {
    const input = form.querySelector("[name='" + name + "']");
    return input ? input.value : "";
  }

  function show(answer) {
    box.hidden = false;
    box.querySelector("[data-live-note]").textContent = "";
    box.querySelector("[data-live-char]").textContent = answer.char;
    box.querySelector("[data-live-top]").textContent = answer.top5
      .slice(0, 3)
      .map(function (pair) {
        return pair[0] + " " + Math.round(pair[1] * 100) + "%";
      })
      .join(" · ");
    box.querySelector("[data-live-input]").src = answer.input;
  }

  function note(text) {
    box.hidden = false;
    box.querySelector("[data-live-char]").textContent = "";
    box.querySelector("[data-live-top]").textContent = "";
    box.querySelector("[data-live-note]").textContent = text;
  }

  // Sends one image (the form field "canvas" with a data URL, or "image" with a file);
  // whether the worker was busy.
  async function ask(name, value, filename) {
    inFlight = true;
    lastSent = Date.now();
    const sentFor = generation;
    const body = new FormData();
    body.append("csrfmiddlewaretoken", field("csrfmiddlewaretoken"));
    body.append("model", field("model"));
    if (filename) body.append(name, value, filename);
    else body.append(name, value);
    let busy = false;
    try {
      const response = await fetch(box.dataset.liveReading, {
        method: "POST",
        body: body,
        headers: { Accept: "application/json" },
      });
      const answer = await response.json();
      busy = response.status === 503;
      if (sentFor === generation) {
        if (response.ok) show(answer);
        else note(answer.error);
      }
    } catch (error) {
      // A dropped request: the next stroke or frame asks again.
    }
    inFlight = false;
    return busy;
  }

  async function sendDrawing() {
    timer = null;
    waiting = false;
    const busy = await ask("canvas", canvas.toDataURL("image/png"));
    if (waiting) {
      schedule(); // strokes drawn meanwhile
    } else if (busy && retries < MAX_RETRIES) {
      retries += 1; // the same drawing, once more, later each time
      waiting = true;
      timer = setTimeout(sendDrawing, RETRY_DELAY * retries);
    }
  }

  function schedule() {
    waiting = true;
    if (inFlight || timer) return;
    timer = setTimeout(sendDrawing, Math.max(0, lastSent + MIN_INTERVAL - Date.now()));
  }

  function forget() {
    generation += 1;
    waiting = false;
    clearTimeout(timer);
    timer = null;
    box.hidden = true;
  }

  canvas.addEventListener("stroke", function () {
    retries = 0;
    clearTimeout(timer); // a new stroke is read at the next turn, not after a retry's wait
    timer = null;
    schedule();
  });
  canvas.addEventListener("cleared", forget);

  // The webcam: a live picture, read every FRAME_INTERVAL ms; "Take the photo" puts the
  // frame in the form's photo field, as if it had been chosen from the disk.
  const webcam = document.querySelector("[data-webcam]");
  const photo = form.querySelector("input[type=file]");
  if (!webcam || !photo || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return; // no camera API: a phone's file picker offers its camera instead
  }
  const video = webcam.querySelector("[data-webcam-video]");
  const view = webcam.querySelector("[data-webcam-view]");
  const start = webcam.querySelector("[data-webcam-start]");
  const webcamNote = webcam.querySelector("[data-webcam-note]");
  let stream = null;
  let frameTimer = null;
  webcam.hidden = false;

  function frame(width) {
    const scale = Math.min(1, width / video.videoWidth);
    const still = document.createElement("canvas");
    still.width = Math.round(video.videoWidth * scale);
    still.height = Math.round(video.videoHeight * scale);
    still.getContext("2d").drawImage(video, 0, 0, still.width, still.height);
    return new Promise(function (resolve) {
      still.toBlob(resolve, "image/jpeg", 0.9);
    });
  }

  async function readFrame() {
    frameTimer = null;
    if (!stream) return;
    if (!inFlight && video.videoWidth) {
      const blob = await frame(480);
      if (stream && blob) await ask("image", blob, "webcam.jpg");
    }
    if (stream) frameTimer = setTimeout(readFrame, FRAME_INTERVAL);
  }

  function stop() {
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    clearTimeout(frameTimer);
    video.srcObject = null;
    view.hidden = true;
    start.hidden = false;
  }

  start.addEventListener("click", async function () {
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: 1280 } });
    } catch (error) {
      webcamNote.textContent = webcamNote.dataset.failed || error.message;
      return;
    }
    video.srcObject = stream;
    view.hidden = false;
    start.hidden = true;
    forget();
    frameTimer = setTimeout(readFrame, 300);
  });
  webcam.querySelector("[data-webcam-stop]").addEventListener("click", stop);
  webcam.querySelector("[data-webcam-take]").addEventListener("click", async function () {
    const blob = await frame(1920);
    if (!blob) return;
    const files = new DataTransfer();
    files.items.add(new File([blob], "webcam.jpg", { type: "image/jpeg" }));
    photo.files = files.files;
    photo.dispatchEvent(new Event("change")); // the drawing, if any, goes
    stop();
  });
})();
