// Run page behaviour (issue 3): copy buttons, JSON viewer expand/collapse all, the selected step.
// Everything here is an enhancement: the page works without it.
(function () {
  "use strict";

  function enhance(root) {
    root.querySelectorAll("[data-copy-target][hidden], [data-jv-expand][hidden], [data-jv-collapse][hidden]").forEach(function (el) {
      el.hidden = false;
    });
  }

  function copyText(text, button) {
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
    } else {
      fallbackCopy(text);
      done();
    }
  }

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "copy-buffer";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing more to try */ }
    area.remove();
  }

  function markSelected(stepId) {
    document.querySelectorAll("#step-timeline .step-chip").forEach(function (chip) {
      var on = chip.getAttribute("data-step-id") === stepId;
      chip.classList.toggle("selected", on);
      var link = chip.querySelector(".step-link");
      if (link) { if (on) link.setAttribute("aria-current", "step"); else link.removeAttribute("aria-current"); }
    });
  }

  document.addEventListener("click", function (event) {
    var copy = event.target.closest("[data-copy-target]");
    if (copy) {
      var source = document.querySelector(copy.getAttribute("data-copy-target"));
      if (source) copyText(source.textContent, copy);
      return;
    }
    var expand = event.target.closest("[data-jv-expand], [data-jv-collapse]");
    if (expand) {
      var open = expand.hasAttribute("data-jv-expand");
      var viewer = expand.closest("[data-json-viewer]");
      if (viewer) viewer.querySelectorAll("details.jv-node").forEach(function (d) { d.open = open; });
      return;
    }
    var step = event.target.closest("#step-timeline [data-step-id] a");
    if (step) markSelected(step.closest("[data-step-id]").getAttribute("data-step-id"));
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    enhance(event.target);
    var panel = document.querySelector("#step-panel [data-step-id]");
    if (panel && event.target.id === "step-timeline") markSelected(panel.getAttribute("data-step-id"));
    if (event.target.id === "step-panel" && panel) {
      var still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      panel.scrollIntoView({ block: "nearest", behavior: still ? "auto" : "smooth" });
    }
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  else enhance(document);
})();
