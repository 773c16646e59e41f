// The menu on a narrow screen: folded behind the Menu button, which opens and closes it.
// The stylesheet folds it only once this script has marked the bar "collapsible", so
// without scripts the menu stays open.
(function () {
  const bar = document.querySelector(".topbar");
  const button = bar && bar.querySelector(".menu-toggle");
  if (!button) return;
  bar.classList.add("collapsible");
  button.addEventListener("click", function () {
    const open = bar.classList.toggle("open");
    button.setAttribute("aria-expanded", String(open));
  });
})();
