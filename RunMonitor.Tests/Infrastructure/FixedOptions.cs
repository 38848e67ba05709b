using Microsoft.Extensions.Options;

namespace RunMonitor.Tests.Infrastructure;

/// Options that never change, for a service built by hand outside the app's container.
public sealed class FixedOptions<T>(T value) : IOptionsMonitor<T>
{
    public T CurrentValue => value;

    public T Get(string? name) => value;

    public IDisposable? OnChange(Action<T, string?> listener) => null;
}
