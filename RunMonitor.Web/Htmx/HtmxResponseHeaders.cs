using System.Text.Json;

namespace RunMonitor.Web.Htmx;

/// <summary>When htmx fires a triggered event: on receipt, after the swap, or after the settle.</summary>
public enum HtmxTriggerTiming
{
    /// <summary><c>HX-Trigger</c>: as soon as the response arrives.</summary>
    Default,
    /// <summary><c>HX-Trigger-After-Swap</c>.</summary>
    AfterSwap,
    /// <summary><c>HX-Trigger-After-Settle</c>.</summary>
    AfterSettle,
}

/// <summary>Builds htmx response headers (mirrors Htmx.Net's <c>HtmxResponseHeaders</c>).</summary>
public sealed class HtmxResponseHeaders
{
    /// <summary>htmx's status code for "stop polling".</summary>
    public const int StopPollingStatusCode = 286;

    /// <summary>Header names htmx reads from responses.</summary>
    public static class Keys
    {
        /// <summary><c>HX-Location</c>: a client-side redirect without a full reload.</summary>
        public const string Location = "HX-Location";
        /// <summary><c>HX-Push-Url</c>: push a URL into the history stack.</summary>
        public const string PushUrl = "HX-Push-Url";
        /// <summary><c>HX-Redirect</c>: a full client-side redirect.</summary>
        public const string Redirect = "HX-Redirect";
        /// <summary><c>HX-Refresh</c>: a full page refresh.</summary>
        public const string Refresh = "HX-Refresh";
        /// <summary><c>HX-Replace-Url</c>: replace the current URL in the location bar.</summary>
        public const string ReplaceUrl = "HX-Replace-Url";
        /// <summary><c>HX-Reswap</c>: how the response is swapped.</summary>
        public const string Reswap = "HX-Reswap";
        /// <summary><c>HX-Retarget</c>: a CSS selector for another target.</summary>
        public const string Retarget = "HX-Retarget";
        /// <summary><c>HX-Reselect</c>: which part of the response is swapped.</summary>
        public const string Reselect = "HX-Reselect";
        /// <summary><c>HX-Trigger</c>: client events to fire.</summary>
        public const string Trigger = "HX-Trigger";
        /// <summary><c>HX-Trigger-After-Settle</c>.</summary>
        public const string TriggerAfterSettle = "HX-Trigger-After-Settle";
        /// <summary><c>HX-Trigger-After-Swap</c>.</summary>
        public const string TriggerAfterSwap = "HX-Trigger-After-Swap";
    }

    private readonly IHeaderDictionary _headers;
    private readonly Dictionary<HtmxTriggerTiming, Dictionary<string, object?>> _triggers = new();

    internal HtmxResponseHeaders(IHeaderDictionary headers) => _headers = headers;

    /// <summary>Redirect on the client without a full reload.</summary>
    public HtmxResponseHeaders Location(string path) { _headers[Keys.Location] = path; return this; }

    /// <summary>Push this URL into the browser's history.</summary>
    public HtmxResponseHeaders PushUrl(string url) { _headers[Keys.PushUrl] = url; return this; }

    /// <summary>Replace the browser's current URL.</summary>
    public HtmxResponseHeaders ReplaceUrl(string url) { _headers[Keys.ReplaceUrl] = url; return this; }

    /// <summary>A full client-side redirect.</summary>
    public HtmxResponseHeaders Redirect(string url) { _headers[Keys.Redirect] = url; return this; }

    /// <summary>A full page refresh.</summary>
    public HtmxResponseHeaders Refresh() { _headers[Keys.Refresh] = "true"; return this; }

    /// <summary>Swap the response with another hx-swap value.</summary>
    public HtmxResponseHeaders Reswap(string swap) { _headers[Keys.Reswap] = swap; return this; }

    /// <summary>Swap the response into another element (CSS selector).</summary>
    public HtmxResponseHeaders Retarget(string selector) { _headers[Keys.Retarget] = selector; return this; }

    /// <summary>Swap only this part of the response (CSS selector).</summary>
    public HtmxResponseHeaders Reselect(string selector) { _headers[Keys.Reselect] = selector; return this; }

    /// <summary>Fire a client event, optionally with a JSON detail; repeated calls merge into one header.</summary>
    public HtmxResponseHeaders WithTrigger(string eventName, object? detail = null, HtmxTriggerTiming timing = HtmxTriggerTiming.Default)
    {
        var key = timing switch
        {
            HtmxTriggerTiming.AfterSwap => Keys.TriggerAfterSwap,
            HtmxTriggerTiming.AfterSettle => Keys.TriggerAfterSettle,
            _ => Keys.Trigger,
        };
        if (!_triggers.TryGetValue(timing, out var events))
        {
            _triggers[timing] = events = new Dictionary<string, object?>(StringComparer.Ordinal);
            // Keep events an earlier Htmx(...) call on this response already set.
            if (_headers.TryGetValue(key, out var existing) && existing.ToString().StartsWith('{'))
            {
                foreach (var (name, value) in JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(existing.ToString())!)
                    events[name] = value;
            }
        }
        events[eventName] = detail ?? "";
        _headers[key] = JsonSerializer.Serialize(events, JsonSerializerOptions.Web);
        return this;
    }
}

/// <summary>Writes htmx response headers (mirrors Htmx.Net's <c>HttpResponseExtensions</c>).</summary>
public static class HtmxResponseExtensions
{
    /// <summary>Set htmx response headers: <c>Response.Htmx(h => h.WithTrigger("runsChanged"))</c>.</summary>
    public static HttpResponse Htmx(this HttpResponse response, Action<HtmxResponseHeaders> configure)
    {
        configure(new HtmxResponseHeaders(response.Headers));
        return response;
    }

    /// <summary>Answer 286 so htmx stops polling the element that asked.</summary>
    public static HttpResponse StopPolling(this HttpResponse response)
    {
        response.StatusCode = HtmxResponseHeaders.StopPollingStatusCode;
        return response;
    }
}
