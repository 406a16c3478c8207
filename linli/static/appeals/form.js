/* Small behaviours of the appeal forms (they work without this script):
 *  - the chosen category's extra questions are shown, the others hidden;
 *  - chosen photos are previewed, and more than the allowed number are refused at once;
 *  - the patrol form shows the on-the-spot fields only when that box is ticked;
 *  - the submit button is disabled after the first click (the idempotency key covers the rest). */
(function () {
  "use strict";

  var form = document.getElementById("appeal-form");
  if (!form) { return; }

  var category = form.querySelector("select[name=category]");
  function showQuestions() {
    var chosen = category ? category.value : "";
    form.querySelectorAll(".appeal-questions").forEach(function (fs) {
      var on = fs.getAttribute("data-category") === chosen;
      fs.hidden = !on;
      fs.querySelectorAll("input, select").forEach(function (i) { i.disabled = !on; });
    });
  }
  if (category) { category.addEventListener("change", showQuestions); showQuestions(); }

  form.querySelectorAll(".appeal-photos-input").forEach(function (input) {
    var preview = document.getElementById(input.getAttribute("data-preview"));
    var max = parseInt(input.getAttribute("data-max"), 10) || 9;
    input.addEventListener("change", function () {
      preview.textContent = "";
      input.setCustomValidity("");
      if (input.files.length > max) {
        input.setCustomValidity(input.getAttribute("data-too-many"));
        input.reportValidity();
        input.value = "";
        return;
      }
      Array.prototype.forEach.call(input.files, function (file) {
        if (!/^image\//.test(file.type)) { return; }
        var reader = new FileReader();
        reader.onload = function () {
          var li = document.createElement("li");
          var img = document.createElement("img");
          img.src = reader.result;  // a data: URL, allowed by the page's CSP
          img.alt = file.name;
          li.appendChild(img);
          preview.appendChild(li);
        };
        reader.readAsDataURL(file);
      });
    });
  });

  var onSpot = form.querySelector("input[name=handled_on_spot]");
  var onSpotFields = document.getElementById("on-spot-fields");
  if (onSpot && onSpotFields) {
    var sync = function () { onSpotFields.hidden = !onSpot.checked; };
    onSpot.addEventListener("change", sync);
    sync();
  }

  form.addEventListener("submit", function () {
    var button = form.querySelector("button[type=submit]");
    if (button) { setTimeout(function () { button.disabled = true; }, 0); }
  });
})();
