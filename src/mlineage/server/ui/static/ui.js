// Runs table: pick runs to compare, select all, and apply the "differ" toggle at once.
(function () {
  "use strict";
  const form = document.getElementById("compare-form");
  if (form) {
    const button = document.getElementById("compare-button");
    const count = document.getElementById("selected-count");
    const picks = () => Array.from(form.querySelectorAll("input.pick"));
    const update = () => {
      const chosen = picks().filter((box) => box.checked).length;
      button.disabled = chosen < 2;
      count.textContent = chosen ? chosen + " selected" : "select two or more runs";
    };
    form.addEventListener("change", update);
    const all = document.getElementById("select-all");
    if (all) {
      all.addEventListener("change", () => {
        picks().forEach((box) => { box.checked = all.checked; });
        update();
      });
    }
    update();
  }
  document.querySelectorAll("input.autosubmit").forEach((input) => {
    input.addEventListener("change", () => input.form.submit());
  });
})();
