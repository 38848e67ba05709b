// Log views (issue 16): filter without a reload, load earlier and later lines, follow a running run's new lines (the
// run stream's `log` event; a 5 s poll of `after=` while no stream flows), wrap toggle, jump to the first error.
// Lines already shown are never rendered again: new ones are appended, earlier ones prepended.
(function () {
  "use strict";

  function viewIn(panel) { return panel.querySelector(".log-view"); }

  function fetchFragment(url) {
    return fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } }).then(function (response) {
      return response.text().then(function (html) {
        var template = document.createElement("template");
        template.innerHTML = html;
        return { ok: response.ok, content: template.content };
      });
    });
  }

  function withParam(url, name, value) {
    return url + (url.indexOf("?") < 0 ? "?" : "&") + encodeURIComponent(name) + "=" + encodeURIComponent(value);
  }

  function atBottom(frame) { return frame.scrollHeight - frame.scrollTop - frame.clientHeight < 24; }

  // Fetched lines carry UTC clock times: in the zone the time switch picks before they are shown.
  function inZone(fetched) { if (window.RunMonitorTimes) window.RunMonitorTimes.apply(fetched); }

  // Moves the fetched view's lines into the shown one (after its last line, or before its first) and takes its cursors.
  function merge(view, fetched, before) {
    inZone(fetched);
    var list = view.querySelector(".log-lines");
    var lines = fetched.querySelectorAll(".log-line");
    if (before) {
      var first = list.firstChild;
      lines.forEach(function (line) { list.insertBefore(line, first); });
      var earlier = view.querySelector(".log-earlier");
      var next = fetched.querySelector(".log-earlier");
      if (earlier && next) { earlier.href = next.href; earlier.setAttribute("data-before", next.getAttribute("data-before")); }
      else if (earlier) earlier.remove();
    } else {
      lines.forEach(function (line) { list.appendChild(line); });
      if (lines.length) view.setAttribute("data-last-seq", lines[lines.length - 1].getAttribute("data-seq"));
      var later = view.querySelector(".log-later");
      var more = fetched.querySelector(".log-later");
      view.setAttribute("data-next", more ? more.getAttribute("data-after") : "");
      if (later && more) { later.href = more.href; later.setAttribute("data-after", more.getAttribute("data-after")); }
      else if (later) later.remove();
      else if (more) view.appendChild(more);
      var empty = view.querySelector(".log-empty");
      if (empty && lines.length) empty.remove();
    }
    if (window.htmx) window.htmx.process(list);
  }

  var following = new WeakSet();

  function follow(view) {
    if (!view.isConnected || view.getAttribute("data-follow") !== "true" || view.getAttribute("data-next") || following.has(view)) return;
    following.add(view);
    var frame = view.closest(".log-frame");
    var stick = frame && atBottom(frame);
    fetchFragment(withParam(view.getAttribute("data-log-url"), "after", view.getAttribute("data-last-seq")))
      .then(function (result) {
        var fetched = result.ok && result.content.querySelector(".log-view");
        if (!fetched) return;
        var more = fetched.getAttribute("data-next");
        merge(view, fetched, false);
        // Following reads on while pages come back full.
        if (more) { view.setAttribute("data-next", ""); var later = view.querySelector(".log-later"); if (later) later.remove(); }
        if (stick) frame.scrollTop = frame.scrollHeight;
        if (more) setTimeout(function () { follow(view); }, 0);
      })
      .catch(function () { /* the next event or poll tries again */ })
      .finally(function () { following.delete(view); });
  }

  function followAll() { document.querySelectorAll(".log-view[data-follow=true]").forEach(follow); }

  // The run stream's `log` event, from the hidden listener in the live block.
  document.addEventListener("sse:log", followAll);
  // Without a flowing stream (none, reconnecting, held back by a proxy), new lines are polled.
  setInterval(function () {
    if (!document.querySelector(".log-view[data-follow=true]")) return;
    if (document.querySelector(".run-live[data-sse-open]")) return;
    followAll();
  }, 5000);

  function replaceView(panel, url, then) {
    fetchFragment(url).then(function (result) {
      var fetched = result.content.querySelector(".log-view, p.error");
      var current = viewIn(panel) || panel.querySelector(".log-frame > p.error");
      if (!fetched || !current) return;
      inZone(fetched);
      current.replaceWith(fetched);
      if (then) then(fetched);
    });
  }

  function filterUrl(form) {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (value === "" || (name === "level" && value === "trace")) return;
      params.append(name, value);
    });
    var query = params.toString();
    return form.getAttribute("data-log-filter") + (query ? "?" + query : "");
  }

  function applyFilter(form) {
    var panel = form.closest("[data-log-panel]");
    replaceView(panel, filterUrl(form));
    var download = panel.querySelector(".log-download");
    if (download) {
      var base = download.getAttribute("href").split("?")[0];
      var params = new URLSearchParams();
      var step = form.querySelector("input[name=step]");
      var level = form.querySelector("input[name=level]:checked");
      if (step) params.append("step", step.value);
      if (level && level.value !== "trace") params.append("level", level.value);
      var query = params.toString();
      download.setAttribute("href", base + (query ? "?" + query : ""));
    }
  }

  document.addEventListener("submit", function (e) {
    var form = e.target.closest && e.target.closest("form[data-log-filter]");
    if (!form) return;
    e.preventDefault();
    applyFilter(form);
  });
  document.addEventListener("change", function (e) {
    var form = e.target.closest && e.target.closest("form[data-log-filter]");
    if (form && e.target.name === "level") applyFilter(form);
  });
  var typing = null;
  document.addEventListener("input", function (e) {
    var form = e.target.closest && e.target.closest("form[data-log-filter]");
    if (!form || e.target.name !== "q") return;
    clearTimeout(typing);
    typing = setTimeout(function () { applyFilter(form); }, 300);
  });

  function highlight(view, seq) {
    var line = view.querySelector('.log-line[data-seq="' + seq + '"]');
    if (!line) return false;
    view.querySelectorAll(".log-target").forEach(function (l) { l.classList.remove("log-target"); });
    line.classList.add("log-target");
    line.scrollIntoView({ block: "center" });
    return true;
  }

  document.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest(".log-earlier, .log-later, [data-log-jump], [data-log-wrap]");
    if (!link) return;
    var panel = link.closest("[data-log-panel]");
    if (!panel) return;
    e.preventDefault();
    if (link.hasAttribute("data-log-wrap")) {
      var frame = panel.querySelector(".log-frame");
      var on = frame.classList.toggle("log-wrap");
      link.setAttribute("aria-pressed", on ? "true" : "false");
      return;
    }
    if (link.hasAttribute("data-log-jump")) {
      var seq = link.getAttribute("data-log-jump");
      if (!highlight(viewIn(panel), seq)) replaceView(panel, link.href, function (view) { highlight(view, seq); });
      return;
    }
    var view = viewIn(panel);
    var before = link.classList.contains("log-earlier");
    var scroller = panel.querySelector(".log-frame");
    var height = scroller.scrollHeight;
    fetchFragment(link.href).then(function (result) {
      var fetched = result.ok && result.content.querySelector(".log-view");
      if (!fetched) return;
      merge(view, fetched, before);
      // Lines put above keep what was in sight where it was.
      if (before) scroller.scrollTop += scroller.scrollHeight - height;
    });
  });

  function unhide(root) { root.querySelectorAll("[data-log-wrap][hidden]").forEach(function (b) { b.hidden = false; }); }
  // A log opens on its last lines: the frame starts scrolled to the end.
  function toEnd(root) { root.querySelectorAll(".log-frame").forEach(function (frame) { frame.scrollTop = frame.scrollHeight; }); }
  document.addEventListener("htmx:afterSwap", function (e) { unhide(e.target); toEnd(e.target); });
  // At load the scrolling waits for the first frame: reading scrollHeight while the script runs forced a layout of
  // the whole page of its own, before the browser's first one (docs/PERFORMANCE.md).
  function atLoad() { unhide(document); requestAnimationFrame(function () { toEnd(document); }); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", atLoad);
  else atLoad();
})();
