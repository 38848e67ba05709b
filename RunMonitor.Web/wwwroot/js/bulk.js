// Bulk actions on the runs page (issue 15): row checkboxes and the page's header box, "Select all N matching this
// filter", a count from the server before anything runs (a dry run), a confirmation naming the action and the count
// (typed above 100 runs), then the operation's progress fragment, polled until it answers 286. Without this file the
// bar is a plain form that posts the checked rows to /bulk.
(function () {
    "use strict";

    var TYPED_ABOVE = 100;
    var selected = new Set();
    var pending = null; // the request the dialog confirms: {action, body, eligible}

    function form() { return document.getElementById("bulk-form"); }
    function scope() { return document.getElementById("bulk-scope"); }
    function dialog() { return document.getElementById("bulk-confirm"); }
    function allBox() { var f = form(); return f ? f.querySelector(".bulk-select-all") : null; }
    function bar() { var f = form(); return f ? f.querySelector(".bulk-bar") : null; }
    function boxes() { return Array.prototype.slice.call(document.querySelectorAll("table.runs-table input.run-select")); }
    // Digits grouped by commas, as en-US writes them; not toLocaleString: its first call loads ICU's number formats,
    // 15-18 ms of the page's DOMContentLoaded task (docs/PERFORMANCE.md, issue 18).
    function count(n) { return String(Math.trunc(Number(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ","); }
    // The verb before a count ("Cancel 3 runs?"), and the bar's button, which the confirmation quotes (as
    // BulkActions.Label and Button).
    function label(action) {
        return action === "retryFromFailedStep" ? "Retry from failed step" : action === "cancel" ? "Cancel" : "Retry";
    }
    function button(action) { return action === "cancel" ? "Cancel runs" : label(action); }
    // "1 run", "1,234 runs".
    function runs(n) { return count(n) + " run" + (n === 1 ? "" : "s"); }
    // The operation named as a thing, for its toast (as BulkActions.Of).
    function of(action, n) {
        var counted = runs(n);
        return action === "cancel" ? "Cancellation of " + counted
            : action === "retryFromFailedStep" ? "Retry of " + counted + " from " + (n === 1 ? "its failed step" : "their failed steps")
            : "Retry of " + counted;
    }
    function token() {
        try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}").RequestVerificationToken || ""; } catch (e) { return ""; }
    }
    function toast(message, level) {
        if (window.RunMonitor && window.RunMonitor.toast) window.RunMonitor.toast(message, level);
    }

    function mark(box) {
        var row = box.closest("tr");
        if (!row) return;
        row.setAttribute("data-selected", box.checked ? "true" : "false");
        row.classList.toggle("is-selected", box.checked);
    }

    // The bar says how many runs an action would take: the checked rows, or every run the filter matches.
    function refresh() {
        var f = form();
        if (!f) return;
        var all = allBox() && allBox().checked;
        var s = scope();
        var total = s ? Number(s.getAttribute("data-total") || "0") : 0;
        var capped = s && s.getAttribute("data-capped") === "true";
        f.querySelector(".bulk-count-value").textContent = all ? count(total) + (capped ? "+" : "") : count(selected.size);
        var chosen = all || selected.size > 0;
        bar().classList.toggle("has-selection", chosen);
        var clear = f.querySelector(".bulk-clear");
        if (clear) clear.hidden = !chosen;
        // Nothing chosen, nothing to act on: the actions wait for a selection (without script the form answers that
        // itself), and "Select all 0 matching" is not offered.
        stick();
        f.querySelectorAll(".bulk-bar button[name=action]").forEach(function (b) { b.disabled = !chosen; });
        var everyMatching = f.querySelector(".bulk-all");
        if (everyMatching) everyMatching.hidden = total === 0 && !all;
        var list = boxes();
        var page = document.querySelector("table.runs-table input.run-select-page");
        if (page) {
            var on = list.filter(function (b) { return b.checked; }).length;
            page.checked = list.length > 0 && on === list.length;
            page.indeterminate = on > 0 && on < list.length;
        }
    }

    // While runs are chosen the bar sticks (bulk.css) under the header where the header sticks, at the screen's top where
    // it scrolls away (a phone); a row that focus or j/k scrolls to stops below both, not under them.
    function stick() {
        var b = bar();
        if (!b) return;
        var head = document.querySelector(".topbar");
        var top = head && getComputedStyle(head).position === "sticky" ? head.getBoundingClientRect().height : 0;
        b.style.setProperty("--bulk-bar-top", top + "px");
        var below = top + (b.classList.contains("has-selection") ? b.getBoundingClientRect().height : 0);
        document.documentElement.style.scrollPaddingTop = below > 0 ? below + 8 + "px" : "";
    }
    window.addEventListener("resize", stick);
    document.addEventListener("DOMContentLoaded", function () {
        if (bar() && window.ResizeObserver) new ResizeObserver(stick).observe(bar());
    });

    // The filter the selection was made under (the scope's data-filter: sort and page aside). Runs chosen under another
    // filter are not in the list any more: a bar still counting them would act on runs nobody sees.
    var chosenUnder = null;

    // After every swap of the list: the new rows show the selection, the bar the new filter's count and query.
    function sync() {
        var f = form();
        var s = scope();
        if (!f) return;
        if (s) {
            var filter = s.getAttribute("data-filter");
            if (chosenUnder !== null && filter !== chosenUnder) selected.clear();
            chosenUnder = filter;
            var query = f.querySelector(".bulk-query");
            if (query && query.value !== s.getAttribute("data-query")) {
                query.value = s.getAttribute("data-query");
                if (allBox()) allBox().checked = false; // "all matching" meant the filter it was ticked under
            }
            var total = f.querySelector(".bulk-total");
            if (total) total.textContent = count(s.getAttribute("data-total") || "0") + (s.getAttribute("data-capped") === "true" ? "+" : "");
        }
        boxes().forEach(function (box) {
            box.checked = (allBox() && allBox().checked) || selected.has(box.value);
            mark(box);
        });
        refresh();
    }

    // The whole cell around a row's box is its target (a 16 px box beside a row that opens the modal is hard to tap).
    document.addEventListener("click", function (e) {
        var cell = e.target.closest && e.target.closest("table.runs-table td.select-cell, table.runs-table th.select-col");
        if (!cell || e.target.matches("input")) return;
        var box = cell.querySelector("input[type=checkbox]");
        if (box) box.click();
    });

    document.addEventListener("change", function (e) {
        var t = e.target;
        if (!t.matches) return;
        if (t.matches("input.run-select")) {
            if (t.checked) selected.add(t.value); else selected.delete(t.value);
            if (!t.checked && allBox()) allBox().checked = false;
            mark(t);
            refresh();
        } else if (t.matches("input.run-select-page")) {
            boxes().forEach(function (box) {
                box.checked = t.checked;
                if (t.checked) selected.add(box.value); else selected.delete(box.value);
                mark(box);
            });
            if (!t.checked && allBox()) allBox().checked = false;
            refresh();
        } else if (t.matches("#bulk-form .bulk-select-all")) {
            boxes().forEach(function (box) {
                box.checked = t.checked || selected.has(box.value);
                mark(box);
            });
            refresh();
        }
    });

    function clearSelection() {
        selected.clear();
        if (allBox()) allBox().checked = false;
        boxes().forEach(function (box) { box.checked = false; mark(box); });
        refresh();
    }

    document.addEventListener("click", function (e) {
        if (e.target.closest && e.target.closest("#bulk-form .bulk-clear")) clearSelection();
    });

    document.addEventListener("htmx:afterSwap", function (e) {
        if (e.detail.target && e.detail.target.id === "runs-list") sync();
    });
    document.addEventListener("DOMContentLoaded", sync);

    // What the action applies to, as POST /api/bulk takes it.
    // The ids carry the list's tenant when a super admin chose one: a run id is unique within a tenant only.
    function selection(action) {
        var s = scope();
        var filter = {};
        try { filter = JSON.parse(s ? s.getAttribute("data-filter") || "{}" : "{}"); } catch (err) { filter = {}; }
        if (allBox() && allBox().checked) return { action: action, filter: filter };
        var body = { action: action, ids: Array.from(selected) };
        if (filter.tenant) body.tenant = filter.tenant;
        return body;
    }

    function post(body) {
        return fetch("/api/bulk", {
            method: "POST",
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", "Accept": "application/json", "RequestVerificationToken": token() },
            body: JSON.stringify(body),
        }).then(function (r) {
            return r.text().then(function (text) {
                var json = {};
                try { json = text ? JSON.parse(text) : {}; } catch (err) { json = {}; }
                return { status: r.status, json: json };
            });
        });
    }

    // A refusal the dialog shows under its count.
    function say(message) {
        var error = dialog().querySelector(".bulk-confirm-error");
        error.textContent = message;
        error.hidden = false;
    }

    function problem(json, status) {
        return (json && (json.detail || json.title)) || ("The request failed (" + status + ")");
    }

    // `changed`: what moved since the count the person last saw (the bar's, or this dialog's), said above the count.
    function showConfirm(action, body, counted, changed) {
        var d = dialog();
        if (!d) return;
        var eligible = counted.eligible;
        var matched = counted.matched;
        var what = label(action);
        var quoted = "“" + button(action) + "”";
        pending = { action: action, body: body, eligible: eligible };
        d.querySelector("#bulk-confirm-title").textContent = what + " " + runs(eligible) + "?";
        var text = eligible === 0
            ? "None of the " + count(matched) + " selected runs can take " + quoted + " now."
            : eligible === matched
                ? quoted + " applies to " + (matched === 1 ? "the selected run." : "all " + count(matched) + " selected runs.")
                : quoted + " applies to " + count(eligible) + " of the " + count(matched) + " selected runs now; the others are left as they are.";
        d.querySelector(".bulk-confirm-text").textContent = text;
        var note = d.querySelector(".bulk-confirm-changed");
        note.textContent = changed || "";
        note.hidden = !changed;
        var typed = d.querySelector(".bulk-typed");
        var input = d.querySelector(".bulk-typed-input");
        typed.hidden = eligible <= TYPED_ABOVE;
        d.querySelector(".bulk-typed-count").textContent = String(eligible);
        input.value = "";
        var error = d.querySelector(".bulk-confirm-error");
        error.hidden = true;
        error.textContent = "";
        var go = d.querySelector(".bulk-confirm-go");
        go.textContent = what + " " + runs(eligible);
        go.classList.toggle("btn-danger", action === "cancel");
        go.disabled = eligible === 0 || eligible > TYPED_ABOVE;
        if (!d.open) d.showModal();
        (eligible > TYPED_ABOVE ? input : eligible === 0 ? d.querySelector("[data-dialog-close]") : go).focus();
    }

    document.addEventListener("input", function (e) {
        if (!e.target.matches || !e.target.matches("#bulk-confirm .bulk-typed-input") || !pending) return;
        dialog().querySelector(".bulk-confirm-go").disabled = e.target.value.replace(/[,\s]/g, "") !== String(pending.eligible);
    });
    document.addEventListener("keydown", function (e) {
        if (e.key !== "Enter" || !e.target.matches || !e.target.matches("#bulk-confirm .bulk-typed-input")) return;
        e.preventDefault();
        var go = dialog().querySelector(".bulk-confirm-go");
        if (!go.disabled) go.click();
    });

    // An action button: count first (nothing runs), then ask.
    document.addEventListener("submit", function (e) {
        var f = e.target;
        if (f.id !== "bulk-form") return;
        e.preventDefault();
        var action = e.submitter && e.submitter.value ? e.submitter.value : "retry";
        var body = selection(action);
        if (!body.filter && body.ids.length === 0) {
            toast("Select runs first (the boxes in the table, or all matching this filter).", "info");
            return;
        }
        // What the bar says now for "all matching" (not a capped "10,000+"): runs that arrived or finished since it was
        // drawn are said in the dialog, before anything runs.
        var s = scope();
        var shown = body.filter && s && s.getAttribute("data-capped") !== "true" ? Number(s.getAttribute("data-total") || "0") : null;
        var dry = Object.assign({}, body, { dryRun: true });
        post(dry).then(function (r) {
            if (r.status !== 200) { toast(problem(r.json, r.status), "error"); return; }
            var matched = r.json.matched;
            showConfirm(action, body, r.json, shown !== null && shown !== matched
                ? "Now " + runs(matched) + " match — was " + count(shown) + " when the list was shown." : "");
        }).catch(function () { toast("RunMonitor could not be reached.", "error"); });
    });

    document.addEventListener("click", function (e) {
        var go = e.target.closest && e.target.closest("#bulk-confirm .bulk-confirm-go");
        if (!go || !pending || go.disabled) return;
        var request = Object.assign({}, pending.body, { expectedCount: pending.eligible });
        var action = pending.action;
        go.disabled = true;
        post(request).then(function (r) {
            if (r.status === 202) {
                dialog().close();
                pending = null;
                clearSelection();
                toast(of(action, r.json.eligible) + " started.", "info");
                var slot = document.getElementById("bulk-progress-slot");
                if (window.htmx && slot) window.htmx.ajax("GET", "/ui/bulk/" + encodeURIComponent(r.json.id), { target: slot, swap: "innerHTML" });
                return;
            }
            var message = problem(r.json, r.status);
            if (r.status !== 409) {
                say(message);
                go.disabled = false;
                return;
            }
            // Refused, nothing done: count again and ask again. A count that moved (runs arrived or finished since the
            // dialog counted) is said as such; any other refusal (an id of several tenants) as the server put it.
            var asked = pending.eligible;
            post(Object.assign({}, pending.body, { dryRun: true })).then(function (again) {
                var now = again.status === 200 ? again.json.eligible : asked;
                if (again.status === 200) {
                    showConfirm(action, pending.body, again.json, now === asked ? ""
                        : "Now " + runs(now) + " can take “" + button(action) + "” — was " + count(asked) + ". Nothing was done: confirm the new count.");
                }
                if (now === asked) say(message);
            });
        }).catch(function () {
            go.disabled = false;
            toast("RunMonitor could not be reached.", "error");
        });
    });

    // The x shortcut (views.js) toggles the focused row's box through here.
    window.RunMonitorBulk = {
        toggle: function (row) {
            var box = row.querySelector("input.run-select");
            if (!box) return false;
            box.checked = !box.checked;
            box.dispatchEvent(new Event("change", { bubbles: true }));
            return true;
        },
    };
})();
