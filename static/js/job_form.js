// The training form: the tutorial's 8 characters in one click (offered only for a data
// set that has them), the custom spec box only for "custom", the split's own setting only
// for the chosen split, only the chosen data set's groups to hold out, and the model's
// layers and parameter count, asked from the server as the choices change.
(function () {
  const form = document.querySelector("form.job-form");
  if (!form) return;
  // getAttribute: the form has a field named "dataset", which hides form.dataset.
  const summaryUrl = form.getAttribute("data-summary");
  const out = document.getElementById("model-summary");

  const tutorial8 = document.getElementById("pick-tutorial8");
  tutorial8.addEventListener("click", function () {
    form.elements.chars.value = "라호댜밟자꺅갠아";
    update();
  });

  // The data set's own options: the tutorial-8 button, and its groups to hold out (a
  // group of another set is unticked as it is hidden, so it is never sent).
  function showForDataset() {
    const select = form.elements.dataset;
    const option = select.options[select.selectedIndex];
    tutorial8.hidden = !option || !option.hasAttribute("data-tutorial8");
    let groups = 0;
    form.querySelectorAll("input[name=held_out]").forEach(function (box) {
      const mine = (box.getAttribute("data-datasets") || "").split(" ").includes(select.value);
      const row = box.closest("label").parentElement;
      row.hidden = !mine;
      if (!mine) box.checked = false;
      if (mine) groups += 1;
    });
    const none = document.getElementById("no-groups");
    if (none) none.hidden = groups > 1;
  }

  function checked(name) {
    const input = form.querySelector("input[name=" + name + "]:checked");
    return input ? input.value : "";
  }

  function showFor(name, attribute) {
    const value = checked(name);
    form.querySelectorAll("[" + attribute + "]").forEach(function (el) {
      el.hidden = el.getAttribute(attribute) !== value;
    });
  }

  let pending = null;
  async function update() {
    showForDataset();
    showFor("model", "data-model");
    showFor("split_kind", "data-split");
    const model = checked("model");
    const spec = model === "custom" ? form.elements.spec.value : model;
    const params = new URLSearchParams({
      dataset: form.elements.dataset.value, chars: form.elements.chars.value, spec: spec,
    });
    const request = (pending = fetch(summaryUrl + "?" + params));
    const response = await request;
    if (request !== pending) return;
    const data = await response.json();
    out.classList.toggle("error", !!data.error);
    if (data.error) {
      out.textContent = data.error;
      return;
    }
    const rows = data.layers.map(function (layer) {
      return "<tr><td>" + layer[0] + "</td><td>" + layer[1].join(" x ") + "</td><td>" +
        layer[2].toLocaleString() + "</td></tr>";
    });
    out.innerHTML = "<table class='list compact'>" + rows.join("") + "</table><p><strong>" +
      data.params.toLocaleString() + "</strong> " + out.dataset.paramsLabel + "</p>";
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();
