// Drawing a character with the mouse, a pen or a finger (pointer events), black on white
// like ink on paper. On submit the drawing goes into the form's hidden "canvas" field as
// a PNG data URL. Drawing clears a chosen photo and choosing a photo clears the drawing,
// so a form never sends both. A form sent back with an error keeps the drawing: it is
// painted again from the hidden field.
(function () {
  document.querySelectorAll("[data-canvas-input]").forEach(function (box) {
    const canvas = box.querySelector("[data-canvas]");
    const field = box.querySelector("input[name$='canvas']");
    const photo = box.querySelector("input[type=file]");
    const form = box.closest("form");
    const ctx = canvas.getContext("2d");
    const kept = field.value;
    let drawn = false;
    let drawing = false;

    function clear() {
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      drawn = false;
      field.value = "";
      canvas.dispatchEvent(new CustomEvent("cleared"));
    }

    function point(event) {
      const box = canvas.getBoundingClientRect();
      return [
        (event.clientX - box.left) * (canvas.width / box.width),
        (event.clientY - box.top) * (canvas.height / box.height),
      ];
    }

    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      drawing = true;
      drawn = true;
      if (photo) photo.value = "";
      const [x, y] = point(event);
      ctx.beginPath();
      ctx.moveTo(x, y);
      ctx.lineTo(x + 0.01, y);
      ctx.stroke();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      const [x, y] = point(event);
      ctx.lineTo(x, y);
      ctx.stroke();
    });
    // A finished stroke, or a cleared drawing, is announced for the live reading.
    ["pointerup", "pointercancel"].forEach(function (name) {
      canvas.addEventListener(name, function () {
        if (drawing) canvas.dispatchEvent(new CustomEvent("stroke"));
        drawing = false;
      });
    });

    if (photo) {
      photo.addEventListener("change", function () {
        if (photo.files.length) clear();
      });
    }
    box.querySelector("[data-canvas-clear]").addEventListener("click", clear);
    form.addEventListener("submit", function () {
      field.value = drawn ? canvas.toDataURL("image/png") : "";
    });

    ctx.lineWidth = canvas.width / 18;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#000";
    clear();
    if (kept.startsWith("data:image/")) {
      const image = new Image();
      image.onload = function () {
        ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
        drawn = true;
      };
      image.src = kept;
    }
  });
})();
