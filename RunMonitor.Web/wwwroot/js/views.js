// Views and preferences (issue 19): the header's switches remembered (times.js applies the time switch), the theme
// switch, the runs page's keyboard, previous/next with [ and ], and the "Save this view" form taking the URL's current
// query. Without script the page reads as the server wrote it: the theme the cookie chose.
(function () {
    "use strict";

    var root = document.documentElement;
    var year = 60 * 60 * 24 * 365;

    function remember(name, value) {
        document.cookie = name + "=" + encodeURIComponent(value) + "; path=/; max-age=" + year + "; samesite=lax";
    }

    document.addEventListener("change", function (e) {
        var select = e.target;
        if (!select.matches || !select.matches("select[data-pref]")) return;
        remember(select.getAttribute("data-pref"), select.value);
        // The time switch's own change is times.js's.
        if (select.id === "pref-theme") root.setAttribute("data-theme", select.value);
    });

    // "Save this view" saves what the address bar shows now (filters change it through htmx without a reload): the
    // list's view, without the cards' period, which a view (a list's query, as /api/views takes it) does not hold.
    // Captured, so the field is set before htmx's own listener on the form reads it.
    document.addEventListener("submit", function (e) {
        var form = e.target;
        if (!form.matches || !form.matches("form.save-view-form")) return;
        var query = form.querySelector("input[name=query]");
        if (query && location.pathname === "/ui/runs") query.value = withPeriod(location.search, null).slice(1);
    }, true);
    // Its refusal (a name taken: 409, a bad name: 400) goes beside the form, said once there rather than again as a
    // toast; a new name typed clears it.
    document.addEventListener("htmx:beforeSwap", function (e) {
        var target = e.detail.target;
        if (!target || target.id !== "save-view-answer" || (e.detail.xhr.status !== 409 && e.detail.xhr.status !== 400)) return;
        e.detail.shouldSwap = true;
        e.detail.isError = false;
    });
    document.addEventListener("input", function (e) {
        if (!e.target.matches || !e.target.matches("form.save-view-form input[name=name]")) return;
        var answer = document.getElementById("save-view-answer");
        if (answer) answer.textContent = "";
    });

    // The runs page's address holds the list's view and the cards' period, each drawn by its own fragment: the period's
    // links know the list as it was when they were drawn (from the cards fragment, not at all), the list's links the
    // period. The address wins: the period's links are written from it whenever something comes in or the address
    // moves, and an address the list pushes carries the period the cards show (their field for the filter form).
    function withPeriod(path, period) {
        var at = path.indexOf("?");
        var kept = at < 0 ? [] : path.slice(at + 1).split("&").filter(function (p) { return p !== "" && p.split("=")[0] !== "period"; });
        if (period) kept.push("period=" + encodeURIComponent(period));
        return (at < 0 ? path : path.slice(0, at)) + (kept.length ? "?" + kept.join("&") : "");
    }
    function shownPeriod() {
        var field = document.querySelector("#run-stats input[name=period]");
        return field ? field.value : null;
    }
    function writePeriodLinks() {
        if (location.pathname !== "/ui/runs") return;
        var links = document.querySelectorAll(".period-switch a[data-period]");
        for (var i = 0; i < links.length; i++) {
            var url = withPeriod(location.pathname + location.search, links[i].getAttribute("data-period"));
            if (links[i].getAttribute("href") === url) continue;
            links[i].setAttribute("href", url);
            links[i].setAttribute("hx-push-url", url);
        }
        // Clear empties the filter and keeps the period the cards show.
        var clear = document.querySelector("#run-filters a.filters-clear");
        if (clear) clear.setAttribute("href", withPeriod(clear.getAttribute("href"), shownPeriod()));
    }
    document.addEventListener("htmx:load", writePeriodLinks);
    document.addEventListener("htmx:pushedIntoHistory", writePeriodLinks);
    document.addEventListener("htmx:beforeHistoryUpdate", function (e) {
        if (!e.detail.target || e.detail.target.id !== "runs-list") return;
        e.detail.history.path = withPeriod(e.detail.history.path, shownPeriod());
    });
    // The list's links, its poll and its refresh were drawn with the period of their time; what they fetch carries
    // the period shown now, so the list they bring back draws its links with it. The filter form sends the cards' field.
    document.addEventListener("htmx:configRequest", function (e) {
        if (!e.detail.target || e.detail.target.id !== "runs-list" || location.pathname !== "/ui/runs") return;
        var fromForm = e.detail.parameters && e.detail.parameters.period !== undefined;
        e.detail.path = withPeriod(e.detail.path, fromForm ? null : shownPeriod());
    });

    // The keyboard. Never while typing in a field, never with a modifier held.
    function typing(target) {
        return target && target.closest && (target.closest("input, textarea, select, [contenteditable]") !== null);
    }
    function rows() { return Array.prototype.slice.call(document.querySelectorAll("table.runs-table tbody tr.clickable")); }
    function currentRow() {
        var active = document.activeElement;
        return active && active.closest ? active.closest("table.runs-table tbody tr.clickable") : null;
    }
    function move(by) {
        var list = rows();
        if (list.length === 0) return;
        var at = list.indexOf(currentRow());
        var next = at < 0 ? (by > 0 ? 0 : list.length - 1) : Math.min(list.length - 1, Math.max(0, at + by));
        list[next].focus();
        list[next].scrollIntoView({ block: "nearest" });
    }
    function toggleSelected(row) {
        // A row's selection for the bulk actions (issue 15): its checkbox where the caller may act on runs.
        if (window.RunMonitorBulk && window.RunMonitorBulk.toggle(row)) return;
        var on = row.getAttribute("data-selected") !== "true";
        row.setAttribute("data-selected", on ? "true" : "false");
        row.classList.toggle("is-selected", on);
    }
    function openDialog() { return document.querySelector("dialog[open]"); }
    function walk(which) {
        var scope = openDialog() || document;
        var link = scope.querySelector(".run-walk .walk-" + which);
        if (!link) return;
        // Straight through htmx: a key pressed just after a swap may come before htmx has taken the new link in.
        var modalUrl = link.getAttribute("hx-get");
        if (modalUrl && window.htmx) window.htmx.ajax("GET", modalUrl, { source: link, target: link.getAttribute("hx-target") });
        else location.href = link.href;
    }

    // A swap of the list (the 5 s poll, a retry elsewhere) replaces the rows: the keyboard stays on the same run's row
    // (or its checkbox or link), and the status line says the count only when it has changed.
    var kept = null;
    function isList(e) { return e.detail.target && e.detail.target.id === "runs-list"; }
    document.addEventListener("htmx:beforeSwap", function (e) {
        if (!isList(e)) return;
        var row = currentRow();
        if (!row) { kept = null; return; }
        var active = document.activeElement;
        kept = { id: row.getAttribute("data-run-id"), part: active === row ? null : active.matches("input.run-select") ? "input.run-select" : active.matches("a.run-name") ? "a.run-name" : null };
    });
    document.addEventListener("htmx:afterSwap", function (e) {
        if (!isList(e)) return;
        var table = e.detail.target.querySelector("table.runs-table[data-summary]");
        var status = document.getElementById("runs-status");
        if (table && status && status.textContent.trim() !== table.getAttribute("data-summary")) status.textContent = table.getAttribute("data-summary");
        var was = kept;
        kept = null;
        if (!was || (document.activeElement && document.activeElement !== document.body)) return;
        var row = e.detail.target.querySelector('table.runs-table tbody tr[data-run-id="' + CSS.escape(was.id) + '"]');
        var target = row && was.part ? row.querySelector(was.part) : row;
        if (target) target.focus({ preventScroll: true });
    });

    // The run page reloads its main region when its run ends: from the address as it is now (the step opened since,
    // the list it was opened from, the log filter), not as the page was first drawn.
    document.addEventListener("htmx:configRequest", function (e) {
        var elt = e.detail.elt;
        if (!elt.classList || !elt.classList.contains("run-live-reload") || elt.getAttribute("hx-target") !== "#main") return;
        if (new URL(e.detail.path, location.href).pathname === location.pathname) e.detail.path = location.pathname + location.search;
    });

    // A tenant chosen in the filter scopes the whole page (its stats cards, the workflows to choose from), not the list
    // alone: the form goes as a page, before htmx would swap the list under cards still counting every tenant.
    document.addEventListener("change", function (e) {
        if (!e.target.matches || !e.target.matches("#run-filters select[name=tenant]")) return;
        e.stopPropagation();
        var form = e.target.form;
        var query = new URLSearchParams();
        // What the list's own links leave out: empty fields, and a field at its default (`data-default`: the page size).
        new FormData(form).forEach(function (value, name) {
            var field = form.elements[name];
            if (value !== "" && !(field && field.getAttribute && field.getAttribute("data-default") === value)) query.append(name, value);
        });
        location.assign(form.action + (query.toString() ? "?" + query : ""));
    }, true);

    document.addEventListener("keydown", function (e) {
        if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
        // Escape leaves the search for the list's keys and keeps what was typed (a search field clears itself on Escape).
        if (e.key === "Escape" && e.target.id === "filter-q") { e.preventDefault(); e.target.blur(); return; }
        if (typing(e.target)) return;
        if (e.key === "[" || e.key === "]") { walk(e.key === "[" ? "prev" : "next"); return; }
        var help = document.getElementById("shortcuts-dialog");
        if (!help || openDialog()) return; // the runs page's keys, while no dialog is open over it
        switch (e.key) {
            case "j": move(1); break;
            case "k": move(-1); break;
            case "o": {
                var row = currentRow();
                var link = row && row.querySelector("a.run-name");
                if (link) location.href = link.href;
                break;
            }
            case "x": {
                var selected = currentRow();
                if (selected) toggleSelected(selected);
                break;
            }
            case "/": {
                var search = document.getElementById("filter-q");
                if (search) { e.preventDefault(); search.focus(); search.select(); }
                break;
            }
            case "?": help.showModal(); break;
            default: return;
        }
    });
})();

// Previous/next inside the modal swaps the next run in: the keyboard stays on the same link (or the close button),
// and when the modal closes it lands on the row of the run shown last.
var walkedTo = null;
document.addEventListener("close", function (e) {
    if (e.target.id !== "run-detail-modal" || !walkedTo) return;
    var row = document.querySelector('table.runs-table tr[data-run-id="' + CSS.escape(walkedTo) + '"]');
    walkedTo = null;
    if (row) row.focus();
}, true);
document.addEventListener("htmx:afterSwap", function (e) {
    var elt = e.detail.elt;
    if (e.detail.target && e.detail.target.id === "run-detail-modal") walkedTo = null;
    if (!e.detail.target || e.detail.target.id !== "run-detail-modal" || !elt.matches || !elt.matches(".run-walk a")) return;
    walkedTo = elt.getAttribute("data-run-id");
    var again = e.detail.target.querySelector(".run-walk ." + (elt.classList.contains("walk-prev") ? "walk-prev" : "walk-next"))
        || e.detail.target.querySelector("[data-close-modal]");
    if (again) again.focus();
});

// "Edit input": the payload must be JSON (or empty when the run had none) before the retry is sent. Capturing on the
// document runs before htmx's own submit listener on the form, so a refused form is never posted.
document.addEventListener("submit", function (e) {
    var field = e.target.querySelector && e.target.querySelector("textarea[data-json-input]");
    if (!field) return;
    var text = field.value.trim();
    var problem = "";
    if (text !== "" || field.defaultValue.trim() !== "") {
        try { JSON.parse(text); } catch (err) { problem = "Not JSON: " + err.message; }
    }
    field.setCustomValidity(problem);
    if (!problem) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    var details = field.closest("details");
    if (details) details.open = true;
    field.reportValidity();
}, true);
document.addEventListener("input", function (e) {
    if (e.target.matches && e.target.matches("textarea[data-json-input]")) e.target.setCustomValidity("");
});

// The modal reads a run without its payloads: "Edit input" fetches the payload when first opened, then enables the field.
document.addEventListener("toggle", function (e) {
    var details = e.target;
    if (!details.matches || !details.matches("details.edit-input") || !details.open) return;
    var field = details.querySelector("textarea[data-payload-url]:disabled");
    if (!field || field.hasAttribute("data-loading")) return;
    field.setAttribute("data-loading", "");
    fetch(field.getAttribute("data-payload-url"), { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.text(); })
        .then(function (text) {
            var value = JSON.parse(text);
            var shown = value === null ? "" : JSON.stringify(value, null, 2);
            field.defaultValue = shown;
            field.value = shown;
            field.disabled = false;
            field.removeAttribute("data-loading");
            field.focus();
        })
        .catch(function () {
            field.removeAttribute("data-loading");
            if (window.RunMonitor && window.RunMonitor.toast) window.RunMonitor.toast("The run's input could not be loaded; try again.", "error");
        });
}, true);
