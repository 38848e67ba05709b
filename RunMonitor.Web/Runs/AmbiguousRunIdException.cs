namespace RunMonitor.Web.Runs;

/// A super admin named a run by an id that runs of several tenants have: which one is meant must be said
/// (`?tenant=`). Thrown by the store's lookup; RunTenantGuard answers it with 409 naming the tenants.
public sealed class AmbiguousRunIdException(string id, IReadOnlyList<string> tenants)
    : Exception($"run id '{id}' is held by runs of tenants {string.Join(", ", tenants)}: name one with ?tenant=")
{
    public string Id { get; } = id;
    public IReadOnlyList<string> Tenants { get; } = tenants;
}
