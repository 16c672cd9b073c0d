// The verification form computes each point's MPE, error and the conclusion as the verifier types:
// the form is posted (nothing stored) to the console's evaluate route, and the answer fills the cells.
(function () {
  "use strict";
  var form = document.getElementById("verification-form");
  if (!form) { return; }
  var labels = JSON.parse(document.getElementById("labels").textContent);
  var timer = null;

  function filledRows() {
    var rows = form.querySelectorAll("#points tbody tr");
    var out = [];
    rows.forEach(function (row) {
      var i = row.getAttribute("data-row");
      var nominal = form.elements["p" + i + "_nominal"].value.trim();
      var readings = form.elements["p" + i + "_indications"].value.trim();
      row.querySelector(".out-mpe").textContent = "";
      row.querySelector(".out-error").textContent = "";
      row.querySelector(".out-result").textContent = "";
      if (nominal || readings) { out.push(row); }
    });
    return out;
  }

  function badge(passed) {
    var span = document.createElement("span");
    span.className = "state " + (passed ? "ok" : "bad");
    span.textContent = passed ? labels.pass : labels.fail;
    return span;
  }

  function show(answer) {
    var rows = filledRows();
    var conclusion = document.getElementById("conclusion");
    var warnings = document.getElementById("warnings");
    conclusion.textContent = "";
    warnings.textContent = "";
    if (answer.error) {
      conclusion.textContent = "—";
      var li = document.createElement("li");
      li.textContent = answer.error;
      warnings.appendChild(li);
      return;
    }
    answer.points.forEach(function (p, n) {
      var row = rows[n];
      if (!row) { return; }
      row.querySelector(".out-mpe").textContent = p.mpe;
      row.querySelector(".out-error").textContent = p.error;
      row.querySelector(".out-result").appendChild(badge(p.passed));
    });
    conclusion.appendChild(badge(answer.conclusion === "pass"));
    answer.warnings.forEach(function (w) {
      var li = document.createElement("li");
      li.textContent = w;
      warnings.appendChild(li);
    });
  }

  function evaluate() {
    var data = new FormData(form);
    data.delete("action");
    fetch(form.getAttribute("data-evaluate"), {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": form.elements["csrf_token"].value }
    }).then(function (r) { return r.json(); }).then(show).catch(function () { /* the buttons still work */ });
  }

  form.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(evaluate, 400);
  });
})();
