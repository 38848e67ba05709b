namespace RunMonitor.Web.Htmx;

/// <summary>The request headers htmx sends, read once (mirrors Htmx.Net's <c>HtmxRequestHeaders</c>).</summary>
public sealed record HtmxRequestHeaders(
    bool Boosted, string? CurrentUrl, bool HistoryRestoreRequest, string? Prompt, string? Target, string? TriggerName, string? Trigger)
{
    /// <summary>Header names htmx puts on its requests.</summary>
    public static class Keys
    {
        /// <summary><c>HX-Request</c>: "true" on every htmx request.</summary>
        public const string Request = "HX-Request";
        /// <summary><c>HX-Boosted</c>: the request came from an element using hx-boost.</summary>
        public const string Boosted = "HX-Boosted";
        /// <summary><c>HX-Current-URL</c>: the browser's current URL.</summary>
        public const string CurrentUrl = "HX-Current-URL";
        /// <summary><c>HX-History-Restore-Request</c>: a history restore after a cache miss.</summary>
        public const string HistoryRestoreRequest = "HX-History-Restore-Request";
        /// <summary><c>HX-Prompt</c>: the user's answer to hx-prompt.</summary>
        public const string Prompt = "HX-Prompt";
        /// <summary><c>HX-Target</c>: the id of the target element.</summary>
        public const string Target = "HX-Target";
        /// <summary><c>HX-Trigger-Name</c>: the name of the triggering element.</summary>
        public const string TriggerName = "HX-Trigger-Name";
        /// <summary><c>HX-Trigger</c>: the id of the triggering element.</summary>
        public const string Trigger = "HX-Trigger";
    }
}

/// <summary>Reads htmx request headers (mirrors Htmx.Net's <c>HttpRequestExtensions</c>).</summary>
public static class HtmxRequestExtensions
{
    /// <summary>True when htmx sent the request (<c>HX-Request: true</c>).</summary>
    public static bool IsHtmx(this HttpRequest request) =>
        string.Equals(request.Headers[HtmxRequestHeaders.Keys.Request], "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>True when htmx sent the request, with its headers.</summary>
    public static bool IsHtmx(this HttpRequest request, out HtmxRequestHeaders? values)
    {
        if (!request.IsHtmx())
        {
            values = null;
            return false;
        }
        string? Get(string key) => request.Headers.TryGetValue(key, out var v) && !string.IsNullOrEmpty(v) ? v.ToString() : null;
        bool Flag(string key) => string.Equals(Get(key), "true", StringComparison.OrdinalIgnoreCase);
        values = new HtmxRequestHeaders(
            Flag(HtmxRequestHeaders.Keys.Boosted), Get(HtmxRequestHeaders.Keys.CurrentUrl),
            Flag(HtmxRequestHeaders.Keys.HistoryRestoreRequest), Get(HtmxRequestHeaders.Keys.Prompt),
            Get(HtmxRequestHeaders.Keys.Target), Get(HtmxRequestHeaders.Keys.TriggerName), Get(HtmxRequestHeaders.Keys.Trigger));
        return true;
    }

    /// <summary>True for an htmx request that did not come from hx-boost.</summary>
    public static bool IsHtmxNonBoosted(this HttpRequest request) =>
        request.IsHtmx(out var values) && !values!.Boosted;

    /// <summary>True for htmx's history restore request after a cache miss (it wants the whole page).</summary>
    public static bool IsHtmxHistoryRestore(this HttpRequest request) =>
        request.IsHtmx(out var values) && values!.HistoryRestoreRequest;
}
