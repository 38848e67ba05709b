// Run control and live views: confirmation dialogs for Retry / Cancel, the live run block
// (SSE with a 5 s polling fallback) and opt-in browser notifications when a watched run ends.
(function () {
    "use strict";

    var openers = new WeakMap();
    var notifyKey = "runmonitor.notify";

    function toast(message, level) {
        if (window.RunMonitor && window.RunMonitor.toast) window.RunMonitor.toast(message, level);
    }

    // Confirmation dialogs: native <dialog>.showModal() keeps focus inside and closes on Escape.
    document.addEventListener("click", function (e) {
        if (!e.target.closest) return;
        var open = e.target.closest("[data-dialog-open]");
        if (open) {
            var dialog = document.getElementById(open.getAttribute("data-dialog-open"));
            if (dialog && !dialog.open) {
                openers.set(dialog, open);
                dialog.showModal();
            }
            return;
        }
        var close = e.target.closest("[data-dialog-close]");
        if (close && close.closest("dialog.confirm-dialog")) {
            close.closest("dialog").close();
            return;
        }
        if (e.target.matches && e.target.matches("dialog.confirm-dialog")) {
            // A click on the dialog element itself is its padding or its backdrop: only the backdrop closes.
            var box = e.target.getBoundingClientRect();
            if (e.clientX < box.left || e.clientX > box.right || e.clientY < box.top || e.clientY > box.bottom) e.target.close();
            return;
        }
        var notify = e.target.closest("[data-notify-toggle]");
        if (notify) enableNotifications();
    });

    // Focus goes back to the button that opened the dialog ("close" does not bubble: capture it).
    document.addEventListener("close", function (e) {
        var dialog = e.target;
        if (!dialog.classList || !dialog.classList.contains("confirm-dialog")) return;
        var opener = openers.get(dialog);
        if (opener && document.contains(opener)) opener.focus();
    }, true);

    // Escape in a confirmation dialog closes only that dialog, never the run modal beneath it.
    document.addEventListener("keydown", function (e) {
        if (e.key === "Escape" && e.target.closest && e.target.closest("dialog.confirm-dialog[open]")) e.stopPropagation();
    }, true);

    // The answer replaces the actions block (success) or comes back as a toast (app.js): either
    // way the dialog is done.
    document.addEventListener("htmx:afterRequest", function (e) {
        var form = e.detail.elt;
        if (!form.matches || !form.matches("form[data-confirm-form]")) return;
        var dialog = form.closest("dialog");
        if (dialog && dialog.open) dialog.close();
    });

    // A view that reloads itself (the modal on a status change) keeps the keyboard user inside it.
    var refocus = null;
    document.addEventListener("htmx:beforeSwap", function (e) {
        var target = e.detail.target;
        refocus = target && target.contains && target.contains(document.activeElement) && target.matches(".modal-content")
            ? target.closest("dialog") : null;
    });
    document.addEventListener("htmx:afterSwap", function () {
        if (refocus && document.contains(refocus) && !refocus.contains(document.activeElement)) {
            var close = refocus.querySelector("[data-close-modal]");
            if (close) close.focus();
        }
        refocus = null;
    });

    document.addEventListener("htmx:afterSettle", function () {
        var notice = document.querySelector(".run-actions [data-autofocus]:not([data-focused])");
        if (notice) {
            notice.setAttribute("data-focused", "");
            notice.focus();
        }
    });

    // Live run block: while its event stream flows (an event or the server's 10 s ping within the
    // last 25 s) the 5 s poll is skipped; when the stream is down, reconnecting or held back by a
    // buffering proxy, the poll carries on.
    var flowing = new WeakMap();
    function streamState(e, open) {
        if (!e.target || !e.target.setAttribute) return;
        if (open) {
            e.target.setAttribute("data-sse-open", "");
            flowing.set(e.target, Date.now());
        } else {
            e.target.removeAttribute("data-sse-open");
            flowing.delete(e.target);
        }
    }
    document.addEventListener("htmx:sseOpen", function (e) { streamState(e, true); });
    document.addEventListener("htmx:sseError", function (e) { streamState(e, false); });
    document.addEventListener("htmx:sseClose", function (e) { streamState(e, false); });
    document.addEventListener("htmx:sseMessage", function (e) {
        var source = e.target.closest && e.target.closest("[data-sse-connect]");
        if (source) flowing.set(source, Date.now());
    });

    // `seen` is the status the block shows now, not the one it was drawn with: once one refresh has
    // shown the run finished, the next (an event or poll right behind it) must not announce it again.
    document.addEventListener("htmx:configRequest", function (e) {
        var elt = e.detail.elt;
        if (!elt.hasAttribute || !elt.hasAttribute("data-live-poll")) return;
        var state = elt.querySelector(".run-live-state[data-run-status]");
        if (!state) return;
        var shown = encodeURIComponent(state.getAttribute("data-run-status"));
        e.detail.path = e.detail.path.replace(/([?&]seen=)[^&#]*/, "$1" + shown);
    });

    document.addEventListener("htmx:beforeRequest", function (e) {
        var elt = e.detail.elt;
        if (!elt.hasAttribute || !elt.hasAttribute("data-live-poll")) return;
        var polled = !(e.detail.requestConfig && e.detail.requestConfig.triggeringEvent);
        var source = elt.closest("[data-sse-connect]");
        var last = source && source.hasAttribute("data-sse-open") ? flowing.get(source) : undefined;
        if (polled && last !== undefined && Date.now() - last < 25000) e.preventDefault();
    });

    // Browser notifications, opt-in: the server's `runFinished` event (with its toast) says a
    // watched run ended.
    function supported() { return "Notification" in window; }
    function wanted() {
        return supported() && Notification.permission === "granted" && localStorage.getItem(notifyKey) === "1";
    }
    function refreshToggles(root) {
        var buttons = (root && root.querySelectorAll ? root : document).querySelectorAll("[data-notify-toggle]");
        for (var i = 0; i < buttons.length; i++) {
            var hide = !supported() || Notification.permission === "denied" || wanted();
            if (buttons[i].hidden !== hide) buttons[i].hidden = hide;
        }
    }
    function enableNotifications() {
        if (!supported()) return;
        Notification.requestPermission().then(function (permission) {
            if (permission === "granted") {
                localStorage.setItem(notifyKey, "1");
                toast("Browser notifications are on: you will be told when a run you watch finishes.", "success");
            } else {
                toast("Browser notifications were not allowed.", "info");
            }
            refreshToggles();
        });
    }
    document.addEventListener("runFinished", function (e) {
        var d = e.detail || {};
        if (!wanted()) return;
        try {
            new Notification("Run " + (d.status || "finished"), { body: (d.name || "") + " (" + (d.runId || "") + ")", tag: "run-" + d.runId });
        } catch (err) { /* some browsers allow notifications only from a service worker */ }
    });
    document.addEventListener("htmx:load", function (e) { refreshToggles(e.detail.elt); });
    document.addEventListener("DOMContentLoaded", function () { refreshToggles(document); });
})();
