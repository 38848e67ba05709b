namespace RunMonitor.Web.Pages.Shared;

public sealed record TimeView(DateTimeOffset? Value, DateTimeOffset Now);
