// Log views (issue 16): filter without a reload, load earlier and later lines, follow a running run's new lines (the
// run stream's `log` event; a 5 s poll of `after=` while no stream flows), wrap toggle, jump to the first error (of
// the lines the filter shows) and back to the latest lines. Lines already shown are never rendered again: new ones are
// appended, earlier ones prepended. A panel keeps its count and first error current as lines follow in.
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

  // The panel's counts (data-* on the panel): the run's lines and dropped ones, whether a level or text narrows the view,
  // how many lines it matches and its first error, and the last seq that count covers. A tail read (page load, a filter,
  // back to latest) states them; lines that follow in after that seq are counted here.
  // (Razor writes a data- attribute it has no value for empty: empty is unknown.)
  function takeCounts(panel, view) {
    ["lines", "dropped", "matching", "firstError"].forEach(function (name) {
      if (view.dataset[name]) panel.dataset[name] = view.dataset[name];
      else delete panel.dataset[name];
    });
    panel.dataset.counted = view.dataset.lines || "0";
    if (view.dataset.narrows) panel.dataset.narrows = "true"; else delete panel.dataset.narrows;
  }

  function countLines(panel, lines) {
    if (panel.dataset.matching === undefined) return;
    var counted = Number(panel.dataset.counted || 0), matching = Number(panel.dataset.matching);
    lines.forEach(function (line) {
      var seq = Number(line.getAttribute("data-seq"));
      if (seq <= counted) return;
      counted = seq;
      matching++;
      if (panel.dataset.firstError === undefined && line.classList.contains("log-error")) panel.dataset.firstError = String(seq);
    });
    panel.dataset.counted = String(counted);
    panel.dataset.matching = String(matching);
  }

  function number(n) { return Number(n).toLocaleString("en-US"); }

  // The count's words, as the panel renders them (LogPanelModel.CountText).
  function countText(panel, inStep) {
    var matching = Number(panel.dataset.matching || 0), total = inStep ? matching : Number(panel.dataset.lines || 0);
    var dropped = Number(panel.dataset.dropped || 0);
    var text = !panel.dataset.narrows ? number(total) + (total === 1 ? " line" : " lines")
      : inStep ? number(matching) + (matching === 1 ? " line matches" : " lines match")
      : number(matching) + " of " + number(total) + (total === 1 ? " line " : " lines ") + (matching === 1 ? "matches" : "match");
    return !inStep && dropped > 0 ? text + " · " + number(dropped) + " dropped" : text;
  }

  // Shows what the panel's counts and view say: the count, the jump (once an error matches), and while the view stops
  // short of the last lines, "back to latest" (and on a live run, that following is paused).
  function sync(panel) {
    var view = viewIn(panel);
    if (!view) return;
    var count = panel.querySelector(".log-count");
    if (count && panel.dataset.matching !== undefined) count.textContent = countText(panel, count.getAttribute("data-scope") === "step");
    var jump = panel.querySelector(".log-jump-error");
    if (jump) {
      var first = panel.dataset.firstError;
      jump.hidden = first === undefined;
      if (first !== undefined) {
        jump.setAttribute("data-log-jump", first);
        jump.href = withParam(view.getAttribute("data-log-url"), "after", Number(first) - 1);
      }
    }
    var behind = !!view.getAttribute("data-next");
    var latest = panel.querySelector(".log-latest");
    if (latest) latest.hidden = !behind;
    var paused = panel.querySelector(".log-paused");
    if (paused) paused.textContent = behind && view.getAttribute("data-follow") === "true" ? "Following paused" : "";
  }

  function atBottom(frame) { return frame.scrollHeight - frame.scrollTop - frame.clientHeight < 24; }

  // Fetched lines carry UTC clock times: in the zone the time switch picks before they are shown.
  function inZone(fetched) { if (window.RunMonitorTimes) window.RunMonitorTimes.apply(fetched); }

  // Moves the fetched view's lines into the shown one (after its last line, or before its first) and takes its cursors.
  function merge(view, fetched, before) {
    inZone(fetched);
    var panel = view.closest("[data-log-panel]");
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
      if (panel) {
        ["lines", "dropped"].forEach(function (name) { if (fetched.dataset[name]) panel.dataset[name] = fetched.dataset[name]; });
        countLines(panel, lines);
      }
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
    if (panel) sync(panel);
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
        // A view a filter replaced meanwhile takes nothing (its panel counts another filter's lines now).
        if (!fetched || !view.isConnected) return;
        var more = fetched.getAttribute("data-next");
        // Following reads on while pages come back full.
        if (more) { fetched.setAttribute("data-next", ""); var next = fetched.querySelector(".log-later"); if (next) next.remove(); }
        merge(view, fetched, false);
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

  // A tail read (a filter, back to latest): its counts are the panel's, its last lines in sight, and a live view follows.
  function showTail(panel, url) {
    replaceView(panel, url, function (view) {
      if (!view.classList.contains("log-view")) return;
      takeCounts(panel, view);
      sync(panel);
      toEnd(panel);
      follow(view);
    });
  }

  function applyFilter(form) {
    var panel = form.closest("[data-log-panel]");
    showTail(panel, filterUrl(form));
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
    var link = e.target.closest && e.target.closest(".log-earlier, .log-later, [data-log-jump], [data-log-wrap], [data-log-latest]");
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
      // The link reads the lines the filter shows from the first error among them (sync keeps its href so).
      var seq = link.getAttribute("data-log-jump");
      if (!highlight(viewIn(panel), seq)) replaceView(panel, link.href, function (view) { sync(panel); highlight(view, seq); });
      return;
    }
    if (link.hasAttribute("data-log-latest")) {
      showTail(panel, viewIn(panel).getAttribute("data-log-url"));
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
      // "Load later" that reached the last lines: a live view follows again.
      else follow(view);
    });
  });

  function unhide(root) {
    root.querySelectorAll("[data-log-wrap][hidden]").forEach(function (b) { b.hidden = false; });
    // A panel rendered here (the page, a step panel htmx brought) counts from its first view.
    root.querySelectorAll("[data-log-panel]").forEach(function (panel) { var view = viewIn(panel); if (view) takeCounts(panel, view); });
  }
  // A log opens on its last lines: the frame starts scrolled to the end.
  function toEnd(root) { root.querySelectorAll(".log-frame").forEach(function (frame) { frame.scrollTop = frame.scrollHeight; }); }
  document.addEventListener("htmx:afterSwap", function (e) { unhide(e.target); toEnd(e.target); });
  // At load the scrolling waits for the first frame: reading scrollHeight while the script runs forced a layout of
  // the whole page of its own, before the browser's first one (docs/PERFORMANCE.md).
  function atLoad() { unhide(document); requestAnimationFrame(function () { toEnd(document); }); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", atLoad);
  else atLoad();
})();
