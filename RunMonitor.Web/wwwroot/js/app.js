// RunMonitor's own behaviour: the detail modal, keyboard access to rows, toasts and htmx errors.
// Served from the app (CSP script-src 'self'); everything works without it as plain links and forms.
(function () {
    "use strict";

    var opener = null;

    function modal() { return document.getElementById("run-detail-modal"); }

    function toast(message, level, href, linkText) {
        var box = document.getElementById("toasts");
        if (!box || !message) return;
        var item = document.createElement("div");
        item.className = "toast toast-" + (level || "info");
        item.setAttribute("role", level === "error" ? "alert" : "status");
        item.appendChild(document.createTextNode(message));
        if (href) {
            item.appendChild(document.createTextNode(" "));
            var link = document.createElement("a");
            link.href = href;
            link.textContent = linkText || "Open";
            item.appendChild(link);
        }
        // After the current swap (HX-Trigger events fire before it), so the toast lands where it will stay.
        setTimeout(function () {
            raise(box);
            box.appendChild(item);
            setTimeout(function () { item.remove(); }, level === "error" ? 9000 : 6000);
        }, 0);
    }
    // A modal dialog makes the rest of the page inert: toasts move into the topmost open dialog so they
    // stay visible and clickable, and back to <body> when it closes.
    function raise(box) {
        var open = document.querySelectorAll("dialog[open]");
        var host = open.length ? open[open.length - 1] : document.body;
        if (box.parentElement !== host) host.appendChild(box);
    }
    function rescue(leaving) {
        var box = document.getElementById("toasts");
        if (!box || !leaving.contains || !leaving.contains(box)) return;
        var open = Array.prototype.filter.call(document.querySelectorAll("dialog[open]"), function (d) {
            return d !== leaving && !leaving.contains(d);
        });
        (open.length ? open[open.length - 1] : document.body).appendChild(box);
    }
    // A swap that would replace the element holding the toasts moves them out first.
    document.addEventListener("htmx:beforeSwap", function (e) { if (e.detail.target) rescue(e.detail.target); });
    window.RunMonitor = { toast: toast };

    // A row opens the modal; a link inside the row goes where it points instead. One listener for every row,
    // now and after each swap of the list, where htmx would set up each row's own request (docs/PERFORMANCE.md).
    document.addEventListener("click", function (e) {
        var row = e.target.closest && e.target.closest("tr[data-modal-url]");
        if (!row || e.target.closest("a, input, label, .select-cell") || !window.htmx) return;
        window.htmx.ajax("GET", row.getAttribute("data-modal-url"), { source: row, target: "#run-detail-modal", swap: "innerHTML" });
    });

    document.addEventListener("htmx:beforeRequest", function (e) {
        if (e.detail.target && e.detail.target.id === "run-detail-modal") opener = e.detail.elt;
    });

    document.addEventListener("htmx:afterSwap", function (e) {
        var dialog = modal();
        if (e.detail.target === dialog && dialog && !dialog.open && dialog.innerHTML.trim() !== "") {
            dialog.showModal();
            var close = dialog.querySelector("[data-close-modal]");
            if (close) close.focus();
        }
    });

    document.addEventListener("click", function (e) {
        var dialog = modal();
        if (!dialog) return;
        if (e.target.closest && e.target.closest("[data-close-modal]")) dialog.close();
        else if (e.target === dialog) dialog.close(); // a click on the backdrop
    });

    document.addEventListener("close", function (e) {
        if (e.target.tagName === "DIALOG") rescue(e.target);
        var dialog = modal();
        if (e.target !== dialog) return;
        // "close" comes as a task of its own: a run opened again in between (Escape, then Enter at once) keeps its content.
        if (dialog.open) return;
        dialog.innerHTML = "";
        if (opener && document.contains(opener)) opener.focus();
        else if (opener && opener.dataset && opener.dataset.runId) {
            var again = document.querySelector('tr[data-run-id="' + CSS.escape(opener.dataset.runId) + '"]');
            if (again) again.focus();
        }
        opener = null;
    }, true);

    // Rows are focusable; Enter or Space opens them like a click.
    document.addEventListener("keydown", function (e) {
        var row = e.target.closest && e.target.closest("tr.clickable");
        if (!row || e.target !== row) return;
        if (e.key === "Enter" || e.key === " ") {
            e.preventDefault();
            row.click();
        }
    });

    // The alert banner's poll swaps it whole every 15 s: #alert-announcer (a polite status outside it) speaks only when
    // the set of firing rules changes, a rule that starts firing with what it reads, one that stops by its name.
    function firingRules() {
        var rules = {};
        document.querySelectorAll("#alert-banner-slot .alert-banner-item[data-rule]").forEach(function (item) {
            rules[item.getAttribute("data-rule")] = item.textContent.replace(/\s+/g, " ").trim();
        });
        return rules;
    }
    var firing = null;
    document.addEventListener("DOMContentLoaded", function () { firing = firingRules(); });
    document.addEventListener("htmx:afterSwap", function (e) {
        if (!e.detail.target || e.detail.target.id !== "alert-banner-slot") return;
        var before = firing || {};
        var now = firing = firingRules();
        var started = Object.keys(now).filter(function (rule) { return !(rule in before); }).map(function (rule) { return now[rule]; });
        var stopped = Object.keys(before).filter(function (rule) { return !(rule in now); });
        var said = [];
        if (started.length) said.push((started.length === 1 ? "Alert firing: " : "Alerts firing: ") + started.join("; ") + ".");
        if (stopped.length) said.push((stopped.length === 1 ? "Alert resolved: " : "Alerts resolved: ") + stopped.join(", ") + ".");
        var announcer = document.getElementById("alert-announcer");
        if (announcer && said.length) announcer.textContent = said.join(" ");
    });

    // Server-sent toasts: HX-Trigger {"showToast": {"message", "level", "href", "linkText"}}; events bubble to document.
    document.addEventListener("showToast", function (e) {
        var d = e.detail || {};
        toast(d.message || d.value, d.level, d.href, d.linkText);
    });

    // htmx does not swap error answers by default: say what went wrong instead of doing nothing.
    document.addEventListener("htmx:responseError", function (e) {
        var xhr = e.detail.xhr;
        if (xhr.status === 400 && e.detail.target && e.detail.target.id === "runs-list") return; // swapped in place
        if (xhr.getResponseHeader("HX-Trigger")) return; // the server sent its own toast
        var text = "";
        try {
            var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
            text = (doc.body.textContent || "").trim();
        } catch (err) { text = ""; }
        toast(text || ("Request failed (" + xhr.status + ")"), "error");
    });
    document.addEventListener("htmx:sendError", function () {
        toast("RunMonitor could not be reached. Retrying on the next refresh.", "error");
    });
})();
