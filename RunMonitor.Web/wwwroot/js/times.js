// Times: the header's time switch (issue 19), relative times that go on ticking while a page stays open, and log lines'
// clock times in the zone the switch picks. The server writes relative words ("3 minutes ago", Humanizer) and log
// times as UTC clock times, each with its exact instant in `datetime` and the title; without script the page reads as
// the server wrote it.
(function () {
    "use strict";

    var root = document.documentElement;

    function shown() { return root.getAttribute("data-time") || "relative"; }

    // The server's clock minus this one, from the time it wrote the page: ticking words are reckoned from the server's
    // time, as the words it wrote were.
    var skew = Date.parse(root.getAttribute("data-now") || "") - Date.now();
    if (isNaN(skew)) skew = 0;
    function now() { return Date.now() + skew; }

    // Humanizer's words for a time against now: its DateTimeHumanizeAlgorithms.DefaultHumanize, as Format.Relative
    // follows it step for step (TimesBrowserTests holds the two equal over every unit boundary).
    var day = 86400000;
    var single = { second: "one second", minute: "a minute", hour: "an hour", month: "one month", year: "one year" };
    function words(unit, count, future) {
        if (count === 0) return "now";
        if (unit === "day" && count === 1) return future ? "tomorrow" : "yesterday";
        return (count === 1 ? single[unit] : count + " " + unit + "s") + (future ? " from now" : " ago");
    }
    function dateOf(time) { return Math.floor(time / day) * day; }
    // A UTC date moved by whole months as .NET's AddMonths moves it: the same day, or the month's last when it is shorter.
    function addMonths(date, months) {
        var d = new Date(date);
        var first = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1));
        var last = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate();
        return Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), Math.min(d.getUTCDate(), last));
    }
    function relative(value, basis) {
        var future = value > basis;
        var ms = Math.abs(basis - value);
        var days = ms / day;
        if (ms < 500) return words("second", 0, future);
        if (ms < 60000) return words("second", Math.floor(ms / 1000), future);
        if (ms < 120000) return words("minute", 1, future);
        if (ms < 3600000) return words("minute", Math.floor(ms / 60000), future);
        if (ms < 5400000) return words("hour", 1, future);
        if (ms < day) return words("hour", Math.floor(ms / 3600000), future);
        if (ms < 2 * day) return words("day", Math.abs(dateOf(value) - dateOf(basis)) / day, future);
        if (days < 28) return words("day", Math.floor(days), future);
        if (days < 30) return addMonths(dateOf(basis), future ? 1 : -1) === dateOf(value) ? words("month", 1, future) : words("day", Math.floor(days), future);
        if (days < 345) return words("month", Math.floor(days / 29.5), future);
        return words("year", Math.max(1, Math.floor(days / 365)), future);
    }

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

    // What a time reads in a mode: a log line's clock in UTC unless the switch says local; any other as words of `at`,
    // or the date and time in UTC or here (with seconds on the run page).
    function textOf(t, mode, at) {
        var date = new Date(t.getAttribute("datetime"));
        if (isNaN(date.getTime())) return null;
        if (t.classList.contains("clock")) return clock(date, mode !== "local");
        if (mode === "relative") return relative(date.getTime(), at);
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
        var at = now();
        each(scope, selector, function (t) { write(t, textOf(t, mode, at)); });
        each(scope, ".log-zone", function (label) { write(label, "Times in " + (mode === "local" ? zone() : "UTC")); });
    }

    // New content (the page, an htmx swap, log lines logs.js adds) as the server wrote it: in relative mode its words
    // are of now and its clocks in UTC already, so it is left alone (rewriting every time at load cost a layout of the
    // whole page: Lighthouse's phone profile counted it as blocking time); in UTC mode only its words change.
    function apply(scope) {
        var mode = shown();
        if (mode === "relative" || !scope || !scope.querySelectorAll) return;
        render(scope, mode, mode === "utc" ? "time[datetime]:not(.clock)" : "time[datetime]");
    }

    // Words go stale while a page stays open ("2 minutes ago" for an hour): they are said again every 30 s and when the
    // tab is shown again. Clock times, and dates shown in UTC or here, do not change.
    function tick() {
        if (document.hidden || shown() !== "relative") return;
        render(document, "relative", "time[datetime]:not(.clock)");
    }
    setInterval(tick, 30000);
    document.addEventListener("visibilitychange", tick);

    document.addEventListener("change", function (e) {
        var select = e.target;
        if (select.id !== "pref-time") return;
        root.setAttribute("data-time", select.value);
        render(document, select.value, "time[datetime]");
    });
    document.addEventListener("htmx:load", function (e) { apply(e.detail.elt); });
    document.addEventListener("DOMContentLoaded", function () { apply(document); });

    window.RunMonitorTimes = { apply: apply, relative: relative };
})();
