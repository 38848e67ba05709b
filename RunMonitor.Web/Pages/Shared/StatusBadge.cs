namespace RunMonitor.Web.Pages.Shared;

public sealed record StatusBadge(string Status, bool Large = false);
