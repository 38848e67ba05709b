// Times: the header's time switch (issue 19), and log lines' clock times in the zone the switch picks. The server writes
// relative words ("3 minutes ago", Humanizer) and log times as UTC clock times, each with its exact instant in
// `datetime` and the title; without script the page reads as the server wrote it.
(function () {
    "use strict";

    var root = document.documentElement;

    function shown() { return root.getAttribute("data-time") || "relative"; }

    function pad(n, width) {
        var text = String(n);
        while (text.length < (width || 2)) text = "0" + text;
        return text;
    }
    function absolute(date, utc, seconds) {
        var y = utc ? date.getUTCFullYear() : date.getFullYear();
        var mo = (utc ? date.getUTCMonth() : date.getMonth()) + 1;
        var d = utc ? date.getUTCDate() : date.getDate();
        var h = utc ? date.getUTCHours() : date.getHours();
        var mi = utc ? date.getUTCMinutes() : date.getMinutes();
        var s = utc ? date.getUTCSeconds() : date.getSeconds();
        return y + "-" + pad(mo) + "-" + pad(d) + " " + pad(h) + ":" + pad(mi) + (seconds ? ":" + pad(s) : "") + (utc ? " UTC" : "");
    }
    // A log line's time of day to the millisecond (`time.clock`), as the server writes it in UTC.
    function clock(date, utc) {
        return pad(utc ? date.getUTCHours() : date.getHours()) + ":" + pad(utc ? date.getUTCMinutes() : date.getMinutes()) + ":" +
            pad(utc ? date.getUTCSeconds() : date.getSeconds()) + "." + pad(utc ? date.getUTCMilliseconds() : date.getMilliseconds(), 3);
    }
    // The browser's zone, asked once and only when a log panel shows local times (Intl's first call loads ICU's data).
    var zoneName = null;
    function zone() {
        if (zoneName !== null) return zoneName;
        try { zoneName = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (err) { zoneName = ""; }
        if (!zoneName) zoneName = "local time";
        return zoneName;
    }

    // What a time reads in a mode: a log line's clock in UTC unless the switch says local; any other as the server's
    // words (kept in `data-relative` when first replaced), or the date and time in UTC or here (with seconds on the run page).
    function textOf(t, mode) {
        var date = new Date(t.getAttribute("datetime"));
        if (isNaN(date.getTime())) return null;
        if (t.classList.contains("clock")) return clock(date, mode !== "local");
        if (!t.hasAttribute("data-relative")) t.setAttribute("data-relative", t.textContent);
        if (mode === "relative") return t.getAttribute("data-relative");
        return absolute(date, mode === "utc", !!t.closest(".time-seconds"));
    }
    // Only a text that changes is written: writing the same one still costs the page a layout.
    function write(element, text) {
        if (text !== null && element.textContent !== text) element.textContent = text;
    }
    function each(scope, selector, action) {
        if (scope.matches && scope.matches(selector)) action(scope);
        scope.querySelectorAll(selector).forEach(action);
    }
    function render(scope, mode, selector) {
        each(scope, selector, function (t) { write(t, textOf(t, mode)); });
        each(scope, ".log-zone", function (label) { write(label, "Times in " + (mode === "local" ? zone() : "UTC")); });
    }

    // New content (the page, an htmx swap, log lines logs.js adds) as the server wrote it: in relative mode its words
    // and its UTC clocks are what it shows, so it is left alone (rewriting every time at load cost a layout of the
    // whole page: Lighthouse's phone profile counted it as blocking time); in UTC mode only its words change.
    function apply(scope) {
        var mode = shown();
        if (mode === "relative" || !scope || !scope.querySelectorAll) return;
        render(scope, mode, mode === "utc" ? "time[datetime]:not(.clock)" : "time[datetime]");
    }

    document.addEventListener("change", function (e) {
        var select = e.target;
        if (select.id !== "pref-time") return;
        root.setAttribute("data-time", select.value);
        render(document, select.value, "time[datetime]");
    });
    document.addEventListener("htmx:load", function (e) { apply(e.detail.elt); });
    document.addEventListener("DOMContentLoaded", function () { apply(document); });

    window.RunMonitorTimes = { apply: apply };
})();
